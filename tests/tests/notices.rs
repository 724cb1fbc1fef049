//! Town notices (the overlay's `[[note]]`s) through the whole daily fan-out on moto + fake
//! LINE: a notice reaches the households in its window once, as one more bubble of the day's
//! push (≤ 5 objects, 1 counted message), also when the day is run again; and the run records
//! count the households each notice reached, once.

use chrono::{Days, NaiveDate};
use kizuna_app::ports::{HouseholdStore, RunRecords};
use kizuna_aws::compose;
use kizuna_core::content::ContentLibrary;
use kizuna_core::plan::{plan_household, PlannedKind};
use kizuna_core::{
    Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use kizuna_local::LocalStack;
use kizuna_tests::stack::*;
use std::collections::BTreeMap;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()
}

fn registration(subject: Subject, baby_count: u8) -> Registration {
    Registration {
        id: 1,
        subject,
        baby_count,
        status: RegistrationStatus::Active,
        registered_on: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

/// A child on `day` of life today.
fn child_on_day(day: u64, baby_count: u8) -> Registration {
    registration(
        Subject::Child {
            birth_date: today() - Days::new(day),
            due_date: None,
        },
        baby_count,
    )
}

/// A pregnancy on gestational day `day` today.
fn pregnancy_on_day(day: u64) -> Registration {
    registration(
        Subject::Pregnancy {
            due_date: today() + Days::new(280 - day),
        },
        1,
    )
}

async fn save(stack: &LocalStack, town: &MunicipalityId, n: u32, r: Registration, paused: bool) {
    let mut h = Household::new(town.clone(), LineUserId::parse(&user(n)).unwrap());
    h.registrations = vec![r];
    h.paused = paused;
    compose::households(&stack.config, &stack.clients)
        .save(&h)
        .await
        .unwrap();
}

/// Households each notice reached, summed over the day's run records.
async fn notice_counts(stack: &LocalStack) -> BTreeMap<String, u64> {
    let runs = compose::runs(&stack.config, &stack.clients);
    let mut counts = BTreeMap::new();
    for r in runs.list_for_date(today()).await.unwrap() {
        for (id, n) in r.notices {
            *counts.entry(id).or_default() += n;
        }
    }
    counts
}

#[tokio::test]
async fn a_notice_reaches_its_window_once_in_the_days_push_also_when_the_day_is_rerun() {
    let stack = stack_on(today()).await;
    let town = town_id("kizuna-town");
    // The sample overlay: four-month-checkup = child days 120..150 (first scheduled day in
    // it: 121), parents-class = stages 20w0d..23w6d (gestational days 140..167).
    save(&stack, &town, 1, child_on_day(121, 1), false).await; // checkup today
    save(&stack, &town, 2, child_on_day(121, 2), false).await; // twins: one bubble
    save(&stack, &town, 3, child_on_day(124, 1), false).await; // had it on day 121
    save(&stack, &town, 4, child_on_day(121, 1), true).await; // paused: nothing
    save(&stack, &town, 5, pregnancy_on_day(140), false).await; // parents-class today
    save(&stack, &town, 6, pregnancy_on_day(139), false).await; // not yet

    let mut jobs = Vec::new();
    for attempt in 0..2 {
        // The second time: the whole day again (an operator re-run, a duplicate schedule).
        let runs = stack.run_day(today()).await.unwrap();
        assert!(
            runs.iter().all(|r| r.result.is_ok()),
            "attempt {attempt}: {runs:#?}"
        );
        jobs.extend(runs.into_iter().map(|r| r.job));
    }
    // And the send job itself once more, as a redelivered queue message would run it.
    stack.sender.run(&jobs[0], None).await.unwrap();

    let lib = ContentLibrary::load_dir(&content_dir()).unwrap();
    let content = lib.for_municipality(&town);
    let notices_of = |n: u32| -> Vec<String> {
        let pushes = stack.pushes_to(&user(n));
        pushes
            .iter()
            .flatten()
            .filter_map(|m| m["text"].as_str())
            .filter(|t| t.ends_with("（きずな町より）"))
            .map(str::to_owned)
            .collect()
    };
    for (n, expected) in [
        (1, Some("4か月児健診")),
        (2, Some("4か月児健診")),
        (3, None),
        (5, Some("パパママ教室")),
        (6, None),
    ] {
        let pushes = stack.pushes_to(&user(n));
        assert_eq!(pushes.len(), 1, "household {n}: one push over both runs");
        assert!(pushes[0].len() <= 5, "household {n}: {:?}", pushes[0]);
        let notices = notices_of(n);
        match expected {
            Some(words) => {
                assert_eq!(notices.len(), 1, "household {n}: {notices:?}");
                assert!(notices[0].contains(words), "household {n}: {notices:?}");
                // The bubble follows the day's programme message, in the same push.
                assert!(pushes[0].len() >= 2);
            }
            None => assert!(notices.is_empty(), "household {n}: {notices:?}"),
        }
    }
    assert!(stack.pushes_to(&user(4)).is_empty(), "paused");
    // One counted message per household that got a push: the notice bubble costs nothing.
    let pushed = stack.line.recorded_pushes().len() as u64;
    assert_eq!(pushed, 5);
    assert_eq!(
        stack
            .line
            .counted_messages(&stack.towns[0].channel.channel_id),
        pushed
    );
    assert!(stack.line.contract_violations().is_empty());

    // The run records count each notice's households once, re-run included.
    let expected: BTreeMap<String, u64> = [
        ("four-month-checkup".to_owned(), 2),
        ("parents-class".to_owned(), 1),
    ]
    .into();
    assert_eq!(notice_counts(&stack).await, expected);
    // …which is what the plan says (the sender counts what it planned and sent).
    let households = compose::households(&stack.config, &stack.clients);
    let mut planned: BTreeMap<String, u64> = BTreeMap::new();
    for n in [1, 2, 3, 5, 6] {
        let h = households
            .get(&town, &LineUserId::parse(&user(n)).unwrap())
            .await
            .unwrap()
            .unwrap();
        for item in plan_household(&h, today(), &content).items {
            if let PlannedKind::Note { id } = item.kind {
                *planned.entry(id).or_default() += 1;
            }
        }
    }
    assert_eq!(planned, expected);
}
