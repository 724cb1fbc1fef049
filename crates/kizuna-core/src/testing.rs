//! Helpers shared by the tests of every Kizuna crate. Compiled for kizuna-core's own tests and
//! behind the `testing` feature, which the other crates turn on in their dev-dependencies
//! only: nothing here reaches a Lambda.

use crate::survey::{Audience, AudienceWindow, Question, QuestionKind, Survey, SurveyId};
use chrono::NaiveDate;

/// The calendar date `year`-`month`-`day`. Panics, naming it, on a date that does not exist:
/// in a test that is a typo.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap_or_else(|| panic!("no such date: {year}-{month:02}-{day:02}"))
}

/// A survey open all May 2027 for children of 0–100 days in every town: a choice question
/// `talk` (いる / いない), then a free-text `comment`.
pub fn may_2027_survey(id: &str) -> Survey {
    let id_of = |s: &str| SurveyId::parse(s).expect("a valid survey id");
    Survey {
        id: id_of(id),
        title: "メッセージについてのアンケート".into(),
        sample: false,
        audience: Audience {
            municipalities: None,
            windows: vec![AudienceWindow::Child {
                first: 0,
                last: 100,
            }],
        },
        opens_on: date(2027, 5, 1),
        closes_on: date(2027, 5, 31),
        invitation: "アンケートにご協力ください".into(),
        questions: vec![
            Question {
                id: id_of("talk"),
                text: "相談できる人はいますか".into(),
                kind: QuestionKind::Choice {
                    choices: vec!["いる".into(), "いない".into()],
                },
            },
            Question {
                id: id_of("comment"),
                text: "ご意見".into(),
                kind: QuestionKind::Text { max_chars: 200 },
            },
        ],
        thanks: "ありがとうございました".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_the_calendar_date() {
        assert_eq!(date(2028, 2, 29).to_string(), "2028-02-29");
    }

    #[test]
    #[should_panic(expected = "no such date: 2027-02-29")]
    fn a_date_that_does_not_exist_panics_naming_it() {
        date(2027, 2, 29);
    }
}
