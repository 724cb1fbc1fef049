//! The compiled content artifact: one validated [`ContentLibrary`] as a single object, so a
//! cold function reads one S3 object and decodes it in about a millisecond instead of reading
//! every TOML file and parsing and validating the whole pack again.
//!
//! `kizuna content sync` writes it (`content/compiled/library.bin`); the functions' content
//! cache reads it and falls back to the TOML files when it is missing or refused.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! offset  size  field
//!      0     8  magic "KIZUNACL"
//!      8     4  format version (ARTIFACT_FORMAT_VERSION of the build that wrote it)
//!     12    32  source digest: SHA-256 over the source files' paths and texts, the same
//!               value as ContentLibrary::version() (hex there), so it can be compared
//!               with the files in S3 or on disk
//!     44     8  payload length in bytes
//!     52    32  SHA-256 of the payload
//!     84     …  payload: the library in postcard (serde) encoding
//! ```
//!
//! postcard is compact (varints, no field names) and deterministic for our types (`Vec`s and
//! `BTreeMap`s only), so the same pack always compiles to the same bytes and `content sync`
//! can compare the artifact by its MD5 ETag like any other file. It is not self-describing:
//! any change to the library's types must bump [`ARTIFACT_FORMAT_VERSION`], after which an
//! older artifact is refused as stale (and the files are parsed) until the next sync.

use super::ContentLibrary;
use crate::programme::Programme;
use sha2::{Digest, Sha256};

/// The first bytes of every artifact.
pub const ARTIFACT_MAGIC: [u8; 8] = *b"KIZUNACL";

/// Bump whenever a type inside [`ContentLibrary`] changes (fields, order, enum variants): an
/// artifact written by another format version is refused as stale.
///
/// 2: the day tables keyed by programme (one array of tables instead of a field each).
/// 3: the pack's surveys.
pub const ARTIFACT_FORMAT_VERSION: u32 = 3;

const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 32;

/// Why an artifact was refused. The messages name the reason only (never content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    #[error("not a compiled content artifact (bad magic bytes)")]
    BadMagic,
    #[error("stale: written in format version {found}, this build reads version {expected}")]
    Stale { found: u32, expected: u32 },
    #[error("truncated: {len} bytes, the header announces {expected}")]
    Truncated { len: usize, expected: u64 },
    #[error("checksum mismatch: the payload is corrupt")]
    ChecksumMismatch,
    #[error("undecodable payload: {0}")]
    Undecodable(String),
    #[error("inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl ArtifactError {
    /// A short stable name for logs and metrics (`bad_magic`, `stale`, `checksum`, …).
    pub fn reason(&self) -> &'static str {
        match self {
            ArtifactError::BadMagic => "bad_magic",
            ArtifactError::Stale { .. } => "stale",
            ArtifactError::Truncated { .. } => "truncated",
            ArtifactError::ChecksumMismatch => "checksum",
            ArtifactError::Undecodable(_) => "undecodable",
            ArtifactError::Inconsistent(_) => "inconsistent",
        }
    }
}

impl ContentLibrary {
    /// The compiled artifact of this library (see the module documentation for the layout).
    pub fn to_artifact(&self) -> Vec<u8> {
        let payload = postcard::to_extend(self, Vec::new())
            .expect("a content library always serialises: only Vecs, maps, strings and numbers");
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(&ARTIFACT_MAGIC);
        bytes.extend_from_slice(&ARTIFACT_FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&source_digest_bytes(self.version()));
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(&payload));
        bytes.extend_from_slice(&payload);
        bytes
    }

    /// Reads an artifact written by [`ContentLibrary::to_artifact`] of this format version.
    /// Checks, in order: magic, format version, length, checksum, decoding, and that the
    /// decoded library has the digest and table sizes the header and the types promise (so a
    /// refused artifact can never make the plan index out of range).
    pub fn from_artifact(bytes: &[u8]) -> Result<ContentLibrary, ArtifactError> {
        let header = ArtifactHeader::read(bytes)?;
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != header.payload_len {
            return Err(ArtifactError::Truncated {
                len: bytes.len(),
                expected: HEADER_LEN as u64 + header.payload_len,
            });
        }
        if Sha256::digest(payload).as_slice() != header.checksum {
            return Err(ArtifactError::ChecksumMismatch);
        }
        let library: ContentLibrary =
            postcard::from_bytes(payload).map_err(|e| ArtifactError::Undecodable(e.to_string()))?;
        if hex::encode(source_digest_bytes(library.version())) != header.source_digest {
            return Err(ArtifactError::Inconsistent(
                "the payload's content version differs from the header's source digest",
            ));
        }
        library.check_table_sizes()?;
        Ok(library)
    }

    fn check_table_sizes(&self) -> Result<(), ArtifactError> {
        let base_ok = self.days.sizes_match()
            && self.next_child_day.len() == Programme::Child.spec().day_count();
        let translations_ok = self.translations.values().all(|t| t.days.sizes_match());
        let overlays_ok = self.municipalities.values().all(|o| {
            let in_range = |ids: &Vec<u16>| ids.iter().all(|&i| usize::from(i) < o.notes.len());
            o.day_notes.sizes_match()
                && o.day_notes.values().flatten().all(in_range)
                && in_range(&o.calendar_notes)
        });
        if base_ok && translations_ok && overlays_ok {
            Ok(())
        } else {
            Err(ArtifactError::Inconsistent(
                "day tables of the wrong size or note indices out of range",
            ))
        }
    }
}

/// The fixed-size header of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactHeader {
    pub format_version: u32,
    /// Hex, as [`ContentLibrary::version`] gives it.
    pub source_digest: String,
    pub payload_len: u64,
    checksum: [u8; 32],
}

impl ArtifactHeader {
    /// Reads and checks the magic and the format version (what an operator's tool needs to
    /// say which pack an artifact holds without decoding it).
    pub fn read(bytes: &[u8]) -> Result<ArtifactHeader, ArtifactError> {
        if bytes.len() < ARTIFACT_MAGIC.len() || bytes[..ARTIFACT_MAGIC.len()] != ARTIFACT_MAGIC {
            return Err(ArtifactError::BadMagic);
        }
        let truncated = || ArtifactError::Truncated {
            len: bytes.len(),
            expected: HEADER_LEN as u64,
        };
        // The version before the rest of the header: another format may have another header.
        let format_version = u32::from_le_bytes(
            bytes
                .get(8..12)
                .ok_or_else(truncated)?
                .try_into()
                .expect("4 bytes"),
        );
        if format_version != ARTIFACT_FORMAT_VERSION {
            return Err(ArtifactError::Stale {
                found: format_version,
                expected: ARTIFACT_FORMAT_VERSION,
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated());
        }
        Ok(ArtifactHeader {
            format_version,
            source_digest: hex::encode(&bytes[12..44]),
            payload_len: u64::from_le_bytes(bytes[44..52].try_into().expect("8 bytes")),
            checksum: bytes[52..84].try_into().expect("32 bytes"),
        })
    }
}

/// The 32 bytes of a library version (hex SHA-256). Any other string (never produced by the
/// parser) is hashed, so the header stays fixed-size and the comparison still works.
fn source_digest_bytes(version: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if hex::decode_to_slice(version, &mut out).is_err() {
        out.copy_from_slice(&Sha256::digest(version.as_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_offsets_add_up() {
        // The layout table in the module documentation is what operators read.
        assert_eq!(HEADER_LEN, 84);
        assert_eq!(
            source_digest_bytes(&"ab".repeat(32)).to_vec(),
            vec![0xab; 32]
        );
    }

    #[test]
    fn short_or_foreign_bytes_are_refused_without_panicking() {
        assert_eq!(
            ContentLibrary::from_artifact(b"").unwrap_err(),
            ArtifactError::BadMagic
        );
        assert_eq!(
            ContentLibrary::from_artifact(b"id = \"toml\"\n").unwrap_err(),
            ArtifactError::BadMagic
        );
        assert!(matches!(
            ContentLibrary::from_artifact(&ARTIFACT_MAGIC).unwrap_err(),
            ArtifactError::Truncated { len: 8, .. }
        ));
    }
}
