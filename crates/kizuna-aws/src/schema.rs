//! Key, index and attribute names of every table: the one place they are spelt.
//! `docs/data-model.md` documents them; [`crate::provision`] and the SAM template create them.

/// `municipalities`: one item per municipality (the `Municipality` record via serde_dynamo).
pub mod municipalities {
    pub const PK: &str = "municipality_id";
}

/// `households`: one item per (municipality, LINE user) (the `Household` via serde_dynamo).
pub mod households {
    pub const PK: &str = "municipality_id";
    pub const SK: &str = "user_id";
    /// Optimistic-concurrency version (the `Household::version` field).
    pub const VERSION: &str = "version";
    /// Sparse GSI of the households that receive messages, per fan-out bucket.
    pub const GSI_DELIVERABLE: &str = "deliverable";
    /// GSI partition key: `"{municipality}#{bucket:02}"`; present only while
    /// `Household::receives_messages()`.
    pub const SEND_SHARD: &str = "send_shard";
    /// TTL attribute (epoch seconds): unfollowed_on + retention, only while unfollowed.
    pub const EXPIRES_AT: &str = "expires_at";
    /// Household fields used in filter and condition expressions.
    pub const FOLLOWING: &str = "following";
    pub const UNFOLLOWED_ON: &str = "unfollowed_on";
}

/// `webhook_events`: one item per processed LINE `webhookEventId`.
pub mod events {
    pub const PK: &str = "event_id";
    /// `in_progress` | `done`.
    pub const STATUS: &str = "status";
    /// Epoch milliseconds after which an `in_progress` claim may be taken over.
    pub const LOCK_EXPIRES_AT: &str = "lock_expires_at";
    /// TTL attribute, epoch seconds.
    pub const EXPIRES_AT: &str = "expires_at";
    pub const IN_PROGRESS: &str = "in_progress";
    pub const DONE: &str = "done";
}

/// `deliveries`: the delivery ledger and the run records.
pub mod deliveries {
    pub const PK: &str = "pk";
    /// Sort key. Ledger items: the LINE user id. Run records: `"{YYYY-MM-DD}#{shard:03}"`.
    pub const SK: &str = "user_id";
    pub const STATUS: &str = "status";
    pub const ATTEMPT: &str = "attempt";
    /// Epoch milliseconds.
    pub const LEASE_EXPIRES_AT: &str = "lease_expires_at";
    pub const REQUEST_ID: &str = "request_id";
    pub const MESSAGE_COUNT: &str = "message_count";
    pub const FAILURE_REASON: &str = "failure_reason";
    pub const RETRYABLE: &str = "retryable";
    /// TTL attribute, epoch seconds.
    pub const EXPIRES_AT: &str = "expires_at";
    pub const CLAIMED: &str = "claimed";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";

    /// Sparse GSI over run records only: every municipality's runs of one date.
    pub const GSI_RUNS_BY_DATE: &str = "runs_by_date";
    /// GSI partition key: `"YYYY-MM-DD"`.
    pub const RUN_DATE: &str = "run_date";
    /// GSI sort key: `"{municipality}#{shard:03}"`.
    pub const RUN_ID: &str = "run_id";
    pub const RUN_PK_PREFIX: &str = "run#";
}

/// How long a processed webhook event id is remembered (LINE redelivers for far less).
pub const EVENT_RETENTION_DAYS: i64 = 14;
/// How long ledger entries and run records are kept (a year of history for operators, plus
/// a month so that "same date last year" comparisons work).
pub const DELIVERY_RETENTION_DAYS: i64 = 400;
