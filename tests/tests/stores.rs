//! The AWS adapters against moto, through the real aws-sdk clients.
//!
//! Each test provisions its own namespace, so they run in parallel against one server.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use kizuna_app::model::{
    ChannelCredentials, DeliveryState, Municipality, RunCounts, RunKey, RunStatus, RunUpdate,
    SendJob, Shard,
};
use kizuna_app::ports::{
    ChannelSecrets, Claim, ContentStore, DeliveryLedger, DeliveryOutcome, HouseholdStore,
    MunicipalityDirectory, PageCommit, RunRecords, SendQueue, ShardLease, ShardProgress,
    StoreError, WebhookEventLog, MAX_OUTCOMES_PER_COMMIT,
};
use kizuna_core::Subject;
use kizuna_core::{Household, LineUserId, MunicipalityId, Registration, RegistrationStatus};
use kizuna_tests::{test_aws, TestAws};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

fn muni(s: &str) -> MunicipalityId {
    MunicipalityId::parse(s).unwrap()
}

fn user(n: u32) -> LineUserId {
    LineUserId::parse(&format!("U{n:032x}")).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A household expecting a baby: it receives messages.
fn receiving(m: &MunicipalityId, n: u32) -> Household {
    let mut h = Household::new(m.clone(), user(n));
    h.registrations.push(Registration {
        id: 1,
        subject: Subject::Pregnancy {
            due_date: date(2027, 5, 1),
        },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: date(2026, 11, 1),
    });
    h
}

async fn raw_household(aws: &TestAws, m: &str, u: &LineUserId) -> HashMap<String, AttributeValue> {
    aws.clients
        .dynamodb
        .get_item()
        .table_name(&aws.config.tables.households)
        .key("municipality_id", AttributeValue::S(m.into()))
        .key("user_id", AttributeValue::S(u.as_str().into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("household item")
}

// ---------------------------------------------------------------- households

#[tokio::test]
async fn household_save_get_and_version_conflict() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("ama-town");
    let mut h = receiving(&m, 1);

    assert_eq!(store.get(&m, &h.user).await.unwrap(), None);
    assert_eq!(store.save(&h).await.unwrap(), 1);
    // Version 0 means "must not exist": a second create loses.
    assert_eq!(store.save(&h).await, Err(StoreError::Conflict));

    let stored = store.get(&m, &h.user).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.registrations, h.registrations);

    h.version = 1;
    h.paused = true;
    assert_eq!(store.save(&h).await.unwrap(), 2);
    // A writer still holding version 1 lost the race and must re-read.
    assert_eq!(store.save(&h).await, Err(StoreError::Conflict));
    let stored = store.get(&m, &h.user).await.unwrap().unwrap();
    assert!(stored.paused);
    assert_eq!(stored.version, 2);
}

#[tokio::test]
async fn concurrent_saves_of_one_version_have_exactly_one_winner() {
    let aws = test_aws().await;
    let store = Arc::new(aws.households());
    let m = muni("ama-town");
    for n in 0..10 {
        // Create race (version 0) ...
        let h = receiving(&m, n);
        let results = race(&store, [h.clone(), h.clone(), h.clone()]).await;
        assert_eq!(winners(&results), 1, "create race {n}: {results:?}");
        // ... and update race (version 1), with different contents.
        let mut a = h.clone();
        a.version = 1;
        a.paused = true;
        let mut b = h.clone();
        b.version = 1;
        b.following = false;
        let results = race(&store, [a.clone(), b.clone(), a]).await;
        assert_eq!(winners(&results), 1, "update race {n}: {results:?}");
        assert!(results
            .iter()
            .all(|r| matches!(r, Ok(2) | Err(StoreError::Conflict))));
        let stored = store.get(&m, &h.user).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        // Exactly one writer's change is stored, never a mix.
        let is_a = stored.paused && stored.following;
        let is_b = !stored.paused && !stored.following;
        assert!(is_a || is_b, "{stored:?}");
    }
}

async fn race(
    store: &Arc<kizuna_aws::DynamoHouseholdStore>,
    households: [Household; 3],
) -> Vec<Result<u64, StoreError>> {
    let tasks: Vec<_> = households
        .into_iter()
        .map(|h| {
            let store = Arc::clone(store);
            tokio::spawn(async move { store.save(&h).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

fn winners(results: &[Result<u64, StoreError>]) -> usize {
    results.iter().filter(|r| r.is_ok()).count()
}

#[tokio::test]
async fn delete_removes_the_household_and_is_idempotent() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("ama-town");
    let h = receiving(&m, 7);
    store.save(&h).await.unwrap();
    let stored = store.get(&m, &h.user).await.unwrap().unwrap();
    store.delete(&stored).await.unwrap();
    assert_eq!(store.get(&m, &h.user).await.unwrap(), None);
    store.delete(&stored).await.unwrap();
    // Gone from the fan-out too.
    let page = store
        .deliverable_page(&m, Shard::ALL, None, 10)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    // A new registration after deletion starts again at version 0.
    assert_eq!(store.save(&h).await.unwrap(), 1);
}

#[tokio::test]
async fn a_delete_decided_on_an_older_version_is_a_conflict_and_deletes_nothing() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("ama-town");
    let h = receiving(&m, 8);
    store.save(&h).await.unwrap();
    let read = store.get(&m, &h.user).await.unwrap().unwrap();
    // Another event changes the household after our read.
    let mut changed = read.clone();
    changed.paused = true;
    store.save(&changed).await.unwrap();
    assert_eq!(store.delete(&read).await, Err(StoreError::Conflict));
    let kept = store.get(&m, &h.user).await.unwrap().unwrap();
    assert!(kept.paused);
    store.delete(&kept).await.unwrap();
    assert_eq!(store.get(&m, &h.user).await.unwrap(), None);
}

/// Reads every page of one shard's fan-out.
async fn fanout(
    store: &dyn HouseholdStore,
    m: &MunicipalityId,
    shard: Shard,
    limit: u32,
) -> (Vec<LineUserId>, Vec<usize>) {
    let mut users = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .deliverable_page(m, shard, cursor, limit)
            .await
            .unwrap();
        sizes.push(page.items.len());
        users.extend(page.items.into_iter().map(|h| h.user));
        cursor = page.next;
        if cursor.is_none() {
            return (users, sizes);
        }
        assert!(sizes.len() < 100, "pagination does not end");
    }
}

#[tokio::test]
async fn deliverable_index_lists_only_receiving_households_in_pages() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("ama-town");
    let mut expected = BTreeSet::new();
    for n in 1..=5 {
        let h = receiving(&m, n);
        expected.insert(h.user.clone());
        store.save(&h).await.unwrap();
    }
    let mut paused = receiving(&m, 10);
    paused.paused = true;
    let mut unfollowed = receiving(&m, 11);
    unfollowed.following = false;
    unfollowed.unfollowed_on = Some(date(2026, 12, 1));
    let mut ended = receiving(&m, 12);
    ended.registrations[0].status = kizuna_core::RegistrationStatus::Ended {
        reason: kizuna_core::EndReason::Loss,
        on: date(2026, 12, 1),
    };
    let no_registration = Household::new(m.clone(), user(13));
    let elsewhere = receiving(&muni("other-town"), 14);
    for h in [&paused, &unfollowed, &ended, &no_registration, &elsewhere] {
        store.save(h).await.unwrap();
    }

    // The index is sparse: non-receiving items carry no fan-out key at all.
    for h in [&paused, &unfollowed, &ended, &no_registration] {
        let item = raw_household(&aws, "ama-town", &h.user).await;
        assert!(!item.contains_key("send_shard"), "{:?}", h.user);
    }
    assert!(raw_household(&aws, "ama-town", &user(1))
        .await
        .contains_key("send_shard"));

    let (users, sizes) = fanout(&store, &m, Shard::ALL, 2).await;
    assert!(sizes.iter().all(|&s| s <= 2), "{sizes:?}");
    assert!(sizes.len() >= 3, "5 households in pages of 2: {sizes:?}");
    assert_eq!(users.len(), 5, "each household exactly once");
    assert_eq!(users.into_iter().collect::<BTreeSet<_>>(), expected);

    // Pausing takes a household out of the fan-out.
    let mut h = store.get(&m, &user(3)).await.unwrap().unwrap();
    h.paused = true;
    store.save(&h).await.unwrap();
    let (users, _) = fanout(&store, &m, Shard::ALL, 10).await;
    assert_eq!(users.len(), 4);
    assert!(!users.contains(&user(3)));
}

#[tokio::test]
async fn shards_split_the_fanout_exactly_once() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("big-city");
    let all: BTreeSet<_> = (100..160).map(user).collect();
    for n in 100..160 {
        store.save(&receiving(&m, n)).await.unwrap();
    }
    for count in [1u16, 3, 4] {
        let mut seen = Vec::new();
        for index in 0..count {
            let shard = Shard::new(index, count).unwrap();
            let (users, _) = fanout(&store, &m, shard, 7).await;
            assert!(users.iter().all(|u| shard.covers(u)));
            seen.extend(users);
        }
        assert_eq!(seen.len(), all.len(), "{count} shards: a household twice?");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);
    }
    // A cursor from one shard is refused by another.
    let page = store
        .deliverable_page(&m, Shard::new(0, 2).unwrap(), None, 1)
        .await
        .unwrap();
    let err = store
        .deliverable_page(&m, Shard::new(1, 2).unwrap(), page.next, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)));
}

#[tokio::test]
async fn all_households_of_a_municipality_page_through() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("ama-town");
    for n in 1..=5 {
        let mut h = receiving(&m, n);
        h.paused = n % 2 == 0;
        store.save(&h).await.unwrap();
    }
    store
        .save(&receiving(&muni("other-town"), 9))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.all_in_municipality_page(&m, cursor, 2).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|h| h.user));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, (1..=5).map(user).collect::<Vec<_>>());
}

#[tokio::test]
async fn retention_purge_deletes_only_long_unfollowed_households() {
    let aws = test_aws().await;
    let store = aws.households();
    let m = muni("ama-town");
    let mut old = receiving(&m, 1);
    old.following = false;
    old.unfollowed_on = Some(date(2026, 1, 10));
    let mut recent = receiving(&m, 2);
    recent.following = false;
    recent.unfollowed_on = Some(date(2026, 11, 1));
    // Unfollowed long ago but followed again: kept.
    let mut refollowed = receiving(&m, 3);
    refollowed.unfollowed_on = Some(date(2025, 1, 1));
    let following = receiving(&m, 4);
    for h in [&old, &recent, &refollowed, &following] {
        store.save(h).await.unwrap();
    }
    // TTL as backstop: 180 days after the unfollow, midnight Japan time.
    let item = raw_household(&aws, "ama-town", &old.user).await;
    let expected = Utc
        .with_ymd_and_hms(2026, 7, 8, 15, 0, 0)
        .unwrap()
        .timestamp();
    assert_eq!(item["expires_at"], AttributeValue::N(expected.to_string()));
    assert!(!raw_household(&aws, "ama-town", &refollowed.user)
        .await
        .contains_key("expires_at"));

    let purged = store
        .purge_unfollowed_before(&m, date(2026, 6, 1))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(store.get(&m, &old.user).await.unwrap(), None);
    for h in [&recent, &refollowed, &following] {
        assert!(store.get(&m, &h.user).await.unwrap().is_some());
    }
    assert_eq!(
        store
            .purge_unfollowed_before(&m, date(2026, 6, 1))
            .await
            .unwrap(),
        0
    );
}

// ---------------------------------------------------------------- webhook events

#[tokio::test]
async fn event_claims_follow_the_idempotency_protocol() {
    let aws = test_aws().await;
    let log = aws.events();
    let t0 = at("2026-12-01T09:00:00Z");

    assert_eq!(log.claim("ev-1", t0).await.unwrap(), Claim::Acquired);
    assert_eq!(log.claim("ev-1", t0).await.unwrap(), Claim::InProgress);
    log.complete("ev-1").await.unwrap();
    assert_eq!(log.claim("ev-1", t0).await.unwrap(), Claim::AlreadyDone);
    // Releasing a completed event does not reopen it.
    log.release("ev-1").await.unwrap();
    assert_eq!(
        log.claim("ev-1", t0 + ChronoDuration::minutes(5))
            .await
            .unwrap(),
        Claim::AlreadyDone
    );

    // A failed invocation releases its claim; LINE's redelivery gets it.
    assert_eq!(log.claim("ev-2", t0).await.unwrap(), Claim::Acquired);
    log.release("ev-2").await.unwrap();
    assert_eq!(log.claim("ev-2", t0).await.unwrap(), Claim::Acquired);

    // A crashed invocation's lock expires (default 60 s); moto never expires items, so this
    // checks our own timestamp comparison.
    assert_eq!(log.claim("ev-3", t0).await.unwrap(), Claim::Acquired);
    assert_eq!(
        log.claim("ev-3", t0 + ChronoDuration::seconds(59))
            .await
            .unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        log.claim("ev-3", t0 + ChronoDuration::seconds(61))
            .await
            .unwrap(),
        Claim::Acquired
    );

    // A done record past its 14-day retention counts as absent even before TTL deletes it.
    assert_eq!(
        log.claim("ev-1", t0 + ChronoDuration::days(15))
            .await
            .unwrap(),
        Claim::Acquired
    );

    assert_eq!(
        log.complete("never-claimed").await,
        Err(StoreError::NotFound)
    );
}

#[tokio::test]
async fn done_events_are_found_in_batches_and_expire_like_claims() {
    let aws = test_aws().await;
    let log = aws.events();
    let t0 = at("2026-12-01T09:00:00Z");
    // More ids than one BatchGetItem takes, every third one done, one in progress.
    let ids: Vec<String> = (0..250).map(|i| format!("ev-{i:03}")).collect();
    for id in ids.iter().step_by(3) {
        log.claim(id, t0).await.unwrap();
        log.complete(id).await.unwrap();
    }
    log.claim(&ids[1], t0).await.unwrap();
    let mut asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    asked.push(&ids[0]); // named twice, as a body may
    let done = log.done_among(&asked, t0).await.unwrap();
    let expected: HashSet<String> = ids.iter().step_by(3).cloned().collect();
    assert_eq!(done, expected);
    // Past the retention, a done record is as good as absent (as for `claim`).
    let later = log
        .done_among(&asked, t0 + ChronoDuration::days(15))
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
}

#[tokio::test]
async fn concurrent_claims_of_one_event_have_exactly_one_winner() {
    let aws = test_aws().await;
    let log = Arc::new(aws.events());
    let now = at("2026-12-01T09:00:00Z");
    for round in 0..10 {
        let id = format!("ev-race-{round}");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let log = Arc::clone(&log);
                let id = id.clone();
                tokio::spawn(async move { log.claim(&id, now).await.unwrap() })
            })
            .collect();
        let mut claims = Vec::new();
        for t in tasks {
            claims.push(t.await.unwrap());
        }
        let acquired = claims.iter().filter(|c| **c == Claim::Acquired).count();
        assert_eq!(acquired, 1, "round {round}: {claims:?}");
        assert!(claims
            .iter()
            .all(|c| matches!(c, Claim::Acquired | Claim::InProgress)));
    }
}

// ---------------------------------------------------------------- delivery ledger

fn run_key(m: &MunicipalityId, d: NaiveDate) -> RunKey {
    RunKey {
        municipality: m.clone(),
        date: d,
        shard: 0,
    }
}

fn sent(u: LineUserId, request_id: &str) -> DeliveryOutcome {
    DeliveryOutcome {
        user: u,
        attempt: 1,
        state: DeliveryState::Sent {
            request_id: request_id.into(),
            message_count: 1,
        },
    }
}

fn page_commit(outcomes: Vec<DeliveryOutcome>, add: RunCounts) -> PageCommit {
    PageCommit {
        outcomes,
        run: RunUpdate {
            status: RunStatus::Started,
            add,
            notices: Default::default(),
            note: None,
        },
        counted_pages: None,
        resume: None,
    }
}

/// Records `users` as sent on `d` the way a sender does: lease, commit, release.
async fn record_sent(
    ledger: &dyn DeliveryLedger,
    m: &MunicipalityId,
    d: NaiveDate,
    users: &[&LineUserId],
    now: DateTime<Utc>,
) {
    let key = run_key(m, d);
    let lease = Duration::from_secs(60);
    assert!(matches!(
        ledger
            .acquire_shard(&key, "test", now, lease)
            .await
            .unwrap(),
        ShardLease::Acquired(_)
    ));
    let outcomes = users.iter().map(|u| sent((*u).clone(), "req")).collect();
    ledger
        .commit(
            &key,
            "test",
            &page_commit(outcomes, RunCounts::default()),
            now,
            lease,
        )
        .await
        .unwrap();
    ledger.release_shard(&key, "test", false).await.unwrap();
}

/// The send job's lease: one holder at a time; a dead holder's lease expires; a commit by a
/// sender that lost the lease writes nothing at all; the resume position survives a release;
/// a finished job stays finished.
#[tokio::test]
async fn shard_leases_commits_and_outcomes() {
    let aws = test_aws().await;
    let ledger = aws.ledger();
    let runs = aws.runs();
    let m = muni("ama-town");
    let d = date(2026, 12, 1);
    let key = run_key(&m, d);
    let t0 = at("2026-11-30T23:00:00Z");
    let lease = Duration::from_secs(120);

    assert_eq!(
        ledger.acquire_shard(&key, "a", t0, lease).await.unwrap(),
        ShardLease::Acquired(ShardProgress::default()),
        "a fresh job starts at the shard's first page"
    );
    assert_eq!(
        ledger
            .acquire_shard(&key, "b", t0 + ChronoDuration::seconds(119), lease)
            .await
            .unwrap(),
        ShardLease::HeldByOther
    );
    // Sender a died: after its lease expires, b takes over and is told a may have sent.
    let t1 = t0 + ChronoDuration::seconds(121);
    assert_eq!(
        ledger.acquire_shard(&key, "b", t1, lease).await.unwrap(),
        ShardLease::Acquired(ShardProgress {
            resumed: true,
            ..Default::default()
        })
    );
    // a wakes up and tries to commit: refused, and nothing of it is written.
    let late = page_commit(
        vec![sent(user(9), "req-late")],
        RunCounts {
            sent: 1,
            ..Default::default()
        },
    );
    assert_eq!(
        ledger.commit(&key, "a", &late, t1, lease).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(ledger.get(&m, d, &user(9)).await.unwrap(), None);
    assert_eq!(runs.get(&key).await.unwrap(), None);

    // b commits a page: outcomes, counts and the resume position, all together.
    let mut commit = page_commit(
        vec![
            sent(user(1), "req-abc"),
            DeliveryOutcome {
                user: user(3),
                attempt: 2,
                state: DeliveryState::Failed {
                    reason: "LINE 500".into(),
                    retryable: true,
                },
            },
            DeliveryOutcome {
                user: user(4),
                attempt: 1,
                state: DeliveryState::Failed {
                    reason: "LINE 400 invalid message".into(),
                    retryable: false,
                },
            },
        ],
        RunCounts {
            sent: 1,
            failed: 2,
            skipped: 5,
            ..Default::default()
        },
    );
    commit.counted_pages = Some(1);
    commit.resume = Some((Some("0:Uabc".into()), 1));
    ledger.commit(&key, "b", &commit, t1, lease).await.unwrap();
    let record = ledger.get(&m, d, &user(1)).await.unwrap().unwrap();
    assert_eq!(
        record.state,
        DeliveryState::Sent {
            request_id: "req-abc".into(),
            message_count: 1
        }
    );
    let run = runs.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (run.counts.sent, run.counts.failed, run.counts.skipped),
        (1, 2, 5)
    );
    let found = ledger
        .records_among(&m, d, &[user(1), user(3), user(4), user(5), user(1)])
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        3,
        "user 5 has no entry; a repeated user is asked once"
    );
    assert_eq!(found[&user(3)].attempt, 2);
    assert_eq!(
        found[&user(4)].state,
        DeliveryState::Failed {
            reason: "LINE 400 invalid message".into(),
            retryable: false
        }
    );
    // The lease item is not a delivery.
    let listed: BTreeSet<_> = ledger
        .list(&m, d)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.user)
        .collect();
    assert_eq!(listed, [user(1), user(3), user(4)].into_iter().collect());

    // A commit larger than one transaction is refused before anything is sent to DynamoDB.
    let too_many = page_commit(
        (0..=MAX_OUTCOMES_PER_COMMIT as u32)
            .map(|n| sent(user(100 + n), "r"))
            .collect(),
        RunCounts::default(),
    );
    assert!(matches!(
        ledger.commit(&key, "b", &too_many, t1, lease).await,
        Err(StoreError::Corrupt(_))
    ));

    // b stops (deadline): c resumes where b's last settled page ended.
    ledger.release_shard(&key, "b", false).await.unwrap();
    assert_eq!(
        ledger.acquire_shard(&key, "c", t1, lease).await.unwrap(),
        ShardLease::Acquired(ShardProgress {
            resumed: true,
            resume: Some("0:Uabc".into()),
            resume_page: 1,
            counted_pages: 1,
        })
    );
    // Releasing someone else's lease changes nothing.
    ledger.release_shard(&key, "b", true).await.unwrap();
    assert_eq!(
        ledger.acquire_shard(&key, "d", t1, lease).await.unwrap(),
        ShardLease::HeldByOther
    );
    ledger.release_shard(&key, "c", true).await.unwrap();
    assert_eq!(
        ledger
            .acquire_shard(&key, "e", t1 + ChronoDuration::hours(1), lease)
            .await
            .unwrap(),
        ShardLease::Done
    );
    // Another date is another job.
    assert!(matches!(
        ledger
            .acquire_shard(&run_key(&m, date(2026, 12, 2)), "e", t1, lease)
            .await
            .unwrap(),
        ShardLease::Acquired(_)
    ));
    // The finished job's lease item keeps no cursor (it may hold a LINE user id).
    let raw = aws
        .clients
        .dynamodb
        .get_item()
        .table_name(&aws.config.tables.deliveries)
        .key("pk", AttributeValue::S(format!("ama-town#{d}")))
        .key("user_id", AttributeValue::S("~shard#000".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!raw.contains_key("resume"), "{raw:?}");
}

/// The ledger keeps a parent's delivery days only for days (`LEDGER_RETENTION_DAYS`), and
/// `forget_user` (削除, `kizuna household delete`) removes every one of them at once — only
/// that parent's, only in that municipality.
#[tokio::test]
async fn ledger_items_expire_in_days_and_forget_user_removes_one_parent() {
    use kizuna_aws::schema::{ledger_dates_possibly_held, LEDGER_RETENTION_DAYS};
    let aws = test_aws().await;
    let ledger = aws.ledger();
    let (m, other_town) = (muni("ama-town"), muni("other-town"));
    let (parent, neighbour) = (user(1), user(2));
    let today = date(2027, 3, 10);
    let window = ledger_dates_possibly_held(today);
    assert!(window.contains(&today) && window.contains(&date(2027, 3, 11)));
    assert!(
        window.len() >= (LEDGER_RETENTION_DAYS + 2) as usize,
        "{window:?}"
    );
    let outside = *window.first().unwrap() - ChronoDuration::days(1);
    for &d in window.iter().chain([&outside]) {
        // Each date claimed on that date (07:00 Japan time).
        let t = d.and_hms_opt(7, 0, 0).unwrap().and_utc() - ChronoDuration::hours(9);
        record_sent(&ledger, &m, d, &[&parent, &neighbour], t).await;
        record_sent(&ledger, &other_town, d, &[&parent], t).await;
    }

    // The TTL is days after the send, not the 400 days of the run records.
    let claimed_at = today.and_hms_opt(7, 0, 0).unwrap().and_utc() - ChronoDuration::hours(9);
    let raw = aws
        .clients
        .dynamodb
        .get_item()
        .table_name(&aws.config.tables.deliveries)
        .key("pk", AttributeValue::S(format!("ama-town#{today}")))
        .key("user_id", AttributeValue::S(parent.as_str().into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires: i64 = raw["expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(
        expires - claimed_at.timestamp(),
        LEDGER_RETENTION_DAYS * 86_400
    );

    ledger.forget_user(&m, &parent, today).await.unwrap();
    for &d in &window {
        assert_eq!(ledger.get(&m, d, &parent).await.unwrap(), None, "{d}");
        assert!(
            ledger.get(&m, d, &neighbour).await.unwrap().is_some(),
            "{d}"
        );
        assert!(
            ledger.get(&other_town, d, &parent).await.unwrap().is_some(),
            "{d}"
        );
    }
    // Before the window: an item that would have been deleted by TTL days ago is not looked for.
    assert!(ledger.get(&m, outside, &parent).await.unwrap().is_some());
    // Forgetting twice (a redelivered 削除) is harmless.
    ledger.forget_user(&m, &parent, today).await.unwrap();
}

#[tokio::test]
async fn concurrent_lease_claims_have_exactly_one_winner() {
    let aws = test_aws().await;
    let ledger = Arc::new(aws.ledger());
    let m = muni("ama-town");
    let now = at("2026-11-30T23:00:00Z");
    for n in 0..10 {
        let key = run_key(&m, date(2026, 12, 1) + ChronoDuration::days(n));
        let tasks: Vec<_> = (0..6)
            .map(|owner| {
                let ledger = Arc::clone(&ledger);
                let key = key.clone();
                tokio::spawn(async move {
                    ledger
                        .acquire_shard(
                            &key,
                            &format!("sender-{owner}"),
                            now,
                            Duration::from_secs(60),
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut leases = Vec::new();
        for t in tasks {
            leases.push(t.await.unwrap());
        }
        let acquired = leases
            .iter()
            .filter(|c| matches!(c, ShardLease::Acquired(_)))
            .count();
        assert_eq!(acquired, 1, "day {n}: {leases:?}");
    }
}

// ---------------------------------------------------------------- run records

fn run(m: &str, d: NaiveDate, shard: u16) -> RunKey {
    RunKey {
        municipality: muni(m),
        date: d,
        shard,
    }
}

fn update(status: RunStatus, add: RunCounts) -> RunUpdate {
    RunUpdate {
        notices: Default::default(),
        status,
        add,
        note: None,
    }
}

#[tokio::test]
async fn run_records_count_atomically_and_list() {
    let aws = test_aws().await;
    let runs = Arc::new(aws.runs());
    let now = at("2026-12-01T00:00:00Z");
    let key = run("ama-town", date(2026, 12, 1), 0);

    let r = runs
        .upsert(&key, &update(RunStatus::Started, RunCounts::default()), now)
        .await
        .unwrap();
    assert_eq!(r.status, RunStatus::Started);
    assert_eq!(r.counts, RunCounts::default());
    assert_eq!(r.updated_at, now);

    // Concurrent batches of one run never lose a count.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let runs = Arc::clone(&runs);
            let key = key.clone();
            tokio::spawn(async move {
                let add = RunCounts {
                    sent: 10,
                    skipped: 1,
                    failed: u64::from(i % 2 == 0),
                    not_sent_quota: 0,
                    missing_content: 2,
                };
                // Every batch also reports the town notices it carried.
                let mut u = update(RunStatus::Started, add);
                u.notices.insert("four-month-checkup".into(), 3);
                if i % 2 == 0 {
                    u.notices.insert("parents-class".into(), 1);
                }
                runs.upsert(&key, &u, now).await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let done = runs
        .upsert(
            &key,
            &RunUpdate {
                status: RunStatus::Completed,
                add: RunCounts {
                    not_sent_quota: 3,
                    ..RunCounts::default()
                },
                notices: Default::default(),
                note: Some("quota reached".into()),
            },
            now + ChronoDuration::minutes(2),
        )
        .await
        .unwrap();
    let expected = RunCounts {
        sent: 100,
        skipped: 10,
        failed: 5,
        not_sent_quota: 3,
        missing_content: 20,
    };
    assert_eq!(done.counts, expected);
    assert_eq!(
        done.notices,
        [
            ("four-month-checkup".to_owned(), 30),
            ("parents-class".to_owned(), 5)
        ]
        .into()
    );
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.note.as_deref(), Some("quota reached"));
    assert_eq!(runs.get(&key).await.unwrap().unwrap(), done);
    assert_eq!(
        runs.get(&run("ama-town", date(2026, 12, 2), 0))
            .await
            .unwrap(),
        None
    );

    // Newest first across dates and shards; list_for_date spans municipalities.
    for (m, d, shard) in [
        ("ama-town", date(2026, 11, 30), 0),
        ("ama-town", date(2026, 12, 1), 1),
        ("ama-town", date(2026, 12, 2), 0),
        ("oki-town", date(2026, 12, 1), 0),
    ] {
        runs.upsert(
            &run(m, d, shard),
            &update(RunStatus::Failed, RunCounts::default()),
            now,
        )
        .await
        .unwrap();
    }
    let recent: Vec<_> = runs
        .list_recent(&muni("ama-town"), 3)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key.date, r.key.shard))
        .collect();
    assert_eq!(
        recent,
        [
            (date(2026, 12, 2), 0),
            (date(2026, 12, 1), 1),
            (date(2026, 12, 1), 0)
        ]
    );
    assert_eq!(
        runs.list_recent(&muni("ama-town"), 10).await.unwrap().len(),
        4
    );
    let on_date: BTreeSet<_> = runs
        .list_for_date(date(2026, 12, 1))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key.municipality.to_string(), r.key.shard))
        .collect();
    assert_eq!(
        on_date,
        [
            ("ama-town".to_string(), 0),
            ("ama-town".to_string(), 1),
            ("oki-town".to_string(), 0)
        ]
        .into_iter()
        .collect()
    );
    // Ledger items and leases in the same table never show up as runs.
    record_sent(
        &aws.ledger(),
        &muni("ama-town"),
        date(2026, 12, 1),
        &[&user(1)],
        now,
    )
    .await;
    assert_eq!(
        runs.list_recent(&muni("ama-town"), 10).await.unwrap().len(),
        4
    );
}

// ---------------------------------------------------------------- content, queue, secrets, municipalities

#[tokio::test]
async fn content_store_round_trip_and_versions() {
    let aws = test_aws().await;
    let content = aws.content();
    content
        .put_object(
            "content/base/pregnancy.toml",
            "[day.100]\ntext = \"こんにちは\"\n".into(),
        )
        .await
        .unwrap();
    content
        .put_object("content/base/child.toml", b"[day.0]\n".to_vec())
        .await
        .unwrap();
    content
        .put_object("content/ama-town/overlay.toml", b"# overlay\n".to_vec())
        .await
        .unwrap();
    content
        .put_object("drafts/ignored.toml", b"x".to_vec())
        .await
        .unwrap();

    let snapshot = content.load("content/").await.unwrap();
    let paths: Vec<_> = snapshot.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "content/ama-town/overlay.toml",
            "content/base/child.toml",
            "content/base/pregnancy.toml"
        ]
    );
    assert_eq!(snapshot.files[2].text, "[day.100]\ntext = \"こんにちは\"\n");
    assert_eq!(content.version("content/").await.unwrap(), snapshot.version);
    assert_eq!(content.list("content/base/").await.unwrap().len(), 2);

    // The compiled artifact: read as bytes, absent as None; `load` does not read it (it is
    // not UTF-8), but it counts in the version, which `load` and `version` still agree on.
    assert_eq!(
        content
            .get_object("content/compiled/library.bin")
            .await
            .unwrap(),
        None
    );
    let artifact = vec![0x4b, 0xff, 0x00, 0xfe];
    content
        .put_object("content/compiled/library.bin", artifact.clone())
        .await
        .unwrap();
    assert_eq!(
        content
            .get_object("content/compiled/library.bin")
            .await
            .unwrap(),
        Some(artifact)
    );
    let with_artifact = content.load("content/").await.unwrap();
    assert_eq!(with_artifact.files, snapshot.files);
    assert_ne!(with_artifact.version, snapshot.version);
    assert_eq!(
        content.version("content/").await.unwrap(),
        with_artifact.version
    );
    let snapshot = with_artifact;

    // Any change to any file gives a new version.
    content
        .put_object("content/base/child.toml", b"[day.0]\n# edited\n".to_vec())
        .await
        .unwrap();
    let changed = content.version("content/").await.unwrap();
    assert_ne!(changed, snapshot.version);
    assert_eq!(content.load("content/").await.unwrap().version, changed);

    content
        .put_object("content/base/broken.toml", vec![0xff, 0xfe, 0x00])
        .await
        .unwrap();
    assert!(matches!(
        content.load("content/").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(content
        .load("nothing-here/")
        .await
        .unwrap()
        .files
        .is_empty());
}

#[tokio::test]
async fn send_queue_delivers_every_job_as_json() {
    let aws = test_aws().await;
    let queue = aws.queue();
    let jobs: Vec<SendJob> = (0..23u16)
        .map(|i| SendJob {
            municipality: muni(&format!("town-{}", i / 4)),
            date: date(2026, 12, 1),
            shard: Shard::new(i % 4, 4).unwrap(),
            attempt: 0,
        })
        .collect();
    queue.enqueue(&jobs).await.unwrap();
    queue.enqueue(&[]).await.unwrap();

    let mut received = Vec::new();
    for _ in 0..20 {
        let out = aws
            .clients
            .sqs
            .receive_message()
            .queue_url(&aws.config.send_queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for message in out.messages() {
            let job: SendJob = serde_json::from_str(message.body().unwrap()).unwrap();
            received.push(job);
            aws.clients
                .sqs
                .delete_message()
                .queue_url(&aws.config.send_queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if received.len() >= jobs.len() {
            break;
        }
    }
    let key = |j: &SendJob| (j.municipality.to_string(), j.shard.index);
    let mut got: Vec<_> = received.iter().map(key).collect();
    let mut want: Vec<_> = jobs.iter().map(key).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn channel_secrets_round_trip_and_cache() {
    let aws = test_aws().await;
    let writer = aws.secrets();
    let reader = aws.secrets();
    let m = muni("ama-town");
    assert_eq!(reader.get(&m).await.unwrap(), None);

    let first = ChannelCredentials {
        channel_id: "1650000001".into(),
        channel_secret: kizuna_app::model::ChannelSecret::new("secret-1"),
        channel_access_token: None,
    };
    writer.put(&m, &first).await.unwrap();
    // An unknown municipality is not cached: the new secret is seen at once.
    assert_eq!(reader.get(&m).await.unwrap(), Some(first.clone()));

    let rotated = ChannelCredentials {
        channel_access_token: Some(kizuna_app::model::ChannelToken::new("long-lived-token")),
        ..first.clone()
    };
    writer.put(&m, &rotated).await.unwrap();
    // Within the TTL the reader keeps its copy (no Secrets Manager call per webhook) ...
    assert_eq!(reader.get(&m).await.unwrap(), Some(first));
    // ... and a reader without cache sees the rotation.
    let uncached = aws.secrets().with_cache_ttl(Duration::ZERO);
    assert_eq!(uncached.get(&m).await.unwrap(), Some(rotated.clone()));
    assert_eq!(writer.get(&m).await.unwrap(), Some(rotated));

    // The stored secret is the documented JSON.
    let raw = aws
        .clients
        .secrets
        .get_secret_value()
        .secret_id(format!("{}ama-town", aws.config.secret_prefix))
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(raw.secret_string().unwrap()).unwrap();
    assert_eq!(json["channel_id"], "1650000001");
    assert_eq!(json["channel_access_token"], "long-lived-token");
}

#[tokio::test]
async fn municipality_directory_round_trip() {
    let aws = test_aws().await;
    let directory = aws.municipalities();
    assert!(directory.list().await.unwrap().is_empty());
    let mut ama = Municipality::new(muni("ama-town"), "海士町", 8);
    ama.bot_user_id = Some("Ubot".into());
    ama.monthly_message_limit = Some(30_000);
    ama.send_shards = 2;
    let oki = Municipality::new(muni("oki-town"), "隠岐の島町", 7);
    directory.put(&ama).await.unwrap();
    directory.put(&oki).await.unwrap();
    assert_eq!(directory.get(&ama.id).await.unwrap(), Some(ama.clone()));
    assert_eq!(directory.get(&muni("nowhere")).await.unwrap(), None);
    let mut listed = directory.list().await.unwrap();
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, [ama.clone(), oki]);
    ama.enabled = false;
    directory.put(&ama).await.unwrap();
    assert!(!directory.get(&ama.id).await.unwrap().unwrap().enabled);
}

#[tokio::test]
async fn provisioning_is_idempotent() {
    let aws = test_aws().await;
    let again = kizuna_aws::provision::create_all(&aws.clients, &aws.config)
        .await
        .unwrap();
    assert_eq!(again.send_queue_url, aws.config.send_queue_url);
}
