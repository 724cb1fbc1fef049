//! `kizuna send --municipality ID --date D [--shard I/N] [--dry-run]`: the operator re-run.
//!
//! A real run calls the same `Sender::run` as the sender Lambda. It is idempotent: it takes the
//! send job's lease (so it never runs beside the scheduled sender), skips the households the
//! ledger says are sent, and every push carries the same `X-Line-Retry-Key`, so nothing
//! arrives twice.
//! `--dry-run` reads only: who would receive what, from the same plan and the ledger's state.

use crate::commands::ops::{block_on, parse_municipality, Ops};
use anyhow::{bail, Context as _};
use chrono::NaiveDate;
use clap::Args;
use futures::TryStreamExt as _;
use kizuna_app::clock::SystemClock;
use kizuna_app::model::{DeliveryState, Municipality, SendJob, Shard};
use kizuna_app::paging::deliverable_pages;
use kizuna_app::ports::{DeliveryLedger, MunicipalityDirectory};
use kizuna_app::schedule::may_send_now;
use kizuna_app::sender::{Sender, SenderSettings};
use kizuna_aws::compose;
use kizuna_core::plan::plan_household;
use kizuna_core::MunicipalityId;
use std::io::Write;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct SendArgs {
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: MunicipalityId,
    /// The delivery date (Japan), YYYY-MM-DD.
    #[arg(long)]
    pub date: NaiveDate,
    /// One shard, I/N (default: every shard of the municipality).
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Show who would receive what; push nothing, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or("expected I/N, e.g. 0/4")?;
    let index: u16 = i.parse().map_err(|_| "expected I/N, e.g. 0/4")?;
    let count: u16 = n.parse().map_err(|_| "expected I/N, e.g. 0/4")?;
    Shard::new(index, count).map_err(|e| e.to_string())
}

pub fn run(args: SendArgs) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let mut out = std::io::stdout().lock();
        if args.dry_run {
            dry_run(&ops, &args.municipality, args.date, args.shard, &mut out).await
        } else {
            let sender = compose::sender(
                &ops.config,
                &ops.clients,
                Arc::new(SystemClock),
                SenderSettings::default(),
            )?;
            send(
                &ops,
                &sender,
                &args.municipality,
                args.date,
                args.shard,
                &mut out,
            )
            .await
        }
    })
}

/// The dry run's totals (also printed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DryRunSummary {
    pub would_send: u64,
    pub already_sent: u64,
    /// Failed permanently (e.g. LINE answered 400): a re-run does not retry them.
    pub failed: u64,
    /// Failed retryably (or claimed by a sender of an earlier release).
    pub in_progress_or_retry: u64,
    pub nothing_today: u64,
    pub missing_content: u64,
}

/// The municipality's record, or an error an operator can act on.
async fn registered(ops: &Ops, id: &MunicipalityId) -> anyhow::Result<Municipality> {
    compose::municipalities(&ops.config, &ops.clients)
        .get(id)
        .await?
        .with_context(|| format!("{id} is not registered"))
}

/// Who would receive what on `date`: one line per household fingerprint with the number of
/// message objects and their content keys, and the ledger's state. Reads only.
pub async fn dry_run(
    ops: &Ops,
    id: &MunicipalityId,
    date: NaiveDate,
    shard: Option<Shard>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let municipality = registered(ops, id).await?;
    // The sender's own content loading (S3, validated), so the plan is exactly what it sends.
    let sender = compose::sender(
        &ops.config,
        &ops.clients,
        Arc::new(SystemClock),
        SenderSettings::default(),
    )?;
    let library = sender.content().await?;
    let content = library.for_municipality(id);
    let households = compose::households(&ops.config, &ops.clients);
    let ledger = compose::ledger(&ops.config, &ops.clients);
    let shard = shard.unwrap_or(Shard::ALL);
    writeln!(
        out,
        "dry run: {id} ({}) on {date}, shard {}/{} — nothing is pushed or written",
        municipality.display_name, shard.index, shard.count
    )?;
    if !municipality.enabled {
        writeln!(out, "note: {id} is disabled: a real run would send nothing")?;
    }
    writeln!(
        out,
        "{:<14} {:<16} {:>7}  CONTENT",
        "HOUSEHOLD", "STATE", "OBJECTS"
    )?;
    let mut summary = DryRunSummary::default();
    let mut pages = pin!(deliverable_pages(households.as_ref(), id, shard, 500));
    while let Some(page) = pages.try_next().await? {
        for household in &page {
            let plan = plan_household(household, date, &content);
            if !plan.missing.is_empty() {
                summary.missing_content += 1;
            }
            if plan.messages.is_empty() {
                summary.nothing_today += 1;
                continue;
            }
            let state = match ledger.get(id, date, &household.user).await? {
                None => {
                    summary.would_send += 1;
                    "would send"
                }
                Some(record) => match record.state {
                    DeliveryState::Sent { .. } => {
                        summary.already_sent += 1;
                        "already sent"
                    }
                    DeliveryState::Failed {
                        retryable: false, ..
                    } => {
                        summary.failed += 1;
                        "failed (final)"
                    }
                    DeliveryState::Failed {
                        retryable: true, ..
                    } => {
                        summary.in_progress_or_retry += 1;
                        "would retry"
                    }
                    DeliveryState::Claimed { .. } => {
                        summary.in_progress_or_retry += 1;
                        "claimed (lease)"
                    }
                },
            };
            let keys: Vec<String> = plan.items.iter().map(|i| i.content_key()).collect();
            writeln!(
                out,
                "{:<14} {:<16} {:>7}  {}",
                household.user.fingerprint(),
                state,
                plan.messages.len(),
                keys.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "would send {}, already sent {}, to retry/in progress {}, failed {}, nothing today {}, missing content {}",
        summary.would_send,
        summary.already_sent,
        summary.in_progress_or_retry,
        summary.failed,
        summary.nothing_today,
        summary.missing_content
    )?;
    if !may_send_now(date, chrono::Utc::now()) {
        writeln!(
            out,
            "note: {date} is not today before 21:00 Japan time: a real run would refuse to send (late)"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the send job(s) with the real sender. Exit 1 if any job is incomplete or failed.
pub async fn send(
    ops: &Ops,
    sender: &Sender,
    id: &MunicipalityId,
    date: NaiveDate,
    shard: Option<Shard>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let municipality = registered(ops, id).await?;
    let shards: Vec<Shard> = match shard {
        Some(s) => vec![s],
        None => municipality.shards().collect(),
    };
    if shards.iter().any(|s| s.count != municipality.send_shards) {
        bail!(
            "{id} is split into {} shard(s): use --shard I/{}",
            municipality.send_shards,
            municipality.send_shards
        );
    }
    writeln!(
        out,
        "sending {id} for {date} ({} shard(s)). Idempotent: households already in the ledger are skipped, nothing is delivered twice.",
        shards.len()
    )?;
    let mut ok = true;
    for shard in shards {
        let job = SendJob {
            municipality: id.clone(),
            date,
            shard,
            // Operator re-runs are counted like catch-up attempts in logs and metrics.
            attempt: 1,
        };
        match sender.run(&job, None).await {
            Ok(report) => {
                let c = report.counts;
                writeln!(
                    out,
                    "shard {}/{}: {} — sent {}, skipped {}, failed {}, not sent (quota) {}, missing content {}{}",
                    shard.index,
                    shard.count,
                    report.status.as_str(),
                    c.sent,
                    c.skipped,
                    c.failed,
                    c.not_sent_quota,
                    c.missing_content,
                    report.note.map(|n| format!(" ({n})")).unwrap_or_default()
                )?;
                ok &= report.status == kizuna_app::model::RunStatus::Completed;
            }
            Err(e) => {
                writeln!(out, "shard {}/{}: failed: {e}", shard.index, shard.count)?;
                ok = false;
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
