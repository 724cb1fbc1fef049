//! The AWS adapters against moto, through the real aws-sdk clients.
//!
//! Each test provisions its own namespace, so they run in parallel against one server.
//! The behaviours every store shares with the in-memory stores are checked by
//! tests/store_contract.rs (the same contract on both); these tests check what only the AWS
//! side has: raw items (keys, TTL and index attributes), the secrets cache, the queue's JSON,
//! provisioning.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use kizuna_app::memory::contract;
use kizuna_app::model::{ChannelCredentials, SendJob, Shard};
use kizuna_app::ports::{
    ChannelSecrets, Claim, DeliveryLedger, HouseholdStore, SendQueue, StoreError, WebhookEventLog,
};
use kizuna_core::Subject;
use kizuna_core::{Household, LineUserId, MunicipalityId, Registration, RegistrationStatus};
use kizuna_tests::{test_aws, TestAws};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

fn muni(s: &str) -> MunicipalityId {
    MunicipalityId::parse(s).unwrap()
}

fn user(n: u32) -> LineUserId {
    LineUserId::parse(&format!("U{n:032x}")).unwrap()
}

use kizuna_core::testing::date;

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

    let (users, sizes) = contract::fanout(&store, &m, Shard::ALL, 2).await;
    assert!(sizes.iter().all(|&s| s <= 2), "{sizes:?}");
    assert!(sizes.len() >= 3, "5 households in pages of 2: {sizes:?}");
    assert_eq!(users.len(), 5, "each household exactly once");
    assert_eq!(users.into_iter().collect::<BTreeSet<_>>(), expected);

    // Pausing takes a household out of the fan-out.
    let mut h = store.get(&m, &user(3)).await.unwrap().unwrap();
    h.paused = true;
    store.save(&h).await.unwrap();
    let (users, _) = contract::fanout(&store, &m, Shard::ALL, 10).await;
    assert_eq!(users.len(), 4);
    assert!(!users.contains(&user(3)));
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

// ---------------------------------------------------------------- delivery ledger

/// The lease protocol is the store contract's (`contract::shard_leases_commits_and_outcomes`,
/// run here on DynamoDB); what only the table shows: the finished job's lease item keeps no
/// resume cursor (it may hold a LINE user id).
#[tokio::test]
async fn shard_leases_follow_the_contract_and_a_finished_lease_keeps_no_cursor() {
    let aws = test_aws().await;
    contract::shard_leases_commits_and_outcomes(&aws.ledger(), &aws.runs()).await;
    let d = date(2026, 12, 1);
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
        contract::record_sent(&ledger, &m, d, &[&parent, &neighbour], t).await;
        contract::record_sent(&ledger, &other_town, d, &[&parent], t).await;
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

// ---------------------------------------------------------------- run records

// ---------------------------------------------------------------- content, queue, secrets, municipalities

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
async fn provisioning_is_idempotent() {
    let aws = test_aws().await;
    let again = kizuna_aws::provision::create_all(&aws.clients, &aws.config)
        .await
        .unwrap();
    assert_eq!(again.send_queue_url, aws.config.send_queue_url);
}
