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
//! 4. the bucket is versioned in production: a bad upload is rolled back by restoring the
//!    previous object versions (docs/operations.md).

use crate::commands::ops::{block_on, Ops};
use anyhow::Context as _;
use aws_sdk_s3::primitives::ByteStream;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kizuna_app::sender::CONTENT_PREFIX;
use kizuna_core::content::ContentLibrary;
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
}

impl SyncPlan {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
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
    plan.removed = remote
        .keys()
        .filter(|k| !local.contains_key(*k))
        .cloned()
        .collect();
    plan
}

/// key → ETag of every object under `content/`.
pub async fn remote_listing(ops: &Ops) -> anyhow::Result<BTreeMap<String, String>> {
    let mut objects = BTreeMap::new();
    let mut token = None;
    loop {
        let out = ops
            .clients
            .s3
            .list_objects_v2()
            .bucket(&ops.config.content_bucket)
            .prefix(CONTENT_PREFIX)
            .set_continuation_token(token)
            .send()
            .await
            .with_context(|| {
                format!(
                    "listing s3://{}/{CONTENT_PREFIX}",
                    ops.config.content_bucket
                )
            })?;
        for object in out.contents() {
            if let Some(key) = object.key() {
                objects.insert(
                    key.to_owned(),
                    object.e_tag().unwrap_or_default().to_owned(),
                );
            }
        }
        token = out
            .next_continuation_token
            .filter(|_| out.is_truncated == Some(true));
        if token.is_none() {
            return Ok(objects);
        }
    }
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
    let Some(library) = report.library else {
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
    };
    if !report.warnings.is_empty() {
        writeln!(
            out,
            "{} editorial warning(s): see `kizuna content check {}`",
            report.warnings.len(),
            dir.display()
        )?;
    }
    let local = pack_files(dir)?;
    let remote = remote_listing(ops).await?;
    let plan = diff(&local, &remote);
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
    if plan.is_empty() {
        writeln!(out, "the bucket already holds this pack")?;
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        writeln!(out, "dry run: nothing changed")?;
        return Ok(ExitCode::SUCCESS);
    }

    let total = (plan.new.len() + plan.changed.len() + plan.removed.len()) as u64;
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
    bar.finish_and_clear();
    writeln!(
        out,
        "synced: {} uploaded, {} deleted; senders pick the new pack up at their next run",
        plan.new.len() + plan.changed.len(),
        plan.removed.len()
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
}
