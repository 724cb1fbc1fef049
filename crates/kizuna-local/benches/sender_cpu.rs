//! CPU, memory and requests per delivery of the release `sender` binary, run as its own process
//! under the Lambda Runtime API emulator (a harness, not a test: nothing is asserted on time).
//!
//!     bash scripts/bench-sender           # builds the release functions, then runs this
//!
//! Each round seeds one fresh town with `KIZUNA_BENCH_HOUSEHOLDS` (default 2000) expecting
//! parents, all due today's message (content synced to S3 as in production), starts the
//! `sender` binary from `KIZUNA_BENCH_FUNCTIONS_DIR` (default `$CARGO_TARGET_DIR/release`) with
//! a Lambda's environment (warm-up at init on, as shipped), waits for the end of its Init
//! (its first `/next`), reads its CPU, then hands it ONE SQS event holding the town's whole
//! send job (today, shard 0 of 1). When the process has answered, and before it is killed,
//! its own CPU (utime + stime of /proc/<pid>/stat) and peak RSS (`VmHWM`) are read again. The
//! job's figures are the difference; requests made during Init are counted apart.
//!
//! Two counting proxies sit in front of moto and of the fake LINE, so every request the
//! sender makes is counted by operation: DynamoDB/SQS/Secrets Manager by `X-Amz-Target`, S3 by
//! method (+ list), LINE by method and path. DynamoDB writes are also counted as items written
//! (PutItem/UpdateItem/DeleteItem 1, BatchWriteItem its items, TransactWriteItems its writes)
//! and as write units (1 per KB of each put item, by DynamoDB's item-size rules; 1 for an
//! update or delete, whose resulting size the proxy does not see; twice that in a transaction).
//!
//! The fake LINE's record of accepted pushes checks the work: every household exactly one push.
//! `KIZUNA_BENCH_ALREADY_SENT` (percent, default 0) measures a rerun instead: before the sender
//! starts, that share of the households is committed as sent through the production ledger
//! adapter, page by page as an earlier attempt would have left it (lease taken, pages committed
//! with their resume cursor, lease released), so the measured process is the rerun and is
//! checked to push exactly the rest.
//! `KIZUNA_BENCH_TOML_ONLY` (any value) removes the compiled content artifact from the bucket,
//! for a sender built before it existed.
//! `KIZUNA_BENCH_ROUNDS` (default 3) rounds; prints min/median/max per metric and one
//! machine-readable line starting `sender_cpu_json `. Reading: docs/benchmarks.md, "Sender CPU
//! per delivery".

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use chrono::{Days, NaiveDate, Timelike, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use kizuna_app::ports::HouseholdStore;
use kizuna_aws::compose;
use kizuna_core::calendar::JAPAN;
use kizuna_core::{Household, LineUserId, Registration, RegistrationStatus, Subject};
use kizuna_local::lambda::{self, functions_dir, RuntimeApi};
use kizuna_local::relay::{relay, response};
use kizuna_local::{LocalStack, StackOptions, Town};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DELIVERY_HOUR: u8 = 7;
/// Far above anything seen; only there so a broken binary cannot hang the bench.
const INIT_TIMEOUT: Duration = Duration::from_secs(30);

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}")),
        Err(_) => default,
    }
}

// ---------------------------------------------------------------------------------------------
// Counting proxy
// ---------------------------------------------------------------------------------------------

/// What went through a proxy since the last [`CountingProxy::take`].
#[derive(Debug, Default, Clone)]
struct Counts {
    /// Requests by operation ("DynamoDB PutItem", "S3 GetObject", "LINE POST /v2/bot/message/push").
    requests: BTreeMap<String, u64>,
    /// DynamoDB items written (see the file's comment).
    items_written: u64,
    /// DynamoDB write units, estimated (see the file's comment).
    write_units: u64,
    /// The largest item a put wrote, in DynamoDB's bytes.
    largest_item: u64,
    /// Answers that were not 2xx (by operation), or failed to reach the upstream.
    errors: BTreeMap<String, u64>,
}

impl Counts {
    fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    fn total_with_prefix(&self, prefix: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }
}

#[derive(Clone, Copy)]
enum Upstream {
    Aws,
    Line,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    kind: Upstream,
    http: reqwest::Client,
    counts: Arc<Mutex<Counts>>,
}

/// A reverse proxy on a local port that forwards everything to `upstream` and counts it.
struct CountingProxy {
    url: String,
    counts: Arc<Mutex<Counts>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl CountingProxy {
    async fn start(upstream: &str, kind: Upstream) -> Self {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let state = ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            kind,
            http: kizuna_line::tls::http_client(),
            counts: counts.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(move |request: Request<Body>| {
            let state = state.clone();
            async move { forward(state, request).await }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url,
            counts,
            server,
        }
    }

    fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

async fn forward(state: ProxyState, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let operation = match state.kind {
        Upstream::Aws => aws_operation(&parts.method, &parts.uri, &parts.headers, &body),
        Upstream::Line => format!("LINE {} {}", parts.method, parts.uri.path()),
    };
    {
        let mut counts = state.counts.lock().unwrap();
        *counts.requests.entry(operation.clone()).or_default() += 1;
        if let Some(dynamodb_operation) = operation.strip_prefix("DynamoDB ") {
            if let Ok(request) = serde_json::from_slice::<Value>(&body) {
                let written = dynamodb_writes(dynamodb_operation, &request);
                counts.items_written += written.items;
                counts.write_units += written.units;
                counts.largest_item = counts.largest_item.max(written.largest_item);
            }
        }
    }
    let count_error = |operation: String| {
        *state
            .counts
            .lock()
            .unwrap()
            .errors
            .entry(operation)
            .or_default() += 1;
    };
    match relay(&state.http, &state.upstream, &parts, body).await {
        Ok(answer) => {
            if !answer.0.is_success() {
                count_error(operation);
            }
            response(answer)
        }
        Err(_) => {
            count_error(operation);
            let mut response = Response::new(Body::from("upstream unreachable"));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }
    }
}

/// "DynamoDB PutItem", "SQS SendMessage", "SecretsManager GetSecretValue", "S3 GetObject", …
fn aws_operation(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (service, operation) = target.split_once('.').unwrap_or(("?", target));
        let service = match service {
            s if s.starts_with("DynamoDB") => "DynamoDB",
            "AmazonSQS" => "SQS",
            "secretsmanager" => "SecretsManager",
            s if s.starts_with("GraniteServiceVersion") => "CloudWatch",
            s => s,
        };
        return format!("{service} {operation}");
    }
    // awsQuery protocol (form body with Action=…).
    if let Ok(text) = std::str::from_utf8(body) {
        if let Some(action) = text
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
        {
            return format!("Query {action}");
        }
    }
    // S3 (REST, path-style: /bucket/key).
    let segments = uri.path().trim_matches('/').split('/').count();
    let query = uri.query().unwrap_or_default();
    let operation = match method.as_str() {
        "GET" if query.contains("list-type=2") => "ListObjectsV2",
        "GET" if segments <= 1 => "ListObjects",
        "GET" => "GetObject",
        "HEAD" if segments <= 1 => "HeadBucket",
        "HEAD" => "HeadObject",
        "PUT" => "PutObject",
        "DELETE" => "DeleteObject",
        other => other,
    };
    format!("S3 {operation}")
}

#[derive(Debug, Default, PartialEq)]
struct Writes {
    items: u64,
    units: u64,
    largest_item: u64,
}

/// Items and write units of one DynamoDB request (see the file's comment).
fn dynamodb_writes(operation: &str, request: &Value) -> Writes {
    let put = |item: &Value| {
        let size = item_size(item);
        Writes {
            items: 1,
            units: size.div_ceil(1024).max(1),
            largest_item: size,
        }
    };
    let one = Writes {
        items: 1,
        units: 1,
        largest_item: 0,
    };
    let add = |mut total: Writes, w: Writes| {
        total.items += w.items;
        total.units += w.units;
        total.largest_item = total.largest_item.max(w.largest_item);
        total
    };
    match operation {
        "PutItem" => put(&request["Item"]),
        "UpdateItem" | "DeleteItem" => one,
        "BatchWriteItem" => request["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .filter_map(Value::as_array)
            .flatten()
            .map(|write| match write.get("PutRequest") {
                Some(p) => put(&p["Item"]),
                None => Writes {
                    items: 1,
                    units: 1,
                    largest_item: 0,
                },
            })
            .fold(Writes::default(), add),
        "TransactWriteItems" => request["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                if let Some(p) = t.get("Put") {
                    Some(put(&p["Item"]))
                } else if t.get("Update").is_some() || t.get("Delete").is_some() {
                    Some(Writes {
                        items: 1,
                        units: 1,
                        largest_item: 0,
                    })
                } else {
                    None // ConditionCheck: read capacity, not a write
                }
            })
            .map(|mut w| {
                w.units *= 2; // transactional writes cost twice
                w
            })
            .fold(Writes::default(), add),
        _ => Writes::default(),
    }
}

/// DynamoDB's size of an item in its JSON wire form: attribute names plus values (strings and
/// binaries by length, numbers ~ 1 byte per 2 digits + 1, lists and maps 3 bytes + 1 per
/// element + contents).
fn item_size(item: &Value) -> u64 {
    item.as_object()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| name.len() as u64 + value_size(value))
                .sum()
        })
        .unwrap_or(0)
}

fn value_size(value: &Value) -> u64 {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let number = |n: &Value| (n.as_str().unwrap_or_default().len() as u64).div_ceil(2) + 1;
    let text = |s: &Value| s.as_str().unwrap_or_default().len() as u64;
    let binary = |b: &Value| (text(b) * 3 / 4).max(1); // base64 on the wire
    match kind.as_str() {
        "S" => text(v),
        "N" => number(v),
        "B" => binary(v),
        "BOOL" | "NULL" => 1,
        "SS" => v.as_array().into_iter().flatten().map(text).sum(),
        "NS" => v.as_array().into_iter().flatten().map(number).sum(),
        "BS" => v.as_array().into_iter().flatten().map(binary).sum(),
        "L" => {
            3 + v
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| 1 + value_size(e))
                .sum::<u64>()
        }
        "M" => {
            3 + v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, e)| 1 + k.len() as u64 + value_size(e))
                .sum::<u64>()
        }
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// One round
// ---------------------------------------------------------------------------------------------

struct Round {
    deliveries: u64,
    /// CPU when the process first asked for an event (Init: runtime, clients, warm-up).
    init_cpu_s: f64,
    /// AWS + LINE requests during Init (warm-up probes, content pack preload).
    init_requests: u64,
    /// CPU when it had answered the job, init included.
    cpu_s: f64,
    wall_s: f64,
    peak_rss_kib: u64,
    aws: Counts,
    line: Counts,
}

fn user_id(round: usize, i: usize) -> String {
    format!("U{:016x}{:016x}", 0xbe5c_0000 + round as u64, i as u64)
}

/// `n` expecting parents in `town`, due between 100 and 199 days after `today`: each is sent
/// today's message. Stored through the production adapter, 16 at a time.
async fn seed_households(
    stack: &LocalStack,
    town: &Town,
    round: usize,
    n: usize,
    today: NaiveDate,
) {
    let store = compose::households(&stack.config, &stack.clients);
    let mut saves = FuturesUnordered::new();
    for i in 0..n {
        let store = store.clone();
        let mut household = Household::new(
            town.id().clone(),
            LineUserId::parse(&user_id(round, i)).unwrap(),
        );
        household.registrations.push(Registration {
            id: 1,
            subject: Subject::Pregnancy {
                due_date: today + Days::new(100 + (i % 100) as u64),
            },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on: today - Days::new(30),
        });
        saves.push(async move { store.save(&household).await.expect("seeding a household") });
        if saves.len() >= 16 {
            saves.next().await;
        }
    }
    while saves.next().await.is_some() {}
}

/// Leaves the state an earlier attempt at the town's job would leave after sending the first
/// `sent` households in listing order (lease released, not done): the pages it completed are
/// committed with their resume cursor, a last partial page without it.
async fn presend(stack: &LocalStack, town: &Town, today: NaiveDate, sent: usize) {
    use kizuna_app::model::{DeliveryState, RunKey, RunStatus, RunUpdate, Shard};
    use kizuna_app::ports::{
        DeliveryLedger, DeliveryOutcome, PageCommit, ShardLease, MAX_OUTCOMES_PER_COMMIT,
    };
    let households = compose::households(&stack.config, &stack.clients);
    let ledger = compose::ledger(&stack.config, &stack.clients);
    let key = RunKey {
        municipality: town.id().clone(),
        date: today,
        shard: 0,
    };
    let lease = Duration::from_secs(300);
    let owner = "bench-earlier-attempt";
    let ShardLease::Acquired(_) = ledger
        .acquire_shard(&key, owner, Utc::now(), lease)
        .await
        .unwrap()
    else {
        panic!("the bench town's job is already leased or done");
    };
    let page_size = kizuna_app::sender::SenderSettings::default().page_size;
    let (mut cursor, mut number, mut left) = (None, 0u32, sent);
    while left > 0 {
        let page = households
            .deliverable_page(town.id(), Shard::ALL, cursor.clone(), page_size)
            .await
            .unwrap();
        let whole = page.items.len() <= left;
        let users: Vec<_> = page
            .items
            .iter()
            .take(left)
            .map(|h| h.user.clone())
            .collect();
        left -= users.len();
        let chunks: Vec<_> = users.chunks(MAX_OUTCOMES_PER_COMMIT).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let commit = PageCommit {
                outcomes: chunk
                    .iter()
                    .map(|user| DeliveryOutcome {
                        user: user.clone(),
                        attempt: 1,
                        state: DeliveryState::Sent {
                            request_id: "bench-earlier".into(),
                            message_count: 1,
                        },
                    })
                    .collect(),
                run: RunUpdate {
                    status: RunStatus::Started,
                    add: kizuna_app::model::RunCounts {
                        sent: chunk.len() as u64,
                        ..Default::default()
                    },
                    notices: Default::default(),
                    note: None,
                },
                counted_pages: (i == 0).then_some(number + 1),
                resume: (last && whole).then(|| (page.next.clone(), number + 1)),
            };
            ledger
                .commit(&key, owner, &commit, Utc::now(), lease)
                .await
                .unwrap();
        }
        match page.next {
            Some(next) if whole => cursor = Some(next),
            _ => break,
        }
        number += 1;
    }
    ledger.release_shard(&key, owner, false).await.unwrap();
}

#[allow(clippy::too_many_arguments)]
async fn run_round(
    api: &RuntimeApi,
    stack: &LocalStack,
    aws: &CountingProxy,
    line: &CountingProxy,
    town: &Town,
    round: usize,
    n: usize,
    today: NaiveDate,
    already_sent: usize,
) -> Result<Round, String> {
    let function = lambda::SENDER;
    if already_sent > 0 {
        presend(stack, town, today, already_sent).await;
    }
    let job = json!({
        "municipality": town.id().as_str(),
        "date": today.to_string(),
        "shard": {"index": 0, "count": 1},
        "attempt": 0,
    });
    aws.take();
    line.take();
    api.begin(Vec::new(), Duration::from_secs(function.timeout_s));
    let mut child = lambda::command(
        &function,
        api,
        stack,
        &aws.url,
        &line.url,
        // As shipped (infra/template.yaml, WarmUpAtInit default 'true').
        true,
        &log_path(),
    )
    .spawn()
    .map_err(|e| format!("starting the sender: {e}"))?;
    let pid = child.id().ok_or("the sender exited at once")?;
    // Init first, with no event queued: its CPU and requests (warm-up probes, content pack
    // preload) are counted apart from the job's.
    let init_deadline = tokio::time::Instant::now() + INIT_TIMEOUT;
    while !api.initialised() {
        if tokio::time::Instant::now() > init_deadline {
            let _ = child.kill().await;
            return Err(format!(
                "the sender did not finish init within {INIT_TIMEOUT:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let init_usage =
        lambda::process_usage(pid).map_err(|e| format!("reading the sender's /proc: {e}"))?;
    let init_aws = aws.take();
    let init_line = line.take();
    api.queue(lambda::sqs_event(&job, &format!("bench-cpu-{round}")));
    // The function's timeout plus a margin: the sender stops itself before its deadline.
    let finished = api.wait(Duration::from_secs(function.timeout_s + 30)).await;
    // Read while the process is alive (it waits in the next long poll); then kill it.
    let usage = lambda::process_usage(pid);
    let _ = child.kill().await;
    let run = api.take();
    let aws_counts = aws.take();
    let line_counts = line.take();
    if !finished {
        return Err("the sender did not answer within its timeout".into());
    }
    if !run.errors.is_empty() {
        return Err(format!("the sender failed: {}", run.errors.join("; ")));
    }
    let usage = usage.map_err(|e| format!("reading the sender's /proc: {e}"))?;
    let (answered, body) = &run.responses[0];
    let v: Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    if !v["batchItemFailures"]
        .as_array()
        .is_some_and(|a| a.is_empty())
    {
        eprintln!("round {round}: the sender answered {body} (the job would be redelivered)");
    }

    // Every household exactly one push.
    let mut pushes: HashMap<String, u32> = HashMap::new();
    for push in stack.line.recorded_pushes() {
        if push.channel_id == town.channel.channel_id {
            *pushes.entry(push.to).or_default() += 1;
        }
    }
    // Listing order is not seeding order: which households an earlier attempt sent is known
    // from the ledger, so the check is on counts.
    let missed = (0..n)
        .filter(|&i| !pushes.contains_key(&user_id(round, i)))
        .count()
        .saturating_sub(already_sent);
    let duplicated = pushes.values().filter(|&&c| c > 1).count();
    let strangers = (pushes.len() + missed + already_sent).saturating_sub(n);
    if missed + duplicated + strangers > 0 {
        eprintln!(
            "round {round}: DELIVERY CHECK FAILED: {missed} households got no push, \
             {duplicated} got more than one, {strangers} pushes went to users not seeded"
        );
    }
    if !aws_counts.errors.is_empty() || !line_counts.errors.is_empty() {
        eprintln!(
            "round {round}: error answers during the job: AWS {:?}, LINE {:?}",
            aws_counts.errors, line_counts.errors
        );
    }
    Ok(Round {
        deliveries: pushes.values().map(|&c| u64::from(c)).sum(),
        init_cpu_s: init_usage.cpu_s,
        init_requests: init_aws.total() + init_line.total(),
        cpu_s: usage.cpu_s,
        wall_s: (*answered - run.delivered[0]).as_secs_f64(),
        peak_rss_kib: usage.peak_rss_kib,
        aws: aws_counts,
        line: line_counts,
    })
}

fn log_path() -> PathBuf {
    std::env::temp_dir().join("kizuna-bench-sender-cpu.log")
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// min, median, max.
fn spread(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    [values[0], median, values[n - 1]]
}

#[tokio::main]
async fn main() {
    let n = env_number("KIZUNA_BENCH_HOUSEHOLDS", 2000);
    let rounds = env_number("KIZUNA_BENCH_ROUNDS", 3);
    let already_sent_percent = env_number("KIZUNA_BENCH_ALREADY_SENT", 0);
    assert!(
        already_sent_percent < 100,
        "KIZUNA_BENCH_ALREADY_SENT is a percentage below 100"
    );
    let already_sent = n * already_sent_percent / 100;
    assert!(n > 0 && rounds > 0, "households and rounds must be > 0");
    let binary = functions_dir().join("sender");
    assert!(
        binary.is_file(),
        "{} missing: run `bash scripts/bench-sender`, which builds it",
        binary.display()
    );
    let now = Utc::now();
    let today = now.with_timezone(&JAPAN).date_naive();
    let hour = now.with_timezone(&JAPAN).hour();
    if hour >= 21 {
        eprintln!(
            "note: it is {hour}:xx in Japan; from 22:00 until midnight the sender refuses to \
             push (LAST_SEND_HOUR), so rounds then fail: run it another time"
        );
    }

    let towns: Vec<Town> = (0..rounds)
        .map(|r| {
            Town::new(
                &format!("bench-cpu-{r}"),
                "ベンチ町",
                DELIVERY_HOUR,
                1 + r as u32,
            )
        })
        .collect();
    let (config, clients) = kizuna_local::moto::provisioned_namespace("benchsendercpu")
        .await
        .unwrap();
    let content = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let stack = LocalStack::start(
        config,
        clients,
        towns.clone(),
        &content,
        StackOptions::default(),
    )
    .await
    .unwrap();
    if std::env::var_os("KIZUNA_BENCH_TOML_ONLY").is_some() {
        // For a sender from before the compiled artifact (docs/benchmarks.md's "before"
        // figures): its content store read every object under content/ as TOML.
        stack
            .clients
            .s3
            .delete_object()
            .bucket(&stack.config.content_bucket)
            .key(kizuna_app::content::ARTIFACT_KEY)
            .send()
            .await
            .unwrap();
    }
    let aws = CountingProxy::start(
        stack.config.aws_endpoint_url.as_deref().unwrap(),
        Upstream::Aws,
    )
    .await;
    let line = CountingProxy::start(&stack.line.base_url, Upstream::Line).await;
    let api = RuntimeApi::start().await.unwrap();

    println!(
        "sender CPU: {} from {}, {n} households per round ({already_sent} already sent by an earlier attempt), {rounds} rounds; its logs: {}",
        binary.display(),
        functions_dir().display(),
        log_path().display()
    );
    let mut results = Vec::with_capacity(rounds);
    for (round, town) in towns.iter().enumerate() {
        let t = std::time::Instant::now();
        seed_households(&stack, town, round, n, today).await;
        eprintln!(
            "round {round}: {n} households seeded in {:.1} s; sending…",
            t.elapsed().as_secs_f64()
        );
        match run_round(
            &api,
            &stack,
            &aws,
            &line,
            town,
            round,
            n,
            today,
            already_sent,
        )
        .await
        {
            Ok(r) => {
                eprintln!(
                    "round {round}: {} deliveries, {:.2} s CPU ({:.2} s of it init), {:.1} s wall, {} AWS and {} LINE requests in the job",
                    r.deliveries,
                    r.cpu_s,
                    r.init_cpu_s,
                    r.wall_s,
                    r.aws.total(),
                    r.line.total()
                );
                results.push(r);
            }
            Err(e) => panic!("round {round}: {e}"),
        }
    }
    report(n, &results);
    let violations = stack.line.contract_violations();
    assert!(
        violations.is_empty(),
        "the sender broke LINE's contract: {violations:?}"
    );
}

fn report(n: usize, results: &[Round]) {
    let per = |r: &Round, x: f64| x / r.deliveries.max(1) as f64;
    let metrics: Vec<(&str, Vec<f64>)> = vec![
        (
            "deliveries",
            results.iter().map(|r| r.deliveries as f64).collect(),
        ),
        (
            "CPU s per 1,000 deliveries (job; user+sys)",
            results
                .iter()
                .map(|r| per(r, (r.cpu_s - r.init_cpu_s) * 1000.0))
                .collect(),
        ),
        (
            "CPU s per 1,000 deliveries (init + job)",
            results.iter().map(|r| per(r, r.cpu_s * 1000.0)).collect(),
        ),
        (
            "init CPU ms",
            results.iter().map(|r| r.init_cpu_s * 1000.0).collect(),
        ),
        (
            "init AWS + LINE requests",
            results.iter().map(|r| r.init_requests as f64).collect(),
        ),
        (
            "job wall ms per delivery",
            results.iter().map(|r| per(r, r.wall_s * 1000.0)).collect(),
        ),
        (
            "peak RSS MiB (VmHWM, init + job)",
            results
                .iter()
                .map(|r| r.peak_rss_kib as f64 / 1024.0)
                .collect(),
        ),
        (
            "AWS requests per delivery (job)",
            results
                .iter()
                .map(|r| per(r, r.aws.total() as f64))
                .collect(),
        ),
        (
            "  DynamoDB requests per delivery",
            results
                .iter()
                .map(|r| per(r, r.aws.total_with_prefix("DynamoDB ") as f64))
                .collect(),
        ),
        (
            "  DynamoDB items written per delivery",
            results
                .iter()
                .map(|r| per(r, r.aws.items_written as f64))
                .collect(),
        ),
        (
            "  DynamoDB write units per delivery (est.)",
            results
                .iter()
                .map(|r| per(r, r.aws.write_units as f64))
                .collect(),
        ),
        (
            "  S3 requests in the job",
            results
                .iter()
                .map(|r| r.aws.total_with_prefix("S3 ") as f64)
                .collect(),
        ),
        (
            "LINE requests per delivery (job)",
            results
                .iter()
                .map(|r| per(r, r.line.total() as f64))
                .collect(),
        ),
    ];
    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "metric", "min", "median", "max"
    );
    let mut medians = serde_json::Map::new();
    for (name, values) in &metrics {
        let [min, median, max] = spread(values.clone());
        println!("{name:<44} {min:>10.3} {median:>10.3} {max:>10.3}");
        medians.insert(name.trim().to_owned(), json!(median));
    }
    // Requests per delivery by operation (median over rounds).
    let mut operations: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in results {
        for (op, count) in r.aws.requests.iter().chain(&r.line.requests) {
            operations
                .entry(op.clone())
                .or_default()
                .push(per(r, *count as f64));
        }
    }
    println!();
    println!(
        "{:<44} {:>10}",
        "job requests per delivery by operation", "median"
    );
    let mut by_operation = serde_json::Map::new();
    for (op, values) in &operations {
        // An operation missing from a round counts as 0 there.
        let mut values = values.clone();
        values.resize(results.len(), 0.0);
        let [_, median, _] = spread(values);
        println!("{op:<44} {median:>10.4}");
        by_operation.insert(op.clone(), json!(median));
    }
    let largest = results
        .iter()
        .map(|r| r.aws.largest_item)
        .max()
        .unwrap_or(0);
    println!("largest DynamoDB item put: {largest} bytes");
    let line = json!({
        "households": n,
        "rounds": results.len(),
        "median": medians,
        "per_delivery_by_operation": by_operation,
        "largest_item_bytes": largest,
        "rounds_raw": results.iter().map(|r| json!({
            "deliveries": r.deliveries,
            "init_cpu_s": r.init_cpu_s,
            "init_requests": r.init_requests,
            "cpu_s": r.cpu_s,
            "wall_s": r.wall_s,
            "peak_rss_kib": r.peak_rss_kib,
            "aws_requests": r.aws.requests,
            "dynamodb_items_written": r.aws.items_written,
            "dynamodb_write_units": r.aws.write_units,
            "line_requests": r.line.requests,
        })).collect::<Vec<_>>(),
    });
    println!("sender_cpu_json {line}");
}
