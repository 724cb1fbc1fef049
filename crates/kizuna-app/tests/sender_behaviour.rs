//! The sender's behaviour on in-memory ports (stores, LINE, clock): the cases of the moto
//! and fake-LINE tests in `tests/tests/fanout.rs` and the chaos suite, in milliseconds each.
//! Deliveries are counted from what the in-memory LINE delivered, not from the sender's
//! report. Each test says what each case gets.

mod support;

use kizuna_app::memory::LineFault;
use kizuna_app::messaging::{MessengerError, MonthlyQuota, PushReceipt};
use kizuna_app::model::{DeliveryState, RunCounts, RunKey, RunRecord, RunStatus, SendJob, Shard};
use kizuna_app::ports::{DeliveryLedger, HouseholdStore, RunRecords, StoreError};
use kizuna_app::sender::{retry_key, SendError, SenderSettings};
use kizuna_core::plan::{plan_household, DailyPlan};
use kizuna_core::{EndReason, Household, RegistrationStatus};
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn job() -> SendJob {
    SendJob {
        municipality: town_id(),
        date: today(),
        shard: Shard::ALL,
        attempt: 0,
    }
}

fn run_key() -> RunKey {
    RunKey {
        municipality: town_id(),
        date: today(),
        shard: 0,
    }
}

async fn run_record(world: &World) -> RunRecord {
    world
        .stores
        .runs
        .get(&run_key())
        .await
        .expect("run record read")
        .expect("a run record")
}

/// What the core plans for `household` today from the sample pack.
fn todays_plan(household: &Household) -> DailyPlan {
    let library = sample_library();
    plan_household(household, today(), &library.for_municipality(&town_id()))
}

/// `count` parents at varied stages (pregnancies and children), numbered from `first`.
async fn parents_at_varied_stages(world: &World, first: u32, count: u32) -> Vec<Household> {
    let mut households = Vec::new();
    for i in 0..count {
        let offset = u64::from(i * 37 % 900);
        let registration = if i % 2 == 0 {
            pregnancy(today() + chrono::Days::new(offset % 250 + 1))
        } else {
            child(today() - chrono::Days::new(offset))
        };
        households.push(world.parent(first + i, vec![registration]).await);
    }
    households
}

/// How many of `households` have a message today.
fn receiving_today(households: &[Household]) -> usize {
    households
        .iter()
        .filter(|h| !todays_plan(h).messages.is_empty())
        .count()
}

/// Every household with a message today received exactly one push, and nobody else any.
fn assert_each_received_once(world: &World, households: &[Household]) {
    let received = world.line.deliveries_by_recipient();
    assert_eq!(received.len(), receiving_today(households), "{received:?}");
    assert!(received.values().all(|&n| n == 1), "{received:?}");
}

/// The run record counts each listed household once: sent or skipped (nothing today).
async fn assert_counted_once(world: &World, households: &[Household]) {
    let record = run_record(world).await;
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(record.counts.sent as usize, receiving_today(households));
    assert_eq!(
        (record.counts.sent + record.counts.skipped) as usize,
        households.len(),
        "{record:?}"
    );
}

#[tokio::test]
async fn each_deliverable_household_receives_todays_plan_once_and_the_others_nothing() {
    // Gets: parents at seven stages (twins, two registrations in one household) one push each,
    // exactly the core's plan, with the delivery's retry key; paused, ended and
    // not-yet-started parents nothing; one counted message per household; the run record
    // Completed with 7 sent and the listed one with nothing today skipped.
    let world = World::new().await;
    let mut twins = child(d(2027, 1, 1));
    twins.baby_count = 2;
    let mut second = child(d(2025, 11, 3));
    second.id = 2;
    let receiving = vec![
        world.parent(1, vec![pregnancy(d(2027, 5, 1))]).await, // 24w1d
        world.parent(2, vec![pregnancy(d(2027, 1, 20))]).await, // 38w4d
        world.parent(3, vec![child(today())]).await,           // born today
        world.parent(4, vec![child(d(2026, 10, 2))]).await,    // day 100
        world.parent(5, vec![child(d(2026, 1, 10))]).await,    // 1st birthday
        world
            .parent(6, vec![pregnancy(d(2027, 6, 1)), second])
            .await,
        world.parent(7, vec![twins]).await,
    ];
    let mut paused = Household::new(town_id(), user(8));
    paused.registrations = vec![child(d(2026, 12, 1))];
    paused.paused = true;
    world.stores.households.save(&paused).await.unwrap();
    let mut lost = pregnancy(d(2027, 5, 1));
    lost.status = RegistrationStatus::Ended {
        reason: EndReason::Loss,
        on: d(2027, 1, 5),
    };
    world.parent(9, vec![lost]).await;
    let too_early = world
        .parent(10, vec![pregnancy(today() + chrono::Days::new(253))])
        .await; // 3w6d

    let report = world
        .sender(quick_settings())
        .run(&job(), None)
        .await
        .unwrap();

    for household in &receiving {
        let plan = todays_plan(household);
        assert!(
            !plan.messages.is_empty(),
            "{} has a message",
            household.user
        );
        let pushes = world.line.deliveries_to(&household.user);
        assert_eq!(pushes.len(), 1, "one push for {}", household.user);
        assert_eq!(pushes[0].messages, plan.messages);
        assert_eq!(
            pushes[0].retry_key,
            retry_key(&town_id(), today(), &household.user)
        );
    }
    for n in [8, 9, 10] {
        assert!(world.line.deliveries_to(&user(n)).is_empty(), "user {n}");
    }
    assert!(todays_plan(&too_early).messages.is_empty());
    assert_eq!(world.line.counted_messages(CHANNEL_ID), 7);
    let expected = RunCounts {
        sent: 7,
        skipped: 1,
        ..RunCounts::default()
    };
    assert_eq!(
        (report.status, report.counts),
        (RunStatus::Completed, expected)
    );
    let record = run_record(&world).await;
    assert_eq!(
        (record.status, record.counts),
        (RunStatus::Completed, expected)
    );
}

#[tokio::test]
async fn a_rerun_of_a_completed_day_sends_nothing_and_counts_nothing() {
    // Gets: a second run of the same job (SQS redelivery, a duplicate schedule, an operator)
    // finds the job done: no push, nothing added to the run record.
    let world = World::new().await;
    let households = parents_at_varied_stages(&world, 100, 12).await;
    let sender = world.sender(quick_settings());
    sender.run(&job(), None).await.unwrap();
    let record = run_record(&world).await;
    let calls = world.line.push_calls().len();

    let again = sender.run(&job(), None).await.unwrap();
    assert_eq!(again.counts, RunCounts::default());
    assert_eq!(again.note.as_deref(), Some("already completed"));
    assert_eq!(world.line.push_calls().len(), calls, "no push at all");
    assert_eq!(run_record(&world).await.counts, record.counts);
    assert_each_received_once(&world, &households);
    assert_counted_once(&world, &households).await;
}

#[tokio::test(start_paused = true)]
async fn rate_limits_and_server_errors_are_retried_with_the_same_retry_key_then_delivered() {
    // Gets: a 429 with Retry-After 2 s is retried after at least 2 s (tokio's paused clock),
    // two 503s are retried; every try of one delivery carries the same retry key; each
    // parent receives one push; nothing is counted failed. An expired token is renewed by
    // the messenger without the sender seeing it.
    let world = World::new().await;
    let first = world.parent(1, vec![pregnancy(d(2027, 5, 1))]).await;
    let second = world.parent(2, vec![child(d(2026, 10, 2))]).await;
    let third = world.parent(3, vec![child(today())]).await;
    let retry_after = Duration::from_secs(2);
    world.line.fail_pushes_to(
        &first.user,
        1,
        LineFault::RateLimited {
            retry_after: Some(retry_after),
        },
    );
    world
        .line
        .fail_pushes_to(&second.user, 2, LineFault::ServerError(503));
    world
        .line
        .fail_pushes_to(&third.user, 1, LineFault::TokenExpired);
    let settings = SenderSettings {
        backoff: kizuna_app::pacing::Backoff::default(),
        ..quick_settings()
    };

    let started = tokio::time::Instant::now();
    let report = world.sender(settings).run(&job(), None).await.unwrap();
    assert!(started.elapsed() >= retry_after, "{:?}", started.elapsed());

    for (household, tries) in [(&first, 2), (&second, 3), (&third, 1)] {
        let calls = world.line.push_calls_to(&household.user);
        assert_eq!(calls.len(), tries, "{calls:?}");
        let key = retry_key(&town_id(), today(), &household.user);
        assert!(calls.iter().all(|c| c.retry_key == key));
        assert!(matches!(
            calls.last().unwrap().answer,
            Ok(PushReceipt::Accepted { .. })
        ));
    }
    assert_eq!(world.line.token_renewals(), 1);
    assert_each_received_once(&world, &[first, second, third]);
    assert_eq!((report.counts.sent, report.counts.failed), (3, 0));
}

#[tokio::test]
async fn a_push_failing_on_every_try_is_recorded_failed_and_sent_by_the_rerun() {
    // Gets: after its 4 tries (all 500) the delivery is in the ledger as a retryable failure,
    // the job fails Incomplete (so SQS redelivers it) and the run record says Failed; the
    // rerun pushes that parent once more (same retry key) and nobody else again.
    let world = World::new().await;
    let households = parents_at_varied_stages(&world, 200, 6).await;
    let unlucky = households
        .iter()
        .find(|h| !todays_plan(h).messages.is_empty())
        .unwrap()
        .user
        .clone();
    world
        .line
        .fail_pushes_to(&unlucky, 4, LineFault::ServerError(500));
    let sender = world.sender(quick_settings());

    let first = sender.run(&job(), None).await;
    assert!(matches!(first, Err(SendError::Incomplete(_))), "{first:?}");
    let entry = world
        .stores
        .ledger
        .get(&town_id(), today(), &unlucky)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        entry.state,
        DeliveryState::Failed {
            reason: "LINE server error (500)".into(),
            retryable: true
        }
    );
    let record = run_record(&world).await;
    assert_eq!(
        (record.status, record.counts.failed),
        (RunStatus::Failed, 1)
    );
    assert!(world.line.deliveries_to(&unlucky).is_empty());

    let rerun = sender.run(&job(), None).await.unwrap();
    assert_eq!(rerun.counts.sent, 1, "only the one left");
    assert_eq!(world.line.push_calls_to(&unlucky).len(), 5);
    assert_each_received_once(&world, &households);
    assert_eq!(
        world
            .stores
            .ledger
            .get(&town_id(), today(), &unlucky)
            .await
            .unwrap()
            .unwrap()
            .attempt,
        2
    );
}

#[tokio::test]
async fn a_parent_who_cannot_be_sent_to_is_recorded_failed_for_good_and_never_tried_again() {
    // Gets: a refused recipient (not a friend / blocked, 400) is tried once, not retried, and
    // recorded as a failure that is not retryable; it does not keep the job open. When the
    // job runs again for another parent's transient failure, the refused one is not pushed.
    let world = World::new().await;
    let refused = world.parent(1, vec![pregnancy(d(2027, 5, 1))]).await;
    let flaky = world.parent(2, vec![child(d(2026, 10, 2))]).await;
    world
        .line
        .fail_pushes_to(&refused.user, usize::MAX, LineFault::not_a_friend());
    world
        .line
        .fail_pushes_to(&flaky.user, 4, LineFault::ServerError(502));
    let sender = world.sender(quick_settings());

    let first = sender.run(&job(), None).await;
    assert!(matches!(first, Err(SendError::Incomplete(_))), "{first:?}");
    assert_eq!(
        world.line.push_calls_to(&refused.user).len(),
        1,
        "not retried"
    );
    let entry = world
        .stores
        .ledger
        .get(&town_id(), today(), &refused.user)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&entry.state, DeliveryState::Failed { retryable: false, reason } if reason.contains("400")),
        "{entry:?}"
    );

    let rerun = sender.run(&job(), None).await.unwrap();
    assert_eq!(rerun.status, RunStatus::Completed);
    assert_eq!(
        world.line.push_calls_to(&refused.user).len(),
        1,
        "not tried again"
    );
    assert!(world.line.deliveries_to(&refused.user).is_empty());
    assert_eq!(world.line.deliveries_to(&flaky.user).len(), 1);
    assert_eq!(
        run_record(&world).await.counts.failed,
        2,
        "each failure on record"
    );
}

#[tokio::test]
async fn a_store_failure_at_any_commit_then_a_rerun_loses_nothing_and_duplicates_nothing() {
    // Gets, for a failed 1st, 2nd and 3rd page commit (pages of 4): the job fails
    // Incomplete; LINE has the uncommitted page's pushes; the rerun resumes at the last
    // committed page, pushes those again with the same retry keys (LINE answers "already
    // accepted") and records them sent: each parent receives one push and is counted once.
    for failing_commit in 1..=3u32 {
        let world = World::new().await;
        let households = parents_at_varied_stages(&world, 300, 14).await;
        let settings = SenderSettings {
            page_size: 4,
            ..quick_settings()
        };
        let sender = world.sender(settings);
        // Ledger calls: the lease, then one commit per page.
        world.stores.ledger.faults.fail_after(
            failing_commit,
            1,
            StoreError::Unavailable("connection reset".into()),
        );

        let first = sender.run(&job(), None).await;
        assert!(
            matches!(&first, Err(SendError::Incomplete(note)) if note.contains("storage failed")),
            "commit {failing_commit}: {first:?}"
        );
        let recorded_sent = world
            .stores
            .ledger
            .list(&town_id(), today())
            .await
            .unwrap()
            .iter()
            .filter(|r| matches!(r.state, DeliveryState::Sent { .. }))
            .count();
        let uncommitted = world.line.deliveries().len() - recorded_sent;

        sender.run(&job(), None).await.unwrap();
        let repeated = world
            .line
            .push_calls()
            .iter()
            .filter(|c| matches!(c.answer, Ok(PushReceipt::AlreadyAccepted { .. })))
            .count();
        assert_eq!(
            repeated, uncommitted,
            "commit {failing_commit}: exactly the uncommitted pushes were made again"
        );
        assert_each_received_once(&world, &households);
        assert_counted_once(&world, &households).await;
    }
}

#[tokio::test]
async fn a_commit_applied_but_its_answer_lost_is_counted_once() {
    // Gets: the ledger applied the page's commit but the sender got an error; the sender
    // finds the commit applied, goes on, and the run completes with every delivery counted
    // once (not zero times, not twice).
    let world = World::new().await;
    let households = parents_at_varied_stages(&world, 400, 10).await;
    world
        .stores
        .ledger
        .lost_commit_answers
        .fail_next(1, StoreError::Unavailable("timeout".into()));
    let settings = SenderSettings {
        page_size: 4,
        ..quick_settings()
    };
    let report = world.sender(settings).run(&job(), None).await.unwrap();
    assert_eq!(report.status, RunStatus::Completed);
    assert_eq!(world.stores.ledger.lost_commit_answers.pending(), 0);
    assert_each_received_once(&world, &households);
    assert_counted_once(&world, &households).await;
}

#[tokio::test]
async fn a_sender_killed_mid_page_and_rerun_after_its_lease_expired_delivers_exactly_once() {
    // Gets, for a sender killed while waiting on LINE after 0, 1, 5 and 9 pushes (pages of 4,
    // one push at a time): a rerun while the dead sender's lease runs is refused
    // (HeldElsewhere); once it expired, the rerun finishes the day: one push each, each
    // household counted once.
    for pushes_before_kill in [0usize, 1, 5, 9] {
        let world = World::new().await;
        let households = parents_at_varied_stages(&world, 500, 20).await;
        assert!(receiving_today(&households) > pushes_before_kill);
        let settings = SenderSettings {
            page_size: 4,
            concurrency: 1,
            ..quick_settings()
        };
        let sender = Arc::new(world.sender(settings));
        world
            .line
            .fail_pushes_after(pushes_before_kill, 1, LineFault::Hang);

        let running = {
            let sender = sender.clone();
            tokio::spawn(async move { sender.run(&job(), None).await })
        };
        while world.line.hanging() == 0 {
            assert!(
                !running.is_finished(),
                "the sender reached the hanging push"
            );
            tokio::task::yield_now().await;
        }
        running.abort();
        assert!(running.await.unwrap_err().is_cancelled());
        assert_eq!(world.line.deliveries().len(), pushes_before_kill);

        let too_soon = sender.run(&job(), None).await;
        assert!(
            matches!(too_soon, Err(SendError::HeldElsewhere)),
            "{too_soon:?}"
        );
        world.clock.advance(chrono::Duration::minutes(6));
        sender.run(&job(), None).await.unwrap();
        assert_each_received_once(&world, &households);
        assert_counted_once(&world, &households).await;
    }
}

#[tokio::test]
async fn a_push_accepted_by_line_whose_answer_was_lost_is_recorded_sent_and_not_repeated() {
    // Gets: LINE delivered the push but the answer was lost (Unavailable); the sender's retry
    // carries the same retry key, LINE answers "already accepted", and the ledger records
    // the delivery sent under LINE's first request id: one push for the parent.
    let world = World::new().await;
    let parent = world.parent(1, vec![pregnancy(d(2027, 5, 1))]).await;
    world
        .line
        .fail_pushes_to(&parent.user, 1, LineFault::AnswerLost);
    let report = world
        .sender(quick_settings())
        .run(&job(), None)
        .await
        .unwrap();

    let calls = world.line.push_calls_to(&parent.user);
    assert_eq!(calls.len(), 2);
    assert!(matches!(
        calls[0].answer,
        Err(MessengerError::Unavailable { .. })
    ));
    assert_eq!(calls[0].retry_key, calls[1].retry_key);
    let delivered = world.line.deliveries_to(&parent.user);
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        calls[1].answer,
        Ok(PushReceipt::AlreadyAccepted {
            accepted_request_id: delivered[0].request_id.clone()
        })
    );
    let entry = world
        .stores
        .ledger
        .get(&town_id(), today(), &parent.user)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&entry.state, DeliveryState::Sent { request_id, .. } if *request_id == delivered[0].request_id),
        "{entry:?}"
    );
    assert_eq!(report.counts.sent, 1);
}

#[tokio::test]
async fn the_monthly_quota_stops_the_job_and_counts_who_was_not_sent() {
    // Gets, with a quota of 3 messages known at the start: 3 pushes, the other receiving
    // households recorded not sent for the quota (not_sent_quota), the job ends Ok (a rerun
    // cannot help) with the run Failed and a note. With the quota unreadable at the start,
    // LINE's own refusal stops it the same way.
    for quota_readable in [true, false] {
        let world = World::new().await;
        let households = parents_at_varied_stages(&world, 600, 12).await;
        let receiving = receiving_today(&households) as u64;
        assert!(receiving > 3);
        world
            .line
            .set_monthly_quota(CHANNEL_ID, MonthlyQuota::Limited(3));
        if !quota_readable {
            world
                .line
                .fail_next_quota_reads(1, LineFault::ServerError(500));
        }

        let report = world
            .sender(quick_settings())
            .run(&job(), None)
            .await
            .unwrap();
        assert_eq!(
            world.line.deliveries().len(),
            3,
            "readable: {quota_readable}"
        );
        assert_eq!(report.status, RunStatus::Failed);
        assert_eq!(report.counts.sent, 3);
        assert_eq!(report.counts.not_sent_quota, receiving - 3);
        let record = run_record(&world).await;
        assert_eq!(record.status, RunStatus::Failed);
        assert_eq!(record.counts.not_sent_quota, receiving - 3);
        assert!(
            record
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with("monthly message limit reached")),
            "{record:?}"
        );
    }
}

#[tokio::test]
async fn missing_content_for_one_day_skips_only_those_households_and_is_counted() {
    // Gets: with the 24w1d text missing from the stored pack (uploaded past validation), the
    // parent at 24w1d receives nothing and is counted missing_content; the parents at 24w0d
    // and at a child's day receive theirs; the job completes.
    let world = World::new().await;
    let mut files = sample_files();
    let late = files
        .iter_mut()
        .find(|f| f.path == "base/maternity-late.toml")
        .expect("the sample has the late maternity file");
    let start = late
        .text
        .find("[[maternity]]\nstage = \"24w1d\"")
        .expect("the sample has 24w1d");
    let end = start + late.text[start + 1..].find("[[maternity]]").unwrap() + 1;
    late.text.replace_range(start..end, "");
    world.replace_content(files).await;
    let gap = world.parent(1, vec![pregnancy(d(2027, 5, 1))]).await; // 24w1d
    let fine = world.parent(2, vec![pregnancy(d(2027, 5, 2))]).await; // 24w0d
    let child = world.parent(3, vec![child(d(2026, 12, 1))]).await;

    let report = world
        .sender(quick_settings())
        .run(&job(), None)
        .await
        .unwrap();
    assert_eq!(report.status, RunStatus::Completed);
    assert!(
        world.line.deliveries_to(&gap.user).is_empty(),
        "no text, no push"
    );
    assert_eq!(world.line.deliveries_to(&fine.user).len(), 1);
    assert_eq!(world.line.deliveries_to(&child.user).len(), 1);
    let record = run_record(&world).await;
    assert_eq!((record.counts.missing_content, record.counts.sent), (1, 2));
}

#[tokio::test]
async fn refused_credentials_fail_the_towns_job_and_the_rerun_after_restoring_sends_once() {
    // Gets: LINE refuses the town's token (revoked): the job fails Unauthorized, nothing is
    // delivered, the run record says Failed with the reason; with the credentials accepted
    // again, the rerun delivers to every parent once.
    let world = World::new().await;
    let households = parents_at_varied_stages(&world, 700, 6).await;
    world.line.revoke(CHANNEL_ID);
    let sender = world.sender(quick_settings());

    let refused = sender.run(&job(), None).await;
    assert!(
        matches!(refused, Err(SendError::Unauthorized)),
        "{refused:?}"
    );
    assert!(world.line.deliveries().is_empty());
    let record = run_record(&world).await;
    assert_eq!(record.status, RunStatus::Failed);
    assert!(
        record.note.as_deref().is_some_and(|n| n.contains("401")),
        "{record:?}"
    );

    world.line.restore(CHANNEL_ID);
    sender.run(&job(), None).await.unwrap();
    assert_each_received_once(&world, &households);
}
