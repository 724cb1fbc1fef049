//! Table tests of the daily plan against the sample pack, with hand-checked dates.

mod plan_support;

use kizuna_core::content::TextSource;
use kizuna_core::plan::{plan_household, DailyPlan, PlannedKind};
use kizuna_core::programme::ProgrammeDay;
use kizuna_core::{EndReason, MunicipalityId};
use plan_support::*;

fn plan(h: &kizuna_core::Household, date: chrono::NaiveDate) -> DailyPlan {
    plan_household(h, date, &sample().for_municipality(&h.municipality))
}

fn keys(p: &DailyPlan) -> Vec<String> {
    p.items.iter().map(|i| i.content_key()).collect()
}

#[test]
fn maternity_stages_across_month_year_and_leap_boundaries() {
    // (due date, date, expected content keys) — every date hand-checked.
    let cases: &[(_, _, &[&str])] = &[
        // 4w0d = due − 252 days: 2027-01-05 − 252 = 2026-04-28 (crosses a year end backwards).
        (d(2027, 1, 5), d(2026, 4, 27), &[]),
        (d(2027, 1, 5), d(2026, 4, 28), &["maternity/4w0d"]),
        // 5 days before the due date: day 275 = 39w2d.
        (d(2027, 1, 5), d(2026, 12, 31), &["maternity/39w2d"]),
        (d(2027, 1, 5), d(2027, 1, 1), &["maternity/39w3d"]),
        // 2028 is a leap year: due 2028-03-01, so 2028-02-29 is day 279 = 39w6d.
        (d(2028, 3, 1), d(2028, 2, 29), &["maternity/39w6d"]),
        (d(2028, 3, 1), d(2028, 3, 1), &["maternity/40w0d"]),
        // Due date in the past: 2027-05-01 + 9 days = 41w2d; + 13 = 41w6d; + 14 = closing.
        (d(2027, 5, 1), d(2027, 5, 10), &["maternity/41w2d"]),
        (d(2027, 5, 1), d(2027, 5, 14), &["maternity/41w6d"]),
        (d(2027, 5, 1), d(2027, 5, 15), &["closing"]),
        (d(2027, 5, 1), d(2027, 5, 16), &[]),
        (d(2027, 5, 1), d(2028, 1, 1), &[]),
    ];
    for &(due, date, expected) in cases {
        // Registered long before, so window notes (20w–23w) are not in play at these stages.
        let h = household(vec![pregnancy(1, due, d(2026, 1, 1))]);
        assert_eq!(keys(&plan(&h, date)), expected, "due {due}, on {date}");
    }
}

#[test]
fn child_days_across_month_ends_and_the_schedule() {
    let cases: &[(_, _, &[&str])] = &[
        // Born 31 January: day 100 is 2027-05-11 (Feb has 28 days in 2027).
        (d(2027, 1, 31), d(2027, 1, 31), &["child/0"]),
        (d(2027, 1, 31), d(2027, 3, 1), &["child/29"]),
        (d(2027, 1, 31), d(2027, 5, 11), &["child/100"]),
        // Days 101 and 102 have no message; 103 does (every 3 days to the 1st birthday).
        (d(2027, 1, 31), d(2027, 5, 12), &[]),
        (d(2027, 1, 31), d(2027, 5, 13), &[]),
        (d(2027, 1, 31), d(2027, 5, 14), &["child/103"]),
        (d(2027, 1, 31), d(2027, 1, 30), &[]),
    ];
    for &(birth, date, expected) in cases {
        let h = household(vec![child(1, birth)]);
        assert_eq!(keys(&plan(&h, date)), expected, "born {birth}, on {date}");
    }
}

#[test]
fn birth_before_the_due_date_counts_from_the_birth() {
    // Due 2027-04-10, born three weeks early on 2027-03-20: day 0 is the birth date.
    let mut c = child(1, d(2027, 3, 20));
    c.subject = kizuna_core::Subject::Child {
        birth_date: d(2027, 3, 20),
        due_date: Some(d(2027, 4, 10)),
    };
    let h = household(vec![c]);
    assert_eq!(keys(&plan(&h, d(2027, 3, 20))), ["child/0"]);
    assert_eq!(keys(&plan(&h, d(2027, 4, 10))), ["child/21"]);
}

#[test]
fn third_birthday_ends_the_programme_with_the_towns_message() {
    // 2027-06-15 → 2030-06-15 is 1096 days (2028-02-29 in between): day 1095 is 2030-06-14.
    let h = household(vec![child(1, d(2027, 6, 15))]);
    // The last scheduled day: 742 + 25×14 = 1092 = 2030-06-11.
    assert_eq!(keys(&plan(&h, d(2030, 6, 11))), ["child/1092"]);
    assert!(
        plan(&h, d(2030, 6, 1)).is_empty(),
        "day 1082 is not scheduled"
    );
    assert!(
        plan(&h, d(2030, 6, 14)).is_empty(),
        "day 1095 is not scheduled"
    );
    let birthday = plan(&h, d(2030, 6, 15));
    assert_eq!(keys(&birthday), ["municipality/birthday/3"]);
    let text = birthday.messages[0].text_body();
    assert!(
        text.contains("3歳のお誕生日") && text.ends_with("（きずな町より）"),
        "{text}"
    );
    assert!(plan(&h, d(2030, 6, 16)).is_empty());
}

#[test]
fn leap_day_child_celebrates_on_28_february() {
    let h = household(vec![child(1, d(2028, 2, 29))]);
    assert_eq!(keys(&plan(&h, d(2029, 2, 28))), ["municipality/birthday/1"]);
    assert!(keys(&plan(&h, d(2029, 3, 1))).is_empty());
    // 3rd birthday 2031-02-28 (1095 days): the programme ends on 2031-02-27.
    assert_eq!(keys(&plan(&h, d(2031, 2, 28))), ["municipality/birthday/3"]);
}

#[test]
fn pregnancy_and_older_child_merge_into_one_labelled_push() {
    // Registration 1: child born 2026-05-10 (1st birthday 2027-05-10).
    // Registration 2: pregnancy due 2027-05-01 → 2027-05-10 is 41w2d.
    let h = household(vec![
        child(1, d(2026, 5, 10)),
        pregnancy(2, d(2027, 5, 1), d(2026, 10, 1)),
    ]);
    // 2027-04-30: child day 355 (103 + 84×3) and 39w6d, in registration order.
    let p = plan(&h, d(2027, 4, 30));
    assert_eq!(keys(&p), ["child/355", "maternity/39w6d"]);
    let texts: Vec<&str> = p.messages.iter().map(|m| m.text_body()).collect();
    assert!(texts[0].starts_with("【生後11か月】\n"), "{}", texts[0]);
    assert!(texts[1].starts_with("【妊娠39週6日】\n"), "{}", texts[1]);

    // 2027-05-01 (child day 356 is not scheduled): the pregnancy's message, then きずな町's May
    // event note, which belongs to the household (no label) and goes out on the first day of
    // its window on which the household gets a message.
    let p = plan(&h, d(2027, 5, 1));
    assert_eq!(keys(&p), ["maternity/40w0d", "note/kodomo-festa-2027"]);
    let texts: Vec<&str> = p.messages.iter().map(|m| m.text_body()).collect();
    assert!(texts[0].starts_with("【妊娠40週0日】\n"), "{}", texts[0]);
    assert!(texts[1].starts_with("5月16日"), "{}", texts[1]);
    assert!(texts[1].ends_with("（きずな町より）"));
    assert!(p.items[1].registration.is_none());

    // 2027-05-10: day 365 is not a scheduled child day, but it is the 1st birthday.
    let p = plan(&h, d(2027, 5, 10));
    assert_eq!(keys(&p), ["maternity/41w2d", "municipality/birthday/1"]);
    let texts: Vec<&str> = p.messages.iter().map(|m| m.text_body()).collect();
    assert!(texts[0].starts_with("【妊娠41週2日】\n"), "{}", texts[0]);
    assert!(texts[1].starts_with("【1歳】\n"), "{}", texts[1]);
    assert!(texts[1].ends_with("（きずな町より）"));
    assert!(matches!(
        p.items[1].kind,
        PlannedKind::Birthday {
            age: 1,
            source: TextSource::Municipality
        }
    ));
}

#[test]
fn twins_are_one_message_naming_both() {
    let mut r = child(1, d(2027, 1, 10));
    r.baby_count = 2;
    // Day 12 of the sample pack speaks of {baby}: for twins, 「ふたごの赤ちゃん」.
    let p = plan(&household(vec![r]), d(2027, 1, 22));
    assert_eq!(p.messages.len(), 1);
    assert!(
        p.messages[0].text_body().contains("ふたごの赤ちゃん"),
        "{:?}",
        p.messages
    );
}

#[test]
fn loss_stop_pause_and_unfollow_silence_messages() {
    let due = d(2027, 5, 1);
    let lost = ended(
        pregnancy(1, due, d(2026, 10, 1)),
        EndReason::Loss,
        d(2026, 12, 1),
    );
    let h = household(vec![lost.clone()]);
    for date in [d(2026, 12, 2), d(2027, 5, 1), d(2027, 5, 15), d(2028, 5, 1)] {
        assert!(plan(&h, date).is_empty(), "{date}");
    }
    // A lost child gets no birthday message either.
    let lost_child = ended(child(1, d(2026, 5, 10)), EndReason::Loss, d(2026, 6, 1));
    assert!(plan(&household(vec![lost_child]), d(2027, 5, 10)).is_empty());
    // Stopping one registration leaves the other.
    let stopped = ended(
        child(2, d(2026, 5, 10)),
        EndReason::StoppedByParent,
        d(2026, 6, 1),
    );
    let h = household(vec![stopped, pregnancy(3, due, d(2026, 10, 1))]);
    // 2027-04-01 is 30 days before the due date: day 250 = 35w5d.
    let p = plan(&h, d(2027, 4, 1));
    assert_eq!(keys(&p), ["maternity/35w5d"]);
    assert!(
        !p.messages[0].text_body().starts_with('【'),
        "a single active registration needs no label"
    );
    let mut paused = household(vec![pregnancy(1, due, d(2026, 10, 1))]);
    paused.paused = true;
    assert!(plan(&paused, d(2027, 4, 1)).is_empty());
    let mut unfollowed = household(vec![pregnancy(1, due, d(2026, 10, 1))]);
    unfollowed.following = false;
    assert!(plan(&unfollowed, d(2027, 4, 1)).is_empty());
}

#[test]
fn more_than_five_texts_are_combined_into_five_objects() {
    let regs = (1..=7)
        .map(|id| pregnancy(id, d(2027, 5, 1), d(2026, 1, 1)))
        .collect();
    let p = plan(&household(regs), d(2027, 4, 1));
    assert_eq!(p.messages.len(), 5);
    assert_eq!(p.items.len(), 7);
    assert!(p.dropped.is_empty());
    let combined = p
        .messages
        .iter()
        .filter(|m| m.text_body().contains("\n\n【"))
        .count();
    assert_eq!(combined, 2, "two pairs combined");
}

#[test]
fn window_notes_fire_once_on_the_first_scheduled_day() {
    // Four-month check window: child days 120–150. Registered at birth, the first scheduled day
    // in the window is 121 (103 + 6×3); registered at day 130, it is day 130.
    for (registered_after, expected_day) in [(0u64, 121u16), (130, 130), (149, 151)] {
        let mut r = child(1, d(2027, 1, 10));
        r.registered_on = d(2027, 1, 10) + chrono::Days::new(registered_after);
        let h = household(vec![r]);
        let fired: Vec<u16> = (0..=200u16)
            .filter(|&day| {
                let p = plan(&h, d(2027, 1, 10) + chrono::Days::new(u64::from(day)));
                keys(&p).contains(&"note/four-month-checkup".to_owned())
            })
            .collect();
        let expected: Vec<u16> = if expected_day <= 150 {
            vec![expected_day]
        } else {
            vec![]
        };
        assert_eq!(fired, expected, "registered on day {registered_after}");
    }
}

#[test]
fn municipality_without_overlay_gets_base_texts_and_no_signature() {
    let mut h = household(vec![child(1, d(2026, 5, 10))]);
    h.municipality = MunicipalityId::parse("other-town").unwrap();
    let p = plan(&h, d(2027, 5, 10));
    assert_eq!(keys(&p), ["birthday/1"]);
    assert!(!p.messages[0].text_body().contains("より）"));
    // {municipality} falls back to a neutral phrase.
    let p = plan(&h, d(2026, 5, 12));
    assert!(!p.messages[0].text_body().contains("きずな町"));
}

#[test]
fn every_scheduled_child_day_yields_exactly_one_programme_message() {
    let birth = d(2027, 3, 1); // 3rd birthday 2030-03-01, 1096 days later
    let h = household(vec![child(1, birth)]);
    let library = sample();
    let scheduled: Vec<u16> = library.scheduled_child_days().collect();
    let mut seen = Vec::new();
    for date in birth.iter_days().take_while(|&x| x <= d(2030, 3, 1)) {
        for item in plan(&h, date).items {
            if let PlannedKind::Programme {
                day: ProgrammeDay::Child { age_days },
            } = item.kind
            {
                seen.push(age_days);
            }
        }
    }
    assert_eq!(seen, scheduled);
}

#[test]
fn a_child_past_the_programme_does_not_cause_labels() {
    // The older child's programme ended with the 3rd birthday on 2026-01-01.
    let h = household(vec![
        child(1, d(2023, 1, 1)),
        pregnancy(2, d(2027, 5, 1), d(2026, 10, 1)),
    ]);
    let p = plan(&h, d(2027, 4, 30));
    assert_eq!(keys(&p), ["maternity/39w6d"]);
    assert!(!p.messages[0].text_body().starts_with('【'));
}
