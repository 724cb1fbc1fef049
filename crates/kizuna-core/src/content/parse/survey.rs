//! `surveys/<id>.toml`: one network survey per file ([`crate::survey`]), validated into a
//! [`Survey`] or into `file:line` diagnostics like every other content file.
//!
//! ```toml
//! title = "メッセージについてのアンケート"
//! opens_on = 2027-10-01
//! closes_on = 2027-11-30
//! invitation = "…"
//! thanks = "…"
//!
//! [audience]                        # optional; without it every household is asked
//! municipalities = ["kizuna-town"]  # optional; without it every town
//! stages = ["16w0d", "27w6d"]       # optional maternity window, as notes write it
//! child_days = [60, 180]            # optional child window (days since birth)
//!
//! [[question]]
//! id = "useful"
//! type = "scale"                    # or "choice" (choices = [...]) or "text" (max_chars = N)
//! text = "…"
//! low = "役に立っていない"
//! high = "とても役に立っている"
//! ```

use super::{line_starts, stage_day, toml_date, toml_error, window_ok, Builder, Parsed};
use crate::content::{SourceFile, CHILD_LAST_POSSIBLE_DAY};
use crate::ids::MunicipalityId;
use crate::message::{utf16_len, MAX_ACTION_LABEL_CHARS, MAX_QUICK_REPLY_ITEMS};
use crate::survey::{
    Audience, AudienceWindow, Question, QuestionKind, Survey, SurveyId,
    RESEARCH_CONSENT_QUESTION_ID,
};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use toml::value::Datetime;
use toml::Spanned;

/// The longest survey title (characters): it is listed in 「アンケート」's reply and in
/// `kizuna survey results`.
pub const MAX_TITLE_CHARS: usize = 40;
/// The longest invitation, question or thank-you text (UTF-16 units). LINE allows 5,000 per
/// text; a survey's texts travel with a question, a button list's words or the day's push, and
/// a parent reads them on a phone: a thousand is already long.
pub const MAX_SURVEY_TEXT_UTF16: usize = 1000;
/// A choice question's choices: at least two, and at most one quick-reply button each.
pub const CHOICES: std::ops::RangeInclusive<usize> = 2..=(MAX_QUICK_REPLY_ITEMS - 1);
/// A free-text answer's limit may be set from 1 to this many characters: a short answer, typed
/// on a phone.
pub const MAX_TEXT_ANSWER_CHARS: u16 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
    title: Option<Spanned<String>>,
    sample: Option<bool>,
    opens_on: Option<Spanned<Datetime>>,
    closes_on: Option<Spanned<Datetime>>,
    invitation: Option<Spanned<String>>,
    thanks: Option<Spanned<String>>,
    audience: Option<Spanned<RawAudience>>,
    #[serde(default)]
    question: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    municipalities: Option<Spanned<Vec<Spanned<String>>>>,
    stages: Option<Spanned<[String; 2]>>,
    child_days: Option<Spanned<[u16; 2]>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Option<Spanned<String>>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
    choices: Option<Spanned<Vec<Spanned<String>>>>,
    low: Option<Spanned<String>>,
    high: Option<Spanned<String>>,
    max_chars: Option<Spanned<u16>>,
}

/// A survey file's place in the pack: `surveys/<stem>.toml`.
pub(super) fn is_survey_path(parts: &[&str]) -> bool {
    matches!(parts, ["surveys", name] if name.ends_with(".toml"))
}

/// Every survey file, validated, in id order. `towns`: the municipalities of the pack (an
/// audience may only name those); `sample_pack`: a sample survey in a real pack is never sent,
/// which `content check` points out.
pub(super) fn read_surveys(
    b: &mut Builder,
    files: &[&SourceFile],
    towns: &BTreeSet<&str>,
    sample_pack: bool,
) -> Vec<Survey> {
    let mut surveys: Vec<Survey> = files
        .iter()
        .filter_map(|file| read_survey(b, file, towns, sample_pack))
        .collect();
    surveys.sort_by(|a, b| a.id.cmp(&b.id));
    surveys
}

fn read_survey(
    b: &mut Builder,
    file: &SourceFile,
    towns: &BTreeSet<&str>,
    sample_pack: bool,
) -> Option<Survey> {
    let path = file.path.as_str();
    let stem = path
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".toml"))
        .unwrap_or_default();
    let id = match SurveyId::parse(stem) {
        Ok(id) => Some(id),
        Err(e) => {
            b.error(
                path,
                1,
                format!("the file name is the survey's id: {e} (rename the file)"),
            );
            None
        }
    };
    let raw = match toml::from_str::<RawSurvey>(&file.text) {
        Ok(raw) => raw,
        Err(e) => {
            let (line, message) = toml_error(&file.text, &e);
            b.error(path, line, message);
            return None;
        }
    };
    let f = SurveyFile {
        path,
        parsed: Parsed {
            path,
            source: &file.text,
            lines: line_starts(&file.text),
            raw: super::RawFile::default(),
        },
    };
    let title = f.required_text(b, &raw.title, "title", MAX_TITLE_CHARS, Count::Chars);
    let invitation = f.required_text(
        b,
        &raw.invitation,
        "invitation",
        MAX_SURVEY_TEXT_UTF16,
        Count::Utf16,
    );
    let thanks = f.required_text(
        b,
        &raw.thanks,
        "thanks",
        MAX_SURVEY_TEXT_UTF16,
        Count::Utf16,
    );
    let dates = f.dates(b, &raw);
    let audience = match &raw.audience {
        Some(audience) => f.audience(b, audience, towns),
        None => Some(Audience::default()),
    };
    let questions = f.questions(b, &raw.question);
    let sample = raw.sample.unwrap_or(false);
    if sample && !sample_pack {
        b.warning(
            path,
            1,
            "a sample survey (sample = true) in a real pack is never sent; delete it or write your own",
        );
    }
    let (opens_on, closes_on) = dates?;
    Some(Survey {
        id: id?,
        title: title?,
        sample,
        audience: audience?,
        opens_on,
        closes_on,
        invitation: invitation?,
        questions: questions?,
        thanks: thanks?,
    })
}

#[derive(Clone, Copy)]
enum Count {
    Chars,
    Utf16,
}

/// One survey file, for pointing at its lines.
struct SurveyFile<'f> {
    path: &'f str,
    /// The shared date and stage readers take a `Parsed` (they read its path and lines; its
    /// `raw` is empty: a survey is not a programme file).
    parsed: Parsed<'f>,
}

impl SurveyFile<'_> {
    fn line(&self, offset: usize) -> u32 {
        self.parsed.line(offset)
    }

    fn required_text(
        &self,
        b: &mut Builder,
        value: &Option<Spanned<String>>,
        key: &str,
        max: usize,
        count: Count,
    ) -> Option<String> {
        let Some(value) = value else {
            b.error(self.path, 1, format!("missing `{key} = \"...\"`"));
            return None;
        };
        self.text(b, value, key, max, count)
    }

    /// A non-empty text within `max` (characters or UTF-16 units), trimmed.
    fn text(
        &self,
        b: &mut Builder,
        value: &Spanned<String>,
        what: &str,
        max: usize,
        count: Count,
    ) -> Option<String> {
        let line = self.line(value.span().start);
        let text = value.get_ref().trim();
        if text.is_empty() {
            b.error(self.path, line, format!("{what}: empty text"));
            return None;
        }
        let (len, unit) = match count {
            Count::Chars => (text.chars().count(), "characters"),
            Count::Utf16 => (utf16_len(text), "UTF-16 units"),
        };
        if len > max {
            b.error(
                self.path,
                line,
                format!("{what} too long: {len} {unit} (at most {max})"),
            );
            return None;
        }
        Some(text.to_owned())
    }

    fn dates(
        &self,
        b: &mut Builder,
        raw: &RawSurvey,
    ) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        let parsed = &self.parsed;
        let mut date = |value: &Option<Spanned<Datetime>>, key: &str| match value {
            Some(v) => toml_date(b, parsed, v.span(), v.get_ref()),
            None => {
                b.error(
                    self.path,
                    1,
                    format!("missing `{key} = 2027-10-01` (a plain date, no quotes)"),
                );
                None
            }
        };
        let opens_on = date(&raw.opens_on, "opens_on");
        let closes_on = date(&raw.closes_on, "closes_on");
        let (opens_on, closes_on) = (opens_on?, closes_on?);
        if opens_on > closes_on {
            let span = raw.closes_on.as_ref().map_or(0..0, Spanned::span);
            b.error(
                self.path,
                self.line(span.start),
                format!("closes_on {closes_on} is before opens_on {opens_on}"),
            );
            return None;
        }
        Some((opens_on, closes_on))
    }

    fn audience(
        &self,
        b: &mut Builder,
        raw: &Spanned<RawAudience>,
        towns: &BTreeSet<&str>,
    ) -> Option<Audience> {
        let parsed = &self.parsed;
        let raw = raw.get_ref();
        let mut ok = true;
        let municipalities = match &raw.municipalities {
            None => None,
            Some(list) => {
                let mut named = BTreeSet::new();
                if list.get_ref().is_empty() {
                    b.error(
                        self.path,
                        self.line(list.span().start),
                        "municipalities = [] names no town: leave it out to ask every town",
                    );
                    ok = false;
                }
                for town in list.get_ref() {
                    let line = self.line(town.span().start);
                    let name = town.get_ref();
                    match MunicipalityId::parse(name) {
                        Ok(id) if towns.contains(name.as_str()) => {
                            named.insert(id);
                        }
                        _ => {
                            let known: Vec<&str> = towns.iter().copied().collect();
                            b.error(
                                self.path,
                                line,
                                format!(
                                    "\"{name}\" is not a municipality of this pack (municipalities/ has {})",
                                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                                ),
                            );
                            ok = false;
                        }
                    }
                }
                Some(named)
            }
        };
        let mut windows = Vec::new();
        if let Some(stages) = &raw.stages {
            let [from, to] = stages.get_ref();
            let first = stage_day(b, parsed, from, stages.span());
            let last = stage_day(b, parsed, to, stages.span());
            match (first, last) {
                (Some(first), Some(last)) if window_ok(b, parsed, first, last, stages.span()) => {
                    windows.push(AudienceWindow::Maternity { first, last })
                }
                _ => ok = false,
            }
        }
        if let Some(days) = &raw.child_days {
            let [first, last] = *days.get_ref();
            if last > CHILD_LAST_POSSIBLE_DAY {
                b.error(
                    self.path,
                    self.line(days.span().start),
                    format!("child day {last} is after the programme (last possible day {CHILD_LAST_POSSIBLE_DAY})"),
                );
                ok = false;
            } else if window_ok(b, parsed, first, last, days.span()) {
                windows.push(AudienceWindow::Child { first, last });
            } else {
                ok = false;
            }
        }
        ok.then_some(Audience {
            municipalities,
            windows,
        })
    }

    fn questions(&self, b: &mut Builder, raw: &[Spanned<RawQuestion>]) -> Option<Vec<Question>> {
        if raw.is_empty() {
            b.error(
                self.path,
                1,
                "a survey needs at least one [[question]] (the research-consent question is asked by Kizuna itself)",
            );
            return None;
        }
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut questions = Vec::new();
        let mut ok = true;
        for q in raw {
            match self.question(b, q, &mut seen) {
                Some(question) => questions.push(question),
                None => ok = false,
            }
        }
        ok.then_some(questions)
    }

    fn question(
        &self,
        b: &mut Builder,
        raw: &Spanned<RawQuestion>,
        seen: &mut HashMap<String, u32>,
    ) -> Option<Question> {
        let at = self.line(raw.span().start);
        let q = raw.get_ref();
        let id = match &q.id {
            None => {
                b.error(self.path, at, "a [[question]] needs `id = \"...\"`");
                None
            }
            Some(id) => self.question_id(b, id, seen),
        };
        let text = match &q.text {
            None => {
                b.error(self.path, at, "a [[question]] needs `text = \"...\"`");
                None
            }
            Some(text) => self.text(
                b,
                text,
                "question text",
                MAX_SURVEY_TEXT_UTF16,
                Count::Utf16,
            ),
        };
        let kind = self.question_kind(b, q, at);
        Some(Question {
            id: id?,
            text: text?,
            kind: kind?,
        })
    }

    fn question_id(
        &self,
        b: &mut Builder,
        id: &Spanned<String>,
        seen: &mut HashMap<String, u32>,
    ) -> Option<SurveyId> {
        let line = self.line(id.span().start);
        let name = id.get_ref();
        if name == RESEARCH_CONSENT_QUESTION_ID {
            b.error(
                self.path,
                line,
                format!("\"{RESEARCH_CONSENT_QUESTION_ID}\" is the question Kizuna asks first in every survey: give this question another id"),
            );
            return None;
        }
        let parsed = match SurveyId::parse(name) {
            Ok(parsed) => parsed,
            Err(e) => {
                b.error(self.path, line, format!("question id: {e}"));
                return None;
            }
        };
        if let Some(first) = seen.get(name) {
            b.error(
                self.path,
                line,
                format!(
                    "duplicate question id \"{name}\" (first defined at {}{}:{first})",
                    b.prefix, self.path
                ),
            );
            return None;
        }
        seen.insert(name.clone(), line);
        Some(parsed)
    }

    fn question_kind(&self, b: &mut Builder, q: &RawQuestion, at: u32) -> Option<QuestionKind> {
        let Some(kind) = &q.kind else {
            b.error(
                self.path,
                at,
                "a [[question]] needs `type = \"choice\"`, `\"scale\"` or `\"text\"`",
            );
            return None;
        };
        let line = self.line(kind.span().start);
        // Keys that belong to another type are mistakes worth pointing at.
        let stray = |b: &mut Builder, keys: &[(&str, Option<Range<usize>>)]| {
            let mut clean = true;
            for (key, span) in keys {
                if let Some(span) = span {
                    b.error(
                        self.path,
                        self.line(span.start),
                        format!(
                            "`{key}` does not belong to a \"{}\" question",
                            kind.get_ref()
                        ),
                    );
                    clean = false;
                }
            }
            clean
        };
        let span_of = |v: &Option<Spanned<String>>| v.as_ref().map(Spanned::span);
        let choices_span = q.choices.as_ref().map(Spanned::span);
        let max_span = q.max_chars.as_ref().map(Spanned::span);
        match kind.get_ref().as_str() {
            "choice" => {
                let clean = stray(
                    b,
                    &[
                        ("low", span_of(&q.low)),
                        ("high", span_of(&q.high)),
                        ("max_chars", max_span),
                    ],
                );
                let choices = self.choices(b, q, at);
                clean.then_some(())?;
                Some(QuestionKind::Choice { choices: choices? })
            }
            "scale" => {
                let clean = stray(b, &[("choices", choices_span), ("max_chars", max_span)]);
                let mut label = |value: &Option<Spanned<String>>, key: &str| match value {
                    None => {
                        b.error(
                            self.path,
                            at,
                            format!(
                                "a scale question needs `{key} = \"...\"`: what {} means",
                                if key == "low" { 1 } else { 5 }
                            ),
                        );
                        None
                    }
                    Some(v) => self.text(b, v, key, MAX_ACTION_LABEL_CHARS, Count::Chars),
                };
                let low = label(&q.low, "low");
                let high = label(&q.high, "high");
                clean.then_some(())?;
                Some(QuestionKind::Scale {
                    low: low?,
                    high: high?,
                })
            }
            "text" => {
                let clean = stray(
                    b,
                    &[
                        ("choices", choices_span),
                        ("low", span_of(&q.low)),
                        ("high", span_of(&q.high)),
                    ],
                );
                let max_chars = match &q.max_chars {
                    None => {
                        b.error(
                            self.path,
                            at,
                            format!("a text question needs `max_chars = N` (1 to {MAX_TEXT_ANSWER_CHARS})"),
                        );
                        None
                    }
                    Some(m) if !(1..=MAX_TEXT_ANSWER_CHARS).contains(m.get_ref()) => {
                        b.error(
                            self.path,
                            self.line(m.span().start),
                            format!(
                                "max_chars must be 1 to {MAX_TEXT_ANSWER_CHARS}, not {}",
                                m.get_ref()
                            ),
                        );
                        None
                    }
                    Some(m) => Some(*m.get_ref()),
                };
                clean.then_some(())?;
                Some(QuestionKind::Text {
                    max_chars: max_chars?,
                })
            }
            other => {
                b.error(
                    self.path,
                    line,
                    format!(
                        "unknown question type \"{other}\": use \"choice\", \"scale\" or \"text\""
                    ),
                );
                None
            }
        }
    }

    fn choices(&self, b: &mut Builder, q: &RawQuestion, at: u32) -> Option<Vec<String>> {
        let Some(choices) = &q.choices else {
            b.error(
                self.path,
                at,
                "a choice question needs `choices = [\"...\", \"...\"]`",
            );
            return None;
        };
        let line = self.line(choices.span().start);
        let list = choices.get_ref();
        let mut ok = true;
        if !CHOICES.contains(&list.len()) {
            b.error(
                self.path,
                line,
                format!(
                    "a choice question has {} to {} choices (one LINE button each), not {}",
                    CHOICES.start(),
                    CHOICES.end(),
                    list.len()
                ),
            );
            ok = false;
        }
        let mut labels: Vec<String> = Vec::new();
        for choice in list {
            let Some(label) = self.text(b, choice, "choice", MAX_ACTION_LABEL_CHARS, Count::Chars)
            else {
                ok = false;
                continue;
            };
            if labels.contains(&label) {
                b.error(
                    self.path,
                    self.line(choice.span().start),
                    format!("duplicate choice \"{label}\""),
                );
                ok = false;
            }
            labels.push(label);
        }
        ok.then_some(labels)
    }
}
