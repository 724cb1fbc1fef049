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
    /// Key prefix of a town's monthly follow tally: `tally#{municipality}#{YYYY-MM}`, with
    /// one number attribute per follow change (`new_friends`, `unblocked`, `unfollowed`).
    pub const TALLY_PREFIX: &str = "tally#";
    /// Key prefix of the marker of a counted follow event: `counted#{webhookEventId}`.
    pub const COUNTED_PREFIX: &str = "counted#";
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
/// How long a town's monthly follow tally is kept after the month's last follow event: a year
/// of monthly figures and a month more, as the run records. Counts only, no user id.
pub const TALLY_RETENTION_DAYS: i64 = 400;
/// How long run records are kept (a year of history for operators, plus a month so that
/// "same date last year" comparisons work). Run records hold counts and an operator note per
/// (municipality, date, shard) — no LINE user id.
pub const RUN_RECORD_RETENTION_DAYS: i64 = 400;

/// How long a delivery ledger item is kept after it is written.
///
/// A ledger item is keyed by a LINE user id and a delivery date, so it says on which days a
/// parent received a message; it is kept only as long as exactly-once sending needs it:
/// * the sender sends a date's messages only on that date, until 21:59 Japan time
///   (`kizuna_app::schedule::may_send_now`), catch-up included (≤ 8 h after the delivery
///   hour), and `kizuna send` for a past date refuses to send in the same way — so no entry
///   of a date is ever written more than a day after its first;
/// * LINE honours a push's `X-Line-Retry-Key` for 24 h, so nothing older is needed to
///   recognise an accepted push either.
///
/// Three days cover that day plus a weekend for an operator to look at a day's per-household
/// states (`kizuna send --dry-run`) after a complaint; nothing reads an item after that. The
/// delivery history that is kept longer is the run records' counts.
pub const LEDGER_RETENTION_DAYS: i64 = 3;

/// DynamoDB TTL deletes an expired item late (typically within 48 hours), so an item may
/// still be stored this long after its `expires_at`.
pub const TTL_DELETION_LAG_DAYS: i64 = 2;

/// Every delivery date whose ledger items may still be stored on `around` (a Japan date):
/// an entry of date D is written on D, expires [`LEDGER_RETENTION_DAYS`] later and is deleted
/// up to [`TTL_DELETION_LAG_DAYS`] after that; one day more on each side absorbs a caller
/// whose "today" is a UTC date.
pub fn ledger_dates_possibly_held(around: chrono::NaiveDate) -> Vec<chrono::NaiveDate> {
    let back = LEDGER_RETENTION_DAYS + TTL_DELETION_LAG_DAYS + 1;
    (-back..=1)
        .filter_map(|offset| around.checked_add_signed(chrono::Duration::days(offset)))
        .collect()
}

/// Audit records of `kizuna household …` (the operator's look-ups and deletions of one
/// parent's data) live in the `deliveries` table: PK `"audit#{municipality}"`, SK
/// `"{RFC 3339 UTC time}#{action}#{6 random hex}"`. They carry a fingerprint of the LINE
/// user id, never the id, and no TTL: they are the town's record of who handled a
/// resident's request.
pub mod audit {
    pub const PK_PREFIX: &str = "audit#";
    pub const OPERATOR: &str = "operator";
    pub const ACTION: &str = "action";
    pub const AT: &str = "at";
    pub const MUNICIPALITY: &str = "municipality";
    pub const USER_FINGERPRINT: &str = "user_fingerprint";
    /// What the command found or did, in words and counts (never an id or a date of birth).
    pub const OUTCOME: &str = "outcome";
}
