//! Properties of the conversation over arbitrary households and events: it never panics, every
//! outcome stays within LINE's limits, nothing it does brings an ended registration back, and
//! nothing is registered without the parent's consent to the town's current privacy notice.

mod common;
mod plan_support;

use chrono::NaiveDate;
use common::*;
use kizuna_core::content::ContentLibrary;
use kizuna_core::conversation::{
    respond, Context, HouseholdChange, Inbound, Outcome, MAX_ACTIVE_REGISTRATIONS,
};
use kizuna_core::{
    Consent, EndReason, Household, Language, PendingQuestion, Registration, RegistrationStatus,
    Subject,
};
use proptest::prelude::*;

fn date_between(from: NaiveDate, to: NaiveDate) -> impl Strategy<Value = NaiveDate> {
    (0..=(to - from).num_days()).prop_map(move |n| from + chrono::Duration::days(n))
}

fn stored_date() -> impl Strategy<Value = NaiveDate> {
    date_between(d(2018, 1, 1), d(2040, 12, 31))
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        stored_date().prop_map(|due_date| Subject::Pregnancy { due_date }),
        (stored_date(), proptest::option::of(stored_date())).prop_map(|(birth_date, due_date)| {
            Subject::Child {
                birth_date,
                due_date,
            }
        }),
    ]
}

fn status() -> impl Strategy<Value = RegistrationStatus> {
    prop_oneof![
        3 => Just(RegistrationStatus::Active),
        1 => (prop_oneof![Just(EndReason::Loss), Just(EndReason::StoppedByParent)], stored_date())
            .prop_map(|(reason, on)| RegistrationStatus::Ended { reason, on }),
    ]
}

/// Notice versions: the current one ("1" unless the context says otherwise), an older one and
/// a newer one, and one too long to show.
fn policy_version() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("2".to_owned()),
        Just("v".repeat(400)),
    ]
}

fn consent() -> impl Strategy<Value = Option<Consent>> {
    proptest::option::of((policy_version(), stored_date()).prop_map(
        |(policy_version, agreed_on)| Consent {
            policy_version,
            agreed_on,
        },
    ))
}

fn pending() -> impl Strategy<Value = Option<PendingQuestion>> {
    let id = 0u32..9;
    proptest::option::of(prop_oneof![
        Just(PendingQuestion::NewRegistrationDate),
        Just(PendingQuestion::NewDueDate),
        Just(PendingQuestion::NewBirthDate),
        id.clone()
            .prop_map(|registration| PendingQuestion::ChangedDate { registration }),
        id.clone()
            .prop_map(|registration| PendingQuestion::BirthDate { registration }),
        Just(PendingQuestion::DeleteConfirmation),
        proptest::option::of(id)
            .prop_map(|registration| PendingQuestion::LossConfirmation { registration }),
        Just(PendingQuestion::ResumeAfterRefollow),
        policy_version().prop_map(|policy_version| PendingQuestion::Consent { policy_version }),
        policy_version()
            .prop_map(|policy_version| PendingQuestion::NewPolicyConsent { policy_version }),
    ])
}

fn household() -> impl Strategy<Value = Option<Household>> {
    let registrations =
        proptest::collection::vec((subject(), 1u8..=3, status(), stored_date()), 0..8);
    proptest::option::of(
        (
            registrations,
            any::<bool>(),
            any::<bool>(),
            pending(),
            consent(),
            0u64..1000,
            proptest::sample::select(&Language::ALL[..]),
        )
            .prop_map(
                |(regs, paused, following, pending, consent, version, language)| {
                    let mut h = Household::new(municipality(), user());
                    h.registrations = regs
                        .into_iter()
                        .enumerate()
                        .map(
                            |(i, (subject, baby_count, status, registered_on))| Registration {
                                id: i as u32 + 1,
                                subject,
                                baby_count,
                                status,
                                registered_on,
                            },
                        )
                        .collect();
                    h.paused = paused;
                    h.following = following;
                    h.unfollowed_on = (!following).then(|| d(2026, 1, 1));
                    h.pending = pending;
                    h.consent = consent;
                    h.version = version;
                    h.language = language;
                    h
                },
            ),
    )
}

const WORDS: &[&str] = &[
    "登録内容",
    "変更",
    "生まれました",
    "産まれました",
    "追加",
    "停止",
    "再開",
    "削除",
    "削除する",
    "配信をすべて終了",
    "配信をすべて停止",
    "やめておく",
    "ヘルプ",
    "ﾍﾙﾌﾟ",
    "　ヘルプ　",
    "個人情報",
    "プライバシー",
    "個人情報の取り扱い",
    "登録",
    "今日のメッセージ",
    "きょうの メッセージ",
    "言語",
    "language",
    "Help",
    "status",
    "stop",
    "Resume",
    "Delete",
    "Yes, delete",
    "End all",
    "Cancel",
    "Privacy",
    "とうろく ないよう",
    "さくじょ する",
    "ぜんぶ おわる",
    "Today",
    "2027/5/1",
    "令和9年5月1日",
    "R9.5.1",
    "H31.4.30",
    "5月1日",
    "2/29",
    "2/30",
    "13月1日",
    "2027年5月",
    "予定日は2027/5/1です",
    "20270501",
    "12/25",
    "こんにちは",
    "",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(WORDS).prop_map(str::to_owned),
        "\\PC{0,30}",
        "[0-9０-９/年月日元令和RH .ー-]{0,20}",
        // A very long message must not produce a too-long reply.
        Just("あ".repeat(6000)),
    ]
}

fn postback_data() -> impl Strategy<Value = String> {
    let id = 0u32..12;
    prop_oneof![
        Just("kizuna:v1:date:due".to_owned()),
        Just("kizuna:v1:date:birth".to_owned()),
        id.clone()
            .prop_map(|i| format!("kizuna:v1:date:change:{i}")),
        id.clone().prop_map(|i| format!("kizuna:v1:date:born:{i}")),
        (stored_date(), any::<bool>()).prop_map(|(date, due)| format!(
            "kizuna:v1:set:{}:{}",
            if due { "due" } else { "birth" },
            date.format("%Y-%m-%d")
        )),
        id.clone().prop_map(|i| format!("kizuna:v1:change:{i}")),
        id.clone().prop_map(|i| format!("kizuna:v1:born:{i}")),
        (id, 0u8..5).prop_map(|(i, n)| format!("kizuna:v1:babies:{i}:{n}")),
        Just("kizuna:v1:resume".to_owned()),
        Just("kizuna:v1:delete".to_owned()),
        Just("kizuna:v1:end-all".to_owned()),
        Just("kizuna:v1:cancel".to_owned()),
        Just("kizuna:v1:consent:agree".to_owned()),
        Just("kizuna:v1:consent:decline".to_owned()),
        Just("kizuna:v1:lang:ja".to_owned()),
        Just("kizuna:v1:lang:ja-easy".to_owned()),
        Just("kizuna:v1:lang:en".to_owned()),
        "kizuna:\\PC{0,20}",
        "\\PC{0,20}",
    ]
}

fn picker_date() -> impl Strategy<Value = Option<NaiveDate>> {
    proptest::option::of(prop_oneof![
        8 => date_between(d(2015, 1, 1), d(2045, 12, 31)),
        1 => Just(NaiveDate::MIN),
        1 => Just(NaiveDate::MAX),
    ])
}

fn inbound() -> impl Strategy<Value = Inbound> {
    prop_oneof![
        1 => any::<bool>().prop_map(|unblocked| Inbound::Follow { unblocked }),
        1 => Just(Inbound::Unfollow),
        4 => text().prop_map(Inbound::Text),
        4 => (postback_data(), picker_date()).prop_map(|(data, date)| Inbound::Postback { data, date }),
    ]
}

/// The town's side of consent: its policy URL (none, a real one, one far too long for a
/// message) and its current notice version.
#[derive(Debug, Clone)]
struct Policy {
    url: Option<String>,
    version: String,
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![
            Just(None),
            Just(Some(PRIVACY_URL.to_owned())),
            Just(Some(format!("https://example.jp/{}", "a".repeat(6000)))),
        ],
        policy_version(),
    )
        .prop_map(|(url, version)| Policy { url, version })
}

fn current_policy() -> Policy {
    Policy {
        url: Some(PRIVACY_URL.to_owned()),
        version: POLICY.to_owned(),
    }
}

fn run(
    existing: Option<&Household>,
    inbound: &Inbound,
    today: NaiveDate,
    hour: u8,
    policy: &Policy,
) -> Outcome {
    run_with(existing, inbound, today, hour, policy, None)
}

/// As [`run`], with the content the webhook loaded (今日のメッセージ plans from it).
fn run_with(
    existing: Option<&Household>,
    inbound: &Inbound,
    today: NaiveDate,
    hour: u8,
    policy: &Policy,
    content: Option<&ContentLibrary>,
) -> Outcome {
    let ctx = Context {
        today,
        municipality_name: TOWN,
        delivery_hour: hour,
        privacy_url: policy.url.as_deref(),
        privacy_policy_version: &policy.version,
        content,
    };
    respond(existing, &municipality(), &user(), inbound, &ctx)
}

fn is_postback(inbound: &Inbound, expected: &str) -> bool {
    matches!(inbound, Inbound::Postback { data, .. } if data == expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_event_on_any_household_keeps_the_invariants(
        existing in household(),
        inbound in inbound(),
        today in date_between(d(2020, 1, 1), d(2035, 12, 31)),
        hour in 0u8..24,
        policy in policy(),
        with_content in any::<bool>(),
    ) {
        let content = with_content.then(plan_support::sample);
        let outcome = run_with(existing.as_ref(), &inbound, today, hour, &policy, content);
        assert_invariants(&outcome);

        if let HouseholdChange::Save(saved) = &outcome.household {
            prop_assert_eq!(&saved.user, &user());
            prop_assert_eq!(&saved.municipality, &municipality());
            // The caller owns the version (conditional write); the conversation never bumps it.
            prop_assert_eq!(saved.version, existing.as_ref().map_or(0, |h| h.version));
            let before = existing.as_ref().map_or(0, |h| h.active_registrations().count());
            prop_assert!(saved.active_registrations().count() <= before.max(MAX_ACTIVE_REGISTRATIONS));
            if let Some(existing) = &existing {
                // Nothing brings an ended registration back, or forgets one.
                for old in existing.registrations.iter().filter(|r| !r.is_active()) {
                    prop_assert_eq!(saved.registration(old.id), Some(old));
                }
                // A registration is never silently dropped.
                prop_assert!(saved.registrations.len() >= existing.registrations.len());
            }
            // Everything the conversation registers itself is plausible for today.
            let known: Vec<u32> = existing.iter().flat_map(|h| h.registrations.iter().map(|r| r.id)).collect();
            for new in saved.registrations.iter().filter(|r| !known.contains(&r.id)) {
                prop_assert_eq!(new.registered_on, today);
                prop_assert!(new.is_active());
            }
            // Without consent to the current notice, no date is stored that was not stored
            // before: no new registration, no changed date, no baby count.
            if !saved.has_consented_to(&policy.version) {
                for reg in &saved.registrations {
                    let old = existing.as_ref().and_then(|h| h.registration(reg.id));
                    prop_assert!(
                        old.is_some_and(|old| old.subject == reg.subject && old.baby_count == reg.baby_count),
                        "stored without consent: {:?}", reg
                    );
                }
            }
            // Consent is recorded only by the agree button, as given today to this version.
            let before = existing.as_ref().and_then(|h| h.consent.clone());
            if saved.consent != before {
                prop_assert!(is_postback(&inbound, "kizuna:v1:consent:agree"));
                prop_assert_eq!(
                    saved.consent.clone(),
                    Some(Consent { policy_version: policy.version.clone(), agreed_on: today })
                );
            }
        }
        if outcome.household == HouseholdChange::Delete {
            prop_assert!(existing.is_some());
            // Only 削除する (typed in any language, or tapped, while asked) or 同意しない to a
            // new notice erase.
            let pending = existing.as_ref().and_then(|h| h.pending.clone());
            let typed_delete = matches!(&inbound, Inbound::Text(text)
                if kizuna_core::conversation::Command::parse(text)
                    == Some(kizuna_core::conversation::Command::DeleteConfirm));
            let asked_delete = pending == Some(PendingQuestion::DeleteConfirmation)
                && (typed_delete || is_postback(&inbound, "kizuna:v1:delete"));
            let declined = matches!(pending, Some(PendingQuestion::NewPolicyConsent { .. }))
                && is_postback(&inbound, "kizuna:v1:consent:decline");
            prop_assert!(asked_delete || declined, "erased by {:?}", inbound);
        }
        if matches!(inbound, Inbound::Unfollow) {
            prop_assert!(outcome.replies.is_empty());
        }
    }

    #[test]
    fn ending_everything_leaves_nothing_active_and_nothing_revives_it(
        existing in household(),
        later in proptest::collection::vec(inbound(), 0..6),
        today in date_between(d(2020, 1, 1), d(2035, 12, 31)),
    ) {
        let mut household = existing;
        let apply = |household: &mut Option<Household>, inbound: &Inbound| {
            let outcome = run(household.as_ref(), inbound, today, 20, &current_policy());
            assert_invariants(&outcome);
            match outcome.household {
                HouseholdChange::Unchanged => false,
                HouseholdChange::Save(h) => {
                    *household = Some(h);
                    false
                }
                HouseholdChange::Delete => {
                    *household = None;
                    true
                }
            }
        };
        apply(&mut household, &Inbound::Text("配信をすべて終了".to_owned()));
        apply(&mut household, &Inbound::Postback { data: "kizuna:v1:end-all".to_owned(), date: None });
        let ended: Vec<Registration> = household.iter().flat_map(|h| h.registrations.clone()).collect();
        prop_assert!(ended.iter().all(|r| !r.is_active()));
        prop_assert!(household.as_ref().is_none_or(|h| !h.receives_messages()));
        // Once the parent deletes everything (削除 → 削除する), a later registration starts
        // a new household; until then the ended registrations stay exactly as they were.
        let mut deleted = false;
        for inbound in &later {
            deleted |= apply(&mut household, inbound);
        }
        if let (Some(h), false) = (&household, deleted) {
            for old in &ended {
                prop_assert_eq!(h.registration(old.id), Some(old));
            }
        }
    }

    #[test]
    fn stopping_and_erasing_never_wait_for_consent(
        existing in household(),
        today in date_between(d(2020, 1, 1), d(2035, 12, 31)),
        policy in policy(),
    ) {
        // 停止 pauses whatever the parent's consent.
        let outcome = run(existing.as_ref(), &Inbound::Text("停止".to_owned()), today, 20, &policy);
        let has_active = existing.as_ref().is_some_and(|h| h.active_registrations().next().is_some());
        if has_active {
            let paused = match &outcome.household {
                HouseholdChange::Save(h) => h.paused,
                HouseholdChange::Unchanged => existing.as_ref().unwrap().paused,
                HouseholdChange::Delete => false,
            };
            prop_assert!(paused);
        }
        // 削除 then 削除する erases whatever the parent's consent.
        let asked = run(existing.as_ref(), &Inbound::Text("削除".to_owned()), today, 20, &policy);
        let after = match asked.household {
            HouseholdChange::Save(h) => Some(h),
            HouseholdChange::Unchanged => existing.clone(),
            HouseholdChange::Delete => None,
        };
        let erased = run(after.as_ref(), &Inbound::Text("削除する".to_owned()), today, 20, &policy);
        if existing.is_some() {
            prop_assert_eq!(erased.household, HouseholdChange::Delete);
        }
    }
}
