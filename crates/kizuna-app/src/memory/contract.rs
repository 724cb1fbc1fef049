//! The store ports' semantics as checks that any implementation must pass: one `async fn` per
//! behaviour, taking the port as `&dyn …`, panicking (like `assert!`) when the behaviour is
//! not met. The in-memory stores run them in this crate's tests; the same functions can be
//! run against the DynamoDB/S3 adapters from the `tests/` crate.
//!
//! Each check expects a store that is empty (a fresh instance or a fresh table), and the
//! event log with its default lock of 60 seconds.

use crate::model::{
    ChannelCredentials, ChannelSecret, ChannelToken, DeliveryState, FollowChange, FollowCounts,
    Municipality, RunCounts, RunKey, RunStatus, RunUpdate, Shard,
};
use crate::ports::{
    ChannelSecrets, Claim, ContentStore, DeliveryLedger, DeliveryOutcome, FollowTally,
    HouseholdStore, MunicipalityDirectory, PageCommit, RunRecords, ShardLease, ShardProgress,
    StoreError, WebhookEventLog, MAX_OUTCOMES_PER_COMMIT,
};
use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use futures::future::join_all;
use kizuna_core::testing::date;
use kizuna_core::{
    EndReason, Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

pub fn municipality(id: &str) -> MunicipalityId {
    MunicipalityId::parse(id).expect("a valid municipality id")
}

/// The `n`th test parent's LINE user id.
pub fn user(n: u32) -> LineUserId {
    LineUserId::parse(&format!("U{n:032x}")).expect("a valid LINE user id")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// A household expecting a baby: it receives messages.
pub fn receiving(m: &MunicipalityId, n: u32) -> Household {
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

// ---------------------------------------------------------------- households

/// Save creates at version 0 only, then each save must name the stored version; a writer
/// holding an old version gets `Conflict` and changes nothing.
pub async fn household_saves_are_conditional_on_the_version(store: &dyn HouseholdStore) {
    let m = municipality("ama-town");
    let mut h = receiving(&m, 1);
    assert_eq!(store.get(&m, &h.user).await.unwrap(), None);
    assert_eq!(store.save(&h).await.unwrap(), 1);
    assert_eq!(
        store.save(&h).await,
        Err(StoreError::Conflict),
        "second create"
    );
    let stored = store.get(&m, &h.user).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.registrations, h.registrations);

    h.version = 1;
    h.paused = true;
    assert_eq!(store.save(&h).await.unwrap(), 2);
    let mut stale = h.clone();
    stale.paused = false;
    assert_eq!(store.save(&stale).await, Err(StoreError::Conflict));
    let stored = store.get(&m, &h.user).await.unwrap().unwrap();
    assert!(stored.paused, "the stale write changed nothing");
    assert_eq!(stored.version, 2);
}

/// Of concurrent saves of one version, exactly one wins, and the stored household is that
/// writer's, never a mix.
pub async fn concurrent_saves_of_one_version_have_one_winner(store: &dyn HouseholdStore) {
    let m = municipality("ama-town");
    for n in 0..5 {
        let h = receiving(&m, 100 + n);
        let created = join_all([store.save(&h), store.save(&h), store.save(&h)]).await;
        assert_eq!(
            created.iter().filter(|r| r.is_ok()).count(),
            1,
            "{created:?}"
        );
        let mut a = h.clone();
        a.version = 1;
        a.paused = true;
        let mut b = h.clone();
        b.version = 1;
        b.following = false;
        let updated = join_all([store.save(&a), store.save(&b), store.save(&a)]).await;
        assert_eq!(
            updated.iter().filter(|r| r.is_ok()).count(),
            1,
            "{updated:?}"
        );
        assert!(updated
            .iter()
            .all(|r| matches!(r, Ok(2) | Err(StoreError::Conflict))));
        let stored = store.get(&m, &h.user).await.unwrap().unwrap();
        let is_a = stored.paused && stored.following;
        let is_b = !stored.paused && !stored.following;
        assert!(is_a || is_b, "{stored:?}");
    }
}

/// Delete removes the household (also from the fan-out), is idempotent, and is refused
/// with `Conflict` when decided on an older version.
pub async fn household_deletes_are_conditional_and_idempotent(store: &dyn HouseholdStore) {
    let m = municipality("ama-town");
    let h = receiving(&m, 7);
    store.save(&h).await.unwrap();
    let read = store.get(&m, &h.user).await.unwrap().unwrap();
    let mut changed = read.clone();
    changed.paused = true;
    store.save(&changed).await.unwrap();
    assert_eq!(store.delete(&read).await, Err(StoreError::Conflict));
    let kept = store.get(&m, &h.user).await.unwrap().unwrap();
    assert!(kept.paused, "the change made after the read is kept");

    store.delete(&kept).await.unwrap();
    assert_eq!(store.get(&m, &h.user).await.unwrap(), None);
    store.delete(&kept).await.unwrap();
    let page = store
        .deliverable_page(&m, Shard::ALL, None, 10)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    // A registration after deletion starts again at version 0.
    assert_eq!(store.save(&h).await.unwrap(), 1);
}

/// Reads every page of one shard's fan-out: the users listed and each page's size.
pub async fn fanout(
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
        assert!(sizes.len() < 1_000, "pagination does not end");
    }
}

/// The deliverable listing holds only households that receive messages (not paused,
/// unfollowed, ended, unregistered or of another town), in pages of at most `limit`, each
/// once; pausing takes a household out.
pub async fn deliverable_pages_list_only_receiving_households(store: &dyn HouseholdStore) {
    let m = municipality("ama-town");
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
    ended.registrations[0].status = RegistrationStatus::Ended {
        reason: EndReason::Loss,
        on: date(2026, 12, 1),
    };
    let unregistered = Household::new(m.clone(), user(13));
    let elsewhere = receiving(&municipality("other-town"), 14);
    for h in [&paused, &unfollowed, &ended, &unregistered, &elsewhere] {
        store.save(h).await.unwrap();
    }

    let (users, sizes) = fanout(store, &m, Shard::ALL, 2).await;
    assert!(sizes.iter().all(|&s| s <= 2), "{sizes:?}");
    assert!(sizes.len() >= 3, "5 households in pages of 2: {sizes:?}");
    assert_eq!(users.len(), 5, "each household exactly once");
    assert_eq!(users.into_iter().collect::<BTreeSet<_>>(), expected);

    let mut h = store.get(&m, &user(3)).await.unwrap().unwrap();
    h.paused = true;
    store.save(&h).await.unwrap();
    let (users, _) = fanout(store, &m, Shard::ALL, 10).await;
    assert_eq!(users.len(), 4);
    assert!(!users.contains(&user(3)));
}

/// Shards partition the fan-out: every household in exactly one shard of any count; a
/// cursor of one shard is refused by another as `Corrupt`.
pub async fn shards_split_the_fanout_exactly_once(store: &dyn HouseholdStore) {
    let m = municipality("big-city");
    let all: BTreeSet<_> = (100..160).map(user).collect();
    for n in 100..160 {
        store.save(&receiving(&m, n)).await.unwrap();
    }
    for count in [1u16, 3, 4] {
        let mut seen = Vec::new();
        for index in 0..count {
            let shard = Shard::new(index, count).unwrap();
            let (users, _) = fanout(store, &m, shard, 7).await;
            assert!(users.iter().all(|u| shard.covers(u)));
            seen.extend(users);
        }
        assert_eq!(seen.len(), all.len(), "{count} shards: a household twice?");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);
    }
    let page = store
        .deliverable_page(&m, Shard::new(0, 2).unwrap(), None, 1)
        .await
        .unwrap();
    let err = store
        .deliverable_page(&m, Shard::new(1, 2).unwrap(), page.next, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    let garbage = Some("not a cursor".to_owned());
    let err = store
        .deliverable_page(&m, Shard::ALL, garbage, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

/// Every household of one town, receiving or not, pages through in user order.
pub async fn all_households_of_a_municipality_page_through(store: &dyn HouseholdStore) {
    let m = municipality("ama-town");
    for n in 1..=5 {
        let mut h = receiving(&m, n);
        h.paused = n % 2 == 0;
        store.save(&h).await.unwrap();
    }
    store
        .save(&receiving(&municipality("other-town"), 9))
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

/// The retention purge deletes only households unfollowed before the cutoff that have not
/// followed again, and only in the named town.
pub async fn retention_purge_deletes_only_long_unfollowed_households(store: &dyn HouseholdStore) {
    let m = municipality("ama-town");
    let mut old = receiving(&m, 1);
    old.following = false;
    old.unfollowed_on = Some(date(2026, 1, 10));
    let mut recent = receiving(&m, 2);
    recent.following = false;
    recent.unfollowed_on = Some(date(2026, 11, 1));
    let mut refollowed = receiving(&m, 3);
    refollowed.unfollowed_on = Some(date(2025, 1, 1));
    let following = receiving(&m, 4);
    let mut old_elsewhere = old.clone();
    old_elsewhere.municipality = municipality("other-town");
    for h in [&old, &recent, &refollowed, &following, &old_elsewhere] {
        store.save(h).await.unwrap();
    }
    let cutoff = date(2026, 6, 1);
    assert_eq!(store.purge_unfollowed_before(&m, cutoff).await.unwrap(), 1);
    assert_eq!(store.get(&m, &old.user).await.unwrap(), None);
    for h in [&recent, &refollowed, &following] {
        assert!(store.get(&m, &h.user).await.unwrap().is_some());
    }
    let other = &old_elsewhere.municipality;
    assert!(store.get(other, &old.user).await.unwrap().is_some());
    assert_eq!(store.purge_unfollowed_before(&m, cutoff).await.unwrap(), 0);
}

// ---------------------------------------------------------------- webhook events

/// Claim → in progress → complete → already done; release reopens only an unfinished
/// claim; a crashed claim's 60 s lock expires; a done id is forgotten after 14 days;
/// completing an unknown id is `NotFound`.
pub async fn event_claims_follow_the_idempotency_protocol(log: &dyn WebhookEventLog) {
    let t0 = at("2026-12-01T09:00:00Z");
    assert_eq!(log.claim("ev-1", t0).await.unwrap(), Claim::Acquired);
    assert_eq!(log.claim("ev-1", t0).await.unwrap(), Claim::InProgress);
    log.complete("ev-1").await.unwrap();
    assert_eq!(log.claim("ev-1", t0).await.unwrap(), Claim::AlreadyDone);
    log.release("ev-1").await.unwrap();
    let later = t0 + ChronoDuration::minutes(5);
    assert_eq!(log.claim("ev-1", later).await.unwrap(), Claim::AlreadyDone);

    assert_eq!(log.claim("ev-2", t0).await.unwrap(), Claim::Acquired);
    log.release("ev-2").await.unwrap();
    assert_eq!(log.claim("ev-2", t0).await.unwrap(), Claim::Acquired);

    assert_eq!(log.claim("ev-3", t0).await.unwrap(), Claim::Acquired);
    let within = t0 + ChronoDuration::seconds(59);
    assert_eq!(log.claim("ev-3", within).await.unwrap(), Claim::InProgress);
    let past = t0 + ChronoDuration::seconds(61);
    assert_eq!(log.claim("ev-3", past).await.unwrap(), Claim::Acquired);

    let retention_over = t0 + ChronoDuration::days(15);
    assert_eq!(
        log.claim("ev-1", retention_over).await.unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        log.complete("never-claimed").await,
        Err(StoreError::NotFound)
    );
}

/// `done_among` names exactly the done, unexpired ids among many (one named twice), not the
/// in-progress or unknown ones, and none past the retention.
pub async fn done_events_are_found_among_many(log: &dyn WebhookEventLog) {
    let t0 = at("2026-12-01T09:00:00Z");
    let ids: Vec<String> = (0..250).map(|i| format!("ev-{i:03}")).collect();
    for id in ids.iter().step_by(3) {
        log.claim(id, t0).await.unwrap();
        log.complete(id).await.unwrap();
    }
    log.claim(&ids[1], t0).await.unwrap();
    let mut asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    asked.push(&ids[0]);
    let done = log.done_among(&asked, t0).await.unwrap();
    let expected: HashSet<String> = ids.iter().step_by(3).cloned().collect();
    assert_eq!(done, expected);
    let later = log
        .done_among(&asked, t0 + ChronoDuration::days(15))
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
}

/// Of concurrent claims of one id, exactly one acquires it; the others see it in progress.
pub async fn concurrent_claims_of_one_event_have_one_winner(log: &dyn WebhookEventLog) {
    let now = at("2026-12-01T09:00:00Z");
    for round in 0..5 {
        let id = format!("ev-race-{round}");
        let claims: Vec<Claim> = join_all((0..8).map(|_| log.claim(&id, now)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
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
pub async fn record_sent(
    ledger: &dyn DeliveryLedger,
    m: &MunicipalityId,
    d: NaiveDate,
    users: &[&LineUserId],
    now: DateTime<Utc>,
) {
    let key = run_key(m, d);
    let lease = Duration::from_secs(60);
    let acquired = ledger
        .acquire_shard(&key, "test", now, lease)
        .await
        .unwrap();
    assert!(matches!(acquired, ShardLease::Acquired(_)), "{acquired:?}");
    let outcomes = users.iter().map(|u| sent((*u).clone(), "req")).collect();
    let commit = page_commit(outcomes, RunCounts::default());
    ledger
        .commit(&key, "test", &commit, now, lease)
        .await
        .unwrap();
    ledger.release_shard(&key, "test", false).await.unwrap();
}

/// The send job's lease: one holder at a time (its holder may take it again); a dead
/// holder's lease expires and the next holder is told the job was resumed; a commit by a
/// sender that lost the lease is `Conflict` and writes nothing (no entry, no run record, no
/// resume position); a commit writes outcomes, run
/// counts and the resume position together; an oversized commit is refused; the resume
/// position survives a release; releasing someone else's lease changes nothing; a finished
/// job stays `Done`; another date is another job.
///
/// `runs` must be the run records the ledger's commits write.
pub async fn shard_leases_commits_and_outcomes(ledger: &dyn DeliveryLedger, runs: &dyn RunRecords) {
    let m = municipality("ama-town");
    let d = date(2026, 12, 1);
    let key = run_key(&m, d);
    let t0 = at("2026-11-30T23:00:00Z");
    let lease = Duration::from_secs(120);

    assert_eq!(
        ledger.acquire_shard(&key, "a", t0, lease).await.unwrap(),
        ShardLease::Acquired(ShardProgress::default()),
        "a fresh job starts at the shard's first page"
    );
    let within = t0 + ChronoDuration::seconds(119);
    assert_eq!(
        ledger
            .acquire_shard(&key, "b", within, lease)
            .await
            .unwrap(),
        ShardLease::HeldByOther
    );
    // A sender taking its own lease again (a redelivered job in the same instance) keeps it.
    assert!(matches!(
        ledger
            .acquire_shard(&key, "a", within, lease)
            .await
            .unwrap(),
        ShardLease::Acquired(ShardProgress { resumed: true, .. })
    ));
    let t1 = t0 + ChronoDuration::seconds(240);
    assert_eq!(
        ledger.acquire_shard(&key, "b", t1, lease).await.unwrap(),
        ShardLease::Acquired(ShardProgress {
            resumed: true,
            ..Default::default()
        })
    );
    let mut late = page_commit(
        vec![sent(user(9), "req-late")],
        RunCounts {
            sent: 1,
            ..Default::default()
        },
    );
    late.counted_pages = Some(7);
    late.resume = Some((Some("late-cursor".into()), 7));
    assert_eq!(
        ledger.commit(&key, "a", &late, t1, lease).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(ledger.get(&m, d, &user(9)).await.unwrap(), None);
    assert_eq!(runs.get(&key).await.unwrap(), None);
    assert_eq!(
        ledger.acquire_shard(&key, "b", t1, lease).await.unwrap(),
        ShardLease::Acquired(ShardProgress {
            resumed: true,
            ..Default::default()
        }),
        "the refused commit moved no resume position"
    );

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
    assert_eq!(found.len(), 3, "user 5 has no entry; user 1 is asked twice");
    assert_eq!(found[&user(3)].attempt, 2);
    assert_eq!(
        found[&user(4)].state,
        DeliveryState::Failed {
            reason: "LINE 400 invalid message".into(),
            retryable: false
        }
    );
    let listed: BTreeSet<_> = ledger
        .list(&m, d)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.user)
        .collect();
    assert_eq!(listed, [user(1), user(3), user(4)].into_iter().collect());

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
    assert_eq!(ledger.get(&m, d, &user(100)).await.unwrap(), None);

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
    ledger.release_shard(&key, "b", true).await.unwrap();
    assert_eq!(
        ledger.acquire_shard(&key, "d", t1, lease).await.unwrap(),
        ShardLease::HeldByOther,
        "b's release of c's lease changed nothing"
    );
    ledger.release_shard(&key, "c", true).await.unwrap();
    let an_hour_later = t1 + ChronoDuration::hours(1);
    assert_eq!(
        ledger
            .acquire_shard(&key, "e", an_hour_later, lease)
            .await
            .unwrap(),
        ShardLease::Done
    );
    assert!(matches!(
        ledger
            .acquire_shard(&run_key(&m, date(2026, 12, 2)), "e", t1, lease)
            .await
            .unwrap(),
        ShardLease::Acquired(_)
    ));
}

/// `forget_user` removes one parent's entries on the dates around `around`, in one town
/// only, leaves the neighbours' alone, and is harmless twice.
pub async fn forget_user_removes_one_parent(ledger: &dyn DeliveryLedger) {
    let (m, other_town) = (municipality("ama-town"), municipality("other-town"));
    let (parent, neighbour) = (user(1), user(2));
    let today = date(2027, 3, 10);
    // The dates every implementation must cover: yesterday, today and tomorrow.
    let dates = [
        today - ChronoDuration::days(1),
        today,
        today + ChronoDuration::days(1),
    ];
    for d in dates {
        let t = d.and_hms_opt(7, 0, 0).unwrap().and_utc() - ChronoDuration::hours(9);
        record_sent(ledger, &m, d, &[&parent, &neighbour], t).await;
        record_sent(ledger, &other_town, d, &[&parent], t).await;
    }
    ledger.forget_user(&m, &parent, today).await.unwrap();
    for d in dates {
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
    ledger.forget_user(&m, &parent, today).await.unwrap();
}

/// Of concurrent lease claims on one job, exactly one acquires it.
pub async fn concurrent_lease_claims_have_one_winner(ledger: &dyn DeliveryLedger) {
    let m = municipality("ama-town");
    let now = at("2026-11-30T23:00:00Z");
    let owners: Vec<String> = (0..6).map(|n| format!("sender-{n}")).collect();
    for n in 0..5 {
        let key = run_key(&m, date(2026, 12, 1) + ChronoDuration::days(n));
        let leases = join_all(
            owners
                .iter()
                .map(|owner| ledger.acquire_shard(&key, owner, now, Duration::from_secs(60))),
        )
        .await;
        let acquired = leases
            .iter()
            .filter(|l| matches!(l, Ok(ShardLease::Acquired(_))))
            .count();
        assert_eq!(acquired, 1, "day {n}: {leases:?}");
    }
}

// ---------------------------------------------------------------- run records

fn run(m: &str, d: NaiveDate, shard: u16) -> RunKey {
    RunKey {
        municipality: municipality(m),
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

/// Upserts create the record, set status and note, and add counts and notice counts
/// (concurrent ones too); `list_recent` is newest first (date, then shard, descending) and
/// limited to one town; `list_for_date` spans towns.
pub async fn run_records_count_atomically_and_list(runs: &dyn RunRecords) {
    let now = at("2026-12-01T00:00:00Z");
    let key = run("ama-town", date(2026, 12, 1), 0);
    let r = runs
        .upsert(&key, &update(RunStatus::Started, RunCounts::default()), now)
        .await
        .unwrap();
    assert_eq!(r.status, RunStatus::Started);
    assert_eq!(r.counts, RunCounts::default());
    assert_eq!(r.updated_at, now);

    let batches: Vec<RunUpdate> = (0..10)
        .map(|i| {
            let add = RunCounts {
                sent: 10,
                skipped: 1,
                failed: u64::from(i % 2 == 0),
                not_sent_quota: 0,
                missing_content: 2,
            };
            let mut u = update(RunStatus::Started, add);
            u.notices.insert("four-month-checkup".into(), 3);
            if i % 2 == 0 {
                u.notices.insert("parents-class".into(), 1);
            }
            u
        })
        .collect();
    for result in join_all(batches.iter().map(|u| runs.upsert(&key, u, now))).await {
        result.unwrap();
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
    let next_day = run("ama-town", date(2026, 12, 2), 0);
    assert_eq!(runs.get(&next_day).await.unwrap(), None);

    for (m, d, shard) in [
        ("ama-town", date(2026, 11, 30), 0),
        ("ama-town", date(2026, 12, 1), 1),
        ("ama-town", date(2026, 12, 2), 0),
        ("oki-town", date(2026, 12, 1), 0),
    ] {
        let failed = update(RunStatus::Failed, RunCounts::default());
        runs.upsert(&run(m, d, shard), &failed, now).await.unwrap();
    }
    let ama = municipality("ama-town");
    let recent: Vec<_> = runs
        .list_recent(&ama, 3)
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
    assert_eq!(runs.list_recent(&ama, 10).await.unwrap().len(), 4);
    assert!(runs.list_recent(&ama, 0).await.unwrap().is_empty());
    let on_date: BTreeSet<_> = runs
        .list_for_date(date(2026, 12, 1))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key.municipality.to_string(), r.key.shard))
        .collect();
    let expected: BTreeSet<_> = [("ama-town", 0), ("ama-town", 1), ("oki-town", 0)]
        .into_iter()
        .map(|(m, s)| (m.to_owned(), s))
        .collect();
    assert_eq!(on_date, expected);
}

// ---------------------------------------------------------------- content

/// Content files round-trip; `load` reads only `.toml` files under the prefix, sorted;
/// `version` equals `load`'s version and changes with any object under the prefix (the
/// compiled artifact included); a `.toml` that is not UTF-8 is `Corrupt`.
pub async fn content_store_round_trip_and_versions(content: &dyn ContentStore) {
    let put = |path: &'static str, bytes: &[u8]| content.put_object(path, bytes.to_vec());
    put(
        "content/base/pregnancy.toml",
        "[day.100]\ntext = \"こんにちは\"\n".as_bytes(),
    )
    .await
    .unwrap();
    put("content/base/child.toml", b"[day.0]\n").await.unwrap();
    put("content/ama-town/overlay.toml", b"# overlay\n")
        .await
        .unwrap();
    put("drafts/ignored.toml", b"x").await.unwrap();

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
    assert_eq!(
        content.list("content/base/").await.unwrap(),
        ["content/base/child.toml", "content/base/pregnancy.toml"]
    );

    let artifact_path = "content/compiled/library.bin";
    assert_eq!(content.get_object(artifact_path).await.unwrap(), None);
    let artifact = vec![0x4b, 0xff, 0x00, 0xfe];
    put(artifact_path, &artifact).await.unwrap();
    assert_eq!(
        content.get_object(artifact_path).await.unwrap(),
        Some(artifact)
    );
    let with_artifact = content.load("content/").await.unwrap();
    assert_eq!(with_artifact.files, snapshot.files);
    assert_ne!(with_artifact.version, snapshot.version);
    assert_eq!(
        content.version("content/").await.unwrap(),
        with_artifact.version
    );

    put("content/base/child.toml", b"[day.0]\n# edited\n")
        .await
        .unwrap();
    let changed = content.version("content/").await.unwrap();
    assert_ne!(changed, with_artifact.version);
    assert_eq!(content.load("content/").await.unwrap().version, changed);

    put("content/base/broken.toml", &[0xff, 0xfe, 0x00])
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

// ---------------------------------------------------------------- secrets, municipalities

/// Credentials round-trip per town; a writer reads back what it last wrote.
pub async fn channel_secrets_round_trip(secrets: &dyn ChannelSecrets) {
    let m = municipality("ama-town");
    assert_eq!(secrets.get(&m).await.unwrap(), None);
    let first = ChannelCredentials {
        channel_id: "1650000001".into(),
        channel_secret: ChannelSecret::new("secret-1"),
        channel_access_token: None,
    };
    secrets.put(&m, &first).await.unwrap();
    assert_eq!(secrets.get(&m).await.unwrap(), Some(first.clone()));
    let rotated = ChannelCredentials {
        channel_access_token: Some(ChannelToken::new("long-lived-token")),
        ..first
    };
    secrets.put(&m, &rotated).await.unwrap();
    assert_eq!(secrets.get(&m).await.unwrap(), Some(rotated));
    assert_eq!(secrets.get(&municipality("oki-town")).await.unwrap(), None);
}

/// Municipalities round-trip, list all, and `put` replaces.
pub async fn municipality_directory_round_trip(directory: &dyn MunicipalityDirectory) {
    assert!(directory.list().await.unwrap().is_empty());
    let mut ama = Municipality::new(municipality("ama-town"), "海士町", 8);
    ama.bot_user_id = Some("Ubot".into());
    ama.monthly_message_limit = Some(30_000);
    ama.send_shards = 2;
    let oki = Municipality::new(municipality("oki-town"), "隠岐の島町", 7);
    directory.put(&ama).await.unwrap();
    directory.put(&oki).await.unwrap();
    assert_eq!(directory.get(&ama.id).await.unwrap(), Some(ama.clone()));
    assert_eq!(directory.get(&municipality("nowhere")).await.unwrap(), None);
    let mut listed = directory.list().await.unwrap();
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, [ama.clone(), oki]);
    ama.enabled = false;
    directory.put(&ama).await.unwrap();
    assert!(!directory.get(&ama.id).await.unwrap().unwrap().enabled);
}

/// Follow events are counted per town and month, each event id once, also when the same event
/// is counted by several invocations at once.
pub async fn follow_events_are_counted_once_per_town_and_month(tally: &dyn FollowTally) {
    let (town, other) = (municipality("tally-town"), municipality("other-town"));
    let now = at("2027-01-31T14:00:00Z");
    let (jan, feb) = (date(2027, 1, 31), date(2027, 2, 1));
    let count = |m: &MunicipalityId, on, change, id: &'static str| {
        let m = m.clone();
        async move { tally.count_once(&m, on, change, id, now).await.unwrap() }
    };
    assert!(count(&town, jan, FollowChange::NewFriend, "01EVENTA").await);
    assert!(
        !count(&town, jan, FollowChange::NewFriend, "01EVENTA").await,
        "a redelivered event adds nothing"
    );
    assert!(count(&town, jan, FollowChange::NewFriend, "01EVENTB").await);
    assert!(count(&town, jan, FollowChange::Unfollowed, "01EVENTC").await);
    assert!(count(&town, feb, FollowChange::Unblocked, "01EVENTD").await);
    assert!(count(&other, jan, FollowChange::NewFriend, "01EVENTE").await);
    // The same event handled by three invocations at once: one of them counts it; the others
    // find it counted, or (DynamoDB's transaction conflict) fail retryably and would find it
    // counted when LINE redelivers.
    let racing = join_all(
        (0..3).map(|_| tally.count_once(&town, feb, FollowChange::NewFriend, "01EVENTF", now)),
    )
    .await;
    assert_eq!(
        racing.iter().filter(|r| matches!(r, Ok(true))).count(),
        1,
        "{racing:?}"
    );
    assert!(
        racing
            .iter()
            .all(|r| r.is_ok() || r.as_ref().is_err_and(StoreError::is_retryable)),
        "{racing:?}"
    );

    let counts = tally
        .counts(
            &town,
            &[date(2027, 1, 1), date(2027, 2, 15), date(2026, 12, 1)],
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        [
            FollowCounts {
                new_friends: 2,
                unblocked: 0,
                unfollowed: 1
            },
            FollowCounts {
                new_friends: 1,
                unblocked: 1,
                unfollowed: 0
            },
            FollowCounts::default(),
        ]
    );
    let counts = tally.counts(&other, &[jan]).await.unwrap();
    assert_eq!(counts[0].new_friends, 1);
}
