//! The in-memory stores held to the ports' contract, and their fault hooks.

use super::contract::{self, municipality, receiving, user};
use super::*;
use crate::model::{DeliveryState, RunCounts, RunStatus};
use crate::ports::DeliveryOutcome;
use kizuna_core::testing::date;

// ---------------------------------------------------------------- the contract

#[tokio::test]
async fn households_meet_the_contract() {
    contract::household_saves_are_conditional_on_the_version(&InMemoryHouseholdStore::default())
        .await;
    contract::concurrent_saves_of_one_version_have_one_winner(&InMemoryHouseholdStore::default())
        .await;
    contract::household_deletes_are_conditional_and_idempotent(&InMemoryHouseholdStore::default())
        .await;
    contract::deliverable_pages_list_only_receiving_households(&InMemoryHouseholdStore::default())
        .await;
    contract::shards_split_the_fanout_exactly_once(&InMemoryHouseholdStore::default()).await;
    contract::all_households_of_a_municipality_page_through(&InMemoryHouseholdStore::default())
        .await;
    contract::retention_purge_deletes_only_long_unfollowed_households(
        &InMemoryHouseholdStore::default(),
    )
    .await;
}

#[tokio::test]
async fn the_event_log_meets_the_contract() {
    contract::event_claims_follow_the_idempotency_protocol(&InMemoryWebhookEventLog::default())
        .await;
    contract::done_events_are_found_among_many(&InMemoryWebhookEventLog::default()).await;
    contract::concurrent_claims_of_one_event_have_one_winner(&InMemoryWebhookEventLog::default())
        .await;
}

#[tokio::test]
async fn the_follow_tally_meets_the_contract() {
    contract::follow_events_are_counted_once_per_town_and_month(&InMemoryFollowTally::default())
        .await;
}

#[tokio::test]
async fn the_ledger_meets_the_contract() {
    let stores = InMemoryStores::new();
    contract::shard_leases_commits_and_outcomes(&*stores.ledger, &*stores.runs).await;
    contract::forget_user_removes_one_parent(&*InMemoryStores::new().ledger).await;
    contract::concurrent_lease_claims_have_one_winner(&*InMemoryStores::new().ledger).await;
}

#[tokio::test]
async fn run_records_content_secrets_and_municipalities_meet_the_contract() {
    contract::run_records_count_atomically_and_list(&InMemoryRunRecords::default()).await;
    contract::content_store_round_trip_and_versions(&InMemoryContentStore::default()).await;
    contract::channel_secrets_round_trip(&InMemoryChannelSecrets::default()).await;
    contract::municipality_directory_round_trip(&InMemoryMunicipalityDirectory::default()).await;
}

// ---------------------------------------------------------------- beyond the contract

#[tokio::test]
async fn the_queue_keeps_every_job_in_order_until_taken() {
    let queue = InMemorySendQueue::default();
    let job = |shard: u16| SendJob {
        municipality: municipality("ama-town"),
        date: date(2026, 12, 1),
        shard: Shard::new(shard, 3).unwrap(),
        attempt: 0,
    };
    queue.enqueue(&[job(0), job(1)]).await.unwrap();
    queue.enqueue(&[]).await.unwrap();
    queue.enqueue(&[job(2)]).await.unwrap();
    assert_eq!(queue.jobs(), [job(0), job(1), job(2)]);
    assert_eq!(queue.take(), [job(0), job(1), job(2)]);
    assert!(queue.jobs().is_empty());
}

#[tokio::test]
async fn a_ledger_commit_is_seen_whole_by_the_run_records_of_the_bundle() {
    // Gets: the bundle's ledger writes the run record its `runs` reads, in the same commit.
    let stores = InMemoryStores::new();
    let key = RunKey {
        municipality: municipality("ama-town"),
        date: date(2026, 12, 1),
        shard: 0,
    };
    let now = Utc::now();
    contract::record_sent(
        &*stores.ledger,
        &key.municipality,
        key.date,
        &[&user(1)],
        now,
    )
    .await;
    let run = stores.runs.get(&key).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Started);
    assert_eq!(stores.runs.all(), [run]);
}

// ---------------------------------------------------------------- fault hooks

#[tokio::test]
async fn planned_faults_fail_the_next_calls_and_then_stop() {
    // Gets: two failing calls with the planned error, then the port works again, and the
    // failed writes left nothing behind.
    let store = InMemoryHouseholdStore::default();
    let m = municipality("ama-town");
    store.faults.fail_next(2, StoreError::Throttled);
    assert_eq!(store.faults.pending(), 2);
    let h = receiving(&m, 1);
    assert_eq!(store.save(&h).await, Err(StoreError::Throttled));
    assert_eq!(store.get(&m, &h.user).await, Err(StoreError::Throttled));
    assert_eq!(store.faults.pending(), 0);
    assert_eq!(store.get(&m, &h.user).await, Ok(None));
    assert_eq!(store.save(&h).await, Ok(1));

    store
        .faults
        .fail_next(5, StoreError::Unavailable("timeout".into()));
    store.faults.clear();
    assert!(store.get(&m, &h.user).await.unwrap().is_some());
}

#[tokio::test]
async fn a_commit_whose_answer_is_lost_is_applied_all_the_same() {
    // Gets: the commit errors, yet its outcome, run counts and resume position are stored,
    // and the lease is still the sender's (as after a DynamoDB transaction that went through
    // while the connection dropped); a failing commit before applying stores nothing.
    let stores = InMemoryStores::new();
    let ledger = &stores.ledger;
    let m = municipality("ama-town");
    let date = date(2026, 12, 1);
    let key = RunKey {
        municipality: m.clone(),
        date,
        shard: 0,
    };
    let now = Utc::now();
    let lease = Duration::from_secs(60);
    ledger.acquire_shard(&key, "a", now, lease).await.unwrap();
    let commit = |n: u32| PageCommit {
        outcomes: vec![DeliveryOutcome {
            user: user(n),
            attempt: 1,
            state: DeliveryState::Sent {
                request_id: format!("req-{n}"),
                message_count: 1,
            },
        }],
        run: RunUpdate {
            status: RunStatus::Started,
            add: RunCounts {
                sent: 1,
                ..Default::default()
            },
            notices: Default::default(),
            note: None,
        },
        counted_pages: Some(n),
        resume: Some((Some(format!("cursor-{n}")), n)),
    };

    ledger.faults.fail_next(1, StoreError::Throttled);
    assert_eq!(
        ledger.commit(&key, "a", &commit(1), now, lease).await,
        Err(StoreError::Throttled)
    );
    assert_eq!(ledger.get(&m, date, &user(1)).await.unwrap(), None);
    assert_eq!(stores.runs.get(&key).await.unwrap(), None);

    let lost = StoreError::Unavailable("connection reset".into());
    ledger.lost_commit_answers.fail_next(1, lost.clone());
    assert_eq!(
        ledger.commit(&key, "a", &commit(2), now, lease).await,
        Err(lost)
    );
    assert!(ledger.get(&m, date, &user(2)).await.unwrap().is_some());
    assert_eq!(stores.runs.get(&key).await.unwrap().unwrap().counts.sent, 1);
    assert_eq!(ledger.lease_owner(&key).as_deref(), Some("a"));
    ledger.release_shard(&key, "a", false).await.unwrap();
    let progress = ledger.acquire_shard(&key, "b", now, lease).await.unwrap();
    assert_eq!(
        progress,
        ShardLease::Acquired(ShardProgress {
            resumed: true,
            resume: Some("cursor-2".into()),
            resume_page: 2,
            counted_pages: 2,
        })
    );
}

#[tokio::test]
async fn a_lost_commit_answer_is_not_spent_on_a_refused_commit() {
    // Gets: a commit refused for a lost lease does not use up the planned lost answer.
    let stores = InMemoryStores::new();
    let key = RunKey {
        municipality: municipality("ama-town"),
        date: date(2026, 12, 1),
        shard: 0,
    };
    let empty = PageCommit {
        outcomes: Vec::new(),
        run: RunUpdate {
            status: RunStatus::Started,
            add: RunCounts::default(),
            notices: Default::default(),
            note: None,
        },
        counted_pages: None,
        resume: None,
    };
    let (now, lease) = (Utc::now(), Duration::from_secs(60));
    stores
        .ledger
        .lost_commit_answers
        .fail_next(1, StoreError::Throttled);
    assert_eq!(
        stores.ledger.commit(&key, "a", &empty, now, lease).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(stores.ledger.lost_commit_answers.pending(), 1);
}
