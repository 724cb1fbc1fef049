//! The daily plan: what one household receives on one Japan date.
//!
//! A household gets at most **one push a day with at most five message objects**: LINE bills
//! one message per recipient per request, and several pushes a day would feel like spam.
//! The push holds, in this order:
//!
//! 1. the programme message of each active registration that has one today (in registration
//!    order), prefixed with a short label such as 【妊娠12週3日】 when the household follows more
//!    than one pregnancy/child, so the parent knows which one it is about;
//! 2. the municipality's texts — notes and birthday messages — signed "（〇〇町より）".
//!
//! If that makes more than five objects, neighbouring texts are combined (smallest pair first)
//! while each stays within LINE's 5,000 UTF-16 units.
//!
//! Notes fire once, on the first day in their window that the registration (for date windows:
//! the household) receives a programme message on or after the day it registered. Planning is
//! stateless — a note whose day fell while the household was paused is not sent later.
//!
//! 3. a network survey's invitation ([`crate::survey`]), at most one, always the **last**
//!    object: LINE shows quick-reply buttons only on the last message of a push, and the
//!    invitation carries the research-consent question's buttons. It is sent once per
//!    household, on the first day one of its registrations is in the survey's audience and
//!    receives a programme message while the survey is open (stateless like notes), and
//!    never to a household that has answered it. The push stays one request of at most five
//!    objects — one counted message, whatever it holds.

pub use crate::calendar::age_in_months;
use crate::content::template::push_decimal;
use crate::content::{MunicipalityContent, Note, NoteTarget, Template, TextSource, Values};
use crate::household::{Household, Registration, Subject};
use crate::message::{utf16_len, Message, MAX_MESSAGES_PER_REQUEST, MAX_TEXT_UTF16};
use crate::programme::{
    birthday_age, gestational_day, programme_day, programme_day_and_birthday, GestationalAge,
    ProgrammeDay, MATERNITY_FIRST_DAY, MATERNITY_LAST_DAY,
};
use crate::survey::{AudienceWindow, Survey, SurveyId};
use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

/// Between texts combined into one message object.
const COMBINED_SEPARATOR: &str = "\n\n";

/// What one household receives on one date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyPlan {
    /// The one push for this LINE user today (≤ 5 objects); empty means send nothing.
    pub messages: Vec<Message>,
    /// Every text in `messages`, for the run record and previews.
    pub items: Vec<PlannedItem>,
    /// Scheduled days with no text in the content: the caller counts and warns.
    /// (A validated [`crate::content::ContentLibrary`] has none.)
    pub missing: Vec<MissingContent>,
    /// Texts left out because they could not be combined within LINE's limits (practically
    /// never: it needs six texts of thousands of characters on one day).
    pub dropped: Vec<PlannedItem>,
}

impl DailyPlan {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

/// One text of a plan: whose it is and which content it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedItem {
    /// `None` for household-wide texts (calendar-date notes).
    pub registration: Option<u32>,
    pub kind: PlannedKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlannedKind {
    Programme {
        day: ProgrammeDay,
    },
    Birthday {
        age: u8,
        source: TextSource,
    },
    Note {
        id: String,
    },
    /// A survey's invitation, with the research-consent question's buttons.
    Survey {
        id: SurveyId,
    },
}

impl PlannedItem {
    /// Where the text lives in the content pack: `maternity/12w3d`, `closing`, `child/37`,
    /// `birthday/1` (base) or `municipality/birthday/1`, `note/<id>`.
    pub fn content_key(&self) -> String {
        match &self.kind {
            PlannedKind::Programme { day } => programme_content_key(*day),
            PlannedKind::Birthday {
                age,
                source: TextSource::Base,
            } => format!("birthday/{age}"),
            PlannedKind::Birthday {
                age,
                source: TextSource::Municipality,
            } => format!("municipality/birthday/{age}"),
            PlannedKind::Note { id } => format!("note/{id}"),
            PlannedKind::Survey { id } => format!("survey/{id}"),
        }
    }
}

/// A scheduled programme day whose text is missing from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MissingContent {
    pub registration: u32,
    pub day: ProgrammeDay,
}

impl MissingContent {
    pub fn content_key(&self) -> String {
        programme_content_key(self.day)
    }
}

fn programme_content_key(day: ProgrammeDay) -> String {
    match day {
        ProgrammeDay::Maternity { gestational_day } => {
            format!("maternity/{}", crate::content::stage_key(gestational_day))
        }
        ProgrammeDay::MaternityClosing => "closing".to_owned(),
        ProgrammeDay::Child { age_days } => format!("child/{age_days}"),
    }
}

/// What `household` receives on `date` (a Japan calendar date), from `content` (its
/// municipality's). Pure and allocation-light: the daily fan-out calls it for every household.
pub fn plan_household(
    household: &Household,
    date: NaiveDate,
    content: &MunicipalityContent<'_>,
) -> DailyPlan {
    let mut plan = DailyPlan::default();
    // The household's language, day by day where its pack has a text (Japanese otherwise).
    let content = &content.in_language(household.language);
    // Paused or unfollowed households get nothing; ended registrations (loss, stopped) are
    // skipped below, so an ended pregnancy never yields a message, birthday or prompt.
    if !household.following || household.paused {
        return plan;
    }
    // Labels only when two or more registrations are still in their programme (a child past
    // the 3rd birthday no longer counts). Most households have one registration: skip the work.
    let labelled = household.registrations.len() > 1
        && household
            .registrations
            .iter()
            .filter(|r| r.is_active())
            .filter(|r| {
                programme_day(&r.subject, date).is_some()
                    || birthday_age(&r.subject, date).is_some()
            })
            .nth(1)
            .is_some();
    let town = content.town();
    let signature = content.display_name();
    // Municipal texts go after every programme message; most days have none, and an empty Vec
    // does not allocate.
    let mut municipal: Vec<(String, PlannedItem)> = Vec::new();

    for reg in household.registrations.iter().filter(|r| r.is_active()) {
        let (day, birthday) = programme_day_and_birthday(&reg.subject, date);
        let mut values = Values::new(town, reg.baby_count);
        if let Some(day) = day {
            let (template, scheduled, notes): (Option<&Template>, bool, &[u16]) = match day {
                ProgrammeDay::Maternity { gestational_day } => {
                    let age = GestationalAge::from_day(gestational_day);
                    values.week = age.weeks;
                    values.day = age.days;
                    (
                        content.maternity(gestational_day),
                        true,
                        content.maternity_notes(gestational_day),
                    )
                }
                ProgrammeDay::MaternityClosing => (content.closing(), true, &[]),
                ProgrammeDay::Child { age_days } => {
                    values.age_days = age_days;
                    let scheduled = content.is_child_day_scheduled(age_days);
                    let notes = if scheduled {
                        content.child_notes(age_days)
                    } else {
                        &[]
                    };
                    (content.child(age_days), scheduled, notes)
                }
            };
            if scheduled {
                match template {
                    Some(template) => {
                        let text = render(template, &values, labelled.then_some((reg, date)));
                        plan.messages.push(Message::text(text));
                        plan.items.push(PlannedItem {
                            registration: Some(reg.id),
                            kind: PlannedKind::Programme { day },
                        });
                    }
                    None => plan.missing.push(MissingContent {
                        registration: reg.id,
                        day,
                    }),
                }
            }
            for &i in notes {
                let note = &content.notes()[usize::from(i)];
                if note_fires_for_registration(note, reg, day, content) {
                    let mut text =
                        render(note.template(), &values, labelled.then_some((reg, date)));
                    sign(&mut text, signature);
                    municipal.push((
                        text,
                        PlannedItem {
                            registration: Some(reg.id),
                            kind: PlannedKind::Note {
                                id: note.id.clone(),
                            },
                        },
                    ));
                }
            }
        }
        if let Some(age) = birthday {
            if let Some((template, source)) = content.birthday(age) {
                values.age = age;
                let mut text = render(template, &values, labelled.then_some((reg, date)));
                sign(&mut text, signature);
                municipal.push((
                    text,
                    PlannedItem {
                        registration: Some(reg.id),
                        kind: PlannedKind::Birthday { age, source },
                    },
                ));
            }
        }
    }

    // A date note only goes out with a programme message, so a household that gets nothing
    // today needs no check (most households on most days).
    let receives_today = !plan.messages.is_empty() || !municipal.is_empty();
    for &i in content.calendar_notes().iter().filter(|_| receives_today) {
        let note = &content.notes()[usize::from(i)];
        let in_window = matches!(note.target, NoteTarget::Dates { first, last } if first <= date && date <= last);
        if in_window && calendar_note_date(note, household, content) == Some(date) {
            let mut text = note.template().render(&Values::new(town, 1));
            sign(&mut text, signature);
            municipal.push((
                text,
                PlannedItem {
                    registration: None,
                    kind: PlannedKind::Note {
                        id: note.id.clone(),
                    },
                },
            ));
        }
    }

    // A municipal text alone is still a push, but only on a day the household takes part in:
    // notes fire on programme days by construction; birthdays are their own occasion.
    for (text, item) in municipal {
        plan.messages.push(Message::text(text));
        plan.items.push(item);
    }
    // Only a day with a programme message carries an invitation (most days of most households
    // have none to look for: the check is a scan of a handful of surveys).
    let programme_today = plan
        .items
        .iter()
        .any(|i| matches!(i.kind, PlannedKind::Programme { .. }));
    let survey = programme_today
        .then(|| surveys_due(household, date, content).next())
        .flatten();
    let room = MAX_MESSAGES_PER_REQUEST - usize::from(survey.is_some());
    if plan.messages.len() > room {
        combine(&mut plan, room);
    }
    if let Some(survey) = survey {
        plan.messages.push(crate::conversation::survey_invitation(
            survey,
            household.language,
        ));
        plan.items.push(PlannedItem {
            registration: None,
            kind: PlannedKind::Survey {
                id: survey.id.clone(),
            },
        });
    }
    plan
}

/// The surveys whose invitation `household` receives on `date`, in id order (the plan sends
/// the first; two surveys due on one day are an authoring mistake `content check` cannot see
/// per household, and the second is then reached through 「アンケート」 only).
pub fn surveys_due<'c>(
    household: &'c Household,
    date: NaiveDate,
    content: &MunicipalityContent<'c>,
) -> impl Iterator<Item = &'c Survey> + 'c {
    let content = *content;
    let library = content.library();
    library
        .surveys()
        .iter()
        // The invitation date always falls while the survey is open: a closed (or not yet
        // open) survey costs the daily plan one date comparison, not a search of the schedule.
        .filter(move |s| s.is_open_on(date))
        .filter(move |s| may_be_asked(s, household, library.is_sample()))
        .filter(move |s| survey_invitation_date(s, household, &content) == Some(date))
}

/// Whether `survey` may reach `household` at all: its town is in the audience, it has not
/// answered, and a sample survey only goes out from a sample pack.
pub fn may_be_asked(survey: &Survey, household: &Household, sample_pack: bool) -> bool {
    (!survey.sample || sample_pack)
        && !household.surveys.contains_key(&survey.id)
        && survey
            .audience
            .municipalities
            .as_ref()
            .is_none_or(|towns| towns.contains(&household.municipality))
}

/// The date `survey`'s invitation goes to `household` (ignoring whether it answered or where
/// it lives: see [`may_be_asked`]): the earliest, over its active registrations, first date
/// on which the registration receives a programme message while in one of the survey's windows
/// (any day of its programme when there are none), the survey is open, and it has registered.
pub fn survey_invitation_date(
    survey: &Survey,
    household: &Household,
    content: &MunicipalityContent<'_>,
) -> Option<NaiveDate> {
    household
        .registrations
        .iter()
        .filter(|r| r.is_active())
        .filter_map(|reg| {
            let from = survey.opens_on.max(reg.registered_on);
            if survey.audience.windows.is_empty() {
                return first_programme_message_on_or_after(reg, from, content)
                    .filter(|&d| d <= survey.closes_on);
            }
            survey
                .audience
                .windows
                .iter()
                .filter_map(|window| {
                    let (first, last) = window_dates(*window, reg)?;
                    let date = first_programme_message_on_or_after(reg, from.max(first), content)?;
                    (date <= last.min(survey.closes_on)).then_some(date)
                })
                .min()
        })
        .min()
}

/// The dates `window` covers for `reg`, if it is a window of `reg`'s programme.
fn window_dates(window: AudienceWindow, reg: &Registration) -> Option<(NaiveDate, NaiveDate)> {
    let on = |origin: NaiveDate, day: u16| origin.checked_add_days(Days::new(u64::from(day)));
    match (window, reg.subject) {
        (AudienceWindow::Maternity { first, last }, Subject::Pregnancy { due_date }) => {
            // Gestational day 280 is the due date.
            let day0 = due_date.checked_sub_days(Days::new(280))?;
            Some((on(day0, first)?, on(day0, last)?))
        }
        (AudienceWindow::Child { first, last }, Subject::Child { birth_date, .. }) => {
            Some((on(birth_date, first)?, on(birth_date, last)?))
        }
        _ => None,
    }
}

fn render(
    template: &Template,
    values: &Values<'_>,
    label: Option<(&Registration, NaiveDate)>,
) -> String {
    let mut text =
        String::with_capacity(template.size_hint() + if label.is_some() { 48 } else { 0 });
    if let Some((reg, date)) = label {
        push_label(&mut text, reg, date);
    }
    template.render_into(values, &mut text);
    text
}

fn sign(text: &mut String, display_name: Option<&str>) {
    if let Some(name) = display_name {
        text.push_str("\n（");
        text.push_str(name);
        text.push_str("より）");
    }
}

/// 【妊娠12週3日】, 【出産予定日5月1日の赤ちゃん】, 【生後37日】, 【生後4か月】, 【1歳2か月】, 【2歳】.
pub fn registration_label(reg: &Registration, date: NaiveDate) -> String {
    let mut s = String::new();
    push_label(&mut s, reg, date);
    s.pop(); // the line break
    s
}

fn push_label(out: &mut String, reg: &Registration, date: NaiveDate) {
    out.push('【');
    match reg.subject {
        Subject::Pregnancy { due_date } => {
            let day = gestational_day(due_date, date);
            if (i64::from(MATERNITY_FIRST_DAY)..=i64::from(MATERNITY_LAST_DAY)).contains(&day) {
                let age = GestationalAge::from_day(day as u16);
                out.push_str("妊娠");
                push_decimal(out, u32::from(age.weeks));
                out.push('週');
                push_decimal(out, u32::from(age.days));
                out.push('日');
            } else {
                out.push_str("出産予定日");
                push_decimal(out, due_date.month());
                out.push('月');
                push_decimal(out, due_date.day());
                out.push_str("日の赤ちゃん");
            }
        }
        Subject::Child { birth_date, .. } => {
            let age_days = (date - birth_date).num_days().max(0);
            if age_days <= i64::from(crate::programme::CHILD_DAILY_LAST_DAY) {
                out.push_str("生後");
                push_decimal(out, age_days as u32);
                out.push('日');
            } else {
                let months = age_in_months(birth_date, date);
                let (years, months) = (months / 12, months % 12);
                if years == 0 {
                    out.push_str("生後");
                    push_decimal(out, months);
                    out.push_str("か月");
                } else {
                    push_decimal(out, years);
                    out.push('歳');
                    if months > 0 {
                        push_decimal(out, months);
                        out.push_str("か月");
                    }
                }
            }
        }
    }
    out.push_str("】\n");
}

/// Whether a stage/child-day note is due on `day` for `reg` (its window contains `day`).
fn note_fires_for_registration(
    note: &Note,
    reg: &Registration,
    day: ProgrammeDay,
    content: &MunicipalityContent<'_>,
) -> bool {
    match (note.target, day, reg.subject) {
        (
            NoteTarget::Maternity { first, last },
            ProgrammeDay::Maternity { gestational_day },
            Subject::Pregnancy { due_date },
        ) => {
            // Every maternity day is scheduled: the first day in the window since registering.
            let joined = gestational_day_on(due_date, reg.registered_on);
            let due = first.max(joined);
            due <= last && due == gestational_day
        }
        (
            NoteTarget::Child { first, last },
            ProgrammeDay::Child { age_days },
            Subject::Child { birth_date, .. },
        ) => {
            let joined = (reg.registered_on - birth_date)
                .num_days()
                .clamp(0, i64::from(last)) as u16;
            content
                .next_child_day(first.max(joined))
                .is_some_and(|due| due <= last && due == age_days)
        }
        _ => false,
    }
}

fn gestational_day_on(due_date: NaiveDate, date: NaiveDate) -> u16 {
    gestational_day(due_date, date).clamp(0, i64::from(u16::MAX)) as u16
}

/// The date a calendar note is sent to `household`: the first date in the note's window on
/// which one of its active registrations receives a programme message, counting from the day
/// it registered.
fn calendar_note_date(
    note: &Note,
    household: &Household,
    content: &MunicipalityContent<'_>,
) -> Option<NaiveDate> {
    let NoteTarget::Dates { first, last } = note.target else {
        return None;
    };
    if household.registrations.is_empty() {
        return None;
    }
    household
        .registrations
        .iter()
        .filter(|r| r.is_active())
        .filter_map(|reg| {
            let start = first.max(reg.registered_on);
            let date = first_programme_message_on_or_after(reg, start, content)?;
            (date <= last).then_some(date)
        })
        .min()
}

fn first_programme_message_on_or_after(
    reg: &Registration,
    start: NaiveDate,
    content: &MunicipalityContent<'_>,
) -> Option<NaiveDate> {
    match reg.subject {
        Subject::Pregnancy { due_date } => {
            let day = gestational_day(due_date, start);
            let closing = i64::from(MATERNITY_LAST_DAY) + 1;
            if day > closing {
                return None;
            }
            let skip = (i64::from(MATERNITY_FIRST_DAY) - day).max(0) as u64;
            start.checked_add_days(Days::new(skip))
        }
        Subject::Child { birth_date, .. } => {
            let from = (start - birth_date).num_days().max(0);
            let day = content.next_child_day(u16::try_from(from).ok()?)?;
            let date = birth_date.checked_add_days(Days::new(u64::from(day)))?;
            programme_day(&reg.subject, date).map(|_| date)
        }
    }
}

/// Brings a plan with more than `room` texts (five, or four when an invitation follows) down
/// to `room` objects by combining the neighbouring pair with the smallest combined length, as
/// long as it fits LINE's limit; texts that cannot be combined are dropped from the end
/// (municipal texts first) and reported.
fn combine(plan: &mut DailyPlan, room: usize) {
    struct Part {
        text: String,
        utf16: usize,
        items: Vec<usize>,
    }
    let mut parts: Vec<Part> = plan
        .messages
        .drain(..)
        .enumerate()
        .map(|(i, m)| {
            let text = m.text_body().to_owned();
            Part {
                utf16: utf16_len(&text),
                text,
                items: vec![i],
            }
        })
        .collect();
    let separator = utf16_len(COMBINED_SEPARATOR);
    let mut dropped = Vec::new();
    while parts.len() > room {
        let best = (0..parts.len() - 1)
            .map(|i| (i, parts[i].utf16 + separator + parts[i + 1].utf16))
            .filter(|&(_, len)| len <= MAX_TEXT_UTF16)
            .min_by_key(|&(i, len)| (len, i));
        match best {
            Some((i, len)) => {
                let next = parts.remove(i + 1);
                let part = &mut parts[i];
                part.text.push_str(COMBINED_SEPARATOR);
                part.text.push_str(&next.text);
                part.utf16 = len;
                part.items.extend(next.items);
            }
            None => {
                if let Some(last) = parts.pop() {
                    dropped.extend(last.items);
                }
            }
        }
    }
    plan.messages = parts.into_iter().map(|p| Message::text(p.text)).collect();
    if !dropped.is_empty() {
        dropped.sort_unstable();
        for i in dropped.into_iter().rev() {
            let item = plan.items.remove(i);
            plan.dropped.insert(0, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::date as d;

    #[test]
    fn months_complete_on_the_same_day_or_the_last_day_of_a_short_month() {
        assert_eq!(age_in_months(d(2027, 1, 31), d(2027, 2, 27)), 0);
        assert_eq!(age_in_months(d(2027, 1, 31), d(2027, 2, 28)), 1);
        assert_eq!(age_in_months(d(2028, 1, 31), d(2028, 2, 28)), 0);
        assert_eq!(age_in_months(d(2028, 1, 31), d(2028, 2, 29)), 1);
        assert_eq!(age_in_months(d(2027, 5, 10), d(2028, 5, 9)), 11);
        assert_eq!(age_in_months(d(2027, 5, 10), d(2028, 5, 10)), 12);
        assert_eq!(age_in_months(d(2027, 12, 15), d(2028, 1, 15)), 1);
    }

    #[test]
    fn labels_read_naturally() {
        let reg = |subject| Registration {
            id: 1,
            subject,
            baby_count: 1,
            status: crate::household::RegistrationStatus::Active,
            registered_on: d(2027, 1, 1),
        };
        let p = reg(Subject::Pregnancy {
            due_date: d(2027, 5, 1),
        });
        // 2027-05-01 is day 280 = 40w0d; 2027-05-15 is day 294 (closing).
        assert_eq!(registration_label(&p, d(2027, 5, 1)), "【妊娠40週0日】");
        assert_eq!(
            registration_label(&p, d(2027, 5, 15)),
            "【出産予定日5月1日の赤ちゃん】"
        );
        let c = reg(Subject::Child {
            birth_date: d(2027, 1, 10),
            due_date: None,
        });
        assert_eq!(registration_label(&c, d(2027, 2, 16)), "【生後37日】");
        assert_eq!(registration_label(&c, d(2027, 6, 10)), "【生後5か月】");
        assert_eq!(registration_label(&c, d(2028, 3, 9)), "【1歳1か月】");
        assert_eq!(registration_label(&c, d(2029, 1, 10)), "【2歳】");
    }
}
