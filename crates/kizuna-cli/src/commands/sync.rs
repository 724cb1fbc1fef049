//! `kizuna content sync [DIR] [--dry-run]`: make the bucket's `content/` equal a validated DIR.
//!
//! Safety, in order:
//! 1. the whole DIR is validated first (the same `ContentLibrary::check_dir` as `content
//!    check`); if anything is an error nothing is uploaded (warnings are printed, not fatal);
//! 2. the diff is computed by content hash: S3's ETag is the MD5 of the bytes for a
//!    single-part upload to an SSE-S3 bucket (ours, see infra/template.yaml), so unchanged files
//!    are neither re-read nor re-uploaded;
//! 3. new and changed files are uploaded before removed ones are deleted, so an interrupted
//!    sync never leaves a file missing that the old pack needed. A re-run recomputes the diff
//!    and uploads only what still differs (idempotent);
//! 4. the compiled artifact (`content/compiled/library.bin`, the library built from exactly
//!    the uploaded files, every town and language included) is uploaded last, after the
//!    deletions: a function reads it instead of parsing every file, so it must never be newer
//!    than the files. Until it is replaced, functions keep serving the previous pack from it;
//! 5. the bucket is versioned in production: a bad upload is rolled back by restoring the
//!    previous object versions (docs/operations.md).

use crate::commands::ops::{block_on, Ops};
use anyhow::Context as _;
use aws_sdk_s3::primitives::ByteStream;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kizuna_app::content::{ARTIFACT_KEY, CONTENT_PREFIX};
use kizuna_core::content::{ContentLibrary, SourceFile, ARTIFACT_FORMAT_VERSION};
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The content directory (with base/ and municipalities/).
    #[arg(default_value = "content")]
    pub dir: PathBuf,
    /// Print the diff only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: SyncArgs) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let progress = std::io::stderr().is_terminal();
        sync(
            &ops,
            &args.dir,
            args.dry_run,
            progress,
            &mut std::io::stdout().lock(),
        )
        .await
    })
}

/// What a sync changes. Keys are full object keys (`content/base/pack.toml`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncPlan {
    pub new: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// The compiled artifact ([`ARTIFACT_KEY`]), compared like the files.
    pub artifact: ArtifactChange,
}

/// Whether the compiled artifact is uploaded: it is whenever its bytes differ from the
/// bucket's (a new pack, or the same pack compiled by a CLI of another format version).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactChange {
    #[default]
    Unchanged,
    New,
    Changed,
}

impl SyncPlan {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.artifact == ArtifactChange::Unchanged
    }
}

/// The compiled artifact of the files `content sync` uploads: built from exactly those bytes
/// (so its content version is the one the functions compute from the files in S3), in the
/// sender's mode. `None` if they do not load (the caller has validated them already).
pub fn compile(local: &BTreeMap<String, Vec<u8>>) -> Option<(ContentLibrary, Vec<u8>)> {
    let files = local
        .iter()
        .map(|(key, bytes)| {
            Some(SourceFile {
                path: key.strip_prefix(CONTENT_PREFIX)?.to_owned(),
                text: String::from_utf8(bytes.clone()).ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let (library, _gaps) = ContentLibrary::from_files_allowing_gaps(files).ok()?;
    let artifact = library.to_artifact();
    Some((library, artifact))
}

/// The files of DIR that make up the pack, keyed by object key: the `.toml` files the content
/// loader reads (not `tools/`, not hidden files), so helper scripts never reach the bucket.
pub fn pack_files(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = entry?.path();
            let relative = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden || relative == "tools" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if relative.ends_with(".toml") {
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                files.insert(format!("{CONTENT_PREFIX}{relative}"), bytes);
            }
        }
    }
    Ok(files)
}

/// MD5 of `bytes` as S3 reports it in a single-part ETag (hex, without quotes).
pub fn etag_of(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The diff between the local pack and the bucket listing (key → ETag). A multipart ETag
/// (`…-N`) is not an MD5, so such an object counts as changed and is replaced by a
/// single-part upload (after which it compares normally).
pub fn diff(local: &BTreeMap<String, Vec<u8>>, remote: &BTreeMap<String, String>) -> SyncPlan {
    let mut plan = SyncPlan::default();
    for (key, bytes) in local {
        match remote.get(key) {
            None => plan.new.push(key.clone()),
            Some(etag) if etag.trim_matches('"') == etag_of(bytes) => plan.unchanged += 1,
            Some(_) => plan.changed.push(key.clone()),
        }
    }
    // The artifact is not a file of DIR: it is compared on its own (see `sync`), not removed.
    plan.removed = remote
        .keys()
        .filter(|k| !local.contains_key(*k) && k.as_str() != ARTIFACT_KEY)
        .cloned()
        .collect();
    plan
}

/// Whether `artifact` differs from the bucket's (`remote`: key → ETag, as for [`diff`]).
pub fn artifact_change(artifact: &[u8], remote: &BTreeMap<String, String>) -> ArtifactChange {
    match remote.get(ARTIFACT_KEY) {
        None => ArtifactChange::New,
        Some(etag) if etag.trim_matches('"') == etag_of(artifact) => ArtifactChange::Unchanged,
        Some(_) => ArtifactChange::Changed,
    }
}

/// key → ETag of every object under `content/`.
pub async fn remote_listing(ops: &Ops) -> anyhow::Result<BTreeMap<String, String>> {
    let bucket = &ops.config.content_bucket;
    kizuna_aws::object_etags(&ops.clients.s3, bucket, CONTENT_PREFIX)
        .await
        .with_context(|| format!("listing s3://{bucket}/{CONTENT_PREFIX}"))
}

/// Validates `dir`, prints the diff against the bucket and, unless `dry_run`, applies it.
/// Exit code 1 if the pack is invalid (nothing uploaded).
pub async fn sync(
    ops: &Ops,
    dir: &Path,
    dry_run: bool,
    progress: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let report = ContentLibrary::check_dir(dir);
    if report.library.is_none() {
        for d in &report.errors {
            writeln!(out, "{d}")?;
        }
        writeln!(
            out,
            "{} error(s) in {}: nothing uploaded",
            report.errors.len(),
            dir.display()
        )?;
        return Ok(ExitCode::from(1));
    }
    if !report.warnings.is_empty() {
        writeln!(
            out,
            "{} editorial warning(s): see `kizuna content check {}`",
            report.warnings.len(),
            dir.display()
        )?;
    }
    let local = pack_files(dir)?;
    // The files were validated above; what is compiled is what is uploaded (hidden files
    // and tools/ are left out of both).
    let (library, artifact) = compile(&local).with_context(|| {
        format!(
            "{}: the files to upload do not load on their own (hidden or tools/ files?)",
            dir.display()
        )
    })?;
    let remote = remote_listing(ops).await?;
    let mut plan = diff(&local, &remote);
    plan.artifact = artifact_change(&artifact, &remote);
    let bucket = &ops.config.content_bucket;
    writeln!(
        out,
        "pack {} {} (content version {}) → s3://{bucket}/{CONTENT_PREFIX}",
        library.pack_id(),
        library.pack_version(),
        &library.version()[..library.version().len().min(12)]
    )?;
    for key in &plan.new {
        writeln!(out, "  + {key}")?;
    }
    for key in &plan.changed {
        writeln!(out, "  ~ {key}")?;
    }
    for key in &plan.removed {
        writeln!(out, "  - {key}")?;
    }
    writeln!(
        out,
        "{} new, {} changed, {} removed, {} unchanged",
        plan.new.len(),
        plan.changed.len(),
        plan.removed.len(),
        plan.unchanged
    )?;
    writeln!(
        out,
        "compiled artifact {ARTIFACT_KEY} ({} bytes, format {ARTIFACT_FORMAT_VERSION}): {}",
        artifact.len(),
        match plan.artifact {
            ArtifactChange::New => "new",
            ArtifactChange::Changed => "changed",
            ArtifactChange::Unchanged => "unchanged",
        }
    )?;
    if plan.is_empty() {
        writeln!(out, "the bucket already holds this pack")?;
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        writeln!(out, "dry run: nothing changed")?;
        return Ok(ExitCode::SUCCESS);
    }

    let artifact_uploads = u64::from(plan.artifact != ArtifactChange::Unchanged);
    let total =
        (plan.new.len() + plan.changed.len() + plan.removed.len()) as u64 + artifact_uploads;
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for key in plan.new.iter().chain(&plan.changed) {
        bar.set_message(key.clone());
        ops.clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/toml; charset=utf-8")
            .body(ByteStream::from(local[key].clone()))
            .send()
            .await
            .with_context(|| format!("uploading {key} (re-run `kizuna content sync` to resume)"))?;
        bar.inc(1);
    }
    // Deletions last: until every new file is in place, the old pack stays complete.
    for key in &plan.removed {
        bar.set_message(key.clone());
        ops.clients
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .with_context(|| format!("deleting {key} (re-run `kizuna content sync` to resume)"))?;
        bar.inc(1);
    }
    // The artifact last: a function that reads it gets a pack whose files are all in place.
    if plan.artifact != ArtifactChange::Unchanged {
        bar.set_message(ARTIFACT_KEY);
        ops.clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(ARTIFACT_KEY)
            .content_type("application/octet-stream")
            .body(ByteStream::from(artifact))
            .send()
            .await
            .with_context(|| {
                format!(
                    "uploading {ARTIFACT_KEY}: until it is, the functions serve the previous \
                     pack (re-run `kizuna content sync`)"
                )
            })?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    writeln!(
        out,
        "synced: {} uploaded, {} deleted, compiled artifact {}; senders pick the new pack up at \
         their next run",
        plan.new.len() + plan.changed.len(),
        plan.removed.len(),
        if artifact_uploads == 1 {
            "uploaded"
        } else {
            "unchanged"
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_md5_hex() {
        assert_eq!(etag_of(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(etag_of(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn diff_classifies_by_hash() {
        let local: BTreeMap<String, Vec<u8>> = [
            ("content/a.toml".to_owned(), b"a".to_vec()),
            ("content/b.toml".to_owned(), b"b2".to_vec()),
            ("content/c.toml".to_owned(), b"c".to_vec()),
        ]
        .into();
        let remote: BTreeMap<String, String> = [
            (
                "content/a.toml".to_owned(),
                format!("\"{}\"", etag_of(b"a")),
            ),
            (
                "content/b.toml".to_owned(),
                format!("\"{}\"", etag_of(b"b")),
            ),
            ("content/old.toml".to_owned(), "\"x\"".to_owned()),
            ("content/c.toml".to_owned(), "\"abc-2\"".to_owned()),
        ]
        .into();
        let plan = diff(&local, &remote);
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.changed, ["content/b.toml", "content/c.toml"]);
        assert_eq!(plan.removed, ["content/old.toml"]);
        assert!(plan.new.is_empty());
        assert!(diff(&local, &BTreeMap::new()).new.len() == 3);
    }

    #[test]
    fn the_artifact_is_compared_on_its_own_and_never_removed() {
        let local: BTreeMap<String, Vec<u8>> =
            [("content/a.toml".to_owned(), b"a".to_vec())].into();
        let artifact = b"compiled".to_vec();
        let mut remote: BTreeMap<String, String> = [(
            "content/a.toml".to_owned(),
            format!("\"{}\"", etag_of(b"a")),
        )]
        .into();
        assert_eq!(artifact_change(&artifact, &remote), ArtifactChange::New);
        remote.insert(ARTIFACT_KEY.to_owned(), "\"0123\"".to_owned());
        let plan = diff(&local, &remote);
        assert!(plan.removed.is_empty(), "{plan:?}");
        assert_eq!(plan.unchanged, 1);
        assert_eq!(artifact_change(&artifact, &remote), ArtifactChange::Changed);
        remote.insert(
            ARTIFACT_KEY.to_owned(),
            format!("\"{}\"", etag_of(&artifact)),
        );
        assert_eq!(
            artifact_change(&artifact, &remote),
            ArtifactChange::Unchanged
        );
    }

    #[test]
    fn the_sample_pack_compiles_to_the_library_its_uploaded_files_give() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let local = pack_files(&dir).unwrap();
        let (library, artifact) = compile(&local).expect("the sample pack compiles");
        let decoded = ContentLibrary::from_artifact(&artifact).unwrap();
        assert_eq!(decoded.version(), library.version());
        // The version the functions compute from the same files in S3.
        let from_files = ContentLibrary::from_files(local.iter().map(|(k, v)| SourceFile {
            path: k.strip_prefix(CONTENT_PREFIX).unwrap().to_owned(),
            text: String::from_utf8(v.clone()).unwrap(),
        }))
        .unwrap();
        assert_eq!(decoded.version(), from_files.version());
        // Deterministic, so an unchanged pack is not re-uploaded.
        assert_eq!(compile(&local).unwrap().1, artifact);
    }
}
