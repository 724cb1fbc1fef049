//! Property tests of programmes and the daily plan, against the sample pack.

mod plan_support;

use chrono::{Days, NaiveDate};
use kizuna_core::message::{utf16_len, MAX_MESSAGES_PER_REQUEST, MAX_TEXT_UTF16};
use kizuna_core::plan::{plan_household, PlannedKind};
use kizuna_core::programme::{programme_day, ProgrammeDay};
use kizuna_core::{EndReason, Registration, RegistrationStatus, Subject};
use plan_support::*;
use proptest::prelude::*;

fn date_strategy() -> impl Strategy<Value = NaiveDate> {
    // 2024-01-01 .. ~2034: several leap years and every month boundary.
    (0u64..3800).prop_map(|n| d(2024, 1, 1) + Days::new(n))
}

fn registration_strategy() -> impl Strategy<Value = Registration> {
    (any::<bool>(), date_strategy(), 1u8..=3, 0u8..4, 0u64..400).prop_map(
        |(pregnant, anchor, babies, status, registered_before)| {
            let subject = if pregnant {
                Subject::Pregnancy { due_date: anchor }
            } else {
                Subject::Child {
                    birth_date: anchor,
                    due_date: None,
                }
            };
            let status = match status {
                0 => RegistrationStatus::Ended {
                    reason: EndReason::Loss,
                    on: anchor,
                },
                1 => RegistrationStatus::Ended {
                    reason: EndReason::StoppedByParent,
                    on: anchor,
                },
                _ => RegistrationStatus::Active,
            };
            Registration {
                id: 0,
                subject,
                baby_count: babies,
                status,
                registered_on: anchor - Days::new(registered_before),
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every day of a pregnancy window yields exactly one maternity stage, the right one.
    #[test]
    fn each_pregnancy_day_has_exactly_one_stage(due in date_strategy(), day in 28u16..=293) {
        let date = due - Days::new(280) + Days::new(u64::from(day));
        let h = household(vec![pregnancy(1, due, due - Days::new(400))]);
        let p = plan_household(&h, date, &sample().for_municipality(&h.municipality));
        let stages: Vec<_> = p.items.iter().filter_map(|i| match i.kind {
            PlannedKind::Programme { day: ProgrammeDay::Maternity { gestational_day } } => Some(gestational_day),
            _ => None,
        }).collect();
        prop_assert_eq!(stages, vec![day]);
        // The text is that stage's own text of the pack.
        let key = format!("maternity/{}w{}d", day / 7, day % 7);
        prop_assert_eq!(p.items[0].content_key(), key);
    }

    /// Outside the programme window nothing is ever sent.
    #[test]
    fn nothing_outside_the_window(anchor in date_strategy(), offset in 1u64..2000, before in any::<bool>()) {
        // Pregnancy: window is due−252 ..= due+14 (closing).
        let p_date = if before { anchor - Days::new(252 + offset) } else { anchor + Days::new(14 + offset) };
        let h = household(vec![pregnancy(1, anchor, anchor - Days::new(400))]);
        prop_assert!(plan_household(&h, p_date, &sample().for_municipality(&h.municipality)).is_empty());
        // Child: before birth, or after the 3rd birthday.
        let c_date = if before { anchor - Days::new(offset) } else { anchor + Days::new(1096 + offset) };
        let h = household(vec![child(1, anchor)]);
        prop_assert!(plan_household(&h, c_date, &sample().for_municipality(&h.municipality)).is_empty());
    }

    /// Any household, any day: one push of at most five objects, each within LINE's limit;
    /// nothing for ended registrations; nothing at all for paused or unfollowed households.
    #[test]
    fn a_household_gets_at_most_one_push_of_five_objects(
        mut regs in proptest::collection::vec(registration_strategy(), 0..8),
        date in date_strategy(),
        paused in proptest::bool::weighted(0.1),
        following in proptest::bool::weighted(0.9),
    ) {
        for (i, r) in regs.iter_mut().enumerate() {
            r.id = i as u32 + 1;
        }
        let mut h = household(regs.clone());
        h.paused = paused;
        h.following = following;
        let p = plan_household(&h, date, &sample().for_municipality(&h.municipality));
        prop_assert!(p.messages.len() <= MAX_MESSAGES_PER_REQUEST);
        prop_assert_eq!(p.messages.is_empty(), p.items.is_empty());
        prop_assert!(p.missing.is_empty());
        prop_assert!(p.dropped.is_empty());
        for m in &p.messages {
            prop_assert!(utf16_len(m.text_body()) <= MAX_TEXT_UTF16);
            prop_assert!(!m.text_body().contains('{'), "unrendered placeholder: {}", m.text_body());
        }
        if paused || !following {
            prop_assert!(p.is_empty());
        }
        for item in &p.items {
            if let Some(id) = item.registration {
                let reg = &regs[id as usize - 1];
                prop_assert!(reg.is_active(), "item for ended registration {id}");
            }
        }
        // One programme message per active registration that is on a scheduled day.
        let programme_items = p.items.iter().filter(|i| matches!(i.kind, PlannedKind::Programme { .. })).count();
        let library = sample();
        let content = library.for_municipality(&h.municipality);
        let expected = if paused || !following { 0 } else {
            regs.iter().filter(|r| r.is_active()).filter(|r| match programme_day(&r.subject, date) {
                Some(ProgrammeDay::Child { age_days }) => content.is_child_day_scheduled(age_days),
                Some(_) => true,
                None => false,
            }).count()
        };
        prop_assert_eq!(programme_items, expected);
        // A survey's invitation: at most one, the last object (the only one with buttons).
        let surveys = p.items.iter().filter(|i| matches!(i.kind, PlannedKind::Survey { .. })).count();
        prop_assert!(surveys <= 1);
        if surveys == 1 {
            let last_is_survey = matches!(p.items.last().map(|i| &i.kind), Some(PlannedKind::Survey { .. }));
            prop_assert!(last_is_survey, "the invitation is the last item");
            prop_assert!(programme_items > 0, "an invitation only rides on a programme message");
        }
        for (i, m) in p.messages.iter().enumerate() {
            let has_buttons = matches!(m, kizuna_core::Message::Text { quick_reply: Some(_), .. });
            let last = i + 1 == p.messages.len();
            prop_assert_eq!(has_buttons, surveys == 1 && last);
        }
    }

    /// A registration ended by a loss never yields anything, whatever the date.
    #[test]
    fn loss_never_yields_anything(reg in registration_strategy(), date in date_strategy()) {
        let lost = ended(reg, EndReason::Loss, date);
        let mut lost = lost;
        lost.id = 1;
        let h = household(vec![lost]);
        prop_assert!(plan_household(&h, date, &sample().for_municipality(&h.municipality)).is_empty());
    }
}
