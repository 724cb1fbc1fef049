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

use chrono::{DateTime, Days, NaiveDate, TimeZone, Timelike, Utc};
use kizuna_core::calendar::JAPAN;
use kizuna_local::lambda::{self, functions_dir, Function, RuntimeApi};
use kizuna_local::{LocalStack, StackOptions, Town};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long one process may take to answer both events before the run is reported as failed
/// (far above anything seen; only there so a broken binary cannot hang the bench).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const EVENTS_PER_PROCESS: usize = 2;
/// Delivery hour of the towns the sender sends to, and of the one the scheduler schedules.
const SENDER_HOUR: u8 = 7;
const SCHEDULER_HOUR: u8 = 6;

// ---------------------------------------------------------------------------------------------
// One process
// ---------------------------------------------------------------------------------------------

struct Measured {
    init: Duration,
    first: Duration,
    second: Duration,
}

/// Where the functions' stdout (their JSON logs) goes, appended: as on Lambda, logging is part
/// of what init and the invocations cost.
fn log_path() -> PathBuf {
    std::env::temp_dir().join("kizuna-bench-startup.log")
}

async fn run_process(
    api: &RuntimeApi,
    stack: &LocalStack,
    function: &Function,
    warm_up: bool,
    events: Vec<Value>,
) -> Result<Measured, String> {
    api.begin(events, Duration::from_secs(function.timeout_s));
    let mut command = lambda::command(
        function,
        api,
        stack,
        stack.config.aws_endpoint_url.as_deref().unwrap_or_default(),
        &stack.line.base_url,
        warm_up,
        &log_path(),
    );
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("starting {}: {e}", function.binary))?;
    let finished = api.wait(RUN_TIMEOUT).await;
    let _ = child.kill().await;
    let run = api.take();
    if !finished {
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
    lambda::sqs_event(&job, &format!("bench-{n}"))
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

    let api = RuntimeApi::start().await.unwrap();
    let functions = [lambda::WEBHOOK, lambda::SCHEDULER, lambda::SENDER];
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
                match run_process(&api, &stack, function, warm_up, events).await {
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
