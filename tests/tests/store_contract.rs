//! The store contract (`kizuna_app::memory::contract`) run against the AWS adapters on moto:
//! the same checks the in-memory stores pass, so behaviour tests written on the in-memory
//! stores describe what production does. Each check gets a fresh namespace (empty tables).
//!
//! `shard_leases_commits_and_outcomes` runs in tests/stores.rs, which then checks the raw
//! lease item. tests/stores.rs keeps what only the AWS side has: raw items (keys, TTL attributes, index
//! attributes), the secrets cache, the queue's JSON and provisioning.

use kizuna_app::memory::contract;
use kizuna_tests::test_aws;

macro_rules! on_moto {
    ($($check:ident($($port:ident),+);)+) => {$(
        #[tokio::test]
        async fn $check() {
            let aws = test_aws().await;
            contract::$check($(&aws.$port()),+).await;
        }
    )+};
}

on_moto! {
    household_saves_are_conditional_on_the_version(households);
    concurrent_saves_of_one_version_have_one_winner(households);
    household_deletes_are_conditional_and_idempotent(households);
    deliverable_pages_list_only_receiving_households(households);
    shards_split_the_fanout_exactly_once(households);
    all_households_of_a_municipality_page_through(households);
    retention_purge_deletes_only_long_unfollowed_households(households);
    event_claims_follow_the_idempotency_protocol(events);
    done_events_are_found_among_many(events);
    concurrent_claims_of_one_event_have_one_winner(events);
    follow_events_are_counted_once_per_town_and_month(follows);
    forget_user_removes_one_parent(ledger);
    concurrent_lease_claims_have_one_winner(ledger);
    run_records_count_atomically_and_list(runs);
    content_store_round_trip_and_versions(content);
    channel_secrets_round_trip(secrets);
    municipality_directory_round_trip(municipalities);
}

/// The in-memory event log copies two numbers from the DynamoDB one (kizuna-app cannot depend
/// on kizuna-aws): they must stay equal, or behaviour tests would describe another product.
#[test]
fn the_in_memory_event_log_keeps_the_aws_retention_and_lock() {
    use kizuna_app::memory;
    assert_eq!(
        memory::EVENT_RETENTION,
        chrono::Duration::days(kizuna_aws::schema::EVENT_RETENTION_DAYS)
    );
    assert_eq!(memory::DEFAULT_EVENT_LOCK, kizuna_aws::DEFAULT_EVENT_LOCK);
}
