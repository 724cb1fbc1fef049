//! The daily fan-out for one send job (municipality, date, shard): exactly once per household.
//!
//! A pipeline of small phases over one job-run context ([`JobRun`]):
//!
//! 1. **load** the town, its credentials and the content, and check with the [`Messenger`]
//!    that the credentials give access;
//! 2. **lease** the job (one conditional write): only the lease holder sends, and the lease
//!    says where an earlier attempt stopped;
//! 3. per page: **list** households from the resume cursor, **plan** each one's push (pure),
//!    **skip** the settled ones (a rerun only: batched reads), **push** the rest (with an
//!    `X-Line-Retry-Key` derived from (municipality, date, user), the same on every attempt),
//!    then **commit** the page: the ledger entries, the run record's counts and the resume
//!    cursor in one transaction per ≤ 98 households;
//! 4. **finish**: release the lease, record the status, emit metrics.
//!
//! So a delivery costs its push and 1/98 of a DynamoDB transaction, not a conditional claim and
//! a mark-sent each. What happens when the process dies at each point:
//!
//! | dies …                                  | state left                         | next attempt (SQS redelivery or catch-up) |
//! |-----------------------------------------|------------------------------------|--------------------------------------------|
//! | before the lease                        | nothing                            | takes the lease, sends from the start      |
//! | holding the lease, before a push        | lease running                      | waits for the lease to expire, resumes at the cursor |
//! | after LINE accepted, before the commit  | lease running, push not recorded   | resumes at the cursor, pushes with the same retry key: LINE answers 409 (already accepted) → committed as sent and counted now, delivered once |
//! | after a commit                          | page's outcomes, counts, cursor    | resumes after the last settled page; settled households are skipped, not counted again |
//! | after the release                       | job done                           | finds the job done: nothing sent, nothing counted |
//!
//! The lease (5 min, extended by every commit) is longer than one page can take and shorter
//! than the queue's visibility timeout, so a redelivered job finds a dead sender's lease
//! expired; the catch-up window (see [`crate::schedule`]) keeps every resend well inside the
//! retry key's 24 hours.

use crate::clock::Clock;
/// S3 prefix under which content packs live (`content/base/…`, `content/municipalities/…`).
pub use crate::content::CONTENT_PREFIX;
use crate::content::{ContentCache, ContentError};
use crate::metrics;
use crate::model::{
    ChannelCredentials, DeliveryRecord, DeliveryState, Municipality, RunCounts, RunKey, RunStatus,
    RunUpdate, SendJob,
};
use crate::pacing::{Backoff, Pacer};
use crate::ports::{
    ChannelSecrets, ContentStore, DeliveryLedger, DeliveryOutcome, HouseholdStore, Messenger,
    MessengerError, MonthlyQuota, MunicipalityDirectory, PageCommit, PushReceipt, RunRecords,
    ShardLease, ShardProgress, StoreError, MAX_OUTCOMES_PER_COMMIT,
};
use crate::schedule::may_send_now;
use chrono::NaiveDate;
use futures::stream::{FuturesUnordered, StreamExt};
use kizuna_core::content::ContentLibrary;
use kizuna_core::plan::{plan_household, DailyPlan, PlannedKind};
use kizuna_core::{Household, LineUserId, MunicipalityId};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{error, info, instrument, warn};
use uuid::Uuid;

/// Namespace of the delivery retry keys (UUIDv5). Never change it: a changed namespace would
/// make a resend after a deploy look new to LINE.
pub const RETRY_KEY_NAMESPACE: Uuid = Uuid::from_u128(0x6b697a75_6e61_4d00_8000_6c696e650001);

/// The `X-Line-Retry-Key` of one household's delivery on one date: the same for every attempt,
/// every process and every release.
pub fn retry_key(municipality: &MunicipalityId, date: NaiveDate, user: &LineUserId) -> Uuid {
    let name = format!("{}|{}|{}", municipality.as_str(), date, user.as_str());
    Uuid::new_v5(&RETRY_KEY_NAMESPACE, name.as_bytes())
}

/// The ledger's reason for households not sent because the monthly limit was reached.
const MONTHLY_LIMIT_REASON: &str = "monthly message limit";

#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// How long the job's lease lasts without a commit. Longer than one page can take.
    pub lease: Duration,
    pub page_size: u32,
    /// Pushes in flight at once; the pacer, not this, bounds the request rate.
    pub concurrency: usize,
    pub backoff: Backoff,
    /// Stop starting deliveries this long before the invocation's deadline.
    pub deadline_margin: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            page_size: 500,
            concurrency: 64,
            backoff: Backoff::default(),
            deadline_margin: Duration::from_secs(60),
        }
    }
}

/// Everything the sender reads and writes, each behind its port.
#[derive(Clone)]
pub struct SenderPorts {
    pub municipalities: Arc<dyn MunicipalityDirectory>,
    pub secrets: Arc<dyn ChannelSecrets>,
    pub households: Arc<dyn HouseholdStore>,
    pub ledger: Arc<dyn DeliveryLedger>,
    pub runs: Arc<dyn RunRecords>,
    pub content: Arc<dyn ContentStore>,
    /// The pushes and the monthly quota (LINE's Messaging API in production).
    pub messenger: Arc<dyn Messenger>,
}

/// What became of one queued send job ([`Sender::run_queued`]).
#[derive(Debug)]
pub enum QueuedJobOutcome {
    /// The job ran: `Ok` needs nothing further today (delete the message), `Err` must run
    /// again (leave the message for SQS to deliver again).
    Ran {
        job: SendJob,
        result: Result<JobReport, SendError>,
    },
    /// Not a send job at all: it can never succeed (the Lambda lets it reach the DLQ).
    Malformed,
}

impl QueuedJobOutcome {
    /// Whether the queue should deliver the message again.
    pub fn redeliver(&self) -> bool {
        !matches!(self, QueuedJobOutcome::Ran { result: Ok(_), .. })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("municipality is not registered")]
    UnknownMunicipality,
    #[error("no LINE channel credentials are stored for this municipality")]
    MissingCredentials,
    #[error("LINE rejected this municipality's channel credentials (401)")]
    Unauthorized,
    #[error("the content pack in S3 is unusable: {0}")]
    Content(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("messaging failed: {0}")]
    Messenger(MessengerError),
    /// Another sender holds this job's lease: try again later (its run record is theirs).
    #[error("another sender is running this send job")]
    HeldElsewhere,
    /// Some households are still to be sent (transient failures, deadline, a lost lease):
    /// the job must run again.
    #[error("run incomplete: {0}")]
    Incomplete(String),
}

/// What one attempt at a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub status: RunStatus,
    /// This attempt's share of the run record's counts.
    pub counts: RunCounts,
    /// Households left for a later attempt (transient failures, or not reached).
    pub left: u64,
    pub note: Option<String>,
}

impl JobReport {
    fn nothing(status: RunStatus, note: &str) -> Self {
        Self {
            status,
            counts: RunCounts::default(),
            left: 0,
            note: Some(note.into()),
        }
    }
}

/// Why a job stops before its last page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum StopReason {
    /// LINE rejected the channel token: nothing more can be sent for this town today.
    Unauthorized = 1,
    /// The month's message limit is reached: the rest are recorded as not sent.
    MonthlyLimit = 2,
    /// The invocation's deadline is near.
    Deadline = 3,
    /// Another sender took the job's lease (this one was too slow to extend it).
    LeaseLost = 4,
    /// The store could not be read or written (listing, ledger lookups, a commit).
    Store = 5,
}

/// The first stop reason set wins; shared by the concurrent pushes of a page.
#[derive(Default)]
struct StopFlag(AtomicU8);

impl StopFlag {
    fn set(&self, reason: StopReason) {
        let _ = self
            .0
            .compare_exchange(0, reason as u8, Ordering::SeqCst, Ordering::SeqCst);
    }

    fn get(&self) -> Option<StopReason> {
        match self.0.load(Ordering::SeqCst) {
            1 => Some(StopReason::Unauthorized),
            2 => Some(StopReason::MonthlyLimit),
            3 => Some(StopReason::Deadline),
            4 => Some(StopReason::LeaseLost),
            5 => Some(StopReason::Store),
            _ => None,
        }
    }
}

/// One household to push to in this attempt.
struct Candidate {
    household: Household,
    plan: DailyPlan,
    /// Attempts today, this one included.
    attempt: u32,
}

/// What one push came to.
enum Outcome {
    /// LINE accepted it now, or had accepted it before with the same retry key (409).
    Sent {
        request_id: String,
    },
    Failed {
        reason: String,
        retryable: bool,
    },
    NotSentQuota,
    /// Not tried: the job is stopping.
    NotAttempted,
}

/// After a failed push.
enum NextStep {
    Give(Outcome),
    RetryAfter(Duration),
}

/// This attempt's totals.
#[derive(Default)]
struct Tally {
    counts: RunCounts,
    notices: BTreeMap<String, u64>,
    /// Households to be tried again by a later attempt.
    left: u64,
    /// Households a push was tried for.
    attempted: u64,
}

/// One attempt at one job: what every phase needs, built once by [`Sender::load`].
struct JobRun<'a> {
    job: &'a SendJob,
    key: RunKey,
    municipality: Municipality,
    credentials: ChannelCredentials,
    library: Arc<ContentLibrary>,
    pacer: Arc<Pacer>,
    /// Messages left this month (`None`: no limit known); read after the lease.
    quota: Option<AtomicU64>,
    quota_limit: Option<u64>,
    stop: StopFlag,
    retried: AtomicU64,
    deadline: Option<Instant>,
    /// This attempt's lease owner id.
    owner: String,
}

impl JobRun<'_> {
    fn muni(&self) -> &str {
        self.municipality.id.as_str()
    }
}

/// One listed page, planned.
struct PlannedPage {
    number: u32,
    next: Option<String>,
    candidates: Vec<Candidate>,
    skipped: u64,
    missing_content: u64,
}

pub struct Sender {
    ports: SenderPorts,
    clock: Arc<dyn Clock>,
    settings: SenderSettings,
    content: ContentCache,
    pacers: Mutex<HashMap<MunicipalityId, Arc<Pacer>>>,
}

impl Sender {
    pub fn new(ports: SenderPorts, clock: Arc<dyn Clock>, settings: SenderSettings) -> Self {
        let content = ContentCache::new(ports.content.clone());
        Self {
            ports,
            clock,
            settings,
            content,
            pacers: Mutex::new(HashMap::new()),
        }
    }

    /// The content library, reloaded only when the stored version changed (warm invocations
    /// reuse the parsed library).
    pub async fn content(&self) -> Result<Arc<ContentLibrary>, SendError> {
        self.content.current().await.map_err(|e| match e {
            ContentError::Store(e) => SendError::Store(e),
            ContentError::Unusable(why) => SendError::Content(why),
        })
    }

    /// The town's push pacer. LINE's rate limit is per channel, and a town's shards run in
    /// separate Lambdas at once, so each shard gets an equal share of the town's rate.
    fn pacer(&self, municipality: &Municipality) -> Arc<Pacer> {
        let mut pacers = self.pacers.lock().unwrap_or_else(|e| e.into_inner());
        pacers
            .entry(municipality.id.clone())
            .or_insert_with(|| Arc::new(Pacer::for_limit(shard_rate(municipality))))
            .clone()
    }

    /// Runs the send job carried by one queue message's `body` (JSON [`SendJob`]): the one
    /// record handler of the sender Lambda, the local send worker and the local stack.
    /// The message is deleted only when [`QueuedJobOutcome::redeliver`] says no; a malformed
    /// one is reported failed too, so SQS's redrive moves it to the dead-letter queue for a
    /// human to see.
    pub async fn run_queued(&self, body: &str, deadline: Option<Instant>) -> QueuedJobOutcome {
        let job: SendJob = match serde_json::from_str(body) {
            Ok(job) => job,
            Err(e) => {
                // A malformed job can never succeed.
                error!(error = %e, "malformed send job");
                return QueuedJobOutcome::Malformed;
            }
        };
        let result = self.run(&job, deadline).await;
        if let Err(e) = &result {
            warn!(municipality = %job.municipality, error = %e, "send job will run again");
        }
        QueuedJobOutcome::Ran { job, result }
    }

    /// Runs one send job. `deadline` is the invocation's deadline, if any.
    ///
    /// `Ok` means the job needs no further run (completed, nothing to do, or stopped for a
    /// reason a rerun cannot fix today, such as the monthly limit — recorded and alerted).
    /// `Err` means it must run again (the Lambda reports the SQS message as failed).
    ///
    /// Every log line of the job carries its municipality, date and shard from this span.
    #[instrument(name = "send_job", skip_all, fields(municipality = %job.municipality, date = %job.date, shard = job.shard.index))]
    pub async fn run(
        &self,
        job: &SendJob,
        deadline: Option<Instant>,
    ) -> Result<JobReport, SendError> {
        let key = RunKey {
            municipality: job.municipality.clone(),
            date: job.date,
            shard: job.shard.index,
        };
        let muni = job.municipality.as_str();
        if !may_send_now(job.date, self.clock.now()) {
            return self.refuse_late(job, &key).await;
        }
        let municipality = self
            .ports
            .municipalities
            .get(&job.municipality)
            .await?
            .ok_or(SendError::UnknownMunicipality)?;
        if !municipality.enabled {
            info!("municipality disabled; nothing sent");
            return Ok(JobReport::nothing(RunStatus::Completed, "disabled"));
        }
        let result = self.run_enabled(job, &key, municipality, deadline).await;
        match &result {
            // The run record belongs to the sender holding the lease.
            Err(SendError::HeldElsewhere) => {
                info!("another sender holds this send job; left to it");
            }
            Err(e) => {
                error!(error = %e, "send job failed");
                metrics::emit(
                    muni,
                    self.clock.now(),
                    &[(metrics::MUNICIPALITY_RUN_FAILED, 1.0)],
                );
                let update = run_update(RunStatus::Failed, Tally::default(), Some(e.to_string()));
                if let Err(store) = self
                    .ports
                    .runs
                    .upsert(&key, &update, self.clock.now())
                    .await
                {
                    warn!(error = %store, "could not record the failed run");
                }
            }
            Ok(_) => {}
        }
        result
    }

    /// A job that arrives after the day's sending window is recorded as not sent.
    async fn refuse_late(&self, job: &SendJob, key: &RunKey) -> Result<JobReport, SendError> {
        let muni = job.municipality.as_str();
        warn!("send job arrived too late; not sent");
        let existing = self.ports.runs.get(key).await?;
        if existing.map(|r| r.status) != Some(RunStatus::Completed) {
            let update = run_update(
                RunStatus::Failed,
                Tally::default(),
                Some("late: not sent".into()),
            );
            self.ports
                .runs
                .upsert(key, &update, self.clock.now())
                .await?;
            metrics::emit(
                muni,
                self.clock.now(),
                &[(metrics::MUNICIPALITY_RUN_LATE, 1.0)],
            );
        }
        Ok(JobReport::nothing(RunStatus::Failed, "late"))
    }

    async fn run_enabled(
        &self,
        job: &SendJob,
        key: &RunKey,
        municipality: Municipality,
        deadline: Option<Instant>,
    ) -> Result<JobReport, SendError> {
        let mut run = self.load(job, key, municipality, deadline).await?;
        let progress = match self
            .ports
            .ledger
            .acquire_shard(key, &run.owner, self.clock.now(), self.settings.lease)
            .await?
        {
            ShardLease::Acquired(progress) => progress,
            ShardLease::HeldByOther => return Err(SendError::HeldElsewhere),
            ShardLease::Done => return self.already_done(&run).await,
        };
        // Read only once the job is ours: a duplicate that finds the lease held asks LINE
        // nothing.
        if let Some((remaining, limit)) = self.quota_left(&run.credentials, &run.municipality).await
        {
            run.quota = Some(AtomicU64::new(remaining));
            run.quota_limit = Some(limit);
        }
        let started = run_update(RunStatus::Started, Tally::default(), None);
        self.ports
            .runs
            .upsert(key, &started, self.clock.now())
            .await?;
        let mut tally = Tally::default();
        let settled = self.send_pages(&run, &progress, &mut tally).await;
        self.finish(&run, tally, settled).await
    }

    /// Phase 1: everything the pages need, read once per attempt.
    async fn load<'a>(
        &self,
        job: &'a SendJob,
        key: &RunKey,
        municipality: Municipality,
        deadline: Option<Instant>,
    ) -> Result<JobRun<'a>, SendError> {
        let credentials = self
            .ports
            .secrets
            .get(&municipality.id)
            .await?
            .ok_or(SendError::MissingCredentials)?;
        let library = self.content().await?;
        match self.ports.messenger.check_access(&credentials).await {
            Ok(()) => {}
            Err(MessengerError::Unauthorized { .. }) => return Err(SendError::Unauthorized),
            Err(e) => return Err(SendError::Messenger(e)),
        }
        Ok(JobRun {
            job,
            key: key.clone(),
            pacer: self.pacer(&municipality),
            municipality,
            credentials,
            library,
            quota: None,
            quota_limit: None,
            stop: StopFlag::default(),
            retried: AtomicU64::new(0),
            deadline,
            owner: Uuid::new_v4().to_string(),
        })
    }

    /// An earlier attempt finished the job: make sure the run record says so.
    async fn already_done(&self, run: &JobRun<'_>) -> Result<JobReport, SendError> {
        let record = self.ports.runs.get(&run.key).await?;
        if record.map(|r| r.status) != Some(RunStatus::Completed) {
            let done = run_update(RunStatus::Completed, Tally::default(), None);
            self.ports
                .runs
                .upsert(&run.key, &done, self.clock.now())
                .await?;
        }
        Ok(JobReport::nothing(
            RunStatus::Completed,
            "already completed",
        ))
    }

    /// Phase 2, page after page from the resume cursor. Every page is committed before the
    /// next is listed, so an attempt makes progress however slow listing is. Returns whether
    /// every page was settled (the job is done).
    async fn send_pages(
        &self,
        run: &JobRun<'_>,
        progress: &ShardProgress,
        tally: &mut Tally,
    ) -> bool {
        let mut cursor = progress.resume.clone();
        let mut number = progress.resume_page;
        // Once a page is left unsettled, the resume cursor stays before it for this attempt.
        let mut all_settled = true;
        loop {
            if self.near_deadline(run.deadline) {
                run.stop.set(StopReason::Deadline);
                return false;
            }
            let page = match self.list_page(run, cursor.clone(), number).await {
                Ok(page) => page,
                Err(e) => {
                    warn!(error = %e, "could not list households; left for the next run");
                    run.stop.set(StopReason::Store);
                    return false;
                }
            };
            let next = page.next.clone();
            let page_settled = self
                .send_page(run, progress, page, all_settled, tally)
                .await;
            all_settled &= page_settled;
            if matches!(
                run.stop.get(),
                Some(
                    StopReason::Deadline
                        | StopReason::Unauthorized
                        | StopReason::LeaseLost
                        | StopReason::Store
                )
            ) {
                return false;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => return all_settled,
            }
            number += 1;
        }
    }

    /// List and plan one page (planning is pure and fast).
    async fn list_page(
        &self,
        run: &JobRun<'_>,
        cursor: Option<String>,
        number: u32,
    ) -> Result<PlannedPage, StoreError> {
        let page = self
            .ports
            .households
            .deliverable_page(
                &run.municipality.id,
                run.job.shard,
                cursor,
                self.settings.page_size,
            )
            .await?;
        let content = run.library.for_municipality(&run.municipality.id);
        let mut planned = PlannedPage {
            number,
            next: page.next,
            candidates: Vec::with_capacity(page.items.len()),
            skipped: 0,
            missing_content: 0,
        };
        for household in page.items {
            let plan = plan_household(&household, run.job.date, &content);
            if !plan.missing.is_empty() {
                planned.missing_content += 1;
                warn!(user = %household.user.fingerprint(), missing = plan.missing.len(), "content missing for a scheduled day; household skipped for it");
            }
            if plan.messages.is_empty() {
                planned.skipped += 1;
            } else {
                planned.candidates.push(Candidate {
                    household,
                    plan,
                    attempt: 1,
                });
            }
        }
        Ok(planned)
    }

    /// Skip, push and commit one page. Returns whether the page is settled (every household
    /// sent or failed for good, and committed).
    async fn send_page(
        &self,
        run: &JobRun<'_>,
        progress: &ShardProgress,
        mut page: PlannedPage,
        cursor_may_advance: bool,
        tally: &mut Tally,
    ) -> bool {
        if progress.resumed {
            if let Err(e) = self.skip_settled(run, &mut page.candidates).await {
                warn!(error = %e, "could not read the page's earlier deliveries; left for the next run");
                tally.left += page.candidates.len() as u64;
                run.stop.set(StopReason::Store);
                return false;
            }
        }
        let outcomes = self.push_all(run, &page.candidates).await;
        let planned = plan_commits(&page, outcomes, progress, cursor_may_advance);
        tally.attempted += planned.attempted;
        tally.left += planned.left;
        for commit in &planned.commits {
            if !self.commit(run, commit, tally).await {
                return false;
            }
        }
        planned.settled
    }

    /// A rerun looks up the page's households in the ledger: sent or failed-for-good ones are
    /// left out (and not counted again); the others are tried once more.
    async fn skip_settled(
        &self,
        run: &JobRun<'_>,
        candidates: &mut Vec<Candidate>,
    ) -> Result<(), StoreError> {
        let users: Vec<LineUserId> = candidates
            .iter()
            .map(|c| c.household.user.clone())
            .collect();
        let earlier = self
            .ports
            .ledger
            .records_among(&run.municipality.id, run.job.date, &users)
            .await?;
        candidates.retain_mut(|c| match earlier.get(&c.household.user) {
            Some(DeliveryRecord { state, attempt, .. }) => {
                c.attempt = attempt + 1;
                !is_settled(state)
            }
            None => true,
        });
        Ok(())
    }

    /// Pushes to every candidate, `concurrency` at a time; outcomes in candidate order.
    async fn push_all(&self, run: &JobRun<'_>, candidates: &[Candidate]) -> Vec<Outcome> {
        let concurrency = self.settings.concurrency.max(1);
        let mut outcomes: Vec<Option<Outcome>> = candidates.iter().map(|_| None).collect();
        // A plain loop over FuturesUnordered (not a stream combinator with a closure) keeps
        // this future `Send`, which the Lambda runtime and `tokio::spawn` need.
        let mut in_flight = FuturesUnordered::new();
        for (index, candidate) in candidates.iter().enumerate() {
            if in_flight.len() >= concurrency {
                if let Some((i, outcome)) = in_flight.next().await {
                    outcomes[i] = Some(outcome);
                }
            }
            in_flight.push(async move { (index, self.deliver(run, candidate).await) });
        }
        while let Some((i, outcome)) = in_flight.next().await {
            outcomes[i] = Some(outcome);
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::NotAttempted))
            .collect()
    }

    /// Writes one commit; on failure stops the attempt (the pushes are redone with the same
    /// retry keys by the next one). Returns whether it was written.
    async fn commit(&self, run: &JobRun<'_>, commit: &PageCommit, tally: &mut Tally) -> bool {
        match self
            .ports
            .ledger
            .commit(
                &run.key,
                &run.owner,
                commit,
                self.clock.now(),
                self.settings.lease,
            )
            .await
        {
            Ok(()) => {
                self.committed(run, commit, tally);
                true
            }
            // The request failed, but a transaction can be applied and its answer lost: the
            // ledger then already says so, and the counts must be reported now or never.
            Err(e) if e.is_retryable() && self.was_applied(run, commit).await => {
                info!(error = %e, "a page commit's answer was lost but it was applied");
                self.committed(run, commit, tally);
                true
            }
            Err(StoreError::Conflict) => {
                error!("another sender took over this send job; stopping");
                run.stop.set(StopReason::LeaseLost);
                false
            }
            Err(e) => {
                // LINE has the pushes; nothing says so yet. The next attempt pushes them again
                // with the same retry keys, gets 409s, and commits them then.
                warn!(error = %e, "could not commit a page; left for the next run");
                tally.left += commit.outcomes.len() as u64;
                run.stop.set(StopReason::Store);
                false
            }
        }
    }

    /// Adds a written commit to the attempt's totals and reports it as metrics at once, so the
    /// metrics add up to the run record even when the process dies before it finishes.
    fn committed(&self, run: &JobRun<'_>, commit: &PageCommit, tally: &mut Tally) {
        let add = &commit.run.add;
        add_counts(&mut tally.counts, add);
        for (id, n) in &commit.run.notices {
            *tally.notices.entry(id.clone()).or_default() += n;
        }
        let emitted: Vec<(&str, f64)> = [
            (metrics::SENT, add.sent),
            (metrics::FAILED, add.failed),
            (metrics::SKIPPED, add.skipped),
            (metrics::NOT_SENT_QUOTA, add.not_sent_quota),
            (metrics::MISSING_CONTENT, add.missing_content),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| (name, n as f64))
        .collect();
        if !emitted.is_empty() {
            metrics::emit(run.muni(), self.clock.now(), &emitted);
        }
    }

    /// Whether a commit whose request failed was applied anyway: its ledger entries are there,
    /// as written (a transaction is all or nothing, and this attempt's entries carry its
    /// attempt numbers). A commit without entries cannot be told and counts as not applied.
    async fn was_applied(&self, run: &JobRun<'_>, commit: &PageCommit) -> bool {
        if commit.outcomes.is_empty() {
            return false;
        }
        let users: Vec<LineUserId> = commit.outcomes.iter().map(|o| o.user.clone()).collect();
        match self
            .ports
            .ledger
            .records_among(&run.municipality.id, run.job.date, &users)
            .await
        {
            Ok(found) => commit.outcomes.iter().all(|o| {
                found
                    .get(&o.user)
                    .is_some_and(|r| r.attempt == o.attempt && r.state == o.state)
            }),
            Err(_) => false,
        }
    }

    /// Phase 3: release the lease, record the status, emit the metrics.
    async fn finish(
        &self,
        run: &JobRun<'_>,
        tally: Tally,
        settled: bool,
    ) -> Result<JobReport, SendError> {
        let stop = run.stop.get();
        let done = settled && stop.is_none();
        if stop != Some(StopReason::LeaseLost) {
            if let Err(e) = self
                .ports
                .ledger
                .release_shard(&run.key, &run.owner, done)
                .await
            {
                warn!(error = %e, "could not release the send job's lease; it expires by itself");
            }
        }
        self.emit_metrics(run);
        let counts = tally.counts;
        if stop == Some(StopReason::Unauthorized) {
            self.record_end(
                run,
                RunStatus::Failed,
                Some("LINE rejected the channel token (401)".into()),
            )
            .await?;
            return Err(SendError::Unauthorized);
        }
        if stop == Some(StopReason::LeaseLost) {
            return Err(SendError::Incomplete(
                "another sender took over this send job".into(),
            ));
        }
        if counts.not_sent_quota > 0 {
            return self.stopped_by_monthly_limit(run, &tally).await;
        }
        if !done {
            let note = self.incomplete_note(run, &tally, stop);
            self.record_end(run, RunStatus::Failed, Some(note.clone()))
                .await?;
            return Err(SendError::Incomplete(note));
        }
        self.record_end(run, RunStatus::Completed, None).await?;
        info!(
            sent = counts.sent,
            skipped = counts.skipped,
            failed = counts.failed,
            "send job completed"
        );
        Ok(JobReport {
            status: RunStatus::Completed,
            counts,
            left: 0,
            note: None,
        })
    }

    /// Nothing a rerun can fix until the plan changes: record, alert, do not retry now. The
    /// hourly catch-up tries again (the limit may be raised the same day).
    async fn stopped_by_monthly_limit(
        &self,
        run: &JobRun<'_>,
        tally: &Tally,
    ) -> Result<JobReport, SendError> {
        let counts = tally.counts;
        let muni = run.muni();
        let note = format!(
            "monthly message limit reached: {} household(s) not sent",
            counts.not_sent_quota
        );
        error!(
            not_sent = counts.not_sent_quota,
            "monthly message limit reached"
        );
        metrics::emit(
            muni,
            self.clock.now(),
            &[(metrics::MUNICIPALITY_RUN_FAILED, 1.0)],
        );
        self.record_end(run, RunStatus::Failed, Some(note.clone()))
            .await?;
        Ok(JobReport {
            status: RunStatus::Failed,
            counts,
            left: tally.left,
            note: Some(note),
        })
    }

    /// The operator's note on an attempt that left households for the next one. An attempt
    /// that reached its deadline without trying a single push is alerted: with the resume
    /// cursor that can only mean one page's listing took the whole invocation.
    fn incomplete_note(&self, run: &JobRun<'_>, tally: &Tally, stop: Option<StopReason>) -> String {
        let muni = run.muni();
        // Households of pages not listed yet are not counted in `left`.
        let mut note = if tally.left > 0 {
            format!(
                "{} household(s) of the listed pages left for the next run",
                tally.left
            )
        } else {
            "the shard's remaining pages left for the next run".to_owned()
        };
        if stop == Some(StopReason::Store) {
            note.push_str(", storage failed");
        }
        if stop == Some(StopReason::Deadline) {
            note.push_str(", stopped before the deadline");
            if tally.attempted == 0 && tally.counts.sent == 0 {
                note.push_str("; no delivery was attempted in this invocation");
                error!("send job made no progress before its deadline");
                metrics::emit(
                    muni,
                    self.clock.now(),
                    &[(metrics::MUNICIPALITY_RUN_NO_PROGRESS, 1.0)],
                );
            }
        }
        note
    }

    /// Sets the run record's final status; the counts were added by the commits.
    async fn record_end(
        &self,
        run: &JobRun<'_>,
        status: RunStatus,
        note: Option<String>,
    ) -> Result<(), SendError> {
        let update = run_update(status, Tally::default(), note);
        self.ports
            .runs
            .upsert(&run.key, &update, self.clock.now())
            .await?;
        Ok(())
    }

    fn emit_metrics(&self, run: &JobRun<'_>) {
        // The counts went out with each commit; what is left is per attempt.
        let mut emitted = vec![(metrics::RETRIED, run.retried.load(Ordering::SeqCst) as f64)];
        if let (Some(q), Some(limit)) = (run.quota.as_ref(), run.quota_limit) {
            let remaining = q.load(Ordering::SeqCst);
            emitted.push((metrics::QUOTA_REMAINING, remaining as f64));
            emitted.push((
                metrics::QUOTA_REMAINING_RATIO,
                metrics::quota_remaining_ratio(remaining, limit),
            ));
        }
        metrics::emit(run.muni(), self.clock.now(), &emitted);
    }

    /// Whether it is time to stop starting deliveries (the invocation's deadline is near).
    fn near_deadline(&self, deadline: Option<Instant>) -> bool {
        deadline.is_some_and(|d| Instant::now() + self.settings.deadline_margin >= d)
    }

    /// The month's message allowance (remaining, limit) when a job starts: the smaller of
    /// LINE's and the municipality's limit, and what is left of it.
    async fn quota_left(
        &self,
        credentials: &ChannelCredentials,
        municipality: &Municipality,
    ) -> Option<(u64, u64)> {
        let messenger = &self.ports.messenger;
        let line_limit = match messenger.monthly_quota(credentials).await {
            Ok(MonthlyQuota::Limited(v)) => Some(v),
            Ok(MonthlyQuota::Unlimited) => None,
            Err(e) => {
                warn!(error = %e, "could not read the LINE quota; relying on LINE's own limit");
                return None;
            }
        };
        let limit = match (line_limit, municipality.monthly_message_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        match messenger.quota_consumption(credentials).await {
            Ok(used) => Some((limit.saturating_sub(used), limit)),
            Err(e) => {
                warn!(error = %e, "could not read LINE quota consumption");
                None
            }
        }
    }

    /// One household's delivery: nothing if the job is stopping or the month's allowance is
    /// used up, otherwise its push.
    async fn deliver(&self, run: &JobRun<'_>, candidate: &Candidate) -> Outcome {
        match run.stop.get() {
            Some(StopReason::MonthlyLimit) => return Outcome::NotSentQuota,
            Some(_) => return Outcome::NotAttempted,
            None => {}
        }
        if self.near_deadline(run.deadline) {
            run.stop.set(StopReason::Deadline);
            return Outcome::NotAttempted;
        }
        if let Some(q) = &run.quota {
            if q.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_err()
            {
                return Outcome::NotSentQuota;
            }
        }
        self.push_with_retries(run, candidate).await
    }

    /// Pushes, retrying transient failures with backoff under the same retry key.
    async fn push_with_retries(&self, run: &JobRun<'_>, candidate: &Candidate) -> Outcome {
        let user = &candidate.household.user;
        let key = retry_key(&run.municipality.id, run.job.date, user);
        let attempts = self.settings.backoff.attempts;
        for try_no in 1..=attempts {
            run.pacer.acquire().await;
            let error = match self
                .ports
                .messenger
                .push(&run.credentials, user, &candidate.plan.messages, key)
                .await
            {
                Ok(PushReceipt::Accepted { request_id }) => {
                    return Outcome::Sent {
                        request_id: request_id.unwrap_or_default(),
                    }
                }
                Ok(PushReceipt::AlreadyAccepted {
                    accepted_request_id,
                }) => {
                    info!(user = %user.fingerprint(), attempt = candidate.attempt, "LINE had already accepted this delivery (409); recording it sent");
                    return Outcome::Sent {
                        request_id: accepted_request_id,
                    };
                }
                Err(e) => e,
            };
            match self.after_push_error(run, user, error, try_no) {
                NextStep::Give(outcome) => return outcome,
                NextStep::RetryAfter(delay) => tokio::time::sleep(delay).await,
            }
        }
        Outcome::Failed {
            reason: "no attempt left".into(),
            retryable: true,
        }
    }

    /// What a failed push leads to: an outcome, or another try after a pause.
    fn after_push_error(
        &self,
        run: &JobRun<'_>,
        user: &LineUserId,
        error: MessengerError,
        try_no: u32,
    ) -> NextStep {
        let last_try = try_no >= self.settings.backoff.attempts;
        match error {
            MessengerError::MonthlyLimitReached { .. } => {
                run.stop.set(StopReason::MonthlyLimit);
                if let Some(q) = &run.quota {
                    q.store(0, Ordering::SeqCst);
                }
                NextStep::Give(Outcome::NotSentQuota)
            }
            MessengerError::Unauthorized { .. } => {
                // The messenger has already retried once with a freshly issued token where the
                // channel uses stateless tokens: nothing more can be sent for this town today.
                run.stop.set(StopReason::Unauthorized);
                NextStep::Give(Outcome::Failed {
                    reason: "channel token rejected (401)".into(),
                    retryable: true,
                })
            }
            ref e if e.is_retryable() && !last_try => {
                run.retried.fetch_add(1, Ordering::Relaxed);
                let retry_after = match e {
                    MessengerError::RateLimited { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let delay = self
                    .settings
                    .backoff
                    .delay(try_no, rand::random::<f64>(), retry_after);
                warn!(user = %user.fingerprint(), try_no, error = %e, delay_ms = delay.as_millis() as u64, "push failed; retrying with the same retry key");
                NextStep::RetryAfter(delay)
            }
            e if e.is_retryable() => {
                warn!(user = %user.fingerprint(), error = %e, "push failed after all retries; left for the next run");
                NextStep::Give(Outcome::Failed {
                    reason: e.to_string(),
                    retryable: true,
                })
            }
            e => {
                error!(user = %user.fingerprint(), error = %e, "LINE refused this push; not retried");
                NextStep::Give(Outcome::Failed {
                    reason: e.to_string(),
                    retryable: false,
                })
            }
        }
    }
}

/// A page's commits and what they leave.
struct PlannedCommits {
    commits: Vec<PageCommit>,
    /// Every household sent or failed for good.
    settled: bool,
    left: u64,
    attempted: u64,
}

/// Turns a page's outcomes into commits of at most [`MAX_OUTCOMES_PER_COMMIT`] households,
/// each carrying the counts of its own households. The first also counts the page's
/// nothing-to-send households (once per page over all attempts); the last moves the resume
/// cursor past the page if it is settled and every page before it is.
fn plan_commits(
    page: &PlannedPage,
    outcomes: Vec<Outcome>,
    progress: &ShardProgress,
    cursor_may_advance: bool,
) -> PlannedCommits {
    let (mut commits, settled, gathered) = commits_of_outcomes(page, outcomes);
    if page.number >= progress.counted_pages {
        count_page_once(&mut commits[0], page);
    }
    if settled && cursor_may_advance {
        if let Some(last) = commits.last_mut() {
            last.resume = Some((page.next.clone(), page.number + 1));
        }
    }
    PlannedCommits {
        commits,
        settled,
        left: gathered.left,
        attempted: gathered.attempted,
    }
}

/// The page's outcomes in commits of at most [`MAX_OUTCOMES_PER_COMMIT`] households (at least
/// one commit, maybe empty), whether every household is settled, and what is left over.
fn commits_of_outcomes(
    page: &PlannedPage,
    outcomes: Vec<Outcome>,
) -> (Vec<PageCommit>, bool, Tally) {
    let mut settled = true;
    let mut commits: Vec<PageCommit> = Vec::new();
    let mut gathered = Tally::default();
    let mut chunk = Vec::new();
    for (candidate, outcome) in page.candidates.iter().zip(outcomes) {
        let Some(state) = ledger_state(candidate, outcome, &mut gathered) else {
            settled = false;
            continue;
        };
        settled &= is_settled(&state);
        chunk.push(DeliveryOutcome {
            user: candidate.household.user.clone(),
            attempt: candidate.attempt,
            state,
        });
        if chunk.len() == MAX_OUTCOMES_PER_COMMIT {
            commits.push(outcome_commit(std::mem::take(&mut chunk), &mut gathered));
        }
    }
    if !chunk.is_empty() || commits.is_empty() {
        commits.push(outcome_commit(chunk, &mut gathered));
    }
    (commits, settled, gathered)
}

/// The ledger state one push outcome leaves, counted into `gathered`; `None` for a household
/// not tried, which is left for a later attempt and written nowhere.
fn ledger_state(
    candidate: &Candidate,
    outcome: Outcome,
    gathered: &mut Tally,
) -> Option<DeliveryState> {
    match outcome {
        Outcome::Sent { request_id } => {
            gathered.counts.sent += 1;
            for id in notice_ids(&candidate.plan) {
                *gathered.notices.entry(id).or_default() += 1;
            }
            Some(DeliveryState::Sent {
                request_id,
                message_count: candidate.plan.messages.len() as u32,
            })
        }
        Outcome::Failed { reason, retryable } => {
            gathered.counts.failed += 1;
            if retryable {
                gathered.left += 1;
            }
            Some(DeliveryState::Failed { reason, retryable })
        }
        Outcome::NotSentQuota => {
            gathered.counts.not_sent_quota += 1;
            Some(DeliveryState::Failed {
                reason: MONTHLY_LIMIT_REASON.into(),
                retryable: true,
            })
        }
        Outcome::NotAttempted => {
            gathered.left += 1;
            None
        }
    }
}

/// Adds the page's nothing-to-send and missing-content households to `first`, and records the
/// page as counted, so a rerun of the page does not count them again.
fn count_page_once(first: &mut PageCommit, page: &PlannedPage) {
    first.run.add.skipped += page.skipped;
    first.run.add.missing_content += page.missing_content;
    first.counted_pages = Some(page.number + 1);
}

/// One shard's share of the town's push rate (at least 1 request per second).
fn shard_rate(municipality: &Municipality) -> u32 {
    let shards = u32::from(municipality.send_shards.max(1));
    (municipality.push_rate_per_second / shards).max(1)
}

/// Whether a ledger entry needs no further push today.
fn is_settled(state: &DeliveryState) -> bool {
    matches!(
        state,
        DeliveryState::Sent { .. }
            | DeliveryState::Failed {
                retryable: false,
                ..
            }
    )
}

/// The town notices a plan carries (note ids) and its survey invitation (`survey/<id>`, the
/// invitations a survey's response rate is counted against), counted when the push is sent.
/// An invitation rides on the push like a notice: it adds no counted message.
fn notice_ids(plan: &DailyPlan) -> impl Iterator<Item = String> + '_ {
    plan.items.iter().filter_map(|i| match &i.kind {
        PlannedKind::Note { id } => Some(id.clone()),
        PlannedKind::Survey { .. } => Some(i.content_key()),
        _ => None,
    })
}

/// A commit of `outcomes` carrying the counts gathered for them so far (then reset).
fn outcome_commit(outcomes: Vec<DeliveryOutcome>, gathered: &mut Tally) -> PageCommit {
    let taken = std::mem::take(gathered);
    gathered.left = taken.left;
    gathered.attempted = taken.attempted + outcomes.len() as u64;
    PageCommit {
        outcomes,
        run: RunUpdate {
            status: RunStatus::Started,
            add: taken.counts,
            notices: taken.notices,
            note: None,
        },
        counted_pages: None,
        resume: None,
    }
}

fn run_update(status: RunStatus, tally: Tally, note: Option<String>) -> RunUpdate {
    RunUpdate {
        status,
        add: tally.counts,
        notices: tally.notices,
        note,
    }
}

fn add_counts(total: &mut RunCounts, add: &RunCounts) {
    total.sent += add.sent;
    total.skipped += add.skipped;
    total.failed += add.failed;
    total.not_sent_quota += add.not_sent_quota;
    total.missing_content += add.missing_content;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, number: u32) -> PlannedPage {
        let town = MunicipalityId::parse("kizuna-town").unwrap();
        PlannedPage {
            number,
            next: Some("cursor-after".into()),
            candidates: (0..n)
                .map(|i| Candidate {
                    household: Household::new(
                        town.clone(),
                        LineUserId::parse(&format!("U{i:032x}")).unwrap(),
                    ),
                    plan: DailyPlan::default(),
                    attempt: 1,
                })
                .collect(),
            skipped: 7,
            missing_content: 1,
        }
    }

    fn sent(n: usize) -> Vec<Outcome> {
        (0..n)
            .map(|i| Outcome::Sent {
                request_id: format!("r{i}"),
            })
            .collect()
    }

    /// A page of 200 sent households: three transactions (98 + 98 + 4), each carrying the
    /// counts of exactly its own households; the page's skipped households counted once, in
    /// the first; the cursor moved past the page in the last.
    #[test]
    fn a_settled_page_commits_in_transactions_that_count_their_own_households() {
        let page = page(200, 3);
        let planned = plan_commits(&page, sent(200), &ShardProgress::default(), true);
        let sizes: Vec<usize> = planned.commits.iter().map(|c| c.outcomes.len()).collect();
        assert_eq!(sizes, [98, 98, 4]);
        let sent: Vec<u64> = planned.commits.iter().map(|c| c.run.add.sent).collect();
        assert_eq!(sent, [98, 98, 4]);
        assert_eq!(planned.commits[0].run.add.skipped, 7);
        assert_eq!(planned.commits[0].run.add.missing_content, 1);
        assert_eq!(planned.commits[0].counted_pages, Some(4));
        assert!(planned.commits[1..]
            .iter()
            .all(|c| c.run.add.skipped == 0 && c.counted_pages.is_none()));
        assert_eq!(
            planned.commits[2].resume,
            Some((Some("cursor-after".into()), 4))
        );
        assert!(planned.commits[..2].iter().all(|c| c.resume.is_none()));
        assert!(planned.settled);
        assert_eq!((planned.left, planned.attempted), (0, 200));
    }

    /// A rerun of a page already counted does not count its skipped households again; a page
    /// with a household left (not attempted, or a transient failure) does not move the cursor
    /// and commits only the households tried; a page after an unsettled one never moves it.
    #[test]
    fn unsettled_or_recounted_pages_leave_the_cursor_and_the_skipped_count_alone() {
        let counted = ShardProgress {
            resumed: true,
            counted_pages: 4,
            ..Default::default()
        };
        let planned = plan_commits(&page(3, 3), sent(3), &counted, true);
        assert_eq!(planned.commits[0].run.add.skipped, 0);
        assert_eq!(planned.commits[0].counted_pages, None);

        let mut outcomes = sent(1);
        outcomes.push(Outcome::NotAttempted);
        outcomes.push(Outcome::Failed {
            reason: "LINE 500".into(),
            retryable: true,
        });
        let planned = plan_commits(&page(3, 0), outcomes, &ShardProgress::default(), true);
        assert!(!planned.settled);
        assert_eq!(planned.left, 2);
        assert_eq!(planned.commits.len(), 1);
        assert_eq!(
            planned.commits[0].outcomes.len(),
            2,
            "the untried one is not written"
        );
        assert_eq!(
            (
                planned.commits[0].run.add.sent,
                planned.commits[0].run.add.failed
            ),
            (1, 1)
        );
        assert_eq!(planned.commits[0].resume, None);

        let planned = plan_commits(&page(2, 5), sent(2), &ShardProgress::default(), false);
        assert!(planned.settled);
        assert_eq!(planned.commits[0].resume, None);

        // A permanent failure settles its household; the month's limit does not.
        let planned = plan_commits(
            &page(2, 0),
            vec![
                Outcome::Failed {
                    reason: "LINE 400".into(),
                    retryable: false,
                },
                Outcome::NotSentQuota,
            ],
            &ShardProgress::default(),
            true,
        );
        assert!(!planned.settled);
        assert_eq!(planned.commits[0].run.add.not_sent_quota, 1);
        assert_eq!(
            planned.commits[0].outcomes[1].state,
            DeliveryState::Failed {
                reason: MONTHLY_LIMIT_REASON.into(),
                retryable: true
            }
        );
    }

    #[test]
    fn a_towns_shards_share_its_push_rate() {
        let mut town =
            Municipality::new(MunicipalityId::parse("kizuna-town").unwrap(), "きずな町", 7);
        town.push_rate_per_second = 1000;
        town.send_shards = 4;
        assert_eq!(
            shard_rate(&town),
            250,
            "4 shards at once stay within 1,000/s"
        );
        town.send_shards = 1;
        assert_eq!(shard_rate(&town), 1000);
        town.push_rate_per_second = 3;
        town.send_shards = 8;
        assert_eq!(shard_rate(&town), 1, "never zero");
    }

    #[test]
    fn retry_keys_are_stable_and_distinct() {
        let m = MunicipalityId::parse("kizuna-town").unwrap();
        let u = LineUserId::parse("U0123456789abcdef0123456789abcdef").unwrap();
        let v = LineUserId::parse("U0123456789abcdef0123456789abcdee").unwrap();
        let d = NaiveDate::from_ymd_opt(2027, 1, 2).unwrap();
        assert_eq!(retry_key(&m, d, &u), retry_key(&m, d, &u));
        assert_ne!(retry_key(&m, d, &u), retry_key(&m, d, &v));
        assert_ne!(
            retry_key(&m, d, &u),
            retry_key(&m, d.succ_opt().unwrap(), &u)
        );
        assert_eq!(retry_key(&m, d, &u).get_version_num(), 5);
    }
}
