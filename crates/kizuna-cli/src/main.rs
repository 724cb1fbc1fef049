//! `kizuna`: the operator tool. Each subcommand lives in its own module under `commands/`
//! and returns the process exit code; `main` only parses arguments and dispatches.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kizuna",
    version,
    about = "Kizuna operator tool (content packs, previews)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Content packs: validate before anything is uploaded or sent.
    #[command(subcommand)]
    Content(commands::content::ContentCommand),
    /// Show what one parent receives each day (text, JSON lines or an HTML calendar).
    Preview(commands::preview::PreviewArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Content(cmd) => commands::content::run(cmd),
        Command::Preview(args) => commands::preview::run(args),
    };
    match result {
        Ok(code) => code,
        // `kizuna preview | head` closes the pipe early; that is not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
