//! Consent before storing: the privacy notice at first contact, nothing stored until the parent
//! agrees, a new notice version asked again at the next interaction, and 「個人情報」 at any time.

mod common;

use common::*;
use kizuna_core::conversation::{HouseholdChange, Inbound};
use kizuna_core::{Consent, Household, PendingQuestion, Subject};

/// The first notice's buttons: agree, decline, and the other languages to read it in.
const FIRST_NOTICE_LABELS: [&str; 4] = [
    "同意して登録する",
    "登録しない",
    "やさしい にほんご",
    "English",
];

/// A parent registered under `consent` (None: stored before consent was asked at all), talking
/// to a town whose notice is now at `current_policy`.
fn registered_under(consent: Option<&str>, current_policy: &str) -> Chat {
    let mut household = Household::new(municipality(), user());
    household.registrations = vec![pregnancy(1, d(2027, 5, 1))];
    household.consent = consent.map(|version| Consent {
        policy_version: version.to_owned(),
        agreed_on: d(2026, 10, 1),
    });
    household.version = 4;
    let mut chat = Chat::new(today());
    chat.household = Some(household);
    chat.policy_version = current_policy.to_owned();
    chat
}

/// Nothing about the parent but the follow state and the open question.
fn assert_nothing_personal_stored(chat: &Chat) {
    if let Some(h) = &chat.household {
        assert!(h.registrations.is_empty(), "no registration: {h:?}");
        assert_eq!(h.consent, None);
        assert!(!h.paused);
    }
}

#[test]
fn follow_shows_the_notice_with_what_why_how_long_and_who() {
    let mut chat = Chat::new(today());
    let notice = chat.follow();
    assert!(notice.consumed);
    let text = reply_text(&notice);
    for expected in [
        "友だち追加ありがとうございます",
        TOWN,
        "出産予定日",
        "生年月日",
        "LINEのユーザー識別子",
        "月齢に合わせたメッセージ",
        "「削除」と送ると",
        "180日間",
        PRIVACY_URL,
        "「個人情報」と送ると",
        "毎日20時ごろ",
    ] {
        assert!(text.contains(expected), "{expected} missing in {text}");
    }
    assert_eq!(labels(&notice), FIRST_NOTICE_LABELS);
    assert_eq!(
        data_of(&button(&notice, "同意して登録する")),
        "kizuna:v1:consent:agree"
    );
    assert_eq!(
        data_of(&button(&notice, "登録しない")),
        "kizuna:v1:consent:decline"
    );

    // Stored: the follow state and the question, nothing else.
    let HouseholdChange::Save(stored) = &notice.household else {
        panic!("the open question is stored: {:?}", notice.household)
    };
    assert!(stored.following);
    assert_eq!(stored.unfollowed_on, None);
    assert_eq!(
        stored.pending,
        Some(PendingQuestion::Consent {
            policy_version: POLICY.to_owned()
        })
    );
    assert_nothing_personal_stored(&chat);
}

#[test]
fn without_a_policy_url_the_notice_points_to_the_town() {
    let mut chat = Chat::new(today());
    chat.privacy_url = None;
    let text = reply_text(&chat.follow()).to_owned();
    assert!(!text.contains("https://"), "{text}");
    assert!(text.contains("きずな町にお問い合わせください"), "{text}");
}

#[test]
fn declining_stores_nothing_and_says_how_to_register_later() {
    let mut chat = Chat::new(today());
    let notice = chat.follow();
    let declined = tap(&mut chat, &notice, "登録しない", None);
    let text = reply_text(&declined);
    assert!(text.contains("保存していません"), "{text}");
    assert!(text.contains("「登録」"), "{text}");
    assert!(buttons(&declined).is_empty(), "no buttons after 登録しない");
    assert_nothing_personal_stored(&chat);
    assert_eq!(chat.household().pending, None);
    assert!(chat.household().following, "the follow state is kept");

    // The agree button scrolled up in the chat no longer records anything: it asks again.
    let again = tap(&mut chat, &notice, "同意して登録する", None);
    assert_eq!(labels(&again), FIRST_NOTICE_LABELS);
    assert_nothing_personal_stored(&chat);

    // 登録 later brings the notice up again, and agreeing then works.
    let asked = chat.text("登録");
    assert_eq!(labels(&asked), FIRST_NOTICE_LABELS);
    chat.agree(&asked);
    assert_eq!(chat.household().consent, Some(chat.consent_today()));
}

#[test]
fn typing_yamete_oku_to_the_first_notice_is_declining() {
    let mut chat = Chat::new(today());
    chat.follow();
    let outcome = chat.text("やめておく");
    assert!(reply_text(&outcome).contains("登録はしていません"));
    assert_nothing_personal_stored(&chat);
}

#[test]
fn a_date_sent_before_consent_is_not_stored() {
    // Typed (several forms, with or without a follow first), picked, or from a "which date"
    // button: each gets the notice, and nothing but the open question is stored.
    let typed = [
        "2027/5/1",
        "令和9年5月1日",
        "5/1",
        "12/25",
        "2027/2/30",
        "2029/1/1",
    ];
    for follow_first in [false, true] {
        for text in typed {
            let mut chat = Chat::new(today());
            if follow_first {
                chat.follow();
            }
            let outcome = chat.text(text);
            assert!(outcome.consumed, "{text}");
            let reply = reply_text(&outcome);
            assert!(
                reply.contains("同意いただいてから日付をお受けします"),
                "{text}: {reply}"
            );
            assert_eq!(labels(&outcome), FIRST_NOTICE_LABELS, "{text}");
            assert_nothing_personal_stored(&chat);
            assert!(
                !serde_json::to_string(chat.household())
                    .unwrap()
                    .contains("2027-05-01"),
                "{text}: the date appears nowhere in what is stored"
            );
        }
    }
    let postbacks = [
        ("kizuna:v1:date:due", Some(d(2027, 5, 1))),
        ("kizuna:v1:date:birth", Some(d(2026, 5, 1))),
        ("kizuna:v1:set:due:2027-05-01", None),
        ("kizuna:v1:set:birth:2026-05-01", None),
    ];
    for (data, date) in postbacks {
        let mut chat = Chat::new(today());
        chat.follow();
        let outcome = chat.postback(data, date);
        assert!(
            reply_text(&outcome).contains("まだ保存していません"),
            "{data}"
        );
        assert_nothing_personal_stored(&chat);
    }
}

#[test]
fn a_text_without_a_date_before_consent_is_not_ours_and_stores_nothing() {
    let mut chat = Chat::new(today());
    let outcome = chat.text("ごみの日はいつ？");
    assert!(!outcome.consumed);
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
    assert!(chat.household.is_none());
}

#[test]
fn agreeing_records_the_version_and_date_then_a_date_registers() {
    let mut chat = Chat::new(today());
    let notice = chat.follow();
    let welcome = chat.agree(&notice);
    assert_eq!(
        chat.household().consent,
        Some(Consent {
            policy_version: "1".to_owned(),
            agreed_on: d(2027, 1, 10)
        })
    );
    assert!(reply_text(&welcome).contains("ありがとうございます"));
    assert!(reply_text(&welcome).contains("出産予定日か、お子さんの生年月日"));
    assert_eq!(labels(&welcome), ["出産予定日を選ぶ", "生年月日を選ぶ"]);
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::NewRegistrationDate)
    );
    assert!(chat.household().registrations.is_empty());

    let registered = chat.text("2027/5/1");
    assert!(reply_text(&registered).contains("登録しました"));
    let household = chat.household();
    assert_eq!(
        household.registrations[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 5, 1)
        }
    );
    assert!(household.receives_messages());
    // A later 同意して登録する tap (an old button) records nothing new.
    let again = tap(&mut chat, &notice, "同意して登録する", None);
    assert!(reply_text(&again).contains("2027年1月10日に"));
    assert_eq!(again.household, HouseholdChange::Unchanged);
}

#[test]
fn the_date_sent_before_consent_is_asked_again_after_agreeing() {
    let mut chat = Chat::new(today());
    let notice = chat.text("2027/5/1");
    let welcome = chat.agree(&notice);
    assert!(reply_text(&welcome).contains("教えてください"));
    assert!(chat.household().registrations.is_empty());
    chat.text("2027/5/1");
    assert_eq!(chat.household().active_registrations().count(), 1);
}

#[test]
fn a_notice_replaced_while_it_was_open_records_nothing() {
    let mut chat = Chat::new(today());
    let notice = chat.follow();
    chat.policy_version = "2".to_owned(); // the town publishes a new notice meanwhile
    let again = chat.agree(&notice);
    assert_eq!(chat.household().consent, None, "version 1 was shown, not 2");
    assert_eq!(labels(&again), FIRST_NOTICE_LABELS);
    assert_eq!(
        chat.household().pending,
        Some(PendingQuestion::Consent {
            policy_version: "2".to_owned()
        })
    );
    chat.agree(&again);
    assert_eq!(chat.household().consent, Some(chat.consent_today()));
}

#[test]
fn a_new_policy_is_asked_at_the_next_command_not_before() {
    for earlier in [Some("1"), None] {
        let mut chat = registered_under(earlier, "2");
        let before = chat.household.clone();

        // A duplicate follow, an unfollow's silence, and texts that are not ours ask nothing.
        let duplicate = chat.follow();
        assert!(duplicate.replies.is_empty());
        assert_eq!(duplicate.household, HouseholdChange::Unchanged);
        for text in ["こんにちは", "5/1"] {
            let outcome = chat.text(text);
            assert!(!outcome.consumed, "{text}");
            assert_eq!(outcome.household, HouseholdChange::Unchanged);
        }
        // Daily sends go on under the consent given earlier.
        assert!(chat.household().receives_messages());

        // 登録内容: the new notice instead of the registrations; nothing recorded yet.
        let notice = chat.text("登録内容");
        let text = reply_text(&notice);
        assert!(text.contains("説明を新しくしました"), "{text}");
        assert!(text.contains("もう一度送ってください"), "{text}");
        assert!(text.contains("これまでどおりお届けします"), "{text}");
        assert!(
            !text.contains("2027年5月1日"),
            "the command was not executed: {text}"
        );
        assert_eq!(labels(&notice), ["同意する", "同意しない"]);
        let household = chat.household();
        assert_eq!(
            household.registrations,
            before.as_ref().unwrap().registrations
        );
        assert_eq!(household.consent, before.as_ref().unwrap().consent);
        assert_eq!(
            household.pending,
            Some(PendingQuestion::NewPolicyConsent {
                policy_version: "2".to_owned()
            })
        );
        assert!(household.receives_messages());

        // 同意する: version 2 recorded today; the parent repeats the request and it works.
        let thanks = chat.agree(&notice);
        assert!(reply_text(&thanks).contains("もう一度送ってください"));
        assert_eq!(chat.household().consent, Some(chat.consent_today()));
        assert_eq!(chat.household().pending, None);
        let shown = chat.text("登録内容");
        assert!(reply_text(&shown).contains("2027年5月1日"));
    }
}

#[test]
fn every_command_and_button_that_acts_waits_for_the_new_policy() {
    let asks: &[Inbound] = &[
        Inbound::Text("登録内容".into()),
        Inbound::Text("変更".into()),
        Inbound::Text("生まれました".into()),
        Inbound::Text("追加".into()),
        Inbound::Text("再開".into()),
        Inbound::Text("登録".into()),
        Inbound::Postback {
            data: "kizuna:v1:change:1".into(),
            date: None,
        },
        Inbound::Postback {
            data: "kizuna:v1:date:change:1".into(),
            date: Some(d(2027, 5, 8)),
        },
        Inbound::Postback {
            data: "kizuna:v1:date:born:1".into(),
            date: Some(d(2027, 1, 9)),
        },
        Inbound::Postback {
            data: "kizuna:v1:babies:1:2".into(),
            date: None,
        },
        Inbound::Postback {
            data: "kizuna:v1:date:due".into(),
            date: Some(d(2027, 8, 1)),
        },
    ];
    for inbound in asks {
        let mut chat = registered_under(Some("1"), "2");
        let registrations = chat.household().registrations.clone();
        let outcome = chat.send(inbound.clone());
        assert_eq!(labels(&outcome), ["同意する", "同意しない"], "{inbound:?}");
        assert_eq!(chat.household().registrations, registrations, "{inbound:?}");
    }
}

#[test]
fn stopping_erasing_help_and_the_notice_never_wait_for_the_new_policy() {
    // 停止 pauses at once.
    let mut chat = registered_under(Some("1"), "2");
    chat.text("停止");
    assert!(chat.household().paused);

    // 削除 → 削除する erases at once (typed and tapped).
    let mut chat = registered_under(Some("1"), "2");
    let asked = chat.text("削除");
    assert!(reply_text(&asked).contains("元に戻せません"));
    assert_eq!(chat.text("削除する").household, HouseholdChange::Delete);
    let mut chat = registered_under(None, "2");
    let asked = chat.text("削除");
    assert_eq!(
        tap(&mut chat, &asked, "削除する", None).household,
        HouseholdChange::Delete
    );

    // 配信をすべて終了 → 終了する ends everything.
    let mut chat = registered_under(Some("1"), "2");
    let asked = chat.text("配信をすべて終了");
    tap(&mut chat, &asked, "終了する", None);
    assert_eq!(chat.household().active_registrations().count(), 0);

    // ヘルプ lists the commands.
    let mut chat = registered_under(Some("1"), "2");
    assert!(reply_text(&chat.text("ヘルプ")).contains("配信をすべて終了"));

    // 個人情報 shows the new notice, with its buttons.
    let mut chat = registered_under(Some("1"), "2");
    let notice = chat.text("個人情報");
    assert_eq!(labels(&notice), ["同意する", "同意しない"]);
    assert!(!reply_text(&notice).contains("もう一度送ってください"));
}

#[test]
fn declining_a_new_policy_erases_everything() {
    let mut chat = registered_under(Some("1"), "2");
    let notice = chat.text("変更");
    let declined = tap(&mut chat, &notice, "同意しない", None);
    assert_eq!(declined.household, HouseholdChange::Delete);
    assert!(chat.household.is_none());
    let text = reply_text(&declined);
    assert!(text.contains("すべて削除"), "{text}");
    assert!(text.contains("「登録」"), "{text}");
    assert!(buttons(&declined).is_empty());
}

#[test]
fn an_old_disagree_button_destroys_nothing() {
    let mut chat = registered_under(Some("1"), "2");
    let notice = chat.text("登録内容");
    chat.text("ヘルプ"); // the question lapses
    let again = tap(&mut chat, &notice, "同意しない", None);
    assert_ne!(again.household, HouseholdChange::Delete);
    assert_eq!(labels(&again), ["同意する", "同意しない"], "asked again");
    assert_eq!(chat.household().active_registrations().count(), 1);

    // With consent current, the old button only shows what was agreed.
    let mut chat = registered_under(Some("2"), "2");
    let outcome = chat.postback("kizuna:v1:consent:decline", None);
    assert_eq!(outcome.household, HouseholdChange::Unchanged);
    assert!(reply_text(&outcome).contains("同意いただいています"));
}

#[test]
fn yamete_oku_to_a_new_policy_asks_again_later_and_keeps_everything() {
    let mut chat = registered_under(Some("1"), "2");
    chat.text("登録内容");
    let later = chat.text("やめておく");
    assert!(reply_text(&later).contains("あらためておうかがいします"));
    assert_eq!(chat.household().pending, None);
    assert_eq!(chat.household().active_registrations().count(), 1);
    assert!(chat.household().receives_messages());
    let asked = chat.text("登録内容");
    assert_eq!(labels(&asked), ["同意する", "同意しない"]);
}

#[test]
fn privacy_shows_the_notice_at_any_time() {
    // Before anything: the first notice with its buttons (all three spellings).
    for word in ["個人情報", "プライバシー", "個人情報の取り扱い"] {
        let mut chat = Chat::new(today());
        let outcome = chat.text(word);
        assert!(outcome.consumed, "{word}");
        assert!(
            reply_text(&outcome).contains("LINEのユーザー識別子"),
            "{word}"
        );
        assert_eq!(labels(&outcome), FIRST_NOTICE_LABELS, "{word}");
        assert_nothing_personal_stored(&chat);
    }

    // With consent current: the notice, when and which version was agreed, no agree buttons.
    let mut chat = registered_under(Some("1"), "1");
    let outcome = chat.text("個人情報");
    let text = reply_text(&outcome);
    assert!(text.contains("LINEのユーザー識別子"), "{text}");
    assert!(text.contains(PRIVACY_URL), "{text}");
    assert!(text.contains("2026年10月1日に"), "{text}");
    assert!(text.contains("版：1"), "{text}");
    assert!(text.contains("「削除」"), "{text}");
    assert!(buttons(&outcome).is_empty());
    assert_eq!(outcome.household, HouseholdChange::Unchanged);

    // While a date is asked, it answers and the parent can go on.
    let mut chat = Chat::consented(today());
    assert!(reply_text(&chat.text("個人情報")).contains("同意いただいています"));
    chat.text("2027/5/1");
    assert_eq!(chat.household().active_registrations().count(), 1);
}

#[test]
fn register_starts_a_registration_once_agreed() {
    let mut chat = Chat::consented(today());
    chat.text("ヘルプ");
    let asked = chat.text("登録");
    assert!(reply_text(&asked).contains("登録がありません"));
    assert_eq!(labels(&asked), ["出産予定日を選ぶ", "生年月日を選ぶ"]);
    tap(&mut chat, &asked, "出産予定日を選ぶ", Some(d(2027, 5, 1)));
    let another = chat.text("登録");
    assert!(reply_text(&another).contains("追加する方"));
}

#[test]
fn refollow_under_an_old_policy_asks_before_resuming() {
    let mut chat = registered_under(Some("1"), "2");
    chat.send(Inbound::Unfollow);
    let back = chat.send(Inbound::Follow { unblocked: true });
    assert!(reply_text(&back).contains("再開しますか"));
    let notice = tap(&mut chat, &back, "再開する", None);
    assert_eq!(labels(&notice), ["同意する", "同意しない"]);
    assert!(!chat.household().receives_messages(), "still paused");
    chat.agree(&notice);
    assert!(reply_text(&chat.text("再開")).contains("再開しました"));
    assert!(chat.household().receives_messages());
}

#[test]
fn a_follow_after_agreeing_earlier_goes_straight_to_the_date() {
    let mut chat = registered_under(Some("1"), "1");
    chat.household.as_mut().unwrap().registrations.clear();
    chat.send(Inbound::Unfollow);
    let welcome = chat.follow();
    assert!(reply_text(&welcome).contains("はじめに、出産予定日か"));
    assert_eq!(labels(&welcome), ["出産予定日を選ぶ", "生年月日を選ぶ"]);
}

#[test]
fn the_notice_stays_within_line_limits_for_a_long_url_and_version() {
    // Checked by assert_invariants inside Chat::send; a URL no real page has is left out.
    let mut chat = Chat::new(today());
    chat.privacy_url = Some(format!("https://example.jp/{}", "a".repeat(4990)));
    chat.policy_version = "v".repeat(500);
    let notice = chat.follow();
    assert!(!reply_text(&notice).contains("aaaa"));
    chat.agree(&notice);
    let info = chat.text("個人情報");
    assert!(!reply_text(&info).contains("vvvv"));
}

/// Ended registrations still hold their dates: a parent who has only those and no current
/// consent is not told "nothing is stored" (the first-contact notice) but asked as on a policy
/// change, and 同意しない erases the dates.
#[test]
fn a_parent_with_only_ended_registrations_is_asked_as_on_a_policy_change() {
    let mut chat = registered_under(None, "1");
    let household = chat.household.as_mut().unwrap();
    household.registrations[0].status = kizuna_core::RegistrationStatus::Ended {
        reason: kizuna_core::EndReason::StoppedByParent,
        on: d(2026, 12, 1),
    };
    let notice = chat.text("登録内容");
    assert_eq!(labels(&notice), ["同意する", "同意しない"]);
    let declined = tap(&mut chat, &notice, "同意しない", None);
    assert_eq!(declined.household, HouseholdChange::Delete);
    assert!(chat.household.is_none());
}
