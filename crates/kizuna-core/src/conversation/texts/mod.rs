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
    Some(consent.policy_version.as_str())
        .filter(|v| v.chars().count() <= MAX_SHOWN_VERSION_CHARS)
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
    ) -> String;
    fn already_registered(&self, reg: &Registration, today: NaiveDate) -> String;
    fn changed(&self, reg: &Registration, today: NaiveDate, delivery_hour: u8, paused: bool)
        -> String;
    fn born(&self, reg: &Registration, today: NaiveDate, delivery_hour: u8, paused: bool)
        -> String;
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
    fn help(&self, delivery_hour: u8) -> String;
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
}
