//! Conversation paths, one test per command and per path a parent can take.

mod common;

use common::*;
use kizuna_core::conversation::{HouseholdChange, MAX_ACTIVE_REGISTRATIONS};
use kizuna_core::message::Action;
use kizuna_core::{EndReason, PendingQuestion, Registration, RegistrationStatus, Subject};

/// A parent who agreed to the current notice, with these registrations and no open question.
fn chat_with(registrations: Vec<Registration>) -> Chat {
    let mut household = consented_household(registrations);
    household.version = 7;
    let mut chat = Chat::new(today());
    chat.household = Some(household);
    chat
}

fn active(chat: &Chat) -> Vec<Registration> {
    chat.household().active_registrations().cloned().collect()
}

#[test]
fn whole_journey_from_follow_to_deletion() {
    let mut chat = Chat::new(today());

    // Follow: the town's greeting and the privacy notice; only the follow state is stored.
    let notice = chat.follow();
    assert!(notice.consumed);
    let text = reply_text(&notice);
    assert!(text.contains(TOWN), "{text}");
    assert!(text.contains("毎日20時ごろ"), "{text}");
    assert!(text.contains("個人情報"), "{text}");
    assert!(chat.household().registrations.is_empty());
    assert_eq!(chat.household().consent, None);

    // 同意して登録する: consent recorded, then the welcome's question, with two date pickers
    // bounded as the issue says.
    let welcome = chat.agree(&notice);
    assert_eq!(chat.household().consent, Some(chat.consent_today()));
    let text = reply_text(&welcome);
    assert!(
        text.contains("出産予定日") && text.contains("生年月日"),
        "{text}"
    );
    match button(&welcome, "出産予定日を選ぶ") {
        Action::DatePicker { data, min, max, .. } => {
            assert_eq!(data, "kizuna:v1:date:due");
            assert_eq!(min, Some(d(2027, 1, 10)));
            assert_eq!(max, Some(d(2027, 11, 6))); // today + 300 days
        }
        other => panic!("{other:?}"),
    }
    match button(&welcome, "生年月日を選ぶ") {
        Action::DatePicker { data, min, max, .. } => {
            assert_eq!(data, "kizuna:v1:date:birth");
            assert_eq!(min, Some(d(2024, 1, 10)));
            assert_eq!(max, Some(d(2027, 1, 10)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::NewRegistrationDate)
    );

    // Picker date: a pregnancy, and a confirmation saying what and when.
    let confirmed = tap(&mut chat, &welcome, "出産予定日を選ぶ", Some(d(2027, 5, 1)));
    let text = reply_text(&confirmed);
    assert!(text.contains("2027年5月1日"), "{text}");
    assert!(text.contains("妊娠24週1日"), "{text}");
    assert!(text.contains("毎日20時ごろ"), "{text}");
    assert!(
        text.contains("ヘルプ") && text.contains("生まれました"),
        "{text}"
    );
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 5, 1)
        }
    );
    assert_eq!(chat.household().pending, None);

    // 生まれました, three weeks early, some weeks later.
    chat.today = d(2027, 4, 20);
    let asked = chat.text("生まれました");
    assert!(reply_text(&asked).contains("おめでとう"));
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::BirthDate { registration: 1 })
    );
    match button(&asked, "生まれた日を選ぶ") {
        Action::DatePicker {
            min, max, initial, ..
        } => {
            assert_eq!(max, Some(d(2027, 4, 20)));
            assert_eq!(initial, Some(d(2027, 4, 20)));
            assert!(min.unwrap() < d(2027, 4, 20));
        }
        other => panic!("{other:?}"),
    }
    let born = tap(&mut chat, &asked, "生まれた日を選ぶ", Some(d(2027, 4, 10)));
    let text = reply_text(&born);
    assert!(
        text.contains("2027年4月10日") && text.contains("生後10日"),
        "{text}"
    );
    assert!(
        text.contains("生後100日までは毎日") && text.contains("20時ごろ"),
        "{text}"
    );
    assert!(text.contains("お誕生日"), "{text}");
    let reg = &active(&chat)[0];
    assert_eq!(reg.id, 1);
    assert_eq!(
        reg.subject,
        Subject::Child {
            birth_date: d(2027, 4, 10),
            due_date: Some(d(2027, 5, 1))
        }
    );

    // Twins.
    let twins = tap(&mut chat, &born, "ふたごです", None);
    assert!(reply_text(&twins).contains("ふたご"));
    assert_eq!(active(&chat)[0].baby_count, 2);

    // 停止 / 再開.
    let paused = chat.text("停止");
    assert!(chat.household().paused);
    // The day of the pause, for the monthly figures of `kizuna stats`.
    assert_eq!(chat.household().paused_on, Some(chat.today));
    assert!(!chat.household().receives_messages());
    assert!(reply_text(&paused).contains("再開"));
    let resumed = chat.text("再開");
    assert!(!chat.household().paused);
    assert_eq!(chat.household().paused_on, None);
    assert!(chat.household().receives_messages());
    assert!(reply_text(&resumed).contains("毎日20時ごろ"));

    // 削除 asks first; 削除する erases.
    let asked = chat.text("削除");
    assert_eq!(
        asked.household,
        HouseholdChange::Save(chat.household().clone())
    );
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::DeleteConfirmation)
    );
    assert!(reply_text(&asked).contains("元に戻せません"));
    let deleted = chat.text("削除する");
    assert_eq!(deleted.household, HouseholdChange::Delete);
    assert!(reply_text(&deleted).contains("削除しました"));
    assert!(chat.household.is_none());
}

#[test]
fn delete_button_works_while_asked() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let asked = chat.text("削除");
    let deleted = tap(&mut chat, &asked, "削除する", None);
    assert_eq!(deleted.household, HouseholdChange::Delete);
}

#[test]
fn an_old_delete_button_only_asks_again() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let asked = chat.text("削除");
    chat.text("登録内容"); // the question lapses
    let again = tap(&mut chat, &asked, "削除する", None);
    assert_ne!(again.household, HouseholdChange::Delete);
    assert!(reply_text(&again).contains("よろしいですか"));
    // And typing 削除する with nothing asked also asks.
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let typed = chat.text("削除する");
    assert_ne!(typed.household, HouseholdChange::Delete);
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::DeleteConfirmation)
    );
}

#[test]
fn delete_can_be_declined() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let asked = chat.text("削除");
    let kept = tap(&mut chat, &asked, "やめておく", None);
    assert!(reply_text(&kept).contains("そのまま"));
    assert_eq!(chat.household().pending, None);
    assert_eq!(active(&chat).len(), 1);
}

#[test]
fn delete_with_nothing_stored_says_so() {
    let mut chat = Chat::new(today());
    let outcome = chat.text("削除");
    assert!(outcome.consumed);
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
    assert!(reply_text(&outcome).contains("ありません"));
}

#[test]
fn typed_date_right_after_consent_registers_it() {
    let mut chat = Chat::consented(today());
    let outcome = chat.text("予定日は令和9年5月1日です");
    assert!(reply_text(&outcome).contains("登録しました"));
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 5, 1)
        }
    );
}

#[test]
fn typed_date_with_nothing_registered_picks_the_kind_by_side_of_today() {
    // Agreed, but nothing registered and nothing asked (all registrations deleted earlier).
    let mut chat = chat_with(vec![]);
    let outcome = chat.text("２０２６年１１月３日");
    assert!(outcome.consumed);
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Child {
            birth_date: d(2026, 11, 3),
            due_date: None
        }
    );
    assert!(reply_text(&outcome).contains("生後68日"));

    let mut chat = chat_with(vec![]);
    chat.text("2027-08-20");
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 8, 20)
        }
    );
}

#[test]
fn a_date_without_year_that_could_be_either_is_asked_about() {
    let mut chat = Chat::consented(today());
    let asked = chat.text("7月20日");
    assert!(reply_text(&asked).contains("どちら"));
    assert!(active(&chat).is_empty());
    let registered = tap(&mut chat, &asked, "生年月日 2026/7/20", None);
    assert!(reply_text(&registered).contains("登録しました"));
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Child {
            birth_date: d(2026, 7, 20),
            due_date: None
        }
    );
}

#[test]
fn a_date_without_year_with_one_plausible_reading_is_taken() {
    // 12/25: last Christmas is a birth date; next Christmas is 349 days ahead, too far for a due date.
    let mut chat = Chat::consented(today());
    chat.text("12/25");
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Child {
            birth_date: d(2026, 12, 25),
            due_date: None
        }
    );
}

#[test]
fn implausible_dates_get_a_helpful_reply_and_change_nothing() {
    let cases = [
        ("2029/1/1", "2027年11月6日までの日付"),
        ("2020/1/1", "3歳までのお子さん"),
        ("2027/2/30", "2月30日という日はありません"),
        ("2027/13/1", "13月という月はありません"),
        ("H31.5.1", "平成は2019年4月30日まで"),
        ("2027年5月", "日にちまで"),
    ];
    for (typed, expected) in cases {
        let mut chat = Chat::consented(today());
        let before = chat.household.clone();
        let outcome = chat.text(typed);
        assert!(outcome.consumed, "{typed}");
        assert_eq!(outcome.household, HouseholdChange::Unchanged, "{typed}");
        assert_eq!(chat.household, before);
        let text = reply_text(&outcome);
        assert!(text.contains(expected), "{typed}: {text}");
        assert!(!buttons(&outcome).is_empty(), "pickers offered again");
    }
}

#[test]
fn a_due_date_just_past_is_still_a_pregnancy_when_a_due_date_was_asked() {
    let mut chat = chat_with(vec![]);
    chat.household.as_mut().unwrap().pending = Some(PendingQuestion::NewDueDate);
    chat.text("2027/1/1");
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 1, 1)
        }
    );
}

#[test]
fn picker_dates_outside_the_window_are_refused() {
    let mut chat = chat_with(vec![]);
    let outcome = chat.postback("kizuna:v1:date:birth", Some(d(2027, 3, 1)));
    assert!(reply_text(&outcome).contains("今日より先"));
    assert!(chat.household.is_none() || active(&chat).is_empty());
}

#[test]
fn the_same_date_twice_does_not_register_twice() {
    let mut chat = chat_with(vec![]);
    chat.postback("kizuna:v1:date:due", Some(d(2027, 5, 1)));
    let again = chat.postback("kizuna:v1:date:due", Some(d(2027, 5, 1)));
    assert!(reply_text(&again).contains("すでに登録"));
    assert_eq!(active(&chat).len(), 1);
}

#[test]
fn show_lists_each_registration_with_its_stage() {
    let mut chat = chat_with(vec![
        pregnancy(1, d(2027, 7, 22)), // 12w3d on 2027-01-10: day 87 = due - 193 days
        child(2, d(2026, 12, 4)),     // 37 days
        child(3, d(2025, 11, 5)),     // 1 year 2 months
    ]);
    let outcome = chat.text("登録内容");
    let text = reply_text(&outcome);
    for expected in [
        "出産予定日 2027年7月22日（妊娠12週3日）",
        "お子さん 2026年12月4日生まれ（生後37日）",
        "お子さん 2025年11月5日生まれ（1歳2か月）",
        "毎日20時ごろ",
    ] {
        assert!(text.contains(expected), "{expected} missing in {text}");
    }
    chat.text("停止");
    let text = reply_text(&chat.text("登録内容")).to_owned();
    assert!(text.contains("停止中"), "{text}");
}

#[test]
fn show_with_nothing_registered_asks_for_a_date() {
    let mut chat = chat_with(vec![]);
    let outcome = chat.text("登録内容");
    assert!(reply_text(&outcome).contains("登録がありません"));
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::NewRegistrationDate)
    );
}

#[test]
fn change_with_one_registration_goes_straight_to_the_picker() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let asked = chat.text("変更");
    assert!(reply_text(&asked).contains("2027年5月1日"));
    let changed = tap(&mut chat, &asked, "新しい日付を選ぶ", Some(d(2027, 5, 8)));
    assert!(reply_text(&changed).contains("変更しました"));
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 5, 8)
        }
    );
    // The changed date can also be typed.
    chat.text("変更");
    chat.text("5/15");
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 5, 15)
        }
    );
}

#[test]
fn change_with_several_registrations_asks_which() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1)), child(2, d(2025, 6, 1))]);
    let which = chat.text("変更");
    assert_eq!(buttons(&which).len(), 2);
    let asked = tap(&mut chat, &which, "2025/6/1生まれ", None);
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::ChangedDate { registration: 2 })
    );
    tap(&mut chat, &asked, "新しい日付を選ぶ", Some(d(2025, 6, 2)));
    assert_eq!(
        chat.household().registration(2).unwrap().subject,
        Subject::Child {
            birth_date: d(2025, 6, 2),
            due_date: None
        }
    );
}

#[test]
fn add_registers_another_child() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let asked = chat.text("追加");
    tap(&mut chat, &asked, "生年月日を選ぶ", Some(d(2025, 6, 1)));
    let active = active(&chat);
    assert_eq!(active.len(), 2);
    assert_eq!(active[1].id, 2);
}

#[test]
fn registrations_are_limited_with_a_kind_refusal() {
    let regs = (1..=MAX_ACTIVE_REGISTRATIONS as u32)
        .map(|i| child(i, d(2025, 1, i)))
        .collect();
    let mut chat = chat_with(regs);
    let outcome = chat.text("追加");
    assert!(reply_text(&outcome).contains("5件まで"));
    let outcome = chat.postback("kizuna:v1:date:due", Some(d(2027, 5, 1)));
    assert!(reply_text(&outcome).contains("5件まで"));
    assert_eq!(active(&chat).len(), MAX_ACTIVE_REGISTRATIONS);
}

#[test]
fn born_with_no_pregnancy_offers_a_child_registration() {
    let mut chat = chat_with(vec![child(1, d(2025, 6, 1))]);
    let asked = chat.text("生まれました");
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::NewBirthDate)
    );
    tap(&mut chat, &asked, "生年月日を選ぶ", Some(d(2027, 1, 9)));
    assert_eq!(active(&chat).len(), 2);
}

#[test]
fn born_far_from_the_due_date_is_questioned() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 10, 1))]);
    chat.text("生まれました");
    let outcome = chat.text("2027/1/5");
    assert!(reply_text(&outcome).contains("離れた日付"));
    assert!(matches!(
        active(&chat)[0].subject,
        Subject::Pregnancy { .. }
    ));
}

#[test]
fn born_late_is_accepted() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 1, 1))]);
    chat.text("生まれました");
    chat.text("1/8");
    assert_eq!(
        active(&chat)[0].subject,
        Subject::Child {
            birth_date: d(2027, 1, 8),
            due_date: Some(d(2027, 1, 1))
        }
    );
}

#[test]
fn born_with_two_pregnancies_asks_which() {
    let mut chat = chat_with(vec![
        pregnancy(1, d(2027, 1, 20)),
        pregnancy(2, d(2027, 9, 1)),
    ]);
    let which = chat.text("産まれました");
    assert_eq!(buttons(&which).len(), 2);
    let asked = tap(&mut chat, &which, "予定日 2027/1/20", None);
    tap(&mut chat, &asked, "生まれた日を選ぶ", Some(d(2027, 1, 9)));
    assert!(matches!(
        chat.household().registration(1).unwrap().subject,
        Subject::Child { .. }
    ));
    assert!(matches!(
        chat.household().registration(2).unwrap().subject,
        Subject::Pregnancy { .. }
    ));
}

#[test]
fn pause_offers_resume_and_the_gentle_end() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let paused = chat.text("停止");
    let labels: Vec<String> = buttons(&paused).iter().map(data_of).collect();
    assert_eq!(labels, ["再開", "配信をすべて終了"]);
    assert!(reply_text(&chat.text("停止")).contains("いま停止しています"));
    assert!(reply_text(&chat.text("再開")).contains("再開しました"));
    assert!(reply_text(&chat.text("再開")).contains("止まっていません"));
}

#[test]
fn ending_everything_is_gentle_and_final() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1)), child(2, d(2025, 6, 1))]);
    // Reached from 停止, without ever naming a reason.
    let paused = chat.text("停止");
    let asked = tap(&mut chat, &paused, "配信をすべて終了", None);
    let question = reply_text(&asked);
    assert!(question.contains("すべての配信を終了しますか"));
    assert!(!question.contains("流産") && !question.contains("死"));
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::LossConfirmation { registration: None })
    );
    let ended = tap(&mut chat, &asked, "終了する", None);
    let text = reply_text(&ended);
    assert!(text.contains("終了しました"));
    assert!(text.contains("きずな町の保健師"));
    assert!(buttons(&ended).is_empty(), "nothing more to tap");
    let household = chat.household();
    assert_eq!(household.active_registrations().count(), 0);
    assert!(!household.receives_messages());
    for reg in &household.registrations {
        assert_eq!(
            reg.status,
            RegistrationStatus::Ended {
                reason: EndReason::Loss,
                on: today()
            }
        );
    }
    // Nothing to show afterwards, and nothing to end again.
    assert!(reply_text(&chat.text("配信をすべて終了")).contains("配信中の登録はありません"));
}

#[test]
fn ending_everything_can_be_declined() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let asked = chat.text("配信をすべて停止");
    tap(&mut chat, &asked, "やめておく", None);
    assert_eq!(active(&chat).len(), 1);
    // The confirm button no longer acts once the question was answered.
    let again = tap(&mut chat, &asked, "終了する", None);
    assert!(reply_text(&again).contains("終了しますか"));
    assert_eq!(active(&chat).len(), 1);
}

#[test]
fn help_lists_every_command() {
    let mut chat = Chat::new(today());
    let outcome = chat.text("　ヘルプ　");
    let text = reply_text(&outcome);
    for word in [
        "登録内容",
        "変更",
        "生まれました",
        "追加",
        "停止",
        "再開",
        "削除",
        "配信をすべて終了",
        "個人情報",
    ] {
        assert!(text.contains(word), "{word}");
    }
    assert_eq!(buttons(&outcome).len(), 9);
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
}

#[test]
fn unfollow_stops_everything_silently() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    chat.household.as_mut().unwrap().pending = Some(PendingQuestion::NewDueDate);
    let outcome = chat.send(kizuna_core::conversation::Inbound::Unfollow);
    assert!(outcome.replies.is_empty());
    assert!(!outcome.consumed, "other services hear about unfollows too");
    let household = chat.household();
    assert!(!household.following);
    assert_eq!(household.unfollowed_on, Some(today()));
    assert_eq!(household.pending, None);
    assert!(!household.receives_messages());
}

#[test]
fn refollow_asks_before_sending_anything() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    chat.send(kizuna_core::conversation::Inbound::Unfollow);
    let asked = chat.send(kizuna_core::conversation::Inbound::Follow { unblocked: true });
    assert!(reply_text(&asked).contains("再開しますか"));
    assert!(chat.household().following);
    // Paused from the re-follow until the parent says yes.
    assert_eq!(chat.household().paused_on, Some(today()));
    assert!(
        !chat.household().receives_messages(),
        "nothing until they say yes"
    );
    let resumed = tap(&mut chat, &asked, "再開する", None);
    assert!(reply_text(&resumed).contains("再開しました"));
    assert!(chat.household().receives_messages());
    assert_eq!(chat.household().paused_on, None);
}

#[test]
fn refollow_can_stay_paused() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    chat.send(kizuna_core::conversation::Inbound::Unfollow);
    let asked = chat.send(kizuna_core::conversation::Inbound::Follow { unblocked: false });
    let kept = tap(&mut chat, &asked, "やめておく", None);
    assert!(reply_text(&kept).contains("止めたまま"));
    assert!(!chat.household().receives_messages());
}

#[test]
fn a_duplicate_follow_is_silent() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let outcome = chat.follow();
    assert!(outcome.replies.is_empty());
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
    assert!(chat.household().receives_messages());
}

#[test]
fn texts_that_are_not_ours_get_silence() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    for text in [
        "こんにちは",
        "ごみの日はいつ？",
        "5/1",
        "ヘルプを見たい",
        "やめる",
        "",
    ] {
        let outcome = chat.text(text);
        assert!(!outcome.consumed, "{text:?}");
        assert!(outcome.replies.is_empty());
        assert_eq!(outcome.household, HouseholdChange::Unchanged, "{text:?}");
    }
    // Also with nothing registered, a text without a date is not ours.
    let mut chat = Chat::new(today());
    let outcome = chat.text("防災情報");
    assert!(!outcome.consumed);
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
}

#[test]
fn while_a_date_is_asked_other_texts_pass_through_and_the_question_stays() {
    let mut chat = Chat::consented(today());
    let outcome = chat.text("子育て支援センターの場所");
    assert!(!outcome.consumed);
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::NewRegistrationDate)
    );
    chat.text("2027/5/1");
    assert_eq!(active(&chat).len(), 1);
}

#[test]
fn an_unanswered_confirmation_lapses_on_other_text() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    chat.text("削除");
    let outcome = chat.text("ありがとう");
    assert!(!outcome.consumed);
    assert_eq!(chat.household().pending, None);
}

#[test]
fn foreign_postbacks_are_not_ours_and_stale_ones_get_a_short_reply() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    let foreign = chat.postback("action=reserve&id=3", None);
    assert!(!foreign.consumed);
    assert!(foreign.replies.is_empty());

    for stale in [
        "kizuna:v2:something",
        "kizuna:v1:nonsense",
        "kizuna:v1:change:99",
        "kizuna:v1:born:99",
        "kizuna:v1:babies:99:2",
        "kizuna:v1:date:due", // a picker event without its date
    ] {
        let outcome = chat.postback(stale, None);
        assert!(outcome.consumed, "{stale}");
        assert!(reply_text(&outcome).contains("ヘルプ"), "{stale}");
        assert_eq!(outcome.household, HouseholdChange::Unchanged, "{stale}");
    }
}

#[test]
fn a_new_registration_while_paused_says_so() {
    let mut chat = chat_with(vec![pregnancy(1, d(2027, 5, 1))]);
    chat.text("停止");
    let outcome = chat.postback("kizuna:v1:date:birth", Some(d(2026, 1, 1)));
    assert!(reply_text(&outcome).contains("停止しています"));
}

#[test]
fn a_date_for_a_registration_that_has_since_ended_is_not_applied() {
    let mut ended = pregnancy(1, d(2027, 5, 1));
    ended.status = RegistrationStatus::Ended {
        reason: EndReason::Loss,
        on: d(2027, 1, 5),
    };
    let mut chat = chat_with(vec![ended.clone()]);
    chat.household.as_mut().unwrap().pending =
        Some(PendingQuestion::ChangedDate { registration: 1 });
    let outcome = chat.text("2027/5/8");
    assert!(reply_text(&outcome).contains("ヘルプ"));
    assert_eq!(chat.household().registration(1), Some(&ended));
    assert_eq!(chat.household().pending, None);
    // The stale picker button does nothing either.
    let outcome = chat.postback("kizuna:v1:date:change:1", Some(d(2027, 5, 8)));
    assert!(reply_text(&outcome).contains("ヘルプ"));
    assert_eq!(chat.household().registration(1), Some(&ended));
}
