//! Households and their registrations.
//!
//! A household is one LINE user following one municipality's account. It holds any number of
//! registrations (a pregnancy, an older child, siblings). Twins and triplets are one
//! registration with a `baby_count`, so they never produce duplicate messages.

use crate::ids::{LineUserId, MunicipalityId};
use crate::survey::{SurveyId, SurveyResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The language a household reads: the conversation's replies and, where the content pack has
/// a text for the day, the daily message (otherwise the Japanese base text).
///
/// Adding a language: a variant here (with its code), one texts file in
/// `conversation/texts/`, and optionally a content directory `content/lang/<code>/`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Language {
    #[default]
    #[serde(rename = "ja")]
    Japanese,
    /// やさしい日本語: short sentences, basic words, spaces between phrases.
    #[serde(rename = "ja-easy")]
    EasyJapanese,
    #[serde(rename = "en")]
    English,
}

impl Language {
    pub const ALL: [Language; 3] = [
        Language::Japanese,
        Language::EasyJapanese,
        Language::English,
    ];

    /// The code used in stored items, postbacks, content directories and `--lang`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Japanese => "ja",
            Language::EasyJapanese => "ja-easy",
            Language::English => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    /// How the language names itself on its button.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::Japanese => "日本語",
            Language::EasyJapanese => "やさしい にほんご",
            Language::English => "English",
        }
    }
}

/// Whom a registration follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// An ongoing pregnancy, timed from the due date (day 280).
    Pregnancy { due_date: NaiveDate },
    /// A born child, timed from the birth date (day 0). `due_date` is kept when the child was
    /// registered as a pregnancy first (reported birth), for the record only.
    Child {
        birth_date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_date: Option<NaiveDate>,
    },
}

/// Why a registration ended. An ended registration never yields another message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The pregnancy or the child was lost. Nothing about it is ever sent again — no
    /// birthday message, no "please report the birth" prompt.
    Loss,
    /// The parent asked to stop this registration.
    StoppedByParent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RegistrationStatus {
    Active,
    Ended { reason: EndReason, on: NaiveDate },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Stable within the household, starting at 1; never reused after deletion.
    pub id: u32,
    pub subject: Subject,
    /// 1 for a single baby, 2 for twins, 3 for triplets.
    pub baby_count: u8,
    pub status: RegistrationStatus,
    pub registered_on: NaiveDate,
}

impl Registration {
    pub fn is_active(&self) -> bool {
        matches!(self.status, RegistrationStatus::Active)
    }
}

/// What the conversation is waiting for from this parent, if anything.
/// Owned by the conversation state machine; stored with the household so that a parent can
/// answer a question in a later webhook event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "waiting_for", rename_all = "snake_case")]
pub enum PendingQuestion {
    /// A due date or a birth date for a new registration.
    NewRegistrationDate,
    /// A due date for a new pregnancy registration.
    NewDueDate,
    /// A birth date for a new child registration.
    NewBirthDate,
    /// A corrected date for an existing registration.
    ChangedDate { registration: u32 },
    /// The real birth date of a registered pregnancy.
    BirthDate { registration: u32 },
    /// Confirmation before deleting all of this parent's data.
    DeleteConfirmation,
    /// Confirmation before ending everything after a loss.
    LossConfirmation { registration: Option<u32> },
    /// After re-following: resume the kept registrations or not.
    ResumeAfterRefollow,
    /// The typed answer to a survey's free-text question ([`crate::survey`]).
    SurveyText {
        survey: crate::survey::SurveyId,
        question: crate::survey::QuestionId,
    },
    /// Agreement to the privacy notice before anything is registered (first contact).
    /// `policy_version` is the version shown, so a tap after the town published a newer one
    /// records nothing and shows the newer notice instead.
    Consent { policy_version: String },
    /// Agreement to a new version of the privacy notice, from a parent registered under an
    /// earlier one (or before Kizuna asked for consent at all).
    NewPolicyConsent { policy_version: String },
}

/// A parent's agreement to the town's privacy notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// The municipality's `privacy_policy_version` the parent agreed to.
    pub policy_version: String,
    /// The Japan date they agreed.
    pub agreed_on: NaiveDate,
}

/// One LINE user of one municipality, with everything Kizuna keeps about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    pub municipality: MunicipalityId,
    pub user: LineUserId,
    pub registrations: Vec<Registration>,
    /// Paused by the parent (停止): nothing is sent until they resume (再開).
    #[serde(default)]
    pub paused: bool,
    /// False after an unfollow (or block): nothing is sent until they follow again.
    pub following: bool,
    /// The Japan date of the last unfollow, for the retention limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfollowed_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingQuestion>,
    /// The privacy notice the parent agreed to, if any. Households stored before consent was
    /// asked have none and are asked at their next interaction, as after a policy change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// The language of replies and messages. Items stored before languages existed read as
    /// Japanese. Storing it needs no consent: it is a display choice about no one.
    #[serde(default, skip_serializing_if = "is_japanese")]
    pub language: Language,
    /// The parent's answers to network surveys, by survey ([`crate::survey`]). Kept here so
    /// that they follow the household's retention and go with it on 削除.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub surveys: BTreeMap<SurveyId, SurveyResponse>,
    /// Optimistic-concurrency version: every stored write increments it and is conditional on
    /// the previous value, so two concurrent events for one parent cannot corrupt each other.
    #[serde(default)]
    pub version: u64,
    /// The Japan date the household was last paused (by 停止, or by a re-follow that waits for
    /// 再開), while it is paused; for the monthly figures of `kizuna stats`. Households paused
    /// before the date was kept have none: they count as paused since they registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_on: Option<NaiveDate>,
}

fn is_japanese(language: &Language) -> bool {
    *language == Language::Japanese
}

impl Household {
    pub fn new(municipality: MunicipalityId, user: LineUserId) -> Self {
        Self {
            municipality,
            user,
            registrations: Vec::new(),
            paused: false,
            following: true,
            unfollowed_on: None,
            pending: None,
            consent: None,
            language: Language::Japanese,
            surveys: BTreeMap::new(),
            version: 0,
            paused_on: None,
        }
    }

    /// Whether the daily fan-out should consider this household at all.
    pub fn receives_messages(&self) -> bool {
        self.following && !self.paused && self.registrations.iter().any(Registration::is_active)
    }

    /// Whether the parent agreed to the privacy notice in its version `policy_version`.
    pub fn has_consented_to(&self, policy_version: &str) -> bool {
        self.consent
            .as_ref()
            .is_some_and(|c| c.policy_version == policy_version)
    }

    pub fn active_registrations(&self) -> impl Iterator<Item = &Registration> {
        self.registrations.iter().filter(|r| r.is_active())
    }

    pub fn registration(&self, id: u32) -> Option<&Registration> {
        self.registrations.iter().find(|r| r.id == id)
    }

    pub fn registration_mut(&mut self, id: u32) -> Option<&mut Registration> {
        self.registrations.iter_mut().find(|r| r.id == id)
    }

    /// Pauses the household (nothing is sent until 再開) from `today`; a household already
    /// paused keeps the date it was paused.
    pub fn pause(&mut self, today: NaiveDate) {
        if !self.paused {
            self.paused_on = Some(today);
        }
        self.paused = true;
    }

    /// Ends a pause.
    pub fn unpause(&mut self) {
        self.paused = false;
        self.paused_on = None;
    }

    /// The id the next registration gets.
    pub fn next_registration_id(&self) -> u32 {
        self.registrations.iter().map(|r| r.id).max().unwrap_or(0) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn household() -> Household {
        Household::new(
            MunicipalityId::parse("kizuna-town").unwrap(),
            LineUserId::parse("U4af4980629a0b1c2d3e4f5a6b7c8d9e0").unwrap(),
        )
    }

    #[test]
    fn households_stored_before_languages_read_as_japanese_and_the_choice_round_trips() {
        let stored = serde_json::to_value(household()).unwrap();
        assert!(stored.get("language").is_none(), "Japanese is not written");
        let read: Household = serde_json::from_value(stored).unwrap();
        assert_eq!(read.language, Language::Japanese);
        for language in Language::ALL {
            let mut h = household();
            h.language = language;
            let value = serde_json::to_value(&h).unwrap();
            if language != Language::Japanese {
                assert_eq!(value["language"], language.code());
            }
            assert_eq!(serde_json::from_value::<Household>(value).unwrap(), h);
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::from_code("fr"), None);
    }

    #[test]
    fn a_pause_keeps_its_first_day_and_households_stored_before_it_read_without_one() {
        let mut h = household();
        let stored = serde_json::to_value(&h).unwrap();
        assert!(
            stored.get("paused_on").is_none(),
            "not written while not paused"
        );
        let (first, later) = (
            NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(),
            NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(),
        );
        h.pause(first);
        h.pause(later);
        assert!(h.paused);
        assert_eq!(
            h.paused_on,
            Some(first),
            "pausing again keeps the first day"
        );
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json["paused_on"], "2027-01-05");
        assert_eq!(serde_json::from_value::<Household>(json).unwrap(), h);
        h.unpause();
        assert!(!h.paused);
        assert_eq!(h.paused_on, None);
        // An item paused before the date was kept.
        let mut old = serde_json::to_value(household()).unwrap();
        old["paused"] = serde_json::json!(true);
        let read: Household = serde_json::from_value(old).unwrap();
        assert!(read.paused);
        assert_eq!(read.paused_on, None);
    }

    #[test]
    fn households_stored_before_consent_read_as_not_consented() {
        let mut stored = serde_json::to_value(household()).unwrap();
        assert!(
            stored.get("consent").is_none(),
            "no consent is not written at all"
        );
        stored["pending"] = serde_json::json!({"waiting_for": "new_registration_date"});
        let read: Household = serde_json::from_value(stored).unwrap();
        assert_eq!(read.consent, None);
        assert!(!read.has_consented_to("1"));
    }

    #[test]
    fn consent_and_its_question_round_trip() {
        let mut h = household();
        h.consent = Some(Consent {
            policy_version: "2".to_owned(),
            agreed_on: NaiveDate::from_ymd_opt(2027, 4, 1).unwrap(),
        });
        h.pending = Some(PendingQuestion::NewPolicyConsent {
            policy_version: "3".to_owned(),
        });
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(
            json["consent"],
            serde_json::json!({"policy_version": "2", "agreed_on": "2027-04-01"})
        );
        assert_eq!(
            json["pending"],
            serde_json::json!({"waiting_for": "new_policy_consent", "policy_version": "3"})
        );
        assert_eq!(serde_json::from_value::<Household>(json).unwrap(), h);
        assert!(h.has_consented_to("2"));
        assert!(!h.has_consented_to("3"));
    }
}
