//! The daily fan-out for one send job (municipality, date, shard): exactly once per household.
//!
//! For every household that receives messages, the core plans today's one push; the delivery
//! ledger is claimed with a conditional write *before* pushing and completed after; the push
//! carries an `X-Line-Retry-Key` derived from (municipality, date, user), so LINE itself
//! de-duplicates a resend. What happens when the process dies at each point:
//!
//! | dies …                              | state left                  | next run (SQS redelivery or catch-up) |
//! |-------------------------------------|-----------------------------|----------------------------------------|
//! | before the claim                    | nothing                     | claims and sends                        |
//! | after the claim, before the push    | claimed, lease running      | waits for the lease, claims, sends      |
//! | after LINE accepted, before marking | claimed, lease running      | claims after the lease, pushes with the same retry key: LINE answers 409 (already accepted) → marked sent, nothing delivered twice |
//! | after marking sent                  | sent                        | skips                                   |
//!
//! The lease (5 min) is longer than one delivery can take (all retries included) and shorter
//! than the queue's visibility timeout, so a redelivered job finds expired leases; the catch-up
//! window (see [`crate::schedule`]) keeps every resend well inside the retry key's 24 hours.

use crate::clock::Clock;
/// S3 prefix under which content packs live (`content/base/…`, `content/municipalities/…`).
pub use crate::content::CONTENT_PREFIX;
use crate::content::{ContentCache, ContentError};
use crate::metrics;
use crate::model::{
    ChannelCredentials, Municipality, RunCounts, RunKey, RunStatus, RunUpdate, SendJob,
};
use crate::pacing::{Backoff, Pacer};
use crate::ports::{
    ChannelSecrets, ContentStore, DeliveryLedger, HouseholdStore, LedgerClaim,
    MunicipalityDirectory, RunRecords, StoreError,
};
use crate::schedule::may_send_now;
use chrono::NaiveDate;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt as _;
use kizuna_core::content::ContentLibrary;
use kizuna_core::plan::{plan_household, DailyPlan, PlannedKind};
use kizuna_core::{Household, LineUserId, MunicipalityId};
use kizuna_line::{ChannelToken, LineClient, LineError, PushOutcome, TokenProvider};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{error, info, warn};
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

/// The month's message allowance when a send job starts: the smaller of LINE's and the
/// municipality's limit, and what is left of it.
#[derive(Debug, Clone, Copy)]
struct QuotaAtStart {
    remaining: u64,
    limit: u64,
}

#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// How long a ledger claim is exclusive. Longer than a delivery with all its retries.
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
    #[error("LINE failed: {0}")]
    Line(LineError),
    /// Some households are still to be sent (transient failures, deadline, another sender
    /// holding leases): the job must run again.
    #[error("run incomplete: {0}")]
    Incomplete(String),
}

/// What one job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub status: RunStatus,
    pub counts: RunCounts,
    /// Households whose delivery another sender currently holds.
    pub leased_elsewhere: u64,
    /// Deliveries that failed transiently (retried later).
    pub retryable_failures: u64,
    pub note: Option<String>,
}

/// Why a job stopped early.
const STOP_NONE: u8 = 0;
const STOP_UNAUTHORIZED: u8 = 1;
const STOP_MONTHLY_LIMIT: u8 = 2;
const STOP_DEADLINE: u8 = 3;

enum Delivered {
    Sent,
    AlreadySent,
    LeasedElsewhere,
    FailedPermanently,
    FailedRetryable,
    NotSentQuota,
    Stopped,
}

pub struct Sender {
    ports: SenderPorts,
    line: LineClient,
    tokens: TokenProvider,
    clock: Arc<dyn Clock>,
    settings: SenderSettings,
    content: ContentCache,
    pacers: Mutex<HashMap<MunicipalityId, Arc<Pacer>>>,
}

impl Sender {
    pub fn new(
        ports: SenderPorts,
        line: LineClient,
        clock: Arc<dyn Clock>,
        settings: SenderSettings,
    ) -> Self {
        let tokens = TokenProvider::new(line.clone());
        let content = ContentCache::new(ports.content.clone());
        Self {
            ports,
            line,
            tokens,
            clock,
            settings,
            content,
            pacers: Mutex::new(HashMap::new()),
        }
    }

    /// The content library, reloaded only when the stored version changed (warm invocations
    /// reuse the parsed library; checking the version is one listing).
    pub async fn content(&self) -> Result<Arc<ContentLibrary>, SendError> {
        self.content.current().await.map_err(|e| match e {
            ContentError::Store(e) => SendError::Store(e),
            ContentError::Unusable(why) => SendError::Content(why),
        })
    }

    fn pacer(&self, municipality: &Municipality) -> Arc<Pacer> {
        let mut pacers = self.pacers.lock().unwrap_or_else(|e| e.into_inner());
        pacers
            .entry(municipality.id.clone())
            .or_insert_with(|| Arc::new(Pacer::for_limit(municipality.push_rate_per_second)))
            .clone()
    }

    /// Runs one send job. `deadline` is the invocation's deadline, if any.
    ///
    /// `Ok` means the job needs no further run (completed, nothing to do, or stopped for a
    /// reason a rerun cannot fix today, such as the monthly limit — recorded and alerted).
    /// `Err` means it must run again (the Lambda reports the SQS message as failed).
    pub async fn run(
        &self,
        job: &SendJob,
        deadline: Option<Instant>,
    ) -> Result<JobReport, SendError> {
        let now = self.clock.now();
        let key = RunKey {
            municipality: job.municipality.clone(),
            date: job.date,
            shard: job.shard.index,
        };
        let muni = job.municipality.as_str();
        if !may_send_now(job.date, now) {
            warn!(municipality = muni, date = %job.date, "send job arrived too late; not sent");
            let existing = self.ports.runs.get(&key).await?;
            if existing.map(|r| r.status) != Some(RunStatus::Completed) {
                self.record(
                    &key,
                    RunStatus::Failed,
                    RunCounts::default(),
                    Some("late: not sent".into()),
                )
                .await?;
                metrics::emit(muni, now, &[(metrics::MUNICIPALITY_RUN_LATE, 1.0)]);
            }
            return Ok(JobReport {
                status: RunStatus::Failed,
                counts: RunCounts::default(),
                leased_elsewhere: 0,
                retryable_failures: 0,
                note: Some("late".into()),
            });
        }
        let municipality = self
            .ports
            .municipalities
            .get(&job.municipality)
            .await?
            .ok_or(SendError::UnknownMunicipality)?;
        if !municipality.enabled {
            info!(municipality = muni, "municipality disabled; nothing sent");
            return Ok(JobReport {
                status: RunStatus::Completed,
                counts: RunCounts::default(),
                leased_elsewhere: 0,
                retryable_failures: 0,
                note: Some("disabled".into()),
            });
        }
        let result = self.run_enabled(job, &key, &municipality, deadline).await;
        if let Err(e) = &result {
            error!(municipality = muni, date = %job.date, shard = job.shard.index, error = %e, "send job failed");
            metrics::emit(
                muni,
                self.clock.now(),
                &[(metrics::MUNICIPALITY_RUN_FAILED, 1.0)],
            );
            let note = Some(e.to_string());
            if let Err(store) = self
                .record(&key, RunStatus::Failed, RunCounts::default(), note)
                .await
            {
                warn!(municipality = muni, error = %store, "could not record the failed run");
            }
        }
        result
    }

    async fn run_enabled(
        &self,
        job: &SendJob,
        key: &RunKey,
        municipality: &Municipality,
        deadline: Option<Instant>,
    ) -> Result<JobReport, SendError> {
        let muni = municipality.id.as_str();
        let credentials = self
            .ports
            .secrets
            .get(&municipality.id)
            .await?
            .ok_or(SendError::MissingCredentials)?;
        let credentials = line_credentials(&credentials);
        let library = self.content().await?;
        let content = library.for_municipality(&municipality.id);
        let token = match self.tokens.token(&credentials).await {
            Ok(t) => t,
            Err(LineError::Unauthorized) => return Err(SendError::Unauthorized),
            Err(e) => return Err(SendError::Line(e)),
        };
        // A run record means an earlier invocation started this job (redelivery, a duplicate
        // message, catch-up): some households may be sent already.
        let rerun = job.attempt > 0 || !matches!(self.ports.runs.get(key).await, Ok(None));
        self.record(key, RunStatus::Started, RunCounts::default(), None)
            .await?;
        let quota_at_start = self.quota_left(&token, municipality).await;
        let quota_limit = quota_at_start.map(|q| q.limit);

        // Page by page: plan the page (pure and fast), skip who is already sent (a rerun),
        // deliver the rest, then fetch the next page. Every invocation therefore makes
        // progress even when listing is slow — planning the whole shard before the first push
        // once let a throttled store use up each invocation's time before any delivery
        // (found by the chaos suite, docs/reliability.md). Pages come in index order, so the
        // quota policy still applies in a stable order.
        let mut counts = RunCounts::default();
        let quota = quota_at_start.map(|q| AtomicU64::new(q.remaining));
        let stop = AtomicU8::new(STOP_NONE);
        let pacer = self.pacer(municipality);
        let retried = AtomicU64::new(0);
        let concurrency = self.settings.concurrency.max(1);
        // With each delivery, the town notices its push carried (counted when newly sent).
        let mut results: Vec<(Delivered, Vec<String>)> = Vec::new();
        let mut cursor = None;
        loop {
            if self.near_deadline(deadline) {
                stop.store(STOP_DEADLINE, Ordering::SeqCst);
                break;
            }
            let page = self
                .ports
                .households
                .deliverable_page(&municipality.id, job.shard, cursor, self.settings.page_size)
                .await?;
            let mut candidates: Vec<(Household, DailyPlan)> = Vec::with_capacity(page.items.len());
            for household in page.items {
                let plan = plan_household(&household, job.date, &content);
                if !plan.missing.is_empty() {
                    counts.missing_content += 1;
                    warn!(municipality = muni, user = %household.user.fingerprint(), missing = plan.missing.len(), "content missing for a scheduled day; household skipped for it");
                }
                if plan.messages.is_empty() {
                    counts.skipped += 1;
                } else {
                    candidates.push((household, plan));
                }
            }
            if rerun {
                // Skip the sent ones with batched reads rather than a conditional write each.
                let users: Vec<LineUserId> =
                    candidates.iter().map(|(h, _)| h.user.clone()).collect();
                match self
                    .ports
                    .ledger
                    .sent_among(&municipality.id, job.date, &users)
                    .await
                {
                    Ok(sent) if !sent.is_empty() => {
                        counts.skipped += sent.len() as u64;
                        candidates.retain(|(h, _)| !sent.contains(&h.user));
                    }
                    Ok(_) => {}
                    // Only an optimisation: each claim still tells.
                    Err(e) => {
                        warn!(municipality = muni, error = %e, "could not read which deliveries are already sent; claiming each")
                    }
                }
            }
            // A plain loop over FuturesUnordered (not a stream combinator with a closure)
            // keeps this future `Send`, which the Lambda runtime and `tokio::spawn` need.
            let mut in_flight = FuturesUnordered::new();
            for (household, plan) in &candidates {
                if in_flight.len() >= concurrency {
                    if let Some(done) = in_flight.next().await {
                        results.push(done);
                    }
                }
                let notices: Vec<String> = plan
                    .items
                    .iter()
                    .filter_map(|i| match &i.kind {
                        PlannedKind::Note { id } => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                in_flight.push(
                    self.deliver(
                        job.date,
                        municipality,
                        &credentials,
                        &token,
                        household,
                        plan,
                        &pacer,
                        quota.as_ref(),
                        &stop,
                        &retried,
                        deadline,
                    )
                    .map(move |delivered| (delivered, notices)),
                );
            }
            while let Some(done) = in_flight.next().await {
                results.push(done);
            }
            if matches!(
                stop.load(Ordering::SeqCst),
                STOP_DEADLINE | STOP_UNAUTHORIZED
            ) {
                break;
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }

        let mut leased_elsewhere = 0;
        let mut retryable_failures = 0;
        let mut notices: BTreeMap<String, u64> = BTreeMap::new();
        for (r, carried) in &results {
            match r {
                Delivered::Sent => {
                    counts.sent += 1;
                    for id in carried {
                        *notices.entry(id.clone()).or_default() += 1;
                    }
                }
                Delivered::AlreadySent => counts.skipped += 1,
                Delivered::LeasedElsewhere => leased_elsewhere += 1,
                Delivered::FailedPermanently => counts.failed += 1,
                Delivered::FailedRetryable | Delivered::Stopped => {
                    retryable_failures += 1;
                    counts.failed += 1;
                }
                Delivered::NotSentQuota => counts.not_sent_quota += 1,
            }
        }
        let stop_reason = stop.load(Ordering::SeqCst);
        let now = self.clock.now();
        let mut emitted = vec![
            (metrics::SENT, counts.sent as f64),
            (metrics::FAILED, counts.failed as f64),
            (metrics::SKIPPED, counts.skipped as f64),
            (metrics::NOT_SENT_QUOTA, counts.not_sent_quota as f64),
            (metrics::MISSING_CONTENT, counts.missing_content as f64),
            (metrics::RETRIED, retried.load(Ordering::SeqCst) as f64),
        ];
        if let (Some(q), Some(limit)) = (quota.as_ref(), quota_limit) {
            let remaining = q.load(Ordering::SeqCst);
            emitted.push((metrics::QUOTA_REMAINING, remaining as f64));
            emitted.push((
                metrics::QUOTA_REMAINING_RATIO,
                metrics::quota_remaining_ratio(remaining, limit),
            ));
        }
        metrics::emit(muni, now, &emitted);

        if stop_reason == STOP_UNAUTHORIZED {
            self.record_with_notices(
                key,
                RunStatus::Failed,
                counts,
                notices,
                Some("LINE rejected the channel token (401)".into()),
            )
            .await?;
            return Err(SendError::Unauthorized);
        }
        if counts.not_sent_quota > 0 {
            // Nothing a rerun can fix until the plan changes: record, alert, do not retry now.
            // The hourly catch-up tries again (the limit may be raised the same day).
            let note = format!(
                "monthly message limit reached: {} household(s) not sent",
                counts.not_sent_quota
            );
            error!(
                municipality = muni,
                not_sent = counts.not_sent_quota,
                "monthly message limit reached"
            );
            metrics::emit(muni, now, &[(metrics::MUNICIPALITY_RUN_FAILED, 1.0)]);
            self.record_with_notices(key, RunStatus::Failed, counts, notices, Some(note.clone()))
                .await?;
            return Ok(JobReport {
                status: RunStatus::Failed,
                counts,
                leased_elsewhere,
                retryable_failures,
                note: Some(note),
            });
        }
        if retryable_failures > 0 || leased_elsewhere > 0 || stop_reason == STOP_DEADLINE {
            let attempted = results
                .iter()
                .filter(|(r, _)| !matches!(r, Delivered::Stopped))
                .count();
            let mut note = format!(
                "{retryable_failures} delivery(ies) to retry, {leased_elsewhere} held by another sender{}",
                if stop_reason == STOP_DEADLINE { ", stopped before the deadline" } else { "" }
            );
            if stop_reason == STOP_DEADLINE && attempted == 0 {
                // Reruns start from the shard's first page: if reaching the unsent households
                // takes a whole invocation, no rerun gets further. Say so while there is time.
                note.push_str(
                    "; no delivery was attempted: listing the shard took the whole invocation \
                     (give the municipality more send shards)",
                );
                error!(municipality = muni, date = %job.date, shard = job.shard.index, "send job made no progress before its deadline");
                metrics::emit(muni, now, &[(metrics::MUNICIPALITY_RUN_NO_PROGRESS, 1.0)]);
            }
            self.record_with_notices(key, RunStatus::Failed, counts, notices, Some(note.clone()))
                .await?;
            return Err(SendError::Incomplete(note));
        }
        self.record_with_notices(key, RunStatus::Completed, counts, notices, None)
            .await?;
        info!(municipality = muni, date = %job.date, shard = job.shard.index, sent = counts.sent, skipped = counts.skipped, failed = counts.failed, "send job completed");
        Ok(JobReport {
            status: RunStatus::Completed,
            counts,
            leased_elsewhere,
            retryable_failures,
            note: None,
        })
    }

    /// Whether it is time to stop starting deliveries (the invocation's deadline is near).
    fn near_deadline(&self, deadline: Option<Instant>) -> bool {
        deadline.is_some_and(|d| Instant::now() + self.settings.deadline_margin >= d)
    }

    async fn quota_left(
        &self,
        token: &ChannelToken,
        municipality: &Municipality,
    ) -> Option<QuotaAtStart> {
        let line_limit = match self.line.quota(token).await {
            Ok(kizuna_line::Quota::Limited(v)) => Some(v),
            Ok(kizuna_line::Quota::Unlimited) => None,
            Err(e) => {
                warn!(municipality = municipality.id.as_str(), error = %e, "could not read the LINE quota; relying on LINE's own limit");
                return None;
            }
        };
        let limit = match (line_limit, municipality.monthly_message_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        match self.line.quota_consumption(token).await {
            Ok(used) => Some(QuotaAtStart {
                remaining: limit.saturating_sub(used),
                limit,
            }),
            Err(e) => {
                warn!(municipality = municipality.id.as_str(), error = %e, "could not read LINE quota consumption");
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        date: NaiveDate,
        municipality: &Municipality,
        credentials: &kizuna_line::ChannelCredentials,
        token: &ChannelToken,
        household: &Household,
        plan: &DailyPlan,
        pacer: &Pacer,
        quota: Option<&AtomicU64>,
        stop: &AtomicU8,
        retried: &AtomicU64,
        deadline: Option<Instant>,
    ) -> Delivered {
        let fp = household.user.fingerprint();
        let muni = &municipality.id;
        if stop.load(Ordering::SeqCst) != STOP_NONE {
            return if stop.load(Ordering::SeqCst) == STOP_MONTHLY_LIMIT {
                Delivered::NotSentQuota
            } else {
                Delivered::Stopped
            };
        }
        if self.near_deadline(deadline) {
            stop.store(STOP_DEADLINE, Ordering::SeqCst);
            return Delivered::Stopped;
        }
        let claim = self
            .ports
            .ledger
            .claim(
                muni,
                date,
                &household.user,
                self.clock.now(),
                self.settings.lease,
            )
            .await;
        let attempt = match claim {
            Ok(LedgerClaim::Acquired { attempt }) => attempt,
            Ok(LedgerClaim::AlreadySent) => return Delivered::AlreadySent,
            Ok(LedgerClaim::LeasedByOther) => return Delivered::LeasedElsewhere,
            Ok(LedgerClaim::FailedPermanently) => return Delivered::FailedPermanently,
            Err(e) => {
                warn!(municipality = muni.as_str(), user = %fp, error = %e, "ledger claim failed");
                return Delivered::FailedRetryable;
            }
        };
        if let Some(q) = quota {
            if q.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_err()
            {
                self.mark_failed(muni, date, &household.user, "monthly message limit", true)
                    .await;
                return Delivered::NotSentQuota;
            }
        }
        let key = retry_key(muni, date, &household.user);
        let mut token = token.clone();
        for try_no in 1..=self.settings.backoff.attempts {
            pacer.acquire().await;
            let result = self
                .line
                .push(&token, household.user.as_str(), &plan.messages, key)
                .await;
            let error = match result {
                Ok(PushOutcome::Accepted { request_id, .. }) => {
                    let id = request_id.unwrap_or_default();
                    return self.mark_sent(muni, date, household, &id, plan).await;
                }
                Ok(PushOutcome::AlreadyAccepted {
                    accepted_request_id,
                }) => {
                    info!(municipality = muni.as_str(), user = %fp, attempt, "LINE had already accepted this delivery (409); marking it sent");
                    return self
                        .mark_sent(muni, date, household, &accepted_request_id, plan)
                        .await;
                }
                Err(e) => e,
            };
            if error.is_monthly_limit() {
                stop.store(STOP_MONTHLY_LIMIT, Ordering::SeqCst);
                if let Some(q) = quota {
                    q.store(0, Ordering::SeqCst);
                }
                self.mark_failed(muni, date, &household.user, "monthly message limit", true)
                    .await;
                return Delivered::NotSentQuota;
            }
            match error {
                LineError::Unauthorized => {
                    // A stateless token may just have expired early: refresh once, then give up.
                    self.tokens.invalidate(&credentials.channel_id).await;
                    if try_no == 1 && credentials.channel_access_token.is_none() {
                        if let Ok(fresh) = self.tokens.token(credentials).await {
                            token = fresh;
                            continue;
                        }
                    }
                    stop.store(STOP_UNAUTHORIZED, Ordering::SeqCst);
                    self.mark_failed(
                        muni,
                        date,
                        &household.user,
                        "channel token rejected (401)",
                        true,
                    )
                    .await;
                    return Delivered::Stopped;
                }
                ref e if e.is_retryable() && try_no < self.settings.backoff.attempts => {
                    retried.fetch_add(1, Ordering::Relaxed);
                    let retry_after = match e {
                        LineError::RateLimited { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let delay =
                        self.settings
                            .backoff
                            .delay(try_no, rand::random::<f64>(), retry_after);
                    warn!(municipality = muni.as_str(), user = %fp, try_no, error = %e, delay_ms = delay.as_millis() as u64, "push failed; retrying with the same retry key");
                    tokio::time::sleep(delay).await;
                }
                e if e.is_retryable() => {
                    warn!(municipality = muni.as_str(), user = %fp, error = %e, "push failed after all retries; left for the next run");
                    self.mark_failed(muni, date, &household.user, &e.to_string(), true)
                        .await;
                    return Delivered::FailedRetryable;
                }
                e => {
                    error!(municipality = muni.as_str(), user = %fp, error = %e, "LINE refused this push; not retried");
                    self.mark_failed(muni, date, &household.user, &e.to_string(), false)
                        .await;
                    return Delivered::FailedPermanently;
                }
            }
        }
        Delivered::FailedRetryable
    }

    async fn mark_sent(
        &self,
        muni: &MunicipalityId,
        date: NaiveDate,
        household: &Household,
        request_id: &str,
        plan: &DailyPlan,
    ) -> Delivered {
        match self
            .ports
            .ledger
            .mark_sent(
                muni,
                date,
                &household.user,
                request_id,
                plan.messages.len() as u32,
            )
            .await
        {
            Ok(()) => Delivered::Sent,
            Err(e) => {
                // LINE has it; the claim stays and its lease expires. The next run pushes with
                // the same retry key, gets 409, and marks it sent: still exactly one delivery.
                warn!(municipality = muni.as_str(), user = %household.user.fingerprint(), error = %e, "sent, but the ledger could not be updated");
                Delivered::FailedRetryable
            }
        }
    }

    async fn mark_failed(
        &self,
        muni: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
        reason: &str,
        retryable: bool,
    ) {
        if let Err(e) = self
            .ports
            .ledger
            .mark_failed(muni, date, user, reason, retryable)
            .await
        {
            warn!(municipality = muni.as_str(), user = %user.fingerprint(), error = %e, "could not record a failed delivery; its lease will expire");
        }
    }

    async fn record(
        &self,
        key: &RunKey,
        status: RunStatus,
        add: RunCounts,
        note: Option<String>,
    ) -> Result<(), SendError> {
        self.record_with_notices(key, status, add, BTreeMap::new(), note)
            .await
    }

    async fn record_with_notices(
        &self,
        key: &RunKey,
        status: RunStatus,
        add: RunCounts,
        notices: BTreeMap<String, u64>,
        note: Option<String>,
    ) -> Result<(), SendError> {
        let update = RunUpdate {
            status,
            add,
            notices,
            note,
        };
        self.ports
            .runs
            .upsert(key, &update, self.clock.now())
            .await?;
        Ok(())
    }
}

/// The LINE crate's view of a municipality's stored credentials.
pub fn line_credentials(c: &ChannelCredentials) -> kizuna_line::ChannelCredentials {
    kizuna_line::ChannelCredentials {
        channel_id: c.channel_id.clone(),
        channel_secret: kizuna_line::ChannelSecret::new(c.channel_secret.clone()),
        channel_access_token: c.channel_access_token.clone().map(ChannelToken::new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
