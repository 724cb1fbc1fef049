//! Every Japanese word a parent reads or types, in one place.
//!
//! Tone: a town's public health nurse (保健師) writing to a family — warm, plain, short. No
//! medical advice, no emoji, no exclamation marks (a parent may read these on a hard day).
//! Dates are written the way forms in Japan write them (2027年5月1日); button labels use the
//! short form (2027/5/1) to stay within LINE's 20-character limit.

use super::command::Command;
use crate::content::ScheduleRule;
use crate::household::{Consent, Registration, Subject};
use crate::programme::{
    gestational_day, GestationalAge, CHILD_DAILY_LAST_DAY, MATERNITY_FIRST_DAY, MATERNITY_LAST_DAY,
};
use crate::typed_date::{Era, ImplausibleDate, TypedDateError};
use chrono::{Datelike, NaiveDate};

/// The words of each command. The first is the one shown in help and on buttons.
pub const COMMAND_WORDS: &[(&[&str], Command)] = &[
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
];

/// The word a parent types for `command` (what help and buttons show).
pub fn command_word(command: Command) -> &'static str {
    COMMAND_WORDS
        .iter()
        .find(|(_, c)| *c == command)
        .map(|(words, _)| words[0])
        .unwrap_or("ヘルプ")
}

// Button labels (LINE allows at most 20 characters).
pub const LABEL_DUE_PICKER: &str = "出産予定日を選ぶ";
pub const LABEL_BIRTH_PICKER: &str = "生年月日を選ぶ";
pub const LABEL_BORN_PICKER: &str = "生まれた日を選ぶ";
pub const LABEL_CHANGE_PICKER: &str = "新しい日付を選ぶ";
pub const LABEL_RESUME: &str = "再開する";
pub const LABEL_CANCEL: &str = "やめておく";
pub const LABEL_DELETE: &str = "削除する";
pub const LABEL_END_ALL: &str = "終了する";
pub const LABEL_TWINS: &str = "ふたごです";
pub const LABEL_TRIPLETS: &str = "みつごです";
pub const LABEL_AGREE_AND_REGISTER: &str = "同意して登録する";
pub const LABEL_DO_NOT_REGISTER: &str = "登録しない";
pub const LABEL_AGREE: &str = "同意する";
pub const LABEL_DISAGREE: &str = "同意しない";

/// 2027年5月1日.
pub fn date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// 2027/5/1, for button labels.
pub fn short_date(d: NaiveDate) -> String {
    format!("{}/{}/{}", d.year(), d.month(), d.day())
}

fn hour(h: u8) -> String {
    format!("毎日{h}時ごろ")
}

/// A button label naming a registration, e.g. `予定日 2027/5/1`, `2025/3/4生まれ`.
pub fn registration_label(reg: &Registration) -> String {
    match reg.subject {
        Subject::Pregnancy { due_date } => format!("予定日 {}", short_date(due_date)),
        Subject::Child { birth_date, .. } => format!("{}生まれ", short_date(birth_date)),
    }
}

/// Where a registration stands today, as a parent would say it: 妊娠12週3日, 生後37日,
/// 生後5か月, 1歳2か月.
pub fn stage(subject: &Subject, today: NaiveDate) -> String {
    match *subject {
        Subject::Pregnancy { due_date } => {
            let day = gestational_day(due_date, today);
            if day < 0 {
                "配信開始前".to_owned()
            } else if day > i64::from(MATERNITY_LAST_DAY) {
                "予定日を過ぎています".to_owned()
            } else {
                let age = GestationalAge::from_day(day as u16);
                if day < i64::from(MATERNITY_FIRST_DAY) {
                    format!("妊娠{}週{}日、配信は妊娠4週から", age.weeks, age.days)
                } else {
                    format!("妊娠{}週{}日", age.weeks, age.days)
                }
            }
        }
        Subject::Child { birth_date, .. } => {
            let days = (today - birth_date).num_days();
            let months = full_months(birth_date, today);
            if days < 0 {
                "誕生前".to_owned()
            } else if days <= i64::from(CHILD_DAILY_LAST_DAY) {
                format!("生後{days}日")
            } else if months < 12 {
                format!("生後{months}か月")
            } else if months < 36 {
                match months % 12 {
                    0 => format!("{}歳", months / 12),
                    m => format!("{}歳{}か月", months / 12, m),
                }
            } else {
                "3歳になり、配信は終わりました".to_owned()
            }
        }
    }
}

/// Whole calendar months from `birth` to `today` (a month is complete on the same day-of-month).
fn full_months(birth: NaiveDate, today: NaiveDate) -> i64 {
    let months = i64::from(today.year() - birth.year()) * 12 + i64::from(today.month())
        - i64::from(birth.month());
    if today.day() < birth.day() {
        months - 1
    } else {
        months
    }
}

fn babies(count: u8) -> &'static str {
    match count {
        2 => "（ふたご）",
        3 => "（みつご）",
        _ => "",
    }
}

/// One line describing a registration: `出産予定日 2027年5月1日（妊娠12週3日）`.
pub fn registration_line(reg: &Registration, today: NaiveDate) -> String {
    match reg.subject {
        Subject::Pregnancy { due_date } => format!(
            "出産予定日 {}（{}）{}",
            date(due_date),
            stage(&reg.subject, today),
            babies(reg.baby_count)
        ),
        Subject::Child { birth_date, .. } => format!(
            "お子さん {}生まれ（{}）{}",
            date(birth_date),
            stage(&reg.subject, today),
            babies(reg.baby_count)
        ),
    }
}

fn example_date(today: NaiveDate) -> String {
    format!("{}/5/1", today.year() + 1)
}

/// A follow from a parent who already agreed to the current notice (they ended everything
/// earlier, or erased nothing but their registrations): straight to the date.
pub fn welcome(municipality: &str, delivery_hour: u8, today: NaiveDate) -> String {
    format!(
        "友だち追加ありがとうございます。{municipality}です。\n\n{}\n\n\
         はじめに、出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
        service(delivery_hour),
        example_date(today)
    )
}

/// What Kizuna sends, in one sentence (the welcome and the consent notice open with it).
fn service(delivery_hour: u8) -> String {
    format!(
        "妊娠中の方と、3歳までのお子さんがいるご家庭に、週数や月齢に合わせた短いメッセージを{}お届けしています。",
        hour(delivery_hour)
    )
}

/// What brought the consent notice up, which decides how it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeOccasion {
    /// The parent added the account as a friend.
    Follow,
    /// The parent sent a date (typed or picked) before agreeing; it was not stored.
    Date,
    /// Any other command or button that needs consent first.
    Request,
    /// 個人情報: the parent asked to read the notice.
    Privacy,
}

/// The longest privacy policy URL put into a notice. Anything longer is a configuration
/// mistake; the notice then points to the town instead of growing past LINE's limits.
const MAX_PRIVACY_URL_CHARS: usize = 1000;
/// The longest policy version shown to a parent (versions are labels such as `2` or
/// `2027-04`; a longer one is shown as nothing rather than clutter the message).
const MAX_SHOWN_VERSION_CHARS: usize = 30;

/// What is stored, why, for how long and by whom: the part every notice shares.
fn notice_body(municipality: &str, privacy_url: Option<&str>, retention_days: u64) -> String {
    let policy = match privacy_url.filter(|url| url.chars().count() <= MAX_PRIVACY_URL_CHARS) {
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

/// The notice asked before anything is registered, answered with 同意して登録する / 登録しない.
pub fn consent_notice(
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
         同意いただくまで、日付などは何も保存しません。",
        notice_body(municipality, privacy_url, retention_days)
    )
}

/// The notice asked again after the town changed it (or of a parent registered before
/// consent was asked), answered with 同意する / 同意しない.
pub fn new_policy_notice(
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
pub fn privacy_agreed(
    municipality: &str,
    privacy_url: Option<&str>,
    retention_days: u64,
    consent: &Consent,
) -> String {
    let version = if consent.policy_version.chars().count() <= MAX_SHOWN_VERSION_CHARS {
        format!("（版：{}）", consent.policy_version)
    } else {
        String::new()
    };
    format!(
        "{municipality}での個人情報の取り扱いについてです。\n\n{}\n\n\
         {}に、この内容{version}に同意いただいています。\
         同意を取り消して、保存している内容をすべて削除するときは「削除」と送ってください。",
        notice_body(municipality, privacy_url, retention_days),
        date(consent.agreed_on)
    )
}

/// After 同意して登録する: the question the welcome used to ask straight away.
pub fn welcome_after_consent(today: NaiveDate) -> String {
    format!(
        "同意いただき、ありがとうございます。\n\n\
         はじめに、出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
        example_date(today)
    )
}

/// After 同意する to a new notice.
pub const NEW_POLICY_AGREED: &str =
    "ご確認いただき、ありがとうございます。新しい内容への同意を記録しました。\n\n\
     ご用件の途中でしたら、お手数ですが、もう一度送ってください。";

/// After 登録しない.
pub const NOT_REGISTERED: &str = "わかりました。登録はしていません。日付などの情報も保存していません。\n\n\
     登録したくなったときは、いつでも「登録」と送ってください。メニューに登録の項目があれば、そこからも始められます。";

/// After 同意しない to a new notice: everything was erased.
pub const NEW_POLICY_DECLINED: &str =
    "わかりました。同意いただけなかったため、登録内容をすべて削除し、配信を終えました。\
     これまで読んでくださり、ありがとうございました。\n\n\
     また利用したくなったときは、「登録」と送ってください。";

/// やめておく while a new notice waits for an answer: neither yes nor no yet.
pub const NEW_POLICY_LATER: &str =
    "わかりました。お返事は、次にご利用になるときにあらためておうかがいします。\
     それまでの間も、メッセージはこれまでどおりお届けします。";

pub fn welcome_back(municipality: &str) -> String {
    format!(
        "おかえりなさい。{municipality}です。\n\
         以前のご登録が残っています。メッセージの配信を再開しますか。"
    )
}

pub fn ask_first_date(today: NaiveDate) -> String {
    format!(
        "いまは登録がありません。出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
        example_date(today)
    )
}

pub fn ask_added_date(today: NaiveDate) -> String {
    format!(
        "追加する方の出産予定日か、お子さんの生年月日を教えてください。下のボタンから選ぶか、「{}」のように日付を送ってください。",
        example_date(today)
    )
}

fn pause_note(paused: bool) -> &'static str {
    if paused {
        "\n\nいまは配信を停止しています。再開するときは「再開」と送ってください。"
    } else {
        ""
    }
}

const HELP_NOTE: &str = "登録内容の確認や変更は「ヘルプ」と送るとご案内します。";

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
            child_cadence(schedule)
        ),
    }
}

/// How often a child's messages come, from the content pack's own schedule, e.g.
/// 生後100日までは毎日、その後は1歳のお誕生日まではおよそ3日ごと、2歳までは週に1回、
/// 3歳のお誕生日までは2週間に1回. `None` (no pack at hand): wording without intervals.
pub fn child_cadence(schedule: Option<&[ScheduleRule]>) -> String {
    let Some(schedule) = schedule else {
        return format!(
            "生後{CHILD_DAILY_LAST_DAY}日までは毎日、その後は間をあけて3歳のお誕生日まで"
        );
    };
    let mut rules: Vec<&ScheduleRule> = schedule
        .iter()
        .filter(|r| r.to_day > CHILD_DAILY_LAST_DAY)
        .collect();
    rules.sort_by_key(|r| r.from_day);
    let mut text = format!("生後{CHILD_DAILY_LAST_DAY}日までは毎日");
    for (i, rule) in rules.iter().enumerate() {
        let until = match birthday_near(rule.to_day) {
            // The first and the last say お誕生日; the ones between read better short.
            Some(age) if i == 0 || i + 1 == rules.len() => format!("{age}歳のお誕生日までは"),
            Some(age) => format!("{age}歳までは"),
            None => format!("生後{}日までは", rule.to_day),
        };
        let every = match rule.every_days {
            1 => "毎日".to_owned(),
            7 => "週に1回".to_owned(),
            14 => "2週間に1回".to_owned(),
            n => format!("およそ{n}日ごと"),
        };
        text.push_str(if i == 0 { "、その後は" } else { "、" });
        text.push_str(&until);
        text.push_str(&every);
    }
    text
}

/// The birthday (1–3) a schedule rule's last child day stands for, if it is within a few
/// weeks of one (rules end on the last scheduled day before it, e.g. day 364 or 1092).
fn birthday_near(to_day: u16) -> Option<u16> {
    (1..=3u16).find(|age| (i32::from(*age) * 365 - i32::from(to_day)).abs() <= 21)
}

pub fn registered(
    reg: &Registration,
    today: NaiveDate,
    delivery_hour: u8,
    paused: bool,
    schedule: Option<&[ScheduleRule]>,
) -> String {
    format!(
        "登録しました。\n{}\n\n{}\n{HELP_NOTE}{}",
        registration_line(reg, today),
        what_you_receive(&reg.subject, delivery_hour, schedule),
        pause_note(paused)
    )
}

pub fn already_registered(reg: &Registration, today: NaiveDate) -> String {
    format!(
        "その日付はすでに登録されています。\n{}",
        registration_line(reg, today)
    )
}

pub fn changed(reg: &Registration, today: NaiveDate, delivery_hour: u8, paused: bool) -> String {
    format!(
        "日付を変更しました。\n{}\n\nこれからは新しい日付に合わせて、{}お届けします。{}",
        registration_line(reg, today),
        hour(delivery_hour),
        pause_note(paused)
    )
}

pub fn born(
    reg: &Registration,
    today: NaiveDate,
    delivery_hour: u8,
    paused: bool,
    schedule: Option<&[ScheduleRule]>,
) -> String {
    format!(
        "お子さんの登録に切り替えました。\n{}\n\n{}\n\nふたご・みつごの場合は、下のボタンで教えてください。{}",
        registration_line(reg, today),
        what_you_receive(&reg.subject, delivery_hour, schedule),
        pause_note(paused)
    )
}

pub fn babies_set(count: u8) -> String {
    match count {
        2 => "ふたごのお子さんとして登録しました。".to_owned(),
        3 => "みつごのお子さんとして登録しました。".to_owned(),
        _ => "お子さんおひとりとして登録しました。".to_owned(),
    }
}

pub fn show(
    registrations: &[&Registration],
    today: NaiveDate,
    delivery_hour: u8,
    paused: bool,
) -> String {
    let mut text = "いまの登録内容です。".to_owned();
    for (n, reg) in registrations.iter().enumerate() {
        text.push_str(&format!("\n{}. {}", n + 1, registration_line(reg, today)));
    }
    if paused {
        text.push_str("\n\n配信：停止中（「再開」と送ると再開します）");
    } else {
        text.push_str(&format!("\n\n配信：{}", hour(delivery_hour)));
    }
    text.push_str("\n日付の変更は「変更」、追加は「追加」と送ってください。");
    text
}

pub const CHOOSE_CHANGE: &str = "どの登録の日付を変更しますか。";

pub fn ask_changed_date(reg: &Registration) -> String {
    match reg.subject {
        Subject::Pregnancy { due_date } => format!(
            "いまの出産予定日は{}です。新しい予定日を、下のボタンから選ぶか、日付で送ってください。",
            date(due_date)
        ),
        Subject::Child { birth_date, .. } => format!(
            "いまの生年月日は{}です。正しい生年月日を、下のボタンから選ぶか、日付で送ってください。",
            date(birth_date)
        ),
    }
}

pub const CHOOSE_BORN: &str = "ご出産おめでとうございます。どの登録のお子さんが生まれましたか。";

pub const ASK_BIRTH_DATE: &str =
    "ご出産おめでとうございます。生まれた日を、下のボタンから選ぶか、日付で送ってください。";

pub const NO_PREGNANCY: &str = "妊娠中の登録がありません。お子さんを登録する場合は、生年月日を下のボタンから選ぶか、日付で送ってください。";

pub fn limit_reached(max: usize) -> String {
    format!(
        "ひとつのアカウントで登録できるのは{max}件までのため、これ以上は追加できません。ご不便をおかけしてすみません。"
    )
}

pub const PAUSED: &str = "配信を停止しました。再開するときは「再開」と送ってください。\n\n\
     これまでの登録の配信を、すべて終わりにしたいときは「配信をすべて終了」と送ってください。";
pub const ALREADY_PAUSED: &str =
    "配信はいま停止しています。再開するときは「再開」と送ってください。";

pub fn resumed(delivery_hour: u8) -> String {
    format!("配信を再開しました。{}お届けします。", hour(delivery_hour))
}

pub fn not_paused(delivery_hour: u8) -> String {
    format!(
        "配信は止まっていません。{}お届けしています。",
        hour(delivery_hour)
    )
}

pub const NOTHING_ACTIVE: &str =
    "いま配信中の登録はありません。出産予定日か、お子さんの生年月日を送ると登録できます。";

pub const DELETE_QUESTION: &str =
    "登録内容をすべて削除します。削除すると元に戻せません。よろしいですか。";
pub const DELETED: &str = "登録内容をすべて削除しました。ご利用ありがとうございました。\n\n\
     また利用したくなったときは、「登録」と送ってください。";
pub const NOTHING_STORED: &str = "いま保存している登録内容はありません。";

pub const END_ALL_QUESTION: &str = "すべての配信を終了しますか。\n\
     終了すると、いまのご登録についてのメッセージは、今後お送りしません。";

pub fn ended_all(municipality: &str) -> String {
    format!(
        "すべての配信を終了しました。\nこれまで読んでくださり、ありがとうございました。\n\n\
         お話ししたいことがあるときは、{municipality}の保健師がいつでもうかがいます。"
    )
}

pub const CANCELLED: &str = "わかりました。そのままにしておきます。";
pub const STAY_PAUSED: &str =
    "わかりました。配信は止めたままにしています。再開したくなったら「再開」と送ってください。";

pub fn help(delivery_hour: u8, schedule: Option<&[ScheduleRule]>) -> String {
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
         個人情報：保存している情報と、その取り扱いの説明\n\n\
         メッセージは{delivery_hour}時ごろにお届けしています（妊娠中は毎日、お子さんは{}）。",
        child_cadence(schedule)
    )
}

/// 今日のメッセージ before a date: which day's message follows (today's has no heading).
pub fn message_of_day(day: NaiveDate) -> String {
    format!("{}月{}日のメッセージです。", day.month(), day.day())
}

/// 今日のメッセージ while paused: what is shown is not being sent.
pub const TODAY_WHILE_PAUSED: &str = "配信は停止中です。再開するには「再開」と送ってください。";

/// 今日のメッセージ with nothing planned today or in the days before.
pub fn no_recent_message(days: u64) -> String {
    format!("今日のメッセージはありません。この{days}日間にも、お届けするメッセージはありませんでした。")
}

/// 今日のメッセージ when the content could not be read.
pub const TODAY_UNAVAILABLE: &str =
    "申し訳ありません。いまは今日のメッセージをお見せできません。しばらくしてから、もう一度送ってください。";

pub const STALE_BUTTON: &str =
    "このボタンはいまは使えません。「ヘルプ」と送ると、使い方をご案内します。";

pub fn date_error(error: &TypedDateError, today: NaiveDate) -> String {
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

pub fn implausible(refusal: &ImplausibleDate) -> String {
    match *refusal {
        ImplausibleDate::DueInPast { .. } => "出産予定日が、すでに過ぎた日付のようです。赤ちゃんが生まれていたら、「生まれました」と送るか、生年月日を教えてください。".to_owned(),
        ImplausibleDate::DueTooFar { latest } => format!(
            "出産予定日は{}までの日付で教えてください。日付をもう一度ご確認ください。",
            date(latest)
        ),
        ImplausibleDate::BirthInFuture => {
            "生年月日が、今日より先の日付になっています。出産予定日のときは、「追加」と送ってから予定日として登録してください。".to_owned()
        }
        ImplausibleDate::BirthTooOld { earliest } => format!(
            "このメッセージは3歳までのお子さんが対象のため、{}より前に生まれたお子さんは登録できません。ご了承ください。",
            date(earliest)
        ),
    }
}

pub fn birth_far_from_due(due_date: NaiveDate) -> String {
    format!(
        "出産予定日（{}）から、かなり離れた日付のようです。生まれた日をもう一度ご確認ください。",
        date(due_date)
    )
}

pub fn which_date(future: NaiveDate, past: NaiveDate) -> String {
    format!(
        "{}月{}日は、どちらの日付ですか。\n・出産予定日なら {}\n・お子さんの生年月日なら {}",
        future.month(),
        future.day(),
        date(future),
        date(past)
    )
}

pub fn which_date_labels(future: NaiveDate, past: NaiveDate) -> (String, String) {
    (
        format!("予定日 {}", short_date(future)),
        format!("生年月日 {}", short_date(past)),
    )
}
