//! The content library as the functions read it: loaded from the content store once, and kept
//! while the stored version stays the same.
//!
//! The sender plans every day's pushes from it, and the webhook plans 今日のメッセージ from
//! the very same library, so a parent who asks sees exactly what the fan-out sends.
//!
//! Where it comes from: the compiled artifact that `kizuna content sync` writes last
//! ([`ARTIFACT_KEY`], decoded in about a millisecond), or, when that is missing or refused,
//! the TOML files themselves (parsed and validated: tenths of a second). What one call costs
//! in S3 requests:
//! - warm, nothing changed: 1 (the listing that gives the version), as before the artifact;
//! - cold, or the version changed: 2 (that listing and one GET of the artifact);
//! - fallback (artifact missing or refused): those 2, then 1 listing and 1 GET per TOML file.

use crate::ports::{ContentStore, StoreError};
use kizuna_core::content::{ArtifactError, ContentLibrary, SourceFile};
use std::sync::{Arc, Mutex};
use tracing::{error, warn};

/// Where the content pack lives in the content store (`kizuna content sync` uploads there).
pub const CONTENT_PREFIX: &str = "content/";

/// The compiled library ([`ContentLibrary::to_artifact`]) of the TOML files under
/// [`CONTENT_PREFIX`]. `kizuna content sync` uploads it after every file, so it is never
/// newer than the files; it is under the prefix, so replacing it changes the version.
pub const ARTIFACT_KEY: &str = "content/compiled/library.bin";

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// The stored pack does not parse or validate (gaps excepted, see
    /// [`ContentLibrary::from_files_allowing_gaps`]).
    #[error("the content pack in S3 is unusable: {0}")]
    Unusable(String),
}

/// Where the library in use was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadedFrom {
    /// The compiled artifact: one GET and a decode.
    Artifact,
    /// The TOML files, because there is no artifact (`kizuna content sync` has not run since
    /// the artifact was introduced, or the pack was uploaded another way).
    FilesNoArtifact,
    /// The TOML files, because the artifact was refused (corrupt, or another format version).
    FilesArtifactRefused(ArtifactError),
}

/// The library of one warm function instance, keyed by the stored version.
pub struct ContentCache {
    store: Arc<dyn ContentStore>,
    /// The last library loaded, with the version it was loaded at.
    loaded: Mutex<Option<Loaded>>,
    /// Held while loading, so concurrent callers on a new version load it once.
    loading: tokio::sync::Mutex<()>,
}

struct Loaded {
    version: String,
    library: Arc<ContentLibrary>,
    from: LoadedFrom,
}

impl ContentCache {
    pub fn new(store: Arc<dyn ContentStore>) -> Self {
        Self {
            store,
            loaded: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The current library: one listing to learn the stored version, and a load only when it
    /// differs from the cached one (requests per call in the module documentation).
    pub async fn current(&self) -> Result<Arc<ContentLibrary>, ContentError> {
        let version = self.store.version(CONTENT_PREFIX).await?;
        if let Some(library) = self.cached_at(&version) {
            return Ok(library);
        }
        let _loading = self.loading.lock().await;
        // Another caller may have loaded it while we waited.
        if let Some(library) = self.cached_at(&version) {
            return Ok(library);
        }
        let loaded = match self.read_artifact().await? {
            // Kept under the listing's version: the artifact was read after that listing, so
            // it is at least as new; if it is newer, the next listing differs and reloads.
            Ok(library) => Loaded {
                version,
                library: Arc::new(library),
                from: LoadedFrom::Artifact,
            },
            Err(from) => {
                let (snapshot_version, library) = self.parse_files().await?;
                Loaded {
                    version: snapshot_version,
                    library: Arc::new(library),
                    from,
                }
            }
        };
        let library = loaded.library.clone();
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = Some(loaded);
        Ok(library)
    }

    /// Where the library loaded last came from (`None` before the first load).
    pub fn loaded_from(&self) -> Option<LoadedFrom> {
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.as_ref().map(|l| l.from.clone())
    }

    /// The compiled library, or why the files must be parsed instead. A store error is an
    /// error (retryable like any other), not a reason to fall back: the fallback reads more.
    async fn read_artifact(&self) -> Result<Result<ContentLibrary, LoadedFrom>, ContentError> {
        let Some(bytes) = self.store.get_object(ARTIFACT_KEY).await? else {
            warn!(
                artifact = ARTIFACT_KEY,
                "no compiled content artifact: parsing the TOML files instead (slower cold \
                 starts); run `kizuna content sync` to write it"
            );
            return Ok(Err(LoadedFrom::FilesNoArtifact));
        };
        match ContentLibrary::from_artifact(&bytes) {
            Ok(library) => Ok(Ok(library)),
            Err(refused) => {
                // The reason only: the artifact's bytes are content, never logged.
                error!(
                    artifact = ARTIFACT_KEY,
                    reason = refused.reason(),
                    error = %refused,
                    "compiled content artifact refused: parsing the TOML files instead; run \
                     `kizuna content sync` (with this build's CLI) to rewrite it"
                );
                Ok(Err(LoadedFrom::FilesArtifactRefused(refused)))
            }
        }
    }

    /// The TOML files, read and parsed as the sender did before the artifact existed.
    async fn parse_files(&self) -> Result<(String, ContentLibrary), ContentError> {
        let snapshot = self.store.load(CONTENT_PREFIX).await?;
        let files = snapshot.files.into_iter().map(|f| SourceFile {
            path: f
                .path
                .strip_prefix(CONTENT_PREFIX)
                .unwrap_or(&f.path)
                .to_owned(),
            text: f.text,
        });
        let (library, gaps) =
            ContentLibrary::from_files_allowing_gaps(files).map_err(|diagnostics| {
                let first: Vec<String> =
                    diagnostics.iter().take(3).map(|d| d.to_string()).collect();
                ContentError::Unusable(format!(
                    "{} problem(s), e.g. {}",
                    diagnostics.len(),
                    first.join("; ")
                ))
            })?;
        for gap in &gaps {
            // Only the households on these days are skipped (counted as missing_content).
            warn!(gap = %gap, "the content pack has no text for a scheduled day");
        }
        Ok((snapshot.version, library))
    }

    /// The library loaded last, without asking the store (possibly one version old; `None`
    /// before the first load). For what must not wait on S3, such as wording.
    pub fn last_loaded(&self) -> Option<Arc<ContentLibrary>> {
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.as_ref().map(|l| l.library.clone())
    }

    fn cached_at(&self, version: &str) -> Option<Arc<ContentLibrary>> {
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        match loaded.as_ref() {
            Some(l) if l.version == version => Some(l.library.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContentFile, ContentSnapshot};
    use crate::ports::StoreResult;
    use async_trait::async_trait;
    use kizuna_core::content::ARTIFACT_FORMAT_VERSION;
    use sha2::{Digest, Sha256};
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A content bucket in memory that counts what a real one would bill: listings
    /// (`version`, and the one inside `load`) and object reads.
    #[derive(Default)]
    struct CountingStore {
        objects: Mutex<BTreeMap<String, Vec<u8>>>,
        lists: AtomicUsize,
        gets: AtomicUsize,
    }

    impl CountingStore {
        fn put(&self, key: &str, bytes: Vec<u8>) {
            self.objects.lock().unwrap().insert(key.to_owned(), bytes);
        }
        fn remove(&self, key: &str) {
            self.objects.lock().unwrap().remove(key);
        }
        /// (listings, object reads) since the last call.
        fn requests(&self) -> (usize, usize) {
            (
                self.lists.swap(0, Ordering::SeqCst),
                self.gets.swap(0, Ordering::SeqCst),
            )
        }
        fn version_of(objects: &BTreeMap<String, Vec<u8>>, prefix: &str) -> String {
            let mut digest = Sha256::new();
            for (key, bytes) in objects.range(prefix.to_owned()..) {
                if !key.starts_with(prefix) {
                    break;
                }
                digest.update(key.as_bytes());
                digest.update(Sha256::digest(bytes));
            }
            format!("{:x}", digest.finalize())
        }
    }

    #[async_trait]
    impl ContentStore for CountingStore {
        async fn load(&self, prefix: &str) -> StoreResult<ContentSnapshot> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            let objects = self.objects.lock().unwrap().clone();
            let mut files = Vec::new();
            for (key, bytes) in objects.iter().filter(|(k, _)| k.starts_with(prefix)) {
                if key.ends_with(".toml") {
                    self.gets.fetch_add(1, Ordering::SeqCst);
                    files.push(ContentFile {
                        path: key.clone(),
                        text: String::from_utf8(bytes.clone())
                            .map_err(|_| StoreError::Corrupt(key.clone()))?,
                    });
                }
            }
            Ok(ContentSnapshot {
                version: Self::version_of(&objects, prefix),
                files,
            })
        }
        async fn version(&self, prefix: &str) -> StoreResult<String> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            Ok(Self::version_of(&self.objects.lock().unwrap(), prefix))
        }
        async fn get_object(&self, path: &str) -> StoreResult<Option<Vec<u8>>> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            Ok(self.objects.lock().unwrap().get(path).cloned())
        }
        async fn put_object(&self, path: &str, bytes: Vec<u8>) -> StoreResult<()> {
            self.put(path, bytes);
            Ok(())
        }
        async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            let objects = self.objects.lock().unwrap();
            Ok(objects
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect())
        }
    }

    /// The repository's sample pack as `content sync` uploads it: every TOML file, then the
    /// artifact compiled from exactly those files. Returns the store and the pack's version.
    fn synced_sample() -> (Arc<CountingStore>, String) {
        let store = Arc::new(CountingStore::default());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let mut files = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy();
                if path.is_dir() {
                    stack.push(path.clone());
                } else if relative.ends_with(".toml") && !relative.starts_with("tools") {
                    files.push(SourceFile {
                        path: relative.replace('\\', "/"),
                        text: std::fs::read_to_string(&path).unwrap(),
                    });
                }
            }
        }
        for f in &files {
            store.put(
                &format!("{CONTENT_PREFIX}{}", f.path),
                f.text.clone().into(),
            );
        }
        let library = ContentLibrary::from_files(files).expect("the sample pack is valid");
        store.put(ARTIFACT_KEY, library.to_artifact());
        store.requests();
        (store, library.version().to_owned())
    }

    #[tokio::test]
    async fn a_cold_load_reads_the_artifact_alone_and_a_warm_one_only_lists() {
        let (store, version) = synced_sample();
        let cache = ContentCache::new(store.clone());

        let library = cache.current().await.unwrap();
        assert_eq!(library.version(), version);
        assert_eq!(cache.loaded_from(), Some(LoadedFrom::Artifact));
        assert_eq!(
            store.requests(),
            (1, 1),
            "cold: the version listing and one GET"
        );

        let again = cache.current().await.unwrap();
        assert!(Arc::ptr_eq(&library, &again));
        assert_eq!(store.requests(), (1, 0), "warm: the version listing only");

        // Any change under the prefix changes the version: the artifact is read again (one
        // GET), the files are not.
        store.put("content/base/zz-extra.toml", b"# a comment only\n".to_vec());
        cache.current().await.unwrap();
        assert_eq!(store.requests(), (1, 1));
    }

    #[tokio::test]
    async fn a_missing_artifact_falls_back_to_the_files() {
        let (store, version) = synced_sample();
        store.remove(ARTIFACT_KEY);
        let cache = ContentCache::new(store.clone());

        let library = cache.current().await.unwrap();
        assert_eq!(library.version(), version, "the same pack, from the files");
        assert_eq!(cache.loaded_from(), Some(LoadedFrom::FilesNoArtifact));
        let (lists, gets) = store.requests();
        assert_eq!(lists, 2, "the version listing and the load's");
        assert!(
            gets > 10,
            "one GET for the artifact and one per file: {gets}"
        );

        // Warm: still the one listing, no re-parse.
        cache.current().await.unwrap();
        assert_eq!(store.requests(), (1, 0));
    }

    #[tokio::test]
    async fn a_corrupt_artifact_is_refused_by_its_checksum_and_the_files_still_serve() {
        let (store, version) = synced_sample();
        let mut bytes = store.objects.lock().unwrap()[ARTIFACT_KEY].clone();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        store.put(ARTIFACT_KEY, bytes);
        let cache = ContentCache::new(store.clone());

        let library = cache.current().await.unwrap();
        assert_eq!(library.version(), version);
        assert_eq!(
            cache.loaded_from(),
            Some(LoadedFrom::FilesArtifactRefused(
                ArtifactError::ChecksumMismatch
            ))
        );
        // It still plans: the sample town's content is there.
        let town = kizuna_core::MunicipalityId::parse("kizuna-town").unwrap();
        assert!(library.for_municipality(&town).display_name().is_some());
    }

    #[tokio::test]
    async fn an_artifact_of_another_format_version_is_refused_as_stale() {
        let (store, version) = synced_sample();
        let mut bytes = store.objects.lock().unwrap()[ARTIFACT_KEY].clone();
        bytes[8..12].copy_from_slice(&(ARTIFACT_FORMAT_VERSION + 1).to_le_bytes());
        store.put(ARTIFACT_KEY, bytes);
        let cache = ContentCache::new(store.clone());

        assert_eq!(cache.current().await.unwrap().version(), version);
        assert_eq!(
            cache.loaded_from(),
            Some(LoadedFrom::FilesArtifactRefused(ArtifactError::Stale {
                found: ARTIFACT_FORMAT_VERSION + 1,
                expected: ARTIFACT_FORMAT_VERSION
            }))
        );
    }

    #[tokio::test]
    async fn the_artifact_is_what_is_served_when_present() {
        // A pack whose TOML files are gone after the sync still loads: the artifact alone is
        // read (and a TOML-only load would fail on a pack with no base).
        let (store, version) = synced_sample();
        let keys: Vec<String> = store.objects.lock().unwrap().keys().cloned().collect();
        for key in keys.iter().filter(|k| k.ends_with(".toml")) {
            store.remove(key);
        }
        let cache = ContentCache::new(store.clone());
        assert_eq!(cache.current().await.unwrap().version(), version);
        assert_eq!(cache.loaded_from(), Some(LoadedFrom::Artifact));
    }
}
