//! A discrete-event simulation of one day's fan-out across many municipalities: the send jobs
//! the scheduler enqueues, the SQS event source running at most `SenderMaxConcurrency` sender
//! invocations at once, each invocation delivering its shard page by page until done or until
//! its deadline, redelivery after the visibility timeout, the dead-letter queue, the hourly
//! catch-up and the sending window. No network, no AWS: it answers "if every town sends at
//! 07:00, when does the last household get its message?" under the real limits.
//!
//! What is modelled, and from where (docs/fanout.md, "Scale", explains the numbers), as the
//! sender is now ([`crate::sender`]: one lease per job, a resume cursor, page commits):
//! * **Per-delivery time inside one invocation.** The sender keeps
//!   [`SenderSettings::concurrency`] pushes in flight, reserves a pacer slot
//!   `1/(RATE_HEADROOM × shard rate)` apart for each push, and runs on the CPU share Lambda
//!   gives its memory size. So a new delivery starts every
//!   `max(wall / in_flight, cpu / vCPU, 1 / (RATE_HEADROOM × shard rate))` seconds and ends
//!   `wall` after it started. The **shard rate** is the town's `push_rate_per_second /
//!   send_shards` (`shard_rate` in sender.rs), so a town's shards running at once together stay
//!   under its channel's limit.
//! * **Pages.** Each page of [`SenderSettings::page_size`] is listed (one `Query`), its pushes
//!   drained, then committed: one `TransactWriteItems` per ≤ [`MAX_OUTCOMES_PER_COMMIT`]
//!   households, one after the other ([`TRANSACTION_S`] each), before the next page is listed.
//! * **The lease.** An invocation does its fixed work ([`JOB_OVERHEAD_S`]: the load phase comes
//!   before the lease in sender.rs), then takes the job's lease. A second job of the same shard
//!   that arrives while another invocation holds it ends there: nothing sent, its message
//!   visible again when its visibility timeout ends and retried then (a receive, counting toward
//!   the DLQ). A job that finds its shard done ends there too. The model has no crashes, so a
//!   lease is held exactly while its invocation runs; a dead sender's lease would outlive it by
//!   up to [`SenderSettings::lease`] (300 s), which is not modelled.
//! * **The deadline.** No delivery is started within [`SenderSettings::deadline_margin`] of the
//!   invocation's timeout; the unfinished job returns to the queue when its visibility timeout
//!   ends (counted from its receipt) and goes to the DLQ after the queue's `maxReceiveCount`.
//! * **Reruns** (a redelivery or a catch-up slot) start at the resume cursor — the first page
//!   not fully settled — not at the shard's first page: the page cut by the deadline is listed
//!   again, its sent households skipped. Every page of a resumed job also has its households
//!   looked up in the ledger (`BatchGetItem`, 100 keys per request, [`PAGE_LIST_S`] per page).
//! * **Catch-up**: each hourly slot re-enqueues every shard whose run is not completed, up to
//!   [`CATCH_UP_HOURS`] after its delivery hour and never after [`LAST_SEND_HOUR`]; a job that
//!   starts outside the sending window sends nothing ([`crate::schedule::may_send_now`]).
//! * **DynamoDB requests and write units**: counted per request (see [`LEDGER_WRITES_PER_DELIVERY`]);
//!   the write rate on one town's `{municipality}#{date}` partition is taken over sliding
//!   one-second windows with each transaction's writes at the moment it completes.
//!
//! What is **not** modelled: LINE answering 429 (the simulation still checks that no channel's
//! running shards together ask for more than its limit — by construction none does), crashes
//! and the lease they leave behind, DynamoDB throttling, LINE or DynamoDB latency varying, the
//! event source's scale-up rate, and the scheduler's own few seconds of enqueueing.

use crate::model::{DEFAULT_PUSH_RATE_PER_SECOND, FANOUT_BUCKETS};
use crate::pacing::RATE_HEADROOM;
use crate::ports::MAX_OUTCOMES_PER_COMMIT;
use crate::schedule::{is_sending_hour, CATCH_UP_HOURS, LAST_SEND_HOUR};
use crate::sender::SenderSettings;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

/// Wall time of one delivery, as last measured — on the sender before the redesign (claim,
/// push, mark sent); the page commits are modelled apart ([`TRANSACTION_S`]).
/// The lead re-measures after a redesign: change this one number
/// (docs/benchmarks.md, "Sender CPU per delivery").
pub const WALL_PER_DELIVERY_S: f64 = 0.037;
/// CPU time of one delivery on one full core: 0.47 CPU-s per 1,000 deliveries, the median of
/// the redesigned sender's release binary (x86_64, 2026-12-02; docs/benchmarks.md, "Sender CPU
/// per delivery"; it was 4.2 ms before). Change this one number after a re-measure.
pub const CPU_PER_DELIVERY_S: f64 = 0.00047;
/// Fixed work of one invocation before its first page: the municipality, its secret, the
/// content pack's version, a channel token, the quota reads, the lease, the run record. An
/// assumption (the local start-up bench's warm sender invocation, 0.55–0.8 s on moto, is an
/// upper bound), not an AWS measurement.
pub const JOB_OVERHEAD_S: f64 = 0.5;
/// One `Query` page of households on the `deliverable` index: "tens of milliseconds"
/// (docs/fanout.md). An assumption; a resumed job's `BatchGetItem` look-up of a page is
/// assumed to take as long.
pub const PAGE_LIST_S: f64 = 0.05;
/// One `TransactWriteItems` of up to 100 items (≤ 98 ledger entries, the run record, the
/// lease). An assumption ("tens of milliseconds", like a listing), not a measurement. If the
/// per-delivery wall time is ever measured with the commits inside it, set this to 0.
pub const TRANSACTION_S: f64 = 0.03;

/// `SenderFunction.MemorySize` in infra/template.yaml (checked by a test).
pub const SENDER_MEMORY_MB: u32 = 512;
/// `SenderFunction.Timeout` in infra/template.yaml, seconds (checked by a test).
pub const SENDER_TIMEOUT_S: f64 = 300.0;
/// The default of the template's `SenderMaxConcurrency` parameter: the SQS event source's
/// `ScalingConfig.MaximumConcurrency` (checked by a test). The template reserves no
/// concurrency for the sender.
pub const SENDER_MAX_CONCURRENCY: u32 = 5;
/// `SendQueue.VisibilityTimeout`, seconds (checked by a test).
pub const SEND_QUEUE_VISIBILITY_TIMEOUT_S: f64 = 1800.0;
/// `SendQueue.RedrivePolicy.maxReceiveCount` (checked by a test).
pub const SEND_QUEUE_MAX_RECEIVES: u32 = 5;
/// AWS's default concurrent-executions quota per account and region.
pub const ACCOUNT_CONCURRENCY: u32 = 1_000;
/// Lambda allocates CPU in proportion to memory: one vCPU's worth at 1,769 MB.
pub const LAMBDA_MB_PER_VCPU: f64 = 1_769.0;

/// Scenario defaults: the figures in issue 12 and docs/fanout.md.
pub const MUNICIPALITIES: usize = 1_741;
pub const REGISTRATIONS: u64 = 1_000_000;
/// Exponent of the rank-size split of registrations over municipalities (see
/// [`rank_size_split`]). An assumption, not census data.
pub const RANK_SIZE_EXPONENT: f64 = 1.0;

/// The sending hour everything starts at in the "all at once" scenario.
pub const MORNING_HOUR: u8 = 7;

/// How one sender invocation spends its time (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct SenderModel {
    pub wall_per_delivery_s: f64,
    pub cpu_per_delivery_s: f64,
    pub memory_mb: u32,
    /// Deliveries in flight at once ([`SenderSettings::concurrency`]).
    pub in_flight: usize,
    pub page_size: u32,
    pub page_list_s: f64,
    /// One page-commit transaction ([`TRANSACTION_S`]).
    pub transaction_s: f64,
    /// Households per transaction ([`MAX_OUTCOMES_PER_COMMIT`]).
    pub households_per_transaction: u32,
    pub job_overhead_s: f64,
    pub timeout_s: f64,
    pub deadline_margin_s: f64,
}

impl Default for SenderModel {
    fn default() -> Self {
        let settings = SenderSettings::default();
        Self {
            wall_per_delivery_s: WALL_PER_DELIVERY_S,
            cpu_per_delivery_s: CPU_PER_DELIVERY_S,
            memory_mb: SENDER_MEMORY_MB,
            in_flight: settings.concurrency,
            page_size: settings.page_size,
            page_list_s: PAGE_LIST_S,
            transaction_s: TRANSACTION_S,
            households_per_transaction: MAX_OUTCOMES_PER_COMMIT as u32,
            job_overhead_s: JOB_OVERHEAD_S,
            timeout_s: SENDER_TIMEOUT_S,
            deadline_margin_s: settings.deadline_margin.as_secs_f64(),
        }
    }
}

/// What sets the pace of one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Waiting on LINE with `in_flight` deliveries outstanding.
    Latency,
    /// The invocation's CPU share.
    Cpu,
    /// The shard's share of the channel's push rate limit (the pacer).
    LineRate,
}

impl SenderModel {
    /// The CPU Lambda gives this memory size, in vCPUs (at most 6, at 10,240 MB).
    pub fn vcpus(&self) -> f64 {
        (f64::from(self.memory_mb) / LAMBDA_MB_PER_VCPU).min(6.0)
    }

    /// Seconds between two delivery starts in one invocation whose shard may push
    /// `shard_rate` requests/s, and what bounds it.
    pub fn interval(&self, shard_rate: u32) -> (f64, Bound) {
        let latency = self.wall_per_delivery_s / self.in_flight.max(1) as f64;
        let cpu = self.cpu_per_delivery_s / self.vcpus().max(1e-9);
        let line = 1.0 / (f64::from(shard_rate.max(1)) * RATE_HEADROOM).max(1.0);
        if cpu >= latency && cpu >= line {
            (cpu, Bound::Cpu)
        } else if line >= latency {
            (line, Bound::LineRate)
        } else {
            (latency, Bound::Latency)
        }
    }

    /// Page-commit transactions for a page in which `households` were pushed: at least one
    /// (a page whose pushes were all cut still commits its counts).
    pub fn transactions(&self, households: u64) -> u64 {
        households
            .div_ceil(u64::from(self.households_per_transaction.max(1)))
            .max(1)
    }

    /// Seconds an invocation has for starting deliveries.
    pub fn usable_s(&self) -> f64 {
        (self.timeout_s - self.deadline_margin_s - self.job_overhead_s).max(0.0)
    }

    /// Households one invocation delivers before its deadline, from a fresh start, at
    /// `shard_rate`.
    pub fn households_per_invocation(&self, shard_rate: u32) -> u64 {
        let (interval, _) = self.interval(shard_rate);
        // Each page is listed first, drained (its last delivery's wall) and committed before
        // the next.
        let page = u64::from(self.page_size.max(1));
        let per_page = self.page_list_s
            + self.wall_per_delivery_s
            + self.transactions(page) as f64 * self.transaction_s;
        let per_household = interval + per_page / page as f64;
        (self.usable_s() / per_household).floor() as u64
    }
}

/// The queue and concurrency around the sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Platform {
    /// The SQS event source's maximum concurrency.
    pub sender_max_concurrency: u32,
    /// The account's regional concurrency quota (the sender gets no more than this).
    pub account_concurrency: u32,
    pub visibility_timeout_s: f64,
    pub max_receives: u32,
}

impl Default for Platform {
    fn default() -> Self {
        Self {
            sender_max_concurrency: SENDER_MAX_CONCURRENCY,
            account_concurrency: ACCOUNT_CONCURRENCY,
            visibility_timeout_s: SEND_QUEUE_VISIBILITY_TIMEOUT_S,
            max_receives: SEND_QUEUE_MAX_RECEIVES,
        }
    }
}

impl Platform {
    pub fn slots(&self) -> u32 {
        self.sender_max_concurrency
            .min(self.account_concurrency)
            .max(1)
    }
}

/// One municipality as the fan-out sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Town {
    /// Households receiving today's push (one push each).
    pub households: u64,
    pub delivery_hour: u8,
    pub send_shards: u16,
    pub push_rate_per_second: u32,
}

impl Town {
    /// Pushes per second each of the town's shards may make: the channel's limit split over
    /// its shards, at least 1 (the same rule as `shard_rate` in sender.rs).
    pub fn shard_rate(&self) -> u32 {
        shard_rate(self.push_rate_per_second, self.send_shards)
    }
}

/// `push_rate_per_second / send_shards`, at least 1 (as the sender paces each shard).
pub fn shard_rate(push_rate_per_second: u32, send_shards: u16) -> u32 {
    (push_rate_per_second / u32::from(send_shards.max(1))).max(1)
}

/// How the operator has set `send_shards`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardPolicy {
    /// Every town on the default, one shard.
    One,
    /// As docs/fanout.md advises: enough shards that each fits one invocation at its share of
    /// the channel's rate (at most [`FANOUT_BUCKETS`]).
    Fit,
    /// The same count everywhere.
    Fixed(u16),
}

impl ShardPolicy {
    pub fn shards(self, households: u64, model: &SenderModel, rate_limit: u32) -> u16 {
        let n = match self {
            ShardPolicy::One => 1,
            ShardPolicy::Fixed(n) => u64::from(n),
            // More shards, a smaller rate each: the fewest that fit.
            ShardPolicy::Fit => (1..=u64::from(FANOUT_BUCKETS))
                .find(|&n| {
                    let rate = shard_rate(rate_limit, n as u16);
                    n * model.households_per_invocation(rate) >= households
                })
                .unwrap_or(u64::from(FANOUT_BUCKETS)),
        };
        n.clamp(1, u64::from(FANOUT_BUCKETS)) as u16
    }
}

/// Splits `total` over `count` municipalities by the rank-size rule: the municipality of
/// rank `r` (1 = largest) gets a share proportional to `1 / r^exponent`, rounded by largest
/// remainder so the parts add up to `total` exactly. Largest first.
///
/// An assumption chosen for its shape — a few large cities, a long tail of small towns —
/// not a statistic about Japan's municipalities.
pub fn rank_size_split(total: u64, count: usize, exponent: f64) -> Vec<u64> {
    if count == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (1..=count).map(|r| (r as f64).powf(-exponent)).collect();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut parts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    let mut by_remainder: Vec<usize> = (0..count).collect();
    by_remainder.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in by_remainder.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// When the towns send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hours {
    /// Every town at this hour.
    All(u8),
    /// Towns spread evenly (in queue order, round robin) over these hours.
    Spread(Vec<u8>),
}

/// A whole country's day.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub municipalities: usize,
    pub registrations: u64,
    /// Registrations per household: pushes are per household. 1.0 = every registration its
    /// own household (an upper bound on pushes).
    pub registrations_per_household: f64,
    pub rank_size_exponent: f64,
    pub hours: Hours,
    pub shards: ShardPolicy,
    pub push_rate_per_second: u32,
    /// Seeds the order the scheduler enqueues towns in (its `Scan` returns them in hash
    /// order, unrelated to size).
    pub seed: u64,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            municipalities: MUNICIPALITIES,
            registrations: REGISTRATIONS,
            registrations_per_household: 1.0,
            rank_size_exponent: RANK_SIZE_EXPONENT,
            hours: Hours::All(MORNING_HOUR),
            shards: ShardPolicy::Fit,
            push_rate_per_second: DEFAULT_PUSH_RATE_PER_SECOND,
            seed: 1,
        }
    }
}

impl Scenario {
    /// The towns, in the order the scheduler enqueues them.
    pub fn towns(&self, model: &SenderModel) -> Vec<Town> {
        let households_total =
            (self.registrations as f64 / self.registrations_per_household.max(1.0)).round() as u64;
        let mut sizes = rank_size_split(
            households_total,
            self.municipalities,
            self.rank_size_exponent,
        );
        shuffle(&mut sizes, self.seed);
        sizes
            .into_iter()
            .enumerate()
            .map(|(i, households)| Town {
                households,
                delivery_hour: match &self.hours {
                    Hours::All(h) => *h,
                    Hours::Spread(hs) if !hs.is_empty() => hs[i % hs.len()],
                    Hours::Spread(_) => MORNING_HOUR,
                },
                send_shards: self
                    .shards
                    .shards(households, model, self.push_rate_per_second),
                push_rate_per_second: self.push_rate_per_second,
            })
            .collect()
    }
}

/// Fisher–Yates with splitmix64: deterministic for a seed, no dependency.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// What a simulated day did. Times are seconds after midnight, Japan time.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub households: u64,
    pub sent: u64,
    /// Households left without today's message (the run was given up, dead-lettered, or ran
    /// out of sending window).
    pub not_sent: u64,
    pub jobs: usize,
    /// Sender invocations, reruns, lease refusals and catch-up duplicates included (= Lambda
    /// requests).
    pub invocations: u64,
    /// Invocations that stopped at their deadline with households left.
    pub cut_by_deadline: u64,
    /// Invocations that found another invocation holding their job's lease and ended at once
    /// (their messages come back after the visibility timeout).
    pub lease_refused: u64,
    /// Invocations that found their job already done and ended at once.
    pub found_done: u64,
    /// Messages moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Invocations that started outside the sending window and sent nothing.
    pub refused_late: u64,
    pub first_start_s: Option<f64>,
    pub last_sent_s: Option<f64>,
    /// Household send time minus its town's delivery hour: median, 95th percentile, maximum.
    pub delay_p50_s: Option<f64>,
    pub delay_p95_s: Option<f64>,
    pub delay_max_s: Option<f64>,
    pub peak_concurrency: u32,
    /// Sum of invocation durations × memory: the billed duration.
    pub lambda_gb_s: f64,
    /// DynamoDB requests: household listings (`Query`, one per page listed), ledger look-ups of
    /// resumed pages (`BatchGetItem`, ≤ 100 keys each), page commits (`TransactWriteItems`),
    /// and single-item writes (lease taken, refused or released; run record upserts).
    pub pages_listed: u64,
    pub batch_gets: u64,
    pub transactions: u64,
    pub item_writes: u64,
    /// Write units of all of the above (items ≤ 1 KB; transactions count double).
    pub write_units: f64,
    /// Highest write rate across the table while pushing, spread over the push time:
    /// deliveries per second × [`TABLE_WRITES_PER_DELIVERY`].
    pub sustained_ledger_writes_per_s: f64,
    /// The same on one town's partition key: × [`LEDGER_WRITES_PER_DELIVERY`].
    pub sustained_town_ledger_writes_per_s: f64,
    /// Highest write units in any one second across the table, page commits only, each
    /// transaction's units at the moment it completes (a page commits in a burst).
    pub peak_ledger_writes_per_s: f64,
    /// Highest write units in any one second on one town's partition key
    /// (`{municipality}#{date}`: its ledger entries and lease items); DynamoDB serves at most
    /// [`PARTITION_WRITES_PER_S`] per partition until it splits a hot one.
    pub peak_town_ledger_writes_per_s: f64,
    /// Towns whose concurrently running shards together asked for more pushes per second than
    /// the channel's limit. None, by construction: each shard paces at its share.
    pub channels_over_limit: usize,
    /// What paced one invocation at the scenario's push rate limit on a single shard.
    pub bound: Bound,
    pub interval_s: f64,
    pub households_per_invocation: u64,
    pub largest_town: u64,
    pub most_shards: u16,
}

impl Outcome {
    /// Whether every household got its message within the sending window.
    pub fn all_sent(&self) -> bool {
        self.not_sent == 0
    }
}

/// Write units per ledger entry in a page commit: a `Put` of ≤ 1 KB is 1 WRU, and DynamoDB
/// charges items written in a transaction twice.
pub const WRU_PER_TRANSACTED_ITEM: f64 = 2.0;
/// Write units one delivery costs on its town's partition key, on a full page of 500: its
/// ledger entry (2 WRU) plus its share of the lease update each of the page's 6 transactions
/// carries (2 WRU ÷ 98–ish): (2 × 500 + 2 × 6) / 500. The run record's update (another 2 WRU a
/// transaction) is on `run#{municipality}`, another key: with it, 2.048 WRU per delivery in
/// the table. Checked against [`SenderModel::transactions`] by a test.
pub const LEDGER_WRITES_PER_DELIVERY: f64 = 2.024;
/// Write units one delivery costs in the table on a full page: with the run record's update,
/// (2 × 500 + 4 × 6) / 500.
pub const TABLE_WRITES_PER_DELIVERY: f64 = 2.048;
/// Write units per second one DynamoDB partition serves (AWS, "Understanding DynamoDB warm
/// throughput in different scenarios").
pub const PARTITION_WRITES_PER_S: f64 = 1_000.0;
/// Keys per `BatchGetItem` request.
pub const BATCH_GET_KEYS: u64 = 100;

#[derive(Debug, Clone, Copy)]
struct ShardState {
    town: usize,
    remaining: u64,
    sent: u64,
    /// An invocation has taken the lease before: a later one resumes.
    started: bool,
    /// Held by a running invocation (no crashes: released when it ends).
    leased: bool,
    completed: bool,
}

#[derive(Debug, Clone, Copy)]
struct Message {
    shard: usize,
    /// Receives before this one.
    receives: u32,
}

#[derive(Debug, Clone, Copy)]
struct Invocation {
    shard: usize,
    receives: u32,
    received_at: f64,
    stop_at: f64,
    /// Took the job's lease.
    holds_lease: bool,
    /// An earlier invocation had the lease: pages are looked up in the ledger.
    resumed: bool,
}

/// How an invocation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Every page settled: the job is done.
    Done,
    /// Households left: the deadline came.
    Cut,
    /// Another invocation holds the lease.
    LeaseHeld,
    /// An earlier invocation finished the job.
    FoundDone,
    /// Outside the sending window: recorded late, message deleted.
    Late,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    /// The scheduler's slot at this hour.
    Slot(u8),
    /// A message becomes visible in the queue.
    Visible,
    /// An invocation has done its fixed work and asks for the job's lease.
    Lease(usize),
    /// An invocation is ready for its next page.
    Step(usize),
    /// An invocation returns.
    End(usize, Ending),
}

/// Event times in whole microseconds, so the heap orders exactly.
fn key(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// One page commit's writes: when it completed, whose town, write units on the town's key and
/// in all.
#[derive(Debug, Clone, Copy)]
struct CommitWrite {
    at: f64,
    town: usize,
    town_key_wru: f64,
    table_wru: f64,
}

struct Sim<'a> {
    towns: &'a [Town],
    model: &'a SenderModel,
    platform: &'a Platform,
    shards: Vec<ShardState>,
    shards_of_town: Vec<Vec<usize>>,
    events: BinaryHeap<Reverse<(i64, u64, usize)>>,
    event_kinds: Vec<(f64, Event)>,
    queue: VecDeque<(f64, Message)>,
    invocations: Vec<Invocation>,
    running: u32,
    delays: Vec<f64>,
    /// (start, end, town, pushes per second) of every page's deliveries.
    segments: Vec<(f64, f64, usize, f64)>,
    commits: Vec<CommitWrite>,
    out: Outcome,
}

/// Simulates one day of `towns` under `model` and `platform`.
pub fn simulate(towns: &[Town], model: &SenderModel, platform: &Platform) -> Outcome {
    let mut sim = Sim::new(towns, model, platform);
    sim.run();
    sim.finish()
}

impl<'a> Sim<'a> {
    fn new(towns: &'a [Town], model: &'a SenderModel, platform: &'a Platform) -> Self {
        let (interval_s, bound, households_per_invocation) = match towns.first() {
            Some(t) => {
                let rate = shard_rate(t.push_rate_per_second, 1);
                let (interval, bound) = model.interval(rate);
                (interval, bound, model.households_per_invocation(rate))
            }
            None => {
                let (interval, bound) = model.interval(DEFAULT_PUSH_RATE_PER_SECOND);
                (
                    interval,
                    bound,
                    model.households_per_invocation(DEFAULT_PUSH_RATE_PER_SECOND),
                )
            }
        };
        let mut sim = Sim {
            towns,
            model,
            platform,
            shards: Vec::new(),
            shards_of_town: vec![Vec::new(); towns.len()],
            events: BinaryHeap::new(),
            event_kinds: Vec::new(),
            queue: VecDeque::new(),
            invocations: Vec::new(),
            running: 0,
            delays: Vec::new(),
            segments: Vec::new(),
            commits: Vec::new(),
            out: Outcome {
                households: towns.iter().map(|t| t.households).sum(),
                sent: 0,
                not_sent: 0,
                jobs: 0,
                invocations: 0,
                cut_by_deadline: 0,
                lease_refused: 0,
                found_done: 0,
                dead_lettered: 0,
                refused_late: 0,
                first_start_s: None,
                last_sent_s: None,
                delay_p50_s: None,
                delay_p95_s: None,
                delay_max_s: None,
                peak_concurrency: 0,
                lambda_gb_s: 0.0,
                pages_listed: 0,
                batch_gets: 0,
                transactions: 0,
                item_writes: 0,
                write_units: 0.0,
                sustained_ledger_writes_per_s: 0.0,
                sustained_town_ledger_writes_per_s: 0.0,
                peak_ledger_writes_per_s: 0.0,
                peak_town_ledger_writes_per_s: 0.0,
                channels_over_limit: 0,
                bound,
                interval_s,
                households_per_invocation,
                largest_town: towns.iter().map(|t| t.households).max().unwrap_or(0),
                most_shards: towns.iter().map(|t| t.send_shards).max().unwrap_or(0),
            },
        };
        for (i, town) in towns.iter().enumerate() {
            let count = u64::from(town.send_shards.clamp(1, FANOUT_BUCKETS));
            for index in 0..count {
                // Households spread evenly over the shards (the fan-out buckets are a hash).
                let share = town.households / count + u64::from(index < town.households % count);
                sim.shards_of_town[i].push(sim.shards.len());
                sim.shards.push(ShardState {
                    town: i,
                    remaining: share,
                    sent: 0,
                    started: false,
                    leased: false,
                    completed: false,
                });
            }
        }
        sim.out.jobs = sim.shards.len();
        let first_hour = towns.iter().map(|t| t.delivery_hour).min().unwrap_or(0);
        for hour in first_hour..24 {
            sim.push(f64::from(hour) * 3600.0, Event::Slot(hour));
        }
        sim
    }

    fn push(&mut self, at: f64, event: Event) {
        let id = self.event_kinds.len();
        self.event_kinds.push((at, event));
        self.events.push(Reverse((key(at), id as u64, id)));
    }

    fn enqueue(&mut self, visible_at: f64, message: Message) {
        // Standard queues are roughly FIFO: keep the queue sorted by visibility time.
        let pos = self
            .queue
            .iter()
            .rposition(|(t, _)| *t <= visible_at)
            .map_or(0, |p| p + 1);
        self.queue.insert(pos, (visible_at, message));
        self.push(visible_at, Event::Visible);
    }

    fn run(&mut self) {
        while let Some(Reverse((_, _, id))) = self.events.pop() {
            let (now, event) = self.event_kinds[id];
            match event {
                Event::Slot(hour) => self.slot(now, hour),
                Event::Visible => {}
                Event::Lease(inv) => self.lease(now, inv),
                Event::Step(inv) => self.step(now, inv),
                Event::End(inv, ending) => self.end(now, inv, ending),
            }
            self.dispatch(now);
        }
    }

    /// The scheduler: jobs of towns due this hour, and catch-up of unfinished shards.
    fn slot(&mut self, now: f64, hour: u8) {
        for (i, town) in self.towns.iter().enumerate() {
            if hour < town.delivery_hour {
                continue;
            }
            let lateness = hour - town.delivery_hour;
            let last_catch_up = (town.delivery_hour + CATCH_UP_HOURS).min(LAST_SEND_HOUR);
            if !(is_sending_hour(hour) && (lateness == 0 || hour <= last_catch_up)) {
                continue;
            }
            for s in self.shards_of_town[i].clone() {
                if !self.shards[s].completed {
                    self.enqueue(
                        now,
                        Message {
                            shard: s,
                            receives: 0,
                        },
                    );
                }
            }
        }
    }

    /// The event source: a free slot takes the oldest visible message.
    fn dispatch(&mut self, now: f64) {
        while self.running < self.platform.slots() {
            let Some(&(visible_at, message)) = self.queue.front() else {
                return;
            };
            if visible_at > now + 1e-9 {
                return;
            }
            self.queue.pop_front();
            self.start(now, message);
        }
    }

    fn start(&mut self, now: f64, message: Message) {
        self.running += 1;
        self.out.peak_concurrency = self.out.peak_concurrency.max(self.running);
        self.out.invocations += 1;
        self.out.first_start_s.get_or_insert(now);
        let id = self.invocations.len();
        self.invocations.push(Invocation {
            shard: message.shard,
            receives: message.receives + 1,
            received_at: now,
            stop_at: now + self.model.timeout_s - self.model.deadline_margin_s,
            holds_lease: false,
            resumed: false,
        });
        let hour = (now / 3600.0).floor() as u8;
        if !is_sending_hour(hour) || now >= 24.0 * 3600.0 {
            // `may_send_now` refuses it: recorded late (one run-record upsert), nothing sent,
            // message deleted.
            self.single_writes(1);
            self.push(now + 0.05, Event::End(id, Ending::Late));
            return;
        }
        // The load phase (secret, content, token, quota) comes before the lease.
        self.push(now + self.model.job_overhead_s, Event::Lease(id));
    }

    /// One conditional `UpdateItem`: taken, held by another invocation, or the job is done.
    fn lease(&mut self, now: f64, id: usize) {
        let shard = self.invocations[id].shard;
        // Taken, refused or answered "done": one write either way (a failed condition is
        // charged too).
        self.single_writes(1);
        if self.shards[shard].completed {
            self.push(now, Event::End(id, Ending::FoundDone));
            return;
        }
        if self.shards[shard].leased {
            self.push(now, Event::End(id, Ending::LeaseHeld));
            return;
        }
        let resumed = self.shards[shard].started;
        self.shards[shard].leased = true;
        self.shards[shard].started = true;
        self.invocations[id].holds_lease = true;
        self.invocations[id].resumed = resumed;
        // The run record marked started.
        self.single_writes(1);
        self.push(now, Event::Step(id));
    }

    fn single_writes(&mut self, n: u64) {
        self.out.item_writes += n;
        self.out.write_units += n as f64;
    }

    /// One page from the resume cursor: list (and on a resumed job look up), push, commit.
    fn step(&mut self, now: f64, id: usize) {
        let inv = self.invocations[id];
        if now >= inv.stop_at {
            self.push(now, Event::End(id, Ending::Cut));
            return;
        }
        let shard = self.shards[inv.shard];
        let page_size = u64::from(self.model.page_size.max(1));
        // The cursor is at the first page not fully settled; its first `settled` households
        // were sent by an earlier invocation (households are sent in page order).
        let settled = shard.sent % page_size;
        let listed = (settled + shard.remaining).min(page_size);
        let page = listed - settled;
        if page == 0 {
            self.push(now, Event::End(id, Ending::Done));
            return;
        }
        self.out.pages_listed += 1;
        let mut first = now + self.model.page_list_s;
        if inv.resumed {
            self.out.batch_gets += listed.div_ceil(BATCH_GET_KEYS);
            first += self.model.page_list_s;
        }
        let town_index = shard.town;
        let town = &self.towns[town_index];
        let (interval, _) = self.model.interval(town.shard_rate());
        let started = if first >= inv.stop_at {
            0
        } else {
            (((inv.stop_at - first) / interval).ceil() as u64).min(page)
        };
        let wall = self.model.wall_per_delivery_s;
        let hour_start = f64::from(town.delivery_hour) * 3600.0;
        for i in 0..started {
            let sent_at = first + i as f64 * interval + wall;
            self.delays.push(sent_at - hour_start);
            self.out.last_sent_s = Some(self.out.last_sent_s.map_or(sent_at, |t| t.max(sent_at)));
        }
        self.shards[inv.shard].remaining -= started;
        self.shards[inv.shard].sent += started;
        self.out.sent += started;
        let pushed_by = if started == 0 {
            first
        } else {
            let last_start = first + (started - 1) as f64 * interval;
            self.segments
                .push((first, last_start + wall, town_index, 1.0 / interval));
            last_start + wall
        };
        // The commits, one after the other: ≤ 98 ledger entries, the lease and the run record
        // each.
        let transactions = self.model.transactions(started);
        let per = u64::from(self.model.households_per_transaction.max(1));
        let mut left = started;
        let mut at = pushed_by;
        for _ in 0..transactions {
            let entries = left.min(per);
            left -= entries;
            at += self.model.transaction_s;
            let town_key_wru = WRU_PER_TRANSACTED_ITEM * (entries as f64 + 1.0);
            self.commits.push(CommitWrite {
                at,
                town: town_index,
                town_key_wru,
                table_wru: town_key_wru + WRU_PER_TRANSACTED_ITEM,
            });
            self.out.write_units += town_key_wru + WRU_PER_TRANSACTED_ITEM;
        }
        self.out.transactions += transactions;
        if started < page {
            self.push(at, Event::End(id, Ending::Cut));
        } else if self.shards[inv.shard].remaining == 0 {
            // That was the last page: the listing has no next cursor.
            self.push(at, Event::End(id, Ending::Done));
        } else {
            self.push(at, Event::Step(id));
        }
    }

    fn end(&mut self, now: f64, id: usize, ending: Ending) {
        let inv = self.invocations[id];
        self.running -= 1;
        self.out.lambda_gb_s += (now - inv.received_at) * f64::from(self.model.memory_mb) / 1024.0;
        if inv.holds_lease {
            // Released (one `UpdateItem`) and the run record's status set (one upsert).
            self.shards[inv.shard].leased = false;
            self.single_writes(2);
        }
        match ending {
            Ending::Late => {
                self.out.refused_late += 1;
                return;
            }
            Ending::Done => {
                self.shards[inv.shard].completed = true;
                return;
            }
            Ending::FoundDone => {
                self.out.found_done += 1;
                return;
            }
            Ending::Cut => self.out.cut_by_deadline += 1,
            Ending::LeaseHeld => self.out.lease_refused += 1,
        }
        // A batch item failure: SQS shows the message again when its visibility timeout ends.
        if inv.receives < self.platform.max_receives {
            self.enqueue(
                inv.received_at + self.platform.visibility_timeout_s,
                Message {
                    shard: inv.shard,
                    receives: inv.receives,
                },
            );
        } else {
            self.out.dead_lettered += 1;
        }
    }

    fn finish(mut self) -> Outcome {
        self.out.not_sent = self.shards.iter().map(|s| s.remaining).sum();
        self.delays.sort_by(f64::total_cmp);
        let pct = |p: f64| -> Option<f64> {
            if self.delays.is_empty() {
                return None;
            }
            let i = ((p * self.delays.len() as f64).ceil() as usize).clamp(1, self.delays.len());
            Some(self.delays[i - 1])
        };
        self.out.delay_p50_s = pct(0.50);
        self.out.delay_p95_s = pct(0.95);
        self.out.delay_max_s = self.delays.last().copied();
        self.sweep_push_rates();
        // Write units in sliding one-second windows: the table, and each town's key.
        self.commits.sort_by(|a, b| a.at.total_cmp(&b.at));
        self.out.peak_ledger_writes_per_s = peak_per_second(&self.commits, |c| c.table_wru);
        let mut by_town: BTreeMap<usize, Vec<CommitWrite>> = BTreeMap::new();
        for c in &self.commits {
            by_town.entry(c.town).or_default().push(*c);
        }
        self.out.peak_town_ledger_writes_per_s = by_town
            .values()
            .map(|commits| peak_per_second(commits, |c| c.town_key_wru))
            .fold(0.0, f64::max);
        self.out
    }

    /// Sweeps the pages' push rates: the sustained write rates, and the towns whose running
    /// shards' push rates summed above the channel's limit at some moment.
    fn sweep_push_rates(&mut self) {
        let mut points: Vec<(i64, f64, usize)> = Vec::with_capacity(self.segments.len() * 2);
        for &(start, end, town, rate) in &self.segments {
            points.push((key(start), rate, town));
            points.push((key(end), -rate, town));
        }
        // Ends before starts at the same instant.
        points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut total = 0.0f64;
        let mut per_town: BTreeMap<usize, f64> = BTreeMap::new();
        let mut over = vec![false; self.towns.len()];
        for (_, rate, town) in points {
            total += rate;
            self.out.sustained_ledger_writes_per_s = self
                .out
                .sustained_ledger_writes_per_s
                .max(total * TABLE_WRITES_PER_DELIVERY);
            let r = per_town.entry(town).or_default();
            *r += rate;
            self.out.sustained_town_ledger_writes_per_s = self
                .out
                .sustained_town_ledger_writes_per_s
                .max(*r * LEDGER_WRITES_PER_DELIVERY);
            if *r > f64::from(self.towns[town].push_rate_per_second) * 1.000_001 {
                over[town] = true;
            }
        }
        self.out.channels_over_limit = over.iter().filter(|o| **o).count();
    }
}

/// The most write units completed within any one second (window `(t − 1 s, t]`), over commits
/// sorted by time.
fn peak_per_second(commits: &[CommitWrite], units: impl Fn(&CommitWrite) -> f64) -> f64 {
    let mut peak = 0.0f64;
    let mut sum = 0.0;
    let mut from = 0;
    for (i, c) in commits.iter().enumerate() {
        sum += units(c);
        while key(commits[from].at) <= key(c.at - 1.0) {
            sum -= units(&commits[from]);
            from += 1;
        }
        debug_assert!(from <= i);
        peak = peak.max(sum);
    }
    peak
}

/// Seconds after midnight as `HH:MM:SS`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sender fast enough that only LINE's limit paces it.
    fn unbounded_sender() -> SenderModel {
        SenderModel {
            wall_per_delivery_s: 0.001,
            cpu_per_delivery_s: 0.0,
            ..SenderModel::default()
        }
    }

    fn town(households: u64, hour: u8, shards: u16, rate: u32) -> Town {
        Town {
            households,
            delivery_hour: hour,
            send_shards: shards,
            push_rate_per_second: rate,
        }
    }

    const SEVEN: f64 = 7.0 * 3600.0;

    #[test]
    fn one_town_of_10000_at_100_per_second_takes_at_least_100_seconds() {
        // 10,000 pushes at 98/s (the pacer's headroom) is ~102 s, whatever else is fast.
        let out = simulate(
            &[town(10_000, 7, 1, 100)],
            &unbounded_sender(),
            &Platform::default(),
        );
        assert_eq!(out.sent, 10_000);
        let took = out.last_sent_s.unwrap() - SEVEN;
        assert!(took >= 100.0, "took {took} s");
        assert!(took < 110.0, "took {took} s: the pacer should not dawdle");
        assert_eq!(out.bound, Bound::LineRate);
        assert_eq!(out.channels_over_limit, 0);
    }

    #[test]
    fn shards_of_one_town_running_together_share_the_channel_limit() {
        // Each of two shards paces at 100 / 2 = 50/s (49/s with the headroom): together they
        // stay under the channel's 100/s, and the town takes as long as on one shard.
        let out = simulate(
            &[town(10_000, 7, 2, 100)],
            &unbounded_sender(),
            &Platform::default(),
        );
        assert_eq!(out.sent, 10_000);
        assert_eq!(out.channels_over_limit, 0);
        let took = out.last_sent_s.unwrap() - SEVEN;
        assert!(
            took >= 100.0,
            "took {took} s: the shards must not add up past 100/s"
        );
        // The checker itself: shards at the full limit each (the old sender) are reported.
        let (towns, model, platform) = (
            [town(10_000, 7, 2, 100)],
            unbounded_sender(),
            Platform::default(),
        );
        let mut sim = Sim::new(&towns, &model, &platform);
        sim.segments.push((SEVEN, SEVEN + 10.0, 0, 98.0));
        sim.segments.push((SEVEN + 5.0, SEVEN + 15.0, 0, 98.0));
        assert_eq!(sim.finish().channels_over_limit, 1);
    }

    #[test]
    fn a_duplicate_job_of_a_running_shard_is_refused_by_the_lease() {
        // A second message for a shard whose job is running (an operator re-run, a duplicate
        // SQS message) does not share its households: it ends after its fixed work, comes back
        // after the visibility timeout, and then finds the job done.
        let model = SenderModel::default();
        let towns = [town(10_000, 7, 1, 2000)];
        let alone = simulate(&towns, &model, &Platform::default());
        let platform = Platform::default();
        let mut sim = Sim::new(&towns, &model, &platform);
        sim.enqueue(
            SEVEN + 10.0,
            Message {
                shard: 0,
                receives: 0,
            },
        );
        sim.run();
        let twice = sim.finish();
        assert_eq!(twice.sent, 10_000);
        assert_eq!(
            twice.last_sent_s, alone.last_sent_s,
            "not one second sooner"
        );
        assert_eq!(twice.lease_refused, 1);
        assert_eq!(twice.found_done, 1);
        assert_eq!(twice.invocations, alone.invocations + 2);
        // The refused invocation and the redelivery that finds the job done: short ones.
        let extra_gb_s = twice.lambda_gb_s - alone.lambda_gb_s;
        assert!(
            extra_gb_s <= 2.0 * JOB_OVERHEAD_S * 0.5 + 1e-9,
            "{extra_gb_s} GB-s"
        );
        assert_eq!(twice.pages_listed, alone.pages_listed);
    }

    #[test]
    fn a_rerun_after_the_deadline_resumes_at_the_cursor() {
        // One shard of 3.5 invocations' worth: each rerun lists the page cut by the deadline
        // again and nothing before it.
        let model = SenderModel::default();
        let per = model.households_per_invocation(DEFAULT_PUSH_RATE_PER_SECOND);
        let households = per * 7 / 2;
        let out = simulate(
            &[town(households, 7, 1, 2000)],
            &model,
            &Platform::default(),
        );
        assert!(out.all_sent(), "{out:?}");
        let pages = households.div_ceil(u64::from(model.page_size));
        let reruns = out.invocations - 1;
        assert!(reruns >= 3, "{out:?}");
        assert!(out.pages_listed >= pages, "{out:?}");
        assert!(
            out.pages_listed <= pages + reruns,
            "{} pages listed for {pages} pages and {reruns} reruns",
            out.pages_listed
        );
        // Only resumed pages are looked up in the ledger, ≤ 5 BatchGetItem each.
        assert!(out.batch_gets > 0);
        let fresh_pages = per.div_ceil(u64::from(model.page_size));
        assert!(
            out.batch_gets <= 5 * (out.pages_listed - fresh_pages),
            "{out:?}"
        );
    }

    #[test]
    fn page_commits_cost_two_write_units_per_household_and_four_per_transaction() {
        // 1,000 households on one shard: 2 pages of 500, each 6 transactions (5 × 98 + 10);
        // every transaction 2 WRU per ledger entry + 2 for the lease + 2 for the run record.
        let out = simulate(
            &[town(1_000, 7, 1, 2000)],
            &SenderModel::default(),
            &Platform::default(),
        );
        assert_eq!(out.pages_listed, 2);
        assert_eq!(out.batch_gets, 0, "a first attempt looks nothing up");
        assert_eq!(out.transactions, 12);
        // Lease taken and released, run record started and ended: 4 single-item writes.
        assert_eq!(out.item_writes, 4);
        assert!((out.write_units - (2.0 * 1000.0 + 4.0 * 12.0 + 4.0)).abs() < 1e-9);
        // One page's six transactions complete within a second on the town's key.
        assert!((out.peak_town_ledger_writes_per_s - (2.0 * 500.0 + 2.0 * 6.0)).abs() < 1e-9);
        let per_delivery = (2.0 * 500.0 + 2.0 * 6.0) / 500.0;
        assert!((LEDGER_WRITES_PER_DELIVERY - per_delivery).abs() < 1e-9);
        assert!((TABLE_WRITES_PER_DELIVERY - (2.0 * 500.0 + 4.0 * 6.0) / 500.0).abs() < 1e-9);
        assert_eq!(SenderModel::default().transactions(500), 6);
        assert_eq!(SenderModel::default().transactions(0), 1);
    }

    #[test]
    fn the_sender_at_512_mb_is_bound_by_its_cpu_share() {
        // 4.2 ms of CPU (the sender before the redesign) at 512/1769 vCPU is 14.5 ms per
        // delivery; 37 ms / 64 in flight is 0.6 ms and LINE's 2,000/s is 0.5 ms.
        let m = SenderModel {
            cpu_per_delivery_s: 0.0042,
            ..SenderModel::default()
        };
        let (interval, bound) = m.interval(DEFAULT_PUSH_RATE_PER_SECOND);
        assert_eq!(bound, Bound::Cpu);
        assert!((interval - 0.0042 * 1769.0 / 512.0).abs() < 1e-9);
        // More memory, more CPU: at 1,769 MB the same delivery paces at 4.2 ms.
        let big = SenderModel {
            memory_mb: 1769,
            ..m.clone()
        };
        assert!((big.interval(2000).0 - 0.0042).abs() < 1e-9);
        // A sender with no CPU cost is bound by its in-flight latency.
        let io = SenderModel {
            cpu_per_delivery_s: 0.0,
            ..m
        };
        assert_eq!(io.interval(2000).1, Bound::Latency);
    }

    #[test]
    fn the_rank_size_split_conserves_the_total_and_is_long_tailed() {
        let parts = rank_size_split(REGISTRATIONS, MUNICIPALITIES, RANK_SIZE_EXPONENT);
        assert_eq!(parts.len(), MUNICIPALITIES);
        assert_eq!(parts.iter().sum::<u64>(), REGISTRATIONS);
        assert!(parts.windows(2).all(|w| w[0] >= w[1]), "largest first");
        // Most towns are below the mean (574), a few are far above it.
        let mean = REGISTRATIONS / MUNICIPALITIES as u64;
        assert!(parts.iter().filter(|p| **p < mean).count() > MUNICIPALITIES * 3 / 4);
        assert!(parts[0] > 50 * mean);
        assert_eq!(rank_size_split(7, 3, 0.0), vec![3, 2, 2]);
    }

    #[test]
    fn every_household_is_accounted_for_and_none_twice() {
        let model = SenderModel::default();
        let scenario = Scenario::default();
        let towns = scenario.towns(&model);
        assert_eq!(towns.len(), MUNICIPALITIES);
        assert_eq!(
            towns.iter().map(|t| t.households).sum::<u64>(),
            REGISTRATIONS
        );
        let out = simulate(&towns, &model, &Platform::default());
        assert_eq!(out.households, REGISTRATIONS);
        assert_eq!(out.sent + out.not_sent, REGISTRATIONS);
        assert!(out.all_sent(), "{out:?}");
        assert!(out.peak_concurrency <= SENDER_MAX_CONCURRENCY);
        assert!(out.invocations >= out.jobs as u64);
    }

    #[test]
    fn doubling_concurrency_never_slows_the_finish() {
        let model = SenderModel::default();
        let towns = Scenario::default().towns(&model);
        let mut last = f64::INFINITY;
        for concurrency in [2, 4, 8, 16, 32, 64] {
            let platform = Platform {
                sender_max_concurrency: concurrency,
                ..Platform::default()
            };
            let out = simulate(&towns, &model, &platform);
            assert!(out.all_sent());
            let finish = out.last_sent_s.unwrap();
            assert!(
                finish <= last + 1e-6,
                "{concurrency} senders finish at {finish}, later than {last}"
            );
            last = finish;
        }
    }

    #[test]
    fn the_account_quota_caps_the_event_source() {
        let model = SenderModel::default();
        let towns = Scenario::default().towns(&model);
        let out = simulate(
            &towns,
            &model,
            &Platform {
                sender_max_concurrency: 100,
                account_concurrency: 3,
                ..Platform::default()
            },
        );
        assert_eq!(out.peak_concurrency, 3);
    }

    #[test]
    fn a_town_too_big_for_one_invocation_continues_after_the_visibility_timeout() {
        let model = SenderModel::default();
        let per = model.households_per_invocation(DEFAULT_PUSH_RATE_PER_SECOND);
        let out = simulate(
            &[town(per + 1_000, 7, 1, 2000)],
            &model,
            &Platform::default(),
        );
        assert!(out.all_sent());
        assert_eq!(out.invocations, 2);
        assert_eq!(out.cut_by_deadline, 1);
        let last = out.last_sent_s.unwrap() - SEVEN;
        assert!(last >= SEND_QUEUE_VISIBILITY_TIMEOUT_S, "last at +{last} s");
        // Fitted shards send the same town in one pass.
        let shards = ShardPolicy::Fit.shards(per + 1_000, &model, 2000);
        assert_eq!(shards, 2);
        let fitted = simulate(
            &[town(per + 1_000, 7, shards, 2000)],
            &model,
            &Platform::default(),
        );
        assert_eq!(fitted.cut_by_deadline, 0);
        assert!(fitted.last_sent_s.unwrap() - SEVEN < SENDER_TIMEOUT_S);
    }

    #[test]
    fn nothing_is_sent_after_the_window_and_what_is_left_is_counted() {
        // A 21:00 town needing many invocations: 21:00 and the 21:30 redelivery send, the
        // 22:00 redelivery is refused, and there is no catch-up after 21:00.
        let model = SenderModel::default();
        let per = model.households_per_invocation(DEFAULT_PUSH_RATE_PER_SECOND);
        let out = simulate(&[town(per * 4, 21, 1, 2000)], &model, &Platform::default());
        assert!(!out.all_sent());
        assert!(out.last_sent_s.unwrap() < 22.0 * 3600.0);
        assert_eq!(out.sent + out.not_sent, per * 4);
        assert!(out.refused_late >= 1, "{out:?}");
    }

    #[test]
    fn catch_up_finishes_what_the_dead_letter_queue_took() {
        // One shard of 7 invocations' worth: 5 receives (07:00, 07:30, … 09:00) and the DLQ;
        // the hourly catch-up enqueues the shard again and finishes it.
        let model = SenderModel::default();
        let per = model.households_per_invocation(DEFAULT_PUSH_RATE_PER_SECOND);
        let out = simulate(&[town(per * 6, 7, 1, 2000)], &model, &Platform::default());
        assert!(out.all_sent(), "{out:?}");
        assert!(out.dead_lettered >= 1 || out.invocations > 5, "{out:?}");
    }

    #[test]
    fn spreading_the_hours_shortens_the_wait() {
        let model = SenderModel::default();
        let all = Scenario::default();
        let spread = Scenario {
            hours: Hours::Spread(vec![6, 7, 8, 9]),
            ..Scenario::default()
        };
        let a = simulate(&all.towns(&model), &model, &Platform::default());
        let b = simulate(&spread.towns(&model), &model, &Platform::default());
        assert!(b.delay_p95_s.unwrap() < a.delay_p95_s.unwrap());
        assert_eq!(b.sent, a.sent);
    }

    #[test]
    fn the_constants_match_the_sam_template() {
        let template = include_str!("../../../infra/template.yaml");
        let section = |start: &str, end: &str| -> String {
            let from = template.find(start).unwrap_or_else(|| panic!("{start}"));
            let rest = &template[from..];
            // Up to and including the newline before `end`.
            let to = rest.find(end).map_or(rest.len(), |i| i + 1);
            rest[..to].to_owned()
        };
        let sender = section("\n  SenderFunction:", "\n  SenderLogGroup:");
        assert!(sender.contains(&format!("MemorySize: {SENDER_MEMORY_MB}\n")));
        assert!(sender.contains(&format!("Timeout: {}\n", SENDER_TIMEOUT_S as u32)));
        assert!(sender.contains("BatchSize: 1\n"));
        assert!(sender.contains("MaximumConcurrency: !Ref SenderMaxConcurrency"));
        assert!(!sender.contains("ReservedConcurrentExecutions"));
        let param = section("\n  SenderMaxConcurrency:", "\n    Description");
        assert!(param.contains(&format!("Default: {SENDER_MAX_CONCURRENCY}\n")));
        let queue = section("\n  SendQueue:", "\n      Tags:");
        assert!(queue.contains(&format!(
            "VisibilityTimeout: {}\n",
            SEND_QUEUE_VISIBILITY_TIMEOUT_S as u32
        )));
        assert!(queue.contains(&format!("maxReceiveCount: {SEND_QUEUE_MAX_RECEIVES}\n")));
    }
}
