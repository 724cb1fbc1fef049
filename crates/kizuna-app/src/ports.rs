//! What the use cases need from the outside world: one small trait per concern.
//!
//! Every trait is object-safe (`async_trait`), so a Lambda `main` builds the adapters once and
//! hands each handler `Arc<dyn …>` of exactly the ports it uses — which is also the IAM policy
//! that function needs. The AWS implementations live in `kizuna-aws`; the table layout they
//! implement is `docs/data-model.md`. The messaging ports ([`Messenger`],
//! [`WebhookForwarder`]) are declared in [`crate::messaging`] and re-exported here; their
//! LINE implementations live in `kizuna-line`.

pub use crate::messaging::{
    Messenger, MessengerError, MonthlyQuota, PushReceipt, WebhookForwarder,
};
use crate::model::{
    ChannelCredentials, ContentSnapshot, DeliveryRecord, DeliveryState, FollowChange, FollowCounts,
    Municipality, Page, RunKey, RunRecord, RunUpdate, SendJob, Shard,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kizuna_core::{Household, LineUserId, MunicipalityId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Why a store operation failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost a race (the item changed since it was read). Re-read and
    /// re-apply; retrying the same write will fail again.
    #[error("the item was changed concurrently")]
    Conflict,
    #[error("the item does not exist")]
    NotFound,
    /// The store is throttling us; back off and retry.
    #[error("throttled")]
    Throttled,
    /// Network error, timeout, 5xx, or anything else transient or unclassified.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored item could not be read back into its type: a bug or a hand-edited item.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the same call may succeed later (so an SQS message should be retried, or LINE
    /// should be answered 5xx to redeliver).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Throttled | StoreError::Unavailable(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The municipalities Kizuna serves.
#[async_trait]
pub trait MunicipalityDirectory: Send + Sync {
    async fn get(&self, id: &MunicipalityId) -> StoreResult<Option<Municipality>>;
    /// Creates or replaces.
    async fn put(&self, municipality: &Municipality) -> StoreResult<()>;
    /// All municipalities (at most a couple of thousand), in no particular order.
    async fn list(&self) -> StoreResult<Vec<Municipality>>;
}

/// Each municipality's LINE channel credentials. Implementations may cache.
#[async_trait]
pub trait ChannelSecrets: Send + Sync {
    async fn get(&self, id: &MunicipalityId) -> StoreResult<Option<ChannelCredentials>>;
    /// Creates or replaces.
    async fn put(&self, id: &MunicipalityId, credentials: &ChannelCredentials) -> StoreResult<()>;
}

/// Households: one item per (municipality, LINE user).
#[async_trait]
pub trait HouseholdStore: Send + Sync {
    async fn get(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
    ) -> StoreResult<Option<Household>>;

    /// Stores `household` if the stored version is still `household.version` (0: it must not
    /// exist yet). Returns the new stored version (`household.version + 1`), or
    /// [`StoreError::Conflict`] if someone else wrote in between.
    async fn save(&self, household: &Household) -> StoreResult<u64>;

    /// Deletes everything kept about this parent in this municipality, if the stored version
    /// is still `household.version`: a delete decided on an older read would erase a change
    /// made in between, so it is [`StoreError::Conflict`] instead, like [`Self::save`].
    /// Deleting a household that no longer exists is not an error.
    async fn delete(&self, household: &Household) -> StoreResult<()>;

    /// The households of one fan-out shard that [receive messages](Household::receives_messages),
    /// by an index query (never a Scan). Pass the returned `next` back as `cursor`.
    async fn deliverable_page(
        &self,
        municipality: &MunicipalityId,
        shard: Shard,
        cursor: Option<String>,
        limit: u32,
    ) -> StoreResult<Page<Household>>;

    /// Every household of a municipality, receiving or not (statistics, forecasts).
    async fn all_in_municipality_page(
        &self,
        municipality: &MunicipalityId,
        cursor: Option<String>,
        limit: u32,
    ) -> StoreResult<Page<Household>>;

    /// Deletes the households that unfollowed before `cutoff` and have not followed again
    /// (the retention limit). Returns how many were deleted.
    async fn purge_unfollowed_before(
        &self,
        municipality: &MunicipalityId,
        cutoff: NaiveDate,
    ) -> StoreResult<u64>;
}

/// The outcome of claiming a webhook event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours to process; call `complete` after, or `release` if processing failed.
    Acquired,
    /// Processed before: answer 200 and do nothing.
    AlreadyDone,
    /// Another invocation is processing it right now (its lock has not expired).
    InProgress,
}

/// Processed webhook event ids, so a redelivered or duplicated event has one effect.
#[async_trait]
pub trait WebhookEventLog: Send + Sync {
    async fn claim(&self, event_id: &str, now: DateTime<Utc>) -> StoreResult<Claim>;
    async fn complete(&self, event_id: &str) -> StoreResult<()>;
    /// Gives up a claim after a failure, so LINE's redelivery can process the event again.
    async fn release(&self, event_id: &str) -> StoreResult<()>;
    /// Which of `event_ids` are done (and not expired), in a few batched reads: lets a
    /// redelivery of a large body skip its done events without one claim each.
    async fn done_among(
        &self,
        event_ids: &[&str],
        now: DateTime<Utc>,
    ) -> StoreResult<HashSet<String>>;
}

/// Per town and month, how many follow events of each [`FollowChange`] arrived: counts only
/// (no user id), for the registration funnel of `kizuna stats`.
#[async_trait]
pub trait FollowTally: Send + Sync {
    /// Adds one to `municipality`'s count of `change` in the month of `on` (a Japan date),
    /// once per `event_id`: a redelivered event, or one handled again after a failure, adds
    /// nothing. Returns whether this call counted it.
    async fn count_once(
        &self,
        municipality: &MunicipalityId,
        on: NaiveDate,
        change: FollowChange,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// The counts of the months of `months` (any date in each), in that order; a month
    /// without events is all zeros.
    async fn counts(
        &self,
        municipality: &MunicipalityId,
        months: &[NaiveDate],
    ) -> StoreResult<Vec<FollowCounts>>;
}

/// Where a send job stands, as its shard lease says. Only the sender holding the lease writes
/// deliveries of the job; the lease also carries where a rerun resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardLease {
    /// Ours until the lease expires (each commit extends it).
    Acquired(ShardProgress),
    /// Another sender holds an unexpired lease on this job.
    HeldByOther,
    /// An earlier attempt delivered every page: nothing is left to do today.
    Done,
}

/// What earlier attempts at a send job left, read when its lease is acquired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardProgress {
    /// An earlier attempt held this job today, so some of its households may be settled (sent
    /// or failed for good) and must be looked up before pushing.
    pub resumed: bool,
    /// The listing cursor of the first page not fully settled (`None`: the shard's start).
    /// It may hold a LINE user id: pass it on, never log it.
    pub resume: Option<String>,
    /// That page's number, counted from the shard's first page.
    pub resume_page: u32,
    /// How many pages (from the shard's first) had their nothing-to-send households counted,
    /// so a rerun does not count them twice.
    pub counted_pages: u32,
}

/// One household's result of a send attempt, as the ledger stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub user: LineUserId,
    /// Attempts at this household's delivery today, this one included.
    pub attempt: u32,
    /// `Sent` or `Failed`.
    pub state: DeliveryState,
}

/// The most outcomes one [`DeliveryLedger::commit`] takes: DynamoDB's 100 actions per
/// transaction, less the run record and the lease.
pub const MAX_OUTCOMES_PER_COMMIT: usize = 98;

/// What one commit writes, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCommit {
    /// At most [`MAX_OUTCOMES_PER_COMMIT`].
    pub outcomes: Vec<DeliveryOutcome>,
    /// Counts and notices to add to the run record (its status becomes `update.status`).
    pub run: RunUpdate,
    /// New value of [`ShardProgress::counted_pages`], when this commit counted a new page.
    pub counted_pages: Option<u32>,
    /// New resume position (cursor, page number), when every page before it is settled.
    pub resume: Option<(Option<String>, u32)>,
}

/// One ledger entry per (municipality, delivery date, LINE user), for exactly-once sending,
/// plus one lease per send job.
///
/// A send job's sender holds the job's lease, pushes a page, then commits the page's
/// outcomes together with the run record's counts in one transaction: the counts can never
/// disagree with the ledger, whatever crashes. A push whose commit never happened is pushed
/// again by the next attempt with the same `X-Line-Retry-Key`; LINE answers 409 and it is
/// committed then — delivered once, counted once (docs/fanout.md has the crash table).
#[async_trait]
pub trait DeliveryLedger: Send + Sync {
    /// Takes the job's lease for `lease` if nobody holds an unexpired one (or `owner` does).
    async fn acquire_shard(
        &self,
        key: &RunKey,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<ShardLease>;

    /// Writes `commit` atomically and extends the lease to `now + lease`.
    /// [`StoreError::Conflict`] if `owner` no longer holds the lease (nothing is written).
    async fn commit(
        &self,
        key: &RunKey,
        owner: &str,
        commit: &PageCommit,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<()>;

    /// Gives up the lease; `done` marks the job finished for the day (a later attempt then
    /// finds [`ShardLease::Done`]) and forgets the resume cursor. A lease `owner` no longer
    /// holds is left alone.
    async fn release_shard(&self, key: &RunKey, owner: &str, done: bool) -> StoreResult<()>;

    async fn get(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
    ) -> StoreResult<Option<DeliveryRecord>>;

    /// Every ledger entry of one municipality and date (leases not included).
    async fn list(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
    ) -> StoreResult<Vec<DeliveryRecord>>;

    /// The ledger entries of `users` that exist for the date, in a few batched, strongly
    /// consistent reads: lets a rerun skip the settled households.
    async fn records_among(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        users: &[LineUserId],
    ) -> StoreResult<HashMap<LineUserId, DeliveryRecord>>;

    /// Deletes every ledger item of `user` in `municipality` that may still be stored on
    /// `around` (the caller's today, Japan time): the parent's 削除 and an operator's
    /// `kizuna household delete` leave no trace of on which days they received messages.
    /// Items that do not exist are not an error. Sending for a date whose items were
    /// forgotten is not possible any more (the sender sends only today's date, and a
    /// deleted household receives nothing), so exactly-once is not weakened.
    async fn forget_user(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
        around: NaiveDate,
    ) -> StoreResult<()>;
}

/// Per send job (municipality, date, shard): status and counts, for catch-up and operators.
#[async_trait]
pub trait RunRecords: Send + Sync {
    /// Creates the record if needed, sets the status (and note), and adds `update.add` to the
    /// counts atomically, so concurrent batches never lose a count. Returns the new record.
    async fn upsert(
        &self,
        key: &RunKey,
        update: &RunUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<RunRecord>;
    async fn get(&self, key: &RunKey) -> StoreResult<Option<RunRecord>>;
    /// The newest `n` records of a municipality, newest date first (shards of one date in
    /// descending order).
    async fn list_recent(
        &self,
        municipality: &MunicipalityId,
        n: u32,
    ) -> StoreResult<Vec<RunRecord>>;
    /// Every municipality's records for one delivery date.
    async fn list_for_date(&self, date: NaiveDate) -> StoreResult<Vec<RunRecord>>;
}

/// Content packs as files (S3 objects).
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// Every `.toml` file under `prefix` (other objects, such as the compiled artifact, are
    /// not read, but they count in the version). A `.toml` file that is not UTF-8 is
    /// [`StoreError::Corrupt`].
    async fn load(&self, prefix: &str) -> StoreResult<ContentSnapshot>;
    /// The version `load(prefix)` would return, from a listing only (no object reads), so a
    /// warm sender can keep its library when nothing changed. Covers every object under
    /// `prefix`, the compiled artifact included.
    async fn version(&self, prefix: &str) -> StoreResult<String>;
    /// One object's bytes, `None` if there is no such object (the compiled artifact).
    async fn get_object(&self, path: &str) -> StoreResult<Option<Vec<u8>>>;
    async fn put_object(&self, path: &str, bytes: Vec<u8>) -> StoreResult<()>;
    /// Paths under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>>;
}

/// The queue of send jobs (scheduler → sender).
#[async_trait]
pub trait SendQueue: Send + Sync {
    /// Enqueues every job or fails; on failure some jobs may already be enqueued, which is
    /// harmless because the sender is idempotent per delivery.
    async fn enqueue(&self, jobs: &[SendJob]) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    // The ports must stay object-safe: handlers take `Arc<dyn …>`.
    #[allow(dead_code)]
    struct Ports {
        municipalities: Arc<dyn MunicipalityDirectory>,
        secrets: Arc<dyn ChannelSecrets>,
        households: Arc<dyn HouseholdStore>,
        events: Arc<dyn WebhookEventLog>,
        ledger: Arc<dyn DeliveryLedger>,
        runs: Arc<dyn RunRecords>,
        content: Arc<dyn ContentStore>,
        queue: Arc<dyn SendQueue>,
        messenger: Arc<dyn Messenger>,
        forwarder: Arc<dyn WebhookForwarder>,
    }

    #[test]
    fn only_transient_errors_are_retryable() {
        assert!(StoreError::Throttled.is_retryable());
        assert!(StoreError::Unavailable("timeout".into()).is_retryable());
        assert!(!StoreError::Conflict.is_retryable());
        assert!(!StoreError::NotFound.is_retryable());
        assert!(!StoreError::Corrupt("x".into()).is_retryable());
    }
}
