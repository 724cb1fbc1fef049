//! `kizuna household show|export|delete|audit --municipality ID`: a resident's request at
//! the town hall counter — "show me what you keep about me", "give me a copy", "delete it".
//!
//! The parent's LINE user id is read from stdin or `--user-file`, never from the command line
//! (shell history, `ps`, terminal logs); an id-like argument is refused. Every use — refused
//! and empty look-ups included — leaves an audit record (who, when, action, municipality, a
//! fingerprint of the id: [`kizuna_aws::audit`]). Output names the parent only by that
//! fingerprint, except the export, which is the parent's own copy.
//!
//! What is stored about a parent, and so what these commands cover:
//! * `households`: the household item (registrations, dates, state, pending question,
//!   consent if recorded);
//! * `deliveries`: ledger items keyed by the user id for the last few days
//!   ([`kizuna_aws::schema::LEDGER_RETENTION_DAYS`]); run records hold counts only;
//! * `webhook_events`: LINE's `webhookEventId`s, status and expiry only — no user id, so
//!   nothing there is about one parent.

use crate::commands::ops::{block_on, parse_municipality, Ops};
use anyhow::{bail, Context as _};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use kizuna_app::model::{DeliveryRecord, DeliveryState};
use kizuna_app::ports::{DeliveryLedger, HouseholdStore, StoreError};
use kizuna_aws::audit::{audit_fingerprint, AuditRecord, DynamoAuditLog};
use kizuna_aws::compose;
use kizuna_aws::schema::{ledger_dates_possibly_held, LEDGER_RETENTION_DAYS};
use kizuna_core::{
    today_in_japan, EndReason, Household, LineUserId, MunicipalityId, RegistrationStatus, Subject,
};
use serde_json::{json, Value};
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum HouseholdCommand {
    /// What is stored about one parent (id on stdin or in --user-file).
    Show(LookupArgs),
    /// Everything stored about one parent, as JSON (the parent's copy).
    Export {
        #[command(flatten)]
        lookup: LookupArgs,
        /// Write the JSON to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Delete everything stored about one parent, after confirmation.
    Delete {
        #[command(flatten)]
        lookup: LookupArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// The audit trail of these commands for a municipality.
    Audit {
        #[arg(long, value_parser = parse_municipality)]
        municipality: MunicipalityId,
    },
}

#[derive(Args, Debug, Clone)]
pub struct LookupArgs {
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: MunicipalityId,
    /// File holding the parent's LINE user id (one line). Without it the id is read from stdin.
    #[arg(long, value_name = "FILE")]
    pub user_file: Option<PathBuf>,
    /// Who handles the request (recorded in the audit trail).
    #[arg(long, env = "KIZUNA_OPERATOR")]
    pub operator: String,
    /// Refused: a LINE user id must not be given on the command line.
    #[arg(hide = true)]
    pub stray: Vec<String>,
}

/// The message for an id on the command line (Japanese first: clerks run this).
pub const ID_ON_COMMAND_LINE: &str =
    "LINEユーザーIDをコマンドラインに書かないでください（シェルの履歴や ps に残ります）。\
     標準入力か --user-file で渡してください。 / Never give a LINE user id on the command line \
     (shell history, ps): pipe it on stdin or pass --user-file FILE.";

/// What an operator asked about: the municipality, who asks, and the id text as given.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub municipality: MunicipalityId,
    pub operator: String,
    /// The text given as the user id (trimmed); checked by [`Lookup::user`].
    pub given: String,
    /// Set when the request must be refused before any look-up.
    pub refusal: Option<String>,
}

impl Lookup {
    /// From the arguments and (unless `--user-file`) `stdin`. Never fails on the id itself:
    /// a bad id is a refusal, which is audited like any other use.
    pub fn from_args(args: &LookupArgs, stdin: &mut dyn Read) -> anyhow::Result<Self> {
        let operator = args.operator.trim().to_owned();
        if operator.is_empty() {
            bail!("--operator (or KIZUNA_OPERATOR) must name who handles the request");
        }
        let mut lookup = Self {
            municipality: args.municipality.clone(),
            operator,
            given: String::new(),
            refusal: None,
        };
        if let Some(stray) = args.stray.first() {
            lookup.given = stray.trim().to_owned();
            lookup.refusal = Some(ID_ON_COMMAND_LINE.to_owned());
            return Ok(lookup);
        }
        let text = match &args.user_file {
            Some(path) => {
                let file_name = path.to_string_lossy();
                if looks_like_user_id(&file_name) && !path.exists() {
                    // `--user-file U…`: an id where a file name belongs. Not echoed.
                    lookup.given = file_name.trim().to_owned();
                    lookup.refusal = Some(ID_ON_COMMAND_LINE.to_owned());
                    return Ok(lookup);
                }
                match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(e) => {
                        // Audited like any other refusal. The path is left out: a file name
                        // may contain the id itself, and the audit record must not.
                        lookup.refusal = Some(format!(
                            "--user-file を読めません / cannot read --user-file: {}",
                            e.kind()
                        ));
                        return Ok(lookup);
                    }
                }
            }
            None => {
                let mut text = String::new();
                stdin
                    .read_to_string(&mut text)
                    .context("reading the user id from stdin")?;
                text
            }
        };
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        match lines.as_slice() {
            [one] => lookup.given = (*one).to_owned(),
            [] => {
                lookup.refusal = Some("LINEユーザーIDが空です / no LINE user id was given".into())
            }
            [first, ..] => {
                lookup.given = (*first).to_owned();
                lookup.refusal =
                    Some("IDは1件ずつ処理します / give exactly one LINE user id (one line)".into());
            }
        }
        Ok(lookup)
    }

    /// The parsed id, or why it is refused (without echoing it).
    pub fn user(&self) -> Result<LineUserId, String> {
        if let Some(refusal) = &self.refusal {
            return Err(refusal.clone());
        }
        LineUserId::parse(&self.given).map_err(|_| {
            "LINEユーザーIDの形式ではありません（U + 16進数32桁） / not a LINE user id (U and 32 hex digits)"
                .to_owned()
        })
    }

    fn fingerprint(&self) -> String {
        if self.given.is_empty() {
            "-".to_owned()
        } else {
            audit_fingerprint(&self.given)
        }
    }
}

fn looks_like_user_id(text: &str) -> bool {
    let t = text.trim();
    t.len() == 33 && t.starts_with('U') && t[1..].chars().all(|c| c.is_ascii_hexdigit())
}

pub fn run(cmd: HouseholdCommand) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let now = Utc::now();
        let mut out = std::io::stdout().lock();
        match cmd {
            HouseholdCommand::Show(args) => {
                let lookup = Lookup::from_args(&args, &mut std::io::stdin().lock())?;
                show(&ops, &lookup, now, &mut out).await
            }
            HouseholdCommand::Export { lookup, out: file } => {
                let lookup = Lookup::from_args(&lookup, &mut std::io::stdin().lock())?;
                match file {
                    Some(path) => {
                        let mut buf = Vec::new();
                        let code = export(&ops, &lookup, now, &mut buf).await?;
                        if !buf.is_empty() {
                            write_private(&path, &buf)?;
                            writeln!(out, "wrote {}", path.display())?;
                        }
                        Ok(code)
                    }
                    None => export(&ops, &lookup, now, &mut out).await,
                }
            }
            HouseholdCommand::Delete { lookup: args, yes } => {
                let from_stdin = args.user_file.is_none();
                let lookup = Lookup::from_args(&args, &mut std::io::stdin().lock())?;
                let mut confirm = confirmation_input(yes, from_stdin)?;
                delete(&ops, &lookup, now, yes, &mut *confirm, &mut out).await
            }
            HouseholdCommand::Audit { municipality } => audit(&ops, &municipality, &mut out).await,
        }
    })
}

/// Where the confirmation is typed: the terminal when stdin carried the id.
fn confirmation_input(yes: bool, id_on_stdin: bool) -> anyhow::Result<Box<dyn BufRead>> {
    if yes {
        return Ok(Box::new(std::io::empty()));
    }
    if id_on_stdin {
        let tty = std::fs::File::open("/dev/tty")
            .context("no terminal to confirm on: pass --yes, or give the id with --user-file")?;
        Ok(Box::new(std::io::BufReader::new(tty)))
    } else {
        Ok(Box::new(std::io::BufReader::new(std::io::stdin())))
    }
}

/// An export file holds personal data: readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // `mode` applies only to a new file: an existing one is made private before writing.
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    Ok(())
}

/// Everything stored about one parent in one municipality.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    pub household: Option<Household>,
    pub ledger: Vec<DeliveryRecord>,
}

impl Stored {
    fn summary(&self) -> String {
        match &self.household {
            Some(h) => format!(
                "household found ({} registration(s)), {} ledger item(s)",
                h.registrations.len(),
                self.ledger.len()
            ),
            None if self.ledger.is_empty() => "nothing stored".to_owned(),
            None => format!("no household, {} ledger item(s)", self.ledger.len()),
        }
    }
}

/// Reads the household and every ledger item of the user still held.
pub async fn stored(
    ops: &Ops,
    municipality: &MunicipalityId,
    user: &LineUserId,
    today: NaiveDate,
) -> anyhow::Result<Stored> {
    let household = compose::households(&ops.config, &ops.clients)
        .get(municipality, user)
        .await?;
    let ledger = compose::ledger(&ops.config, &ops.clients);
    let mut items = Vec::new();
    for date in ledger_dates_possibly_held(today) {
        if let Some(record) = ledger.get(municipality, date, user).await? {
            items.push(record);
        }
    }
    Ok(Stored {
        household,
        ledger: items,
    })
}

fn audit_log(ops: &Ops) -> DynamoAuditLog {
    DynamoAuditLog::new(ops.clients.dynamodb.clone(), &ops.config.tables.deliveries)
}

async fn record(
    ops: &Ops,
    lookup: &Lookup,
    action: &str,
    now: DateTime<Utc>,
    outcome: &str,
) -> anyhow::Result<()> {
    audit_log(ops)
        .append(&AuditRecord {
            at: now,
            operator: lookup.operator.clone(),
            action: action.to_owned(),
            municipality: lookup.municipality.clone(),
            user_fingerprint: lookup.fingerprint(),
            outcome: outcome.to_owned(),
        })
        .await
        .context("writing the audit record")?;
    Ok(())
}

/// The parsed id, or the refusal printed and audited (`Err(exit code)`).
async fn user_or_refuse(
    ops: &Ops,
    lookup: &Lookup,
    action: &str,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<Result<LineUserId, ExitCode>> {
    match lookup.user() {
        Ok(user) => Ok(Ok(user)),
        Err(why) => {
            record(ops, lookup, action, now, &format!("refused: {why}")).await?;
            writeln!(out, "{why}")?;
            Ok(Err(ExitCode::from(2)))
        }
    }
}

pub async fn show(
    ops: &Ops,
    lookup: &Lookup,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let user = match user_or_refuse(ops, lookup, "show", now, out).await? {
        Ok(user) => user,
        Err(code) => return Ok(code),
    };
    let today = today_in_japan(now);
    let stored = stored(ops, &lookup.municipality, &user, today).await?;
    record(ops, lookup, "show", now, &stored.summary()).await?;
    print_stored(&stored, &lookup.municipality, &lookup.fingerprint(), out)?;
    Ok(if stored.household.is_none() && stored.ledger.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn subject_text(subject: &Subject) -> String {
    match subject {
        Subject::Pregnancy { due_date } => format!("妊娠 pregnancy — 出産予定日 due {due_date}"),
        Subject::Child {
            birth_date,
            due_date,
        } => format!(
            "子ども child — 誕生日 born {birth_date}{}",
            due_date.map_or(String::new(), |d| format!(" (出産予定日 due {d})"))
        ),
    }
}

fn status_text(status: &RegistrationStatus) -> String {
    match status {
        RegistrationStatus::Active => "配信中 active".to_owned(),
        RegistrationStatus::Ended { reason, on } => format!(
            "終了 ended {on} ({})",
            match reason {
                EndReason::Loss => "loss",
                EndReason::StoppedByParent => "stopped by the parent",
            }
        ),
    }
}

fn state_text(state: &DeliveryState) -> &'static str {
    match state {
        DeliveryState::Claimed { .. } => "claimed",
        DeliveryState::Sent { .. } => "sent",
        DeliveryState::Failed {
            retryable: true, ..
        } => "failed (retryable)",
        DeliveryState::Failed { .. } => "failed",
    }
}

/// Fields of the household item the summary above does not name (e.g. a recorded consent).
const SUMMARISED: [&str; 8] = [
    "municipality",
    "user",
    "registrations",
    "paused",
    "following",
    "unfollowed_on",
    "pending",
    "version",
];

fn print_stored(
    stored: &Stored,
    municipality: &MunicipalityId,
    fingerprint: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "自治体 municipality: {municipality} ／ 利用者 parent: fingerprint {fingerprint}"
    )?;
    match &stored.household {
        None => writeln!(out, "世帯 household: 保存なし (none stored)")?,
        Some(h) => {
            let state = if h.following {
                "友だち登録中 following".to_owned()
            } else {
                format!(
                    "友だち解除・ブロック unfollowed{}",
                    h.unfollowed_on
                        .map_or(String::new(), |d| format!(" on {d}"))
                )
            };
            writeln!(
                out,
                "状態 state: {state}{}",
                if h.paused {
                    " ／ 一時停止中 paused"
                } else {
                    ""
                }
            )?;
            writeln!(out, "登録 registrations: {}", h.registrations.len())?;
            for r in &h.registrations {
                writeln!(
                    out,
                    "  #{} {}, 赤ちゃん {}人 babies, 登録日 registered {}, {}",
                    r.id,
                    subject_text(&r.subject),
                    r.baby_count,
                    r.registered_on,
                    status_text(&r.status)
                )?;
            }
            writeln!(
                out,
                "質問待ち pending question: {}",
                h.pending.as_ref().map_or("なし none".to_owned(), |p| {
                    serde_json::to_value(p)
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                })
            )?;
            let item = serde_json::to_value(h).unwrap_or(Value::Null);
            let mut other = false;
            if let Value::Object(fields) = item {
                for (name, value) in fields {
                    if !SUMMARISED.contains(&name.as_str()) {
                        writeln!(out, "{name}: {value}")?;
                        other = true;
                    }
                }
            }
            if !other {
                writeln!(out, "同意 consent: 記録なし (none recorded)")?;
            }
        }
    }
    writeln!(
        out,
        "配信記録 delivery ledger (kept {LEDGER_RETENTION_DAYS} days): {}",
        if stored.ledger.is_empty() {
            "なし none".to_owned()
        } else {
            stored
                .ledger
                .iter()
                .map(|r| format!("{} {}", r.date, state_text(&r.state)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )?;
    writeln!(
        out,
        "webhook_events: LINEのイベントIDのみで、利用者IDは含みません (holds LINE's event ids only, no user id)"
    )?;
    Ok(())
}

fn ledger_json(r: &DeliveryRecord) -> Value {
    let mut v = json!({
        "date": r.date.to_string(),
        "attempt": r.attempt,
        "state": state_text(&r.state),
    });
    match &r.state {
        DeliveryState::Sent {
            request_id,
            message_count,
        } => {
            v["line_request_id"] = json!(request_id);
            v["message_count"] = json!(message_count);
        }
        DeliveryState::Failed { reason, .. } => v["failure_reason"] = json!(reason),
        DeliveryState::Claimed { lease_expires_at } => {
            v["lease_expires_at"] = json!(lease_expires_at.to_rfc3339())
        }
    }
    v
}

/// The parent's copy: everything stored, as JSON. Exit 1 when nothing is stored (an empty
/// export is still written, so the answer to the resident is explicit).
pub async fn export(
    ops: &Ops,
    lookup: &Lookup,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut refusal = Vec::new();
    let user = match user_or_refuse(ops, lookup, "export", now, &mut refusal).await? {
        Ok(user) => user,
        Err(code) => {
            // The refusal goes to stderr: stdout (or --out) is for the JSON only.
            eprint!("{}", String::from_utf8_lossy(&refusal));
            return Ok(code);
        }
    };
    let today = today_in_japan(now);
    let stored = stored(ops, &lookup.municipality, &user, today).await?;
    record(ops, lookup, "export", now, &stored.summary()).await?;
    let document = json!({
        "format": "kizuna-household-export-v1",
        "exported_at": now.to_rfc3339(),
        "municipality": lookup.municipality.as_str(),
        "line_user_id": user.as_str(),
        "household": stored.household.as_ref().map(serde_json::to_value).transpose()?,
        "delivery_ledger": stored.ledger.iter().map(ledger_json).collect::<Vec<_>>(),
        "delivery_ledger_retention_days": LEDGER_RETENTION_DAYS,
        "webhook_events": "not stored per parent: the table holds LINE's webhook event ids only",
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)?;
    Ok(if stored.household.is_none() && stored.ledger.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Deletes the household and the user's ledger items after the operator types the
/// municipality id (unless `yes`). Prints what was deleted.
pub async fn delete(
    ops: &Ops,
    lookup: &Lookup,
    now: DateTime<Utc>,
    yes: bool,
    confirm: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let user = match user_or_refuse(ops, lookup, "delete", now, out).await? {
        Ok(user) => user,
        Err(code) => return Ok(code),
    };
    let m = &lookup.municipality;
    let today = today_in_japan(now);
    let found = stored(ops, m, &user, today).await?;
    if found.household.is_none() && found.ledger.is_empty() {
        record(
            ops,
            lookup,
            "delete",
            now,
            "nothing stored: nothing deleted",
        )
        .await?;
        writeln!(
            out,
            "この利用者のデータは保存されていません / nothing is stored about this parent in {m}"
        )?;
        return Ok(ExitCode::from(1));
    }
    writeln!(out, "削除するもの / to be deleted: {}", found.summary())?;
    if !yes {
        write!(
            out,
            "確認のため自治体ID（{m}）を入力してください / type the municipality id to confirm: "
        )?;
        out.flush()?;
        let mut answer = String::new();
        confirm.read_line(&mut answer)?;
        if answer.trim() != m.as_str() {
            record(ops, lookup, "delete", now, "not confirmed: nothing deleted").await?;
            writeln!(
                out,
                "\n中止しました。何も削除していません / not confirmed: nothing deleted"
            )?;
            return Ok(ExitCode::from(1));
        }
    }
    // The ledger first, as the webhook's 削除 does: if it fails, the household is still there
    // and running the command again repeats both; the attempt is audited either way.
    if let Err(e) = compose::ledger(&ops.config, &ops.clients)
        .forget_user(m, &user, today)
        .await
    {
        record(
            ops,
            lookup,
            "delete",
            now,
            "failed: ledger not deleted; nothing deleted",
        )
        .await?;
        return Err(e.into());
    }
    let households = compose::households(&ops.config, &ops.clients);
    let mut household_deleted = false;
    let mut current = found.household.clone();
    // A parent's message may change the household between read and delete: re-read, retry.
    for _ in 0..5 {
        let Some(h) = &current else { break };
        match households.delete(h).await {
            Ok(()) => {
                household_deleted = true;
                break;
            }
            Err(StoreError::Conflict) => current = households.get(m, &user).await?,
            Err(e) => return Err(e.into()),
        }
    }
    if current.is_some() && !household_deleted {
        record(
            ops,
            lookup,
            "delete",
            now,
            "failed: household kept changing",
        )
        .await?;
        bail!("the household kept changing while being deleted; run the command again");
    }
    let outcome = format!(
        "deleted: {}household, {} ledger item(s)",
        if household_deleted { "" } else { "no " },
        found.ledger.len()
    );
    record(ops, lookup, "delete", now, &outcome).await?;
    writeln!(
        out,
        "削除しました / deleted: {} {} ledger item(s) ({}); webhook_events holds no user id",
        if household_deleted {
            "household (世帯と登録),"
        } else {
            "no household,"
        },
        found.ledger.len(),
        found
            .ledger
            .iter()
            .map(|r| r.date.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    Ok(ExitCode::SUCCESS)
}

pub async fn audit(
    ops: &Ops,
    municipality: &MunicipalityId,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let records = audit_log(ops).list(municipality).await?;
    writeln!(
        out,
        "{:<24} {:<16} {:<8} {:<16} OUTCOME",
        "AT (UTC)", "OPERATOR", "ACTION", "FINGERPRINT"
    )?;
    for r in &records {
        writeln!(
            out,
            "{:<24} {:<16} {:<8} {:<16} {}",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.operator,
            r.action,
            r.user_fingerprint,
            r.outcome
        )?;
    }
    writeln!(out, "{} record(s)", records.len())?;
    Ok(ExitCode::SUCCESS)
}
