//! `kizuna survey results|export ID`: a network survey's answers, for the towns and for the
//! network's researchers.
//!
//! * `results ID [--municipality M] [--format table|csv|html] [--out FILE]`: per question,
//!   how many households chose each answer, per town and for the network, with the
//!   respondents, the research consent and the response rate. Counts 1–4 are shown as "<5"
//!   and whatever would let a reader work one out as "x" ([`crate::suppression`]: each
//!   question is a table of towns × answers with its row and column totals, the network
//!   being the column totals). The suppression is decided over *every* town, then
//!   `--municipality` only chooses which rows are printed, so two towns' reports put side by
//!   side give away no more than the whole report. Free-text answers are counted, never
//!   printed.
//! * `export ID [--out FILE]`: the researchers' CSV ([`kizuna_core::survey_export`]): one row
//!   per household that agreed to the joint research, pseudonymised with the network's key
//!   from Secrets Manager (`KIZUNA_SURVEY_KEY_SECRET`). Neither the key nor a LINE user id is
//!   ever printed.
//!
//! The survey's definition comes from the content pack: the one in the bucket (as `kizuna
//! forecast` reads it), or `--content DIR`.

use crate::commands::ops::{block_on, parse_municipality, Ops};
use crate::suppression::{suppress, Relation, Shown};
use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use futures::TryStreamExt as _;
use kizuna_app::content::ContentCache;
use kizuna_app::paging::municipality_pages;
use kizuna_app::ports::MunicipalityDirectory;
use kizuna_aws::compose;
use kizuna_core::content::ContentLibrary;
use kizuna_core::survey::{QuestionKind, Survey, SurveyId};
use kizuna_core::survey_export::{to_csv, ExportRow, PseudonymKey, SurveyExport};
use kizuna_core::survey_results::{audience_includes, SurveyCounts, SurveyResults, SurveyTally};
use kizuna_core::{today_in_japan, MunicipalityId};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SurveyCommand {
    /// Answers per question, per town and for the network (small counts hidden).
    Results(ResultsArgs),
    /// The researchers' CSV: households that agreed to the joint research only,
    /// pseudonymised (no LINE user id, no date), small towns as `other`.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Html,
}

#[derive(Args, Debug)]
pub struct ResultsArgs {
    /// The survey's id (its file name in content/surveys/, without .toml).
    #[arg(value_parser = parse_survey_id)]
    pub id: SurveyId,
    /// Print this town's rows (and the network's) only.
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: Option<MunicipalityId>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Read the survey from this content directory instead of the deployed pack.
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(value_parser = parse_survey_id)]
    pub id: SurveyId,
    /// Write the CSV to FILE (created readable by its owner only) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Read the survey from this content directory instead of the deployed pack.
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,
}

fn parse_survey_id(s: &str) -> Result<SurveyId, String> {
    SurveyId::parse(s).map_err(|e| e.to_string())
}

pub fn run(command: SurveyCommand) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let today = today_in_japan(Utc::now());
        match command {
            SurveyCommand::Results(args) => {
                let survey = load_survey(&ops, args.content.as_deref(), &args.id).await?;
                let report = collect_results(&ops, &survey, today).await?;
                if let Some(m) = &args.municipality {
                    if !report.names.contains_key(m) {
                        anyhow::bail!("{m} is not registered");
                    }
                }
                let text = render(&report, args.municipality.as_ref(), args.format);
                write_out(args.out.as_deref(), text.as_bytes(), false)?;
            }
            SurveyCommand::Export(args) => {
                let survey = load_survey(&ops, args.content.as_deref(), &args.id).await?;
                let key = compose::pseudonym_key(&ops.config, &ops.clients)
                    .get()
                    .await?;
                let rows = export_rows(&ops, &survey, &key).await?;
                let csv = to_csv(&survey, &rows);
                write_out(args.out.as_deref(), csv.as_bytes(), true)?;
                let other = rows.iter().filter(|r| r.town.is_none()).count();
                eprintln!(
                    "{} rows (households that agreed to the joint research); {other} with town \
                     \"other\". Free-text answers are the parents' own words: keep the file \
                     under the research agreement.",
                    rows.len()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes to `path` (owner-only when `private`, on Unix) or stdout.
fn write_out(path: Option<&Path>, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let Some(path) = path else {
        std::io::stdout().lock().write_all(bytes)?;
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The survey `id` from the content pack: `dir`, or the one deployed in the bucket.
pub async fn load_survey(ops: &Ops, dir: Option<&Path>, id: &SurveyId) -> anyhow::Result<Survey> {
    let library = match dir {
        Some(dir) => std::sync::Arc::new(ContentLibrary::load_dir(dir).map_err(|diagnostics| {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            anyhow::anyhow!(
                "{} error(s) in {} (run `kizuna content check`)",
                diagnostics.len(),
                dir.display()
            )
        })?),
        None => ContentCache::new(compose::content(&ops.config, &ops.clients))
            .current()
            .await
            .context("reading the deployed content pack")?,
    };
    find_survey(&library, id)
}

fn find_survey(library: &ContentLibrary, id: &SurveyId) -> anyhow::Result<Survey> {
    library
        .surveys()
        .iter()
        .find(|s| &s.id == id)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = library.surveys().iter().map(|s| s.id.as_str()).collect();
            anyhow::anyhow!(
                "no survey {id} in the content pack (surveys: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
}

/// A survey's counts with the towns' display names.
#[derive(Debug, Clone)]
pub struct ResultsReport {
    pub survey: Survey,
    pub results: SurveyResults,
    /// Every registered town's display name (also those outside the audience).
    pub names: BTreeMap<MunicipalityId, String>,
}

/// Counts every registered town's households (paged) for `survey` as of `as_of`.
pub async fn collect_results(
    ops: &Ops,
    survey: &Survey,
    as_of: NaiveDate,
) -> anyhow::Result<ResultsReport> {
    let mut municipalities = compose::municipalities(&ops.config, &ops.clients)
        .list()
        .await?;
    municipalities.sort_by(|a, b| a.id.cmp(&b.id));
    let in_audience = municipalities
        .iter()
        .filter(|m| audience_includes(survey, &m.id))
        .map(|m| m.id.clone());
    let mut tally = SurveyTally::new(survey, as_of, in_audience);
    let households = compose::households(&ops.config, &ops.clients);
    for m in &municipalities {
        let mut pages = pin!(municipality_pages(households.as_ref(), &m.id, 1000));
        while let Some(page) = pages.try_next().await? {
            page.iter().for_each(|h| tally.add(h));
        }
    }
    Ok(ResultsReport {
        survey: survey.clone(),
        results: tally.finish(),
        names: municipalities
            .into_iter()
            .map(|m| (m.id, m.display_name))
            .collect(),
    })
}

/// The researchers' rows for `survey` over every registered town.
pub async fn export_rows(
    ops: &Ops,
    survey: &Survey,
    key: &PseudonymKey,
) -> anyhow::Result<Vec<ExportRow>> {
    let municipalities = compose::municipalities(&ops.config, &ops.clients)
        .list()
        .await?;
    let households = compose::households(&ops.config, &ops.clients);
    let mut export = SurveyExport::new(survey, key);
    for m in &municipalities {
        let mut pages = pin!(municipality_pages(households.as_ref(), &m.id, 1000));
        while let Some(page) = pages.try_next().await? {
            page.iter().for_each(|h| export.add(h));
        }
    }
    Ok(export.finish())
}

// --- suppression --------------------------------------------------------------------------

/// Suppresses a block of rows — one per town, the last the network's (each of its cells the
/// sum of the towns' in that column) — where within every row `total = sum(parts)` for each
/// of `row_sums`. One call per block, over every town, whatever is printed afterwards.
fn suppress_rows(rows: &[Vec<u64>], row_sums: &[(usize, Vec<usize>)]) -> Vec<Vec<Shown>> {
    let width = rows.first().map_or(0, Vec::len);
    let cell = |r: usize, c: usize| r * width + c;
    let values: Vec<u64> = rows.iter().flatten().copied().collect();
    let network = rows.len() - 1;
    let mut relations = Vec::new();
    for r in 0..rows.len() {
        for (total, parts) in row_sums {
            relations.push(Relation::Sum {
                total: cell(r, *total),
                parts: parts.iter().map(|&c| cell(r, c)).collect(),
            });
        }
    }
    for c in 0..width {
        relations.push(Relation::Sum {
            total: cell(network, c),
            parts: (0..network).map(|r| cell(r, c)).collect(),
        });
    }
    let shown = suppress(&values, &relations);
    shown.chunks(width.max(1)).map(<[Shown]>::to_vec).collect()
}

/// The respondents block's columns, in order.
const YES: usize = 0;
const NO: usize = 1;
const UNANSWERED: usize = 2;
const RESPONDENTS: usize = 3;
/// Eligible households that did not answer: not printed, but a reader can subtract it
/// (eligible − respondents), so it is suppressed like a printed count.
const NOT_ANSWERED: usize = 4;
const ELIGIBLE: usize = 5;

fn respondent_cells(c: &SurveyCounts) -> Vec<u64> {
    vec![
        c.consent_yes,
        c.consent_no,
        c.consent_unanswered,
        c.respondents,
        c.eligible - c.respondents,
        c.eligible,
    ]
}

/// One town's (or the network's) respondents as printed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShownResponse {
    pub respondents: Shown,
    pub consent_yes: Shown,
    pub consent_no: Shown,
    pub consent_unanswered: Shown,
    /// Households in the audience while the survey was open, respondents included (the
    /// rate's denominator; [`kizuna_core::survey_results`] says what it counts).
    pub eligible: Shown,
    /// Respondents ÷ eligible, shown only when both are.
    pub response_rate: Option<f64>,
}

/// A survey's results as printed: every figure suppressed over all towns at once.
#[derive(Debug, Clone)]
pub struct ShownResults {
    /// Town rows in id order, then the network's (id `None`).
    pub rows: Vec<Option<MunicipalityId>>,
    pub response: Vec<ShownResponse>,
    /// Per question: per row, the answer cells (choices / points / the one text count) and,
    /// for choice and scale questions, the total last.
    pub questions: Vec<Vec<Vec<Shown>>>,
}

impl ShownResults {
    pub fn new(results: &SurveyResults) -> Self {
        let counts: Vec<&SurveyCounts> = results.towns.values().chain([&results.network]).collect();
        let respondent_rows: Vec<Vec<u64>> = counts.iter().map(|c| respondent_cells(c)).collect();
        let shown = suppress_rows(
            &respondent_rows,
            &[
                (RESPONDENTS, vec![YES, NO, UNANSWERED]),
                (ELIGIBLE, vec![RESPONDENTS, NOT_ANSWERED]),
            ],
        );
        let response = shown
            .iter()
            .map(|s| ShownResponse {
                respondents: s[RESPONDENTS],
                consent_yes: s[YES],
                consent_no: s[NO],
                consent_unanswered: s[UNANSWERED],
                eligible: s[ELIGIBLE],
                response_rate: match (s[RESPONDENTS], s[ELIGIBLE]) {
                    (Shown::Value(a), Shown::Value(e)) if e > 0 => Some(a as f64 / e as f64),
                    _ => None,
                },
            })
            .collect();
        let questions = (0..results.network.questions.len())
            .map(|q| {
                let rows: Vec<Vec<u64>> = counts
                    .iter()
                    .map(|c| {
                        let mut cells = c.questions[q].cells();
                        if cells.len() > 1 {
                            cells.push(cells.iter().sum());
                        }
                        cells
                    })
                    .collect();
                let width = rows[0].len();
                let sums = if width > 1 {
                    vec![(width - 1, (0..width - 1).collect())]
                } else {
                    Vec::new()
                };
                suppress_rows(&rows, &sums)
            })
            .collect();
        Self {
            rows: results
                .towns
                .keys()
                .cloned()
                .map(Some)
                .chain([None])
                .collect(),
            response,
            questions,
        }
    }

    /// Indices of the rows to print: `only`'s and the network's, or all.
    fn printed(&self, only: Option<&MunicipalityId>) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| match (&self.rows[i], only) {
                (None, _) | (_, None) => true,
                (Some(town), Some(only)) => town == only,
            })
            .collect()
    }
}

/// What the item 7 comparison (`stats --network`) needs: each town's response to a survey,
/// suppressed as the results report prints it.
pub fn shown_responses(results: &SurveyResults) -> BTreeMap<Option<MunicipalityId>, ShownResponse> {
    let shown = ShownResults::new(results);
    shown.rows.into_iter().zip(shown.response).collect()
}

// --- rendering ----------------------------------------------------------------------------

const NETWORK_LABEL: &str = "ネットワーク全体";
const SUPPRESSION_NOTE: &str = "個人の特定を防ぐため、1〜4の値は「<5」と表示し、\
    その値が合計からの引き算などで分からないよう、ほかの値も「x」（秘匿）としています。";
const RATE_NOTE: &str = "回答率 = 回答世帯 ÷ 対象世帯。対象世帯は、実施期間中（集計日まで）に\
    一日でも対象の時期だった登録のある世帯と、回答した世帯です（いま登録が残っている世帯のみ。\
    削除した世帯は含みません）。案内が届かなかった世帯（一時停止中など）も含むため、\
    実際に案内した世帯での回答率より低めに出ます。";

/// (column key, Japanese label) of a question's answer cells, then its total if any.
fn answer_columns(kind: &QuestionKind) -> Vec<(String, String)> {
    match kind {
        QuestionKind::Choice { choices } => choices
            .iter()
            .enumerate()
            .map(|(i, c)| ((i + 1).to_string(), c.clone()))
            .chain([("total".to_owned(), "計".to_owned())])
            .collect(),
        QuestionKind::Scale { low, high } => (1..=5)
            .map(|p| {
                let label = match p {
                    1 => format!("1（{low}）"),
                    5 => format!("5（{high}）"),
                    _ => p.to_string(),
                };
                (p.to_string(), label)
            })
            .chain([("total".to_owned(), "計".to_owned())])
            .collect(),
        QuestionKind::Text { .. } => vec![("text".to_owned(), "記入あり".to_owned())],
    }
}

fn kind_label(kind: &QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Choice { .. } => "ひとつ選択",
        QuestionKind::Scale { .. } => "5段階",
        QuestionKind::Text { .. } => "自由記述・件数のみ表示",
    }
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map_or("—".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

fn row_name(report: &ResultsReport, row: &Option<MunicipalityId>) -> String {
    match row {
        None => NETWORK_LABEL.to_owned(),
        Some(id) => report
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string()),
    }
}

pub fn render(report: &ResultsReport, only: Option<&MunicipalityId>, format: Format) -> String {
    let shown = ShownResults::new(&report.results);
    match format {
        Format::Table => table(report, &shown, only),
        Format::Csv => csv(report, &shown, only),
        Format::Html => html(report, &shown, only),
    }
}

/// Display width in a terminal: East Asian wide characters take two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c >= '\u{1100}' { 2 } else { 1 }).sum()
}

fn pad_left(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn pad_right(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

/// An aligned text table: the first column left-aligned, the others right-aligned.
fn text_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| width(&r[c]))
                .chain([width(&header[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = pad_left(&row[0], widths[0]);
        for c in 1..row.len() {
            line.push_str("  ");
            line.push_str(&pad_right(&row[c], widths[c]));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn heading(report: &ResultsReport) -> String {
    let s = &report.survey;
    format!(
        "アンケート「{}」（{}） 実施期間 {}〜{} ／ 集計日 {}",
        s.title, s.id, s.opens_on, s.closes_on, report.results.as_of
    )
}

fn response_header() -> Vec<String> {
    [
        "自治体",
        "回答世帯",
        "研究利用に同意",
        "同意しない",
        "同意は未回答",
        "対象世帯",
        "回答率",
    ]
    .map(String::from)
    .to_vec()
}

fn response_row(name: String, r: &ShownResponse) -> Vec<String> {
    vec![
        name,
        r.respondents.to_string(),
        r.consent_yes.to_string(),
        r.consent_no.to_string(),
        r.consent_unanswered.to_string(),
        r.eligible.to_string(),
        rate_text(r.response_rate),
    ]
}

fn table(report: &ResultsReport, shown: &ShownResults, only: Option<&MunicipalityId>) -> String {
    let printed = shown.printed(only);
    let mut out = String::new();
    let _ = writeln!(out, "{}", heading(report));
    let _ = writeln!(out, "{SUPPRESSION_NOTE}");
    let _ = writeln!(out, "\n■ 回答状況");
    let rows: Vec<Vec<String>> = printed
        .iter()
        .map(|&i| response_row(row_name(report, &shown.rows[i]), &shown.response[i]))
        .collect();
    text_table(&mut out, &response_header(), &rows);
    let _ = writeln!(out, "{RATE_NOTE}");
    for (n, question) in report.survey.questions.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n■ 問{} {}（{}）",
            n + 1,
            question.text,
            kind_label(&question.kind)
        );
        let header: Vec<String> = std::iter::once("自治体".to_owned())
            .chain(answer_columns(&question.kind).into_iter().map(|(_, l)| l))
            .collect();
        let rows: Vec<Vec<String>> = printed
            .iter()
            .map(|&i| {
                std::iter::once(row_name(report, &shown.rows[i]))
                    .chain(shown.questions[n][i].iter().map(Shown::to_string))
                    .collect()
            })
            .collect();
        text_table(&mut out, &header, &rows);
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Long format, one figure per line (a spreadsheet pivots it):
/// `survey,as_of,municipality,municipality_name,question,question_text,answer,answer_label,value`.
/// The network's rows have municipality `network`.
fn csv(report: &ResultsReport, shown: &ShownResults, only: Option<&MunicipalityId>) -> String {
    let mut out = String::from(
        "survey,as_of,municipality,municipality_name,question,question_text,answer,answer_label,value\n",
    );
    let survey = &report.survey;
    let as_of = report.results.as_of;
    for &i in &shown.printed(only) {
        let town = shown.rows[i]
            .as_ref()
            .map_or("network".to_owned(), |t| t.to_string());
        let name = csv_field(&row_name(report, &shown.rows[i]));
        let mut line = |question: &str, text: &str, answer: &str, label: &str, value: String| {
            let _ = writeln!(
                out,
                "{},{as_of},{town},{name},{question},{},{answer},{},{value}",
                survey.id,
                csv_field(text),
                csv_field(label)
            );
        };
        let r = &shown.response[i];
        for (answer, label, value) in [
            ("respondents", "回答世帯", r.respondents),
            ("consent_yes", "研究利用に同意", r.consent_yes),
            ("consent_no", "同意しない", r.consent_no),
            ("consent_unanswered", "同意は未回答", r.consent_unanswered),
            ("eligible", "対象世帯", r.eligible),
        ] {
            line("response", "回答状況", answer, label, value.to_string());
        }
        line(
            "response",
            "回答状況",
            "response_rate",
            "回答率",
            r.response_rate
                .map_or(String::new(), |rate| format!("{rate:.3}")),
        );
        for (n, question) in survey.questions.iter().enumerate() {
            for ((key, label), value) in answer_columns(&question.kind)
                .iter()
                .zip(&shown.questions[n][i])
            {
                line(
                    question.id.as_str(),
                    &question.text,
                    key,
                    label,
                    value.to_string(),
                );
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar for a visible count, scaled to the largest visible count of its chart; a hidden
/// count gets none (its length would give it away).
fn bar(value: Shown, max: u64) -> String {
    let w = value.value().map_or(0, |v| v * 200 / max.max(1));
    format!(
        r##"<svg width="210" height="14" role="img" aria-label="{}"><rect width="{w}" height="14" fill="#e8a0a0"/></svg>"##,
        escape(&value.to_string())
    )
}

/// A self-contained page (no scripts, no external files) a clerk can forward by e-mail.
fn html(report: &ResultsReport, shown: &ShownResults, only: Option<&MunicipalityId>) -> String {
    let printed = shown.printed(only);
    let survey = &report.survey;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>アンケート結果 {title}</title>
<style>
body{{font-family:"Hiragino Sans","Noto Sans JP",sans-serif;margin:2em;color:#333}}
h1{{font-size:1.4em}} h2{{font-size:1.15em;border-bottom:2px solid #e8a0a0;padding-bottom:.2em;margin-top:1.6em}}
table{{border-collapse:collapse;margin-bottom:1em}} td,th{{padding:.25em .6em;text-align:left;border-bottom:1px solid #eee}}
td.n{{text-align:right;font-variant-numeric:tabular-nums}}
.note{{color:#777;font-size:.85em}}
</style></head><body>
<h1>アンケート結果：{title}</h1>
<p>実施期間 {opens}〜{closes} ／ 集計日 {as_of}</p>
<p class="note">{note}</p>
<h2>回答状況</h2>
<table><tr>"#,
        title = escape(&survey.title),
        opens = survey.opens_on,
        closes = survey.closes_on,
        as_of = report.results.as_of,
        note = escape(SUPPRESSION_NOTE),
    );
    for h in response_header() {
        let _ = write!(out, "<th>{}</th>", escape(&h));
    }
    let _ = writeln!(out, "</tr>");
    for &i in &printed {
        let row = response_row(row_name(report, &shown.rows[i]), &shown.response[i]);
        let _ = write!(out, "<tr><th>{}</th>", escape(&row[0]));
        for cell in &row[1..] {
            let _ = write!(out, r#"<td class="n">{}</td>"#, escape(cell));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, r#"</table><p class="note">{}</p>"#, escape(RATE_NOTE));
    for (n, question) in survey.questions.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h2>問{} {}</h2><p class=\"note\">{}</p>",
            n + 1,
            escape(&question.text),
            escape(kind_label(&question.kind))
        );
        let columns = answer_columns(&question.kind);
        // Answers down the side, a column per printed row; bars for the network's and the
        // chosen town's counts (every town's would make a page of many towns too wide), none
        // for the total.
        let answers = match question.kind {
            QuestionKind::Text { .. } => 1,
            _ => columns.len() - 1,
        };
        let with_bars = |i: usize| shown.rows[i].is_none() || only.is_some();
        let _ = write!(out, "<table><tr><th></th>");
        for &i in &printed {
            let _ = write!(
                out,
                r#"<th colspan="{}">{}</th>"#,
                if with_bars(i) { 2 } else { 1 },
                escape(&row_name(report, &shown.rows[i]))
            );
        }
        let _ = writeln!(out, "</tr>");
        let max: Vec<u64> = printed
            .iter()
            .map(|&i| {
                shown.questions[n][i][..answers]
                    .iter()
                    .filter_map(|s| s.value())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (c, (_, label)) in columns.iter().enumerate() {
            let _ = write!(out, "<tr><th>{}</th>", escape(label));
            for (k, &i) in printed.iter().enumerate() {
                let value = shown.questions[n][i][c];
                let _ = write!(out, r#"<td class="n">{}</td>"#, escape(&value.to_string()));
                if with_bars(i) {
                    let chart = if c < answers {
                        bar(value, max[k])
                    } else {
                        String::new()
                    };
                    let _ = write!(out, "<td>{chart}</td>");
                }
            }
            let _ = writeln!(out, "</tr>");
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(out, "</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::survey::{Answer, RecordedAnswer, SurveyResponse};
    use kizuna_core::survey_results::tally;
    use kizuna_core::{Household, LineUserId, Registration, RegistrationStatus, Subject};

    use kizuna_core::testing::date as d;

    fn town(s: &str) -> MunicipalityId {
        MunicipalityId::parse(s).unwrap()
    }

    fn survey() -> Survey {
        kizuna_core::testing::may_2027_survey("usefulness-2027")
    }

    /// `n` households of `t` answering `talk` = `choice` (None: eligible, not answering).
    fn households(t: &str, from: u32, n: u32, choice: Option<u8>) -> Vec<Household> {
        (from..from + n)
            .map(|k| {
                let mut h =
                    Household::new(town(t), LineUserId::parse(&format!("U{k:032x}")).unwrap());
                h.registrations = vec![Registration {
                    id: 1,
                    subject: Subject::Child {
                        birth_date: d(2027, 4, 1),
                        due_date: None,
                    },
                    baby_count: 1,
                    status: RegistrationStatus::Active,
                    registered_on: d(2027, 4, 2),
                }];
                if let Some(choice) = choice {
                    let mut response = SurveyResponse {
                        research_consent: Some(true),
                        ..SurveyResponse::default()
                    };
                    response.answers.insert(
                        SurveyId::parse("talk").unwrap(),
                        RecordedAnswer {
                            answer: Answer::Choice(choice),
                            answered_on: d(2027, 5, 2),
                        },
                    );
                    h.surveys
                        .insert(SurveyId::parse("usefulness-2027").unwrap(), response);
                }
                h
            })
            .collect()
    }

    /// a-town: 12 いる, 3 いない, 5 eligible not answering; b-town: 20 いる, 9 いない, 10 not
    /// answering; c-town: 2 いる.
    fn report() -> ResultsReport {
        let s = survey();
        let mut all = households("a-town", 0, 12, Some(0));
        all.extend(households("a-town", 100, 3, Some(1)));
        all.extend(households("a-town", 200, 5, None));
        all.extend(households("b-town", 300, 20, Some(0)));
        all.extend(households("b-town", 400, 9, Some(1)));
        all.extend(households("b-town", 500, 10, None));
        all.extend(households("c-town", 600, 2, Some(0)));
        let results = tally(&s, d(2027, 6, 1), [], &all);
        ResultsReport {
            survey: s,
            results,
            names: [("a-town", "あ町"), ("b-town", "べ村"), ("c-town", "し町")]
                .map(|(id, name)| (town(id), name.to_owned()))
                .into(),
        }
    }

    /// No row (a town's answers and their total) and no column (the towns' counts and the
    /// network's) with exactly one hidden cell, and every printed number true.
    fn assert_nothing_subtracts(shown: &[Vec<Shown>], actual: &[Vec<u64>]) {
        for (s, a) in shown.iter().zip(actual) {
            assert_ne!(s.iter().filter(|c| c.is_hidden()).count(), 1, "{shown:?}");
            for (s, a) in s.iter().zip(a) {
                assert!(s.value().is_none_or(|v| v == *a), "{shown:?}");
                assert!(!(1..=4).contains(a) || s.is_hidden(), "{shown:?}");
            }
        }
        for c in 0..shown[0].len() {
            let hidden = shown.iter().filter(|r| r[c].is_hidden()).count();
            assert_ne!(hidden, 1, "column {c}: {shown:?}");
        }
    }

    #[test]
    fn small_counts_are_hidden_and_cannot_be_subtracted_from_the_network() {
        let report = report();
        let shown = ShownResults::new(&report.results);
        let talk = &shown.questions[0];
        // Rows: a, b, c, network; columns: いる, いない, 計.
        assert_eq!(talk[0][1], Shown::Small, "a-town's 3");
        assert_eq!(talk[2][0], Shown::Small, "c-town's 2");
        // a-town's 3 is not 15 − 12, c-town's 2 not the network's いる minus the others.
        assert_nothing_subtracts(
            talk,
            &[
                vec![12, 3, 15],
                vec![20, 9, 29],
                vec![2, 0, 2],
                vec![34, 12, 46],
            ],
        );
        // The free-text question had no answers: zeros, shown.
        assert!(shown.questions[1].iter().all(|r| r == &[Shown::Value(0)]));
        // Respondents: c-town's 2 hidden; a rate only where respondents and eligible show.
        assert_eq!(shown.response[2].respondents, Shown::Small);
        for r in &shown.response {
            let both = r.respondents.value().is_some() && r.eligible.value().is_some();
            assert_eq!(r.response_rate.is_some(), both, "{r:?}");
        }
    }

    #[test]
    fn without_a_small_town_the_rates_show_and_a_towns_small_count_takes_one_complement() {
        let mut report = report();
        let c = town("c-town");
        let c_counts = report.results.towns.remove(&c).unwrap();
        // The network without c-town: its 2 いる respondents (eligible) taken out.
        let n = &mut report.results.network;
        n.respondents -= c_counts.respondents;
        n.consent_yes -= c_counts.consent_yes;
        n.eligible -= c_counts.eligible;
        n.questions[0] = kizuna_core::survey_results::QuestionCounts::Choice(vec![32, 12]);
        let shown = ShownResults::new(&report.results);
        let talk = &shown.questions[0];
        assert_nothing_subtracts(talk, &[vec![12, 3, 15], vec![20, 9, 29], vec![32, 12, 44]]);
        assert_eq!(talk[0][1], Shown::Small);
        // With two towns the network's column gives a-town's away unless b-town's is hidden
        // too; the network's figures and the towns' totals stay.
        assert!(talk[1][0].is_hidden() && talk[1][1].is_hidden(), "{talk:?}");
        assert_eq!(
            talk[2],
            [Shown::Value(32), Shown::Value(12), Shown::Value(44)]
        );
        assert_eq!(
            (talk[0][2], talk[1][2]),
            (Shown::Value(15), Shown::Value(29))
        );
        let b = &shown.response[1];
        assert_eq!(
            (b.respondents, b.eligible),
            (Shown::Value(29), Shown::Value(39))
        );
        assert_eq!(b.response_rate, Some(29.0 / 39.0));
        assert_eq!(
            shown.response[2].response_rate,
            Some(44.0 / 59.0),
            "the network's"
        );
        let table = render(&report, None, Format::Table);
        assert!(table.contains("74%"), "{table}");
    }

    #[test]
    fn one_towns_report_prints_its_rows_and_the_networks_as_the_whole_report_does() {
        let report = report();
        let whole = render(&report, None, Format::Csv);
        let only = render(&report, Some(&town("a-town")), Format::Csv);
        for line in only.lines() {
            assert!(whole.contains(line), "{line}");
        }
        assert!(
            !only.contains("b-town") && only.contains(",network,"),
            "{only}"
        );
        assert!(
            only.contains(",a-town,あ町,talk,相談できる人はいますか,2,いない,<5\n"),
            "{only}"
        );
        let table = render(&report, Some(&town("a-town")), Format::Table);
        assert!(
            table.contains("あ町") && table.contains(NETWORK_LABEL),
            "{table}"
        );
        assert!(!table.contains("べ村"), "{table}");
        assert!(
            table.contains("■ 問1 相談できる人はいますか（ひとつ選択）"),
            "{table}"
        );
    }

    #[test]
    fn html_is_self_contained_escaped_and_draws_no_bar_for_a_hidden_count() {
        let mut report = report();
        report.survey.title = "<b>アンケート</b>".into();
        let page = render(&report, None, Format::Html);
        assert!(page.contains("&lt;b&gt;アンケート&lt;/b&gt;"));
        assert!(
            !page.contains("<script") && !page.contains("http"),
            "no external assets"
        );
        // The whole network's page: bars for the network only (34 of 46 いる: the longest).
        assert_eq!(
            page.matches("<svg").count(),
            2 + 1,
            "いる, いない, 記入あり"
        );
        assert!(
            page.contains(r#"aria-label="34"><rect width="200""#),
            "{page}"
        );
        // One town's page: its bars too, none for its hidden count.
        let page = render(&report, Some(&town("a-town")), Format::Html);
        assert!(
            page.contains(r#"aria-label="&lt;5"><rect width="0""#),
            "{page}"
        );
        assert_eq!(page.matches("<svg").count(), 2 * 3);
        for n in 0..700u32 {
            assert!(!page.contains(&format!("U{n:032x}")));
        }
    }
}
