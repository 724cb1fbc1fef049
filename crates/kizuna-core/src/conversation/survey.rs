//! Surveys in the conversation ([`crate::survey`]): the invitation the daily push carries, the
//! answers coming back as our postbacks (or a typed text), and 「アンケート」.
//!
//! Every answer is stored in the household (one per question, replacing an earlier one while
//! the survey is open) and replied to with the next unanswered question, the last with the
//! survey's thanks. A tap for a closed or unknown survey, or from a household the survey is not
//! for, stores nothing and says so. Nothing here touches the daily send: an answer is an
//! ordinary household write under its optimistic version.

use super::postback::SurveyTap;
use super::texts::{texts, Texts};
use super::{postback_button, Postback, Turn};
use crate::household::{Household, Language, PendingQuestion};
use crate::message::{Message, QuickReplyItem, MAX_QUICK_REPLY_ITEMS};
use crate::plan::{may_be_asked, survey_invitation_date};
use crate::programme::report_band;
use crate::survey::{
    Answer, Question, QuestionId, QuestionKind, RecordedAnswer, Survey, SurveyId, SurveyResponse,
    SCALE_POINTS,
};
use chrono::NaiveDate;

/// The invitation bubble of `survey` for a household reading `language`: the survey's title
/// and invitation, then the research-consent question with its two buttons. The daily plan
/// puts it last in the push (LINE shows quick replies only on the last message).
pub(crate) fn survey_invitation(survey: &Survey, language: Language) -> Message {
    let t = texts(language);
    let text = format!(
        "【{}】\n{}\n\n{}",
        survey.title,
        survey.invitation,
        t.research_consent_question()
    );
    Message::text(text).with_quick_reply(consent_buttons(t, &survey.id))
}

fn consent_buttons(t: &dyn Texts, survey: &SurveyId) -> Vec<QuickReplyItem> {
    [
        (t.label_research_yes(), true),
        (t.label_research_no(), false),
    ]
    .into_iter()
    .map(|(label, yes)| {
        postback_button(
            label,
            Postback::Survey {
                survey: survey.clone(),
                tap: SurveyTap::Consent(yes),
            },
        )
    })
    .collect()
}

/// Whether `household` may answer `survey` on `today`: it is one the survey may reach, and
/// its invitation has gone out (or would have, had the household not answered yet).
fn in_audience(
    survey: &Survey,
    household: &Household,
    today: NaiveDate,
    sample_pack: bool,
    content: &crate::content::MunicipalityContent<'_>,
) -> bool {
    if household.surveys.contains_key(&survey.id) {
        // It answered once, so it was asked: changing an answer needs no new check (its
        // registration may have moved past the window since).
        return true;
    }
    // Not answered (above), so `may_be_asked` judges only the town and the sample marker.
    may_be_asked(survey, household, sample_pack)
        && survey_invitation_date(survey, household, content).is_some_and(|d| d <= today)
}

/// The report band of the registration the survey is about: one in one of its windows today,
/// else the first active one.
fn stage_band(survey: &Survey, household: &Household, today: NaiveDate) -> Option<String> {
    let in_window = |subject: &crate::household::Subject| {
        survey
            .audience
            .windows
            .iter()
            .any(|w| w.contains(subject, today))
    };
    let active: Vec<_> = household.active_registrations().collect();
    let reg = active
        .iter()
        .find(|r| in_window(&r.subject))
        .or(active.first())?;
    Some(report_band(&reg.subject, today).key.to_owned())
}

/// What a tap or a typed text answers.
enum Given {
    Consent(bool),
    Answer(QuestionId, Answer),
}

impl Turn<'_> {
    /// A survey's button.
    pub(super) fn survey_tap(&mut self, survey_id: &SurveyId, tap: SurveyTap) {
        let Some(survey) = self.survey_for_answer(survey_id) else {
            return;
        };
        let given = match tap {
            SurveyTap::Next => return self.ask_next_question(&survey, Asked::Next),
            SurveyTap::Consent(yes) => Given::Consent(yes),
            SurveyTap::Answer { question, value } => {
                match survey.question(&question).map(|q| &q.kind) {
                    Some(QuestionKind::Choice { choices })
                        if usize::from(value) < choices.len() =>
                    {
                        Given::Answer(question, Answer::Choice(value))
                    }
                    Some(QuestionKind::Scale { .. }) if SCALE_POINTS.contains(&value) => {
                        Given::Answer(question, Answer::Scale(value))
                    }
                    // Not a button this survey has (a question since removed, a mistyped
                    // payload): nothing to store.
                    _ => return self.stale(),
                }
            }
        };
        self.record(&survey, given);
    }

    /// A typed text while a free-text question is pending.
    pub(super) fn survey_text(
        &mut self,
        survey_id: &SurveyId,
        question_id: &QuestionId,
        text: &str,
    ) {
        let Some(survey) = self.survey_for_answer(survey_id) else {
            self.set_pending(None);
            return;
        };
        let Some(Question {
            kind: QuestionKind::Text { max_chars },
            ..
        }) = survey.question(question_id)
        else {
            self.set_pending(None);
            return self.stale();
        };
        let answer = text.trim();
        let chars = answer.chars().count();
        if chars > usize::from(*max_chars) {
            // The question stays open: the parent shortens it and sends again.
            return self.reply(self.t().survey_text_too_long(*max_chars, chars));
        }
        self.set_pending(None);
        self.record(
            &survey,
            Given::Answer(question_id.clone(), Answer::Text(answer.to_owned())),
        );
    }

    /// 「アンケート」: the open surveys the household may still answer, a button each.
    pub(super) fn list_surveys(&mut self) {
        let Some(library) = self.ctx.content else {
            return self.reply(self.t().survey_unavailable());
        };
        let today = self.today();
        let open: Vec<&Survey> = match self.household.as_ref() {
            None => Vec::new(),
            Some(household) => {
                let content = library.for_municipality(self.municipality);
                library
                    .surveys()
                    .iter()
                    .filter(|s| s.is_open_on(today))
                    .filter(|s| in_audience(s, household, today, library.is_sample(), &content))
                    .filter(|s| next_question(s, household.surveys.get(&s.id)).is_some())
                    .take(MAX_QUICK_REPLY_ITEMS)
                    .collect()
            }
        };
        if open.is_empty() {
            return self.reply(self.t().survey_none());
        }
        let titles: Vec<&str> = open.iter().map(|s| s.title.as_str()).collect();
        let buttons = open
            .iter()
            .map(|s| {
                postback_button(
                    &button_label(&s.title),
                    Postback::Survey {
                        survey: s.id.clone(),
                        tap: SurveyTap::Next,
                    },
                )
            })
            .collect();
        self.reply_with(self.t().survey_list(&titles), buttons);
    }

    /// The survey a tap or text answers, if it may be answered now; otherwise the reason is
    /// replied and nothing is stored.
    fn survey_for_answer(&mut self, survey_id: &SurveyId) -> Option<Survey> {
        let Some(library) = self.ctx.content else {
            self.reply(self.t().survey_unavailable());
            return None;
        };
        let Some(survey) = library.surveys().iter().find(|s| &s.id == survey_id) else {
            self.reply(self.t().survey_unknown());
            return None;
        };
        let today = self.today();
        if !survey.is_open_on(today) {
            self.reply(self.t().survey_closed());
            return None;
        }
        let content = library.for_municipality(self.municipality);
        let may_answer = self
            .household
            .as_ref()
            .is_some_and(|h| in_audience(survey, h, today, library.is_sample(), &content));
        if !may_answer {
            self.reply(self.t().survey_not_for_you());
            return None;
        }
        Some(survey.clone())
    }

    /// Stores `given` and replies with the next unanswered question, or the thanks.
    fn record(&mut self, survey: &Survey, given: Given) {
        let today = self.today();
        let household = self.household_mut();
        let band = stage_band(survey, household, today);
        let response = household.surveys.entry(survey.id.clone()).or_default();
        let complete_before = next_question(survey, Some(response)).is_none();
        if response.stage_band.is_none() && !response.has_answered() {
            response.stage_band = band;
        }
        match given {
            Given::Consent(yes) => response.research_consent = Some(yes),
            Given::Answer(question, answer) => {
                response.answers.insert(
                    question,
                    RecordedAnswer {
                        answer,
                        answered_on: today,
                    },
                );
            }
        }
        self.ask_next_question(survey, Asked::Answered { complete_before });
    }

    /// The next unanswered question with its buttons; the survey's thanks after the last
    /// one (for an answer changed after the last one, a word that it changed; for a 「アンケート」
    /// button with nothing left, a word that all is answered).
    fn ask_next_question(&mut self, survey: &Survey, asked: Asked) {
        let response = self
            .household
            .as_ref()
            .and_then(|h| h.surveys.get(&survey.id))
            .cloned();
        let t = self.t();
        match next_question(survey, response.as_ref()) {
            None => match asked {
                Asked::Answered {
                    complete_before: true,
                } => self.reply(t.survey_answer_changed()),
                Asked::Answered {
                    complete_before: false,
                } => self.reply(survey.thanks.clone()),
                Asked::Next => self.reply(t.survey_all_answered()),
            },
            Some(Next::Consent) => {
                let text = format!("【{}】\n{}", survey.title, t.research_consent_question());
                self.reply_with(text, consent_buttons(t, &survey.id));
            }
            Some(Next::Question(q)) => {
                let (text, buttons) = question_message(t, survey, q);
                if let QuestionKind::Text { .. } = q.kind {
                    self.set_pending(Some(PendingQuestion::SurveyText {
                        survey: survey.id.clone(),
                        question: q.id.clone(),
                    }));
                }
                self.reply_with(text, buttons);
            }
        }
    }
}

/// What brought the next question up.
#[derive(Clone, Copy)]
enum Asked {
    /// 「アンケート」's button: nothing was answered.
    Next,
    /// An answer was stored; `complete_before`: every question had an answer already.
    Answered { complete_before: bool },
}

enum Next<'s> {
    Consent,
    Question(&'s Question),
}

/// The first question `response` has no answer to: the research-consent one, then the
/// survey's own in order.
fn next_question<'s>(survey: &'s Survey, response: Option<&SurveyResponse>) -> Option<Next<'s>> {
    let Some(response) = response else {
        return Some(Next::Consent);
    };
    if response.research_consent.is_none() {
        return Some(Next::Consent);
    }
    survey
        .questions
        .iter()
        .find(|q| !response.answers.contains_key(&q.id))
        .map(Next::Question)
}

/// One question as a message: its text (with what 1 and 5 mean, or how to answer in text)
/// and one button per choice or point.
fn question_message(t: &dyn Texts, survey: &Survey, q: &Question) -> (String, Vec<QuickReplyItem>) {
    let tap = |value: u8| Postback::Survey {
        survey: survey.id.clone(),
        tap: SurveyTap::Answer {
            question: q.id.clone(),
            value,
        },
    };
    match &q.kind {
        QuestionKind::Choice { choices } => (
            q.text.clone(),
            choices
                .iter()
                .zip(0u8..)
                .map(|(label, i)| postback_button(label, tap(i)))
                .collect(),
        ),
        QuestionKind::Scale { low, high } => (
            format!("{}\n{}", q.text, t.survey_scale_hint(low, high)),
            SCALE_POINTS
                .map(|point| postback_button(&point.to_string(), tap(point)))
                .collect(),
        ),
        QuestionKind::Text { max_chars } => (
            format!("{}\n{}", q.text, t.survey_text_hint(*max_chars)),
            Vec::new(),
        ),
    }
}

/// A title as a button label (LINE: at most 20 characters).
fn button_label(title: &str) -> String {
    const MAX: usize = crate::message::MAX_ACTION_LABEL_CHARS;
    if title.chars().count() <= MAX {
        title.to_owned()
    } else {
        let mut label: String = title.chars().take(MAX - 1).collect();
        label.push('…');
        label
    }
}
