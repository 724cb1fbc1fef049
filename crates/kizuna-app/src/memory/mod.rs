//! In-memory implementations of the store ports, for behaviour tests that run in milliseconds.
//!
//! Each `InMemory…` type keeps its state behind one `Mutex` (std only) and reproduces the
//! semantics of its DynamoDB/S3/SQS adapter in `kizuna-aws` as far as a use case can observe
//! them: conditional household versions, the sparse deliverable listing by shard with an
//! opaque cursor, the webhook event log's lock expiry, the send-job lease and all-or-nothing
//! page commits, atomic run-record counts, content versions. [`contract`] holds the checks of
//! those semantics, written against the ports so that the AWS adapters can be held to the
//! same ones.
//!
//! What they do not reproduce: eventual consistency of indexes, TTL deletion, item size
//! limits, the secrets cache (reads always see the last write).
//!
//! **Fault hooks**, so failure paths are cheap to test: every type has a public
//! [`Faults`] field (`faults`) whose [`Faults::fail_next`] (or [`Faults::fail_after`]) makes
//! its next calls fail with a given [`StoreError`] before touching any state; the ledger also has
//! `lost_commit_answers`, which makes commits fail *after* they were applied (the
//! transaction went through, the answer was lost on the way back).
//!
//! LINE's side, the [`Messenger`](crate::messaging::Messenger) and
//! [`WebhookForwarder`](crate::messaging::WebhookForwarder) ports, is in [`messaging`], with
//! scripted faults of its own and [`messenger_contract`] to hold the LINE adapter to it.

pub mod contract;
pub mod messaging;
pub mod messenger_contract;

pub use messaging::{
    ForwardedRequest, InMemoryMessenger, InMemoryWebhookForwarder, LineFault, PushCall,
    RecordedPush, RecordedReply,
};

use crate::model::{
    month_key, ChannelCredentials, ContentFile, ContentSnapshot, DeliveryRecord, FollowChange,
    FollowCounts, Municipality, Page, RunKey, RunRecord, RunUpdate, SendJob, Shard,
};
use crate::ports::{
    ChannelSecrets, Claim, ContentStore, DeliveryLedger, FollowTally, HouseholdStore,
    MunicipalityDirectory, PageCommit, RunRecords, SendQueue, ShardLease, ShardProgress,
    StoreError, StoreResult, WebhookEventLog, MAX_OUTCOMES_PER_COMMIT,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kizuna_core::{Household, LineUserId, MunicipalityId};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Locks `mutex`, ignoring poisoning: a test that panicked while holding it has failed
/// already, and the state it left is still what later assertions should see.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Planned failures of one port: after `ok_calls` more calls succeed, the following `calls`
/// calls fail with `error`.
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<Option<FaultPlan>>,
}

#[derive(Debug)]
struct FaultPlan {
    ok_calls: u32,
    calls: u32,
    error: StoreError,
}

impl Faults {
    /// Makes the next `calls` calls fail with `error` (replacing any earlier plan).
    pub fn fail_next(&self, calls: u32, error: StoreError) {
        self.fail_after(0, calls, error);
    }

    /// Lets `ok_calls` calls through, then fails `calls` calls with `error`: for a use case
    /// that calls one port several times and should fail at a later call.
    pub fn fail_after(&self, ok_calls: u32, calls: u32, error: StoreError) {
        *locked(&self.plan) = (calls > 0).then_some(FaultPlan {
            ok_calls,
            calls,
            error,
        });
    }

    /// Cancels the planned failures.
    pub fn clear(&self) {
        *locked(&self.plan) = None;
    }

    /// How many planned failures are still to come.
    pub fn pending(&self) -> u32 {
        locked(&self.plan).as_ref().map_or(0, |plan| plan.calls)
    }

    /// Counts this call against the plan, and fails it if a failure is due.
    fn check(&self) -> StoreResult<()> {
        let mut guard = locked(&self.plan);
        let Some(plan) = guard.as_mut() else {
            return Ok(());
        };
        if plan.ok_calls > 0 {
            plan.ok_calls -= 1;
            return Ok(());
        }
        let error = plan.error.clone();
        plan.calls -= 1;
        if plan.calls == 0 {
            *guard = None;
        }
        Err(error)
    }
}

// ---------------------------------------------------------------- municipalities

#[derive(Debug, Default)]
pub struct InMemoryMunicipalityDirectory {
    municipalities: Mutex<BTreeMap<MunicipalityId, Municipality>>,
    pub faults: Faults,
}

impl InMemoryMunicipalityDirectory {
    pub fn with(municipalities: impl IntoIterator<Item = Municipality>) -> Self {
        let directory = Self::default();
        locked(&directory.municipalities)
            .extend(municipalities.into_iter().map(|m| (m.id.clone(), m)));
        directory
    }
}

#[async_trait]
impl MunicipalityDirectory for InMemoryMunicipalityDirectory {
    async fn get(&self, id: &MunicipalityId) -> StoreResult<Option<Municipality>> {
        self.faults.check()?;
        Ok(locked(&self.municipalities).get(id).cloned())
    }

    async fn put(&self, municipality: &Municipality) -> StoreResult<()> {
        self.faults.check()?;
        locked(&self.municipalities).insert(municipality.id.clone(), municipality.clone());
        Ok(())
    }

    async fn list(&self) -> StoreResult<Vec<Municipality>> {
        self.faults.check()?;
        Ok(locked(&self.municipalities).values().cloned().collect())
    }
}

// ---------------------------------------------------------------- channel secrets

/// Channel credentials without the adapter's cache: a read always sees the last write.
#[derive(Debug, Default)]
pub struct InMemoryChannelSecrets {
    credentials: Mutex<HashMap<MunicipalityId, ChannelCredentials>>,
    pub faults: Faults,
}

#[async_trait]
impl ChannelSecrets for InMemoryChannelSecrets {
    async fn get(&self, id: &MunicipalityId) -> StoreResult<Option<ChannelCredentials>> {
        self.faults.check()?;
        Ok(locked(&self.credentials).get(id).cloned())
    }

    async fn put(&self, id: &MunicipalityId, credentials: &ChannelCredentials) -> StoreResult<()> {
        self.faults.check()?;
        locked(&self.credentials).insert(id.clone(), credentials.clone());
        Ok(())
    }
}

// ---------------------------------------------------------------- households

#[derive(Debug, Default)]
pub struct InMemoryHouseholdStore {
    households: Mutex<BTreeMap<(MunicipalityId, LineUserId), Household>>,
    pub faults: Faults,
}

/// Where a deliverable listing stopped: the fan-out bucket and the last user returned in it.
/// Text form `"{bucket}:{user id}"`, as the DynamoDB adapter's, so a cursor of another shard
/// is recognised and refused the same way.
fn decode_fanout_cursor(cursor: &str, shard: Shard) -> StoreResult<(u16, LineUserId)> {
    let bad = || StoreError::Corrupt("invalid fan-out cursor".into());
    let (bucket, user) = cursor.split_once(':').ok_or_else(bad)?;
    let bucket: u16 = bucket.parse().map_err(|_| bad())?;
    let user = LineUserId::parse(user).map_err(|_| bad())?;
    if !shard.buckets().any(|b| b == bucket) {
        return Err(StoreError::Corrupt("cursor of another shard".into()));
    }
    Ok((bucket, user))
}

#[async_trait]
impl HouseholdStore for InMemoryHouseholdStore {
    async fn get(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
    ) -> StoreResult<Option<Household>> {
        self.faults.check()?;
        let key = (municipality.clone(), user.clone());
        Ok(locked(&self.households).get(&key).cloned())
    }

    async fn save(&self, household: &Household) -> StoreResult<u64> {
        self.faults.check()?;
        let key = (household.municipality.clone(), household.user.clone());
        let mut households = locked(&self.households);
        let stored_version = households.get(&key).map(|h| h.version);
        // Version 0 means "must not exist yet"; otherwise the stored version must match.
        let expected = (household.version > 0).then_some(household.version);
        if stored_version != expected {
            return Err(StoreError::Conflict);
        }
        let mut stored = household.clone();
        stored.version = household.version + 1;
        households.insert(key, stored);
        Ok(household.version + 1)
    }

    async fn delete(&self, household: &Household) -> StoreResult<()> {
        self.faults.check()?;
        let key = (household.municipality.clone(), household.user.clone());
        let mut households = locked(&self.households);
        match households.get(&key) {
            None => Ok(()),
            Some(stored) if stored.version == household.version => {
                households.remove(&key);
                Ok(())
            }
            Some(_) => Err(StoreError::Conflict),
        }
    }

    async fn deliverable_page(
        &self,
        municipality: &MunicipalityId,
        shard: Shard,
        cursor: Option<String>,
        limit: u32,
    ) -> StoreResult<Page<Household>> {
        self.faults.check()?;
        let shard =
            Shard::new(shard.index, shard.count).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let after = cursor
            .as_deref()
            .map(|c| decode_fanout_cursor(c, shard))
            .transpose()?;
        let households = locked(&self.households);
        // The index order: bucket by bucket, users ascending within a bucket.
        let mut listed: Vec<(u16, &Household)> = households
            .iter()
            .filter(|((m, _), _)| m == municipality)
            .map(|(_, h)| h)
            .filter(|h| h.receives_messages() && shard.covers(&h.user))
            .map(|h| (crate::model::fanout_bucket(&h.user), h))
            .collect();
        listed.sort_by(|(a, ha), (b, hb)| (a, &ha.user).cmp(&(b, &hb.user)));
        let start = match &after {
            None => 0,
            Some((bucket, user)) => listed
                .iter()
                .position(|(b, h)| (b, &h.user) > (bucket, user))
                .unwrap_or(listed.len()),
        };
        let limit = limit.max(1) as usize;
        let rest = &listed[start..];
        let items: Vec<Household> = rest.iter().take(limit).map(|(_, h)| (*h).clone()).collect();
        let next = (rest.len() > limit).then(|| {
            let (bucket, last) = rest[limit - 1];
            format!("{bucket}:{}", last.user.as_str())
        });
        Ok(Page { items, next })
    }

    async fn all_in_municipality_page(
        &self,
        municipality: &MunicipalityId,
        cursor: Option<String>,
        limit: u32,
    ) -> StoreResult<Page<Household>> {
        self.faults.check()?;
        let after = cursor
            .map(|c| {
                LineUserId::parse(&c)
                    .map_err(|_| StoreError::Corrupt("invalid household cursor".into()))
            })
            .transpose()?;
        let households = locked(&self.households);
        let rest: Vec<&Household> = households
            .iter()
            .filter(|((m, u), _)| m == municipality && after.as_ref().is_none_or(|a| u > a))
            .map(|(_, h)| h)
            .collect();
        let limit = limit.max(1) as usize;
        let items: Vec<Household> = rest.iter().take(limit).map(|h| (*h).clone()).collect();
        let next = (rest.len() > limit).then(|| rest[limit - 1].user.as_str().to_owned());
        Ok(Page { items, next })
    }

    async fn purge_unfollowed_before(
        &self,
        municipality: &MunicipalityId,
        cutoff: NaiveDate,
    ) -> StoreResult<u64> {
        self.faults.check()?;
        let mut households = locked(&self.households);
        let before = households.len();
        households.retain(|(m, _), h| {
            let expired = !h.following && h.unfollowed_on.is_some_and(|on| on < cutoff);
            !(m == municipality && expired)
        });
        Ok((before - households.len()) as u64)
    }
}

// ---------------------------------------------------------------- webhook events

/// How long a processed event id is remembered; mirrors `kizuna_aws::schema::EVENT_RETENTION_DAYS`.
pub const EVENT_RETENTION: chrono::Duration = chrono::Duration::days(14);
/// How long an unfinished claim blocks others; mirrors `kizuna_aws::events::DEFAULT_LOCK`.
pub const DEFAULT_EVENT_LOCK: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
struct EventEntry {
    done: bool,
    /// While in progress: when another invocation may take the event over.
    lock_until: Option<DateTime<Utc>>,
    /// After this the entry counts as absent (the adapter's TTL, compared by timestamp).
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct InMemoryWebhookEventLog {
    events: Mutex<HashMap<String, EventEntry>>,
    lock: Duration,
    pub faults: Faults,
}

impl Default for InMemoryWebhookEventLog {
    fn default() -> Self {
        Self {
            events: Mutex::default(),
            lock: DEFAULT_EVENT_LOCK,
            faults: Faults::default(),
        }
    }
}

impl InMemoryWebhookEventLog {
    pub fn with_lock(mut self, lock: Duration) -> Self {
        self.lock = lock;
        self
    }
}

fn after(now: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

#[async_trait]
impl WebhookEventLog for InMemoryWebhookEventLog {
    async fn claim(&self, event_id: &str, now: DateTime<Utc>) -> StoreResult<Claim> {
        self.faults.check()?;
        let mut events = locked(&self.events);
        if let Some(entry) = events.get(event_id) {
            let expired = entry.expires_at < now;
            let lock_expired = entry.lock_until.is_some_and(|until| until < now);
            if !expired && entry.done {
                return Ok(Claim::AlreadyDone);
            }
            if !expired && !lock_expired {
                return Ok(Claim::InProgress);
            }
        }
        events.insert(
            event_id.to_owned(),
            EventEntry {
                done: false,
                lock_until: Some(after(now, self.lock)),
                expires_at: now + EVENT_RETENTION,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(&self, event_id: &str) -> StoreResult<()> {
        self.faults.check()?;
        let mut events = locked(&self.events);
        let entry = events.get_mut(event_id).ok_or(StoreError::NotFound)?;
        entry.done = true;
        entry.lock_until = None;
        Ok(())
    }

    async fn release(&self, event_id: &str) -> StoreResult<()> {
        self.faults.check()?;
        let mut events = locked(&self.events);
        // Only an in-progress claim is released: a completed event must stay completed.
        if events.get(event_id).is_some_and(|e| !e.done) {
            events.remove(event_id);
        }
        Ok(())
    }

    async fn done_among(
        &self,
        event_ids: &[&str],
        now: DateTime<Utc>,
    ) -> StoreResult<HashSet<String>> {
        self.faults.check()?;
        let events = locked(&self.events);
        Ok(event_ids
            .iter()
            .filter(|id| {
                events
                    .get(**id)
                    .is_some_and(|e| e.done && e.expires_at >= now)
            })
            .map(|id| (*id).to_owned())
            .collect())
    }
}

// ---------------------------------------------------------------- follow tally

/// [`FollowTally`] in memory: the counts per (town, month), and the event ids counted (kept
/// as long as the adapter keeps its markers, [`EVENT_RETENTION`]).
#[derive(Debug, Default)]
pub struct InMemoryFollowTally {
    state: Mutex<FollowTallyState>,
    pub faults: Faults,
}

#[derive(Debug, Default)]
struct FollowTallyState {
    counts: HashMap<(MunicipalityId, String), FollowCounts>,
    counted: HashMap<String, DateTime<Utc>>,
}

#[async_trait]
impl FollowTally for InMemoryFollowTally {
    async fn count_once(
        &self,
        municipality: &MunicipalityId,
        on: NaiveDate,
        change: FollowChange,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.faults.check()?;
        let mut state = locked(&self.state);
        if state
            .counted
            .get(event_id)
            .is_some_and(|expires| *expires >= now)
        {
            return Ok(false);
        }
        state
            .counted
            .insert(event_id.to_owned(), now + EVENT_RETENTION);
        *state
            .counts
            .entry((municipality.clone(), month_key(on)))
            .or_default()
            .get_mut(change) += 1;
        Ok(true)
    }

    async fn counts(
        &self,
        municipality: &MunicipalityId,
        months: &[NaiveDate],
    ) -> StoreResult<Vec<FollowCounts>> {
        self.faults.check()?;
        let state = locked(&self.state);
        Ok(months
            .iter()
            .map(|m| {
                state
                    .counts
                    .get(&(municipality.clone(), month_key(*m)))
                    .copied()
                    .unwrap_or_default()
            })
            .collect())
    }
}

// ---------------------------------------------------------------- run records

#[derive(Debug, Default)]
pub struct InMemoryRunRecords {
    records: Mutex<BTreeMap<(MunicipalityId, NaiveDate, u16), RunRecord>>,
    pub faults: Faults,
}

fn run_map_key(key: &RunKey) -> (MunicipalityId, NaiveDate, u16) {
    (key.municipality.clone(), key.date, key.shard)
}

impl InMemoryRunRecords {
    /// The upsert itself, shared with the ledger's page commits (which hold no fault plan of
    /// this port: the commit is one transaction).
    fn apply(&self, key: &RunKey, update: &RunUpdate, now: DateTime<Utc>) -> RunRecord {
        let mut records = locked(&self.records);
        let record = records
            .entry(run_map_key(key))
            .or_insert_with(|| RunRecord {
                key: key.clone(),
                status: update.status,
                counts: Default::default(),
                notices: Default::default(),
                note: None,
                updated_at: now,
            });
        record.status = update.status;
        // As the adapter: an update without a note removes the previous one.
        record.note = update.note.clone();
        record.updated_at = now;
        let (counts, add) = (&mut record.counts, update.add);
        counts.sent += add.sent;
        counts.skipped += add.skipped;
        counts.failed += add.failed;
        counts.not_sent_quota += add.not_sent_quota;
        counts.missing_content += add.missing_content;
        for (id, &count) in update.notices.iter().filter(|(_, &c)| c > 0) {
            *record.notices.entry(id.clone()).or_default() += count;
        }
        record.clone()
    }

    /// Every record, for assertions.
    pub fn all(&self) -> Vec<RunRecord> {
        locked(&self.records).values().cloned().collect()
    }
}

#[async_trait]
impl RunRecords for InMemoryRunRecords {
    async fn upsert(
        &self,
        key: &RunKey,
        update: &RunUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<RunRecord> {
        self.faults.check()?;
        Ok(self.apply(key, update, now))
    }

    async fn get(&self, key: &RunKey) -> StoreResult<Option<RunRecord>> {
        self.faults.check()?;
        Ok(locked(&self.records).get(&run_map_key(key)).cloned())
    }

    async fn list_recent(
        &self,
        municipality: &MunicipalityId,
        n: u32,
    ) -> StoreResult<Vec<RunRecord>> {
        self.faults.check()?;
        Ok(locked(&self.records)
            .iter()
            .rev()
            .filter(|((m, _, _), _)| m == municipality)
            .take(n as usize)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn list_for_date(&self, date: NaiveDate) -> StoreResult<Vec<RunRecord>> {
        self.faults.check()?;
        Ok(locked(&self.records)
            .values()
            .filter(|r| r.key.date == date)
            .cloned()
            .collect())
    }
}

// ---------------------------------------------------------------- delivery ledger

/// One send job's lease, as the adapter's lease item.
#[derive(Debug, Clone, Default)]
struct LeaseEntry {
    owner: Option<String>,
    until: Option<DateTime<Utc>>,
    done: bool,
    resume: Option<String>,
    resume_page: u32,
    counted_pages: u32,
}

#[derive(Debug, Default)]
struct LedgerState {
    leases: HashMap<RunKey, LeaseEntry>,
    entries: BTreeMap<(MunicipalityId, NaiveDate, LineUserId), DeliveryRecord>,
}

/// The ledger writes run records in its commits (one transaction in DynamoDB), so it shares
/// an [`InMemoryRunRecords`] with whoever reads them.
#[derive(Debug)]
pub struct InMemoryDeliveryLedger {
    state: Mutex<LedgerState>,
    runs: Arc<InMemoryRunRecords>,
    pub faults: Faults,
    /// Commits that apply everything and then fail anyway: a transaction that went through
    /// while its answer was lost (timeout, connection reset). Counts commits that would
    /// otherwise succeed.
    pub lost_commit_answers: Faults,
}

impl InMemoryDeliveryLedger {
    pub fn new(runs: Arc<InMemoryRunRecords>) -> Self {
        Self {
            state: Mutex::default(),
            runs,
            faults: Faults::default(),
            lost_commit_answers: Faults::default(),
        }
    }

    /// Whether `owner` holds the job's lease right now (regardless of expiry), for assertions.
    pub fn lease_owner(&self, key: &RunKey) -> Option<String> {
        locked(&self.state)
            .leases
            .get(key)
            .and_then(|l| l.owner.clone())
    }
}

#[async_trait]
impl DeliveryLedger for InMemoryDeliveryLedger {
    async fn acquire_shard(
        &self,
        key: &RunKey,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<ShardLease> {
        self.faults.check()?;
        let mut state = locked(&self.state);
        let progress = match state.leases.get(key) {
            None => ShardProgress::default(),
            Some(entry) if entry.done => return Ok(ShardLease::Done),
            Some(entry) => {
                let free = entry.owner.is_none() || entry.until.is_none_or(|until| until < now);
                if !free && entry.owner.as_deref() != Some(owner) {
                    return Ok(ShardLease::HeldByOther);
                }
                ShardProgress {
                    resumed: true,
                    resume: entry.resume.clone(),
                    resume_page: entry.resume_page,
                    counted_pages: entry.counted_pages,
                }
            }
        };
        let entry = state.leases.entry(key.clone()).or_default();
        entry.owner = Some(owner.to_owned());
        entry.until = Some(after(now, lease));
        Ok(ShardLease::Acquired(progress))
    }

    async fn commit(
        &self,
        key: &RunKey,
        owner: &str,
        commit: &PageCommit,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<()> {
        self.faults.check()?;
        if commit.outcomes.len() > MAX_OUTCOMES_PER_COMMIT {
            return Err(StoreError::Corrupt(format!(
                "a commit takes at most {MAX_OUTCOMES_PER_COMMIT} outcomes"
            )));
        }
        {
            // One lock over the check and every write: all or nothing, like the transaction.
            let mut state = locked(&self.state);
            let entry = state
                .leases
                .get_mut(key)
                .filter(|l| l.owner.as_deref() == Some(owner))
                .ok_or(StoreError::Conflict)?;
            entry.until = Some(after(now, lease));
            if let Some(pages) = commit.counted_pages {
                entry.counted_pages = pages;
            }
            if let Some((cursor, page)) = &commit.resume {
                entry.resume = cursor.clone();
                entry.resume_page = *page;
            }
            for outcome in &commit.outcomes {
                let record = DeliveryRecord {
                    municipality: key.municipality.clone(),
                    date: key.date,
                    user: outcome.user.clone(),
                    attempt: outcome.attempt,
                    state: outcome.state.clone(),
                };
                let entry_key = (key.municipality.clone(), key.date, outcome.user.clone());
                state.entries.insert(entry_key, record);
            }
            // Inside the ledger's lock, so no commit is seen half-applied.
            self.runs.apply(key, &commit.run, now);
        }
        self.lost_commit_answers.check()
    }

    async fn release_shard(&self, key: &RunKey, owner: &str, done: bool) -> StoreResult<()> {
        self.faults.check()?;
        let mut state = locked(&self.state);
        if let Some(entry) = state
            .leases
            .get_mut(key)
            .filter(|l| l.owner.as_deref() == Some(owner))
        {
            entry.owner = None;
            entry.until = None;
            if done {
                entry.done = true;
                // The cursor may hold a LINE user id: it goes as soon as it is of no use.
                entry.resume = None;
            }
        }
        Ok(())
    }

    async fn get(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
    ) -> StoreResult<Option<DeliveryRecord>> {
        self.faults.check()?;
        let key = (municipality.clone(), date, user.clone());
        Ok(locked(&self.state).entries.get(&key).cloned())
    }

    async fn list(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.faults.check()?;
        Ok(locked(&self.state)
            .entries
            .values()
            .filter(|r| &r.municipality == municipality && r.date == date)
            .cloned()
            .collect())
    }

    async fn records_among(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        users: &[LineUserId],
    ) -> StoreResult<HashMap<LineUserId, DeliveryRecord>> {
        self.faults.check()?;
        let state = locked(&self.state);
        Ok(users
            .iter()
            .filter_map(|u| {
                let key = (municipality.clone(), date, u.clone());
                state.entries.get(&key).map(|r| (u.clone(), r.clone()))
            })
            .collect())
    }

    /// Forgets every date of the user in the municipality, not only the dates around
    /// `around`: nothing expires here, so everything is "still stored".
    async fn forget_user(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
        _around: NaiveDate,
    ) -> StoreResult<()> {
        self.faults.check()?;
        locked(&self.state)
            .entries
            .retain(|(m, _, u), _| !(m == municipality && u == user));
        Ok(())
    }
}

// ---------------------------------------------------------------- content

#[derive(Debug, Default)]
pub struct InMemoryContentStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    pub faults: Faults,
}

/// A version that changes when any path or object under the prefix does, like the adapter's
/// digest over (key, ETag).
fn content_version<'a>(objects: impl IntoIterator<Item = (&'a String, &'a Vec<u8>)>) -> String {
    let mut digest = Sha256::new();
    for (path, bytes) in objects {
        digest.update(path.as_bytes());
        digest.update([0]);
        digest.update(Sha256::digest(bytes));
        digest.update([b'\n']);
    }
    digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl InMemoryContentStore {
    fn under<'a>(
        objects: &'a BTreeMap<String, Vec<u8>>,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Vec<u8>)> {
        objects
            .range(prefix.to_owned()..)
            .take_while(move |(path, _)| path.starts_with(prefix))
    }
}

#[async_trait]
impl ContentStore for InMemoryContentStore {
    async fn load(&self, prefix: &str) -> StoreResult<ContentSnapshot> {
        self.faults.check()?;
        let objects = locked(&self.objects);
        let mut files = Vec::new();
        for (path, bytes) in Self::under(&objects, prefix).filter(|(p, _)| p.ends_with(".toml")) {
            let text = String::from_utf8(bytes.clone())
                .map_err(|_| StoreError::Corrupt(format!("content file is not UTF-8: {path}")))?;
            files.push(ContentFile {
                path: path.clone(),
                text,
            });
        }
        let version = content_version(Self::under(&objects, prefix));
        Ok(ContentSnapshot { version, files })
    }

    async fn version(&self, prefix: &str) -> StoreResult<String> {
        self.faults.check()?;
        Ok(content_version(Self::under(&locked(&self.objects), prefix)))
    }

    async fn get_object(&self, path: &str) -> StoreResult<Option<Vec<u8>>> {
        self.faults.check()?;
        Ok(locked(&self.objects).get(path).cloned())
    }

    async fn put_object(&self, path: &str, bytes: Vec<u8>) -> StoreResult<()> {
        self.faults.check()?;
        locked(&self.objects).insert(path.to_owned(), bytes);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
        self.faults.check()?;
        Ok(Self::under(&locked(&self.objects), prefix)
            .map(|(path, _)| path.clone())
            .collect())
    }
}

// ---------------------------------------------------------------- send queue

/// The send queue as a list: what was enqueued, in order, until a test takes it.
#[derive(Debug, Default)]
pub struct InMemorySendQueue {
    jobs: Mutex<Vec<SendJob>>,
    pub faults: Faults,
}

impl InMemorySendQueue {
    /// The jobs waiting, oldest first.
    pub fn jobs(&self) -> Vec<SendJob> {
        locked(&self.jobs).clone()
    }

    /// Removes and returns the jobs waiting, as a consumer receiving them would.
    pub fn take(&self) -> Vec<SendJob> {
        std::mem::take(&mut *locked(&self.jobs))
    }
}

#[async_trait]
impl SendQueue for InMemorySendQueue {
    /// All or nothing here (a planned fault enqueues none of the jobs); SQS may have
    /// enqueued some batches before failing, which the port allows.
    async fn enqueue(&self, jobs: &[SendJob]) -> StoreResult<()> {
        self.faults.check()?;
        locked(&self.jobs).extend_from_slice(jobs);
        Ok(())
    }
}

// ---------------------------------------------------------------- the bundle

/// One in-memory instance of every store port, wired as in production: the ledger's commits
/// write the same run records `runs` reads.
#[derive(Debug, Clone)]
pub struct InMemoryStores {
    pub municipalities: Arc<InMemoryMunicipalityDirectory>,
    pub secrets: Arc<InMemoryChannelSecrets>,
    pub households: Arc<InMemoryHouseholdStore>,
    pub events: Arc<InMemoryWebhookEventLog>,
    pub follows: Arc<InMemoryFollowTally>,
    pub ledger: Arc<InMemoryDeliveryLedger>,
    pub runs: Arc<InMemoryRunRecords>,
    pub content: Arc<InMemoryContentStore>,
    pub queue: Arc<InMemorySendQueue>,
}

impl Default for InMemoryStores {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryStores {
    pub fn new() -> Self {
        let runs = Arc::new(InMemoryRunRecords::default());
        Self {
            municipalities: Arc::default(),
            secrets: Arc::default(),
            households: Arc::default(),
            events: Arc::default(),
            follows: Arc::default(),
            ledger: Arc::new(InMemoryDeliveryLedger::new(Arc::clone(&runs))),
            runs,
            content: Arc::default(),
            queue: Arc::default(),
        }
    }

    /// The scheduler's ports on these stores.
    pub fn scheduler_ports(&self) -> crate::scheduler::SchedulerPorts {
        crate::scheduler::SchedulerPorts {
            municipalities: self.municipalities.clone(),
            runs: self.runs.clone(),
            queue: self.queue.clone(),
        }
    }

    /// The sender's ports on these stores, sending through `messenger`.
    pub fn sender_ports(
        &self,
        messenger: Arc<dyn crate::messaging::Messenger>,
    ) -> crate::sender::SenderPorts {
        crate::sender::SenderPorts {
            municipalities: self.municipalities.clone(),
            secrets: self.secrets.clone(),
            households: self.households.clone(),
            ledger: self.ledger.clone(),
            runs: self.runs.clone(),
            content: self.content.clone(),
            messenger,
        }
    }

    /// The webhook's ports on these stores, replying through `messenger` and forwarding
    /// through `forwarder`.
    pub fn webhook_ports(
        &self,
        messenger: Arc<dyn crate::messaging::Messenger>,
        forwarder: Arc<dyn crate::messaging::WebhookForwarder>,
    ) -> crate::webhook::WebhookPorts {
        crate::webhook::WebhookPorts {
            municipalities: self.municipalities.clone(),
            secrets: self.secrets.clone(),
            households: self.households.clone(),
            events: self.events.clone(),
            follows: self.follows.clone(),
            deliveries: self.ledger.clone(),
            forwarder,
            messenger,
            content: self.content.clone(),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod messaging_tests;
