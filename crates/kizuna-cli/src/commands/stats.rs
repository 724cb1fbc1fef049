//! `kizuna stats [--municipality ID] [--month YYYY-MM] [--months N] [--network]
//! [--format table|csv|html] [--out FILE]`.
//!
//! Registrations (current, by programme and stage band), paused and unfollowed households,
//! the month's deliveries from the run records, how many households each town notice
//! (`kizuna notice`) reached that month, and the registration funnel of the last `--months`
//! months ([`crate::funnel`]). `--network` shows instead each town's coverage, active rate and
//! survey response rate beside the network's median (no other town's figures). Every count from 1 to 4 is shown as "<5":
//! in a small town a count of 2 "babies aged 6–11 months" can identify a family. The bands
//! add up to the registrations total, so [`crate::suppression`] also withholds ("x") what
//! would let a reader subtract a hidden band back out.

use crate::commands::funnel_report;
use crate::commands::ops::{block_on, parse_municipality, Month, Ops};
use crate::funnel::{months_back, FunnelMonth, SurveyResponses};
use crate::suppression::{suppress, Relation, Shown};
use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use clap::{Args, ValueEnum};
use futures::TryStreamExt as _;
use kizuna_app::model::RunCounts;
use kizuna_app::paging::municipality_pages;
use kizuna_app::ports::{FollowTally, MunicipalityDirectory, RunRecords};
use kizuna_aws::compose;
use kizuna_core::programme::{report_band, report_bands, REPORT_BAND_COUNT};
use kizuna_core::survey::Survey;
use kizuna_core::survey_results::{audience_includes, SurveyTally};
use kizuna_core::{today_in_japan, Household, MunicipalityId};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::pin::pin;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Html,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: Option<MunicipalityId>,
    /// Month of the delivery figures and the funnel's last month, YYYY-MM (default: this
    /// month, Japan time).
    #[arg(long, value_parser = Month::parse)]
    pub month: Option<Month>,
    /// Months of the registration funnel, back from --month (1–24).
    #[arg(long, default_value_t = DEFAULT_FUNNEL_MONTHS,
          value_parser = clap::value_parser!(u32).range(1..=24))]
    pub months: u32,
    /// Each town's coverage and active rate in --month beside the network's median (with
    /// --municipality: that town only; the medians are over every town).
    #[arg(long)]
    pub network: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Months of the funnel when `--months` is not given.
pub const DEFAULT_FUNNEL_MONTHS: u32 = 6;

pub fn run(args: StatsArgs) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let today = today_in_japan(Utc::now());
        let month = args.month.unwrap_or_else(|| Month::of(today));
        let text = if args.network {
            // Every town, for the medians; only the one asked for is shown.
            let surveys = surveys_open_in(&ops, month, today).await;
            let stats = collect_report(&ops, None, month, 1, today, &surveys).await?;
            if let Some(id) = &args.municipality {
                if !stats.iter().any(|s| s.id == id.as_str()) {
                    anyhow::bail!("{id} is not registered");
                }
            }
            funnel_report::render_network(
                &stats,
                args.municipality.as_ref().map(|m| m.as_str()),
                month,
                args.format,
            )
        } else {
            let stats = collect_report(
                &ops,
                args.municipality.as_ref(),
                month,
                args.months,
                today,
                &[],
            )
            .await?;
            render(&stats, month, today, args.format)
        };
        match &args.out {
            Some(path) => {
                std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            None => std::io::stdout().lock().write_all(text.as_bytes())?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The surveys of the deployed pack that were open at some time in `month` (up to `today`).
/// A deployment with no pack uploaded yet has none: the comparison goes on without them, and
/// says so.
async fn surveys_open_in(ops: &Ops, month: Month, today: NaiveDate) -> Vec<Survey> {
    let content = compose::content(&ops.config, &ops.clients);
    let library = match kizuna_app::content::ContentCache::new(content)
        .current()
        .await
    {
        Ok(library) => library,
        Err(e) => {
            eprintln!("no survey response rate: the deployed content pack could not be read ({e})");
            return Vec::new();
        }
    };
    let as_of = survey_as_of(month, today);
    library
        .surveys()
        .iter()
        .filter(|s| s.opens_on <= as_of && s.closes_on >= month.first_day())
        .cloned()
        .collect()
}

/// The day a month's survey figures are counted to: its last day, or today in the current month.
fn survey_as_of(month: Month, today: NaiveDate) -> NaiveDate {
    let last_day = month
        .next()
        .first_day()
        .pred_opt()
        .expect("a month has a last day");
    last_day.min(today)
}

/// One municipality's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MunicipalityStats {
    pub id: String,
    pub display_name: String,
    /// Households following the account (paused included).
    pub following: u64,
    pub paused: u64,
    /// Unfollowed or blocked, kept until the retention limit.
    pub unfollowed: u64,
    /// Active registrations of following households, per stage band (in [`report_bands`]
    /// order: each programme's bands from its row of the programme table, then past the
    /// programme). Coarse enough to publish, fine enough for a clerk planning visits.
    pub bands: [u64; REPORT_BAND_COUNT],
    /// The month's deliveries, summed over every run record (all shards and attempts).
    pub deliveries: RunCounts,
    pub run_days: u64,
    /// Households each town notice (note id) reached in the month (first sends only: a
    /// re-run that finds the push already sent does not count it again).
    pub notices: BTreeMap<String, u64>,
    /// The town's expected births per year (`municipality add --births-per-year`).
    pub births_per_year: Option<u32>,
    /// The registration funnel, oldest month first, ending with the report's month.
    pub funnel: Vec<FunnelMonth>,
    /// Answers to the surveys open in the report's month (`--network` only).
    pub survey_responses: Option<SurveyResponses>,
}

impl MunicipalityStats {
    pub fn count_household(&mut self, h: &Household, today: NaiveDate) {
        if !h.following {
            self.unfollowed += 1;
            return;
        }
        self.following += 1;
        if h.paused {
            self.paused += 1;
        }
        for r in h.active_registrations() {
            let band = report_band(&r.subject, today);
            let i = report_bands()
                .position(|b| b == band)
                .unwrap_or(REPORT_BAND_COUNT - 1);
            self.bands[i] += 1;
        }
    }

    pub fn registrations(&self) -> u64 {
        self.bands.iter().sum()
    }
}

/// [`collect_report`] with the default funnel of [`DEFAULT_FUNNEL_MONTHS`] months.
pub async fn collect(
    ops: &Ops,
    only: Option<&MunicipalityId>,
    month: Month,
    today: NaiveDate,
) -> anyhow::Result<Vec<MunicipalityStats>> {
    collect_report(ops, only, month, DEFAULT_FUNNEL_MONTHS, today, &[]).await
}

/// Every figure of the report: one listing of each town's households (the current counts and
/// the funnel of `months` months back from `month` together), its follow tally, and the
/// month's run records.
pub async fn collect_report(
    ops: &Ops,
    only: Option<&MunicipalityId>,
    month: Month,
    months: u32,
    today: NaiveDate,
    surveys: &[Survey],
) -> anyhow::Result<Vec<MunicipalityStats>> {
    let funnel_months = months_back(month, months);
    let first_days: Vec<NaiveDate> = funnel_months.iter().map(|m| m.first_day()).collect();
    let follows = compose::follows(&ops.config, &ops.clients);
    let mut municipalities = compose::municipalities(&ops.config, &ops.clients)
        .list()
        .await?;
    if let Some(id) = only {
        municipalities.retain(|m| &m.id == id);
        if municipalities.is_empty() {
            anyhow::bail!("{id} is not registered");
        }
    }
    municipalities.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let households = compose::households(&ops.config, &ops.clients);
    // The surveys' answers are counted in the same listing of the households.
    let as_of = survey_as_of(month, today);
    let mut survey_tallies: Vec<SurveyTally> = surveys
        .iter()
        .map(|survey| {
            let towns = municipalities
                .iter()
                .filter(|m| audience_includes(survey, &m.id))
                .map(|m| m.id.clone());
            SurveyTally::new(survey, as_of, towns)
        })
        .collect();
    let mut stats = Vec::new();
    for m in &municipalities {
        let tally = follows.counts(&m.id, &first_days).await?;
        let mut s = MunicipalityStats {
            id: m.id.to_string(),
            display_name: m.display_name.clone(),
            births_per_year: m.births_per_year,
            funnel: crate::funnel::funnel([], &funnel_months, &tally, today),
            ..Default::default()
        };
        let mut pages = pin!(municipality_pages(households.as_ref(), &m.id, 1000));
        while let Some(page) = pages.try_next().await? {
            for h in &page {
                s.count_household(h, today);
                for f in &mut s.funnel {
                    f.count(h);
                }
                survey_tallies.iter_mut().for_each(|t| t.add(h));
            }
        }
        stats.push(s);
    }
    for tally in survey_tallies {
        for (town, counts) in tally.finish().towns {
            if let Some(s) = stats.iter_mut().find(|s| s.id == town.as_str()) {
                let sum = s
                    .survey_responses
                    .get_or_insert_with(SurveyResponses::default);
                sum.respondents += counts.respondents;
                sum.eligible += counts.eligible;
            }
        }
    }
    // One query per day of the month for every municipality at once (the by-date index).
    let runs = compose::runs(&ops.config, &ops.clients);
    for day in month.days().filter(|d| *d <= today) {
        let records = runs.list_for_date(day).await?;
        for s in stats.iter_mut() {
            let mut ran = false;
            for r in records
                .iter()
                .filter(|r| r.key.municipality.as_str() == s.id)
            {
                ran = true;
                let (d, c) = (&mut s.deliveries, r.counts);
                d.sent += c.sent;
                d.skipped += c.skipped;
                d.failed += c.failed;
                d.not_sent_quota += c.not_sent_quota;
                d.missing_content += c.missing_content;
                for (id, n) in &r.notices {
                    *s.notices.entry(id.clone()).or_default() += n;
                }
            }
            s.run_days += u64::from(ran);
        }
    }
    Ok(stats)
}

pub fn render(
    stats: &[MunicipalityStats],
    month: Month,
    today: NaiveDate,
    format: Format,
) -> String {
    match format {
        Format::Table => table(stats, month, today),
        Format::Csv => csv(stats, month, today),
        Format::Html => html(stats, month, today),
    }
}

/// (key, Japanese label, value) rows of one municipality, in report order.
fn rows(s: &MunicipalityStats) -> Vec<(&'static str, &'static str, u64)> {
    let mut rows = vec![
        ("following", "友だち登録中の世帯", s.following),
        ("paused", "一時停止中", s.paused),
        ("unfollowed", "ブロック・友だち解除", s.unfollowed),
        (
            "registrations",
            "配信登録（妊娠・子ども）",
            s.registrations(),
        ),
    ];
    for (i, band) in report_bands().enumerate() {
        rows.push((band.key, band.label_ja, s.bands[i]));
    }
    rows.extend([
        ("sent", "配信成功", s.deliveries.sent),
        ("failed", "配信失敗", s.deliveries.failed),
        (
            "not_sent_quota",
            "上限により未配信",
            s.deliveries.not_sent_quota,
        ),
    ]);
    rows
}

/// Index of the registrations total in [`rows`]; the bands follow it.
const REGISTRATIONS_ROW: usize = 3;

/// Each notice's households as printed. The notices are not parts of any printed total (a
/// household may get several), so only their own small counts are hidden.
fn shown_notices(s: &MunicipalityStats) -> Vec<(String, Shown)> {
    let values: Vec<u64> = s.notices.values().copied().collect();
    s.notices
        .keys()
        .cloned()
        .zip(suppress(&values, &[]))
        .collect()
}

/// [`rows`] as printed: small counts and their complements suppressed.
fn shown_rows(s: &MunicipalityStats) -> Vec<(&'static str, &'static str, Shown)> {
    let rows = rows(s);
    let values: Vec<u64> = rows.iter().map(|r| r.2).collect();
    let bands = (REGISTRATIONS_ROW + 1..REGISTRATIONS_ROW + 1 + REPORT_BAND_COUNT).collect();
    let shown = suppress(
        &values,
        &[Relation::Sum {
            total: REGISTRATIONS_ROW,
            parts: bands,
        }],
    );
    rows.into_iter()
        .zip(shown)
        .map(|((key, label, _), shown)| (key, label, shown))
        .collect()
}

fn table(stats: &[MunicipalityStats], month: Month, today: NaiveDate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "registrations as of {today}; deliveries in {month}; counts 1–4 shown as <5, \
         x = withheld so that no <5 can be worked out"
    );
    for s in stats {
        let _ = writeln!(out, "\n{} ({})", s.id, s.display_name);
        for (key, _, value) in shown_rows(s) {
            let _ = writeln!(out, "  {key:<16} {value:>8}");
        }
        let _ = writeln!(out, "  {:<16} {:>8}", "run_days", s.run_days);
        for (id, value) in shown_notices(s) {
            let _ = writeln!(out, "  notice:{id:<9} {value:>8}");
        }
        funnel_report::table(&mut out, s);
    }
    out
}

fn csv(stats: &[MunicipalityStats], month: Month, today: NaiveDate) -> String {
    let mut out = String::from("municipality,as_of,month,metric,value\n");
    for s in stats {
        for (key, _, value) in shown_rows(s) {
            let _ = writeln!(out, "{},{today},{month},{key},{value}", s.id);
        }
        for (id, value) in shown_notices(s) {
            let _ = writeln!(out, "{},{today},{month},notice:{id},{value}", s.id);
        }
        funnel_report::csv(&mut out, s);
    }
    out
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained page (no scripts, no external files) a clerk can forward by e-mail.
fn html(stats: &[MunicipalityStats], month: Month, today: NaiveDate) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>きずなメール 配信状況 {month}</title>
<style>
body{{font-family:"Hiragino Sans","Noto Sans JP",sans-serif;margin:2em;color:#333}}
h1{{font-size:1.4em}} h2{{font-size:1.15em;border-bottom:2px solid #e8a0a0;padding-bottom:.2em}}
table{{border-collapse:collapse;margin-bottom:1.5em}} td,th{{padding:.25em .6em;text-align:left}}
td.n{{text-align:right;font-variant-numeric:tabular-nums;width:4em}}
.note{{color:#777;font-size:.85em}}
</style></head><body>
<h1>きずなメール 配信状況レポート</h1>
<p>登録状況: {today} 時点 ／ 配信実績: {month}</p>
<p class="note">個人の特定を防ぐため、1〜4の値は「&lt;5」と表示し、その値が合計からの引き算で分からないよう、ほかの値も「x」（秘匿）としています。</p>
"#
    );
    for s in stats {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&s.display_name));
        for (title, range) in [
            ("登録状況", 0..4),
            ("妊娠週数・月齢別の登録", 4..13),
            ("配信実績", 13..16),
        ] {
            let rows: Vec<_> = shown_rows(s)[range].to_vec();
            // Scaled to the largest *visible* value: a scale set by a hidden one would let
            // the bars' lengths reveal it.
            let max = rows
                .iter()
                .filter_map(|r| r.2.value())
                .max()
                .unwrap_or(0)
                .max(1);
            let _ = writeln!(out, "<h3>{title}</h3><table>");
            for (_, label, value) in rows {
                // Suppressed values get no bar either: its length would reveal the count.
                let width = value.value().map_or(0, |v| v * 240 / max);
                let _ = writeln!(
                    out,
                    r##"<tr><th>{label}</th><td class="n">{}</td><td><svg width="250" height="14" role="img"><rect width="{width}" height="14" fill="#e8a0a0"/></svg></td></tr>"##,
                    escape(&value.to_string())
                );
            }
            let _ = writeln!(out, "</table>");
        }
        let notices = shown_notices(s);
        if !notices.is_empty() {
            let _ = writeln!(out, "<h3>お知らせを届けた世帯数</h3><table>");
            for (id, value) in notices {
                let _ = writeln!(
                    out,
                    r#"<tr><th>{}</th><td class="n">{}</td></tr>"#,
                    escape(&id),
                    escape(&value.to_string())
                );
            }
            let _ = writeln!(out, "</table>");
        }
        funnel_report::html(&mut out, s);
    }
    let _ = writeln!(out, "</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::Subject;

    use kizuna_core::testing::date as d;

    #[test]
    fn bands() {
        let today = d(2027, 1, 10);
        let preg = |due| report_band(&Subject::Pregnancy { due_date: due }, today).key;
        // Due in 280 - 100 = 180 days: 14w2d.
        assert_eq!(preg(d(2027, 7, 9)), "pregnancy_early");
        assert_eq!(preg(today), "pregnancy_late");
        // Due in 111 days: gestational day 169 (24w1d).
        assert_eq!(preg(d(2027, 5, 1)), "pregnancy_mid");
        assert_eq!(preg(d(2026, 12, 1)), "finished");
        let child = |b| {
            report_band(
                &Subject::Child {
                    birth_date: b,
                    due_date: None,
                },
                today,
            )
            .key
        };
        assert_eq!(child(d(2026, 12, 1)), "child_0_2m");
        assert_eq!(child(d(2026, 10, 10)), "child_3_5m");
        assert_eq!(child(d(2025, 1, 10)), "child_2y");
        assert_eq!(child(d(2024, 1, 10)), "finished");
        // Every band in report order, as the published reports have always listed them.
        let keys: Vec<&str> = report_bands().map(|b| b.key).collect();
        assert_eq!(
            keys,
            [
                "pregnancy_early",
                "pregnancy_mid",
                "pregnancy_late",
                "child_0_2m",
                "child_3_5m",
                "child_6_11m",
                "child_1y",
                "child_2y",
                "finished"
            ]
        );
    }

    #[test]
    fn html_suppresses_and_escapes() {
        let s = MunicipalityStats {
            id: "x".into(),
            display_name: "<町>".into(),
            following: 3,
            paused: 12,
            ..Default::default()
        };
        let page = html(&[s], Month::parse("2027-01").unwrap(), d(2027, 1, 10));
        assert!(page.contains("&lt;町&gt;"));
        assert!(page.contains(">&lt;5<"));
        assert!(page.contains(">12<"));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn one_small_band_cannot_be_subtracted_from_the_total() {
        // The issue's example: 111 registrations, one band of 3.
        let mut s = MunicipalityStats {
            id: "x".into(),
            display_name: "x町".into(),
            following: 120,
            ..Default::default()
        };
        s.bands = [23, 21, 37, 27, 3, 0, 0, 0, 0];
        let shown = shown_rows(&s);
        let value = |key: &str| shown.iter().find(|r| r.0 == key).unwrap().2;
        assert_eq!(value("child_3_5m"), Shown::Small);
        assert_eq!(value("pregnancy_mid"), Shown::Withheld);
        assert_eq!(value("registrations"), Shown::Value(111));
        let csv = csv(&[s], Month::parse("2027-01").unwrap(), d(2027, 1, 10));
        assert!(csv.contains(",pregnancy_mid,x\n"), "{csv}");
        assert!(csv.contains(",child_3_5m,<5\n"), "{csv}");
    }

    #[test]
    fn notices_are_counted_per_id_with_small_counts_hidden() {
        let mut s = MunicipalityStats {
            id: "x".into(),
            display_name: "x町".into(),
            ..Default::default()
        };
        s.notices.insert("four-month-checkup".into(), 12);
        s.notices.insert("parents-class".into(), 3);
        let month = Month::parse("2027-01").unwrap();
        let csv = csv(&[s.clone()], month, d(2027, 1, 10));
        assert!(csv.contains(",notice:four-month-checkup,12\n"), "{csv}");
        assert!(csv.contains(",notice:parents-class,<5\n"), "{csv}");
        let table = table(&[s.clone()], month, d(2027, 1, 10));
        assert!(table.contains("notice:parents-class       <5"), "{table}");
        let page = html(&[s], month, d(2027, 1, 10));
        assert!(page.contains("お知らせを届けた世帯数"), "{page}");
        assert!(!page.contains(">3<"), "{page}");
    }
}
