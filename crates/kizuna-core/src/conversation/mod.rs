//! The LINE conversation with a parent, as a pure state machine.
//!
//! [`respond`] takes what Kizuna has stored about a parent (or nothing), one webhook event and
//! the day's context, and returns what to store, what to reply and whether the event was ours.
//! It reads no clock and performs no I/O, and it is total: any input yields an [`Outcome`]
//! within LINE's limits (see [`Outcome`]).
//!
//! Coexistence: a municipality's LINE account is shared with the town's other services, so we
//! answer only our commands (exact words), our namespaced postbacks, and dates we asked for
//! (or a date typed by someone who has nothing registered yet). Everything else is
//! `consumed: false` with no reply, and the webhook may forward it to the town's other service.
//!
//! Questions that need an answer in a later event (a typed date, a confirmation) are stored in
//! [`Household::pending`]. Any command replaces the pending question; buttons carry their own
//! meaning, so a tap works even after the pending question changed. Buttons that destroy
//! something (削除する, 終了する) only act while their question is pending, so an old button
//! scrolled up in the chat cannot delete anything by surprise.
//!
//! Consent: nothing but the follow state, the pending question and the language choice (a
//! display setting about no one, chosen from the notice's own buttons) is stored about a parent
//! until they agree to the town's privacy notice (同意して登録する); a date sent before that is
//! answered with the notice and dropped. When the town publishes a new notice version (or for
//! households stored before consent was asked), the parent's next command or button brings
//! the new notice up instead of acting (同意する / 同意しない, the latter erasing everything);
//! stopping, erasing, help and the notice itself ([`Command::works_without_consent`]) always
//! work. Daily sends go on meanwhile under the consent given earlier.
//!
//! Surveys ([`crate::survey`], `survey.rs`): the invitation's buttons and 「アンケート」's lead
//! through the research-consent question and the survey's own, one reply each; a free-text
//! question waits in [`PendingQuestion::SurveyText`]. Answers are household writes like any
//! other (the webhook's event log and the household's version make them once-only).

mod command;
pub mod postback;
mod survey;
mod texts;

pub use command::Command;
pub use postback::{DateTarget, Postback, SurveyTap};
pub(crate) use survey::survey_invitation;

use crate::content::{ContentLibrary, ScheduleRule};
use crate::household::{
    Consent, EndReason, Household, Language, PendingQuestion, Registration, RegistrationStatus,
    Subject,
};
use crate::ids::{LineUserId, MunicipalityId};
use crate::message::{utf16_len, MAX_MESSAGES_PER_REQUEST, MAX_TEXT_UTF16};
use crate::message::{Action, Message, QuickReplyItem};
use crate::plan::plan_household;
use crate::programme::Programme;
use crate::typed_date::{
    birth_date_window, check_plausible, parse_typed, DateExpectation, TypedDate, TypedDateError,
};
use chrono::{Days, NaiveDate};
use postback::Parsed;
use texts::{NoticeOccasion, Texts};

/// 今日のメッセージ on a day without one shows the latest planned in this many days before.
pub const TODAY_LOOKBACK_DAYS: u64 = 30;

/// At most this many registrations can be active in one household: a parent with more
/// children under 3 plus a pregnancy is beyond what one LINE account reasonably follows, and it
/// bounds the stored item and the daily plan.
pub const MAX_ACTIVE_REGISTRATIONS: usize = 5;
/// At most this many registrations, ended ones included, are kept per household (ids are never
/// reused, so ended registrations stay as a record); it bounds the stored item.
pub const MAX_REGISTRATIONS: usize = 20;
/// A reported birth date may be this many days before the due date (birth at 20w0d)…
pub const BIRTH_BEFORE_DUE_MAX_DAYS: u64 = 140;
/// …or this many days after it. Wider than the 41w6d programme window on purpose: a parent
/// reporting a late birth should not be told their baby's birthday is wrong.
pub const BIRTH_AFTER_DUE_MAX_DAYS: u64 = 30;

/// How long a household is kept after an unfollow (or block), as the privacy notice promises
/// parents. The app's daily purge and the households' TTL use this constant (re-exported as
/// `kizuna_app::model::RETENTION_DAYS_AFTER_UNFOLLOW`).
pub const RETENTION_DAYS_AFTER_UNFOLLOW: u64 = 180;

/// One webhook event, as far as the conversation cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The parent added the account as a friend (`unblocked`: LINE's `follow.isUnblocked`).
    Follow { unblocked: bool },
    /// The parent blocked the account. LINE gives no reply token.
    Unfollow,
    /// A text message.
    Text(String),
    /// A postback; `date` is `postback.params.date` from a date picker.
    Postback {
        data: String,
        date: Option<NaiveDate>,
    },
}

/// What the conversation needs to know about the day and the municipality.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Today in Japan.
    pub today: NaiveDate,
    /// How the municipality calls itself to parents, e.g. `きずな町`.
    pub municipality_name: &'a str,
    /// The hour (Japan time, 0–23) the daily message goes out.
    pub delivery_hour: u8,
    /// The town's privacy policy page, linked from the consent notice.
    pub privacy_url: Option<&'a str>,
    /// The version of the town's privacy notice; a parent's consent to another version (or
    /// none at all) is asked again.
    pub privacy_policy_version: &'a str,
    /// The content the daily fan-out plans from: 今日のメッセージ plans with it, and the
    /// registration reply and help describe its schedule. `None` when the caller could not
    /// load it (今日のメッセージ then asks to try later; the schedule is described without
    /// intervals).
    pub content: Option<&'a ContentLibrary>,
}

/// Whether answering `inbound` reads the content library through [`Context::content`] (今日の
/// メッセージ plans from it; ヘルプ describes its schedule), so the caller loads the current
/// one only for these events and passes whatever it has at hand for the rest — a follow or a
/// date must not wait on the content store. (A registration reply describes the schedule from
/// whatever library is at hand, or without intervals.)
pub fn needs_current_content(inbound: &Inbound) -> bool {
    match inbound {
        Inbound::Text(text) => matches!(
            Command::parse(text),
            Some(Command::Today | Command::Help | Command::Survey)
        ),
        // A survey's answer is checked against the survey as the pack has it now (open,
        // questions); a typed answer to a survey question is read with the library at hand.
        Inbound::Postback { data, .. } => {
            matches!(Postback::parse(data), Parsed::Ours(Postback::Survey { .. }))
        }
        Inbound::Follow { .. } | Inbound::Unfollow => false,
    }
}

/// What to do with the stored household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HouseholdChange {
    Unchanged,
    /// Store this household (conditionally on the version read, by the caller).
    Save(Household),
    /// Erase everything stored about this parent.
    Delete,
}

/// The result of one event.
///
/// Invariants (checked by property tests): at most [`crate::message::MAX_MESSAGES_PER_REQUEST`]
/// replies; each text within [`crate::message::MAX_TEXT_UTF16`]; at most
/// [`crate::message::MAX_QUICK_REPLY_ITEMS`] quick-reply buttons with labels within
/// [`crate::message::MAX_ACTION_LABEL_CHARS`]; no replies when not consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Always apply, whether or not the event was consumed (an unfollow changes the household
    /// and is still shared with the town's other services).
    pub household: HouseholdChange,
    /// Sent with the Reply API (free of the monthly quota). Empty: stay silent.
    pub replies: Vec<Message>,
    /// False: not (only) ours — the webhook may forward the event to the town's other service.
    pub consumed: bool,
}

/// Answers one event from one parent. See the module documentation.
pub fn respond(
    existing: Option<&Household>,
    municipality: &MunicipalityId,
    user: &LineUserId,
    inbound: &Inbound,
    ctx: &Context,
) -> Outcome {
    let mut turn = Turn {
        ctx,
        municipality,
        user,
        household: existing.cloned(),
        delete: false,
        replies: Vec::new(),
        consumed: true,
    };
    match inbound {
        Inbound::Follow { unblocked } => turn.follow(*unblocked),
        Inbound::Unfollow => turn.unfollow(),
        Inbound::Text(text) => turn.text(text),
        Inbound::Postback { data, date } => turn.postback(data, *date),
    }
    turn.finish(existing)
}

/// What a date answers, once we know which question it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asking {
    /// A new registration: a due date, a birth date, or either.
    New(DateExpectation),
    Change(u32),
    Born(u32),
}

impl From<DateTarget> for Asking {
    fn from(target: DateTarget) -> Self {
        match target {
            DateTarget::NewDue => Asking::New(DateExpectation::Due),
            DateTarget::NewBirth => Asking::New(DateExpectation::Birth),
            DateTarget::Change(id) => Asking::Change(id),
            DateTarget::Born(id) => Asking::Born(id),
        }
    }
}

/// Which agreement a parent still has to give before Kizuna acts on what they send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsentNeeded {
    /// Nothing registered yet: the notice with 同意して登録する / 登録しない.
    First,
    /// Registered under an earlier notice, or before consent was asked at all: the new notice
    /// with 同意する / 同意しない.
    NewPolicy,
}

struct Turn<'a> {
    ctx: &'a Context<'a>,
    municipality: &'a MunicipalityId,
    user: &'a LineUserId,
    /// The household as it will be stored (None: nothing stored).
    household: Option<Household>,
    delete: bool,
    replies: Vec<Message>,
    consumed: bool,
}

impl Turn<'_> {
    fn finish(self, existing: Option<&Household>) -> Outcome {
        let household = if self.delete {
            HouseholdChange::Delete
        } else {
            match self.household {
                Some(h) if Some(&h) != existing => HouseholdChange::Save(h),
                _ => HouseholdChange::Unchanged,
            }
        };
        Outcome {
            household,
            replies: if self.consumed {
                self.replies
            } else {
                Vec::new()
            },
            consumed: self.consumed,
        }
    }

    fn today(&self) -> NaiveDate {
        self.ctx.today
    }

    /// The household's language (Japanese for a parent with nothing stored).
    fn language(&self) -> Language {
        self.household
            .as_ref()
            .map_or(Language::default(), |h| h.language)
    }

    /// The texts to reply with.
    fn t(&self) -> &'static dyn Texts {
        texts::texts(self.language())
    }

    fn hour(&self) -> u8 {
        self.ctx.delivery_hour
    }

    /// The content pack's child schedule, if the content is at hand.
    fn schedule(&self) -> Option<&[ScheduleRule]> {
        self.ctx.content.map(ContentLibrary::schedule)
    }

    /// The household, created if this parent has none stored yet.
    fn household_mut(&mut self) -> &mut Household {
        self.household
            .get_or_insert_with(|| Household::new(self.municipality.clone(), self.user.clone()))
    }

    fn pending(&self) -> Option<PendingQuestion> {
        self.household.as_ref().and_then(|h| h.pending.clone())
    }

    fn set_pending(&mut self, pending: Option<PendingQuestion>) {
        if pending.is_none() && self.household.is_none() {
            return;
        }
        self.household_mut().pending = pending;
    }

    fn paused(&self) -> bool {
        self.household.as_ref().is_some_and(|h| h.paused)
    }

    fn active(&self) -> Vec<Registration> {
        self.household
            .as_ref()
            .map(|h| h.active_registrations().cloned().collect())
            .unwrap_or_default()
    }

    fn active_registration(&self, id: u32) -> Option<Registration> {
        self.household
            .as_ref()
            .and_then(|h| h.registration(id))
            .filter(|r| r.is_active())
            .cloned()
    }

    fn not_ours(&mut self) {
        self.consumed = false;
    }

    fn reply(&mut self, text: impl Into<String>) {
        self.replies.push(Message::text(text));
    }

    fn reply_with(&mut self, text: impl Into<String>, buttons: Vec<QuickReplyItem>) {
        let message = Message::text(text);
        self.replies.push(if buttons.is_empty() {
            message
        } else {
            message.with_quick_reply(buttons)
        });
    }

    // ---- events -------------------------------------------------------------------------

    fn follow(&mut self, unblocked: bool) {
        let (following, has_active) = self.household.as_ref().map_or((false, false), |h| {
            (h.following, h.active_registrations().next().is_some())
        });
        if has_active && following && !unblocked {
            // A follow from someone we believe is following is a duplicate delivery (a real
            // re-follow after a block comes with `isUnblocked`); greeting or pausing again
            // would only confuse.
            return;
        }
        if has_active {
            // Sends nothing until the parent says yes: they may have blocked us on purpose.
            let today = self.today();
            let household = self.household_mut();
            household.following = true;
            household.unfollowed_on = None;
            household.pause(today);
            household.pending = Some(PendingQuestion::ResumeAfterRefollow);
            self.reply_with(
                self.t().welcome_back(self.ctx.municipality_name),
                vec![
                    postback_button(self.t().label_resume(), Postback::Resume),
                    postback_button(self.t().label_cancel(), Postback::Cancel),
                ],
            );
            return;
        }
        let household = self.household_mut();
        household.following = true;
        household.unfollowed_on = None;
        if self.consent_first(NoticeOccasion::Follow) {
            return;
        }
        self.set_pending(Some(PendingQuestion::NewRegistrationDate));
        let text = self
            .t()
            .welcome(self.ctx.municipality_name, self.hour(), self.today());
        let buttons = self.new_date_pickers(DateExpectation::Either);
        self.reply_with(text, buttons);
    }

    fn unfollow(&mut self) {
        let today = self.today();
        if let Some(h) = self.household.as_mut() {
            h.following = false;
            h.unfollowed_on = Some(today);
            h.pending = None;
        }
        // The town's other services need to know about unfollows too.
        self.not_ours();
    }

    fn text(&mut self, text: &str) {
        if let Some(command) = Command::parse(text) {
            return self.command(command);
        }
        if let Some(PendingQuestion::SurveyText { survey, question }) = self.pending() {
            if self.consent_needed().is_none() {
                return self.survey_text(&survey, &question, text);
            }
        }
        let asking = match self.pending() {
            Some(PendingQuestion::NewRegistrationDate) => {
                Some(Asking::New(DateExpectation::Either))
            }
            Some(PendingQuestion::NewDueDate) => Some(Asking::New(DateExpectation::Due)),
            Some(PendingQuestion::NewBirthDate) => Some(Asking::New(DateExpectation::Birth)),
            Some(PendingQuestion::ChangedDate { registration }) => {
                Some(Asking::Change(registration))
            }
            Some(PendingQuestion::BirthDate { registration }) => Some(Asking::Born(registration)),
            Some(
                PendingQuestion::DeleteConfirmation
                | PendingQuestion::LossConfirmation { .. }
                | PendingQuestion::ResumeAfterRefollow
                | PendingQuestion::SurveyText { .. },
            ) => {
                // Something other than an answer: the question lapses, so a later stray
                // 削除する cannot act on it.
                self.set_pending(None);
                None
            }
            // The notice stays open: its buttons still work after an unrelated message.
            Some(PendingQuestion::Consent { .. } | PendingQuestion::NewPolicyConsent { .. }) => {
                None
            }
            None => None,
        };
        let asking = asking.or_else(|| {
            // Someone with nothing registered who types a date means to register it.
            self.active()
                .is_empty()
                .then_some(Asking::New(DateExpectation::Either))
        });
        match asking {
            Some(_) if self.consent_needed().is_some() => match parse_typed(text) {
                // Not a date: probably meant for another service, as below.
                Err(TypedDateError::NoDate) => self.not_ours(),
                // A date (or an attempt at one) before consent: not stored, the notice instead.
                _ => self.ask_consent(NoticeOccasion::Date),
            },
            Some(asking) => self.typed_date(text, asking),
            None => self.not_ours(),
        }
    }

    fn postback(&mut self, data: &str, date: Option<NaiveDate>) {
        let postback = match Postback::parse(data) {
            Parsed::NotOurs => return self.not_ours(),
            Parsed::Unknown => return self.stale(),
            Parsed::Ours(postback) => postback,
        };
        let needs_consent = match &postback {
            Postback::Picker(_) if date.is_some() => Some(NoticeOccasion::Date),
            Postback::Date(..) => Some(NoticeOccasion::Date),
            Postback::Picker(_)
            | Postback::Change(_)
            | Postback::Born(_)
            | Postback::Babies(..)
            | Postback::Resume
            | Postback::Survey { .. } => Some(NoticeOccasion::Request),
            // Stopping and erasing never wait for consent; the consent buttons answer it.
            Postback::DeleteConfirm
            | Postback::EndAllConfirm
            | Postback::Cancel
            | Postback::ConsentAgree
            | Postback::ConsentDecline
            | Postback::Language(_) => None,
        };
        if let Some(occasion) = needs_consent {
            if self.consent_first(occasion) {
                return;
            }
        }
        match postback {
            Postback::Picker(target) => match date {
                Some(date) => self.apply_date(target.into(), date),
                None => self.stale(),
            },
            Postback::Date(target, date) => self.apply_date(target.into(), date),
            Postback::Change(id) => match self.active_registration(id) {
                Some(reg) => self.ask_changed_date(&reg),
                None => self.stale(),
            },
            Postback::Born(id) => match self.active_registration(id) {
                Some(reg) if matches!(reg.subject, Subject::Pregnancy { .. }) => {
                    self.ask_birth_date(&reg)
                }
                _ => self.stale(),
            },
            Postback::Babies(id, count) => self.set_babies(id, count),
            Postback::Resume => self.resume(),
            Postback::DeleteConfirm => {
                if self.pending() == Some(PendingQuestion::DeleteConfirmation) {
                    self.delete_all()
                } else {
                    self.ask_delete()
                }
            }
            Postback::EndAllConfirm => {
                if matches!(
                    self.pending(),
                    Some(PendingQuestion::LossConfirmation { .. })
                ) {
                    self.end_all()
                } else {
                    self.ask_end_all()
                }
            }
            Postback::Cancel => self.cancel(),
            Postback::ConsentAgree => self.agree(),
            Postback::ConsentDecline => self.decline(),
            Postback::Language(language) => self.set_language(language),
            Postback::Survey { survey, tap } => self.survey_tap(&survey, tap),
        }
    }

    // ---- commands -----------------------------------------------------------------------

    fn command(&mut self, command: Command) {
        if command == Command::Cancel && self.pending().is_none() {
            // "やめる" with nothing asked is probably meant for someone else.
            return self.not_ours();
        }
        if command == Command::DeleteConfirm
            && self.pending() == Some(PendingQuestion::DeleteConfirmation)
        {
            return self.delete_all();
        }
        if command == Command::Cancel {
            return self.cancel();
        }
        if command == Command::Language {
            // Keeps the pending question: a notice or a date question goes on after the choice.
            return self.ask_language();
        }
        if !command.works_without_consent() && self.consent_first(NoticeOccasion::Request) {
            return;
        }
        // Any other command replaces whatever was asked before.
        self.set_pending(None);
        match command {
            Command::Show => self.show(),
            Command::Change => self.change(),
            Command::Born => self.born(),
            Command::Add => self.add(),
            Command::Pause => self.pause(),
            Command::Resume => self.resume(),
            Command::Delete | Command::DeleteConfirm => self.ask_delete(),
            Command::EndAll => self.ask_end_all(),
            Command::Help => self.help(),
            Command::Cancel => self.cancel(),
            Command::Privacy => self.privacy(),
            Command::Register => self.start_registration(),
            Command::Today => self.today_message(),
            Command::Language => self.ask_language(),
            Command::Survey => self.list_surveys(),
        }
    }

    /// 言語 / language: one button per language, each in its own name.
    fn ask_language(&mut self) {
        let buttons = Language::ALL
            .into_iter()
            .map(|l| postback_button(l.own_name(), Postback::Language(l)))
            .collect();
        self.reply_with(self.t().choose_language(), buttons);
    }

    /// A language button: saved and confirmed in the new language. It stores nothing about the
    /// parent but the choice (like the follow state), so it needs no consent; a notice that
    /// was waiting for an answer is shown again in the new language, with its buttons.
    fn set_language(&mut self, language: Language) {
        self.household_mut().language = language;
        self.reply(self.t().language_set());
        match self.consent_needed() {
            Some(ConsentNeeded::First) => self.ask_consent(NoticeOccasion::Request),
            Some(ConsentNeeded::NewPolicy) => self.ask_consent(NoticeOccasion::Privacy),
            None => {}
        }
    }

    /// 登録: the first date, or another one for a parent already registered.
    fn start_registration(&mut self) {
        if self.active().is_empty() {
            self.ask_first_date()
        } else {
            self.add()
        }
    }

    fn show(&mut self) {
        let active = self.active();
        if active.is_empty() {
            return self.ask_first_date();
        }
        let refs: Vec<&Registration> = active.iter().collect();
        let text = self
            .t()
            .show(&refs, self.today(), self.hour(), self.paused());
        self.reply_with(
            text,
            vec![
                message_button(self.t().command_word(Command::Change)),
                message_button(self.t().command_word(Command::Add)),
                message_button(self.t().command_word(Command::Help)),
            ],
        );
    }

    fn change(&mut self) {
        let active = self.active();
        match active.as_slice() {
            [] => self.ask_first_date(),
            [only] => self.ask_changed_date(only),
            several => {
                let buttons = several
                    .iter()
                    .map(|r| {
                        postback_button(&self.t().registration_label(r), Postback::Change(r.id))
                    })
                    .collect();
                self.reply_with(self.t().choose_change(), buttons);
            }
        }
    }

    fn born(&mut self) {
        let pregnancies: Vec<Registration> = self
            .active()
            .into_iter()
            .filter(|r| matches!(r.subject, Subject::Pregnancy { .. }))
            .collect();
        match pregnancies.as_slice() {
            [] => {
                if self.at_limit() {
                    return self.limit_reached();
                }
                self.set_pending(Some(PendingQuestion::NewBirthDate));
                let buttons = self.new_date_pickers(DateExpectation::Birth);
                self.reply_with(self.t().no_pregnancy(), buttons);
            }
            [only] => self.ask_birth_date(only),
            several => {
                let buttons = several
                    .iter()
                    .map(|r| postback_button(&self.t().registration_label(r), Postback::Born(r.id)))
                    .collect();
                self.reply_with(self.t().choose_born(), buttons);
            }
        }
    }

    fn add(&mut self) {
        if self.at_limit() {
            return self.limit_reached();
        }
        self.set_pending(Some(PendingQuestion::NewRegistrationDate));
        let buttons = self.new_date_pickers(DateExpectation::Either);
        self.reply_with(self.t().ask_added_date(self.today()), buttons);
    }

    fn pause(&mut self) {
        if self.active().is_empty() {
            return self.reply(self.t().nothing_active());
        }
        if self.paused() {
            return self.reply_with(
                self.t().already_paused(),
                vec![message_button(self.t().command_word(Command::Resume))],
            );
        }
        let today = self.today();
        self.household_mut().pause(today);
        self.reply_with(
            self.t().paused(),
            vec![
                message_button(self.t().command_word(Command::Resume)),
                message_button(self.t().command_word(Command::EndAll)),
            ],
        );
    }

    fn resume(&mut self) {
        self.set_pending(None);
        if self.active().is_empty() {
            return self.reply(self.t().nothing_active());
        }
        if !self.paused() {
            return self.reply(self.t().not_paused(self.hour()));
        }
        let household = self.household_mut();
        household.unpause();
        household.following = true;
        let text = self.t().resumed(self.hour());
        self.reply(text);
    }

    fn ask_delete(&mut self) {
        if self.household.is_none() {
            return self.reply(self.t().nothing_stored());
        }
        self.set_pending(Some(PendingQuestion::DeleteConfirmation));
        self.reply_with(
            self.t().delete_question(),
            vec![
                postback_button(self.t().label_delete(), Postback::DeleteConfirm),
                postback_button(self.t().label_cancel(), Postback::Cancel),
            ],
        );
    }

    fn delete_all(&mut self) {
        // Said in the parent's language, read before the household (and the choice) goes.
        let t = self.t();
        self.household = None;
        self.delete = true;
        self.reply(t.deleted());
    }

    fn ask_end_all(&mut self) {
        if self.active().is_empty() {
            self.set_pending(None);
            return self.reply(self.t().nothing_active());
        }
        self.set_pending(Some(PendingQuestion::LossConfirmation {
            registration: None,
        }));
        self.reply_with(
            self.t().end_all_question(),
            vec![
                postback_button(self.t().label_end_all(), Postback::EndAllConfirm),
                postback_button(self.t().label_cancel(), Postback::Cancel),
            ],
        );
    }

    /// Ends every active registration as [`EndReason::Loss`], whatever the reason the parent
    /// had: Loss is the strictest end (no birthday message, no "please report the birth"), and
    /// a parent must never have to name a loss to get there.
    fn end_all(&mut self) {
        let today = self.today();
        let household = self.household_mut();
        household.pending = None;
        for reg in household.registrations.iter_mut().filter(|r| r.is_active()) {
            reg.status = RegistrationStatus::Ended {
                reason: EndReason::Loss,
                on: today,
            };
        }
        self.reply(self.t().ended_all(self.ctx.municipality_name));
    }

    fn cancel(&mut self) {
        let pending = self.pending();
        match pending {
            // やめておく to the first notice is 登録しない, which stores nothing.
            Some(PendingQuestion::Consent { .. }) => return self.decline(),
            // Neither yes nor no to a new notice: asked again at the next interaction.
            Some(PendingQuestion::NewPolicyConsent { .. }) => {
                self.set_pending(None);
                return self.reply(self.t().new_policy_later());
            }
            _ => {}
        }
        self.set_pending(None);
        if pending == Some(PendingQuestion::ResumeAfterRefollow) && self.paused() {
            self.reply_with(
                self.t().stay_paused(),
                vec![message_button(self.t().command_word(Command::Resume))],
            );
        } else {
            self.reply(self.t().cancelled());
        }
    }

    fn help(&mut self) {
        let mut buttons: Vec<QuickReplyItem> = [
            Command::Show,
            Command::Change,
            Command::Born,
            Command::Add,
            Command::Pause,
            Command::Resume,
            Command::Delete,
            Command::EndAll,
            Command::Privacy,
        ]
        .into_iter()
        .map(|c| message_button(self.t().command_word(c)))
        .collect();
        buttons.truncate(crate::message::MAX_QUICK_REPLY_ITEMS);
        self.reply_with(self.t().help(self.hour(), self.schedule()), buttons);
    }

    /// 今日のメッセージ: what today's plan holds for the household — the very plan the daily
    /// fan-out sends — or, on a day without one, the latest planned in the last
    /// [`TODAY_LOOKBACK_DAYS`] days under its date. Shown while paused too, saying so.
    fn today_message(&mut self) {
        let Some(household) = self
            .household
            .as_ref()
            .filter(|h| h.active_registrations().next().is_some())
        else {
            return self.ask_first_date();
        };
        let Some(library) = self.ctx.content else {
            return self.reply(self.t().today_unavailable());
        };
        // Planned as if delivering: a paused household's plan is empty, and a parent who
        // writes to us is following.
        let mut delivering = household.clone();
        delivering.paused = false;
        delivering.following = true;
        let content = library.for_municipality(self.municipality);
        let today = self.today();
        let found = (0..=TODAY_LOOKBACK_DAYS)
            .filter_map(|back| today.checked_sub_days(Days::new(back)))
            .find_map(|day| {
                let plan = plan_household(&delivering, day, &content);
                // The fan-out skips a household whose plan misses a text: it sent nothing.
                (!plan.messages.is_empty() && plan.missing.is_empty())
                    .then_some((day, plan.messages))
            });
        let Some((day, messages)) = found else {
            return self.reply(self.t().no_recent_message(TODAY_LOOKBACK_DAYS));
        };
        let mut preface = Vec::new();
        if day != today {
            preface.push(self.t().message_of_day(day));
        }
        if household.paused {
            preface.push(self.t().today_while_paused().to_owned());
        }
        self.replies
            .extend(with_preface(&preface.join("\n"), messages));
    }

    // ---- consent ------------------------------------------------------------------------

    fn consent_is_current(&self) -> bool {
        self.household
            .as_ref()
            .is_some_and(|h| h.has_consented_to(self.ctx.privacy_policy_version))
    }

    fn consent_needed(&self) -> Option<ConsentNeeded> {
        if self.consent_is_current() {
            None
        } else if self
            .household
            .as_ref()
            .is_none_or(|h| h.registrations.is_empty())
        {
            // Nothing but the follow state is stored. Ended registrations still hold dates,
            // so a parent who has only those is asked as on a policy change, whose 同意しない
            // erases them, not told that nothing is stored.
            Some(ConsentNeeded::First)
        } else {
            Some(ConsentNeeded::NewPolicy)
        }
    }

    /// Shows the notice instead of acting, when the parent's consent is still needed.
    /// True: the notice was shown and the event must do nothing else.
    fn consent_first(&mut self, occasion: NoticeOccasion) -> bool {
        if self.consent_needed().is_none() {
            return false;
        }
        self.ask_consent(occasion);
        true
    }

    /// The notice with its two buttons, which act only while this question is pending.
    fn ask_consent(&mut self, occasion: NoticeOccasion) {
        let ctx = self.ctx;
        let policy_version = ctx.privacy_policy_version.to_owned();
        match self.consent_needed() {
            None => self.privacy(),
            Some(ConsentNeeded::First) => {
                self.set_pending(Some(PendingQuestion::Consent { policy_version }));
                self.reply_with(
                    self.t().consent_notice(
                        ctx.municipality_name,
                        ctx.delivery_hour,
                        ctx.privacy_url,
                        RETENTION_DAYS_AFTER_UNFOLLOW,
                        occasion,
                    ),
                    self.first_notice_buttons(),
                );
            }
            Some(ConsentNeeded::NewPolicy) => {
                self.set_pending(Some(PendingQuestion::NewPolicyConsent { policy_version }));
                self.reply_with(
                    self.t().new_policy_notice(
                        ctx.municipality_name,
                        ctx.privacy_url,
                        RETENTION_DAYS_AFTER_UNFOLLOW,
                        occasion,
                    ),
                    vec![
                        postback_button(self.t().label_agree(), Postback::ConsentAgree),
                        postback_button(self.t().label_disagree(), Postback::ConsentDecline),
                    ],
                );
            }
        }
    }

    /// 同意して登録する / 登録しない, then the other languages: a parent can choose the language
    /// before reading the notice (2 + 2 buttons, well within LINE's 13).
    fn first_notice_buttons(&self) -> Vec<QuickReplyItem> {
        let t = self.t();
        let mut buttons = vec![
            postback_button(t.label_agree_and_register(), Postback::ConsentAgree),
            postback_button(t.label_do_not_register(), Postback::ConsentDecline),
        ];
        buttons.extend(
            Language::ALL
                .into_iter()
                .filter(|&l| l != t.language())
                .map(|l| postback_button(l.own_name(), Postback::Language(l))),
        );
        buttons
    }

    /// 個人情報: the notice, with the buttons when consent is still needed, or with the date
    /// and version the parent agreed to.
    fn privacy(&mut self) {
        let ctx = self.ctx;
        let current = self
            .household
            .as_ref()
            .and_then(|h| h.consent.clone())
            .filter(|c| c.policy_version == ctx.privacy_policy_version);
        match current {
            None => self.ask_consent(NoticeOccasion::Privacy),
            Some(consent) => self.reply(self.t().privacy_agreed(
                ctx.municipality_name,
                ctx.privacy_url,
                RETENTION_DAYS_AFTER_UNFOLLOW,
                &consent,
            )),
        }
    }

    /// 同意して登録する / 同意する.
    fn agree(&mut self) {
        let current = self.ctx.privacy_policy_version;
        let first = match self.pending() {
            Some(PendingQuestion::Consent { policy_version }) if policy_version == current => true,
            Some(PendingQuestion::NewPolicyConsent { policy_version })
                if policy_version == current =>
            {
                false
            }
            // Not asked (an old button), or asked about a notice the town has replaced since:
            // nothing is recorded for a notice the parent has not seen.
            _ => return self.privacy(),
        };
        let today = self.today();
        let household = self.household_mut();
        household.consent = Some(Consent {
            policy_version: current.to_owned(),
            agreed_on: today,
        });
        household.pending = None;
        if first && self.active().is_empty() {
            self.set_pending(Some(PendingQuestion::NewRegistrationDate));
            let buttons = self.new_date_pickers(DateExpectation::Either);
            self.reply_with(self.t().welcome_after_consent(today), buttons);
        } else {
            self.reply(self.t().new_policy_agreed());
        }
    }

    /// 登録しない / 同意しない.
    fn decline(&mut self) {
        match self.pending() {
            Some(PendingQuestion::Consent { .. }) => {
                self.set_pending(None);
                self.reply(self.t().not_registered());
            }
            // Kizuna cannot keep the data under a notice the parent does not accept: the same
            // as 削除する.
            Some(PendingQuestion::NewPolicyConsent { .. }) => {
                let t = self.t();
                self.household = None;
                self.delete = true;
                self.reply(t.new_policy_declined());
            }
            // An old button: it destroys nothing, and shows where the parent stands.
            _ => self.privacy(),
        }
    }

    fn stale(&mut self) {
        self.reply_with(
            self.t().stale_button(),
            vec![message_button(self.t().command_word(Command::Help))],
        );
    }

    // ---- dates --------------------------------------------------------------------------

    fn ask_first_date(&mut self) {
        self.set_pending(Some(PendingQuestion::NewRegistrationDate));
        let buttons = self.new_date_pickers(DateExpectation::Either);
        self.reply_with(self.t().ask_first_date(self.today()), buttons);
    }

    fn ask_changed_date(&mut self, reg: &Registration) {
        self.set_pending(Some(PendingQuestion::ChangedDate {
            registration: reg.id,
        }));
        let picker = self.given_date_picker(
            reg.subject.programme(),
            self.t().label_change_picker(),
            Postback::Picker(DateTarget::Change(reg.id)),
        );
        self.reply_with(self.t().ask_changed_date(reg), vec![picker]);
    }

    fn ask_birth_date(&mut self, reg: &Registration) {
        self.set_pending(Some(PendingQuestion::BirthDate {
            registration: reg.id,
        }));
        let picker = self.born_picker(reg);
        self.reply_with(self.t().ask_birth_date(), vec![picker]);
    }

    /// A typed text answering `asking`.
    fn typed_date(&mut self, text: &str, asking: Asking) {
        let typed = match parse_typed(text) {
            // Not a date at all: probably meant for another service. Stay silent and keep the
            // question, so the parent can still answer it.
            Err(TypedDateError::NoDate) => return self.not_ours(),
            Err(error) => {
                let reply = self.t().date_error(&error, self.today());
                let buttons = self.pickers_for(asking);
                return self.reply_with(reply, buttons);
            }
            Ok(typed) => typed,
        };
        if let (Asking::New(DateExpectation::Either), TypedDate::MonthDay { .. }) = (asking, typed)
        {
            let candidates = typed.candidates(self.today());
            let future = candidates
                .future
                .filter(|&d| check_plausible(d, DateExpectation::Due, self.today()).is_ok());
            let past = candidates
                .past
                .filter(|&d| check_plausible(d, DateExpectation::Birth, self.today()).is_ok());
            if let (Some(future), Some(past)) = (future, past) {
                // 5/1 could be a due date or a birthday: asking beats guessing wrong.
                let (due_label, birth_label) = self.t().which_date_labels(future, past);
                return self.reply_with(
                    self.t().which_date(future, past),
                    vec![
                        postback_button(&due_label, Postback::Date(DateTarget::NewDue, future)),
                        postback_button(&birth_label, Postback::Date(DateTarget::NewBirth, past)),
                    ],
                );
            }
        }
        let expectation = match asking {
            Asking::New(expectation) => expectation,
            Asking::Change(id) => match self.active_registration(id).map(|r| r.subject) {
                Some(subject) => DateExpectation::of(subject.programme()),
                None => {
                    // The registration ended or was replaced since the question was asked.
                    self.set_pending(None);
                    return self.stale();
                }
            },
            Asking::Born(_) => DateExpectation::Birth,
        };
        match typed.resolve(expectation, self.today()) {
            Some(date) => self.apply_date(asking, date),
            None => {
                let reply = self.t().date_error(&TypedDateError::NoDate, self.today());
                let buttons = self.pickers_for(asking);
                self.reply_with(reply, buttons);
            }
        }
    }

    /// A date for `asking`, from a picker, a button or typed text.
    fn apply_date(&mut self, asking: Asking, date: NaiveDate) {
        match asking {
            Asking::New(expectation) => self.register(expectation, date),
            Asking::Change(id) => self.change_date(id, date),
            Asking::Born(id) => self.report_birth(id, date),
        }
    }

    fn refuse_date(&mut self, reply: String, asking: Asking) {
        let buttons = self.pickers_for(asking);
        self.reply_with(reply, buttons);
    }

    fn register(&mut self, expectation: DateExpectation, date: NaiveDate) {
        if !self.consent_is_current() {
            // Every way here asks for consent first; this keeps "no date stored without
            // consent" true even if a new way forgets to.
            return self.ask_consent(NoticeOccasion::Date);
        }
        let today = self.today();
        if let Err(refusal) = check_plausible(date, expectation, today) {
            return self.refuse_date(self.t().implausible(&refusal), Asking::New(expectation));
        }
        let subject = Subject::new(expectation.programme(date, today), date);
        if let Some(same) = self.active().into_iter().find(|r| r.subject == subject) {
            self.set_pending(None);
            return self.reply(self.t().already_registered(&same, today));
        }
        if self.at_limit() {
            self.set_pending(None);
            return self.limit_reached();
        }
        let household = self.household_mut();
        let registration = Registration {
            id: household.next_registration_id(),
            subject,
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on: today,
        };
        household.registrations.push(registration.clone());
        household.pending = None;
        let paused = household.paused;
        self.reply_with(
            self.t()
                .registered(&registration, today, self.hour(), paused, self.schedule()),
            vec![
                message_button(self.t().command_word(Command::Show)),
                message_button(self.t().command_word(Command::Help)),
            ],
        );
    }

    fn change_date(&mut self, id: u32, date: NaiveDate) {
        let today = self.today();
        let Some(reg) = self.active_registration(id) else {
            self.set_pending(None);
            return self.stale();
        };
        let expectation = DateExpectation::of(reg.subject.programme());
        if let Err(refusal) = check_plausible(date, expectation, today) {
            return self.refuse_date(self.t().implausible(&refusal), Asking::Change(id));
        }
        let household = self.household_mut();
        household.pending = None;
        let paused = household.paused;
        let Some(stored) = household.registration_mut(id) else {
            return;
        };
        stored.subject = stored.subject.with_given_date(date);
        let updated = stored.clone();
        self.reply(self.t().changed(&updated, today, self.hour(), paused));
    }

    fn report_birth(&mut self, id: u32, birth_date: NaiveDate) {
        let today = self.today();
        let Some(Registration {
            subject: Subject::Pregnancy { due_date },
            ..
        }) = self.active_registration(id)
        else {
            self.set_pending(None);
            return self.stale();
        };
        if let Err(refusal) = check_plausible(birth_date, DateExpectation::Birth, today) {
            return self.refuse_date(self.t().implausible(&refusal), Asking::Born(id));
        }
        let (earliest, latest) = birth_window_around(due_date);
        if birth_date < earliest || birth_date > latest {
            return self.refuse_date(self.t().birth_far_from_due(due_date), Asking::Born(id));
        }
        let household = self.household_mut();
        household.pending = None;
        let paused = household.paused;
        let Some(stored) = household.registration_mut(id) else {
            return;
        };
        stored.subject = Subject::Child {
            birth_date,
            due_date: Some(due_date),
        };
        let updated = stored.clone();
        let buttons = if updated.baby_count == 1 {
            vec![
                postback_button(self.t().label_twins(), Postback::Babies(id, 2)),
                postback_button(self.t().label_triplets(), Postback::Babies(id, 3)),
            ]
        } else {
            Vec::new()
        };
        self.reply_with(
            self.t()
                .born(&updated, today, self.hour(), paused, self.schedule()),
            buttons,
        );
    }

    fn set_babies(&mut self, id: u32, count: u8) {
        if self.active_registration(id).is_none() {
            return self.stale();
        }
        if let Some(reg) = self.household_mut().registration_mut(id) {
            reg.baby_count = count;
        }
        self.reply(self.t().babies_set(count));
    }

    fn at_limit(&self) -> bool {
        self.household.as_ref().is_some_and(|h| {
            h.active_registrations().count() >= MAX_ACTIVE_REGISTRATIONS
                || h.registrations.len() >= MAX_REGISTRATIONS
        })
    }

    fn limit_reached(&mut self) {
        self.reply(self.t().limit_reached(MAX_ACTIVE_REGISTRATIONS));
    }

    // ---- buttons ------------------------------------------------------------------------

    /// Pickers offered with a question about a new registration.
    fn new_date_pickers(&self, expectation: DateExpectation) -> Vec<QuickReplyItem> {
        Programme::ALL
            .into_iter()
            .filter(|&programme| {
                expectation == DateExpectation::Either
                    || DateExpectation::of(programme) == expectation
            })
            .map(|programme| {
                // The postback names the programme in its own stable words (old buttons stay
                // in the chat), and each language labels the button.
                let (label, target) = match programme {
                    Programme::Maternity => (self.t().label_due_picker(), DateTarget::NewDue),
                    Programme::Child => (self.t().label_birth_picker(), DateTarget::NewBirth),
                };
                self.given_date_picker(programme, label, Postback::Picker(target))
            })
            .collect()
    }

    /// Pickers offered again after a date was refused.
    fn pickers_for(&self, asking: Asking) -> Vec<QuickReplyItem> {
        match asking {
            Asking::New(expectation) => self.new_date_pickers(expectation),
            Asking::Change(id) => match self.active_registration(id) {
                Some(reg) => vec![self.given_date_picker(
                    reg.subject.programme(),
                    self.t().label_change_picker(),
                    Postback::Picker(DateTarget::Change(id)),
                )],
                None => Vec::new(),
            },
            Asking::Born(id) => match self.active_registration(id) {
                Some(reg) => vec![self.born_picker(&reg)],
                None => Vec::new(),
            },
        }
    }

    /// A picker for `programme`'s given date, within its bounds (due dates: today to today +
    /// 300 days, as the issue specifies for the picker; birth dates: 3 years back to today).
    fn given_date_picker(
        &self,
        programme: Programme,
        label: &str,
        postback: Postback,
    ) -> QuickReplyItem {
        let (min, max) = programme.spec().picker_bounds(self.today());
        date_picker(label, postback, min, max, None)
    }

    /// The real birth date of a pregnancy: around its due date, never after today.
    fn born_picker(&self, reg: &Registration) -> QuickReplyItem {
        let today = self.today();
        let postback = Postback::Picker(DateTarget::Born(reg.id));
        let (earliest, latest) = birth_date_window(today);
        let Subject::Pregnancy { due_date } = reg.subject else {
            return date_picker(
                self.t().label_born_picker(),
                postback,
                earliest,
                latest,
                None,
            );
        };
        let (around_min, _) = birth_window_around(due_date);
        let min = around_min.max(earliest).min(today);
        let initial = due_date.min(today).max(min);
        date_picker(
            self.t().label_born_picker(),
            postback,
            min,
            today,
            Some(initial),
        )
    }
}

/// A planned push with a short note before it: its own first message while the push leaves
/// room for one, else at the top of the first text if that stays within LINE's limit. (A
/// push that already holds five full texts is shown without the note: practically never.)
fn with_preface(preface: &str, mut messages: Vec<Message>) -> Vec<Message> {
    if preface.is_empty() {
        return messages;
    }
    if messages.len() < MAX_MESSAGES_PER_REQUEST {
        messages.insert(0, Message::text(preface));
    } else if let Some(Message::Text { text, .. }) = messages.first_mut() {
        let combined = format!("{preface}\n\n{text}");
        if utf16_len(&combined) <= MAX_TEXT_UTF16 {
            *text = combined;
        }
    }
    messages
}

/// The range a reported birth date may fall in, around the registered due date.
fn birth_window_around(due_date: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        due_date
            .checked_sub_days(Days::new(BIRTH_BEFORE_DUE_MAX_DAYS))
            .unwrap_or(NaiveDate::MIN),
        due_date
            .checked_add_days(Days::new(BIRTH_AFTER_DUE_MAX_DAYS))
            .unwrap_or(NaiveDate::MAX),
    )
}

fn date_picker(
    label: &str,
    postback: Postback,
    min: NaiveDate,
    max: NaiveDate,
    initial: Option<NaiveDate>,
) -> QuickReplyItem {
    QuickReplyItem::new(Action::DatePicker {
        label: label.to_owned(),
        data: postback.data(),
        initial,
        max: Some(max),
        min: Some(min),
    })
}

/// A button that answers with a postback; the chat shows the label as if the parent said it.
fn postback_button(label: &str, postback: Postback) -> QuickReplyItem {
    QuickReplyItem::new(Action::Postback {
        label: label.to_owned(),
        data: postback.data(),
        display_text: Some(label.to_owned()),
    })
}

/// A button that sends `word` as the parent's message (a command).
fn message_button(word: &str) -> QuickReplyItem {
    QuickReplyItem::new(Action::Message {
        label: word.to_owned(),
        text: word.to_owned(),
    })
}
