//! A parent chatting with Kizuna, for conversation tests: keeps the stored household between
//! events and checks LINE's limits on every outcome.
#![allow(dead_code)]

use chrono::NaiveDate;
use kizuna_core::content::ContentLibrary;
use kizuna_core::conversation::{respond, Context, HouseholdChange, Inbound, Outcome};
use kizuna_core::message::{
    utf16_len, Action, Message, MAX_ACTION_LABEL_CHARS, MAX_MESSAGES_PER_REQUEST,
    MAX_QUICK_REPLY_ITEMS, MAX_TEXT_UTF16,
};
use kizuna_core::{
    Consent, Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};

pub const USER: &str = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0";
pub const TOWN: &str = "きずな町";
pub const HOUR: u8 = 20;
pub const PRIVACY_URL: &str = "https://www.town.kizuna.example.jp/kojin-joho";
pub const POLICY: &str = "1";

// Not every test file that includes this module uses it.
#[allow(unused_imports)]
pub use kizuna_core::testing::date as d;

pub fn municipality() -> MunicipalityId {
    MunicipalityId::parse("kizuna-town").unwrap()
}

pub fn user() -> LineUserId {
    LineUserId::parse(USER).unwrap()
}

/// Every rule LINE (and our tone) puts on a reply, for any outcome.
pub fn assert_invariants(outcome: &Outcome) {
    assert!(outcome.replies.len() <= MAX_MESSAGES_PER_REQUEST);
    if !outcome.consumed {
        assert!(
            outcome.replies.is_empty(),
            "replied to an event that is not ours"
        );
    }
    for message in &outcome.replies {
        let Message::Text { text, quick_reply } = message;
        assert!(!text.is_empty());
        assert!(utf16_len(text) <= MAX_TEXT_UTF16);
        assert!(
            !text.contains('!') && !text.contains('！'),
            "no exclamation marks: {text}"
        );
        if let Some(quick_reply) = quick_reply {
            assert!(!quick_reply.items.is_empty());
            assert!(quick_reply.items.len() <= MAX_QUICK_REPLY_ITEMS);
            for item in &quick_reply.items {
                let (label, data) = match &item.action {
                    Action::Message { label, text } => (label, text),
                    Action::Postback { label, data, .. } => (label, data),
                    Action::DatePicker {
                        label,
                        data,
                        min,
                        max,
                        ..
                    } => {
                        assert!(min <= max, "picker min after max");
                        (label, data)
                    }
                };
                assert!(!label.is_empty());
                assert!(
                    label.chars().count() <= MAX_ACTION_LABEL_CHARS,
                    "label too long: {label}"
                );
                assert!(data.len() <= 300);
                if !matches!(item.action, Action::Message { .. }) {
                    assert!(data.starts_with("kizuna:v1:"), "{data}");
                }
            }
        }
    }
    if let HouseholdChange::Save(h) = &outcome.household {
        let mut ids: Vec<u32> = h.registrations.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            h.registrations.len(),
            "registration ids are unique"
        );
    }
}

pub struct Chat {
    pub household: Option<Household>,
    pub today: NaiveDate,
    /// The town's privacy policy URL and notice version, as the municipality record has them.
    pub privacy_url: Option<String>,
    pub policy_version: String,
    /// The content the webhook loaded (`None`: it could not).
    pub content: Option<&'static ContentLibrary>,
}

impl Chat {
    /// A parent Kizuna knows nothing about.
    pub fn new(today: NaiveDate) -> Self {
        Self {
            household: None,
            today,
            privacy_url: Some(PRIVACY_URL.to_owned()),
            policy_version: POLICY.to_owned(),
            content: None,
        }
    }

    /// A parent who followed and agreed to the notice: Kizuna now waits for their first date.
    pub fn consented(today: NaiveDate) -> Self {
        let mut chat = Self::new(today);
        let notice = chat.follow();
        let welcome = chat.agree(&notice);
        assert_eq!(
            buttons(&welcome).len(),
            2,
            "the welcome after consent offers both date pickers"
        );
        chat
    }

    /// Taps the agree button of a consent notice (同意して登録する or 同意する).
    pub fn agree(&mut self, notice: &Outcome) -> Outcome {
        let label = if buttons(notice)
            .iter()
            .any(|a| matches!(a, Action::Postback { label, .. } if label == "同意して登録する"))
        {
            "同意して登録する"
        } else {
            "同意する"
        };
        tap(self, notice, label, None)
    }

    /// The consent the parent gave today to the current notice.
    pub fn consent_today(&self) -> Consent {
        Consent {
            policy_version: self.policy_version.clone(),
            agreed_on: self.today,
        }
    }

    pub fn send(&mut self, inbound: Inbound) -> Outcome {
        let ctx = Context {
            today: self.today,
            municipality_name: TOWN,
            delivery_hour: HOUR,
            privacy_url: self.privacy_url.as_deref(),
            privacy_policy_version: &self.policy_version,
            content: self.content,
        };
        let outcome = respond(
            self.household.as_ref(),
            &municipality(),
            &user(),
            &inbound,
            &ctx,
        );
        assert_invariants(&outcome);
        match &outcome.household {
            HouseholdChange::Unchanged => {}
            HouseholdChange::Save(h) => {
                assert_eq!(h.user, user());
                assert_eq!(h.municipality, municipality());
                self.household = Some(h.clone());
            }
            HouseholdChange::Delete => self.household = None,
        }
        outcome
    }

    pub fn text(&mut self, text: &str) -> Outcome {
        self.send(Inbound::Text(text.to_owned()))
    }

    pub fn postback(&mut self, data: &str, date: Option<NaiveDate>) -> Outcome {
        self.send(Inbound::Postback {
            data: data.to_owned(),
            date,
        })
    }

    pub fn follow(&mut self) -> Outcome {
        self.send(Inbound::Follow { unblocked: false })
    }

    pub fn household(&self) -> &Household {
        self.household.as_ref().expect("a household is stored")
    }
}

/// The one reply's text.
pub fn reply_text(outcome: &Outcome) -> &str {
    assert_eq!(outcome.replies.len(), 1, "{:?}", outcome.replies);
    outcome.replies[0].text_body()
}

/// The quick-reply actions of the last reply.
pub fn buttons(outcome: &Outcome) -> Vec<Action> {
    match outcome.replies.last() {
        Some(Message::Text {
            quick_reply: Some(q),
            ..
        }) => q.items.iter().map(|i| i.action.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The button labelled `label`: its data (postback, picker) or text (message action).
pub fn button(outcome: &Outcome, label: &str) -> Action {
    buttons(outcome)
        .into_iter()
        .find(|a| match a {
            Action::Message { label: l, .. }
            | Action::Postback { label: l, .. }
            | Action::DatePicker { label: l, .. } => l == label,
        })
        .unwrap_or_else(|| panic!("no button {label:?} in {:?}", buttons(outcome)))
}

pub fn data_of(action: &Action) -> String {
    match action {
        Action::Message { text, .. } => text.clone(),
        Action::Postback { data, .. } | Action::DatePicker { data, .. } => data.clone(),
    }
}

/// Taps the button labelled `label` (a picker needs `date`).
pub fn tap(chat: &mut Chat, outcome: &Outcome, label: &str, date: Option<NaiveDate>) -> Outcome {
    match button(outcome, label) {
        Action::Message { text, .. } => chat.text(&text),
        Action::Postback { data, .. } => chat.postback(&data, None),
        Action::DatePicker { data, .. } => chat.postback(&data, date),
    }
}

/// The day most conversation tests take place on.
pub fn today() -> NaiveDate {
    d(2027, 1, 10)
}

/// An active pregnancy registered on 2026-10-01.
pub fn pregnancy(id: u32, due: NaiveDate) -> Registration {
    Registration {
        id,
        subject: Subject::Pregnancy { due_date: due },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2026, 10, 1),
    }
}

/// An active child registered on 2026-10-01.
pub fn child(id: u32, birth: NaiveDate) -> Registration {
    Registration {
        id,
        subject: Subject::Child {
            birth_date: birth,
            due_date: None,
        },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2026, 10, 1),
    }
}

/// A household that agreed to the current notice on 2026-10-01, with these registrations.
pub fn consented_household(registrations: Vec<Registration>) -> Household {
    let mut household = Household::new(municipality(), user());
    household.registrations = registrations;
    household.consent = Some(Consent {
        policy_version: POLICY.to_owned(),
        agreed_on: d(2026, 10, 1),
    });
    household
}

/// The button labels of a reply, in order.
pub fn labels(outcome: &Outcome) -> Vec<String> {
    buttons(outcome)
        .iter()
        .map(|a| match a {
            Action::Message { label, .. }
            | Action::Postback { label, .. }
            | Action::DatePicker { label, .. } => label.clone(),
        })
        .collect()
}
