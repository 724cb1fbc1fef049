//! The content library as the functions read it: loaded from the content store, parsed once,
//! and kept while the stored version stays the same.
//!
//! The sender plans every day's pushes from it, and the webhook plans 今日のメッセージ from
//! the very same library, so a parent who asks sees exactly what the fan-out sends.

use crate::ports::{ContentStore, StoreError};
use kizuna_core::content::{ContentLibrary, SourceFile};
use std::sync::{Arc, Mutex};
use tracing::warn;

/// Where the content pack lives in the content store (`kizuna content sync` uploads there).
pub const CONTENT_PREFIX: &str = "content/";

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// The stored pack does not parse or validate (gaps excepted, see
    /// [`ContentLibrary::from_files_allowing_gaps`]).
    #[error("the content pack in S3 is unusable: {0}")]
    Unusable(String),
}

/// The parsed library of one warm function instance, keyed by the stored version.
pub struct ContentCache {
    store: Arc<dyn ContentStore>,
    /// The last library loaded, with the version it was loaded at.
    loaded: Mutex<Option<(String, Arc<ContentLibrary>)>>,
    /// Held while loading, so concurrent callers on a new version parse it once.
    loading: tokio::sync::Mutex<()>,
}

impl ContentCache {
    pub fn new(store: Arc<dyn ContentStore>) -> Self {
        Self {
            store,
            loaded: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The current library: one listing to learn the stored version, and a load and parse
    /// only when it differs from the cached one.
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
        let library = Arc::new(library);
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((snapshot.version, library.clone()));
        Ok(library)
    }

    /// The library loaded last, without asking the store (possibly one version old; `None`
    /// before the first load). For what must not wait on S3, such as wording.
    pub fn last_loaded(&self) -> Option<Arc<ContentLibrary>> {
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.as_ref().map(|(_, library)| library.clone())
    }

    fn cached_at(&self, version: &str) -> Option<Arc<ContentLibrary>> {
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        match loaded.as_ref() {
            Some((cached, library)) if cached == version => Some(library.clone()),
            _ => None,
        }
    }
}
