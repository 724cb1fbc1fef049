//! `kizuna content check [DIR]` and `kizuna content sync [DIR]` (see [`crate::commands::sync`]).

use clap::Subcommand;
use kizuna_core::content::ContentLibrary;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ContentCommand {
    /// Validate a content directory: prints `file:line: message` for every problem and exits 1
    /// if there is any.
    Check {
        /// The content directory (with base/ and municipalities/).
        #[arg(default_value = "content")]
        dir: PathBuf,
    },
    /// Validate, then make the bucket's content/ equal DIR: upload new and changed files,
    /// delete removed ones. Safe to interrupt and re-run.
    Sync(crate::commands::sync::SyncArgs),
}

pub fn run(cmd: ContentCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ContentCommand::Check { dir } => check(&dir),
        ContentCommand::Sync(args) => crate::commands::sync::run(args),
    }
}

fn check(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    match ContentLibrary::load_dir(dir) {
        Ok(library) => {
            let municipalities: Vec<String> =
                library.municipalities().map(|m| m.to_string()).collect();
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
            println!("  content version {}", library.version());
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                println!("{d}");
            }
            eprintln!("{} error(s) in {}", diagnostics.len(), dir.display());
            Ok(ExitCode::from(1))
        }
    }
}
