//! `kizuna notice add|list|remove --municipality ID [DIR]`: a town's notices (お知らせ), the
//! `[[note]]`s of its overlay (`DIR/municipalities/ID/notes.toml`, docs/content-authoring.md).
//!
//! Every change is followed by the whole pack's check, exactly `kizuna content check`'s: if it
//! finds an error, the file is put back as it was and the errors are printed as `file:line:`.
//! The file stays a clerk-editable TOML file with its comments; `content sync` uploads it.

use crate::commands::ops::parse_municipality;
use anyhow::{bail, Context as _};
use chrono::NaiveDate;
use clap::{ArgGroup, Args, Subcommand};
use kizuna_core::content::{stage_key, ContentLibrary, NoteTarget, Values};
use kizuna_core::MunicipalityId;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum NoticeCommand {
    /// Append a notice to the town's notes.toml, then check the whole pack (refused and left
    /// unchanged if invalid).
    Add(AddArgs),
    /// The town's notices with their windows.
    List(Target),
    /// Delete a notice by id, then check the whole pack.
    Remove {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        id: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Target {
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: MunicipalityId,
    /// The content directory (with base/ and municipalities/).
    #[arg(default_value = "content")]
    pub dir: PathBuf,
}

#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("window").required(true).args(["child_days", "stages", "dates"])))]
pub struct AddArgs {
    #[command(flatten)]
    pub target: Target,
    /// Unique in the town (letters, digits, '-'); appears in run records and stats.
    #[arg(long)]
    pub id: String,
    /// Days since birth, `90..120` (a window) or `30` (one scheduled day).
    #[arg(long, value_name = "A..B|N")]
    pub child_days: Option<String>,
    /// Pregnancy stages, `20w0d..23w6d` or `20w0d`.
    #[arg(long, value_name = "A..B|S")]
    pub stages: Option<String>,
    /// Calendar dates (Japan), `2027-01-01..2027-01-31` or `2027-05-16`.
    #[arg(long, value_name = "A..B|D")]
    pub dates: Option<String>,
    /// The notice's text (without the （〇〇町より） signature, added when sent); stdin
    /// without it.
    #[arg(long, value_name = "FILE")]
    pub text_file: Option<PathBuf>,
}

pub fn run(cmd: NoticeCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        NoticeCommand::Add(args) => {
            let text = match &args.text_file {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("reading the notice's text from stdin")?;
                    text
                }
            };
            add(&args, &text, &mut out)
        }
        NoticeCommand::List(target) => list(&target, &mut out),
        NoticeCommand::Remove { target, id } => remove(&target, &id, &mut out),
    }
}

fn notes_path(target: &Target) -> PathBuf {
    target
        .dir
        .join("municipalities")
        .join(target.municipality.as_str())
        .join("notes.toml")
}

/// Checks one value of a window flag and writes it as TOML.
type ValueParser = dyn Fn(&str) -> anyhow::Result<String>;

/// The `key = value` line of a window flag: `A..B` is a window, a single value one day.
fn window_line(args: &AddArgs) -> anyhow::Result<String> {
    fn split(s: &str) -> (&str, Option<&str>) {
        match s.split_once("..") {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (s.trim(), None),
        }
    }
    let day = |s: &str| -> anyhow::Result<String> {
        s.parse::<u16>()
            .map(|d| d.to_string())
            .with_context(|| format!("{s:?} is not a number of days"))
    };
    let stage = |s: &str| -> anyhow::Result<String> {
        kizuna_core::content::parse_stage_key(s)
            .map(|d| format!("\"{}\"", stage_key(d)))
            .with_context(|| format!("{s:?} is not a stage such as 20w0d"))
    };
    let date = |s: &str| -> anyhow::Result<String> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .with_context(|| format!("{s:?} is not a date such as 2027-01-31"))
    };
    let (single, window, value, parse): (&str, &str, &str, &ValueParser) =
        match (&args.child_days, &args.stages, &args.dates) {
            (Some(v), None, None) => ("child_day", "child_days", v, &day),
            (None, Some(v), None) => ("stage", "stages", v, &stage),
            (None, None, Some(v)) => ("date", "dates", v, &date),
            _ => bail!("give exactly one of --child-days, --stages, --dates"),
        };
    Ok(match split(value) {
        (a, None) => format!("{single} = {}", parse(a)?),
        (a, Some(b)) => format!("{window} = [{}, {}]", parse(a)?, parse(b)?),
    })
}

/// The text as a TOML multi-line basic string: backslashes and quotes escaped, CRLF folded.
fn toml_text(text: &str) -> anyhow::Result<String> {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        bail!("the notice's text is empty");
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        bail!(
            "the notice's text contains a control character U+{:04X}",
            c as u32
        );
    }
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(format!("\"\"\"\n{escaped}\"\"\""))
}

/// Writes `new` to `path`, runs the pack's check, and restores the previous state of the file
/// if there is an error. Prints the check's diagnostics either way.
fn write_checked(
    target: &Target,
    path: &Path,
    before: Option<&str>,
    new: &str,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let created_dir = match path.parent() {
        Some(parent) if !parent.is_dir() => {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
            Some(parent.to_path_buf())
        }
        _ => None,
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))?;
    let report = ContentLibrary::check_dir(&target.dir);
    let mut all: Vec<_> = report.errors.iter().chain(&report.warnings).collect();
    all.sort_by(|x, y| (&x.path, x.line, x.severity).cmp(&(&y.path, y.line, y.severity)));
    for d in &all {
        writeln!(out, "{d}")?;
    }
    if report.library.is_some() {
        return Ok(true);
    }
    match before {
        Some(text) => std::fs::write(path, text),
        None => std::fs::remove_file(path),
    }
    .with_context(|| format!("restoring {}", path.display()))?;
    if let Some(dir) = created_dir {
        let _ = std::fs::remove_dir(dir);
    }
    writeln!(
        out,
        "refused: {} error(s); {} is unchanged",
        report.errors.len(),
        path.display()
    )?;
    Ok(false)
}

pub fn add(args: &AddArgs, text: &str, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let id = args.id.trim();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("--id {id:?}: use letters, digits, '-' and '_'");
    }
    let block = format!(
        "[[note]]\nid = \"{id}\"\n{}\ntext = {}\n",
        window_line(args)?,
        toml_text(text)?
    );
    let path = notes_path(&args.target);
    let before = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut new = before.clone().unwrap_or_default();
    if !new.is_empty() {
        if !new.ends_with('\n') {
            new.push('\n');
        }
        new.push('\n');
    }
    new.push_str(&block);
    if !write_checked(&args.target, &path, before.as_deref(), &new, out)? {
        return Ok(ExitCode::from(1));
    }
    writeln!(
        out,
        "added notice {id} to {} (upload with `kizuna content sync`)",
        path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn window(target: &NoteTarget) -> String {
    match *target {
        NoteTarget::Maternity { first, last } if first == last => {
            format!("stage {}", stage_key(first))
        }
        NoteTarget::Maternity { first, last } => {
            format!("stages {}..{}", stage_key(first), stage_key(last))
        }
        NoteTarget::Child { first, last } if first == last => format!("child day {first}"),
        NoteTarget::Child { first, last } => format!("child days {first}..{last}"),
        NoteTarget::Dates { first, last } if first == last => format!("date {first}"),
        NoteTarget::Dates { first, last } => format!("dates {first}..{last}"),
    }
}

pub fn list(target: &Target, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let library = match ContentLibrary::load_dir(&target.dir) {
        Ok(l) => l,
        Err(diagnostics) => {
            for d in &diagnostics {
                writeln!(out, "{d}")?;
            }
            bail!("{} does not load: fix it first", target.dir.display());
        }
    };
    if !library.has_municipality(&target.municipality) {
        writeln!(
            out,
            "{}: no overlay in {}",
            target.municipality,
            target.dir.display()
        )?;
        return Ok(ExitCode::from(1));
    }
    let content = library.for_municipality(&target.municipality);
    let notes = content.notes();
    for note in notes {
        let rendered = note.template().render(&Values::new(content.town(), 1));
        let first_line = rendered
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_owned();
        writeln!(
            out,
            "{:<28} {:<28} {first_line}",
            note.id,
            window(&note.target)
        )?;
    }
    writeln!(out, "{} notice(s) for {}", notes.len(), target.municipality)?;
    Ok(ExitCode::SUCCESS)
}

/// The file without the `[[note]]` block whose `id` is `id` (from its header to the next
/// table header); `None` if there is no such block.
fn without_note(text: &str, id: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let headers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with('['))
        .map(|(i, _)| i)
        .collect();
    let wanted = format!("\"{id}\"");
    for (k, &start) in headers.iter().enumerate() {
        let end = headers.get(k + 1).copied().unwrap_or(lines.len());
        if lines[start].trim() != "[[note]]" {
            continue;
        }
        let matches = lines[start..end].iter().any(|l| {
            l.split_once('=')
                .is_some_and(|(k, v)| k.trim() == "id" && v.trim() == wanted)
        });
        if matches {
            let mut kept: String = lines[..start].concat();
            kept.push_str(&lines[end..].concat());
            if end == lines.len() {
                // The last block: no blank lines left dangling at the end of the file.
                kept.truncate(kept.trim_end().len());
                if !kept.is_empty() {
                    kept.push('\n');
                }
            }
            return Some(kept);
        }
    }
    None
}

pub fn remove(target: &Target, id: &str, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let path = notes_path(target);
    let before =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let Some(new) = without_note(&before, id) else {
        writeln!(
            out,
            "{}: no notice {id:?} in {}",
            target.municipality,
            path.display()
        )?;
        return Ok(ExitCode::from(1));
    };
    if !write_checked(target, &path, Some(&before), &new, out)? {
        return Ok(ExitCode::from(1));
    }
    writeln!(out, "removed notice {id} from {}", path.display())?;
    Ok(ExitCode::SUCCESS)
}
