//! How `kizuna stats` prints the registration funnel and the network comparison (the figures
//! are [`crate::funnel`]'s). HTML charts are inline SVG: no script, no external file, so the
//! page can be forwarded by e-mail and printed as it is.

use crate::commands::ops::Month;
use crate::commands::stats::{escape, Format, MunicipalityStats};
use crate::funnel::{
    compare, shown, Cell, Comparison, FunnelMonth, TownFigures, FUNNEL_ROWS,
    MIN_DENOMINATOR_FOR_MEDIAN, MIN_TOWNS_FOR_MEDIAN,
};
use std::fmt::Write as _;

/// The funnel's cells, one column per month.
fn columns(s: &MunicipalityStats) -> Vec<(&FunnelMonth, Vec<Cell>)> {
    s.funnel
        .iter()
        .map(|m| (m, shown(m, s.births_per_year)))
        .collect()
}

fn births(s: &MunicipalityStats) -> String {
    s.births_per_year.map_or(
        "not set (municipality add --births-per-year)".to_owned(),
        |b| b.to_string(),
    )
}

pub fn table(out: &mut String, s: &MunicipalityStats) {
    if s.funnel.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  funnel (states at month end, the current month as of today; births per year: {})",
        births(s)
    );
    let _ = write!(out, "  {:<22}", "month");
    for m in &s.funnel {
        let _ = write!(out, " {:>8}", m.month.to_string());
    }
    let _ = writeln!(out);
    let columns = columns(s);
    for (row, (key, _)) in FUNNEL_ROWS.iter().enumerate() {
        let _ = write!(out, "  {key:<22}");
        for (_, cells) in &columns {
            let _ = write!(out, " {:>8}", cells[row]);
        }
        let _ = writeln!(out);
    }
}

pub fn csv(out: &mut String, s: &MunicipalityStats) {
    for (m, cells) in columns(s) {
        for ((key, _), cell) in FUNNEL_ROWS.iter().zip(cells) {
            let _ = writeln!(out, "{},{},{},funnel:{key},{cell}", s.id, m.as_of, m.month);
        }
    }
}

const CHART_WIDTH: u32 = 480;
const CHART_HEIGHT: u32 = 120;

/// Bars of one row over the months: hidden values get no bar (its length would reveal the
/// count) but their "<5" / "x" label; scaled to the largest *visible* value.
fn bar_chart(out: &mut String, title: &str, labels: &[String], cells: &[Cell]) {
    let max = cells
        .iter()
        .filter_map(|c| c.number())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let slot = CHART_WIDTH / labels.len().max(1) as u32;
    let _ = writeln!(
        out,
        r##"<figure><figcaption>{title}</figcaption><svg width="{CHART_WIDTH}" height="{}" role="img" aria-label="{title}">"##,
        CHART_HEIGHT + 36
    );
    for (i, (label, cell)) in labels.iter().zip(cells).enumerate() {
        let x = i as u32 * slot;
        let height = cell
            .number()
            .map_or(0, |v| (v / max * f64::from(CHART_HEIGHT)).round() as u32);
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{height}" fill="#e8a0a0"/><text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text><text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
            x + 6,
            14 + CHART_HEIGHT - height,
            slot.saturating_sub(12),
            x + slot / 2,
            12 + CHART_HEIGHT - height,
            escape(&cell.to_string()),
            x + slot / 2,
            CHART_HEIGHT + 30,
            escape(label)
        );
    }
    let _ = writeln!(out, "</svg></figure>");
}

/// A line over the months; hidden or unknown points break it.
fn line_chart(out: &mut String, title: &str, labels: &[String], cells: &[Cell]) {
    let max = cells
        .iter()
        .filter_map(|c| c.number())
        .fold(100.0_f64, f64::max);
    let slot = CHART_WIDTH / labels.len().max(1) as u32;
    let _ = writeln!(
        out,
        r##"<figure><figcaption>{title}</figcaption><svg width="{CHART_WIDTH}" height="{}" role="img" aria-label="{title}">"##,
        CHART_HEIGHT + 36
    );
    let point = |i: usize, v: f64| {
        (
            i as u32 * slot + slot / 2,
            14 + CHART_HEIGHT - (v / max * f64::from(CHART_HEIGHT)).round() as u32,
        )
    };
    let mut segment: Vec<(u32, u32)> = Vec::new();
    let mut segments = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        match cell.number() {
            Some(v) => segment.push(point(i, v)),
            None => segments.push(std::mem::take(&mut segment)),
        }
    }
    segments.push(segment);
    for segment in segments.iter().filter(|s| s.len() > 1) {
        let points: Vec<String> = segment.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = writeln!(
            out,
            r##"<polyline points="{}" fill="none" stroke="#c05050" stroke-width="2"/>"##,
            points.join(" ")
        );
    }
    for (i, (label, cell)) in labels.iter().zip(cells).enumerate() {
        let x = i as u32 * slot + slot / 2;
        if let Some(v) = cell.number() {
            let (_, y) = point(i, v);
            let _ = writeln!(out, r##"<circle cx="{x}" cy="{y}" r="3" fill="#c05050"/>"##);
        }
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="{}" font-size="11" text-anchor="middle">{}</text><text x="{x}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
            CHART_HEIGHT + 16,
            escape(&cell.to_string()),
            CHART_HEIGHT + 30,
            escape(label)
        );
    }
    let _ = writeln!(out, "</svg></figure>");
}

pub fn html(out: &mut String, s: &MunicipalityStats) {
    if s.funnel.is_empty() {
        return;
    }
    let columns = columns(s);
    let _ = writeln!(out, "<h3>登録の流れ（月別）</h3>");
    let _ = writeln!(
        out,
        r#"<p class="note">月末時点（今月は本日時点）の状態です。年間出生数: {}。削除された世帯は過去の月からも除かれ、過去のブロック・一時停止の履歴は残らないため、過去の月の値は目安です。</p>"#,
        s.births_per_year
            .map_or("未設定".to_owned(), |b| format!("{b}人"))
    );
    let _ = write!(out, "<table><tr><th></th>");
    for m in &s.funnel {
        let _ = write!(out, r#"<th class="n">{}</th>"#, m.month);
    }
    let _ = writeln!(out, "</tr>");
    for (row, (_, label)) in FUNNEL_ROWS.iter().enumerate() {
        let _ = write!(out, "<tr><th>{label}</th>");
        for (_, cells) in &columns {
            let _ = write!(
                out,
                r#"<td class="n">{}</td>"#,
                escape(&cells[row].to_string())
            );
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
    let labels: Vec<String> = s.funnel.iter().map(|m| m.month.to_string()).collect();
    let row = |key: &str| {
        let i = FUNNEL_ROWS
            .iter()
            .position(|r| r.0 == key)
            .expect("a funnel row");
        columns
            .iter()
            .map(|(_, cells)| cells[i])
            .collect::<Vec<_>>()
    };
    bar_chart(out, "登録開始（件）", &labels, &row("started"));
    if s.births_per_year.is_some() {
        line_chart(out, "妊娠登録率（%）", &labels, &row("coverage_percent"));
    }
}

// ---------------------------------------------------------------- --network

fn figures(s: &MunicipalityStats) -> Option<TownFigures> {
    Some(TownFigures {
        births_per_year: s.births_per_year,
        month: *s.funnel.last()?,
        survey: s.survey_responses,
    })
}

fn percent(p: Option<f64>) -> String {
    p.map_or("-".to_owned(), |p| format!("{p:.1}"))
}

/// One metric of a town: key, label, the town's figure beside the network's.
type MetricRow = (&'static str, &'static str, Comparison);

/// Each shown town's metrics beside the network's medians (computed over `stats`, every town).
pub fn render_network(
    stats: &[MunicipalityStats],
    only: Option<&str>,
    month: Month,
    format: Format,
) -> String {
    let all: Vec<TownFigures> = stats.iter().filter_map(figures).collect();
    let shown: Vec<(&MunicipalityStats, Vec<MetricRow>)> = stats
        .iter()
        .filter(|s| only.is_none_or(|id| s.id == id))
        .filter_map(|s| {
            let own = figures(s)?;
            let rows = compare(&own, &all)
                .into_iter()
                .map(|(metric, c)| (metric.key, metric.label_ja, c))
                .collect();
            Some((s, rows))
        })
        .collect();
    let rule = format!(
        "medians over the towns whose denominator is at least {MIN_DENOMINATOR_FOR_MEDIAN} \
         (registered households; expected pregnancies in the window; households in a survey's \
         audience), shown when at least \
         {MIN_TOWNS_FOR_MEDIAN} towns have one; a town's own rate is not shown when its count \
         is 1–4 or withheld in its funnel"
    );
    let mut out = String::new();
    match format {
        Format::Table => {
            let _ = writeln!(out, "network comparison, {month}; {rule}");
            for (s, rows) in &shown {
                let _ = writeln!(out, "\n{} ({})", s.id, s.display_name);
                let _ = writeln!(
                    out,
                    "  {:<22} {:>10} {:>10} {:>6}",
                    "metric", "this town", "median", "towns"
                );
                for (key, _, c) in rows {
                    let _ = writeln!(
                        out,
                        "  {key:<22} {:>10} {:>10} {:>6}",
                        percent(c.own),
                        percent(c.median),
                        c.towns
                    );
                }
            }
        }
        Format::Csv => {
            out.push_str("municipality,month,metric,own,network_median,towns_in_median\n");
            for (s, rows) in &shown {
                for (key, _, c) in rows {
                    let _ = writeln!(
                        out,
                        "{},{month},{key},{},{},{}",
                        s.id,
                        percent(c.own),
                        percent(c.median),
                        c.towns
                    );
                }
            }
        }
        Format::Html => {
            let _ = writeln!(
                out,
                r#"<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>きずなメール 自治体間の比較 {month}</title>
<style>
body{{font-family:"Hiragino Sans","Noto Sans JP",sans-serif;margin:2em;color:#333}}
h1{{font-size:1.4em}} h2{{font-size:1.15em;border-bottom:2px solid #e8a0a0;padding-bottom:.2em}}
table{{border-collapse:collapse;margin-bottom:1.5em}} td,th{{padding:.25em .6em;text-align:left}}
td.n{{text-align:right;font-variant-numeric:tabular-nums}}
.note{{color:#777;font-size:.85em}}
</style></head><body>
<h1>きずなメール 自治体間の比較（{month}）</h1>
<p class="note">ネットワーク全体の中央値は、分母（登録世帯数・想定妊娠数）が{MIN_DENOMINATOR_FOR_MEDIAN}以上の自治体だけで計算し、{MIN_TOWNS_FOR_MEDIAN}自治体以上あるときに表示します。他の自治体の値は表示しません。自分の町の値も、もとの件数が1〜4のとき、または月別の表で「x」のときは表示しません。</p>"#
            );
            for (s, rows) in &shown {
                let _ = writeln!(out, "<h2>{}</h2>", escape(&s.display_name));
                let _ = writeln!(
                    out,
                    "<table><tr><th></th><th>この町（%）</th><th>全体の中央値（%）</th><th>対象自治体数</th><th></th></tr>"
                );
                for (_, label, c) in rows {
                    // Two bars on one 0–100 % scale: the town's, and the median's.
                    let bar = |p: Option<f64>| p.map_or(0, |p| (p.clamp(0.0, 100.0) * 2.0) as u32);
                    let _ = writeln!(
                        out,
                        r##"<tr><th>{label}</th><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td><svg width="210" height="26" role="img"><rect y="1" width="{}" height="11" fill="#e8a0a0"/><rect y="14" width="{}" height="11" fill="#999"/></svg></td></tr>"##,
                        percent(c.own),
                        percent(c.median),
                        c.towns,
                        bar(c.own),
                        bar(c.median)
                    );
                }
                let _ = writeln!(out, "</table>");
            }
            let _ = writeln!(out, "</body></html>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_app::model::FollowCounts;

    use kizuna_core::testing::date as d;

    fn town(
        id: &str,
        births: Option<u32>,
        active: u64,
        stopped: u64,
        preg: u64,
    ) -> MunicipalityStats {
        let month = Month::parse("2027-01").unwrap();
        let mut m = FunnelMonth::new(month, d(2027, 1, 31), FollowCounts::default());
        m.active = active;
        m.stopped = stopped;
        m.pregnancies_in_window = preg;
        m.started_pregnancy = 7;
        m.started_child = 2;
        MunicipalityStats {
            id: id.into(),
            display_name: format!("{id}町"),
            births_per_year: births,
            funnel: vec![m],
            ..Default::default()
        }
    }

    #[test]
    fn the_network_view_shows_one_town_beside_the_medians_and_no_other_town() {
        let stats = [
            town("a-town", Some(100), 40, 10, 36), // 80 %, coverage 49.4 %
            town("b-town", Some(50), 15, 15, 9),   // 50 %, coverage 24.7 %
            town("c-town", Some(30), 9, 1, 12),    // 90 %, coverage 54.9 %
        ];
        let month = Month::parse("2027-01").unwrap();
        let csv = render_network(&stats, Some("a-town"), month, Format::Csv);
        assert!(
            csv.contains("a-town,2027-01,active_rate_percent,80.0,80.0,3\n"),
            "{csv}"
        );
        assert!(
            csv.contains("a-town,2027-01,coverage_percent,49.4,49.4,3\n"),
            "{csv}"
        );
        assert!(!csv.contains("b-town") && !csv.contains("c-town"), "{csv}");
        assert!(!csv.contains("50.0") && !csv.contains("24.7"), "{csv}");
        let page = render_network(&stats, Some("b-town"), month, Format::Html);
        assert!(
            page.contains("b-town町") && !page.contains("a-town"),
            "{page}"
        );
        assert!(!page.contains("<script"));
        let table = render_network(&stats, None, month, Format::Table);
        assert_eq!(table.matches("active_rate_percent").count(), 3, "{table}");
    }

    #[test]
    fn the_funnel_page_charts_visible_values_only() {
        let mut s = town("a-town", Some(100), 40, 10, 36);
        let mut second = s.funnel[0];
        second.month = Month::parse("2027-02").unwrap();
        second.started_pregnancy = 2;
        second.started_child = 1;
        s.funnel.push(second);
        let mut page = String::new();
        html(&mut page, &s);
        assert!(page.contains("<svg") && !page.contains("<script"), "{page}");
        assert!(page.contains("登録開始"), "{page}");
        // January: 9 started, a bar; February: 3, "<5" without a bar.
        assert!(page.contains(">9</text>"), "{page}");
        assert!(page.contains(">&lt;5</text>"), "{page}");
        assert!(!page.contains(">3</text>"), "{page}");
        assert!(page.contains("妊娠登録率"), "{page}");
        let mut csv_out = String::new();
        csv(&mut csv_out, &s);
        assert!(
            csv_out.contains("a-town,2027-01-31,2027-02,funnel:started,<5\n"),
            "{csv_out}"
        );
        assert!(
            csv_out.contains("a-town,2027-01-31,2027-01,funnel:coverage_percent,49.4\n"),
            "{csv_out}"
        );
    }
}
