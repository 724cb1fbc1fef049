//! `kizuna content check [DIR]` and `kizuna content sync [DIR]` (see [`crate::commands::sync`]).

use clap::Subcommand;
use kizuna_core::content::ContentLibrary;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ContentCommand {
    /// Validate a content directory: prints `file:line: message` for every error and
    /// `file:line: warning: message` for every editorial warning; exits 1 if there is an error
    /// (or, with --strict, a warning).
    Check {
        /// The content directory (with base/ and municipalities/).
        #[arg(default_value = "content")]
        dir: PathBuf,
        /// Fail on warnings too (repeated sentences or words, long texts).
        #[arg(long)]
        strict: bool,
    },
    /// Validate, then make the bucket's content/ equal DIR: upload new and changed files,
    /// delete removed ones. Safe to interrupt and re-run.
    Sync(crate::commands::sync::SyncArgs),
}

pub fn run(cmd: ContentCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ContentCommand::Check { dir, strict } => check(&dir, strict),
        ContentCommand::Sync(args) => crate::commands::sync::run(args),
    }
}

fn check(dir: &std::path::Path, strict: bool) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let report = ContentLibrary::check_dir(dir);
    // One list in file order, so that an editor can work through it top to bottom.
    let mut all: Vec<_> = report.errors.iter().chain(&report.warnings).collect();
    all.sort_by(|x, y| (&x.path, x.line, x.severity).cmp(&(&y.path, y.line, y.severity)));
    for d in &all {
        println!("{d}");
    }
    let (errors, warnings) = (report.errors.len(), report.warnings.len());
    let Some(library) = report.library else {
        eprintln!(
            "{errors} error(s), {warnings} warning(s) in {}",
            dir.display()
        );
        return Ok(ExitCode::from(1));
    };
    let municipalities: Vec<String> = library.municipalities().map(|m| m.to_string()).collect();
    println!(
        "ok: {} — pack {} {}{}",
        dir.display(),
        library.pack_id(),
        library.pack_version(),
        if library.is_sample() {
            " (SAMPLE content)"
        } else {
            ""
        }
    );
    println!(
        "  maternity 4w0d–41w6d + closing, {} scheduled child days, birthdays 1–3",
        library.scheduled_child_days().count()
    );
    println!(
        "  {} municipality overlay(s): {}",
        municipalities.len(),
        if municipalities.is_empty() {
            "-".to_owned()
        } else {
            municipalities.join(", ")
        }
    );
    for line in coverage_lines(&library) {
        println!("  {line}");
    }
    println!("  content version {}", library.version());
    if warnings > 0 {
        eprintln!(
            "{warnings} warning(s) in {}{}",
            dir.display(),
            if strict { " (--strict: failing)" } else { "" }
        );
        if strict {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per language pack: how much of the base it covers; the rest is sent in Japanese.
pub fn coverage_lines(library: &ContentLibrary) -> Vec<String> {
    library
        .languages()
        .filter_map(|language| {
            let c = library.coverage(language)?;
            Some(format!(
                "{}: {} of {} maternity days, {} of {} child days, closing {}, {} of 3 birthdays; the rest falls back to Japanese",
                language.code(),
                c.maternity_days,
                c.maternity_total,
                c.child_days,
                c.child_total,
                if c.closing { "yes" } else { "no" },
                c.birthdays
            ))
        })
        .collect()
}
