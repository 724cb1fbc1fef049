use crate::error::{corrupt, store_error};
use crate::paging::object_etags;
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use kizuna_app::model::{ContentFile, ContentSnapshot};
use kizuna_app::ports::{ContentStore, StoreResult};
use sha2::{Digest, Sha256};

/// [`ContentStore`] on the content bucket: one object per content file, key = path, plus the
/// compiled artifact that `kizuna content sync` writes beside them.
#[derive(Debug, Clone)]
pub struct S3ContentStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ContentStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// (key, ETag) of every object under `prefix`, sorted by key.
    async fn listing(&self, prefix: &str) -> StoreResult<Vec<(String, String)>> {
        // In key order already (a BTreeMap).
        Ok(object_etags(&self.client, &self.bucket, prefix)
            .await?
            .into_iter()
            .collect())
    }
}

/// A version that changes when any key or object changes: a digest of every (key, ETag).
fn version_of<'a>(objects: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut digest = Sha256::new();
    for (key, etag) in objects {
        digest.update(key.as_bytes());
        digest.update([0]);
        digest.update(etag.trim_matches('"').as_bytes());
        digest.update([b'\n']);
    }
    hex::encode(&digest.finalize()[..8])
}

#[async_trait]
impl ContentStore for S3ContentStore {
    async fn load(&self, prefix: &str) -> StoreResult<ContentSnapshot> {
        let listing = self.listing(prefix).await?;
        let mut files = Vec::with_capacity(listing.len());
        let mut versioned = Vec::with_capacity(listing.len());
        for (key, listed_etag) in listing {
            // Only the pack's text files: the compiled artifact (binary) and anything else
            // under the prefix are no content files. They still count in the version, with
            // their listed ETag, so that it equals `version(prefix)`.
            if !key.ends_with(".toml") {
                versioned.push((key, listed_etag));
                continue;
            }
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| store_error("GetObject content", e))?;
            // The version comes from what was read, so a file replaced between the listing
            // and the read cannot be cached under the old version.
            let read_etag = out.e_tag().unwrap_or_default().to_owned();
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| store_error_body(&key, e))?
                .into_bytes();
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| corrupt("content file is not UTF-8", &key))?;
            files.push(ContentFile {
                path: key.clone(),
                text,
            });
            versioned.push((key, read_etag));
        }
        let version = version_of(versioned.iter().map(|(k, e)| (k.as_str(), e.as_str())));
        Ok(ContentSnapshot { version, files })
    }

    async fn get_object(&self, path: &str) -> StoreResult<Option<Vec<u8>>> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(path)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                return Ok(None)
            }
            Err(e) => return Err(store_error("GetObject content", e)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| store_error_body(path, e))?
            .into_bytes();
        Ok(Some(bytes.to_vec()))
    }

    async fn version(&self, prefix: &str) -> StoreResult<String> {
        let listing = self.listing(prefix).await?;
        Ok(version_of(
            listing.iter().map(|(k, e)| (k.as_str(), e.as_str())),
        ))
    }

    async fn put_object(&self, path: &str, bytes: Vec<u8>) -> StoreResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(path)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| store_error("PutObject content", e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
        Ok(self
            .listing(prefix)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }
}

fn store_error_body(
    key: &str,
    e: aws_sdk_s3::primitives::ByteStreamError,
) -> kizuna_app::ports::StoreError {
    kizuna_app::ports::StoreError::Unavailable(format!("reading {key}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_changes_with_any_key_or_etag() {
        let a = version_of([("content/a.toml", "\"1\""), ("content/b.toml", "\"2\"")]);
        assert_eq!(
            a,
            version_of([("content/a.toml", "1"), ("content/b.toml", "2")])
        );
        assert_ne!(
            a,
            version_of([("content/a.toml", "1"), ("content/b.toml", "3")])
        );
        assert_ne!(a, version_of([("content/a.toml", "1")]));
        assert_ne!(
            a,
            version_of([("content/a.toml", "1"), ("content/c.toml", "2")])
        );
        assert_eq!(a.len(), 16);
    }
}
