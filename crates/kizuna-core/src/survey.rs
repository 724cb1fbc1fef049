//! Network surveys (アンケート): definitions from the content pack, and a household's answers.
//!
//! The network asks parents a few questions now and then (the programme's announcement lists
//! questionnaires and joint research among what a participating town takes part in). A survey
//! is content, not code: `content/surveys/<id>.toml`, checked by `kizuna content check` like
//! every other text, uploaded by `content sync`.
//!
//! How a survey reaches a parent, and why it costs nothing extra:
//! - the invitation rides on the household's daily push as one more message object (the push
//!   is one counted message whatever it holds, within LINE's five objects), once per household
//!   per survey, on the first day the household is in the audience and receives a message;
//! - every answer comes back as one of our postbacks (or a typed text for a free-text
//!   question) and is answered with a free reply carrying the next question;
//! - 「アンケート」 lists the open surveys the household may answer.
//!
//! Every survey starts with the same question, asked before the authored ones: may the answers
//! be used for the network's joint research ([`RESEARCH_CONSENT_QUESTION_ID`])? Only answers
//! of a household that said yes ever leave the network's own counts (`kizuna survey export`).
//!
//! Answers are stored **in the household** ([`crate::Household::surveys`]): one answer per
//! household per question by construction (a map), the household's optimistic-concurrency
//! version makes concurrent taps safe, and the answers follow the household's retention and
//! are erased with it on 削除 — no second place holds them.

use crate::household::Subject;
use crate::ids::MunicipalityId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The id of the question every survey asks first: may the answers be used for the network's
/// joint research? Its answer is [`SurveyResponse::research_consent`], not an entry of
/// [`SurveyResponse::answers`].
pub const RESEARCH_CONSENT_QUESTION_ID: &str = "research-consent";

/// The longest survey id: it travels in postback data (LINE allows 300 characters) next to a
/// question id and a choice.
pub const MAX_SURVEY_ID_CHARS: usize = 24;

/// Points of a scale question: 1 (lowest) to 5 (highest).
pub const SCALE_POINTS: std::ops::RangeInclusive<u8> = 1..=5;

/// A survey's id: lowercase ASCII letters, digits and `-`, 1 to [`MAX_SURVEY_ID_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SurveyId(String);

/// Question ids follow the same rule as survey ids.
pub type QuestionId = SurveyId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an id is 1 to {MAX_SURVEY_ID_CHARS} lowercase letters, digits or '-': {0:?}")]
pub struct InvalidSurveyId(pub String);

impl SurveyId {
    pub fn parse(id: &str) -> Result<Self, InvalidSurveyId> {
        let valid = !id.is_empty()
            && id.chars().count() <= MAX_SURVEY_ID_CHARS
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidSurveyId(id.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SurveyId {
    type Error = InvalidSurveyId;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::parse(&id)
    }
}

impl From<SurveyId> for String {
    fn from(id: SurveyId) -> Self {
        id.0
    }
}

impl fmt::Display for SurveyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One survey, as `content/surveys/<id>.toml` defines it (validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub id: SurveyId,
    /// What a clerk and a parent read as the survey's name, e.g. 「メッセージについてのアンケート」.
    pub title: String,
    /// A sample survey (the sample content pack's): never sent by a deployment whose pack is
    /// not a sample either.
    pub sample: bool,
    pub audience: Audience,
    /// First and last Japan dates (inclusive) on which the survey is invited and answered.
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    /// The invitation bubble's text; the research-consent question follows it as buttons.
    pub invitation: String,
    /// The authored questions, in the order they are asked (after the research-consent one).
    pub questions: Vec<Question>,
    /// Sent after the last answer.
    pub thanks: String,
}

impl Survey {
    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        (self.opens_on..=self.closes_on).contains(&date)
    }

    pub fn question(&self, id: &QuestionId) -> Option<&Question> {
        self.questions.iter().find(|q| &q.id == id)
    }
}

/// Who is asked: a household is in the audience on a date when its municipality is named (or
/// none are) and one of its active registrations is in one of the windows (or there are none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// `None`: every municipality of the deployment.
    pub municipalities: Option<BTreeSet<MunicipalityId>>,
    /// Empty: every registration in its programme.
    pub windows: Vec<AudienceWindow>,
}

/// A stage window, inclusive at both ends.
///
/// Externally tagged (serde's default), like every enum of the compiled content artifact:
/// postcard cannot read internally tagged enums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceWindow {
    /// Gestational days (`crate::programme::gestational_day`), e.g. 16w0d..=27w6d.
    Maternity { first: u16, last: u16 },
    /// Child age in days from birth (day 0).
    Child { first: u16, last: u16 },
}

impl AudienceWindow {
    /// Whether `subject` is in this window on `date`: a pregnancy by its gestational day, a
    /// child by its age in days. The one window check of the invitation's stage band and the
    /// results' denominator (the plan's invitation date works the other way, from the window
    /// to its dates).
    pub fn contains(&self, subject: &Subject, date: NaiveDate) -> bool {
        let (first, last) = match (self, subject) {
            (AudienceWindow::Maternity { first, last }, Subject::Pregnancy { .. })
            | (AudienceWindow::Child { first, last }, Subject::Child { .. }) => (*first, *last),
            _ => return false,
        };
        let day = subject
            .programme()
            .spec()
            .day_on(subject.given_date(), date);
        (i64::from(first)..=i64::from(last)).contains(&day)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub text: String,
    pub kind: QuestionKind,
}

/// Externally tagged, as [`AudienceWindow`] (it is in the compiled artifact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of the choices, as quick-reply buttons (LINE: at most 13 buttons, labels of at most
    /// 20 characters).
    Choice { choices: Vec<String> },
    /// 1 to 5, as five buttons; the labels say what 1 and 5 mean.
    Scale { low: String, high: String },
    /// A short typed answer of at most `max_chars` characters.
    Text { max_chars: u16 },
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// Index into the question's `choices`.
    Choice(u8),
    /// A point of [`SCALE_POINTS`].
    Scale(u8),
    Text(String),
}

/// What one household answered to one survey. Kept in [`crate::Household::surveys`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// The answer to [`RESEARCH_CONSENT_QUESTION_ID`]; `None` until the parent answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub research_consent: Option<bool>,
    /// By question id. Answering again before the survey closes replaces the answer.
    #[serde(default)]
    pub answers: BTreeMap<QuestionId, RecordedAnswer>,
    /// The household's stage when it first answered, as a coarse report band key
    /// (`crate::programme::report_band`, e.g. `pregnancy_mid`, `child_6_11m`): exports show
    /// bands, never dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_band: Option<String>,
}

impl SurveyResponse {
    /// Whether the parent has answered anything at all (the consent question counts).
    pub fn has_answered(&self) -> bool {
        self.research_consent.is_some() || !self.answers.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedAnswer {
    pub answer: Answer,
    /// The Japan date of the (last) answer.
    pub answered_on: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_ids_are_short_lowercase_slugs() {
        for good in [
            "usefulness-2027",
            "a",
            "q1",
            "x".repeat(MAX_SURVEY_ID_CHARS).as_str(),
        ] {
            assert_eq!(SurveyId::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Usefulness",
            "with space",
            "kizuna:v1",
            "アンケート",
            "x".repeat(MAX_SURVEY_ID_CHARS + 1).as_str(),
        ] {
            assert!(SurveyId::parse(bad).is_err(), "{bad:?} is refused");
        }
        let from_json: Result<SurveyId, _> = serde_json::from_str("\"Bad Id\"");
        assert!(from_json.is_err(), "a stored id is validated as it is read");
    }

    #[test]
    fn a_response_round_trips_and_an_empty_one_has_answered_nothing() {
        let empty = SurveyResponse::default();
        assert!(!empty.has_answered());
        let mut response = SurveyResponse {
            research_consent: Some(false),
            stage_band: Some("child_6_11m".to_owned()),
            ..SurveyResponse::default()
        };
        response.answers.insert(
            SurveyId::parse("useful").unwrap(),
            RecordedAnswer {
                answer: Answer::Scale(4),
                answered_on: NaiveDate::from_ymd_opt(2027, 5, 1).unwrap(),
            },
        );
        assert!(response.has_answered());
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json["answers"]["useful"],
            serde_json::json!({"answer": {"type": "scale", "value": 4}, "answered_on": "2027-05-01"})
        );
        assert_eq!(
            serde_json::from_value::<SurveyResponse>(json).unwrap(),
            response
        );
    }
}
