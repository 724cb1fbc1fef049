//! Japanese, the default.
//!
//! Tone: a town's public health nurse (保健師) writing to a family — warm, plain, short. No
//! medical advice, no emoji, no exclamation marks (a parent may read these on a hard day).
//! Dates are written the way forms in Japan write them (2027年5月1日); button labels use the
//! short form (2027/5/1) to stay within LINE's 20-character limit.

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

pub struct Japanese;

/// The words of each command. The first is the one shown in help and on buttons.
pub const COMMAND_WORDS: CommandWords = &[
    (
        &["登録内容", "登録内容確認", "登録内容の確認"],
        Command::Show,
    ),
    (&["変更"], Command::Change),
    (
        &["生まれました", "産まれました", "うまれました"],
        Command::Born,
    ),
    (&["追加"], Command::Add),
    (&["停止", "一時停止"], Command::Pause),
    (&["再開"], Command::Resume),
    (&["削除"], Command::Delete),
    (&["削除する"], Command::DeleteConfirm),
    (
        &[
            "配信をすべて終了",
            "配信を全て終了",
            "配信をすべて停止",
            "配信を全て停止",
            "すべての配信を終了",
            "全ての配信を終了",
        ],
        Command::EndAll,
    ),
    (&["やめておく", "やめる", "キャンセル"], Command::Cancel),
    (&["ヘルプ", "ﾍﾙﾌﾟ"], Command::Help),
    (
        &[
            "個人情報",
            "個人情報の取り扱い",
            "個人情報の取扱い",
            "個人情報の取扱",
            "プライバシー",
        ],
        Command::Privacy,
    ),
    (&["登録", "登録したい"], Command::Register),
    (&["言語", "げんご"], Command::Language),
    (&["アンケート", "ｱﾝｹｰﾄ"], Command::Survey),
    (
        &[
            "今日のメッセージ",
            "きょうのメッセージ",
            "今日のﾒｯｾｰｼﾞ",
            "今日のメッセージを見る",
            "きょうのメッセージを見る",
            "今日の配信",
            "今日のお便り",
            "今日のおたより",
        ],
        Command::Today,
    ),
];

fn hour(h: u8) -> String {
    format!("毎日{h}時ごろ")
}

fn babies(count: u8) -> &'static str {
    match count {
        2 => "（ふたご）",
        3 => "（みつご）",
        _ => "",
    }
}

/// What Kizuna sends, in one sentence (the welcome and the consent notice open with it).
fn service(delivery_hour: u8) -> String {
    format!(
        "妊娠中の方と、3歳までのお子さんがいるご家庭に、週数や月齢に合わせた短いメッセージを{}お届けしています。",
        hour(delivery_hour)
    )
}

/// What is stored, why, for how long and by whom: the part every notice shares.
fn notice_body(municipality: &str, privacy_url: Option<&str>, retention_days: u64) -> String {
    let policy = match shown_privacy_url(privacy_url) {
        Some(url) => format!(
            "くわしくは、{municipality}の個人情報の取り扱いについてのページをご覧ください。\n{url}"
        ),
        None => format!("ご不明な点は、{municipality}にお問い合わせください。"),
    };
    format!(
        "【保存する情報】\n\
         ・教えていただいた出産予定日、またはお子さんの生年月日\n\
         ・LINEのユーザー識別子（LINEが利用者ごとに割り振る英数字の番号です。お名前や電話番号は受け取っていません）\n\n\
         【使う目的】\n\
         妊娠週数やお子さんの月齢に合わせたメッセージをお送りするために使います。\
         ほかに、{municipality}が、どなたのことか分からない形で登録数を数え、事業の運営に役立てることがあります。\n\n\
         【保存する期間】\n\
         ご利用のあいだ保存します。「削除」と送ると、いつでもすべて削除します。\
         このアカウントをブロックしたときは、再開できるように{retention_days}日間保存し、その後削除します。\n\n\
         【取り扱う者】\n\
         {municipality}\n\n\
         {policy}\n\n\
         この説明は「個人情報」と送ると、いつでも読めます。"
    )
}

const HELP_NOTE: &str = "登録内容の確認や変更は「ヘルプ」と送るとご案内します。";

fn pause_note(paused: bool) -> &'static str {
    if paused {
        "\n\nいまは配信を停止しています。再開するときは「再開」と送ってください。"
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
            "妊娠週数に合わせたメッセージを、妊娠4週から赤ちゃんが生まれるまで、{}お届けします。\
             生まれたら「生まれました」と送ってください。",
            hour(delivery_hour)
        ),
        Subject::Child { .. } => format!(
            "月齢に合わせたメッセージを、{}、{delivery_hour}時ごろにお届けします。\
             1歳・2歳・3歳のお誕生日にもメッセージが届きます。",
            Japanese.child_cadence(schedule)
        ),
    }
}

impl Texts for Japanese {
    fn language(&self) -> Language {
        Language::Japanese
    }

    fn command_words(&self) -> CommandWords {
        COMMAND_WORDS
    }

    fn label_due_picker(&self) -> &'static str {
        "出産予定日を選ぶ"
    }
    fn label_birth_picker(&self) -> &'static str {
        "生年月日を選ぶ"
    }
    fn label_born_picker(&self) -> &'static str {
        "生まれた日を選ぶ"
    }
    fn label_change_picker(&self) -> &'static str {
        "新しい日付を選ぶ"
    }
    fn label_resume(&self) -> &'static str {
        "再開する"
    }
    fn label_cancel(&self) -> &'static str {
        "やめておく"
    }
    fn label_delete(&self) -> &'static str {
        "削除する"
    }
    fn label_end_all(&self) -> &'static str {
        "終了する"
    }
    fn label_twins(&self) -> &'static str {
        "ふたごです"
    }
    fn label_triplets(&self) -> &'static str {
        "みつごです"
    }
    fn label_agree_and_register(&self) -> &'static str {
        "同意して登録する"
    }
    fn label_do_not_register(&self) -> &'static str {
        "登録しない"
    }
    fn label_agree(&self) -> &'static str {
        "同意する"
    }
    fn label_disagree(&self) -> &'static str {
        "同意しない"
    }

    /// `予定日 2027/5/1`, `2025/3/4生まれ`.
    fn registration_label(&self, reg: &Registration) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!("予定日 {}", short_date(due_date)),
            Subject::Child { birth_date, .. } => format!("{}生まれ", short_date(birth_date)),
        }
    }

    fn which_date_labels(&self, future: NaiveDate, past: NaiveDate) -> (String, String) {
        (
            format!("予定日 {}", short_date(future)),
            format!("生年月日 {}", short_date(past)),
        )
    }

    /// 2027年5月1日.
    fn date(&self, d: NaiveDate) -> String {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }

    /// 妊娠12週3日, 生後37日, 生後5か月, 1歳2か月.
    fn stage(&self, subject: &Subject, today: NaiveDate) -> String {
        match super::stage(subject, today) {
            Stage::BeforePregnancy => "配信開始前".to_owned(),
            Stage::PastDue => "予定日を過ぎています".to_owned(),
            Stage::Pregnant {
                weeks,
                days,
                before_messages: true,
            } => format!("妊娠{weeks}週{days}日、配信は妊娠4週から"),
            Stage::Pregnant { weeks, days, .. } => format!("妊娠{weeks}週{days}日"),
            Stage::NotBornYet => "誕生前".to_owned(),
            Stage::DaysOld(days) => format!("生後{days}日"),
            Stage::MonthsOld(months) => format!("生後{months}か月"),
            Stage::YearsOld { years, months: 0 } => format!("{years}歳"),
            Stage::YearsOld { years, months } => format!("{years}歳{months}か月"),
            Stage::Finished => "3歳になり、配信は終わりました".to_owned(),
        }
    }

    /// `出産予定日 2027年5月1日（妊娠12週3日）`.
    fn registration_line(&self, reg: &Registration, today: NaiveDate) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!(
                "出産予定日 {}（{}）{}",
                self.date(due_date),
                self.stage(&reg.subject, today),
                babies(reg.baby_count)
            ),
            Subject::Child { birth_date, .. } => format!(
                "お子さん {}生まれ（{}）{}",
                self.date(birth_date),
                self.stage(&reg.subject, today),
                babies(reg.baby_count)
            ),
        }
    }

    /// A follow from a parent who already agreed to the current notice (they ended everything
    /// earlier, or erased nothing but their registrations): straight to the date.
    fn welcome(&self, municipality: &str, delivery_hour: u8, today: NaiveDate) -> String {
        format!(
            "友だち追加ありがとうございます。{municipality}です。\n\n{}\n\n\
             はじめに、出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
            service(delivery_hour),
            example_date(today)
        )
    }

    /// The notice asked before anything is registered, answered with 同意して登録する / 登録しない.
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
                "友だち追加ありがとうございます。{municipality}です。\n\n{}\n\n\
                 ご登録の前に、個人情報の取り扱いについてお読みください。",
                service(delivery_hour)
            ),
            NoticeOccasion::Date => format!(
                "{municipality}です。ご登録の前に、個人情報の取り扱いについてお読みください。\n\
                 お送りいただいた日付は、まだ保存していません。同意いただいてから日付をお受けします。"
            ),
            NoticeOccasion::Request | NoticeOccasion::Privacy => format!(
                "{municipality}です。{}\n\n\
                 ご登録の前に、個人情報の取り扱いについてお読みください。",
                service(delivery_hour)
            ),
        };
        format!(
            "{opening}\n\n{}\n\n\
             内容に同意いただける場合は「同意して登録する」を押してください。\
             同意いただくまで、日付などは何も保存しません。\n\n\
             English / やさしい にほんご は「言語」と おくってください。",
            notice_body(municipality, privacy_url, retention_days)
        )
    }

    /// The notice asked again after the town changed it (or of a parent registered before
    /// consent was asked), answered with 同意する / 同意しない.
    fn new_policy_notice(
        &self,
        municipality: &str,
        privacy_url: Option<&str>,
        retention_days: u64,
        occasion: NoticeOccasion,
    ) -> String {
        let request_note = match occasion {
            NoticeOccasion::Date | NoticeOccasion::Request => {
                "\nお送りいただいたご用件は、まだ承っていません。お返事のあとで、もう一度送ってください。"
            }
            NoticeOccasion::Follow | NoticeOccasion::Privacy => "",
        };
        format!(
            "{municipality}です。個人情報の取り扱いについての説明を新しくしました。\
             引き続きご利用いただくために、内容をご確認ください。{request_note}\n\n{}\n\n\
             同意いただける場合は「同意する」を押してください。\
             「同意しない」を押すと、登録内容をすべて削除して、配信を終わります。\n\n\
             お返事をいただくまでの間も、メッセージはこれまでどおりお届けします。\
             配信を止める「停止」と、すべてを消す「削除」は、お返事の前でもすぐに承ります。",
            notice_body(municipality, privacy_url, retention_days)
        )
    }

    /// 個人情報 from a parent whose consent is current: the notice and what they agreed to.
    fn privacy_agreed(
        &self,
        municipality: &str,
        privacy_url: Option<&str>,
        retention_days: u64,
        consent: &Consent,
    ) -> String {
        let version = shown_version(consent)
            .map(|v| format!("（版：{v}）"))
            .unwrap_or_default();
        format!(
            "{municipality}での個人情報の取り扱いについてです。\n\n{}\n\n\
             {}に、この内容{version}に同意いただいています。\
             同意を取り消して、保存している内容をすべて削除するときは「削除」と送ってください。",
            notice_body(municipality, privacy_url, retention_days),
            self.date(consent.agreed_on)
        )
    }

    /// After 同意して登録する: the question the welcome used to ask straight away.
    fn welcome_after_consent(&self, today: NaiveDate) -> String {
        format!(
            "同意いただき、ありがとうございます。\n\n\
             はじめに、出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
            example_date(today)
        )
    }

    fn new_policy_agreed(&self) -> &'static str {
        "ご確認いただき、ありがとうございます。新しい内容への同意を記録しました。\n\n\
         ご用件の途中でしたら、お手数ですが、もう一度送ってください。"
    }

    fn not_registered(&self) -> &'static str {
        "わかりました。登録はしていません。日付などの情報も保存していません。\n\n\
         登録したくなったときは、いつでも「登録」と送ってください。メニューに登録の項目があれば、そこからも始められます。"
    }

    fn new_policy_declined(&self) -> &'static str {
        "わかりました。同意いただけなかったため、登録内容をすべて削除し、配信を終えました。\
         これまで読んでくださり、ありがとうございました。\n\n\
         また利用したくなったときは、「登録」と送ってください。"
    }

    fn new_policy_later(&self) -> &'static str {
        "わかりました。お返事は、次にご利用になるときにあらためておうかがいします。\
         それまでの間も、メッセージはこれまでどおりお届けします。"
    }

    fn welcome_back(&self, municipality: &str) -> String {
        format!(
            "おかえりなさい。{municipality}です。\n\
             以前のご登録が残っています。メッセージの配信を再開しますか。"
        )
    }

    fn ask_first_date(&self, today: NaiveDate) -> String {
        format!(
            "いまは登録がありません。出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
            example_date(today)
        )
    }

    fn ask_added_date(&self, today: NaiveDate) -> String {
        format!(
            "追加する方の出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
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
            "登録しました。\n{}\n\n{}\n{HELP_NOTE}{}",
            self.registration_line(reg, today),
            what_you_receive(&reg.subject, delivery_hour, schedule),
            pause_note(paused)
        )
    }

    fn already_registered(&self, reg: &Registration, today: NaiveDate) -> String {
        format!(
            "その日付はすでに登録されています。\n{}",
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
            "日付を変更しました。\n{}\n\nこれからは新しい日付に合わせて、{}お届けします。{}",
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
            "お子さんの登録に切り替えました。\n{}\n\n{}\n\nふたご・みつごの場合は、下のボタンで教えてください。{}",
            self.registration_line(reg, today),
            what_you_receive(&reg.subject, delivery_hour, schedule),
            pause_note(paused)
        )
    }

    fn babies_set(&self, count: u8) -> String {
        match count {
            2 => "ふたごのお子さんとして登録しました。".to_owned(),
            3 => "みつごのお子さんとして登録しました。".to_owned(),
            _ => "お子さんおひとりとして登録しました。".to_owned(),
        }
    }

    fn show(
        &self,
        registrations: &[&Registration],
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
    ) -> String {
        let mut text = "いまの登録内容です。".to_owned();
        for (n, reg) in registrations.iter().enumerate() {
            text.push_str(&format!(
                "\n{}. {}",
                n + 1,
                self.registration_line(reg, today)
            ));
        }
        if paused {
            text.push_str("\n\n配信：停止中（「再開」と送ると再開します）");
        } else {
            text.push_str(&format!("\n\n配信：{}", hour(delivery_hour)));
        }
        text.push_str("\n日付の変更は「変更」、追加は「追加」と送ってください。");
        text
    }

    fn choose_change(&self) -> &'static str {
        "どの登録の日付を変更しますか。"
    }

    fn ask_changed_date(&self, reg: &Registration) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!(
                "いまの出産予定日は{}です。新しい予定日を、下のボタンから選ぶか、日付で送ってください。",
                self.date(due_date)
            ),
            Subject::Child { birth_date, .. } => format!(
                "いまの生年月日は{}です。正しい生年月日を、下のボタンから選ぶか、日付で送ってください。",
                self.date(birth_date)
            ),
        }
    }

    fn choose_born(&self) -> &'static str {
        "ご出産おめでとうございます。どの登録のお子さんが生まれましたか。"
    }

    fn ask_birth_date(&self) -> &'static str {
        "ご出産おめでとうございます。生まれた日を、下のボタンから選ぶか、日付で送ってください。"
    }

    fn no_pregnancy(&self) -> &'static str {
        "妊娠中の登録がありません。お子さんを登録する場合は、生年月日を下のボタンから選ぶか、日付で送ってください。"
    }

    fn limit_reached(&self, max: usize) -> String {
        format!(
            "ひとつのアカウントで登録できるのは{max}件までのため、これ以上は追加できません。ご不便をおかけしてすみません。"
        )
    }

    fn paused(&self) -> &'static str {
        "配信を停止しました。再開するときは「再開」と送ってください。\n\n\
         これまでの登録の配信を、すべて終わりにしたいときは「配信をすべて終了」と送ってください。"
    }

    fn already_paused(&self) -> &'static str {
        "配信はいま停止しています。再開するときは「再開」と送ってください。"
    }

    fn resumed(&self, delivery_hour: u8) -> String {
        format!("配信を再開しました。{}お届けします。", hour(delivery_hour))
    }

    fn not_paused(&self, delivery_hour: u8) -> String {
        format!(
            "配信は止まっていません。{}お届けしています。",
            hour(delivery_hour)
        )
    }

    fn nothing_active(&self) -> &'static str {
        "いま配信中の登録はありません。出産予定日か、お子さんの生年月日を送ると登録できます。"
    }

    fn delete_question(&self) -> &'static str {
        "登録内容をすべて削除します。削除すると元に戻せません。よろしいですか。"
    }

    fn deleted(&self) -> &'static str {
        "登録内容をすべて削除しました。ご利用ありがとうございました。\n\n\
         また利用したくなったときは、「登録」と送ってください。"
    }

    fn nothing_stored(&self) -> &'static str {
        "いま保存している登録内容はありません。"
    }

    fn end_all_question(&self) -> &'static str {
        "すべての配信を終了しますか。\n\
         終了すると、いまのご登録についてのメッセージは、今後お送りしません。"
    }

    fn ended_all(&self, municipality: &str) -> String {
        format!(
            "すべての配信を終了しました。\nこれまで読んでくださり、ありがとうございました。\n\n\
             お話ししたいことがあるときは、{municipality}の保健師がいつでもうかがいます。"
        )
    }

    fn cancelled(&self) -> &'static str {
        "わかりました。そのままにしておきます。"
    }

    fn stay_paused(&self) -> &'static str {
        "わかりました。配信は止めたままにしています。再開したくなったら「再開」と送ってください。"
    }

    fn help(&self, delivery_hour: u8, schedule: Option<&[ScheduleRule]>) -> String {
        format!(
            "次のことばを送ると、ご案内します。\n\n\
             今日のメッセージ：今日届く（届いた）メッセージを見る\n\
             登録内容：登録している日付の確認\n\
             変更：日付の変更\n\
             生まれました：赤ちゃんが生まれたとき\n\
             追加：きょうだいや妊娠の登録\n\
             停止／再開：配信を止める・再開する\n\
             削除：登録内容をすべて削除\n\
             配信をすべて終了：どのような理由でも、すべての配信を終わりにできます\n\
             個人情報：保存している情報と、その取り扱いの説明\n\
             言語：日本語 / やさしい にほんご / English の切り替え\n\
             アンケート：いまお願いしているアンケートに答える\n\n\
             メッセージは{delivery_hour}時ごろにお届けしています（妊娠中は毎日、お子さんは{}）。",
            self.child_cadence(schedule)
        )
    }

    fn child_cadence(&self, schedule: Option<&[ScheduleRule]>) -> String {
        let Some(schedule) = schedule else {
            return format!(
                "生後{CHILD_DAILY_LAST_DAY}日までは毎日、その後は間をあけて3歳のお誕生日まで"
            );
        };
        let steps = cadence_steps(schedule);
        let mut text = format!("生後{CHILD_DAILY_LAST_DAY}日までは毎日");
        for (i, (until, every)) in steps.iter().enumerate() {
            text.push_str(if i == 0 { "、その後は" } else { "、" });
            text.push_str(&match until {
                // The first and the last say お誕生日; the ones between read better short.
                CadenceUntil::Birthday(age) if i == 0 || i + 1 == steps.len() => {
                    format!("{age}歳のお誕生日までは")
                }
                CadenceUntil::Birthday(age) => format!("{age}歳までは"),
                CadenceUntil::Day(day) => format!("生後{day}日までは"),
            });
            text.push_str(&match every {
                CadenceEvery::Daily => "毎日".to_owned(),
                CadenceEvery::Weekly => "週に1回".to_owned(),
                CadenceEvery::Fortnightly => "2週間に1回".to_owned(),
                CadenceEvery::Days(n) => format!("およそ{n}日ごと"),
            });
        }
        text
    }

    fn message_of_day(&self, day: NaiveDate) -> String {
        format!("{}月{}日のメッセージです。", day.month(), day.day())
    }

    fn today_while_paused(&self) -> &'static str {
        "配信は停止中です。再開するには「再開」と送ってください。"
    }

    fn no_recent_message(&self, days: u64) -> String {
        format!("今日のメッセージはありません。この{days}日間にも、お届けするメッセージはありませんでした。")
    }

    fn today_unavailable(&self) -> &'static str {
        "申し訳ありません。いまは今日のメッセージをお見せできません。しばらくしてから、もう一度送ってください。"
    }

    fn stale_button(&self) -> &'static str {
        "このボタンはいまは使えません。「ヘルプ」と送ると、使い方をご案内します。"
    }

    fn choose_language(&self) -> &'static str {
        "メッセージの言語を選んでください。\nPlease choose your language."
    }

    fn language_set(&self) -> &'static str {
        "これからは日本語でお届けします。"
    }

    fn date_error(&self, error: &TypedDateError, today: NaiveDate) -> String {
        let again = "日付をもう一度ご確認ください。";
        match *error {
            TypedDateError::NoDate => format!(
                "日付を読み取れませんでした。「{}」のように送るか、下のボタンから選んでください。",
                example_date(today)
            ),
            TypedDateError::MissingDay => {
                format!("日にちまで教えてください（例：{}）。", example_date(today))
            }
            TypedDateError::MonthOutOfRange { month } => {
                format!("{month}月という月はありません。{again}")
            }
            TypedDateError::DayOutOfRange { month, day } => {
                format!("{month}月{day}日という日はありません。{again}")
            }
            TypedDateError::OutsideEra { era: Era::Heisei } => {
                "平成は2019年4月30日までです。令和か西暦で送ってください。".to_owned()
            }
            TypedDateError::OutsideEra { era: Era::Reiwa } => {
                format!("令和は2019年5月1日（令和元年）からです。{again}")
            }
        }
    }

    fn implausible(&self, refusal: &ImplausibleDate) -> String {
        match *refusal {
            ImplausibleDate::DueInPast { .. } => "出産予定日が、すでに過ぎた日付のようです。赤ちゃんが生まれていたら、「生まれました」と送るか、生年月日を教えてください。".to_owned(),
            ImplausibleDate::DueTooFar { latest } => format!(
                "出産予定日は{}までの日付で教えてください。日付をもう一度ご確認ください。",
                self.date(latest)
            ),
            ImplausibleDate::BirthInFuture => {
                "生年月日が、今日より先の日付になっています。出産予定日のときは、「追加」と送ってから予定日として登録してください。".to_owned()
            }
            ImplausibleDate::BirthTooOld { earliest } => format!(
                "このメッセージは3歳までのお子さんが対象のため、{}より前に生まれたお子さんは登録できません。ご了承ください。",
                self.date(earliest)
            ),
        }
    }

    fn birth_far_from_due(&self, due_date: NaiveDate) -> String {
        format!(
            "出産予定日（{}）から、かなり離れた日付のようです。生まれた日をもう一度ご確認ください。",
            self.date(due_date)
        )
    }

    fn which_date(&self, future: NaiveDate, past: NaiveDate) -> String {
        format!(
            "{}月{}日は、どちらの日付ですか。\n・出産予定日なら {}\n・お子さんの生年月日なら {}",
            future.month(),
            future.day(),
            self.date(future),
            self.date(past)
        )
    }

    fn research_consent_question(&self) -> &'static str {
        "はじめに一つだけ確認させてください。このアンケートのお答えを、参加している市町村や大学などが一緒に行う研究にも使ってよいですか。お名前やLINEのアカウントが研究に渡ることはありません。「使わないで」を選んでも、このあとの質問にはお答えいただけます。"
    }
    fn label_research_yes(&self) -> &'static str {
        "研究に使ってよい"
    }
    fn label_research_no(&self) -> &'static str {
        "研究には使わないで"
    }
    fn survey_scale_hint(&self, low: &str, high: &str) -> String {
        format!("（1：{low}　〜　5：{high}）")
    }
    fn survey_text_hint(&self, max_chars: u16) -> String {
        format!("このトークに、{max_chars}文字までで送ってください。")
    }
    fn survey_text_too_long(&self, max_chars: u16, chars: usize) -> String {
        format!("ありがとうございます。ただ、{chars}文字ありました。お手数ですが、{max_chars}文字までにまとめて、もう一度送ってください。")
    }
    fn survey_answer_changed(&self) -> &'static str {
        "お答えを変更しました。ありがとうございます。"
    }
    fn survey_all_answered(&self) -> &'static str {
        "すべての質問にお答えいただいています。ありがとうございました。お答えを変えたいときは、前の質問のボタンをもう一度押してください。"
    }
    fn survey_closed(&self) -> &'static str {
        "このアンケートは終了しました。ご協力ありがとうございました。"
    }
    fn survey_unknown(&self) -> &'static str {
        "このアンケートは、いまは受け付けていません。"
    }
    fn survey_not_for_you(&self) -> &'static str {
        "このアンケートは、妊娠や子育ての一部の時期の方にお願いしているものです。気にかけてくださって、ありがとうございます。"
    }
    fn survey_none(&self) -> &'static str {
        "いまお願いしているアンケートはありません。"
    }
    fn survey_list(&self, titles: &[&str]) -> String {
        let list: Vec<String> = titles.iter().map(|t| format!("・{t}")).collect();
        format!("いまお願いしているアンケートです。下のボタンから始められます（途中からの再開もできます）。\n{}", list.join("\n"))
    }
    fn survey_unavailable(&self) -> &'static str {
        "申し訳ありません。いまはアンケートを開けません。しばらくしてから、もう一度お試しください。"
    }
}
