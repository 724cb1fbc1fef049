//! やさしい日本語 (easy Japanese), for parents who speak some Japanese but read it with
//! difficulty (many foreign residents in small towns).
//!
//! Following the usual guidelines for やさしい日本語: short sentences, one idea each; basic
//! words (あかちゃん, 日, 出す); spaces between phrases (わかち書き); few kanji beyond the
//! first grades, in hiragana otherwise or with the reading in brackets where a parent will
//! meet the word again on forms (よていび, たんじょうび). Commands are the Japanese words
//! (what a Japanese-speaking helper would also type), plus their hiragana.

use super::{
    cadence_steps, example_date, short_date, shown_privacy_url, shown_version, CadenceEvery,
    CadenceUntil, CommandWords, NoticeOccasion, Stage, Texts,
};
use crate::content::ScheduleRule;
use crate::conversation::command::Command;
use crate::household::{Consent, Language, Registration, Subject};
use crate::programme::CHILD_DAILY_LAST_DAY;
use crate::typed_date::{Era, ImplausibleDate, TypedDateError};
use chrono::{Datelike, NaiveDate};

pub struct EasyJapanese;

/// The hiragana of the Japanese command words (the Japanese table is matched too, whatever
/// the stored language). The first word is the one on buttons and in help.
pub const COMMAND_WORDS: CommandWords = &[
    (&["とうろく ないよう"], Command::Show),
    (&["へんこう"], Command::Change),
    (&["うまれた"], Command::Born),
    (&["ついか"], Command::Add),
    (&["ていし"], Command::Pause),
    (&["さいかい"], Command::Resume),
    (&["さくじょ"], Command::Delete),
    (&["さくじょ する"], Command::DeleteConfirm),
    (&["ぜんぶ おわる"], Command::EndAll),
    (&["やめておく"], Command::Cancel),
    (&["ヘルプ"], Command::Help),
    (&["こじん じょうほう"], Command::Privacy),
    (&["とうろく"], Command::Register),
    (&["げんご"], Command::Language),
    (&["アンケート"], Command::Survey),
    (&["きょう の メッセージ"], Command::Today),
];

fn hour(h: u8) -> String {
    format!("まいにち {h}時ごろ")
}

fn babies(count: u8) -> &'static str {
    match count {
        2 => "（ふたご）",
        3 => "（みつご）",
        _ => "",
    }
}

fn service(delivery_hour: u8) -> String {
    format!(
        "あかちゃん が おなか に いる 人 と、3さい までの 子ども が いる 家族 に、\
         みじかい メッセージ を {} おくります。",
        hour(delivery_hour)
    )
}

fn notice_body(municipality: &str, privacy_url: Option<&str>, retention_days: u64) -> String {
    let policy = match shown_privacy_url(privacy_url) {
        Some(url) => {
            format!("くわしい こと は {municipality} の ページ を 見て ください（日本語）。\n{url}")
        }
        None => format!("わからない こと は {municipality} に きいて ください。"),
    };
    format!(
        "【ほぞん する こと】\n\
         ・あかちゃん が うまれる 日（よていび）、または 子ども の たんじょうび\n\
         ・LINE の ユーザー の 番号（LINE が つける 英語 と 数字 の 番号 です。なまえ や 電話番号 は もらいません）\n\n\
         【つかう りゆう】\n\
         おなか の あかちゃん の 週 や 子ども の 月齢（げつれい）に あう メッセージ を おくる ため です。\
         また {municipality} が、だれ か わからない ように して、とうろく の 数 を かぞえる ことが あります。\n\n\
         【ほぞん する あいだ】\n\
         つかって いる あいだ です。「さくじょ」と おくると、いつでも ぜんぶ けします。\
         この アカウント を ブロック したら、{retention_days}日 ほぞん して、その あと けします。\n\n\
         【あつかう ところ】\n\
         {municipality}\n\n\
         {policy}\n\n\
         「こじん じょうほう」と おくると、いつでも この せつめい を 読めます。"
    )
}

const HELP_NOTE: &str = "とうろく を 見たい とき、かえたい とき は「ヘルプ」と おくって ください。";

fn pause_note(paused: bool) -> &'static str {
    if paused {
        "\n\nいま メッセージ は とまって います。また ほしい とき は「さいかい」と おくって ください。"
    } else {
        ""
    }
}

fn what_you_receive(
    subject: &Subject,
    delivery_hour: u8,
    schedule: Option<&[ScheduleRule]>,
) -> String {
    match subject {
        Subject::Pregnancy { .. } => format!(
            "にんしん 4週 から、あかちゃん が うまれる まで、{} メッセージ を おくります。\
             うまれたら「うまれた」と おくって ください。",
            hour(delivery_hour)
        ),
        Subject::Child { .. } => format!(
            "{} メッセージ を おくります（{}時ごろ）。\
             1さい、2さい、3さい の たんじょうび にも メッセージ が とどきます。",
            EasyJapanese.child_cadence(schedule),
            delivery_hour
        ),
    }
}

impl Texts for EasyJapanese {
    fn language(&self) -> Language {
        Language::EasyJapanese
    }

    fn command_words(&self) -> CommandWords {
        COMMAND_WORDS
    }

    fn label_due_picker(&self) -> &'static str {
        "よていび を えらぶ"
    }
    fn label_birth_picker(&self) -> &'static str {
        "たんじょうび を えらぶ"
    }
    fn label_born_picker(&self) -> &'static str {
        "うまれた 日 を えらぶ"
    }
    fn label_change_picker(&self) -> &'static str {
        "あたらしい 日 を えらぶ"
    }
    fn label_resume(&self) -> &'static str {
        "さいかい する"
    }
    fn label_cancel(&self) -> &'static str {
        "やめておく"
    }
    fn label_delete(&self) -> &'static str {
        "さくじょ する"
    }
    fn label_end_all(&self) -> &'static str {
        "おわる"
    }
    fn label_twins(&self) -> &'static str {
        "ふたご です"
    }
    fn label_triplets(&self) -> &'static str {
        "みつご です"
    }
    fn label_agree_and_register(&self) -> &'static str {
        "はい。とうろく する"
    }
    fn label_do_not_register(&self) -> &'static str {
        "とうろく しない"
    }
    fn label_agree(&self) -> &'static str {
        "はい、どうい する"
    }
    fn label_disagree(&self) -> &'static str {
        "どうい しない"
    }

    fn registration_label(&self, reg: &Registration) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!("よていび {}", short_date(due_date)),
            Subject::Child { birth_date, .. } => {
                format!("たんじょうび {}", short_date(birth_date))
            }
        }
    }

    fn which_date_labels(&self, future: NaiveDate, past: NaiveDate) -> (String, String) {
        (
            format!("よていび {}", short_date(future)),
            format!("たんじょうび {}", short_date(past)),
        )
    }

    /// 2027年5月1日: the form a parent meets on every paper in Japan.
    fn date(&self, d: NaiveDate) -> String {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }

    fn stage(&self, subject: &Subject, today: NaiveDate) -> String {
        match super::stage(subject, today) {
            Stage::BeforePregnancy => "まだ はじまって いません".to_owned(),
            Stage::PastDue => "よていび を すぎました".to_owned(),
            Stage::Pregnant {
                weeks,
                days,
                before_messages: true,
            } => format!("にんしん {weeks}週{days}日。メッセージ は 4週 から"),
            Stage::Pregnant { weeks, days, .. } => format!("にんしん {weeks}週{days}日"),
            Stage::NotBornYet => "まだ うまれて いません".to_owned(),
            Stage::DaysOld(days) => format!("うまれて {days}日"),
            Stage::MonthsOld(months) => format!("うまれて {months}か月"),
            Stage::YearsOld { years, months: 0 } => format!("{years}さい"),
            Stage::YearsOld { years, months } => format!("{years}さい {months}か月"),
            Stage::Finished => "3さい に なりました。メッセージ は おわりました".to_owned(),
        }
    }

    fn registration_line(&self, reg: &Registration, today: NaiveDate) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!(
                "よていび {}（{}）{}",
                self.date(due_date),
                self.stage(&reg.subject, today),
                babies(reg.baby_count)
            ),
            Subject::Child { birth_date, .. } => format!(
                "子ども の たんじょうび {}（{}）{}",
                self.date(birth_date),
                self.stage(&reg.subject, today),
                babies(reg.baby_count)
            ),
        }
    }

    fn welcome(&self, municipality: &str, delivery_hour: u8, today: NaiveDate) -> String {
        format!(
            "ともだち に して くれて、ありがとう ございます。{municipality} です。\n\n{}\n\n\
             はじめに、あかちゃん が うまれる 日（よていび）か、子ども の たんじょうび を おしえて ください。\
             下 の ボタン で えらんで ください。「{}」の ように 日づけ を おくって も いい です。",
            service(delivery_hour),
            example_date(today)
        )
    }

    fn consent_notice(
        &self,
        municipality: &str,
        delivery_hour: u8,
        privacy_url: Option<&str>,
        retention_days: u64,
        occasion: NoticeOccasion,
    ) -> String {
        let opening = match occasion {
            NoticeOccasion::Follow => format!(
                "ともだち に して くれて、ありがとう ございます。{municipality} です。\n\n{}\n\n\
                 とうろく の まえ に、この せつめい を 読んで ください。",
                service(delivery_hour)
            ),
            NoticeOccasion::Date => format!(
                "{municipality} です。とうろく の まえ に、この せつめい を 読んで ください。\n\
                 おくって くれた 日づけ は、まだ ほぞん して いません。「はい。とうろく する」の あと で うけとります。"
            ),
            NoticeOccasion::Request | NoticeOccasion::Privacy => format!(
                "{municipality} です。{}\n\n\
                 とうろく の まえ に、この せつめい を 読んで ください。",
                service(delivery_hour)
            ),
        };
        format!(
            "{opening}\n\n{}\n\n\
             この せつめい で よければ、「はい。とうろく する」を おして ください。\
             おす まで、日づけ など は なにも ほぞん しません。\n\n\
             日本語 / English は「げんご」と おくって ください。",
            notice_body(municipality, privacy_url, retention_days)
        )
    }

    fn new_policy_notice(
        &self,
        municipality: &str,
        privacy_url: Option<&str>,
        retention_days: u64,
        occasion: NoticeOccasion,
    ) -> String {
        let request_note = match occasion {
            NoticeOccasion::Date | NoticeOccasion::Request => {
                "\nおくって くれた こと は、まだ して いません。へんじ の あと で、もう 一度 おくって ください。"
            }
            NoticeOccasion::Follow | NoticeOccasion::Privacy => "",
        };
        format!(
            "{municipality} です。じょうほう の あつかい の せつめい を あたらしく しました。\
             つかい つづける ため に、読んで ください。{request_note}\n\n{}\n\n\
             よければ「はい、どうい する」を おして ください。\
             「どうい しない」を おすと、とうろく を ぜんぶ けして、メッセージ を おわります。\n\n\
             へんじ の まえ も、メッセージ は いつも の ように とどきます。\
             「ていし」（とめる）と「さくじょ」（ぜんぶ けす）は、へんじ の まえ でも すぐ できます。",
            notice_body(municipality, privacy_url, retention_days)
        )
    }

    fn privacy_agreed(
        &self,
        municipality: &str,
        privacy_url: Option<&str>,
        retention_days: u64,
        consent: &Consent,
    ) -> String {
        let version = shown_version(consent)
            .map(|v| format!("（{v}）"))
            .unwrap_or_default();
        format!(
            "{municipality} の じょうほう の あつかい です。\n\n{}\n\n\
             {} に、この せつめい{version} に「はい」と こたえました。\
             やめて、ほぞん した もの を ぜんぶ けす とき は「さくじょ」と おくって ください。",
            notice_body(municipality, privacy_url, retention_days),
            self.date(consent.agreed_on)
        )
    }

    fn welcome_after_consent(&self, today: NaiveDate) -> String {
        format!(
            "ありがとう ございます。\n\n\
             はじめに、あかちゃん が うまれる 日（よていび）か、子ども の たんじょうび を おしえて ください。\
             下 の ボタン で えらんで ください。「{}」の ように 日づけ を おくって も いい です。",
            example_date(today)
        )
    }

    fn new_policy_agreed(&self) -> &'static str {
        "ありがとう ございます。あたらしい せつめい に「はい」と きろく しました。\n\n\
         とちゅう の こと が あれば、もう 一度 おくって ください。"
    }

    fn not_registered(&self) -> &'static str {
        "わかりました。とうろく して いません。日づけ など も ほぞん して いません。\n\n\
         とうろく したい とき は、いつでも「とうろく」と おくって ください。"
    }

    fn new_policy_declined(&self) -> &'static str {
        "わかりました。とうろく を ぜんぶ けしました。メッセージ は おわりです。\
         読んで くれて、ありがとう ございました。\n\n\
         また つかいたい とき は「とうろく」と おくって ください。"
    }

    fn new_policy_later(&self) -> &'static str {
        "わかりました。つぎ に つかう とき に、また ききます。\
         それまで も、メッセージ は いつも の ように とどきます。"
    }

    fn welcome_back(&self, municipality: &str) -> String {
        format!(
            "おかえりなさい。{municipality} です。\n\
             まえ の とうろく が のこって います。メッセージ を また おくりますか。"
        )
    }

    fn ask_first_date(&self, today: NaiveDate) -> String {
        format!(
            "いま とうろく は ありません。あかちゃん が うまれる 日（よていび）か、子ども の たんじょうび を おしえて ください。\
             下 の ボタン で えらぶ か、「{}」の ように おくって ください。",
            example_date(today)
        )
    }

    fn ask_added_date(&self, today: NaiveDate) -> String {
        format!(
            "ついか する 人 の よていび か、たんじょうび を おしえて ください。\
             下 の ボタン で えらぶ か、「{}」の ように おくって ください。",
            example_date(today)
        )
    }

    fn registered(
        &self,
        reg: &Registration,
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
        schedule: Option<&[ScheduleRule]>,
    ) -> String {
        format!(
            "とうろく しました。\n{}\n\n{}\n{HELP_NOTE}{}",
            self.registration_line(reg, today),
            what_you_receive(&reg.subject, delivery_hour, schedule),
            pause_note(paused)
        )
    }

    fn already_registered(&self, reg: &Registration, today: NaiveDate) -> String {
        format!(
            "その 日づけ は もう とうろく して います。\n{}",
            self.registration_line(reg, today)
        )
    }

    fn changed(
        &self,
        reg: &Registration,
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
    ) -> String {
        format!(
            "日づけ を かえました。\n{}\n\nこれから は あたらしい 日づけ で、{} おくります。{}",
            self.registration_line(reg, today),
            hour(delivery_hour),
            pause_note(paused)
        )
    }

    fn born(
        &self,
        reg: &Registration,
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
        schedule: Option<&[ScheduleRule]>,
    ) -> String {
        format!(
            "おめでとう ございます。子ども の とうろく に かえました。\n{}\n\n{}\n\nふたご や みつご なら、下 の ボタン で おしえて ください。{}",
            self.registration_line(reg, today),
            what_you_receive(&reg.subject, delivery_hour, schedule),
            pause_note(paused)
        )
    }

    fn babies_set(&self, count: u8) -> String {
        match count {
            2 => "ふたご と して とうろく しました。".to_owned(),
            3 => "みつご と して とうろく しました。".to_owned(),
            _ => "ひとり と して とうろく しました。".to_owned(),
        }
    }

    fn show(
        &self,
        registrations: &[&Registration],
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
    ) -> String {
        let mut text = "いま の とうろく です。".to_owned();
        for (n, reg) in registrations.iter().enumerate() {
            text.push_str(&format!(
                "\n{}. {}",
                n + 1,
                self.registration_line(reg, today)
            ));
        }
        if paused {
            text.push_str("\n\nメッセージ：とまって います（「さいかい」で また とどきます）");
        } else {
            text.push_str(&format!("\n\nメッセージ：{}", hour(delivery_hour)));
        }
        text.push_str("\n日づけ を かえる とき は「へんこう」、ふやす とき は「ついか」と おくって ください。");
        text
    }

    fn choose_change(&self) -> &'static str {
        "どの とうろく の 日づけ を かえますか。"
    }

    fn ask_changed_date(&self, reg: &Registration) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!(
                "いま の よていび は {} です。あたらしい よていび を、下 の ボタン で えらぶ か、日づけ で おくって ください。",
                self.date(due_date)
            ),
            Subject::Child { birth_date, .. } => format!(
                "いま の たんじょうび は {} です。ただしい たんじょうび を、下 の ボタン で えらぶ か、日づけ で おくって ください。",
                self.date(birth_date)
            ),
        }
    }

    fn choose_born(&self) -> &'static str {
        "おめでとう ございます。どの とうろく の あかちゃん が うまれましたか。"
    }

    fn ask_birth_date(&self) -> &'static str {
        "おめでとう ございます。うまれた 日 を、下 の ボタン で えらぶ か、日づけ で おくって ください。"
    }

    fn no_pregnancy(&self) -> &'static str {
        "おなか の あかちゃん の とうろく は ありません。子ども を とうろく する なら、たんじょうび を 下 の ボタン で えらぶ か、日づけ で おくって ください。"
    }

    fn limit_reached(&self, max: usize) -> String {
        format!(
            "1つ の アカウント で とうろく できる の は {max}つ まで です。これ いじょう ふやせません。ごめんなさい。"
        )
    }

    fn paused(&self) -> &'static str {
        "メッセージ を とめました。また ほしい とき は「さいかい」と おくって ください。\n\n\
         メッセージ を ぜんぶ おわりに したい とき は「ぜんぶ おわる」と おくって ください。"
    }

    fn already_paused(&self) -> &'static str {
        "メッセージ は いま とまって います。また ほしい とき は「さいかい」と おくって ください。"
    }

    fn resumed(&self, delivery_hour: u8) -> String {
        format!(
            "メッセージ を また おくります。{} とどきます。",
            hour(delivery_hour)
        )
    }

    fn not_paused(&self, delivery_hour: u8) -> String {
        format!(
            "メッセージ は とまって いません。{} とどいて います。",
            hour(delivery_hour)
        )
    }

    fn nothing_active(&self) -> &'static str {
        "いま メッセージ を おくる とうろく は ありません。よていび か たんじょうび を おくると、とうろく できます。"
    }

    fn delete_question(&self) -> &'static str {
        "とうろく を ぜんぶ けします。けすと、もと に もどせません。いい ですか。"
    }

    fn deleted(&self) -> &'static str {
        "とうろく を ぜんぶ けしました。ありがとう ございました。\n\n\
         また つかいたい とき は「とうろく」と おくって ください。"
    }

    fn nothing_stored(&self) -> &'static str {
        "いま ほぞん して いる とうろく は ありません。"
    }

    fn end_all_question(&self) -> &'static str {
        "メッセージ を ぜんぶ おわりに しますか。\n\
         おわると、いま の とうろく の メッセージ は、もう おくりません。"
    }

    fn ended_all(&self, municipality: &str) -> String {
        format!(
            "メッセージ を ぜんぶ おわりに しました。\n読んで くれて、ありがとう ございました。\n\n\
             はなしたい こと が あれば、{municipality} の 保健師（ほけんし）に いつでも そうだん できます。"
        )
    }

    fn cancelled(&self) -> &'static str {
        "わかりました。なにも かえて いません。"
    }

    fn stay_paused(&self) -> &'static str {
        "わかりました。メッセージ は とめた まま です。また ほしい とき は「さいかい」と おくって ください。"
    }

    fn help(&self, delivery_hour: u8, schedule: Option<&[ScheduleRule]>) -> String {
        format!(
            "つぎ の ことば を おくって ください。\n\n\
             きょう の メッセージ：きょう の メッセージ を もう一度 見る\n\
             とうろく ないよう：とうろく した 日づけ を 見る\n\
             へんこう：日づけ を かえる\n\
             うまれた：あかちゃん が うまれた とき\n\
             ついか：きょうだい や あたらしい あかちゃん を とうろく する\n\
             ていし／さいかい：メッセージ を とめる・また はじめる\n\
             さくじょ：とうろく を ぜんぶ けす\n\
             ぜんぶ おわる：メッセージ を ぜんぶ おわりに する\n\
             こじん じょうほう：ほぞん する こと の せつめい\n\
             げんご：日本語 / やさしい にほんご / English\n\
             アンケート：いま の アンケート に こたえる\n\n\
             メッセージ は {} とどきます（にんしん中 は まいにち。こども は {}）。",
            hour(delivery_hour),
            self.child_cadence(schedule)
        )
    }

    fn child_cadence(&self, schedule: Option<&[ScheduleRule]>) -> String {
        let Some(schedule) = schedule else {
            return format!("うまれて {CHILD_DAILY_LAST_DAY}日 までは まいにち、その あと は 3さい の たんじょうび まで ときどき");
        };
        let mut text = format!("うまれて {CHILD_DAILY_LAST_DAY}日 までは まいにち");
        for (i, (until, every)) in cadence_steps(schedule).iter().enumerate() {
            text.push_str(if i == 0 {
                "、その あと は "
            } else {
                "、"
            });
            text.push_str(&match until {
                CadenceUntil::Birthday(age) => format!("{age}さい の たんじょうび まで "),
                CadenceUntil::Day(day) => format!("うまれて {day}日 まで "),
            });
            text.push_str(&match every {
                CadenceEvery::Daily => "まいにち".to_owned(),
                CadenceEvery::Weekly => "1週間 に 1回".to_owned(),
                CadenceEvery::Fortnightly => "2週間 に 1回".to_owned(),
                CadenceEvery::Days(n) => format!("{n}日 に 1回 ぐらい"),
            });
        }
        text
    }

    fn message_of_day(&self, day: NaiveDate) -> String {
        format!("{}月{}日 の メッセージ です。", day.month(), day.day())
    }

    fn today_while_paused(&self) -> &'static str {
        "いま メッセージ は とまって います。また ほしい とき は「さいかい」と おくって ください。"
    }

    fn no_recent_message(&self, days: u64) -> String {
        format!("きょう の メッセージ は ありません。まえ の {days}日 にも ありませんでした。")
    }

    fn today_unavailable(&self) -> &'static str {
        "ごめんなさい。いま は きょう の メッセージ を みせる ことが できません。すこし たってから、もう一度 おくって ください。"
    }

    fn stale_button(&self) -> &'static str {
        "この ボタン は いま つかえません。「ヘルプ」と おくると、つかいかた が わかります。"
    }

    fn choose_language(&self) -> &'static str {
        "ことば を えらんで ください。\nPlease choose your language."
    }

    fn language_set(&self) -> &'static str {
        "これから は やさしい にほんご で おくります。\
         やさしい にほんご が まだ ない 日 は、ふつう の 日本語 で とどきます。"
    }

    fn date_error(&self, error: &TypedDateError, today: NaiveDate) -> String {
        let again = "日づけ を もう 一度 見て ください。";
        match *error {
            TypedDateError::NoDate => format!(
                "日づけ が わかりません でした。「{}」の ように おくる か、下 の ボタン で えらんで ください。",
                example_date(today)
            ),
            TypedDateError::MissingDay => {
                format!("何日 か も おしえて ください（れい：{}）。", example_date(today))
            }
            TypedDateError::MonthOutOfRange { month } => {
                format!("{month}月 は ありません。{again}")
            }
            TypedDateError::DayOutOfRange { month, day } => {
                format!("{month}月{day}日 は ありません。{again}")
            }
            TypedDateError::OutsideEra { era: Era::Heisei } => {
                "平成（へいせい）は 2019年4月30日 まで です。令和（れいわ）か 2027 の ような 年 で おくって ください。".to_owned()
            }
            TypedDateError::OutsideEra { era: Era::Reiwa } => {
                format!("令和（れいわ）は 2019年5月1日 から です。{again}")
            }
        }
    }

    fn implausible(&self, refusal: &ImplausibleDate) -> String {
        match *refusal {
            ImplausibleDate::DueInPast { .. } => "その よていび は もう すぎて います。あかちゃん が うまれたら「うまれた」と おくる か、たんじょうび を おしえて ください。".to_owned(),
            ImplausibleDate::DueTooFar { latest } => format!(
                "よていび は {} まで の 日づけ で おしえて ください。",
                self.date(latest)
            ),
            ImplausibleDate::BirthInFuture => {
                "その たんじょうび は きょう より あと の 日 です。よていび なら、「ついか」と おくって から、よていび と して とうろく して ください。".to_owned()
            }
            ImplausibleDate::BirthTooOld { earliest } => format!(
                "この メッセージ は 3さい まで の 子ども の ため です。{} より まえ に うまれた 子ども は とうろく できません。",
                self.date(earliest)
            ),
        }
    }

    fn birth_far_from_due(&self, due_date: NaiveDate) -> String {
        format!(
            "よていび（{}）から とても はなれた 日 です。うまれた 日 を もう 一度 見て ください。",
            self.date(due_date)
        )
    }

    fn which_date(&self, future: NaiveDate, past: NaiveDate) -> String {
        format!(
            "{}月{}日 は どちら ですか。\n・よていび なら {}\n・子ども の たんじょうび なら {}",
            future.month(),
            future.day(),
            self.date(future),
            self.date(past)
        )
    }

    fn research_consent_question(&self) -> &'static str {
        "はじめに ひとつ だけ きかせて ください。この アンケート の こたえ を、まち や だいがく が いっしょに する けんきゅう にも つかって いいですか。なまえ や LINE の アカウント は けんきゅう に わたしません。「つかわないで」を えらんでも、この あと の しつもん に こたえられます。"
    }
    fn label_research_yes(&self) -> &'static str {
        "けんきゅう に つかって いい"
    }
    fn label_research_no(&self) -> &'static str {
        "つかわないで"
    }
    fn survey_scale_hint(&self, low: &str, high: &str) -> String {
        format!("（1：{low}　〜　5：{high}）")
    }
    fn survey_text_hint(&self, max_chars: u16) -> String {
        format!("この トーク に、{max_chars}もじ まで で おくって ください。")
    }
    fn survey_text_too_long(&self, max_chars: u16, chars: usize) -> String {
        format!("ありがとう ございます。でも {chars}もじ ありました。{max_chars}もじ まで に して、もう一度 おくって ください。")
    }
    fn survey_answer_changed(&self) -> &'static str {
        "こたえ を かえました。ありがとう ございます。"
    }
    fn survey_all_answered(&self) -> &'static str {
        "ぜんぶ の しつもん に こたえて います。ありがとう ございました。こたえ を かえたい ときは、まえ の しつもん の ボタン を もう一度 おして ください。"
    }
    fn survey_closed(&self) -> &'static str {
        "この アンケート は おわりました。ありがとう ございました。"
    }
    fn survey_unknown(&self) -> &'static str {
        "この アンケート は いま は ありません。"
    }
    fn survey_not_for_you(&self) -> &'static str {
        "この アンケート は、ほかの ひと に おねがい して います。ありがとう ございます。"
    }
    fn survey_none(&self) -> &'static str {
        "いま おねがい して いる アンケート は ありません。"
    }
    fn survey_list(&self, titles: &[&str]) -> String {
        let list: Vec<String> = titles.iter().map(|t| format!("・{t}")).collect();
        format!(
            "いま おねがい して いる アンケート です。した の ボタン から はじめられます。\n{}",
            list.join("\n")
        )
    }
    fn survey_unavailable(&self) -> &'static str {
        "ごめんなさい。いま は アンケート を ひらけません。すこし たってから、もう一度 おくって ください。"
    }
}
