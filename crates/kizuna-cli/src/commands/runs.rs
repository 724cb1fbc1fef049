//! `kizuna runs [--municipality ID] [--date D] [--recent N]`: the run records of daily sends.

use crate::commands::ops::{block_on, parse_municipality, Ops};
use crate::suppression::{suppress, Shown};
use chrono::{NaiveDate, Timelike, Utc};
use clap::Args;
use kizuna_app::model::RunRecord;
use kizuna_app::ports::{MunicipalityDirectory, RunRecords};
use kizuna_aws::compose;
use kizuna_core::calendar::JAPAN;
use kizuna_core::{today_in_japan, MunicipalityId};
use std::io::Write;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: Option<MunicipalityId>,
    /// Delivery date (Japan), YYYY-MM-DD. Default: today, or with --municipality its recent runs.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// How many recent records of --municipality to show.
    #[arg(long, default_value_t = 14)]
    pub recent: u32,
}

pub fn run(args: RunsArgs) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let now = Utc::now();
        runs(&ops, &args, now, &mut std::io::stdout().lock()).await
    })
}

/// Prints run records. Without `--date` and `--municipality`: today's records of every
/// municipality, plus enabled municipalities whose delivery hour has passed with no record
/// (the scheduler did not enqueue them: look at its errors).
pub async fn runs(
    ops: &Ops,
    args: &RunsArgs,
    now: chrono::DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let store = compose::runs(&ops.config, &ops.clients);
    let today = today_in_japan(now);
    let (records, date) = match (&args.municipality, args.date) {
        (Some(m), None) => (store.list_recent(m, args.recent.max(1)).await?, None),
        (m, date) => {
            let date = date.unwrap_or(today);
            let mut records = store.list_for_date(date).await?;
            if let Some(m) = m {
                records.retain(|r| &r.key.municipality == m);
            }
            (records, Some(date))
        }
    };
    let mut records = records;
    if date.is_some() {
        records.sort_by(|a, b| {
            (a.key.municipality.as_str(), a.key.shard)
                .cmp(&(b.key.municipality.as_str(), b.key.shard))
        });
    }
    print_records(&records, out)?;
    let mut exit = ExitCode::SUCCESS;
    if date == Some(today) && args.municipality.is_none() {
        let hour = now.with_timezone(&JAPAN).hour() as u8;
        let mut missing: Vec<String> = compose::municipalities(&ops.config, &ops.clients)
            .list()
            .await?
            .into_iter()
            .filter(|m| m.enabled && m.delivery_hour <= hour)
            .filter(|m| !records.iter().any(|r| r.key.municipality == m.id))
            .map(|m| m.id.to_string())
            .collect();
        missing.sort();
        if !missing.is_empty() {
            writeln!(
                out,
                "NO RUN RECORD today although the delivery hour has passed: {}",
                missing.join(", ")
            )?;
            exit = ExitCode::from(1);
        }
    }
    Ok(exit)
}

/// A run's household counts as printed. They add up to the shard's households, which no
/// report prints, so there is no total to subtract from: only counts 1–4 are hidden.
pub fn shown_counts(r: &RunRecord) -> [Shown; 5] {
    let c = r.counts;
    let shown = suppress(
        &[
            c.sent,
            c.skipped,
            c.failed,
            c.not_sent_quota,
            c.missing_content,
        ],
        &[],
    );
    [shown[0], shown[1], shown[2], shown[3], shown[4]]
}

pub fn print_records(records: &[RunRecord], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:<10} {:>5} {:<9} {:>7} {:>7} {:>6} {:>6} {:>7}  {:<16} NOTE",
        "MUNICIPALITY",
        "DATE",
        "SHARD",
        "STATUS",
        "SENT",
        "SKIPPED",
        "FAILED",
        "QUOTA",
        "MISSING",
        "UPDATED (JST)"
    )?;
    for r in records {
        let [sent, skipped, failed, quota, missing] = shown_counts(r);
        writeln!(
            out,
            "{:<24} {:<10} {:>5} {:<9} {:>7} {:>7} {:>6} {:>6} {:>7}  {:<16} {}",
            r.key.municipality.as_str(),
            r.key.date,
            r.key.shard,
            r.status.as_str(),
            sent.to_string(),
            skipped.to_string(),
            failed.to_string(),
            quota.to_string(),
            missing.to_string(),
            r.updated_at.with_timezone(&JAPAN).format("%m-%d %H:%M"),
            r.note.as_deref().unwrap_or("")
        )?;
    }
    if records.is_empty() {
        writeln!(out, "(no run records)")?;
    }
    Ok(())
}
