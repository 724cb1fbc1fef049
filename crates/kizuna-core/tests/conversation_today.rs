//! 今日のメッセージ (today's planned message, on request) and the schedule wording in the
//! registration reply and ヘルプ, against the sample pack and a custom schedule.

mod common;
mod plan_support;

use common::*;
use kizuna_core::content::{ContentLibrary, SourceFile};
use kizuna_core::conversation::HouseholdChange;
use kizuna_core::message::Message;
use kizuna_core::plan::plan_household;
use kizuna_core::{PendingQuestion, Registration};
use plan_support::sample;

/// A consented parent with these registrations, talking to a webhook that loaded the sample.
fn chat_with(registrations: Vec<Registration>) -> Chat {
    let household = consented_household(registrations);
    let mut chat = Chat::new(today());
    chat.household = Some(household);
    chat.content = Some(sample());
    chat
}

/// What the daily fan-out pushes to this household on `day`.
fn push(chat: &Chat, day: chrono::NaiveDate) -> Vec<Message> {
    let plan = plan_household(
        chat.household(),
        day,
        &sample().for_municipality(&municipality()),
    );
    assert!(plan.missing.is_empty());
    plan.messages
}

fn texts(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(Message::text_body).collect()
}

#[test]
fn on_a_pregnancy_day_the_reply_is_the_days_push_and_changes_nothing() {
    // 妊娠12週3日 on 2027-01-10.
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 7, 22))]);
    let expected = push(&chat, today());
    assert!(!expected.is_empty());
    let outcome = chat.text("今日のメッセージ");
    assert_eq!(outcome.replies, expected, "exactly the push, no heading");
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
    // The variants and spacing parents type.
    for variant in [
        "きょうのメッセージ",
        "今日の 配信",
        "今日のお便り",
        "今日のメッセージを見る",
    ] {
        assert_eq!(chat.text(variant).replies, expected, "{variant}");
    }
}

#[test]
fn on_a_scheduled_child_day_the_reply_is_the_days_push() {
    // Day 37: within the daily first 100 days.
    let mut chat = chat_with(vec![child(1, d(2026, 12, 4))]);
    let expected = push(&chat, today());
    assert!(!expected.is_empty());
    assert_eq!(chat.text("今日のメッセージ").replies, expected);
}

#[test]
fn between_scheduled_child_days_the_latest_push_comes_with_its_date() {
    // Day 150 on 2027-01-10; the sample pack schedules days 103, 106, …, 148, 151.
    let birth = d(2026, 8, 13);
    let mut chat = chat_with(vec![child(1, birth)]);
    assert_eq!((today() - birth).num_days(), 150);
    assert!(push(&chat, today()).is_empty(), "no push today");
    assert!(push(&chat, d(2027, 1, 9)).is_empty(), "nor yesterday");
    let latest = push(&chat, d(2027, 1, 8));
    assert!(!latest.is_empty());
    let outcome = chat.text("今日のメッセージ");
    assert_eq!(texts(&outcome.replies)[0], "1月8日のメッセージです。");
    assert_eq!(outcome.replies[1..], latest[..]);
}

#[test]
fn while_paused_the_message_is_shown_and_the_pause_is_said() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 7, 22))]);
    let expected = push(&chat, today());
    chat.household.as_mut().unwrap().paused = true;
    let outcome = chat.text("今日のメッセージ");
    let heading = texts(&outcome.replies)[0];
    assert!(
        heading.contains("停止中") && heading.contains("「再開」"),
        "{heading}"
    );
    assert_eq!(outcome.replies[1..], expected[..]);
    assert_eq!(
        outcome.household,
        HouseholdChange::Unchanged,
        "still paused"
    );
}

#[test]
fn two_registrations_get_the_labelled_push() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 7, 22)), child(2, d(2026, 12, 4))]);
    let expected = push(&chat, today());
    assert_eq!(expected.len(), 2);
    assert!(
        texts(&expected).iter().all(|t| t.starts_with('【')),
        "{expected:?}"
    );
    assert_eq!(chat.text("今日のメッセージ").replies, expected);
}

#[test]
fn nothing_registered_asks_for_a_date() {
    let mut chat = Chat::consented(today());
    chat.content = Some(sample());
    let outcome = chat.text("今日のメッセージ");
    assert!(reply_text(&outcome).contains("登録がありません"));
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::NewRegistrationDate)
    );
    assert_eq!(buttons(&outcome).len(), 2, "both date pickers");
}

#[test]
fn before_consent_and_under_a_new_policy_the_notice_comes_first() {
    let mut stranger = Chat::new(today());
    stranger.content = Some(sample());
    stranger.follow();
    let outcome = stranger.text("今日のメッセージ");
    assert!(reply_text(&outcome).contains("個人情報"));
    assert!(stranger.household().registrations.is_empty());

    let mut chat = chat_with(vec![pregnancy(1, d(2027, 7, 22))]);
    chat.policy_version = "2".to_owned();
    let outcome = chat.text("今日のメッセージ");
    assert_ne!(outcome.replies, push(&chat, today()));
    let _ = button(&outcome, "同意する");
}

#[test]
fn without_the_content_the_parent_is_asked_to_try_later() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 7, 22))]);
    chat.content = None;
    let outcome = chat.text("今日のメッセージ");
    assert!(reply_text(&outcome).contains("しばらくしてから"));
}

#[test]
fn nothing_planned_for_thirty_days_says_so() {
    // 妊娠3週5日 today: messages start at 妊娠4週, in two days; none was planned before.
    let mut chat = chat_with(vec![pregnancy(1, today() + chrono::Days::new(280 - 26))]);
    let outcome = chat.text("今日のメッセージ");
    assert!(reply_text(&outcome).contains("30日間"), "{outcome:?}");
}

#[test]
fn the_sample_schedule_is_described_from_the_pack() {
    let mut chat = Chat::consented(today());
    chat.content = Some(sample());
    let registered = chat.text("2026/12/4");
    let text = reply_text(&registered);
    assert!(
        text.contains(
            "生後100日までは毎日、その後は1歳のお誕生日まではおよそ3日ごと、2歳までは週に1回、\
             3歳のお誕生日までは2週間に1回、20時ごろにお届けします"
        ),
        "{text}"
    );
    let help = reply_text(&chat.text("ヘルプ")).to_owned();
    assert!(help.contains("2歳までは週に1回"), "{help}");
    assert!(help.contains("今日のメッセージ"), "{help}");
}

/// A pack with every text the schedule needs missing (loaded as the sender loads, gaps allowed)
/// and this `child_schedule`.
fn custom_schedule(rules: &[(u16, u16, u16)]) -> &'static ContentLibrary {
    let mut pack = "id = \"t\"\nversion = \"1\"\n".to_owned();
    for (from, to, every) in rules {
        pack.push_str(&format!(
            "[[child_schedule]]\nfrom_day = {from}\nto_day = {to}\nevery_days = {every}\n"
        ));
    }
    let birthdays = "[[birthday]]\nage = 1\ntext = \"a\"\n[[birthday]]\nage = 2\ntext = \"b\"\n\
                     [[birthday]]\nage = 3\ntext = \"c\"\n";
    let files = [
        ("base/pack.toml", pack.as_str()),
        ("base/child.toml", birthdays),
    ]
    .map(|(path, text)| SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    });
    let (library, _gaps) = ContentLibrary::from_files_allowing_gaps(files).unwrap();
    Box::leak(Box::new(library))
}

#[test]
fn a_custom_schedule_is_described_rule_by_rule() {
    let mut chat = Chat::consented(today());
    chat.content = Some(custom_schedule(&[
        (101, 200, 2),
        (203, 728, 7),
        (735, 1092, 30),
    ]));
    let registered = chat.text("2026/12/4");
    let text = reply_text(&registered);
    assert!(
        text.contains(
            "生後100日までは毎日、その後は生後200日まではおよそ2日ごと、2歳までは週に1回、\
             3歳のお誕生日まではおよそ30日ごと、"
        ),
        "{text}"
    );
    assert!(!text.contains("3日ごと"), "{text}");

    chat.content = Some(custom_schedule(&[(101, 1092, 14)]));
    let help = reply_text(&chat.text("ヘルプ")).to_owned();
    assert!(
        help.contains("その後は3歳のお誕生日までは2週間に1回）"),
        "{help}"
    );
}

#[test]
fn without_the_content_the_schedule_is_described_without_intervals() {
    let mut chat = Chat::consented(today());
    let registered = chat.text("2026/12/4");
    let text = reply_text(&registered);
    assert!(
        text.contains("その後は間をあけて3歳のお誕生日まで"),
        "{text}"
    );
    assert!(!text.contains("週に"), "{text}");
}
