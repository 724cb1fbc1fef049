//! Our postback payloads.
//!
//! A municipality's LINE account is shared with the town's other services, so every payload we
//! put on a button starts with [`NAMESPACE`] and a version; anything else belongs to someone
//! else. The version lets a later release change the payloads while buttons from old chat
//! messages keep working or get a clear "this button is no longer used" reply.
//!
//! Payloads carry registration ids and, for the "which date did you mean" question, a date —
//! never a LINE user id. LINE limits postback data to 300 characters; ours stay under 40,
//! except a survey's (`sv:<survey>:<question>:<answer>`, two ids of at most 24 characters:
//! under 70).

use crate::household::Language;
use crate::survey::{QuestionId, SurveyId, RESEARCH_CONSENT_QUESTION_ID};
use chrono::NaiveDate;

/// Every payload we own starts with this.
pub const NAMESPACE: &str = "kizuna:";
const PREFIX: &str = "kizuna:v1:";

/// What a date picker (or a "this date" button) will set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTarget {
    /// A new pregnancy registration, from its due date.
    NewDue,
    /// A new child registration, from its birth date.
    NewBirth,
    /// A corrected date for registration `id` (due date or birth date, by its kind).
    Change(u32),
    /// The real birth date of the pregnancy registration `id` (生まれました).
    Born(u32),
}

/// What a survey button says ([`crate::survey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyTap {
    /// Start or go on: the next unanswered question (「アンケート」's buttons).
    Next,
    /// The research-consent question's yes or no.
    Consent(bool),
    /// A choice's index or a scale's point for one of the survey's own questions.
    Answer { question: QuestionId, value: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postback {
    /// A date picker; the date comes in the event's `postback.params.date`.
    Picker(DateTarget),
    /// A button that carries its date, offered when a typed date without a year could be
    /// either a due date or a birth date.
    Date(DateTarget, NaiveDate),
    /// 変更: which registration.
    Change(u32),
    /// 生まれました: which pregnancy.
    Born(u32),
    /// Twins or triplets for registration `id`.
    Babies(u32, u8),
    /// After a re-follow: yes, resume.
    Resume,
    /// 削除する.
    DeleteConfirm,
    /// すべての配信を終了する.
    EndAllConfirm,
    /// やめておく, for any question.
    Cancel,
    /// 同意して登録する / 同意する: agrees to the privacy notice shown with the button.
    ConsentAgree,
    /// 登録しない / 同意しない.
    ConsentDecline,
    /// A language button (`lang:ja`, `lang:ja-easy`, `lang:en`).
    Language(Language),
    /// A survey's button: `sv:<survey>:next`, `sv:<survey>:research-consent:yes|no`,
    /// `sv:<survey>:<question>:<n>`.
    Survey { survey: SurveyId, tap: SurveyTap },
}

/// How a postback's data reads to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not our namespace: the town's other services own it.
    NotOurs,
    /// Our namespace but a payload this version does not know (an old button, a newer release).
    Unknown,
    Ours(Postback),
}

impl DateTarget {
    fn encode(self) -> String {
        match self {
            DateTarget::NewDue => "due".to_owned(),
            DateTarget::NewBirth => "birth".to_owned(),
            DateTarget::Change(id) => format!("change:{id}"),
            DateTarget::Born(id) => format!("born:{id}"),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        match parts {
            ["due"] => Some(DateTarget::NewDue),
            ["birth"] => Some(DateTarget::NewBirth),
            ["change", id] => id.parse().ok().map(DateTarget::Change),
            ["born", id] => id.parse().ok().map(DateTarget::Born),
            _ => None,
        }
    }
}

impl Postback {
    /// The `data` string to put on a button.
    pub fn data(&self) -> String {
        let body = match self {
            Postback::Picker(target) => format!("date:{}", target.encode()),
            Postback::Survey { survey, tap } => match tap {
                SurveyTap::Next => format!("sv:{survey}:next"),
                SurveyTap::Consent(yes) => format!(
                    "sv:{survey}:{RESEARCH_CONSENT_QUESTION_ID}:{}",
                    if *yes { "yes" } else { "no" }
                ),
                SurveyTap::Answer { question, value } => format!("sv:{survey}:{question}:{value}"),
            },
            Postback::Date(target, date) => {
                format!("set:{}:{}", target.encode(), date.format("%Y-%m-%d"))
            }
            Postback::Change(id) => format!("change:{id}"),
            Postback::Born(id) => format!("born:{id}"),
            Postback::Babies(id, n) => format!("babies:{id}:{n}"),
            Postback::Resume => "resume".to_owned(),
            Postback::DeleteConfirm => "delete".to_owned(),
            Postback::EndAllConfirm => "end-all".to_owned(),
            Postback::Cancel => "cancel".to_owned(),
            Postback::ConsentAgree => "consent:agree".to_owned(),
            Postback::ConsentDecline => "consent:decline".to_owned(),
            Postback::Language(language) => format!("lang:{}", language.code()),
        };
        format!("{PREFIX}{body}")
    }

    pub fn parse(data: &str) -> Parsed {
        if !data.starts_with(NAMESPACE) {
            return Parsed::NotOurs;
        }
        let Some(body) = data.strip_prefix(PREFIX) else {
            return Parsed::Unknown;
        };
        let parts: Vec<&str> = body.split(':').collect();
        let postback = match parts.as_slice() {
            ["date", target @ ..] => DateTarget::decode(target).map(Postback::Picker),
            ["set", target @ .., date] => DateTarget::decode(target)
                .zip(NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
                .map(|(target, date)| Postback::Date(target, date)),
            ["change", id] => id.parse().ok().map(Postback::Change),
            ["born", id] => id.parse().ok().map(Postback::Born),
            ["babies", id, n] => match (id.parse(), n.parse()) {
                (Ok(id), Ok(n @ 1..=3)) => Some(Postback::Babies(id, n)),
                _ => None,
            },
            ["resume"] => Some(Postback::Resume),
            ["delete"] => Some(Postback::DeleteConfirm),
            ["end-all"] => Some(Postback::EndAllConfirm),
            ["cancel"] => Some(Postback::Cancel),
            ["consent", "agree"] => Some(Postback::ConsentAgree),
            ["consent", "decline"] => Some(Postback::ConsentDecline),
            ["lang", code] => Language::from_code(code).map(Postback::Language),
            ["sv", survey, rest @ ..] => survey_tap(rest).and_then(|tap| {
                Some(Postback::Survey {
                    survey: SurveyId::parse(survey).ok()?,
                    tap,
                })
            }),
            _ => None,
        };
        postback.map_or(Parsed::Unknown, Parsed::Ours)
    }
}

fn survey_tap(parts: &[&str]) -> Option<SurveyTap> {
    match parts {
        ["next"] => Some(SurveyTap::Next),
        [RESEARCH_CONSENT_QUESTION_ID, "yes"] => Some(SurveyTap::Consent(true)),
        [RESEARCH_CONSENT_QUESTION_ID, "no"] => Some(SurveyTap::Consent(false)),
        [question, value] => Some(SurveyTap::Answer {
            question: QuestionId::parse(question).ok()?,
            value: value.parse().ok()?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_payload_round_trips_and_is_namespaced() {
        let date = NaiveDate::from_ymd_opt(2027, 5, 1).unwrap();
        let all = [
            Postback::Picker(DateTarget::NewDue),
            Postback::Picker(DateTarget::NewBirth),
            Postback::Picker(DateTarget::Change(3)),
            Postback::Picker(DateTarget::Born(4)),
            Postback::Date(DateTarget::NewDue, date),
            Postback::Date(DateTarget::NewBirth, date),
            Postback::Change(1),
            Postback::Born(2),
            Postback::Babies(2, 3),
            Postback::Resume,
            Postback::DeleteConfirm,
            Postback::EndAllConfirm,
            Postback::Cancel,
            Postback::ConsentAgree,
            Postback::ConsentDecline,
            Postback::Language(Language::Japanese),
            Postback::Language(Language::EasyJapanese),
            Postback::Language(Language::English),
            Postback::Survey {
                survey: SurveyId::parse("messages-2027").unwrap(),
                tap: SurveyTap::Next,
            },
            Postback::Survey {
                survey: SurveyId::parse("messages-2027").unwrap(),
                tap: SurveyTap::Consent(true),
            },
            Postback::Survey {
                survey: SurveyId::parse("messages-2027").unwrap(),
                tap: SurveyTap::Consent(false),
            },
            Postback::Survey {
                survey: SurveyId::parse(&"s".repeat(24)).unwrap(),
                tap: SurveyTap::Answer {
                    question: QuestionId::parse(&"q".repeat(24)).unwrap(),
                    value: 12,
                },
            },
        ];
        for postback in all {
            let data = postback.data();
            assert!(data.starts_with("kizuna:v1:"), "{data}");
            assert!(data.len() <= 300);
            assert_eq!(
                Postback::parse(&data),
                Parsed::Ours(postback.clone()),
                "{data}"
            );
        }
    }

    #[test]
    fn foreign_and_unknown_payloads_are_told_apart() {
        assert_eq!(Postback::parse("action=buy&item=1"), Parsed::NotOurs);
        assert_eq!(Postback::parse(""), Parsed::NotOurs);
        assert_eq!(Postback::parse("kizuna:v9:date:due"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:date:later"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:change:x"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:babies:1:9"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:consent:maybe"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:lang:fr"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:sv:Bad Id:next"), Parsed::Unknown);
        assert_eq!(Postback::parse("kizuna:v1:sv:s:q:x"), Parsed::Unknown);
        assert_eq!(
            Postback::parse("kizuna:v1:sv:s:research-consent:maybe"),
            Parsed::Unknown
        );
        assert_eq!(Postback::parse("kizuna:v1:sv:s"), Parsed::Unknown);
        assert_eq!(
            Postback::parse("kizuna:v1:set:due:2027-02-30"),
            Parsed::Unknown
        );
    }
}
