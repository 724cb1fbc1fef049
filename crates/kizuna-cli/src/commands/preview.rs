//! `kizuna preview`: what one parent receives each day, from the real planning code.

use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use clap::{ArgGroup, Args};
use kizuna_core::content::{ContentLibrary, MunicipalityContent};
use kizuna_core::plan::{plan_household, registration_label, DailyPlan, PlannedKind};
use kizuna_core::programme::{programme_day, Programme};
use kizuna_core::{
    today_in_japan, Household, Language, LineUserId, Message, MunicipalityId, Registration,
    RegistrationStatus, Subject,
};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(group(ArgGroup::new("subject").required(true).args(["due", "born"])))]
pub struct PreviewArgs {
    /// Due date of a pregnancy (YYYY-MM-DD).
    #[arg(long)]
    due: Option<NaiveDate>,
    /// Birth date of a child (YYYY-MM-DD).
    #[arg(long)]
    born: Option<NaiveDate>,
    /// Municipality id (its overlay adds notes, birthday messages and the signature).
    #[arg(long, default_value = "kizuna-town")]
    municipality: String,
    /// Twins (same as --babies 2).
    #[arg(long, conflicts_with = "babies")]
    twins: bool,
    /// Number of babies in this pregnancy/birth.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    babies: Option<u8>,
    /// First day to show (default: today in Japan; for --html the programme's first day).
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Number of days to show (default: to the end of the programme).
    #[arg(long)]
    days: Option<u32>,
    /// The household's language: ja (default), ja-easy or en. Days without a text in that
    /// language show the Japanese text they fall back to, marked `← ja`.
    #[arg(long, value_parser = parse_language, default_value = "ja")]
    lang: Language,
    /// Content directory.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// One JSON object per line per day: date, stage, content keys and the LINE message objects.
    #[arg(long, conflicts_with = "html")]
    json: bool,
    /// Write a self-contained HTML calendar of the programme to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

fn parse_language(code: &str) -> Result<Language, String> {
    Language::from_code(code).ok_or_else(|| {
        let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
        format!("unknown language {code:?} (known: {})", codes.join(", "))
    })
}

/// One previewed day.
struct Day {
    date: NaiveDate,
    stage: Option<String>,
    plan: DailyPlan,
    /// Content keys sent in Japanese although the household reads another language.
    fallback: Vec<String>,
}

/// Whether `key` is a text a language pack could hold (town notes stay in Japanese).
fn translatable(key: &str) -> bool {
    key == "closing"
        || [
            "maternity/",
            "child/",
            "birthday/",
            "municipality/birthday/",
        ]
        .iter()
        .any(|p| key.starts_with(p))
}

pub fn run(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let library = match ContentLibrary::load_dir(&args.content) {
        Ok(library) => library,
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            anyhow::bail!(
                "{} error(s) in {} (run `kizuna content check`)",
                diagnostics.len(),
                args.content.display()
            );
        }
    };
    let municipality = MunicipalityId::parse(&args.municipality)
        .with_context(|| format!("--municipality {:?}", args.municipality))?;
    if !library.has_municipality(&municipality) {
        eprintln!(
            "note: no overlay for {municipality} in {}: base texts only, no notes or signature",
            args.content.display()
        );
    }
    let content = library.for_municipality(&municipality);

    let subject = match (args.due, args.born) {
        (Some(due_date), _) => Subject::new(Programme::Maternity, due_date),
        (None, Some(birth_date)) => Subject::new(Programme::Child, birth_date),
        (None, None) => unreachable!("clap requires --due or --born"),
    };
    let (first, last) = subject
        .programme()
        .spec()
        .message_dates(subject.given_date());
    let from = args.from.unwrap_or_else(|| {
        if args.html.is_some() {
            first
        } else {
            today_in_japan(Utc::now()).max(first)
        }
    });
    let until = match args.days {
        Some(0) => anyhow::bail!("--days must be at least 1"),
        Some(n) => from + Days::new(u64::from(n) - 1),
        None => last,
    };
    if until < from {
        eprintln!("nothing to show: the programme ended on {last}");
        return Ok(ExitCode::SUCCESS);
    }

    let baby_count = if args.twins {
        2
    } else {
        args.babies.unwrap_or(1)
    };
    let mut household = preview_household(municipality.clone(), subject, baby_count, from);
    household.language = args.lang;
    if args.lang != Language::Japanese && library.coverage(args.lang).is_none() {
        eprintln!(
            "note: no lang/{}/ pack in {}: every day falls back to Japanese",
            args.lang.code(),
            args.content.display()
        );
    }
    let in_language = content.in_language(args.lang);
    let days: Vec<Day> = from
        .iter_days()
        .take_while(|d| *d <= until)
        .map(|date| {
            let plan = plan_household(&household, date, &content);
            let fallback = if args.lang == Language::Japanese {
                Vec::new()
            } else {
                plan.items
                    .iter()
                    .map(|i| i.content_key())
                    .filter(|k| translatable(k) && !in_language.is_translated(k))
                    .collect()
            };
            Day {
                date,
                stage: stage_label(&household.registrations[0], date),
                plan,
                fallback,
            }
        })
        .collect();
    for day in &days {
        for m in &day.plan.missing {
            eprintln!("warning: {}: no text for {}", day.date, m.content_key());
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(path) = &args.html {
        let page = html_page(&days, &content, &library, &args, baby_count);
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
        let sent = days.iter().filter(|d| !d.plan.is_empty()).count();
        writeln!(
            out,
            "wrote {} ({} days, {sent} with messages)",
            path.display(),
            days.len()
        )?;
    } else if args.json {
        for day in &days {
            let line = json!({
                "date": day.date.to_string(),
                "stage": day.stage,
                "language": args.lang.code(),
                "items": day.plan.items.iter().map(|i| json!({
                    "registration": i.registration,
                    "content_key": i.content_key(),
                    "fallback_to_japanese": day.fallback.contains(&i.content_key()),
                    "item": i.kind,
                })).collect::<Vec<_>>(),
                // Exactly what LINE would receive (an empty day has no request: `[]`).
                "messages": line_messages(&day.plan.messages)?,
            });
            writeln!(out, "{line}")?;
        }
    } else {
        for day in days.iter().filter(|d| !d.plan.is_empty()) {
            write_text_day(&mut out, day)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A stand-in household with one registration; the LINE user id is a dummy (never sent).
fn preview_household(
    municipality: MunicipalityId,
    subject: Subject,
    baby_count: u8,
    registered_on: NaiveDate,
) -> Household {
    let user = LineUserId::parse("U00000000000000000000000000000000").expect("valid dummy id");
    let mut household = Household::new(municipality, user);
    household.registrations.push(Registration {
        id: 1,
        subject,
        baby_count,
        status: RegistrationStatus::Active,
        registered_on,
    });
    household
}

fn stage_label(reg: &Registration, date: NaiveDate) -> Option<String> {
    programme_day(&reg.subject, date)?;
    let label = registration_label(reg, date);
    Some(
        label
            .trim_start_matches('【')
            .trim_end_matches('】')
            .to_owned(),
    )
}

fn weekday_ja(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    }
}

fn write_text_day(out: &mut impl std::io::Write, day: &Day) -> std::io::Result<()> {
    let keys: Vec<String> = day
        .plan
        .items
        .iter()
        .map(|i| {
            let key = i.content_key();
            if day.fallback.contains(&key) {
                format!("{key} ← ja")
            } else {
                key
            }
        })
        .collect();
    writeln!(
        out,
        "━━ {}（{}） {}  [{}]",
        day.date,
        weekday_ja(day.date),
        day.stage.as_deref().unwrap_or("お誕生日"),
        keys.join(", ")
    )?;
    // The town's notices of the day, named so that a clerk finds the one they wrote.
    let notices: Vec<&str> = day
        .plan
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            PlannedKind::Note { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if !notices.is_empty() {
        writeln!(out, "  【お知らせ】 {}", notices.join(", "))?;
    }
    // A survey's invitation: the day it would reach this parent (once), as the push's last
    // object with the research-consent buttons.
    for item in &day.plan.items {
        if let PlannedKind::Survey { id } = &item.kind {
            let buttons = day
                .plan
                .messages
                .last()
                .map(quick_reply_labels)
                .unwrap_or_default();
            writeln!(
                out,
                "  【アンケート】 {id}（最後の吹き出しにボタン: {}）",
                buttons.join(" / ")
            )?;
        }
    }
    for (i, message) in day.plan.messages.iter().enumerate() {
        if i > 0 {
            writeln!(out, "  ──")?;
        }
        for line in message.text_body().lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out)
}

/// The labels of a message's quick-reply buttons.
fn quick_reply_labels(m: &Message) -> Vec<String> {
    let Message::Text {
        quick_reply: Some(quick),
        ..
    } = m
    else {
        return Vec::new();
    };
    quick
        .items
        .iter()
        .map(|i| match &i.action {
            kizuna_core::Action::Message { label, .. }
            | kizuna_core::Action::Postback { label, .. }
            | kizuna_core::Action::DatePicker { label, .. } => label.clone(),
        })
        .collect()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body{font-family:'Hiragino Sans','Noto Sans JP','Yu Gothic',sans-serif;margin:24px;color:#333;background:#fffdf8}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:2px solid #f0c9a8}
.meta{background:#f7f1ea;padding:8px 12px;border-radius:6px;font-size:.9em}
.sample{background:#fff0c0;border:1px solid #e0b040;padding:8px 12px;border-radius:6px;margin:8px 0}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th{background:#f3e3d3;padding:4px;font-weight:normal}th.sun{color:#c33}th.sat{color:#36c}
td{border:1px solid #e6d8c8;vertical-align:top;padding:4px;font-size:.78em;height:4em;background:#fff}
td.out{background:#f4f4f4}td.none{background:#fafafa;color:#aaa}
.date{font-weight:bold}.stage{color:#a0522d;font-size:.95em}
.msg{background:#eaf6e9;border-radius:8px;padding:4px 6px;margin-top:4px;line-height:1.45}
.town .msg{background:#e8f0fb}.key{color:#999;font-size:.85em}
";

fn html_page(
    days: &[Day],
    content: &MunicipalityContent<'_>,
    library: &ContentLibrary,
    args: &PreviewArgs,
    baby_count: u8,
) -> String {
    let mut h = String::new();
    let who = match (args.due, args.born) {
        (Some(d), _) => format!("出産予定日 {d}"),
        (_, Some(b)) => format!("誕生日 {b}"),
        _ => String::new(),
    };
    let name = content.display_name().unwrap_or("（自治体の設定なし）");
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <title>配信プレビュー {who}</title><style>{CSS}</style></head><body>\
         <h1>配信プレビュー：{who}</h1>\
         <div class=\"meta\">自治体：{} ／ 赤ちゃんの人数：{baby_count} ／ 期間：{} 〜 {} ／ \
         コンテンツ：{} {}（{}）</div>",
        escape(name),
        days.first().map(|d| d.date.to_string()).unwrap_or_default(),
        days.last().map(|d| d.date.to_string()).unwrap_or_default(),
        escape(library.pack_id()),
        escape(library.pack_version()),
        &library.version()[..12],
    );
    if library.is_sample() {
        h.push_str(
            "<div class=\"sample\">これはサンプルの文面です。実際の配信文ではありません。</div>",
        );
    }
    let sent = days.iter().filter(|d| !d.plan.is_empty()).count();
    let _ = write!(
        h,
        "<p>配信のある日：{sent}日 ／ 表示した日数：{}日</p>",
        days.len()
    );

    let mut month_start = days.first().map(|d| first_of_month(d.date));
    while let Some(start) = month_start {
        if days.last().is_none_or(|d| start > d.date) {
            break;
        }
        let _ = write!(
            h,
            "<h2>{}年{}月</h2><table><tr><th class=\"sun\">日</th><th>月</th><th>火</th>\
             <th>水</th><th>木</th><th>金</th><th class=\"sat\">土</th></tr><tr>",
            start.year(),
            start.month()
        );
        let lead = start.weekday().num_days_from_sunday();
        for _ in 0..lead {
            h.push_str("<td class=\"out\"></td>");
        }
        let mut date = start;
        while date.month() == start.month() {
            if date != start && date.weekday() == Weekday::Sun {
                h.push_str("</tr><tr>");
            }
            match days.iter().find(|d| d.date == date) {
                None => h.push_str("<td class=\"out\"></td>"),
                Some(day) if day.plan.is_empty() => {
                    let _ = write!(
                        h,
                        "<td class=\"none\"><div class=\"date\">{}</div><div>{}</div></td>",
                        date.day(),
                        escape(day.stage.as_deref().unwrap_or(""))
                    );
                }
                Some(day) => {
                    let town = day.plan.items.iter().any(|i| {
                        matches!(
                            i.kind,
                            PlannedKind::Note { .. } | PlannedKind::Birthday { .. }
                        )
                    });
                    let keys: Vec<String> =
                        day.plan.items.iter().map(|i| i.content_key()).collect();
                    let _ = write!(
                        h,
                        "<td{}><div class=\"date\">{}</div><div class=\"stage\">{}</div>",
                        if town { " class=\"town\"" } else { "" },
                        date.day(),
                        escape(day.stage.as_deref().unwrap_or("お誕生日")),
                    );
                    for m in &day.plan.messages {
                        let _ = write!(h, "<div class=\"msg\">{}</div>", escape(message_text(m)));
                    }
                    let _ = write!(
                        h,
                        "<div class=\"key\">{}</div></td>",
                        escape(&keys.join(" "))
                    );
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        let trail = (7 - (lead + days_in_month(start)) % 7) % 7;
        for _ in 0..trail {
            h.push_str("<td class=\"out\"></td>");
        }
        h.push_str("</tr></table>");
        month_start = start.checked_add_months(chrono::Months::new(1));
    }
    h.push_str("</body></html>\n");
    h
}

fn message_text(m: &Message) -> &str {
    m.text_body()
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

fn days_in_month(first: NaiveDate) -> u32 {
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("in range");
    (next - first).num_days() as u32
}

/// The day's messages as LINE's message objects (`kizuna_line::wire`), checked against LINE's
/// limits as the sender's push would be.
fn line_messages(messages: &[kizuna_core::Message]) -> anyhow::Result<serde_json::Value> {
    if messages.is_empty() {
        return Ok(serde_json::Value::Array(Vec::new()));
    }
    let rendered = kizuna_line::wire::render(messages)?;
    Ok(serde_json::to_value(rendered)?)
}
