//! Lambda start-up of the three release binaries, each run as its own process against a Lambda
//! Runtime API emulator in this bench (a harness, not a test: nothing here is asserted on time).
//!
//!     bash scripts/bench-startup          # builds the release functions, then runs this
//!
//! For each function and each `KIZUNA_WARM_UP_AT_INIT` value, `KIZUNA_BENCH_STARTUP_RUNS`
//! (default 20) fresh processes. Each is started with the environment a Lambda gets (function
//! name, memory, `AWS_LAMBDA_RUNTIME_API` = the emulator, the `KIZUNA_*` configuration, AWS
//! credentials and endpoint = moto, LINE = the fake) and measured by the emulator's clock:
//!
//! - **init**: `spawn()` → the process's first `GET /2018-06-01/runtime/invocation/next`, which
//!   is the moment Lambda ends the Init phase;
//! - **first**: the first event handed out → its `POST …/response` (the cold invocation);
//! - **second**: the same for a second event in the same process (a warm invocation).
//!
//! Each event does fresh work (a new LINE user's follow; a send job for a town not sent to yet;
//! a scheduler slot of another day), so no run is served from an earlier run's state.
//! Binaries are taken from `KIZUNA_BENCH_FUNCTIONS_DIR`, default `$CARGO_TARGET_DIR/release`.
//! Results and their reading are in docs/benchmarks.md ("Start-up").

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Timelike, Utc};
use kizuna_core::calendar::JAPAN;
use kizuna_local::{LocalStack, StackOptions, Town};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long one process may take to answer both events before the run is reported as failed
/// (far above anything seen; only there so a broken binary cannot hang the bench).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const EVENTS_PER_PROCESS: usize = 2;
/// Delivery hour of the towns the sender sends to, and of the one the scheduler schedules.
const SENDER_HOUR: u8 = 7;
const SCHEDULER_HOUR: u8 = 6;

// ---------------------------------------------------------------------------------------------
// The Runtime API emulator
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Run {
    events: VecDeque<Value>,
    first_next: Option<Instant>,
    delivered: Vec<Instant>,
    responses: Vec<(Instant, String)>,
    errors: Vec<String>,
    next_id: u32,
    /// The function's timeout: each event's deadline is this long after it is handed out.
    timeout: Duration,
}

#[derive(Clone, Default)]
struct Emulator {
    run: Arc<Mutex<Run>>,
    finished: Arc<Notify>,
}

impl Emulator {
    fn begin(&self, events: Vec<Value>, timeout: Duration) {
        *self.run.lock().unwrap() = Run {
            events: events.into(),
            timeout,
            ..Run::default()
        };
    }

    fn take(&self) -> Run {
        std::mem::take(&mut *self.run.lock().unwrap())
    }
}

async fn next(State(emu): State<Emulator>) -> Response {
    let now = Instant::now();
    let event = {
        let mut run = emu.run.lock().unwrap();
        run.first_next.get_or_insert(now);
        let event = run.events.pop_front();
        if event.is_some() {
            run.delivered.push(now);
            run.next_id += 1;
        }
        event.map(|e| (e, run.next_id, run.timeout))
    };
    let Some((event, id, timeout)) = event else {
        // No more events for this process: hold the long poll, as Lambda does between
        // invocations, until the bench kills the process.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let deadline_ms = Utc::now().timestamp_millis() + timeout.as_millis() as i64;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    set("lambda-runtime-aws-request-id", format!("bench-{id}"));
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:ap-northeast-1:123456789012:function:bench".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, event.to_string()).into_response()
}

async fn response(
    State(emu): State<Emulator>,
    Path(_id): Path<String>,
    body: String,
) -> StatusCode {
    let now = Instant::now();
    let mut run = emu.run.lock().unwrap();
    run.responses.push((now, body));
    if run.responses.len() == EVENTS_PER_PROCESS {
        emu.finished.notify_one();
    }
    StatusCode::ACCEPTED
}

async fn invocation_error(
    State(emu): State<Emulator>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    emu.run
        .lock()
        .unwrap()
        .errors
        .push(format!("invocation {id}: {body}"));
    emu.finished.notify_one();
    StatusCode::ACCEPTED
}

async fn init_error(State(emu): State<Emulator>, body: String) -> StatusCode {
    emu.run.lock().unwrap().errors.push(format!("init: {body}"));
    emu.finished.notify_one();
    StatusCode::ACCEPTED
}

async fn start_emulator() -> (Emulator, String) {
    let emu = Emulator::default();
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(emu.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (emu, addr)
}

// ---------------------------------------------------------------------------------------------
// One process
// ---------------------------------------------------------------------------------------------

struct Measured {
    init: Duration,
    first: Duration,
    second: Duration,
}

fn functions_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KIZUNA_BENCH_FUNCTIONS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("release")
}

/// Where the functions' stdout (their JSON logs) goes, appended: as on Lambda, logging is part
/// of what init and the invocations cost.
fn log_path() -> PathBuf {
    std::env::temp_dir().join("kizuna-bench-startup.log")
}

fn log_file() -> Stdio {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path())
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

/// A function as infra/template.yaml configures it.
struct Function {
    binary: &'static str,
    memory_mb: u32,
    timeout_s: u64,
}

async fn run_process(
    emu: &Emulator,
    runtime_api: &str,
    stack: &LocalStack,
    function: &Function,
    warm_up: bool,
    events: Vec<Value>,
) -> Result<Measured, String> {
    let c = &stack.config;
    emu.begin(events, Duration::from_secs(function.timeout_s));
    let mut command = tokio::process::Command::new(functions_dir().join(function.binary));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", function.binary)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb.to_string(),
        )
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "ap-northeast-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env(
            "AWS_ENDPOINT_URL",
            c.aws_endpoint_url.as_deref().unwrap_or_default(),
        )
        .env("RUST_LOG", "info")
        .env("KIZUNA_LINE_API_BASE", &stack.line.base_url)
        .env("KIZUNA_SECRET_PREFIX", &c.secret_prefix)
        .env("KIZUNA_TABLE_MUNICIPALITIES", &c.tables.municipalities)
        .env("KIZUNA_TABLE_HOUSEHOLDS", &c.tables.households)
        .env("KIZUNA_TABLE_EVENTS", &c.tables.events)
        .env("KIZUNA_TABLE_DELIVERIES", &c.tables.deliveries)
        .env("KIZUNA_CONTENT_BUCKET", &c.content_bucket)
        .env("KIZUNA_SEND_QUEUE_URL", &c.send_queue_url)
        .env("KIZUNA_WARM_UP_AT_INIT", warm_up.to_string())
        .stdin(Stdio::null())
        .stdout(log_file())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("starting {}: {e}", function.binary))?;
    let finished = tokio::time::timeout(RUN_TIMEOUT, emu.finished.notified()).await;
    let _ = child.kill().await;
    let run = emu.take();
    if finished.is_err() {
        return Err(format!(
            "{}: no answer within {RUN_TIMEOUT:?}",
            function.binary
        ));
    }
    if !run.errors.is_empty() {
        return Err(format!("{}: {}", function.binary, run.errors.join("; ")));
    }
    for (_, body) in &run.responses {
        check_response(function.binary, body)?;
    }
    Ok(Measured {
        init: run.first_next.unwrap() - started,
        first: run.responses[0].0 - run.delivered[0],
        second: run.responses[1].0 - run.delivered[1],
    })
}

/// A run counts only if the function did the work: a 200 from the webhook, a job enqueued by
/// the scheduler, a send job without failures.
fn check_response(binary: &str, body: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("{binary}: {e}: {body}"))?;
    let ok = match binary {
        "webhook" => v["statusCode"] == 200,
        "scheduler" => v["jobs"] == 1,
        "sender" => v["batchItemFailures"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{binary} answered {body}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// An API Gateway HTTP API (payload 2.0) request carrying a signed LINE webhook.
fn webhook_event(stack: &LocalStack, user: &str) -> Value {
    let town = &stack.towns[0];
    let token = stack
        .line
        .issue_reply_token_for(&town.channel.channel_id, user);
    let follow = fake_line::webhook::follow_event(user, &token, false);
    let signed = fake_line::webhook::signed_body(
        &town.channel.channel_secret,
        &town.channel.bot_user_id,
        vec![follow],
    );
    let path = format!("/webhook/{}", town.id().as_str());
    json!({
        "version": "2.0",
        "routeKey": "POST /webhook/{municipality}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-line-signature": signed.signature,
            "user-agent": "LineBotWebhook/2.0",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.ap-northeast-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "LineBotWebhook/2.0",
            },
            "requestId": "bench",
            "routeKey": "POST /webhook/{municipality}",
            "stage": "$default",
            "time": "25/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "pathParameters": { "municipality": town.id().as_str() },
        "body": String::from_utf8(signed.body).unwrap(),
        "isBase64Encoded": false,
    })
}

/// An SQS event with one send job for `town` today (Japan time).
fn sender_event(town: &Town, today: NaiveDate, n: usize) -> Value {
    let job = json!({
        "municipality": town.id().as_str(),
        "date": today.to_string(),
        "shard": {"index": 0, "count": 1},
        "attempt": 0,
    });
    json!({"Records": [{
        "messageId": format!("bench-{n}"),
        "receiptHandle": "bench",
        "body": job.to_string(),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:bench-send",
        "awsRegion": "ap-northeast-1",
    }]})
}

/// The scheduler's input for the `SCHEDULER_HOUR` slot of `date` (Japan time).
fn scheduler_event(date: NaiveDate) -> Value {
    let slot = JAPAN
        .from_local_datetime(&date.and_hms_opt(u32::from(SCHEDULER_HOUR), 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    json!({"scheduled_time": slot.to_rfc3339()})
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn summary(mut values: Vec<Duration>) -> String {
    values.sort();
    format!(
        "{:>7} {:>7} {:>7} {:>7}",
        ms(values[0]),
        ms(percentile(&values, 0.5)),
        ms(percentile(&values, 0.95)),
        ms(values[values.len() - 1])
    )
}

fn jst_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&JAPAN).date_naive()
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; other arguments name the functions to run (default all).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runs: usize = std::env::var("KIZUNA_BENCH_STARTUP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = functions_dir();
    for binary in ["webhook", "scheduler", "sender"] {
        assert!(
            dir.join(binary).is_file(),
            "{} missing: run `bash scripts/bench-startup`, which builds it",
            dir.join(binary).display()
        );
    }

    let now = Utc::now();
    let today = jst_today(now);
    if now.with_timezone(&JAPAN).hour() >= 21 {
        eprintln!(
            "note: it is 21:00 or later in Japan; from 22:00 the sender refuses today's jobs, \
             so a run that crosses 22:00 fails on the sender"
        );
    }

    // Towns: [0] receives the webhook events; one per sender process (never sent to before);
    // one whose delivery hour the scheduler's slots hit.
    let sender_towns = runs * 2 * EVENTS_PER_PROCESS;
    let mut towns = vec![Town::new("bench-webhook", "ベンチ町", SENDER_HOUR, 0)];
    for i in 0..sender_towns {
        towns.push(Town::new(
            &format!("bench-send-{i}"),
            "ベンチ町",
            SENDER_HOUR,
            1 + i as u32,
        ));
    }
    towns.push(Town::new(
        "bench-schedule",
        "ベンチ町",
        SCHEDULER_HOUR,
        1 + sender_towns as u32,
    ));
    let (config, clients) = kizuna_local::moto::provisioned_namespace("benchstartup")
        .await
        .unwrap();
    let content = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let stack = LocalStack::start(config, clients, towns, &content, StackOptions::default())
        .await
        .unwrap();

    // Two expecting parents per sender town, due in 150 days: each gets today's message.
    let due = today.checked_add_days(Days::new(150)).unwrap().to_string();
    for t in 1..=sender_towns {
        let town = stack.towns[t].clone();
        for p in 0..2u128 {
            let user = format!("U{:032x}", 0x5e_0000_u128 + (t as u128) * 16 + p);
            for event in [
                fake_line::webhook::follow_event(
                    &user,
                    &stack
                        .line
                        .issue_reply_token_for(&town.channel.channel_id, &user),
                    false,
                ),
                fake_line::webhook::postback_event(
                    &user,
                    &stack
                        .line
                        .issue_reply_token_for(&town.channel.channel_id, &user),
                    &kizuna_core::conversation::Postback::ConsentAgree.data(),
                    None,
                ),
                fake_line::webhook::postback_event(
                    &user,
                    &stack
                        .line
                        .issue_reply_token_for(&town.channel.channel_id, &user),
                    "kizuna:v1:date:due",
                    Some(json!({ "date": due })),
                ),
            ] {
                let (status, _) = stack.post_events(town.id(), vec![event]).await;
                assert_eq!(status, 200, "registering the bench households");
            }
        }
    }

    let (emu, runtime_api) = start_emulator().await;
    let functions = [
        Function {
            binary: "webhook",
            memory_mb: 256,
            timeout_s: 10,
        },
        Function {
            binary: "scheduler",
            memory_mb: 128,
            timeout_s: 60,
        },
        Function {
            binary: "sender",
            memory_mb: 512,
            timeout_s: 300,
        },
    ];
    println!(
        "start-up of {} ({} processes per row; ms: min p50 p95 max); their logs: {}",
        dir.display(),
        runs,
        log_path().display()
    );
    println!(
        "{:<10} {:<8} {:>31} {:>31} {:>31}",
        "function", "warm-up", "init", "first invocation", "second invocation"
    );
    let mut user_n = 0u128;
    let mut sender_town = 1;
    let mut slot_day = 0u64;
    for function in &functions {
        if !only.is_empty() && !only.iter().any(|o| o == function.binary) {
            continue;
        }
        // The two settings alternate process by process, so a load spike on this shared
        // machine hits both rows alike instead of skewing one of them.
        let mut measured: [Vec<Measured>; 2] = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
        for _ in 0..runs {
            for warm_up in [false, true] {
                let events: Vec<Value> = (0..EVENTS_PER_PROCESS)
                    .map(|_| match function.binary {
                        "webhook" => {
                            user_n += 1;
                            webhook_event(&stack, &format!("U{:032x}", 0xbe_0000_u128 + user_n))
                        }
                        "scheduler" => {
                            slot_day += 1;
                            scheduler_event(today.checked_sub_days(Days::new(slot_day)).unwrap())
                        }
                        _ => {
                            let e = sender_event(&stack.towns[sender_town], today, sender_town);
                            sender_town += 1;
                            e
                        }
                    })
                    .collect();
                match run_process(&emu, &runtime_api, &stack, function, warm_up, events).await {
                    Ok(m) => measured[usize::from(warm_up)].push(m),
                    Err(e) => panic!("{e}"),
                }
            }
        }
        for (warm_up, rows) in ["off", "on"].iter().zip(&measured) {
            println!(
                "{:<10} {:<8} {:>31} {:>31} {:>31}",
                function.binary,
                warm_up,
                summary(rows.iter().map(|m| m.init).collect()),
                summary(rows.iter().map(|m| m.first).collect()),
                summary(rows.iter().map(|m| m.second).collect()),
            );
        }
    }
    let violations = stack.line.contract_violations();
    assert!(
        violations.is_empty(),
        "the functions broke LINE's contract: {violations:?}"
    );
}
