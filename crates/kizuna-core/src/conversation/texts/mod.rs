//! Every word a parent reads or types, one file per language.
//!
//! Each language implements [`Texts`]; the compiler makes sure no text is missing, and the
//! test `every_text_of_every_language_is_complete_and_within_line_limits` makes sure none is
//! empty, too long for LINE, or left with an unrendered placeholder. Adding a language: a
//! variant of [`Language`], a file here implementing [`Texts`], and a line in [`texts`].
//!
//! What is shared (which stage a registration is at, how long a URL may be) lives here so
//! that languages differ only in words.

mod easy_ja;
mod en;
mod ja;

use super::command::Command;
use crate::content::ScheduleRule;
use crate::household::{Consent, Language, Registration, Subject};
use crate::programme::{
    gestational_day, GestationalAge, CHILD_DAILY_LAST_DAY, MATERNITY_FIRST_DAY, MATERNITY_LAST_DAY,
};
use crate::typed_date::{ImplausibleDate, TypedDateError};
use chrono::{Datelike, NaiveDate};

/// The texts of `language`.
pub fn texts(language: Language) -> &'static dyn Texts {
    match language {
        Language::Japanese => &ja::Japanese,
        Language::EasyJapanese => &easy_ja::EasyJapanese,
        Language::English => &en::English,
    }
}

impl Command {
    /// The command `text` is, in any language (matched exactly after folding spaces, width
    /// and case). Implemented here, beside the words, so that `command.rs` does not depend on
    /// the texts.
    pub fn parse(text: &str) -> Option<Command> {
        parse_command(text)
    }
}

/// The command a parent typed, in any language whatever their stored choice: a parent who
/// chose English may still type 停止, and a shared family account may mix languages.
///
/// Matching is exact after folding (see [`fold`]), so a sentence that merely contains a
/// command word is not taken.
pub fn parse_command(text: &str) -> Option<Command> {
    let folded = fold(text);
    Language::ALL.into_iter().find_map(|language| {
        texts(language)
            .command_words()
            .iter()
            .find(|(words, _)| words.iter().any(|w| fold(w) == folded))
            .map(|&(_, command)| command)
    })
}

/// Spaces removed, full-width ASCII folded to half-width, ASCII lower-cased: `　ヘルプ　`,
/// `ﾍﾙﾌﾟ`-style variants listed in the tables, `My registration` and `myregistration` match.
pub fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The words of each command in one language. The first is the one shown in help and on
/// buttons.
pub type CommandWords = &'static [(&'static [&'static str], Command)];

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

/// The privacy URL, if it is short enough to show.
pub fn shown_privacy_url(privacy_url: Option<&str>) -> Option<&str> {
    privacy_url.filter(|url| url.chars().count() <= MAX_PRIVACY_URL_CHARS)
}

/// The policy version the parent agreed to, if it is short enough to show.
pub fn shown_version(consent: &Consent) -> Option<&str> {
    Some(consent.policy_version.as_str()).filter(|v| v.chars().count() <= MAX_SHOWN_VERSION_CHARS)
}

/// Where a registration stands today, before any language puts it into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Due date so far ahead that the pregnancy is not yet in week 0.
    BeforePregnancy,
    /// Pregnant, weeks and days; `before_messages`: before the first message (4w0d).
    Pregnant {
        weeks: u16,
        days: u16,
        before_messages: bool,
    },
    /// Past the last maternity day without a reported birth.
    PastDue,
    /// Birth date in the future.
    NotBornYet,
    /// 生後N日, up to the last daily day.
    DaysOld(i64),
    /// Whole months under 12.
    MonthsOld(i64),
    /// 1歳2か月: years and months, under 3 years.
    YearsOld { years: i64, months: i64 },
    /// Three or older: the programme has ended.
    Finished,
}

pub fn stage(subject: &Subject, today: NaiveDate) -> Stage {
    match *subject {
        Subject::Pregnancy { due_date } => {
            let day = gestational_day(due_date, today);
            if day < 0 {
                Stage::BeforePregnancy
            } else if day > i64::from(MATERNITY_LAST_DAY) {
                Stage::PastDue
            } else {
                let age = GestationalAge::from_day(day as u16);
                Stage::Pregnant {
                    weeks: age.weeks,
                    days: age.days,
                    before_messages: day < i64::from(MATERNITY_FIRST_DAY),
                }
            }
        }
        Subject::Child { birth_date, .. } => {
            let days = (today - birth_date).num_days();
            let months = full_months(birth_date, today);
            if days < 0 {
                Stage::NotBornYet
            } else if days <= i64::from(CHILD_DAILY_LAST_DAY) {
                Stage::DaysOld(days)
            } else if months < 12 {
                Stage::MonthsOld(months)
            } else if months < 36 {
                Stage::YearsOld {
                    years: months / 12,
                    months: months % 12,
                }
            } else {
                Stage::Finished
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

/// The example a parent is shown for typing a date (the parser reads it in every language).
pub fn example_date(today: NaiveDate) -> String {
    format!("{}/5/1", today.year() + 1)
}

/// 2027/5/1: button labels in every language, short enough for LINE's 20 characters.
pub fn short_date(d: NaiveDate) -> String {
    format!("{}/{}/{}", d.year(), d.month(), d.day())
}

/// Every text of one language. Methods without arguments are fixed texts; the others render
/// their arguments (dates in the language's own form).
pub trait Texts: Sync {
    /// Which language this is.
    fn language(&self) -> Language;

    // ---- words and buttons (LINE allows at most 20 characters per label) ----
    fn command_words(&self) -> CommandWords;
    /// The word shown for `command` on buttons and in help; it parses back to `command`.
    fn command_word(&self, command: Command) -> &'static str {
        self.command_words()
            .iter()
            .find(|(_, c)| *c == command)
            .map(|(words, _)| words[0])
            .unwrap_or("help")
    }
    fn label_due_picker(&self) -> &'static str;
    fn label_birth_picker(&self) -> &'static str;
    fn label_born_picker(&self) -> &'static str;
    fn label_change_picker(&self) -> &'static str;
    fn label_resume(&self) -> &'static str;
    fn label_cancel(&self) -> &'static str;
    fn label_delete(&self) -> &'static str;
    fn label_end_all(&self) -> &'static str;
    fn label_twins(&self) -> &'static str;
    fn label_triplets(&self) -> &'static str;
    fn label_agree_and_register(&self) -> &'static str;
    fn label_do_not_register(&self) -> &'static str;
    fn label_agree(&self) -> &'static str;
    fn label_disagree(&self) -> &'static str;
    /// A button naming a registration, e.g. `予定日 2027/5/1`.
    fn registration_label(&self, reg: &Registration) -> String;
    fn which_date_labels(&self, future: NaiveDate, past: NaiveDate) -> (String, String);

    // ---- dates and stages ----
    /// A date as the language writes it in a sentence (2027年5月1日, 1 May 2027).
    fn date(&self, d: NaiveDate) -> String;
    fn stage(&self, subject: &Subject, today: NaiveDate) -> String;
    /// One line describing a registration.
    fn registration_line(&self, reg: &Registration, today: NaiveDate) -> String;

    // ---- first contact and consent ----
    fn welcome(&self, municipality: &str, delivery_hour: u8, today: NaiveDate) -> String;
    fn consent_notice(
        &self,
        municipality: &str,
        delivery_hour: u8,
        privacy_url: Option<&str>,
        retention_days: u64,
        occasion: NoticeOccasion,
    ) -> String;
    fn new_policy_notice(
        &self,
        municipality: &str,
        privacy_url: Option<&str>,
        retention_days: u64,
        occasion: NoticeOccasion,
    ) -> String;
    fn privacy_agreed(
        &self,
        municipality: &str,
        privacy_url: Option<&str>,
        retention_days: u64,
        consent: &Consent,
    ) -> String;
    fn welcome_after_consent(&self, today: NaiveDate) -> String;
    fn new_policy_agreed(&self) -> &'static str;
    fn not_registered(&self) -> &'static str;
    fn new_policy_declined(&self) -> &'static str;
    fn new_policy_later(&self) -> &'static str;
    fn welcome_back(&self, municipality: &str) -> String;

    // ---- registrations ----
    fn ask_first_date(&self, today: NaiveDate) -> String;
    fn ask_added_date(&self, today: NaiveDate) -> String;
    fn registered(
        &self,
        reg: &Registration,
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
        schedule: Option<&[ScheduleRule]>,
    ) -> String;
    fn already_registered(&self, reg: &Registration, today: NaiveDate) -> String;
    fn changed(
        &self,
        reg: &Registration,
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
    ) -> String;
    fn born(
        &self,
        reg: &Registration,
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
        schedule: Option<&[ScheduleRule]>,
    ) -> String;
    fn babies_set(&self, count: u8) -> String;
    fn show(
        &self,
        registrations: &[&Registration],
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
    ) -> String;
    fn choose_change(&self) -> &'static str;
    fn ask_changed_date(&self, reg: &Registration) -> String;
    fn choose_born(&self) -> &'static str;
    fn ask_birth_date(&self) -> &'static str;
    fn no_pregnancy(&self) -> &'static str;
    fn limit_reached(&self, max: usize) -> String;

    // ---- pause, delete, end ----
    fn paused(&self) -> &'static str;
    fn already_paused(&self) -> &'static str;
    fn resumed(&self, delivery_hour: u8) -> String;
    fn not_paused(&self, delivery_hour: u8) -> String;
    fn nothing_active(&self) -> &'static str;
    fn delete_question(&self) -> &'static str;
    fn deleted(&self) -> &'static str;
    fn nothing_stored(&self) -> &'static str;
    fn end_all_question(&self) -> &'static str;
    fn ended_all(&self, municipality: &str) -> String;
    fn cancelled(&self) -> &'static str;
    fn stay_paused(&self) -> &'static str;
    fn help(&self, delivery_hour: u8, schedule: Option<&[ScheduleRule]>) -> String;
    /// How often a child's messages come, from the content pack's own schedule
    /// ([`cadence_steps`]); `None` (no pack at hand): wording without intervals.
    fn child_cadence(&self, schedule: Option<&[ScheduleRule]>) -> String;

    // ---- 今日のメッセージ ----
    /// Before a date: which day's message follows (today's has no heading).
    fn message_of_day(&self, day: NaiveDate) -> String;
    /// While paused: what is shown is not being sent.
    fn today_while_paused(&self) -> &'static str;
    /// Nothing planned today or in the `days` before.
    fn no_recent_message(&self, days: u64) -> String;
    /// The content could not be read.
    fn today_unavailable(&self) -> &'static str;
    fn stale_button(&self) -> &'static str;

    // ---- languages ----
    /// 言語: which language, answered with one button per language.
    fn choose_language(&self) -> &'static str;
    /// The choice was saved (said in the chosen language).
    fn language_set(&self) -> &'static str;

    // ---- dates the parent typed ----
    fn date_error(&self, error: &TypedDateError, today: NaiveDate) -> String;
    fn implausible(&self, refusal: &ImplausibleDate) -> String;
    fn birth_far_from_due(&self, due_date: NaiveDate) -> String;
    fn which_date(&self, future: NaiveDate, past: NaiveDate) -> String;

    // ---- surveys (the survey's own title, questions and thanks are the pack's, in Japanese) ----
    /// The question every survey asks first: may the answers be used for joint research?
    /// Plain words, a yes/no with its two buttons.
    fn research_consent_question(&self) -> &'static str;
    fn label_research_yes(&self) -> &'static str;
    fn label_research_no(&self) -> &'static str;
    /// Under a 1–5 question: what 1 and 5 mean.
    fn survey_scale_hint(&self, low: &str, high: &str) -> String;
    /// Under a free-text question: type the answer, up to `max_chars` characters.
    fn survey_text_hint(&self, max_chars: u16) -> String;
    /// A typed answer longer than the question allows (`chars` characters).
    fn survey_text_too_long(&self, max_chars: u16, chars: usize) -> String;
    /// An answer given again, after the last question: the new one replaces the old.
    fn survey_answer_changed(&self) -> &'static str;
    /// 「アンケート」 with every question answered already.
    fn survey_all_answered(&self) -> &'static str;
    /// A tap after the survey's last day: nothing is stored.
    fn survey_closed(&self) -> &'static str;
    /// A tap for a survey the pack no longer has: nothing is stored.
    fn survey_unknown(&self) -> &'static str;
    /// A tap from a household the survey is not for: nothing is stored.
    fn survey_not_for_you(&self) -> &'static str;
    /// 「アンケート」 with nothing to answer.
    fn survey_none(&self) -> &'static str;
    /// 「アンケート」: the surveys to answer, by title, each with a button below.
    fn survey_list(&self, titles: &[&str]) -> String;
    /// The content could not be read to answer about a survey.
    fn survey_unavailable(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::household::RegistrationStatus;
    use crate::message::{utf16_len, MAX_ACTION_LABEL_CHARS, MAX_TEXT_UTF16};
    use crate::typed_date::Era;

    #[test]
    fn commands_match_exactly_after_folding() {
        assert_eq!(Command::parse("ヘルプ"), Some(Command::Help));
        assert_eq!(Command::parse("　ヘルプ \n"), Some(Command::Help));
        assert_eq!(Command::parse("ﾍﾙﾌﾟ"), Some(Command::Help));
        assert_eq!(Command::parse("登録 内容"), Some(Command::Show));
        assert_eq!(Command::parse("産まれました"), Some(Command::Born));
        assert_eq!(Command::parse("配信をすべて終了"), Some(Command::EndAll));
        assert_eq!(Command::parse("配信を全て停止"), Some(Command::EndAll));
        assert_eq!(Command::parse("個人情報"), Some(Command::Privacy));
        assert_eq!(Command::parse("個人情報の取り扱い"), Some(Command::Privacy));
        assert_eq!(Command::parse("プライバシー"), Some(Command::Privacy));
        assert_eq!(Command::parse("登録"), Some(Command::Register));
        assert_eq!(Command::parse("今日のメッセージ"), Some(Command::Today));
        assert_eq!(
            Command::parse(" 今日の メッセージ を見る　"),
            Some(Command::Today)
        );
        assert_eq!(Command::parse("きょうのメッセージ"), Some(Command::Today));
        assert_eq!(Command::parse("今日のお便り"), Some(Command::Today));
        assert_eq!(Command::parse("今日の配信"), Some(Command::Today));
        assert_eq!(Command::parse("今日のﾒｯｾｰｼﾞ"), Some(Command::Today));
        assert_eq!(Command::parse("今日のメッセージが届かない"), None);
        assert_eq!(Command::parse("ヘルプを見たい"), None);
        assert_eq!(Command::parse("個人情報について教えて"), None);
        assert_eq!(Command::parse("停止してほしい"), None);
        assert_eq!(Command::parse(""), None);
        assert_eq!(Command::parse("Help"), Some(Command::Help));
        assert_eq!(Command::parse("my registration"), Some(Command::Show));
        assert_eq!(Command::parse("ＳＴＯＰ"), Some(Command::Pause));
        assert_eq!(Command::parse("Baby born"), Some(Command::Born));
        assert_eq!(Command::parse("language"), Some(Command::Language));
        assert_eq!(Command::parse("言語"), Some(Command::Language));
        assert_eq!(Command::parse("げんご"), Some(Command::Language));
        assert_eq!(Command::parse("さいかい"), Some(Command::Resume));
        assert_eq!(Command::parse("please help"), None);
        assert_eq!(Command::parse("stop it"), None);
    }

    use crate::testing::date as d;

    fn registration(subject: Subject, baby_count: u8) -> Registration {
        Registration {
            id: 1,
            subject,
            baby_count,
            status: RegistrationStatus::Active,
            registered_on: d(2026, 1, 1),
        }
    }

    /// (what it is, the text).
    type Named = Vec<(String, String)>;

    /// Every rendered text of `t` and every button label, named, over inputs that reach every
    /// branch.
    fn render_all(t: &dyn Texts) -> (Named, Named) {
        let today = d(2027, 1, 10);
        let long_url = format!("https://example.jp/{}", "a".repeat(2000));
        let consent = Consent {
            policy_version: "2027-04".to_owned(),
            agreed_on: d(2026, 12, 1),
        };
        let subjects = [
            Subject::Pregnancy {
                due_date: d(2027, 5, 1),
            },
            Subject::Pregnancy {
                due_date: d(2027, 9, 20),
            },
            Subject::Pregnancy {
                due_date: d(2028, 1, 1),
            },
            Subject::Pregnancy {
                due_date: d(2026, 12, 1),
            },
            Subject::Child {
                birth_date: d(2027, 1, 2),
                due_date: None,
            },
            Subject::Child {
                birth_date: d(2026, 6, 1),
                due_date: None,
            },
            Subject::Child {
                birth_date: d(2025, 11, 10),
                due_date: None,
            },
            Subject::Child {
                birth_date: d(2025, 1, 10),
                due_date: None,
            },
            Subject::Child {
                birth_date: d(2023, 1, 1),
                due_date: None,
            },
            Subject::Child {
                birth_date: d(2027, 2, 1),
                due_date: None,
            },
        ];
        let sample_schedule = vec![
            crate::content::ScheduleRule {
                from_day: 103,
                to_day: 364,
                every_days: 3,
            },
            crate::content::ScheduleRule {
                from_day: 371,
                to_day: 728,
                every_days: 7,
            },
            crate::content::ScheduleRule {
                from_day: 742,
                to_day: 1092,
                every_days: 14,
            },
        ];
        let mut texts: Named = Vec::new();
        let mut add = |name: &str, text: String| texts.push((name.to_owned(), text));
        let regs: Vec<Registration> = subjects
            .iter()
            .zip([1, 2, 3].into_iter().cycle())
            .map(|(s, n)| registration(*s, n))
            .collect();
        let refs: Vec<&Registration> = regs.iter().collect();
        for reg in &regs {
            add("registration_line", t.registration_line(reg, today));
            add("stage", t.stage(&reg.subject, today));
            for paused in [false, true] {
                for schedule in [None, Some(sample_schedule.as_slice())] {
                    add("registered", t.registered(reg, today, 20, paused, schedule));
                    add("born", t.born(reg, today, 12, paused, schedule));
                }
                add("changed", t.changed(reg, today, 0, paused));
            }
            add("already_registered", t.already_registered(reg, today));
            add("ask_changed_date", t.ask_changed_date(reg));
        }
        for paused in [false, true] {
            add("show", t.show(&refs, today, 20, paused));
        }
        let occasions = [
            NoticeOccasion::Follow,
            NoticeOccasion::Date,
            NoticeOccasion::Request,
            NoticeOccasion::Privacy,
        ];
        for url in [
            Some(super::tests_support::URL),
            None,
            Some(long_url.as_str()),
        ] {
            for occasion in occasions {
                add(
                    "consent_notice",
                    t.consent_notice("きずな町", 20, url, 180, occasion),
                );
                add(
                    "new_policy_notice",
                    t.new_policy_notice("きずな町", url, 180, occasion),
                );
            }
            add(
                "privacy_agreed",
                t.privacy_agreed("きずな町", url, 180, &consent),
            );
        }
        add("welcome", t.welcome("きずな町", 7, today));
        add("welcome_after_consent", t.welcome_after_consent(today));
        add("welcome_back", t.welcome_back("きずな町"));
        add("ask_first_date", t.ask_first_date(today));
        add("ask_added_date", t.ask_added_date(today));
        for n in 1..=3 {
            add("babies_set", t.babies_set(n));
        }
        add("limit_reached", t.limit_reached(5));
        add("resumed", t.resumed(20));
        add("not_paused", t.not_paused(20));
        add("ended_all", t.ended_all("きずな町"));
        for schedule in [None, Some(sample_schedule.as_slice())] {
            add("help", t.help(20, schedule));
            add("child_cadence", t.child_cadence(schedule));
        }
        add("message_of_day", t.message_of_day(d(2027, 5, 1)));
        add("today_while_paused", t.today_while_paused().to_owned());
        add("no_recent_message", t.no_recent_message(30));
        add("today_unavailable", t.today_unavailable().to_owned());
        add("birth_far_from_due", t.birth_far_from_due(d(2027, 5, 1)));
        add("which_date", t.which_date(d(2027, 5, 1), d(2026, 5, 1)));
        for error in [
            TypedDateError::NoDate,
            TypedDateError::MissingDay,
            TypedDateError::MonthOutOfRange { month: 13 },
            TypedDateError::DayOutOfRange { month: 2, day: 30 },
            TypedDateError::OutsideEra { era: Era::Heisei },
            TypedDateError::OutsideEra { era: Era::Reiwa },
        ] {
            add("date_error", t.date_error(&error, today));
        }
        for refusal in [
            ImplausibleDate::DueInPast { earliest: today },
            ImplausibleDate::DueTooFar {
                latest: d(2027, 11, 6),
            },
            ImplausibleDate::BirthInFuture,
            ImplausibleDate::BirthTooOld {
                earliest: d(2024, 1, 10),
            },
        ] {
            add("implausible", t.implausible(&refusal));
        }
        for (name, text) in [
            ("new_policy_agreed", t.new_policy_agreed()),
            ("not_registered", t.not_registered()),
            ("new_policy_declined", t.new_policy_declined()),
            ("new_policy_later", t.new_policy_later()),
            ("choose_change", t.choose_change()),
            ("choose_born", t.choose_born()),
            ("ask_birth_date", t.ask_birth_date()),
            ("no_pregnancy", t.no_pregnancy()),
            ("paused", t.paused()),
            ("already_paused", t.already_paused()),
            ("nothing_active", t.nothing_active()),
            ("delete_question", t.delete_question()),
            ("deleted", t.deleted()),
            ("nothing_stored", t.nothing_stored()),
            ("end_all_question", t.end_all_question()),
            ("cancelled", t.cancelled()),
            ("stay_paused", t.stay_paused()),
            ("stale_button", t.stale_button()),
            ("choose_language", t.choose_language()),
            ("language_set", t.language_set()),
        ] {
            add(name, text.to_owned());
        }

        let mut labels: Named = [
            t.label_due_picker(),
            t.label_birth_picker(),
            t.label_born_picker(),
            t.label_change_picker(),
            t.label_resume(),
            t.label_cancel(),
            t.label_delete(),
            t.label_end_all(),
            t.label_twins(),
            t.label_triplets(),
            t.label_agree_and_register(),
            t.label_do_not_register(),
            t.label_agree(),
            t.label_disagree(),
        ]
        .into_iter()
        .map(|l| ("label".to_owned(), l.to_owned()))
        .collect();
        for reg in &regs {
            labels.push(("registration_label".to_owned(), t.registration_label(reg)));
        }
        let (a, b) = t.which_date_labels(d(2027, 12, 31), d(2026, 12, 31));
        labels.push(("which_date_labels".to_owned(), a));
        labels.push(("which_date_labels".to_owned(), b));
        for (_, command) in t.command_words() {
            labels.push((
                "command_word".to_owned(),
                t.command_word(*command).to_owned(),
            ));
        }
        for language in Language::ALL {
            labels.push(("own_name".to_owned(), language.own_name().to_owned()));
        }
        for label in [t.label_research_yes(), t.label_research_no()] {
            labels.push(("survey label".to_owned(), label.to_owned()));
        }
        for (name, text) in [
            (
                "research_consent_question",
                t.research_consent_question().to_owned(),
            ),
            (
                "survey_scale_hint",
                t.survey_scale_hint("役に立っていない", "とても役に立っている"),
            ),
            ("survey_text_hint", t.survey_text_hint(200)),
            ("survey_text_too_long", t.survey_text_too_long(200, 321)),
            (
                "survey_answer_changed",
                t.survey_answer_changed().to_owned(),
            ),
            ("survey_all_answered", t.survey_all_answered().to_owned()),
            ("survey_closed", t.survey_closed().to_owned()),
            ("survey_unknown", t.survey_unknown().to_owned()),
            ("survey_not_for_you", t.survey_not_for_you().to_owned()),
            ("survey_none", t.survey_none().to_owned()),
            (
                "survey_list",
                t.survey_list(&["メッセージについてのアンケート", "もうひとつ"]),
            ),
            ("survey_unavailable", t.survey_unavailable().to_owned()),
        ] {
            texts.push((name.to_owned(), text));
        }
        (texts, labels)
    }

    #[test]
    fn every_text_of_every_language_is_complete_and_within_line_limits() {
        for language in Language::ALL {
            let t = texts(language);
            assert_eq!(t.language(), language);
            let (rendered, labels) = render_all(t);
            for (name, text) in &rendered {
                let at = format!("{} {name}: {text}", language.code());
                assert!(!text.trim().is_empty(), "empty {at}");
                assert!(utf16_len(text) <= MAX_TEXT_UTF16, "too long {at}");
                assert!(
                    !text.contains('{') && !text.contains('}'),
                    "placeholder left {at}"
                );
                assert!(
                    !text.contains('!') && !text.contains('！'),
                    "no exclamation marks {at}"
                );
            }
            for (name, label) in &labels {
                let at = format!("{} {name}: {label}", language.code());
                assert!(!label.trim().is_empty(), "empty {at}");
                assert!(
                    label.chars().count() <= MAX_ACTION_LABEL_CHARS,
                    "label too long {at}"
                );
            }
            // Every command has a word in every language, and the word shown parses back.
            for (_, command) in ja::COMMAND_WORDS {
                let word = t.command_word(*command);
                assert_eq!(
                    parse_command(word),
                    Some(*command),
                    "{} {word}",
                    language.code()
                );
            }
        }
    }

    #[test]
    fn dates_are_written_the_way_each_language_writes_them() {
        let may_first = d(2027, 5, 1);
        assert_eq!(texts(Language::Japanese).date(may_first), "2027年5月1日");
        assert_eq!(
            texts(Language::EasyJapanese).date(may_first),
            "2027年5月1日"
        );
        assert_eq!(texts(Language::English).date(may_first), "1 May 2027");
        assert_eq!(
            texts(Language::English).date(d(2026, 12, 31)),
            "31 December 2026"
        );
        let reg = registration(
            Subject::Pregnancy {
                due_date: may_first,
            },
            1,
        );
        let line = texts(Language::English).registration_line(&reg, d(2027, 1, 10));
        assert_eq!(line, "Due date 1 May 2027 (24 weeks 1 day pregnant)");
        let child = registration(
            Subject::Child {
                birth_date: d(2026, 3, 1),
                due_date: None,
            },
            2,
        );
        let line = texts(Language::English).registration_line(&child, d(2027, 5, 1));
        assert_eq!(
            line,
            "Child born 1 March 2026 (1 year 2 months old) (twins)"
        );
        let easy = texts(Language::EasyJapanese).registration_line(&reg, d(2027, 1, 10));
        assert_eq!(easy, "よていび 2027年5月1日（にんしん 24週1日）");
    }

    #[test]
    fn english_hours_read_as_a_clock() {
        let t = texts(Language::English);
        assert!(t.resumed(20).contains("8 pm"), "{}", t.resumed(20));
        assert!(t.resumed(0).contains("12 am"));
        assert!(t.resumed(12).contains("12 pm"));
        assert!(t.resumed(7).contains("7 am"));
    }

    #[test]
    fn easy_japanese_writes_spaces_between_phrases() {
        // わかち書き: every sentence of the easy texts has spaces; the Japanese ones do not need to.
        let t = texts(Language::EasyJapanese);
        for text in [
            t.paused(),
            t.deleted(),
            t.delete_question(),
            t.language_set(),
            t.research_consent_question(),
            t.survey_closed(),
            t.survey_none(),
        ] {
            for sentence in text.split('。').filter(|s| s.chars().count() > 8) {
                assert!(sentence.contains(' '), "no spaces in {sentence}");
            }
        }
    }
}

#[cfg(test)]
mod tests_support {
    pub const URL: &str = "https://www.town.kizuna.example.jp/kojin-joho";
}

/// Until when one rule of a child's schedule after the daily first 100 days runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CadenceUntil {
    /// The rule ends with the last scheduled day before this birthday (1–3).
    Birthday(u16),
    /// A day that is not near a birthday.
    Day(u16),
}

/// How often one rule sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CadenceEvery {
    Daily,
    Weekly,
    Fortnightly,
    Days(u16),
}

/// The content pack's child schedule after day [`CHILD_DAILY_LAST_DAY`], in order, as each
/// language describes it (e.g. the sample pack: every 3 days to the 1st birthday, weekly to
/// the 2nd, fortnightly to the 3rd).
pub fn cadence_steps(schedule: &[ScheduleRule]) -> Vec<(CadenceUntil, CadenceEvery)> {
    let mut rules: Vec<&ScheduleRule> = schedule
        .iter()
        .filter(|r| r.to_day > CHILD_DAILY_LAST_DAY)
        .collect();
    rules.sort_by_key(|r| r.from_day);
    rules
        .into_iter()
        .map(|rule| {
            let until = birthday_near(rule.to_day)
                .map_or(CadenceUntil::Day(rule.to_day), CadenceUntil::Birthday);
            let every = match rule.every_days {
                1 => CadenceEvery::Daily,
                7 => CadenceEvery::Weekly,
                14 => CadenceEvery::Fortnightly,
                n => CadenceEvery::Days(n),
            };
            (until, every)
        })
        .collect()
}

/// The birthday (1–3) a schedule rule's last child day stands for, if it is within a few
/// weeks of one (rules end on the last scheduled day before it, e.g. day 364 or 1092).
fn birthday_near(to_day: u16) -> Option<u16> {
    (1..=3u16).find(|age| (i32::from(*age) * 365 - i32::from(to_day)).abs() <= 21)
}
