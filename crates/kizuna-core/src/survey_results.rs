//! A survey's results: how many households answered what, per town and for the network.
//!
//! Pure counting over stored households and the survey's definition (`kizuna survey
//! results` pages the households in and prints; small counts are hidden there, by the CLI's
//! one suppression rule). Free-text answers are only *counted* here: their words leave the
//! network only in the researchers' export ([`crate::survey_export`]), and only for parents
//! who agreed to the joint research.
//!
//! **Response rate** = respondents ÷ *eligible* households. No record says which households
//! were invited (the invitation rides on the daily push and is decided statelessly), so the
//! denominator is what can be computed from what is stored: the households stored now that
//! had a registration in the survey's audience on at least one day the survey was open (up
//! to the report's date, [`in_audience_while_open`]), plus every household that answered
//! (only a household in the audience can; one whose dates were corrected since may no longer
//! look it). That counts some households that were never invited (one paused, unfollowed or
//! without a message on every such day), so the rate is a lower bound of the rate among
//! those actually invited. Households deleted (削除, retention) are gone from both.

use crate::household::{Household, Registration, RegistrationStatus};
use crate::ids::MunicipalityId;
use crate::programme::programme_day;
use crate::survey::{Answer, QuestionKind, Survey, SCALE_POINTS};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One question's counts in one town.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionCounts {
    /// Households per choice, in the question's order.
    Choice(Vec<u64>),
    /// Households per scale point, 1 to 5.
    Scale([u64; 5]),
    /// How many households typed an answer (the texts are not counted here).
    Text(u64),
}

impl QuestionCounts {
    fn empty(kind: &QuestionKind) -> Self {
        match kind {
            QuestionKind::Choice { choices } => Self::Choice(vec![0; choices.len()]),
            QuestionKind::Scale { .. } => Self::Scale([0; 5]),
            QuestionKind::Text { .. } => Self::Text(0),
        }
    }

    /// The counts, one per choice / scale point / the one free-text count.
    pub fn cells(&self) -> Vec<u64> {
        match self {
            Self::Choice(c) => c.clone(),
            Self::Scale(c) => c.to_vec(),
            Self::Text(n) => vec![*n],
        }
    }

    /// Households that answered the question.
    pub fn answered(&self) -> u64 {
        self.cells().iter().sum()
    }

    /// Counts `answer` if it fits the question (an answer that does not — a choice the
    /// definition no longer has — is left out rather than counted somewhere wrong).
    fn count(&mut self, answer: &Answer) {
        match (self, answer) {
            (Self::Choice(c), Answer::Choice(i)) => {
                if let Some(n) = c.get_mut(usize::from(*i)) {
                    *n += 1;
                }
            }
            (Self::Scale(c), Answer::Scale(p)) if SCALE_POINTS.contains(p) => {
                c[usize::from(p - SCALE_POINTS.start())] += 1;
            }
            (Self::Text(n), Answer::Text(text)) if !text.trim().is_empty() => *n += 1,
            _ => {}
        }
    }

    fn add(&mut self, other: &Self) {
        match (self, other) {
            (Self::Choice(a), Self::Choice(b)) => a.iter_mut().zip(b).for_each(|(a, b)| *a += b),
            (Self::Scale(a), Self::Scale(b)) => a.iter_mut().zip(b).for_each(|(a, b)| *a += b),
            (Self::Text(a), Self::Text(b)) => *a += b,
            _ => unreachable!("both counts were made from the same question"),
        }
    }
}

/// One town's (or the network's) counts for one survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyCounts {
    /// Households that answered anything, the research-consent question included.
    pub respondents: u64,
    /// Of the respondents: yes / no / not answered to the research-consent question. They
    /// add up to `respondents`.
    pub consent_yes: u64,
    pub consent_no: u64,
    pub consent_unanswered: u64,
    /// Households in the audience while the survey was open, respondents included (module
    /// docs: the response rate's denominator).
    pub eligible: u64,
    /// Per authored question, in the survey's order.
    pub questions: Vec<QuestionCounts>,
}

impl SurveyCounts {
    fn new(survey: &Survey) -> Self {
        Self {
            respondents: 0,
            consent_yes: 0,
            consent_no: 0,
            consent_unanswered: 0,
            eligible: 0,
            questions: survey
                .questions
                .iter()
                .map(|q| QuestionCounts::empty(&q.kind))
                .collect(),
        }
    }

    fn add(&mut self, other: &Self) {
        self.respondents += other.respondents;
        self.consent_yes += other.consent_yes;
        self.consent_no += other.consent_no;
        self.consent_unanswered += other.consent_unanswered;
        self.eligible += other.eligible;
        for (a, b) in self.questions.iter_mut().zip(&other.questions) {
            a.add(b);
        }
    }

    /// Respondents ÷ eligible households, or `None` without any.
    pub fn response_rate(&self) -> Option<f64> {
        (self.eligible > 0).then(|| self.respondents as f64 / self.eligible as f64)
    }
}

/// Counts a survey's answers household by household (the households are paged in).
#[derive(Debug, Clone)]
pub struct SurveyTally<'a> {
    survey: &'a Survey,
    as_of: NaiveDate,
    towns: BTreeMap<MunicipalityId, SurveyCounts>,
}

impl<'a> SurveyTally<'a> {
    /// `towns`: the municipalities to report even with nothing counted (the deployment's
    /// towns in the survey's audience). `as_of`: the report's date; the eligibility period
    /// ends there if the survey is still open.
    pub fn new(
        survey: &'a Survey,
        as_of: NaiveDate,
        towns: impl IntoIterator<Item = MunicipalityId>,
    ) -> Self {
        Self {
            survey,
            as_of,
            towns: towns
                .into_iter()
                .map(|t| (t, SurveyCounts::new(survey)))
                .collect(),
        }
    }

    pub fn add(&mut self, household: &Household) {
        let survey = self.survey;
        let eligible = in_audience_while_open(household, survey, self.as_of);
        let response = household
            .surveys
            .get(&survey.id)
            .filter(|r| r.has_answered());
        if !eligible && response.is_none() && !self.towns.contains_key(&household.municipality) {
            // A town outside the audience, with nothing to count: not listed.
            return;
        }
        let counts = self
            .towns
            .entry(household.municipality.clone())
            .or_insert_with(|| SurveyCounts::new(survey));
        counts.eligible += u64::from(eligible || response.is_some());
        let Some(response) = response else {
            return;
        };
        counts.respondents += 1;
        match response.research_consent {
            Some(true) => counts.consent_yes += 1,
            Some(false) => counts.consent_no += 1,
            None => counts.consent_unanswered += 1,
        }
        for (question, question_counts) in survey.questions.iter().zip(&mut counts.questions) {
            if let Some(recorded) = response.answers.get(&question.id) {
                question_counts.count(&recorded.answer);
            }
        }
    }

    pub fn finish(self) -> SurveyResults {
        let mut network = SurveyCounts::new(self.survey);
        for counts in self.towns.values() {
            network.add(counts);
        }
        SurveyResults {
            as_of: self.as_of,
            towns: self.towns,
            network,
        }
    }
}

/// A survey's counts per town (in id order) and for the whole network (their sums).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyResults {
    pub as_of: NaiveDate,
    pub towns: BTreeMap<MunicipalityId, SurveyCounts>,
    pub network: SurveyCounts,
}

/// Counts `households` for `survey` as of `as_of` (the pure whole; the CLI tallies page by
/// page with [`SurveyTally`]).
pub fn tally<'h>(
    survey: &Survey,
    as_of: NaiveDate,
    towns: impl IntoIterator<Item = MunicipalityId>,
    households: impl IntoIterator<Item = &'h Household>,
) -> SurveyResults {
    let mut tally = SurveyTally::new(survey, as_of, towns);
    households.into_iter().for_each(|h| tally.add(h));
    tally.finish()
}

/// Whether the survey's audience includes `municipality`.
pub fn audience_includes(survey: &Survey, municipality: &MunicipalityId) -> bool {
    survey
        .audience
        .municipalities
        .as_ref()
        .is_none_or(|named| named.contains(municipality))
}

/// Whether `household` had a registration in the survey's audience on at least one day from
/// the survey's opening to its close or `as_of`, whichever is first: the response rate's
/// denominator (module docs). A registration counts from the day it was registered until
/// the day before it ended; its stage on each day is what it is now (a pregnancy reported
/// born since counts by its birth date).
pub fn in_audience_while_open(household: &Household, survey: &Survey, as_of: NaiveDate) -> bool {
    if !audience_includes(survey, &household.municipality) {
        return false;
    }
    let last = survey.closes_on.min(as_of);
    household.registrations.iter().any(|r| {
        let first = survey.opens_on.max(r.registered_on);
        let last = match r.status {
            RegistrationStatus::Active => last,
            RegistrationStatus::Ended { on, .. } => last.min(on.pred_opt().unwrap_or(on)),
        };
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .any(|day| in_window_on(survey, r, day))
    })
}

/// Whether registration `r`'s stage on `day` is in one of the survey's windows (no windows:
/// any day of its programme).
fn in_window_on(survey: &Survey, r: &Registration, day: NaiveDate) -> bool {
    let windows = &survey.audience.windows;
    if windows.is_empty() {
        return programme_day(&r.subject, day).is_some();
    }
    windows.iter().any(|w| w.contains(&r.subject, day))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::household::Subject;
    use crate::ids::LineUserId;
    use crate::survey::{
        Audience, AudienceWindow, Question, RecordedAnswer, SurveyId, SurveyResponse,
    };
    use std::collections::BTreeSet;

    pub use crate::testing::date as d;

    pub fn sid(s: &str) -> SurveyId {
        SurveyId::parse(s).unwrap()
    }

    pub fn town(s: &str) -> MunicipalityId {
        MunicipalityId::parse(s).unwrap()
    }

    /// Open in May 2027 to mothers 16w0d–27w6d and children of 0–100 days; a choice, a
    /// scale and a free-text question.
    pub fn survey() -> Survey {
        Survey {
            id: sid("usefulness-2027"),
            title: "メッセージについてのアンケート".into(),
            sample: false,
            audience: Audience {
                municipalities: None,
                windows: vec![
                    AudienceWindow::Maternity {
                        first: 112,
                        last: 195,
                    },
                    AudienceWindow::Child {
                        first: 0,
                        last: 100,
                    },
                ],
            },
            opens_on: d(2027, 5, 1),
            closes_on: d(2027, 5, 31),
            invitation: "アンケートにご協力ください".into(),
            questions: vec![
                Question {
                    id: sid("talk"),
                    text: "相談できる人はいますか".into(),
                    kind: QuestionKind::Choice {
                        choices: vec!["いる".into(), "いない".into(), "わからない".into()],
                    },
                },
                Question {
                    id: sid("useful"),
                    text: "メッセージは役に立っていますか".into(),
                    kind: QuestionKind::Scale {
                        low: "まったく".into(),
                        high: "とても".into(),
                    },
                },
                Question {
                    id: sid("comment"),
                    text: "ご意見".into(),
                    kind: QuestionKind::Text { max_chars: 200 },
                },
            ],
            thanks: "ありがとうございました".into(),
        }
    }

    pub fn user(n: u32) -> LineUserId {
        LineUserId::parse(&format!("U{n:032x}")).unwrap()
    }

    /// A household in `t` with a child born 2027-04-01 (in the child window all May).
    pub fn household(t: &str, n: u32) -> Household {
        let mut h = Household::new(town(t), user(n));
        h.registrations = vec![Registration {
            id: 1,
            subject: Subject::Child {
                birth_date: d(2027, 4, 1),
                due_date: None,
            },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on: d(2027, 3, 1),
        }];
        h
    }

    pub fn answered(
        mut h: Household,
        consent: Option<bool>,
        talk: Option<u8>,
        useful: Option<u8>,
        comment: Option<&str>,
    ) -> Household {
        let mut response = SurveyResponse {
            research_consent: consent,
            stage_band: Some("child_0_2m".into()),
            ..SurveyResponse::default()
        };
        let at = |answer| RecordedAnswer {
            answer,
            answered_on: d(2027, 5, 3),
        };
        if let Some(i) = talk {
            response.answers.insert(sid("talk"), at(Answer::Choice(i)));
        }
        if let Some(p) = useful {
            response.answers.insert(sid("useful"), at(Answer::Scale(p)));
        }
        if let Some(t) = comment {
            response
                .answers
                .insert(sid("comment"), at(Answer::Text(t.into())));
        }
        h.surveys.insert(sid("usefulness-2027"), response);
        h
    }

    #[test]
    fn counts_per_choice_point_and_text_per_town_and_for_the_network() {
        let s = survey();
        let households = vec![
            answered(
                household("a-town", 1),
                Some(true),
                Some(0),
                Some(5),
                Some("助かります"),
            ),
            answered(household("a-town", 2), Some(false), Some(0), Some(4), None),
            answered(
                household("a-town", 3),
                Some(true),
                Some(2),
                None,
                Some("  "),
            ),
            answered(household("b-town", 4), None, None, None, None),
            answered(
                household("b-town", 5),
                Some(true),
                Some(1),
                Some(5),
                Some("特になし"),
            ),
            // In the audience, never answered.
            household("b-town", 6),
            // An answer the definition does not have (choice 7, scale 9): not counted.
            answered(household("b-town", 7), Some(false), Some(7), Some(9), None),
        ];
        let results = tally(&s, d(2027, 6, 10), [town("c-town")], &households);
        let a = &results.towns[&town("a-town")];
        assert_eq!(
            (
                a.respondents,
                a.consent_yes,
                a.consent_no,
                a.consent_unanswered
            ),
            (3, 2, 1, 0)
        );
        assert_eq!(a.questions[0], QuestionCounts::Choice(vec![2, 0, 1]));
        assert_eq!(a.questions[1], QuestionCounts::Scale([0, 0, 0, 1, 1]));
        assert_eq!(
            a.questions[2],
            QuestionCounts::Text(1),
            "blank text is no answer"
        );
        let b = &results.towns[&town("b-town")];
        // An empty response (nothing answered) is not a respondent.
        assert_eq!(
            (b.respondents, b.consent_unanswered, b.consent_no),
            (2, 0, 1)
        );
        assert_eq!(b.questions[0], QuestionCounts::Choice(vec![0, 1, 0]));
        assert_eq!(b.eligible, 4);
        // A respondent no longer in the audience by its dates still counts as eligible.
        let mut moved = answered(household("c-town", 8), Some(true), None, None, None);
        moved.registrations[0].subject = Subject::Child {
            birth_date: d(2020, 1, 1),
            due_date: None,
        };
        let mut with_moved = households.clone();
        with_moved.push(moved);
        let c = &tally(&s, d(2027, 6, 10), [], &with_moved).towns[&town("c-town")];
        assert_eq!((c.respondents, c.eligible), (1, 1));
        // A town with nothing stored is still listed, with zeros.
        assert_eq!(results.towns[&town("c-town")].respondents, 0);
        let n = &results.network;
        assert_eq!(n.respondents, 5);
        assert_eq!(n.questions[0], QuestionCounts::Choice(vec![2, 1, 1]));
        assert_eq!(n.questions[1], QuestionCounts::Scale([0, 0, 0, 1, 2]));
        assert_eq!(n.questions[1].answered(), 3);
        assert_eq!(n.questions[2], QuestionCounts::Text(2));
        assert_eq!(n.eligible, 7);
        assert_eq!(n.response_rate(), Some(5.0 / 7.0));
    }

    #[test]
    fn eligibility_follows_the_audience_the_dates_and_the_registrations_life() {
        let s = survey();
        let as_of = d(2027, 6, 30);
        // Born 2027-04-01: days 30–60 in May, in the child window.
        assert!(in_audience_while_open(&household("a", 1), &s, as_of));
        // Born 2026-12-01: day 151 on 1 May, past the window all May.
        let mut old = household("a", 2);
        old.registrations[0].subject = Subject::Child {
            birth_date: d(2026, 12, 1),
            due_date: None,
        };
        assert!(!in_audience_while_open(&old, &s, as_of));
        // Born 2027-01-21: day 100 on 1 May only.
        old.registrations[0].subject = Subject::Child {
            birth_date: d(2027, 1, 21),
            due_date: None,
        };
        assert!(in_audience_while_open(&old, &s, as_of));
        // ... but not when the report is dated before the survey opened.
        assert!(!in_audience_while_open(&old, &s, d(2027, 4, 30)));
        // Ended before the survey opened, or registered after it closed: not eligible.
        let mut ended = household("a", 3);
        ended.registrations[0].status = RegistrationStatus::Ended {
            reason: crate::household::EndReason::StoppedByParent,
            on: d(2027, 5, 1),
        };
        assert!(!in_audience_while_open(&ended, &s, as_of));
        let mut late = household("a", 4);
        late.registrations[0].registered_on = d(2027, 6, 1);
        assert!(!in_audience_while_open(&late, &s, as_of));
        // A pregnancy at 20w on 1 May is in the maternity window; a town not named is not.
        let mut pregnant = household("a", 5);
        pregnant.registrations[0].subject = Subject::Pregnancy {
            due_date: d(2027, 9, 18),
        };
        assert!(in_audience_while_open(&pregnant, &s, as_of));
        let mut named = s.clone();
        named.audience.municipalities = Some(BTreeSet::from([town("b")]));
        assert!(!in_audience_while_open(&pregnant, &named, as_of));
        // No windows: any day of the programme.
        named.audience = Audience::default();
        assert!(in_audience_while_open(&old, &named, as_of));
        assert!(!in_audience_while_open(
            &Household::new(town("a"), user(9)),
            &named,
            as_of
        ));
    }
}
