//! `kizuna`: the operator tool. Each subcommand lives in its own module under `commands/`
//! and returns the process exit code; `main` only parses arguments and dispatches.

use kizuna_cli::commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kizuna",
    version,
    about = "Kizuna operator tool (content packs, previews, municipalities, sends, reports)"
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
    /// A town's notices (お知らせ) in its content overlay: add, list, remove (each change is
    /// checked like `content check`).
    #[command(subcommand)]
    Notice(commands::notice::NoticeCommand),
    /// Show what one parent receives each day (text, JSON lines or an HTML calendar).
    Preview(commands::preview::PreviewArgs),
    /// Municipalities: onboard a town, list, show, disable/enable.
    #[command(subcommand)]
    Municipality(commands::municipality::MunicipalityCommand),
    /// Registrations, pauses, blocks and deliveries per municipality and month, the monthly
    /// registration funnel and coverage; --network: each town beside the network's medians
    /// (small counts suppressed).
    Stats(commands::stats::StatsArgs),
    /// Run records of the daily sends: today's, a date's, or a municipality's recent ones.
    Runs(commands::runs::RunsArgs),
    /// Re-run (or, with --dry-run, preview) one municipality's send for a date. Idempotent.
    Send(commands::send::SendArgs),
    /// Counted LINE messages each municipality will send in a month, against its limit.
    Forecast(commands::forecast::ForecastArgs),
    /// A parent's request at the counter: show, export or delete what is stored about them
    /// (LINE user id on stdin or in a file, never on the command line); every use is audited.
    #[command(subcommand)]
    Household(commands::household::HouseholdCommand),
    /// Network surveys: results per town and for the network (small counts hidden), and the
    /// researchers' pseudonymised export of consenting households' answers.
    #[command(subcommand)]
    Survey(commands::survey::SurveyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Content(cmd) => commands::content::run(cmd),
        Command::Notice(cmd) => commands::notice::run(cmd),
        Command::Preview(args) => commands::preview::run(args),
        Command::Municipality(cmd) => commands::municipality::run(cmd),
        Command::Stats(args) => commands::stats::run(args),
        Command::Runs(args) => commands::runs::run(args),
        Command::Send(args) => commands::send::run(args),
        Command::Forecast(args) => commands::forecast::run(args),
        Command::Household(cmd) => commands::household::run(cmd),
        Command::Survey(cmd) => commands::survey::run(cmd),
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
