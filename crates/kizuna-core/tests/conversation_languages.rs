//! The conversation in Japanese, やさしい日本語 and English: each command answered in the
//! household's language, commands recognised in every language whatever the stored choice,
//! and 言語 / language changing the choice (before consent too, storing nothing else).

mod common;

use common::*;
use kizuna_core::conversation::HouseholdChange;
use kizuna_core::{Household, Language, Registration, RegistrationStatus, Subject};

/// A parent registered with a due date of 1 May 2027, who agreed and reads `language`.
fn registered_in(language: Language) -> Chat {
    let mut chat = Chat::new(today());
    let mut household = Household::new(municipality(), user());
    household.registrations = vec![Registration {
        id: 1,
        subject: Subject::Pregnancy {
            due_date: d(2027, 5, 1),
        },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2026, 12, 1),
    }];
    household.consent = Some(chat.consent_today());
    household.language = language;
    chat.household = Some(household);
    chat
}

/// What each language's reply to each command must say (a phrase only that language uses).
struct Expect {
    language: Language,
    /// The words the parent types in this language: help, status, stop, resume, delete.
    help: &'static str,
    status: &'static str,
    stop: &'static str,
    resume: &'static str,
    delete: &'static str,
    /// Phrases of the replies.
    help_reply: &'static str,
    status_reply: &'static str,
    due_date: &'static str,
    stop_reply: &'static str,
    resume_reply: &'static str,
    delete_question: &'static str,
    delete_button: &'static str,
    deleted: &'static str,
}

const EXPECTED: [Expect; 3] = [
    Expect {
        language: Language::Japanese,
        help: "ヘルプ",
        status: "登録内容",
        stop: "停止",
        resume: "再開",
        delete: "削除",
        help_reply: "次のことばを送ると",
        status_reply: "いまの登録内容です",
        due_date: "2027年5月1日",
        stop_reply: "配信を停止しました",
        resume_reply: "配信を再開しました。毎日20時ごろ",
        delete_question: "削除すると元に戻せません",
        delete_button: "削除する",
        deleted: "登録内容をすべて削除しました",
    },
    Expect {
        language: Language::EasyJapanese,
        help: "ヘルプ",
        status: "とうろく ないよう",
        stop: "ていし",
        resume: "さいかい",
        delete: "さくじょ",
        help_reply: "つぎ の ことば を おくって ください",
        status_reply: "いま の とうろく です",
        due_date: "よていび 2027年5月1日",
        stop_reply: "メッセージ を とめました",
        resume_reply: "メッセージ を また おくります。まいにち 20時ごろ",
        delete_question: "もと に もどせません",
        delete_button: "さくじょ する",
        deleted: "とうろく を ぜんぶ けしました",
    },
    Expect {
        language: Language::English,
        help: "help",
        status: "My registration",
        stop: "Stop",
        resume: "resume",
        delete: "Delete",
        help_reply: "Send one of these words",
        status_reply: "Your registration:",
        due_date: "Due date 1 May 2027",
        stop_reply: "Messages are paused",
        resume_reply: "Messages have started again, every day at about 8 pm",
        delete_question: "cannot be undone",
        delete_button: "Yes, delete",
        deleted: "Your registration has been erased",
    },
];

#[test]
fn each_command_is_answered_in_the_households_language() {
    for e in EXPECTED {
        let code = e.language.code();
        let mut chat = registered_in(e.language);

        let help = chat.text(e.help);
        assert!(reply_text(&help).contains(e.help_reply), "{code}: {help:?}");
        // The help buttons send words of this language, which parse back.
        for label in labels(&help) {
            let outcome = chat.text(&label);
            assert!(outcome.consumed, "{code}: help button {label} is a command");
        }
        chat = registered_in(e.language);

        let status = chat.text(e.status);
        let text = reply_text(&status);
        assert!(text.contains(e.status_reply), "{code}: {text}");
        assert!(text.contains(e.due_date), "{code}: {text}");

        let stop = chat.text(e.stop);
        assert!(reply_text(&stop).contains(e.stop_reply), "{code}: {stop:?}");
        assert!(chat.household().paused);

        let resume = chat.text(e.resume);
        assert!(
            reply_text(&resume).contains(e.resume_reply),
            "{code}: {resume:?}"
        );
        assert!(!chat.household().paused);

        let question = chat.text(e.delete);
        assert!(reply_text(&question).contains(e.delete_question), "{code}");
        let deleted = tap(&mut chat, &question, e.delete_button, None);
        assert!(
            reply_text(&deleted).contains(e.deleted),
            "{code}: {deleted:?}"
        );
        assert_eq!(deleted.household, HouseholdChange::Delete, "{code}");
        assert!(chat.household.is_none());
    }
}

#[test]
fn commands_work_in_every_language_whatever_the_stored_choice() {
    for stored in Language::ALL {
        for e in EXPECTED {
            let mut chat = registered_in(stored);
            let stop = chat.text(e.stop);
            assert!(
                stop.consumed,
                "{} typed in a {} household",
                e.stop,
                stored.code()
            );
            assert!(chat.household().paused);
            // The reply is in the stored language, not the language of the word.
            let expected = EXPECTED.iter().find(|x| x.language == stored).unwrap();
            assert!(reply_text(&stop).contains(expected.stop_reply));
            chat.text(e.resume);
            assert!(!chat.household().paused, "{}", e.resume);
        }
    }
    // Exact words only: a sentence for someone else in a shared account is not taken.
    let mut chat = registered_in(Language::English);
    for text in [
        "stop it please",
        "help me",
        "Language exchange",
        "delete this photo",
    ] {
        let outcome = chat.text(text);
        assert!(!outcome.consumed, "{text} is not ours");
        assert!(outcome.replies.is_empty());
    }
}

#[test]
fn language_command_offers_three_buttons_and_the_choice_is_saved_and_confirmed_in_it() {
    for word in ["言語", "げんご", "language", "Language", "ＬＡＮＧＵＡＧＥ"] {
        let mut chat = registered_in(Language::Japanese);
        let question = chat.text(word);
        assert!(question.consumed, "{word}");
        assert_eq!(
            labels(&question),
            ["日本語", "やさしい にほんご", "English"],
            "{word}"
        );
        assert_eq!(data_of(&button(&question, "English")), "kizuna:v1:lang:en");
        assert_eq!(
            data_of(&button(&question, "やさしい にほんご")),
            "kizuna:v1:lang:ja-easy"
        );
        assert_eq!(data_of(&button(&question, "日本語")), "kizuna:v1:lang:ja");

        let english = tap(&mut chat, &question, "English", None);
        assert_eq!(chat.household().language, Language::English);
        assert!(reply_text(&english).contains("in English"), "{english:?}");
        assert!(
            chat.household().registrations.len() == 1,
            "nothing else changed"
        );

        let question = chat.text("言語");
        let easy = tap(&mut chat, &question, "やさしい にほんご", None);
        assert_eq!(chat.household().language, Language::EasyJapanese);
        assert!(reply_text(&easy).contains("やさしい にほんご で おくります"));

        let question = chat.text("language");
        let japanese = tap(&mut chat, &question, "日本語", None);
        assert_eq!(chat.household().language, Language::Japanese);
        assert_eq!(reply_text(&japanese), "これからは日本語でお届けします。");
    }
}

#[test]
fn the_first_notice_offers_the_languages_and_shows_itself_again_in_the_chosen_one() {
    let mut chat = Chat::new(today());
    let notice = chat.follow();
    let text = reply_text(&notice);
    assert!(
        text.contains("English / やさしい にほんご は「言語」と おくってください。"),
        "{text}"
    );
    assert_eq!(
        labels(&notice),
        [
            "同意して登録する",
            "登録しない",
            "やさしい にほんご",
            "English"
        ]
    );

    // Choosing a language before consent stores the choice and nothing personal.
    let english = tap(&mut chat, &notice, "English", None);
    assert_eq!(english.replies.len(), 2, "confirmation, then the notice");
    assert!(english.replies[0].text_body().contains("in English"));
    let notice_en = english.replies[1].text_body();
    for expected in [
        "[What we store]",
        "LINE user ID",
        "[Why]",
        "[How long]",
        "180 days",
        "[Who handles it]",
        "きずな町",
        PRIVACY_URL,
        "\"Privacy\"",
        "every day at about 8 pm",
    ] {
        assert!(
            notice_en.contains(expected),
            "{expected} missing in {notice_en}"
        );
    }
    assert_eq!(
        labels(&english),
        [
            "Agree and register",
            "Don't register",
            "日本語",
            "やさしい にほんご"
        ]
    );
    let h = chat.household();
    assert_eq!(h.language, Language::English);
    assert!(h.registrations.is_empty());
    assert_eq!(h.consent, None);

    // Agreeing from the English notice goes on in English.
    let welcome = tap(&mut chat, &english, "Agree and register", None);
    assert!(reply_text(&welcome).contains("Thank you for agreeing"));
    assert_eq!(
        labels(&welcome),
        ["Choose due date", "Choose date of birth"]
    );
    let registered = tap(&mut chat, &welcome, "Choose due date", Some(d(2027, 5, 1)));
    assert!(reply_text(&registered).contains("You are registered.\nDue date 1 May 2027"));
}

#[test]
fn the_easy_japanese_notice_keeps_every_part_of_the_japanese_one() {
    let mut chat = Chat::new(today());
    let notice = chat.follow();
    let easy = tap(&mut chat, &notice, "やさしい にほんご", None);
    let text = easy.replies[1].text_body();
    for expected in [
        "【ほぞん する こと】",
        "あかちゃん が うまれる 日（よていび）",
        "LINE の ユーザー の 番号",
        "【つかう りゆう】",
        "【ほぞん する あいだ】",
        "180日",
        "【あつかう ところ】",
        PRIVACY_URL,
        "「こじん じょうほう」",
        "まいにち 20時ごろ",
    ] {
        assert!(text.contains(expected), "{expected} missing in {text}");
    }
    // The hiragana commands named in the notice work.
    let privacy = chat.text("こじん じょうほう");
    assert!(reply_text(&privacy).contains("【ほぞん する こと】"));
}

#[test]
fn a_language_choice_keeps_an_open_date_question() {
    let mut chat = Chat::consented(today());
    let question = chat.text("language");
    let english = tap(&mut chat, &question, "English", None);
    assert_eq!(english.replies.len(), 1, "no notice: consent is current");
    // The date question asked after consent is still open: a typed date registers.
    let registered = chat.text("2027/5/1");
    assert!(
        reply_text(&registered).contains("Due date 1 May 2027"),
        "{registered:?}"
    );
}

#[test]
fn deleting_erases_the_language_choice_too() {
    let mut chat = registered_in(Language::English);
    let question = chat.text("Delete");
    tap(&mut chat, &question, "Yes, delete", None);
    assert!(chat.household.is_none());
    // A new follow starts over in Japanese.
    let notice = chat.follow();
    assert!(reply_text(&notice).contains("友だち追加ありがとうございます"));
}
