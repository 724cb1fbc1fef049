//! Answering a survey in the chat: the invitation's buttons, the questions one by one, typed
//! answers, changes until the close, and the replies that store nothing (closed, unknown, not
//! for this household). On the sample pack's survey (`content/surveys/messages-2027.toml`:
//! open 2027-10-01 to 2027-11-30, babies 60–180 days old, every town).

mod common;

use common::*;
use kizuna_core::content::ContentLibrary;
use kizuna_core::conversation::{HouseholdChange, Outcome};
use kizuna_core::plan::{plan_household, PlannedKind};
use kizuna_core::survey::{Answer, SurveyId};
use kizuna_core::{Household, Message, PendingQuestion};
use std::path::Path;
use std::sync::OnceLock;

fn sample() -> &'static ContentLibrary {
    static LIBRARY: OnceLock<ContentLibrary> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        ContentLibrary::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"))
            .expect("the sample pack loads")
    })
}

fn survey_id() -> SurveyId {
    SurveyId::parse("messages-2027").unwrap()
}

/// A registered parent of a baby born 2027-08-01 (child day 61 on 2027-10-01, the survey's
/// first day), chatting on `today`.
fn parent(today: chrono::NaiveDate) -> Chat {
    let mut chat = Chat::new(today);
    chat.household = Some(consented_household(vec![child(1, d(2027, 8, 1))]));
    chat.content = Some(sample());
    chat
}

/// The invitation the daily push carries for `chat`'s household today, as an outcome whose
/// buttons the test can tap.
fn invitation(chat: &Chat) -> Outcome {
    let household = chat.household();
    let plan = plan_household(
        household,
        chat.today,
        &sample().for_municipality(&household.municipality),
    );
    assert!(
        matches!(plan.items.last().map(|i| &i.kind), Some(PlannedKind::Survey { id }) if *id == survey_id()),
        "the push ends with the invitation: {:?}",
        plan.items
    );
    Outcome {
        household: HouseholdChange::Unchanged,
        replies: vec![plan.messages.last().unwrap().clone()],
        consumed: true,
    }
}

fn response(chat: &Chat) -> kizuna_core::survey::SurveyResponse {
    chat.household().surveys[&survey_id()].clone()
}

#[test]
fn the_invitation_leads_through_every_question_to_the_thanks_and_stores_each_answer_once() {
    let mut chat = parent(d(2027, 10, 1));
    let invited = invitation(&chat);
    assert_eq!(labels(&invited), ["研究に使ってよい", "研究には使わないで"]);

    let scale = tap(&mut chat, &invited, "研究に使ってよい", None);
    assert!(
        reply_text(&scale).starts_with("毎日のメッセージは"),
        "{}",
        reply_text(&scale)
    );
    assert!(reply_text(&scale).contains("1：役に立っていない"));
    assert_eq!(labels(&scale), ["1", "2", "3", "4", "5"]);
    assert_eq!(response(&chat).research_consent, Some(true));
    assert_eq!(response(&chat).stage_band.as_deref(), Some("child_0_2m"));

    let choice = tap(&mut chat, &scale, "4", None);
    assert_eq!(
        labels(&choice),
        ["いる", "ときどきいる", "いない", "わからない"]
    );
    let text_question = tap(&mut chat, &choice, "いない", None);
    assert!(reply_text(&text_question).contains("200文字まで"));
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::SurveyText {
            survey: survey_id(),
            question: SurveyId::parse("comment").unwrap()
        })
    );

    let thanks = chat.text("夜中のメッセージに救われています。");
    assert!(reply_text(&thanks).starts_with("ご協力ありがとうございました。"));
    assert_eq!(chat.household().pending, None);
    let answers = response(&chat).answers;
    let answer = |q: &str| answers[&SurveyId::parse(q).unwrap()].answer.clone();
    assert_eq!(answer("useful"), Answer::Scale(4));
    assert_eq!(answer("someone-to-talk-to"), Answer::Choice(2));
    assert_eq!(
        answer("comment"),
        Answer::Text("夜中のメッセージに救われています。".into())
    );
    assert_eq!(answers.len(), 3, "one answer per question");

    // The same tap again (a redelivery reaching the conversation, or a second tap) stores the
    // same single answer.
    let before = chat.household().clone();
    tap(&mut chat, &choice, "いない", None);
    assert_eq!(chat.household().surveys, before.surveys);
}

#[test]
fn declining_research_use_still_lets_the_parent_answer_and_is_kept_as_no() {
    let mut chat = parent(d(2027, 10, 1));
    let invited = invitation(&chat);
    let scale = tap(&mut chat, &invited, "研究には使わないで", None);
    assert_eq!(labels(&scale), ["1", "2", "3", "4", "5"]);
    tap(&mut chat, &scale, "5", None);
    assert_eq!(response(&chat).research_consent, Some(false));
    assert_eq!(response(&chat).answers.len(), 1);
}

#[test]
fn an_old_button_changes_the_answer_until_the_close_and_then_gets_a_closed_reply() {
    let mut chat = parent(d(2027, 10, 1));
    let invited = invitation(&chat);
    let scale = tap(&mut chat, &invited, "研究に使ってよい", None);
    let choice = tap(&mut chat, &scale, "4", None);
    let text_question = tap(&mut chat, &choice, "いる", None);
    assert!(!buttons(&text_question).is_empty() || chat.household().pending.is_some());
    chat.text("なし");

    chat.today = d(2027, 11, 30);
    let changed = tap(&mut chat, &scale, "2", None);
    assert_eq!(
        reply_text(&changed),
        "お答えを変更しました。ありがとうございます。"
    );
    let useful = &response(&chat).answers[&SurveyId::parse("useful").unwrap()];
    assert_eq!(useful.answer, Answer::Scale(2));
    assert_eq!(useful.answered_on, d(2027, 11, 30));

    chat.today = d(2027, 12, 1);
    let before = chat.household().clone();
    let closed = tap(&mut chat, &scale, "1", None);
    assert_eq!(
        closed.household,
        HouseholdChange::Unchanged,
        "nothing stored after the close"
    );
    assert!(reply_text(&closed).starts_with("このアンケートは終了しました"));
    assert_eq!(chat.household(), &before);
}

#[test]
fn an_unknown_survey_or_a_household_outside_the_audience_gets_a_clear_reply_and_nothing_stored() {
    let mut chat = parent(d(2027, 10, 1));
    let unknown = chat.postback("kizuna:v1:sv:no-such-survey:research-consent:yes", None);
    assert_eq!(unknown.household, HouseholdChange::Unchanged);
    assert_eq!(
        reply_text(&unknown),
        "このアンケートは、いまは受け付けていません。"
    );

    // A baby of nine months: outside the 60–180-day window all the while the survey is open.
    let mut older = Chat::new(d(2027, 10, 1));
    older.household = Some(consented_household(vec![child(1, d(2027, 1, 1))]));
    older.content = Some(sample());
    let tapped = older.postback("kizuna:v1:sv:messages-2027:research-consent:yes", None);
    assert_eq!(tapped.household, HouseholdChange::Unchanged);
    assert!(reply_text(&tapped).contains("一部の時期の方"));
    let listed = older.text("アンケート");
    assert_eq!(
        reply_text(&listed),
        "いまお願いしているアンケートはありません。"
    );

    // Before the invitation day the survey is not offered either.
    let mut early = parent(d(2027, 9, 30));
    let tapped = early.postback("kizuna:v1:sv:messages-2027:research-consent:yes", None);
    assert_eq!(tapped.household, HouseholdChange::Unchanged);
}

#[test]
fn a_typed_answer_over_the_limit_is_refused_and_the_question_stays_open() {
    let mut chat = parent(d(2027, 10, 1));
    let invited = invitation(&chat);
    let scale = tap(&mut chat, &invited, "研究に使ってよい", None);
    let choice = tap(&mut chat, &scale, "3", None);
    tap(&mut chat, &choice, "いる", None);
    let too_long = chat.text(&"あ".repeat(201));
    assert!(
        reply_text(&too_long).contains("201文字"),
        "{}",
        reply_text(&too_long)
    );
    assert!(matches!(
        chat.household().pending,
        Some(PendingQuestion::SurveyText { .. })
    ));
    assert_eq!(
        response(&chat).answers.len(),
        2,
        "the long text is not stored"
    );
    let ok = chat.text(&"あ".repeat(200));
    assert!(reply_text(&ok).starts_with("ご協力ありがとうございました。"));
    // A command still works while a text answer is awaited, and the question lapses.
    let mut other = parent(d(2027, 10, 1));
    let invited = invitation(&other);
    let scale = tap(&mut other, &invited, "研究に使ってよい", None);
    let choice = tap(&mut other, &scale, "3", None);
    tap(&mut other, &choice, "いる", None);
    let help = other.text("ヘルプ");
    assert!(!reply_text(&help).is_empty());
    assert_eq!(other.household().pending, None);
}

#[test]
fn the_survey_command_lists_open_surveys_with_a_button_that_resumes_where_the_parent_stopped() {
    let mut chat = parent(d(2027, 10, 5));
    let listed = chat.text("アンケート");
    assert!(reply_text(&listed).contains("・メッセージについてのアンケート"));
    assert_eq!(labels(&listed), ["メッセージについてのアンケート"]);
    let first = tap(&mut chat, &listed, "メッセージについてのアンケート", None);
    assert_eq!(
        labels(&first),
        ["研究に使ってよい", "研究には使わないで"],
        "starts with consent"
    );
    let scale = tap(&mut chat, &first, "研究に使ってよい", None);
    let _ = scale;
    // Resumed later: the next unanswered question, not the first.
    let listed = chat.text("survey");
    let resumed = tap(&mut chat, &listed, "メッセージについてのアンケート", None);
    assert_eq!(labels(&resumed), ["1", "2", "3", "4", "5"]);
    let choice = tap(&mut chat, &resumed, "5", None);
    let text_q = tap(&mut chat, &choice, "いる", None);
    let _ = text_q;
    chat.text("ありがとう");
    let none_left = chat.text("アンケート");
    assert_eq!(
        reply_text(&none_left),
        "いまお願いしているアンケートはありません。"
    );
}

#[test]
fn an_english_reader_gets_the_consent_question_in_english() {
    let mut chat = parent(d(2027, 10, 1));
    chat.household.as_mut().unwrap().language = kizuna_core::Language::English;
    let invited = invitation(&chat);
    let Message::Text { text, .. } = &invited.replies[0];
    assert!(text.contains("joint research"), "{text}");
    assert_eq!(labels(&invited), ["Yes, for research", "No research use"]);
    let scale = tap(&mut chat, &invited, "No research use", None);
    assert!(reply_text(&scale).contains("(1: 役に立っていない – 5: とても役に立っている)"));
}

#[test]
fn deleting_everything_erases_the_answers_with_the_household() {
    let mut chat = parent(d(2027, 10, 1));
    let invited = invitation(&chat);
    tap(&mut chat, &invited, "研究に使ってよい", None);
    assert!(!chat.household().surveys.is_empty());
    let question = chat.text("削除");
    let deleted = tap(&mut chat, &question, "削除する", None);
    assert_eq!(deleted.household, HouseholdChange::Delete);
    assert!(chat.household.is_none());
}

#[test]
fn a_parent_asked_for_a_new_privacy_notice_sees_it_before_an_answer_is_stored() {
    let mut chat = parent(d(2027, 10, 1));
    chat.policy_version = "2".to_owned();
    let tapped = chat.postback("kizuna:v1:sv:messages-2027:research-consent:yes", None);
    let stored: Option<&Household> = match &tapped.household {
        HouseholdChange::Save(h) => Some(h),
        _ => None,
    };
    assert!(stored.is_none_or(|h| h.surveys.is_empty()));
    assert!(labels(&tapped).contains(&"同意する".to_owned()));
}
