//! English, for parents who read Japanese with difficulty.
//!
//! Same tone as the Japanese: a town's public health nurse writing to a family — warm, plain,
//! short, no medical advice, no exclamation marks. Dates are written `1 May 2027` (no
//! month/day order to misread); button labels use `2027/5/1`.

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

pub struct English;

/// Matched after folding (no spaces, lower case), so `My registration` and `my registration`
/// both work. The first word is the one on buttons and in help.
pub const COMMAND_WORDS: CommandWords = &[
    (
        &["Status", "My registration", "registration"],
        Command::Show,
    ),
    (&["Change"], Command::Change),
    (&["Baby born", "Born", "baby is born"], Command::Born),
    (&["Add"], Command::Add),
    (&["Stop", "Pause"], Command::Pause),
    (&["Resume", "Restart"], Command::Resume),
    (&["Delete"], Command::Delete),
    (&["Yes, delete", "Delete now"], Command::DeleteConfirm),
    (&["End all", "End all messages"], Command::EndAll),
    (&["Cancel", "Not now"], Command::Cancel),
    (&["Help"], Command::Help),
    (&["Privacy"], Command::Privacy),
    (&["Register", "Sign up"], Command::Register),
    (&["Language"], Command::Language),
    (&["Survey", "Surveys"], Command::Survey),
    (
        &[
            "Today",
            "Today's message",
            "Todays message",
            "Message of the day",
        ],
        Command::Today,
    ),
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: u32) -> &'static str {
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// `every day at about 8 pm`.
fn hour(h: u8) -> String {
    let h = h % 24;
    let (twelve, half) = match h {
        0 => (12, "am"),
        1..=11 => (h, "am"),
        12 => (12, "pm"),
        _ => (h - 12, "pm"),
    };
    format!("every day at about {twelve} {half}")
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn babies(count: u8) -> &'static str {
    match count {
        2 => " (twins)",
        3 => " (triplets)",
        _ => "",
    }
}

fn service(delivery_hour: u8) -> String {
    format!(
        "We send a short message {}, matched to the week of pregnancy or the age of your child, to families expecting a baby or raising a child under 3.",
        hour(delivery_hour)
    )
}

fn notice_body(municipality: &str, privacy_url: Option<&str>, retention_days: u64) -> String {
    let policy = match shown_privacy_url(privacy_url) {
        Some(url) => {
            format!("For details, see {municipality}'s privacy page (in Japanese):\n{url}")
        }
        None => format!("If you have any questions, please contact {municipality}."),
    };
    format!(
        "[What we store]\n\
         - The due date or your child's date of birth that you tell us\n\
         - Your LINE user ID (a string of letters and numbers LINE gives each user; we do not receive your name or phone number)\n\n\
         [Why]\n\
         To send you messages that match the week of pregnancy or your child's age. \
         {municipality} may also count registrations, in a way that identifies no one, to help run the service.\n\n\
         [How long]\n\
         While you use the service. Send \"Delete\" at any time and we erase everything. \
         If you block this account, we keep your registration for {retention_days} days so you can come back, then erase it.\n\n\
         [Who handles it]\n\
         {municipality}\n\n\
         {policy}\n\n\
         You can read this again at any time by sending \"Privacy\"."
    )
}

const HELP_NOTE: &str = "Send \"Help\" to check or change your registration.";

fn pause_note(paused: bool) -> &'static str {
    if paused {
        "\n\nMessages are paused at the moment. Send \"Resume\" to start them again."
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
            "You will get a message for each week of pregnancy {}, from week 4 until your baby is born. \
             When your baby arrives, send \"Baby born\".",
            hour(delivery_hour)
        ),
        Subject::Child { .. } => format!(
            "You will get messages matched to your child's age, {}: {}. \
             There is also a message on the 1st, 2nd and 3rd birthdays.",
            hour(delivery_hour).replacen("every day ", "", 1),
            English.child_cadence(schedule)
        ),
    }
}

impl Texts for English {
    fn language(&self) -> Language {
        Language::English
    }

    fn command_words(&self) -> CommandWords {
        COMMAND_WORDS
    }

    fn label_due_picker(&self) -> &'static str {
        "Choose due date"
    }
    fn label_birth_picker(&self) -> &'static str {
        "Choose date of birth"
    }
    fn label_born_picker(&self) -> &'static str {
        "Choose birth date"
    }
    fn label_change_picker(&self) -> &'static str {
        "Choose new date"
    }
    fn label_resume(&self) -> &'static str {
        "Resume"
    }
    fn label_cancel(&self) -> &'static str {
        "Not now"
    }
    fn label_delete(&self) -> &'static str {
        "Yes, delete"
    }
    fn label_end_all(&self) -> &'static str {
        "Yes, end all"
    }
    fn label_twins(&self) -> &'static str {
        "Twins"
    }
    fn label_triplets(&self) -> &'static str {
        "Triplets"
    }
    fn label_agree_and_register(&self) -> &'static str {
        "Agree and register"
    }
    fn label_do_not_register(&self) -> &'static str {
        "Don't register"
    }
    fn label_agree(&self) -> &'static str {
        "I agree"
    }
    fn label_disagree(&self) -> &'static str {
        "I don't agree"
    }

    /// `Due 2027/5/1`, `Born 2025/3/4`.
    fn registration_label(&self, reg: &Registration) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!("Due {}", short_date(due_date)),
            Subject::Child { birth_date, .. } => format!("Born {}", short_date(birth_date)),
        }
    }

    fn which_date_labels(&self, future: NaiveDate, past: NaiveDate) -> (String, String) {
        (
            format!("Due {}", short_date(future)),
            format!("Born {}", short_date(past)),
        )
    }

    /// 1 May 2027.
    fn date(&self, d: NaiveDate) -> String {
        format!("{} {} {}", d.day(), month_name(d.month()), d.year())
    }

    fn stage(&self, subject: &Subject, today: NaiveDate) -> String {
        match super::stage(subject, today) {
            Stage::BeforePregnancy => "messages have not started yet".to_owned(),
            Stage::PastDue => "past the due date".to_owned(),
            Stage::Pregnant {
                weeks,
                days,
                before_messages: true,
            } => format!(
                "{} {} pregnant; messages start at week 4",
                plural(weeks.into(), "week", "weeks"),
                plural(days.into(), "day", "days")
            ),
            Stage::Pregnant { weeks, days, .. } => format!(
                "{} {} pregnant",
                plural(weeks.into(), "week", "weeks"),
                plural(days.into(), "day", "days")
            ),
            Stage::NotBornYet => "not born yet".to_owned(),
            Stage::DaysOld(days) => format!("{} old", plural(days, "day", "days")),
            Stage::MonthsOld(months) => format!("{} old", plural(months, "month", "months")),
            Stage::YearsOld { years, months: 0 } => {
                format!("{} old", plural(years, "year", "years"))
            }
            Stage::YearsOld { years, months } => format!(
                "{} {} old",
                plural(years, "year", "years"),
                plural(months, "month", "months")
            ),
            Stage::Finished => "now 3; messages have ended".to_owned(),
        }
    }

    fn registration_line(&self, reg: &Registration, today: NaiveDate) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!(
                "Due date {} ({}){}",
                self.date(due_date),
                self.stage(&reg.subject, today),
                babies(reg.baby_count)
            ),
            Subject::Child { birth_date, .. } => format!(
                "Child born {} ({}){}",
                self.date(birth_date),
                self.stage(&reg.subject, today),
                babies(reg.baby_count)
            ),
        }
    }

    fn welcome(&self, municipality: &str, delivery_hour: u8, today: NaiveDate) -> String {
        format!(
            "Thank you for adding us. This is {municipality}.\n\n{}\n\n\
             To start, please tell us your due date or your child's date of birth. Choose it with the buttons below, or send a date like \"{}\" (year/month/day).",
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
                "Thank you for adding us. This is {municipality}.\n\n{}\n\n\
                 Before you register, please read how we handle your information.",
                service(delivery_hour)
            ),
            NoticeOccasion::Date => format!(
                "This is {municipality}. Before you register, please read how we handle your information.\n\
                 We have not stored the date you sent. We can take it once you agree."
            ),
            NoticeOccasion::Request | NoticeOccasion::Privacy => format!(
                "This is {municipality}. {}\n\n\
                 Before you register, please read how we handle your information.",
                service(delivery_hour)
            ),
        };
        format!(
            "{opening}\n\n{}\n\n\
             If you agree, tap \"Agree and register\". \
             Until you agree, we store no dates or anything else.\n\n\
             日本語 / やさしい にほんご: send \"Language\".",
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
                "\nWe have not acted on your last message yet. Please send it again after you answer."
            }
            NoticeOccasion::Follow | NoticeOccasion::Privacy => "",
        };
        format!(
            "This is {municipality}. We have updated how we explain the handling of your information. \
             Please read it to keep using the service.{request_note}\n\n{}\n\n\
             If you agree, tap \"I agree\". \
             If you tap \"I don't agree\", we erase your registration and stop the messages.\n\n\
             Until you answer, your messages continue as before. \
             \"Stop\" (pause the messages) and \"Delete\" (erase everything) work right away, even before you answer.",
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
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default();
        format!(
            "How {municipality} handles your information:\n\n{}\n\n\
             You agreed to this{version} on {}. \
             To withdraw your agreement and erase everything we store, send \"Delete\".",
            notice_body(municipality, privacy_url, retention_days),
            self.date(consent.agreed_on)
        )
    }

    fn welcome_after_consent(&self, today: NaiveDate) -> String {
        format!(
            "Thank you for agreeing.\n\n\
             To start, please tell us your due date or your child's date of birth. Choose it with the buttons below, or send a date like \"{}\" (year/month/day).",
            example_date(today)
        )
    }

    fn new_policy_agreed(&self) -> &'static str {
        "Thank you for reading it. We have recorded your agreement to the new version.\n\n\
         If you were in the middle of something, please send it again."
    }

    fn not_registered(&self) -> &'static str {
        "All right. You are not registered, and we have not stored any date or other information.\n\n\
         If you would like to register later, send \"Register\" at any time, or use the menu if it has a registration item."
    }

    fn new_policy_declined(&self) -> &'static str {
        "All right. As you did not agree, we have erased your registration and stopped the messages. \
         Thank you for reading them.\n\n\
         If you would like to use the service again, send \"Register\"."
    }

    fn new_policy_later(&self) -> &'static str {
        "All right. We will ask again the next time you use the service. \
         Until then, your messages continue as before."
    }

    fn welcome_back(&self, municipality: &str) -> String {
        format!(
            "Welcome back. This is {municipality}.\n\
             Your earlier registration is still here. Would you like the messages to start again?"
        )
    }

    fn ask_first_date(&self, today: NaiveDate) -> String {
        format!(
            "You have no registration at the moment. Please tell us your due date or your child's date of birth: choose it with the buttons below, or send a date like \"{}\".",
            example_date(today)
        )
    }

    fn ask_added_date(&self, today: NaiveDate) -> String {
        format!(
            "Please tell us the due date, or the child's date of birth, that you want to add: choose it with the buttons below, or send a date like \"{}\".",
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
            "You are registered.\n{}\n\n{}\n{HELP_NOTE}{}",
            self.registration_line(reg, today),
            what_you_receive(&reg.subject, delivery_hour, schedule),
            pause_note(paused)
        )
    }

    fn already_registered(&self, reg: &Registration, today: NaiveDate) -> String {
        format!(
            "That date is already registered.\n{}",
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
            "The date is changed.\n{}\n\nFrom now on, messages follow the new date, {}.{}",
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
            "Congratulations. Your registration now follows your baby.\n{}\n\n{}\n\nIf you had twins or triplets, please tell us with the buttons below.{}",
            self.registration_line(reg, today),
            what_you_receive(&reg.subject, delivery_hour, schedule),
            pause_note(paused)
        )
    }

    fn babies_set(&self, count: u8) -> String {
        match count {
            2 => "Registered as twins.".to_owned(),
            3 => "Registered as triplets.".to_owned(),
            _ => "Registered as one baby.".to_owned(),
        }
    }

    fn show(
        &self,
        registrations: &[&Registration],
        today: NaiveDate,
        delivery_hour: u8,
        paused: bool,
    ) -> String {
        let mut text = "Your registration:".to_owned();
        for (n, reg) in registrations.iter().enumerate() {
            text.push_str(&format!(
                "\n{}. {}",
                n + 1,
                self.registration_line(reg, today)
            ));
        }
        if paused {
            text.push_str("\n\nMessages: paused (send \"Resume\" to start again)");
        } else {
            text.push_str(&format!("\n\nMessages: {}", hour(delivery_hour)));
        }
        text.push_str("\nTo change a date, send \"Change\"; to add one, send \"Add\".");
        text
    }

    fn choose_change(&self) -> &'static str {
        "Which registration's date would you like to change?"
    }

    fn ask_changed_date(&self, reg: &Registration) -> String {
        match reg.subject {
            Subject::Pregnancy { due_date } => format!(
                "Your due date is now {}. Please choose the new due date with the button below, or send it as a date.",
                self.date(due_date)
            ),
            Subject::Child { birth_date, .. } => format!(
                "The date of birth is now {}. Please choose the correct date with the button below, or send it as a date.",
                self.date(birth_date)
            ),
        }
    }

    fn choose_born(&self) -> &'static str {
        "Congratulations on your baby. Which registration is the baby who was born?"
    }

    fn ask_birth_date(&self) -> &'static str {
        "Congratulations on your baby. Please choose the date of birth with the button below, or send it as a date."
    }

    fn no_pregnancy(&self) -> &'static str {
        "There is no pregnancy registered. To register a child, choose the date of birth with the button below, or send it as a date."
    }

    fn limit_reached(&self, max: usize) -> String {
        format!(
            "One account can have up to {max} registrations, so we cannot add another. We are sorry for the inconvenience."
        )
    }

    fn paused(&self) -> &'static str {
        "Messages are paused. Send \"Resume\" when you want them again.\n\n\
         To end the messages for all your registrations, send \"End all\"."
    }

    fn already_paused(&self) -> &'static str {
        "Messages are already paused. Send \"Resume\" when you want them again."
    }

    fn resumed(&self, delivery_hour: u8) -> String {
        format!("Messages have started again, {}.", hour(delivery_hour))
    }

    fn not_paused(&self, delivery_hour: u8) -> String {
        format!(
            "Messages are not paused. They come {}.",
            hour(delivery_hour)
        )
    }

    fn nothing_active(&self) -> &'static str {
        "You have no registration receiving messages. Send a due date or a child's date of birth to register."
    }

    fn delete_question(&self) -> &'static str {
        "This erases your whole registration and cannot be undone. Are you sure?"
    }

    fn deleted(&self) -> &'static str {
        "Your registration has been erased. Thank you for using the service.\n\n\
         If you would like to use it again, send \"Register\"."
    }

    fn nothing_stored(&self) -> &'static str {
        "We have no registration stored for you."
    }

    fn end_all_question(&self) -> &'static str {
        "End all messages?\n\
         If you do, we will send no more messages about your current registrations."
    }

    fn ended_all(&self, municipality: &str) -> String {
        format!(
            "All messages have ended.\nThank you for reading them.\n\n\
             If you would like to talk, the public health nurses of {municipality} are always there for you."
        )
    }

    fn cancelled(&self) -> &'static str {
        "All right. Nothing has changed."
    }

    fn stay_paused(&self) -> &'static str {
        "All right. Messages stay paused. Send \"Resume\" whenever you want them again."
    }

    fn help(&self, delivery_hour: u8, schedule: Option<&[ScheduleRule]>) -> String {
        format!(
            "Send one of these words:\n\n\
             Today: see today's message again\n\
             Status: see your registered dates\n\
             Change: change a date\n\
             Baby born: when your baby arrives\n\
             Add: register a sibling or a new pregnancy\n\
             Stop / Resume: pause or restart the messages\n\
             Delete: erase your registration\n\
             End all: end all messages, for any reason\n\
             Privacy: what we store and how we handle it\n\
             Language: 日本語 / やさしい にほんご / English\n\
             Survey: answer the survey we are asking you about, if any\n\n\
             Messages come {} (in pregnancy daily; for a child {}).",
            hour(delivery_hour),
            self.child_cadence(schedule)
        )
    }

    fn child_cadence(&self, schedule: Option<&[ScheduleRule]>) -> String {
        let Some(schedule) = schedule else {
            return format!("daily for the first {CHILD_DAILY_LAST_DAY} days, then less often until the 3rd birthday");
        };
        let mut text = format!("daily for the first {CHILD_DAILY_LAST_DAY} days");
        for (i, (until, every)) in cadence_steps(schedule).iter().enumerate() {
            text.push_str(if i == 0 { ", then " } else { ", " });
            text.push_str(&match every {
                CadenceEvery::Daily => "daily".to_owned(),
                CadenceEvery::Weekly => "once a week".to_owned(),
                CadenceEvery::Fortnightly => "every two weeks".to_owned(),
                CadenceEvery::Days(n) => format!("about every {n} days"),
            });
            text.push_str(&match until {
                CadenceUntil::Birthday(1) => " until the 1st birthday".to_owned(),
                CadenceUntil::Birthday(2) => " until the 2nd birthday".to_owned(),
                CadenceUntil::Birthday(age) => format!(" until the {age}rd birthday"),
                CadenceUntil::Day(day) => format!(" until day {day}"),
            });
        }
        text
    }

    fn message_of_day(&self, day: NaiveDate) -> String {
        format!(
            "This is the message of {} {}.",
            day.day(),
            month_name(day.month())
        )
    }

    fn today_while_paused(&self) -> &'static str {
        "Messages are paused. Send \"Resume\" to start them again."
    }

    fn no_recent_message(&self, days: u64) -> String {
        format!("There is no message today, and there was none in the last {days} days.")
    }

    fn today_unavailable(&self) -> &'static str {
        "Sorry, today's message cannot be shown right now. Please try again a little later."
    }

    fn stale_button(&self) -> &'static str {
        "This button no longer works. Send \"Help\" to see what you can do."
    }

    fn choose_language(&self) -> &'static str {
        "Please choose your language.\nメッセージの言語を選んでください。"
    }

    fn language_set(&self) -> &'static str {
        "From now on, we will write to you in English. Where a daily message has no English version yet, it comes in Japanese."
    }

    fn date_error(&self, error: &TypedDateError, today: NaiveDate) -> String {
        let again = "Please check the date again.";
        match *error {
            TypedDateError::NoDate => format!(
                "We could not read a date. Please send it like \"{}\" (year/month/day), or choose it with the buttons below.",
                example_date(today)
            ),
            TypedDateError::MissingDay => format!(
                "Please include the day, too (for example {}).",
                example_date(today)
            ),
            TypedDateError::MonthOutOfRange { month } => {
                format!("There is no month {month}. {again}")
            }
            TypedDateError::DayOutOfRange { month, day } => {
                format!("{} has no day {day}. {again}", month_name(month))
            }
            TypedDateError::OutsideEra { era: Era::Heisei } => {
                "The Heisei era ended on 30 April 2019. Please use Reiwa or the Western year.".to_owned()
            }
            TypedDateError::OutsideEra { era: Era::Reiwa } => {
                format!("The Reiwa era began on 1 May 2019. {again}")
            }
        }
    }

    fn implausible(&self, refusal: &ImplausibleDate) -> String {
        match *refusal {
            ImplausibleDate::DueInPast { .. } => "That due date seems to have passed already. If your baby has been born, send \"Baby born\" or tell us the date of birth.".to_owned(),
            ImplausibleDate::DueTooFar { latest } => format!(
                "Please send a due date no later than {}. Please check the date again.",
                self.date(latest)
            ),
            ImplausibleDate::BirthInFuture => {
                "That date of birth is later than today. For a due date, send \"Add\" first and register it as a due date.".to_owned()
            }
            ImplausibleDate::BirthTooOld { earliest } => format!(
                "These messages are for children up to age 3, so a child born before {} cannot be registered. Thank you for understanding.",
                self.date(earliest)
            ),
        }
    }

    fn birth_far_from_due(&self, due_date: NaiveDate) -> String {
        format!(
            "That date is quite far from the due date ({}). Please check the date of birth again.",
            self.date(due_date)
        )
    }

    fn which_date(&self, future: NaiveDate, past: NaiveDate) -> String {
        format!(
            "Which date do you mean by {} {}?\n- As a due date: {}\n- As a child's date of birth: {}",
            future.day(),
            month_name(future.month()),
            self.date(future),
            self.date(past)
        )
    }

    fn research_consent_question(&self) -> &'static str {
        "First, one question: may your answers to this survey also be used for joint research by the participating towns and universities? Your name and LINE account are never given to researchers. If you say no, you can still answer the questions that follow."
    }
    fn label_research_yes(&self) -> &'static str {
        "Yes, for research"
    }
    fn label_research_no(&self) -> &'static str {
        "No research use"
    }
    fn survey_scale_hint(&self, low: &str, high: &str) -> String {
        format!("(1: {low} – 5: {high})")
    }
    fn survey_text_hint(&self, max_chars: u16) -> String {
        format!("Please send your answer in this chat, up to {max_chars} characters.")
    }
    fn survey_text_too_long(&self, max_chars: u16, chars: usize) -> String {
        format!("Thank you. Your answer has {chars} characters; please shorten it to {max_chars} and send it again.")
    }
    fn survey_answer_changed(&self) -> &'static str {
        "Your answer has been changed. Thank you."
    }
    fn survey_all_answered(&self) -> &'static str {
        "You have answered every question. Thank you. To change an answer, tap its button again."
    }
    fn survey_closed(&self) -> &'static str {
        "This survey has ended. Thank you for your help."
    }
    fn survey_unknown(&self) -> &'static str {
        "This survey is not open any more."
    }
    fn survey_not_for_you(&self) -> &'static str {
        "This survey is for some parents only. Thank you all the same."
    }
    fn survey_none(&self) -> &'static str {
        "There is no survey for you to answer at the moment."
    }
    fn survey_list(&self, titles: &[&str]) -> String {
        let list: Vec<String> = titles.iter().map(|t| format!("- {t}")).collect();
        format!("These surveys are open for you. Tap a button below to start (or to go on where you stopped).\n{}", list.join("\n"))
    }
    fn survey_unavailable(&self) -> &'static str {
        "Sorry, the survey cannot be opened right now. Please try again a little later."
    }
}
