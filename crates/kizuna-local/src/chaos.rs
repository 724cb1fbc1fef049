//! Chaos runs of the daily fan-out: one day's sends for many households across several towns,
//! worked by real sender *processes* that are killed with SIGKILL at random moments, against a
//! fake LINE that answers 429/5xx/timeouts (and loses responses of pushes it delivered), an
//! emulator behind a proxy that throttles, fails and delays requests (some after applying
//! them), an SQS queue that gets duplicate jobs, and a scheduler that fires twice. Then catch-up
//! and retries run until every run record is completed, and the fake LINE's record of accepted
//! pushes is compared with what the pure core says each household should get that day.
//!
//! Faults are drawn from generators seeded by the run's seed (households, LINE faults, emulator
//! faults, kill times, duplicate jobs), so a seed reproduces the same fault plan; the exact
//! interleaving with the processes is up to the OS scheduler, which is the point.
//!
//! Used by `crates/kizuna-local/tests/chaos.rs` (a short run in CI) and the `kizuna-chaos`
//! binary (the long run: `bash scripts/chaos`). Findings and numbers: docs/reliability.md.

use crate::{japan_time, worker_env, LocalStack, StackOptions, Town};
use anyhow::{bail, Context as _};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use chrono::{Days, NaiveDate, Utc};
use fake_line::FaultPlan;
use kizuna_app::model::{RunStatus, SendJob};
use kizuna_app::ports::{HouseholdStore, RunRecords, SendQueue};
use kizuna_aws::{compose, env_var};
use kizuna_core::content::ContentLibrary;
use kizuna_core::plan::plan_household;
use kizuna_core::{EndReason, Household, LineUserId, Registration, RegistrationStatus, Subject};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// What one chaos run does. [`ChaosPlan::ci`] and [`ChaosPlan::long`] are the two sizes used.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosPlan {
    pub seed: u64,
    pub households: u32,
    pub towns: u32,
    /// Send shards of the first town; the others get one or two more.
    pub shards: u16,
    /// Sender processes working the queue at once.
    pub workers: u32,
    /// SIGKILLs of a random worker, at random moments, each followed by a restart.
    pub kills: u32,
    /// Range of the pause before each kill, in milliseconds.
    pub kill_gap_ms: (u64, u64),
    /// Fractions of LINE pushes answered 429 / 500 / timed out / delivered with the response lost.
    pub line_too_many_requests: f64,
    pub line_server_error: f64,
    pub line_timeout: f64,
    pub line_lost_response: f64,
    /// Fractions of emulator requests the proxy throttles / fails with 500 / applies and then
    /// answers 500 / delays.
    pub aws_throttle: f64,
    pub aws_server_error: f64,
    pub aws_applied_then_failed: f64,
    pub aws_slow: f64,
    /// Fraction of send jobs put on the queue a second time (SQS is at-least-once).
    pub duplicate_jobs: f64,
    pub lease_secs: u64,
    pub visibility_secs: u64,
    pub job_timeout_secs: u64,
    pub line_timeout_ms: u64,
    /// Give up (and report misses) after this long.
    pub max_wall_secs: u64,
}

impl ChaosPlan {
    /// The run CI does: small, with every fault kind at the issue's rates (LINE faults 20 % in
    /// all), finishing in about a minute.
    pub fn ci(seed: u64) -> Self {
        Self {
            seed,
            households: 400,
            towns: 3,
            shards: 1,
            workers: 2,
            kills: 3,
            kill_gap_ms: (300, 2_500),
            line_too_many_requests: 0.08,
            line_server_error: 0.06,
            line_timeout: 0.03,
            line_lost_response: 0.03,
            aws_throttle: 0.05,
            aws_server_error: 0.02,
            aws_applied_then_failed: 0.02,
            aws_slow: 0.03,
            duplicate_jobs: 0.5,
            // Listing a shard on a loaded emulator takes seconds (DynamoDB: milliseconds);
            // the job timeout leaves room for it, as production's 300 s does for DynamoDB.
            lease_secs: 10,
            visibility_secs: 40,
            job_timeout_secs: 30,
            line_timeout_ms: 800,
            max_wall_secs: 600,
        }
    }

    /// The documented long run's size: 10,000 households over five towns, ten kills, LINE
    /// faults at 30 % in all.
    pub fn long(seed: u64) -> Self {
        Self {
            households: 10_000,
            towns: 5,
            // 2,000 households a town: sharded as docs/fanout.md advises, so listing a shard
            // stays a small part of an invocation even on the emulator.
            shards: 4,
            kills: 10,
            kill_gap_ms: (500, 8_000),
            line_too_many_requests: 0.12,
            line_server_error: 0.10,
            line_timeout: 0.04,
            line_lost_response: 0.04,
            // The emulator lists a shard a thousand times slower than DynamoDB; the job
            // timeout keeps production's proportion of listing time to invocation time.
            lease_secs: 20,
            visibility_secs: 100,
            job_timeout_secs: 90,
            max_wall_secs: 3_600,
            ..Self::ci(seed)
        }
    }

    fn line_faults(&self) -> FaultPlan {
        FaultPlan {
            too_many_requests: self.line_too_many_requests,
            server_error: self.line_server_error,
            timeout: self.line_timeout,
            lost_response: self.line_lost_response,
            // Longer than the sender's LINE timeout: the sender sees a timeout.
            delay: Duration::from_millis(self.line_timeout_ms + 700),
            ..FaultPlan::new(self.seed ^ 0x11fe)
        }
    }
}

/// What a run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChaosReport {
    pub seed: u64,
    pub households: u32,
    /// Households the core plans a message for on the day.
    pub expected: usize,
    /// Expected households that got exactly one push.
    pub delivered_once: usize,
    /// Households that got more than one push (each counted once).
    pub duplicates: usize,
    /// Expected households that got none.
    pub misses: usize,
    /// Pushes to households that should have got none.
    pub unexpected: usize,
    pub pushes: usize,
    pub kills: u32,
    pub worker_starts: u32,
    pub duplicate_jobs: u32,
    pub catch_up_slots: u32,
    pub line_rejections: usize,
    pub aws_requests: u64,
    pub aws_faults: u64,
    /// Log lines of the sender processes containing a seeded LINE user id, a channel secret
    /// or a channel token (must be 0).
    pub log_lines_with_user_ids: usize,
    pub worker_log_lines: usize,
    /// Sender log lines at WARN or ERROR: faults that got past the SDK's and the LINE client's
    /// own retries and reached Kizuna's code.
    pub worker_warnings: usize,
    /// `sent` summed over the day's run records (`kizuna runs`, `kizuna stats`): must equal
    /// the households LINE delivered to, whatever was killed or retried.
    pub counted_sent: u64,
    /// The `Sent` metric summed over every sender log line (CloudWatch's figure): the same.
    pub metric_sent: u64,
    /// Households LINE delivered to (each counted once).
    pub delivered: usize,
    /// Seconds spent storing the households (before the fan-out starts).
    pub seed_secs: f64,
    /// Seconds from the first scheduled slot until everything completed.
    pub send_secs: f64,
    pub wall_secs: f64,
}

impl ChaosReport {
    pub fn is_clean(&self) -> bool {
        self.duplicates == 0
            && self.misses == 0
            && self.unexpected == 0
            && self.log_lines_with_user_ids == 0
            && self.counted_sent == self.delivered as u64
            && self.metric_sent == self.counted_sent
    }
}

/// The delivery date of every chaos run (a weekday in the sample content's range).
pub fn chaos_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 12).expect("valid date")
}

/// Runs one chaos day on the given provisioned namespace (see
/// [`crate::moto::provisioned_namespace`]). `worker_exe` is the `kizuna-send-worker` binary;
/// its logs go to files under `log_dir`.
///
/// The phases: a stack with faulty LINE and the towns' households; sender processes behind a
/// faulty AWS proxy; the 07:00 slot fired twice with duplicated jobs; kills at random moments;
/// catch-up slots until every run is complete; then LINE's record, the run records and the
/// logs are checked.
pub async fn run(
    plan: &ChaosPlan,
    config: kizuna_aws::Config,
    clients: kizuna_aws::AwsClients,
    content_dir: &Path,
    worker_exe: &Path,
    log_dir: &Path,
) -> anyhow::Result<ChaosReport> {
    let started = Instant::now();
    let date = chaos_date();
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let aws_endpoint = config
        .aws_endpoint_url
        .clone()
        .context("chaos runs need an emulator endpoint")?;
    let stack = start_stack(plan, config, clients, content_dir, date).await?;
    // Every process of the run reads the same shifted clock: 07:00 Japan time on the date, now.
    let offset = japan_time(date, 7, 0) - Utc::now();

    let seeding = Instant::now();
    let households = seed_households(&stack, plan, &mut rng, date).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    let expected = expected_deliveries(&stack, &households, content_dir, date)?;

    let proxy = FaultProxy::start(&aws_endpoint, plan, plan.seed ^ 0xa75).await?;
    std::fs::create_dir_all(log_dir)?;
    let mut workers = Workers {
        exe: worker_exe.to_path_buf(),
        env: worker_environment(&stack, plan, &proxy, offset),
        log_dir: log_dir.to_path_buf(),
        children: Vec::new(),
        starts: 0,
    };
    for slot in 0..plan.workers {
        workers.start(slot as usize).await?;
    }

    let sending = Instant::now();
    let day = ChaosDay {
        stack: &stack,
        plan,
        date,
        offset,
        started,
    };
    let duplicate_jobs = day.fire_first_slot(&mut rng).await?;
    let kills = day.kill_at_random(&mut workers, &mut rng).await?;
    let catch_up_slots = day.work_until_complete().await?;
    workers.stop_all().await;

    let mut report = ChaosReport {
        seed: plan.seed,
        households: plan.households,
        expected: expected.len(),
        kills,
        worker_starts: workers.starts,
        duplicate_jobs,
        catch_up_slots,
        line_rejections: stack.line.rejected_requests().len(),
        aws_requests: proxy.requests.load(Ordering::Relaxed),
        aws_faults: proxy.faults.load(Ordering::Relaxed),
        seed_secs,
        send_secs: sending.elapsed().as_secs_f64(),
        ..ChaosReport::default()
    };
    tally_pushes(&mut report, &stack, &expected);
    report.counted_sent = compose::runs(&stack.config, &stack.clients)
        .list_for_date(date)
        .await?
        .iter()
        .map(|r| r.counts.sent)
        .sum();
    let logs = scan_logs(log_dir, &never_logged(&stack, &households))?;
    report.worker_log_lines = logs.lines;
    report.worker_warnings = logs.warnings;
    report.log_lines_with_user_ids = logs.leaking;
    report.metric_sent = logs.metric_sent;
    report.wall_secs = started.elapsed().as_secs_f64();
    let violations = stack.line.contract_violations();
    if !violations.is_empty() {
        bail!("the sender broke LINE's contract: {:?}", violations.first());
    }
    Ok(report)
}

/// The towns of a run: the sample pack's own town (its local notes and birthdays) and
/// others, with shard counts that differ between towns.
fn chaos_towns(plan: &ChaosPlan) -> Vec<Town> {
    (0..plan.towns)
        .map(|n| {
            let mut town = if n == 0 {
                Town::new("kizuna-town", "きずな町", 7, 1)
            } else {
                Town::new(
                    &format!("chaos-town-{n}"),
                    &format!("カオス町{n}"),
                    7,
                    n + 1,
                )
            };
            town.municipality.send_shards = plan.shards + (n % 3) as u16;
            town
        })
        .collect()
}

/// The local stack of the run: its towns, the content pack, a fake LINE with the plan's faults.
async fn start_stack(
    plan: &ChaosPlan,
    config: kizuna_aws::Config,
    clients: kizuna_aws::AwsClients,
    content_dir: &Path,
    date: NaiveDate,
) -> anyhow::Result<LocalStack> {
    let faults = plan.line_faults();
    LocalStack::start(
        config,
        clients,
        chaos_towns(plan),
        content_dir,
        StackOptions {
            now: japan_time(date, 7, 0),
            fake_line: Box::new(move |b| b.faults(faults)),
            ..StackOptions::default()
        },
    )
    .await
}

/// (channel, LINE user) of every household the core plans a message for on `date`: exactly
/// these must each get one push.
fn expected_deliveries(
    stack: &LocalStack,
    households: &[Household],
    content_dir: &Path,
    date: NaiveDate,
) -> anyhow::Result<HashSet<(String, String)>> {
    let library = ContentLibrary::load_dir(content_dir).map_err(|d| {
        anyhow::anyhow!(
            "content pack invalid: {}",
            d.first().map(|d| d.to_string()).unwrap_or_default()
        )
    })?;
    Ok(households
        .iter()
        .filter(|h| {
            let content = library.for_municipality(&h.municipality);
            !plan_household(h, date, &content).messages.is_empty()
        })
        .map(|h| {
            let channel = &stack.town(&h.municipality).channel.channel_id;
            (channel.clone(), h.user.as_str().to_owned())
        })
        .collect())
}

/// A send worker's environment: the stack's configuration (LINE at the fake, AWS through the
/// fault proxy), then the worker's own knobs ([`crate::worker_env`]).
fn worker_environment(
    stack: &LocalStack,
    plan: &ChaosPlan,
    proxy: &FaultProxy,
    offset: chrono::Duration,
) -> Vec<(String, String)> {
    let stack_config = stack.config.to_env();
    let own = [
        (env_var::LINE_API_BASE, stack.line.base_url.clone()),
        (env_var::AWS_ENDPOINT_URL, proxy.url.clone()),
        ("AWS_REGION", "ap-northeast-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        (
            worker_env::CLOCK_OFFSET_MS,
            offset.num_milliseconds().to_string(),
        ),
        (worker_env::SENDER_LEASE_SECS, plan.lease_secs.to_string()),
        (
            worker_env::VISIBILITY_SECS,
            plan.visibility_secs.to_string(),
        ),
        (
            worker_env::JOB_TIMEOUT_SECS,
            plan.job_timeout_secs.to_string(),
        ),
        (worker_env::DEADLINE_MARGIN_SECS, "3".into()),
        (
            worker_env::LINE_TIMEOUT_MS,
            plan.line_timeout_ms.to_string(),
        ),
        ("RUST_LOG", "info".into()),
    ];
    // Later entries win when a name repeats (`Command::envs`).
    stack_config
        .into_iter()
        .chain(own)
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// One chaos day's driving: the slots, the kills and the wait for completion.
struct ChaosDay<'a> {
    stack: &'a LocalStack,
    plan: &'a ChaosPlan,
    date: NaiveDate,
    /// The shifted clock every process of the run shares.
    offset: chrono::Duration,
    started: Instant,
}

impl ChaosDay<'_> {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// The scheduler fires twice for the 07:00 slot (EventBridge delivers at least once), and
    /// some jobs are put on the queue again (SQS delivers at least once). Returns how many
    /// jobs were duplicated.
    async fn fire_first_slot(&self, rng: &mut StdRng) -> anyhow::Result<u32> {
        let slot = japan_time(self.date, 7, 0);
        let first = self.stack.scheduler.run_slot(slot, self.now()).await?;
        self.stack.scheduler.run_slot(slot, self.now()).await?;
        let extra: Vec<SendJob> = first
            .jobs
            .iter()
            .filter(|_| rng.gen_bool(self.plan.duplicate_jobs))
            .cloned()
            .collect();
        compose::send_queue(&self.stack.config, &self.stack.clients)
            .enqueue(&extra)
            .await?;
        Ok((first.jobs.len() + extra.len()) as u32)
    }

    /// SIGKILLs a random worker at random moments while the queue is being worked, and
    /// starts it again after a pause. Returns the number of kills.
    async fn kill_at_random(&self, workers: &mut Workers, rng: &mut StdRng) -> anyhow::Result<u32> {
        let mut kills = 0;
        for _ in 0..self.plan.kills {
            let gap = rng.gen_range(self.plan.kill_gap_ms.0..=self.plan.kill_gap_ms.1);
            tokio::time::sleep(Duration::from_millis(gap)).await;
            let victim = rng.gen_range(0..workers.children.len());
            workers.kill(victim).await;
            kills += 1;
            let pause = rng.gen_range(0..1_000);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            workers.start(victim).await?;
        }
        Ok(kills)
    }

    /// Retries and catch-up until every run is complete and the queue is empty (or the plan's
    /// wall-clock limit). Returns how many catch-up slots were fired.
    async fn work_until_complete(&self) -> anyhow::Result<u32> {
        let runs = compose::runs(&self.stack.config, &self.stack.clients);
        let expected_runs: usize = self
            .stack
            .towns
            .iter()
            .map(|t| usize::from(t.municipality.send_shards.max(1)))
            .sum();
        let mut catch_up_slots = 0;
        let mut hour = 7;
        let mut idle_since: Option<Instant> = None;
        loop {
            if self.started.elapsed() > Duration::from_secs(self.plan.max_wall_secs) {
                tracing::error!("chaos run gave up waiting for completion");
                return Ok(catch_up_slots);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let completed = runs
                .list_for_date(self.date)
                .await?
                .iter()
                .filter(|r| r.status == RunStatus::Completed)
                .count();
            if queue_depth(self.stack).await? > 0 {
                idle_since = None;
                continue;
            }
            if completed >= expected_runs {
                return Ok(catch_up_slots);
            }
            // Queue empty but runs incomplete: what the next hourly slot's catch-up is for.
            // Give in-flight work a moment first (a message being worked counts as queued).
            let idle = idle_since.get_or_insert_with(Instant::now);
            if idle.elapsed() > Duration::from_secs(2) && hour < 15 {
                hour += 1;
                catch_up_slots += 1;
                let slot = japan_time(self.date, hour, 0);
                self.stack.scheduler.run_slot(slot, self.now()).await?;
                idle_since = None;
            }
        }
    }
}

/// Counts what LINE delivered against what was expected: once, never, twice, to strangers.
fn tally_pushes(
    report: &mut ChaosReport,
    stack: &LocalStack,
    expected: &HashSet<(String, String)>,
) {
    let mut per_user: HashMap<(String, String), usize> = HashMap::new();
    let pushes = stack.line.recorded_pushes();
    for p in &pushes {
        *per_user
            .entry((p.channel_id.clone(), p.to.clone()))
            .or_default() += 1;
    }
    report.pushes = pushes.len();
    for key in expected {
        match per_user.get(key).copied().unwrap_or(0) {
            0 => report.misses += 1,
            1 => report.delivered_once += 1,
            _ => {}
        }
    }
    report.duplicates = per_user.values().filter(|&&n| n > 1).count();
    report.delivered = per_user.len();
    report.unexpected = per_user
        .iter()
        .filter(|(k, _)| !expected.contains(*k))
        .map(|(_, n)| n)
        .sum();
}

/// What must never be logged: the parents' LINE ids and the channels' secrets and tokens.
fn never_logged(stack: &LocalStack, households: &[Household]) -> Vec<String> {
    let mut secrets: Vec<String> = households
        .iter()
        .map(|h| h.user.as_str().to_owned())
        .collect();
    for town in &stack.towns {
        secrets.push(town.channel.channel_secret.clone());
        secrets.extend(town.channel.access_tokens.iter().cloned());
    }
    secrets
}

/// Messages on the queue, visible or being worked.
async fn queue_depth(stack: &LocalStack) -> anyhow::Result<u64> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = stack
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(&stack.config.send_queue_url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await?
        .attributes
        .unwrap_or_default();
    Ok([
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|a| attributes.get(a)?.parse::<u64>().ok())
    .sum())
}

/// Households of every kind the fan-out meets: pregnancies inside and outside the programme,
/// children of all ages (daily, scheduled days, birthdays, past the 3rd birthday), twins,
/// several registrations, paused, unfollowed, ended registrations.
async fn seed_households(
    stack: &LocalStack,
    plan: &ChaosPlan,
    rng: &mut StdRng,
    date: NaiveDate,
) -> anyhow::Result<Vec<Household>> {
    let store = compose::households(&stack.config, &stack.clients);
    let mut households = Vec::with_capacity(plan.households as usize);
    for i in 0..plan.households {
        let town = stack.towns[(i % plan.towns) as usize].id().clone();
        let user = LineUserId::parse(&format!(
            "U{:016x}{:016x}",
            plan.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            u64::from(i)
        ))
        .expect("valid user id");
        let mut h = Household::new(town, user);
        let subjects = if rng.gen_bool(0.1) { 2 } else { 1 };
        for id in 1..=subjects {
            let subject = if rng.gen_bool(0.45) {
                // Due dates from 10 days ago (overdue) to past the programme's start.
                Subject::Pregnancy {
                    due_date: date + Days::new(rng.gen_range(0..270)) - Days::new(10),
                }
            } else {
                Subject::Child {
                    birth_date: date - Days::new(rng.gen_range(0..1_200)),
                    due_date: None,
                }
            };
            let status = if rng.gen_bool(0.04) {
                RegistrationStatus::Ended {
                    reason: if rng.gen_bool(0.5) {
                        EndReason::StoppedByParent
                    } else {
                        EndReason::Loss
                    },
                    on: date - Days::new(3),
                }
            } else {
                RegistrationStatus::Active
            };
            h.registrations.push(Registration {
                id,
                subject,
                baby_count: if rng.gen_bool(0.02) { 2 } else { 1 },
                status,
                registered_on: date - Days::new(30),
            });
        }
        h.paused = rng.gen_bool(0.03);
        if rng.gen_bool(0.03) {
            h.following = false;
            h.unfollowed_on = Some(date - Days::new(2));
        }
        households.push(h);
    }
    // Stored through the production adapter, a few at a time.
    {
        use futures::StreamExt as _;
        let mut pending = futures::stream::FuturesUnordered::new();
        for h in &households {
            let store = store.clone();
            pending.push(async move { store.save(h).await });
            if pending.len() >= 8 {
                pending.next().await.transpose()?;
            }
        }
        while let Some(r) = pending.next().await {
            r?;
        }
    }
    Ok(households)
}

/// The sender processes.
struct Workers {
    exe: PathBuf,
    env: Vec<(String, String)>,
    log_dir: PathBuf,
    children: Vec<Option<Child>>,
    starts: u32,
}

impl Workers {
    async fn start(&mut self, slot: usize) -> anyhow::Result<()> {
        self.starts += 1;
        let log = std::fs::File::create(self.log_dir.join(format!("worker-{}.log", self.starts)))?;
        let mut command = Command::new(&self.exe);
        command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", self.exe.display()))?;
        if self.children.len() <= slot {
            self.children.resize_with(slot + 1, || None);
        }
        self.children[slot] = Some(child);
        Ok(())
    }

    /// SIGKILL: no destructor, no flush, no last write — as when Lambda kills a sandbox.
    async fn kill(&mut self, slot: usize) {
        if let Some(mut child) = self.children[slot].take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    async fn stop_all(&mut self) {
        for slot in 0..self.children.len() {
            self.kill(slot).await;
        }
    }
}

#[derive(Debug, Default)]
struct LogScan {
    lines: usize,
    warnings: usize,
    /// Lines containing any of the needles.
    leaking: usize,
    /// The `Sent` values of the metric (EMF) lines.
    metric_sent: u64,
}

fn scan_logs(dir: &Path, needles: &[String]) -> anyhow::Result<LogScan> {
    let mut scan = LogScan::default();
    for entry in std::fs::read_dir(dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            scan.lines += 1;
            if line.contains(r#""level":"WARN""#) || line.contains(r#""level":"ERROR""#) {
                scan.warnings += 1;
            }
            if needles.iter().any(|n| line.contains(n.as_str())) {
                scan.leaking += 1;
            }
            if line.contains(r#""CloudWatchMetrics""#) {
                if let Ok(record) = serde_json::from_str::<serde_json::Value>(line) {
                    scan.metric_sent +=
                        record[kizuna_app::metrics::SENT].as_f64().unwrap_or(0.0) as u64;
                }
            }
        }
    }
    Ok(scan)
}

/// A proxy in front of the emulator that misbehaves like a loaded AWS: throttling errors,
/// 500s, requests applied but answered 500 (the client cannot tell they happened), and slow
/// answers. The SDK's own retries see these first; what they cannot absorb reaches Kizuna.
struct FaultProxy {
    url: String,
    requests: Arc<AtomicU64>,
    faults: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    rng: Arc<Mutex<StdRng>>,
    throttle: f64,
    server_error: f64,
    applied_then_failed: f64,
    slow: f64,
    requests: Arc<AtomicU64>,
    faults: Arc<AtomicU64>,
    /// Answers of applied TransactWriteItems by ClientRequestToken. DynamoDB answers a repeat
    /// of an applied transaction (same token, within 10 minutes) with success and does not
    /// apply it again; moto applies it again, which after an applied-then-failed fault would
    /// add a page's counts twice where AWS would not.
    applied_transactions: Arc<Mutex<HashMap<String, RecordedAnswer>>>,
}

/// An upstream answer kept for replay.
type RecordedAnswer = crate::relay::Answer;

/// The `ClientRequestToken` of a TransactWriteItems request body, if it is one.
fn transaction_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    if !target.ends_with(".TransactWriteItems") {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    json["ClientRequestToken"].as_str().map(str::to_owned)
}

enum ProxyFault {
    None,
    Throttle,
    ServerError,
    AppliedThenFailed,
    Slow(Duration),
}

impl FaultProxy {
    async fn start(upstream: &str, plan: &ChaosPlan, seed: u64) -> anyhow::Result<Self> {
        let requests = Arc::new(AtomicU64::new(0));
        let faults = Arc::new(AtomicU64::new(0));
        let state = ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: kizuna_line::tls::http_client(),
            rng: Arc::new(Mutex::new(StdRng::seed_from_u64(seed))),
            throttle: plan.aws_throttle,
            server_error: plan.aws_server_error,
            applied_then_failed: plan.aws_applied_then_failed,
            slow: plan.aws_slow,
            requests: requests.clone(),
            faults: faults.clone(),
            applied_transactions: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let router = axum::Router::new().fallback(move |request: Request<Body>| {
            let state = state.clone();
            async move { proxy(state, request).await }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            url,
            requests,
            faults,
            server,
        })
    }
}

async fn proxy(state: ProxyState, request: Request<Body>) -> Response<Body> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let fault = {
        let mut rng = state.rng.lock().unwrap_or_else(|e| e.into_inner());
        let draw: f64 = rng.gen();
        let mut edge = state.throttle;
        if draw < edge {
            ProxyFault::Throttle
        } else if draw < {
            edge += state.server_error;
            edge
        } {
            ProxyFault::ServerError
        } else if draw < {
            edge += state.applied_then_failed;
            edge
        } {
            ProxyFault::AppliedThenFailed
        } else if draw < edge + state.slow {
            ProxyFault::Slow(Duration::from_millis(rng.gen_range(50..600)))
        } else {
            ProxyFault::None
        }
    };
    let (parts, body) = request.into_parts();
    // awsJson protocols (DynamoDB, SQS, Secrets Manager) name the operation in X-Amz-Target;
    // S3 (REST-XML) does not.
    let json_protocol = parts.headers.contains_key("x-amz-target");
    match fault {
        ProxyFault::Throttle => {
            state.faults.fetch_add(1, Ordering::Relaxed);
            return aws_error(json_protocol, true);
        }
        ProxyFault::ServerError => {
            state.faults.fetch_add(1, Ordering::Relaxed);
            return aws_error(json_protocol, false);
        }
        ProxyFault::Slow(delay) => tokio::time::sleep(delay).await,
        _ => {}
    }
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return aws_error(json_protocol, false),
    };
    let token = transaction_token(&parts.headers, &body);
    if let Some(token) = &token {
        let applied = state
            .applied_transactions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(answer) = applied.get(token) {
            return crate::relay::response(answer.clone());
        }
    }
    let (status, headers, bytes) =
        match crate::relay::relay(&state.http, &state.upstream, &parts, body).await {
            Ok(answer) => answer,
            Err(_) => return aws_error(json_protocol, false),
        };
    if let (Some(token), true) = (token, status.is_success()) {
        state
            .applied_transactions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, (status, headers.clone(), bytes.clone()));
    }
    if matches!(fault, ProxyFault::AppliedThenFailed) {
        state.faults.fetch_add(1, Ordering::Relaxed);
        return aws_error(json_protocol, false);
    }
    crate::relay::response((status, headers, bytes))
}

/// The error AWS answers when it throttles (`ThrottlingException` / S3 `SlowDown`) or fails
/// (`InternalServerError` / S3 `InternalError`).
fn aws_error(json_protocol: bool, throttle: bool) -> Response<Body> {
    let (status, content_type, body) = match (json_protocol, throttle) {
        (true, true) => (
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.0",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
        ),
        (true, false) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/x-amz-json-1.0",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#,
        ),
        (false, true) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        ),
        (false, false) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/xml",
            "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>",
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    response
}
