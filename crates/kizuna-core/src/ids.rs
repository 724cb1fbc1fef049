//! Identifiers, validated at the edge so the rest of the code can trust them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    #[error("municipality id must be 1–40 characters of a–z, 0–9 or '-', not starting with '-'")]
    Municipality,
    #[error("LINE user id must be 'U' followed by 32 lowercase hex digits")]
    LineUser,
}

/// A municipality's id: a short lowercase slug such as `ama-town`, used in URLs
/// (`/webhook/{municipality}`), table keys, S3 prefixes and secret names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MunicipalityId(String);

impl MunicipalityId {
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && !s.starts_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseIdError::Municipality)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MunicipalityId {
    type Error = ParseIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<MunicipalityId> for String {
    fn from(id: MunicipalityId) -> String {
        id.0
    }
}

impl fmt::Display for MunicipalityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A LINE user id (`U` + 32 hex digits), unique per user *per provider*.
///
/// It identifies a parent and is personal data: `Debug` and `Display` print only a
/// [fingerprint](LineUserId::fingerprint), so it cannot leak into logs by accident.
/// Use [`LineUserId::as_str`] where the real value is needed (table keys, push requests).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LineUserId(String);

impl LineUserId {
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let ok = s.len() == 33
            && s.starts_with('U')
            && s[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseIdError::LineUser)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short, stable, non-reversible token for logs and metrics: the first 12 hex digits of
    /// SHA-256 over a domain prefix and the id. Enough to correlate one parent's log lines,
    /// useless for finding the parent.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(format!("kizuna-log-v1:{}", self.0));
        hex::encode(&digest[..6])
    }
}

impl TryFrom<String> for LineUserId {
    type Error = ParseIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<LineUserId> for String {
    fn from(id: LineUserId) -> String {
        id.0
    }
}

impl fmt::Debug for LineUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LineUserId(#{})", self.fingerprint())
    }
}

impl fmt::Display for LineUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0";

    #[test]
    fn municipality_ids_are_slugs() {
        assert!(MunicipalityId::parse("ama-town").is_ok());
        assert!(MunicipalityId::parse("t01").is_ok());
        for bad in ["", "-x", "Ama", "a b", "町", &"a".repeat(41), "a/b"] {
            assert!(MunicipalityId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn line_user_ids_are_checked() {
        assert!(LineUserId::parse(USER).is_ok());
        assert!(LineUserId::parse("U4AF4980629A0B1C2D3E4F5A6B7C8D9E0").is_err());
        assert!(LineUserId::parse("C4af4980629a0b1c2d3e4f5a6b7c8d9e0").is_err());
        assert!(LineUserId::parse("U4af").is_err());
    }

    #[test]
    fn user_ids_never_print_in_clear() {
        let id = LineUserId::parse(USER).unwrap();
        assert!(!format!("{id:?}").contains(&USER[1..]));
        assert!(!format!("{id}").contains(&USER[1..]));
        assert_eq!(id.fingerprint().len(), 12);
        assert_eq!(id.fingerprint(), id.clone().fingerprint());
    }
}
