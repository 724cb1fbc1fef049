//! What the flyer and the card say, in Japanese, from the town's facts and the programmes.
//!
//! Everything about *when* messages arrive is read from kizuna-core's [`ProgrammeSpec`]s and
//! the content pack's child schedule, so a change there changes the flyer; the wording around
//! it follows the tone of the conversation's own texts (a 保健師 writing to a family: warm,
//! plain, short, no exclamation marks). The three registration steps describe the real flow
//! of `kizuna_core::conversation`: 友だち追加 → the privacy notice answered with
//! 「同意して登録する」 → a due date or a birth date, typed or picked from the buttons.

use kizuna_core::content::{ScheduleRule, Town};
use kizuna_core::programme::{Cadence, Programme, ProgrammeEnd, CHILD_DAILY_LAST_DAY};

/// What the flyer needs to know about the town.
#[derive(Debug, Clone, Copy)]
pub struct TownFacts<'a> {
    /// `{municipality}`, `{center}`, `{contact}` from the content pack's overlay.
    pub town: Town<'a>,
    /// The hour (Japan time) of the daily push.
    pub delivery_hour: u8,
    /// The town's privacy policy page.
    pub privacy_url: &'a str,
    /// The LINE id as LINE shows it (`@…`), for parents who search instead of scanning.
    pub basic_id: &'a str,
    /// The content pack's child schedule after day [`CHILD_DAILY_LAST_DAY`].
    pub child_schedule: &'a [ScheduleRule],
}

/// A labelled line: a row of 届くメッセージ or a registration step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub text: String,
}

/// The A4 flyer's words, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlyerWording {
    pub kicker: String,
    pub title: [String; 2],
    pub lead: String,
    pub receive_heading: String,
    pub receive: Vec<Row>,
    pub receive_note: String,
    pub steps_heading: String,
    pub steps: [Row; 3],
    pub qr_caption: String,
    pub line_id: String,
    pub privacy: String,
    pub contact_heading: String,
    pub contact: String,
    pub center: String,
}

/// The card's words (a business-card-sized insert for the 母子健康手帳).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardWording {
    pub town: String,
    pub title: [String; 2],
    pub steps: [String; 3],
    pub line_id: String,
    pub contact: String,
    pub privacy: String,
}

/// "妊娠4週" for gestational day 28; "妊娠4週2日" for day 30.
fn gestational_week(day: u16) -> String {
    match day % 7 {
        0 => format!("妊娠{}週", day / 7),
        d => format!("妊娠{}週{d}日", day / 7),
    }
}

/// The age at which the child programme ends (its messages stop the day before).
fn child_end_age() -> u32 {
    match Programme::Child.spec().end {
        ProgrammeEnd::BeforeBirthday { age } => age,
        // Not the programme as it is today; whole years keep the wording true.
        ProgrammeEnd::LastDay { last_day, .. } => u32::from(last_day) / 365,
    }
}

/// 「1歳・2歳・3歳」 from the ages that get a birthday message.
fn birthday_ages() -> String {
    Programme::Child
        .spec()
        .birthday_ages
        .iter()
        .map(|a| format!("{a}歳"))
        .collect::<Vec<_>>()
        .join("・")
}

/// The birthday (1–3) a schedule rule's last day stands for, if it is within three weeks of
/// one (the sample pack's rules end on day 364, 728 and 1092).
fn birthday_near(day: u16) -> Option<u16> {
    (1..=3u16).find(|age| (i32::from(*age) * 365 - i32::from(day)).abs() <= 21)
}

/// 「1歳まで3日ごと、2歳まで毎週、3歳まで2週ごと」: the pack's schedule after
/// the daily days, in order.
fn child_cadence(schedule: &[ScheduleRule]) -> String {
    let mut rules: Vec<&ScheduleRule> = schedule
        .iter()
        .filter(|r| r.to_day > CHILD_DAILY_LAST_DAY)
        .collect();
    rules.sort_by_key(|r| r.from_day);
    let steps: Vec<String> = rules
        .iter()
        .map(|r| {
            let until = match birthday_near(r.to_day) {
                Some(age) => format!("{age}歳まで"),
                None => format!("生後{}日まで", r.to_day),
            };
            // 「ごと」 and 「毎週」 rather than 「1回」: a 回 is a square in a square, which a QR
            // decoder can take for a finder pattern (rqrr did, reading the printed flyer).
            let every = match r.every_days {
                1 => "毎日".to_owned(),
                7 => "毎週".to_owned(),
                14 => "2週ごと".to_owned(),
                n => format!("{n}日ごと"),
            };
            format!("{until}{every}")
        })
        .collect();
    if steps.is_empty() {
        "成長の節目の日に".to_owned()
    } else {
        steps.join("、")
    }
}

impl FlyerWording {
    pub fn new(facts: &TownFacts<'_>) -> Self {
        let town = facts.town.municipality;
        let maternity = Programme::Maternity.spec();
        let child = Programme::Child.spec();
        let end_age = child_end_age();
        let daily_to = match child.cadence {
            Cadence::DailyThenContentSchedule { daily_last_day } => daily_last_day,
            Cadence::Daily => CHILD_DAILY_LAST_DAY,
        };
        let hour = facts.delivery_hour;
        let receive = vec![
            Row {
                label: "妊娠中".to_owned(),
                // 生まれました switches the registration to the child programme
                // (conversation: Command::Born).
                text: format!(
                    "{}から、赤ちゃんが生まれるまで毎日。生まれたら「生まれました」と送って\
                     ください。",
                    gestational_week(maternity.first_day)
                ),
            },
            Row {
                label: format!("生後{daily_to}日まで"),
                text: format!("生まれた日から{daily_to}日目まで、毎日。"),
            },
            Row {
                label: format!("{end_age}歳まで"),
                text: format!("その後は、{}。", child_cadence(facts.child_schedule)),
            },
            Row {
                label: "お誕生日".to_owned(),
                text: format!("{}のお誕生日に、お祝いのメッセージ。", birthday_ages()),
            },
        ];
        Self {
            kicker: format!("{town}から、妊娠中・子育て中のご家族へ"),
            title: [
                format!("妊娠中から{end_age}歳まで"),
                "LINEでメッセージをお届けします".to_owned(),
            ],
            lead: format!(
                "妊娠週数やお子さんの月齢に合わせた短いメッセージを、{hour}時ごろ、\
                 {town}のLINE公式アカウントからお送りします。登録は無料です。"
            ),
            receive_heading: "届くメッセージ".to_owned(),
            receive,
            receive_note: "きょうだいの追加や日付の変更、配信の停止も、LINEからいつでもできます。"
                .to_owned(),
            steps_heading: "登録は3ステップ".to_owned(),
            steps: [
                Row {
                    label: "友だち追加".to_owned(),
                    text: format!(
                        "スマートフォンのカメラかLINEでQRコードを読み取り、\
                         {town}のアカウントを友だち追加します。"
                    ),
                },
                Row {
                    label: "同意".to_owned(),
                    text: "届いたメッセージで個人情報の取り扱いを読み、\
                           「同意して登録する」を押します。"
                        .to_owned(),
                },
                Row {
                    label: "日付を送る".to_owned(),
                    text: "出産予定日か、お子さんの生年月日を送ります。\
                           表示されるボタンから選ぶこともできます。これで登録は完了です。"
                        .to_owned(),
                },
            ],
            qr_caption: "読み取って友だち追加".to_owned(),
            line_id: format!("LINE IDで検索：{}", facts.basic_id),
            privacy: format!(
                "ご登録の内容は、{town}の個人情報の取り扱いに沿って大切に管理します。詳しくは {}",
                facts.privacy_url
            ),
            contact_heading: "お問い合わせ".to_owned(),
            contact: facts.town.contact.to_owned(),
            center: format!(
                "妊娠・子育ての相談は、{}でも受け付けています。",
                facts.town.center
            ),
        }
    }
}

impl CardWording {
    pub fn new(facts: &TownFacts<'_>) -> Self {
        let town = facts.town.municipality;
        Self {
            town: town.to_owned(),
            title: [
                format!("妊娠中から{}歳まで", child_end_age()),
                "LINEでメッセージをお届けします".to_owned(),
            ],
            steps: [
                "① QRコードで友だち追加".to_owned(),
                "②「同意して登録する」を押す".to_owned(),
                "③ 予定日か生年月日を送る".to_owned(),
            ],
            line_id: format!("LINE ID：{}", facts.basic_id),
            contact: facts.town.contact.to_owned(),
            privacy: format!("個人情報の取り扱い：{}", facts.privacy_url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(schedule: &[ScheduleRule]) -> TownFacts<'_> {
        TownFacts {
            town: Town {
                municipality: "きずな町",
                center: "きずな町こども家庭センター",
                contact: "きずな町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）",
            },
            delivery_hour: 8,
            privacy_url: "https://www.example.jp/privacy",
            basic_id: "@123abcde",
            child_schedule: schedule,
        }
    }

    /// The sample pack's schedule (content/base/pack.toml).
    const SAMPLE: [ScheduleRule; 3] = [
        ScheduleRule {
            from_day: 742,
            to_day: 1092,
            every_days: 14,
        },
        ScheduleRule {
            from_day: 103,
            to_day: 364,
            every_days: 3,
        },
        ScheduleRule {
            from_day: 371,
            to_day: 728,
            every_days: 7,
        },
    ];

    #[test]
    fn the_windows_come_from_the_programmes_and_the_pack() {
        let w = FlyerWording::new(&facts(&SAMPLE));
        let rows: Vec<&str> = w.receive.iter().map(|r| r.text.as_str()).collect();
        // Maternity starts at its first day (4w0d), the child programme is daily to day 100.
        assert!(
            rows[0].starts_with("妊娠4週から、赤ちゃんが生まれるまで毎日。"),
            "{}",
            rows[0]
        );
        assert_eq!(rows[1], "生まれた日から100日目まで、毎日。");
        // The pack's rules, sorted by day, each ending near a birthday.
        assert_eq!(
            rows[2],
            "その後は、1歳まで3日ごと、2歳まで毎週、3歳まで2週ごと。"
        );
        assert_eq!(rows[3], "1歳・2歳・3歳のお誕生日に、お祝いのメッセージ。");
        assert_eq!(w.title[0], "妊娠中から3歳まで");
        assert!(w.lead.contains("8時ごろ"), "{}", w.lead);
    }

    #[test]
    fn the_town_s_facts_appear_where_a_parent_looks_for_them() {
        let w = FlyerWording::new(&facts(&SAMPLE));
        assert!(w.privacy.ends_with("https://www.example.jp/privacy"));
        assert!(w.privacy.contains("きずな町の個人情報の取り扱い"));
        assert!(w.contact.contains("000-000-0000"));
        assert!(w.center.contains("きずな町こども家庭センター"));
        assert_eq!(w.line_id, "LINE IDで検索：@123abcde");
        // The steps follow the conversation: follow, agree with the button's own words, date.
        assert_eq!(w.steps[0].label, "友だち追加");
        assert!(w.steps[1].text.contains("「同意して登録する」"));
        assert!(w.steps[2].text.contains("出産予定日か、お子さんの生年月日"));

        let card = CardWording::new(&facts(&SAMPLE));
        assert!(card.privacy.ends_with("https://www.example.jp/privacy"));
        assert!(card.steps[1].contains("同意して登録する"));
    }

    #[test]
    fn other_schedules_and_start_days_read_naturally() {
        assert_eq!(gestational_week(28), "妊娠4週");
        assert_eq!(gestational_week(30), "妊娠4週2日");
        let odd = [ScheduleRule {
            from_day: 110,
            to_day: 200,
            every_days: 10,
        }];
        assert_eq!(child_cadence(&odd), "生後200日まで10日ごと");
        // A pack without a schedule after day 100 still gives a sentence.
        assert_eq!(child_cadence(&[]), "成長の節目の日に");
    }
}
