//! The release Lambda binaries run as their own processes on this machine, the way the Lambda
//! service runs them: a Runtime API emulator hands out events and takes the answers, and each
//! process gets the environment a Lambda gets (function name and memory, the `KIZUNA_*`
//! configuration, AWS credentials and endpoint). Used by the benches that measure what ships
//! (`benches/startup.rs`, `benches/sender_cpu.rs`).

use crate::LocalStack;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use kizuna_aws::env_var;
use serde_json::Value;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A function as infra/template.yaml configures it.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    pub binary: &'static str,
    pub memory_mb: u32,
    pub timeout_s: u64,
}

pub const WEBHOOK: Function = Function {
    binary: "webhook",
    memory_mb: 256,
    timeout_s: 10,
};
pub const SCHEDULER: Function = Function {
    binary: "scheduler",
    memory_mb: 128,
    timeout_s: 60,
};
pub const SENDER: Function = Function {
    binary: "sender",
    memory_mb: 512,
    timeout_s: 300,
};

/// Where the release binaries are: `KIZUNA_BENCH_FUNCTIONS_DIR`, else
/// `$CARGO_TARGET_DIR/release`, else the workspace's `target/release`.
pub fn functions_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KIZUNA_BENCH_FUNCTIONS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("release")
}

/// What the emulator saw of one process's invocations.
#[derive(Default)]
pub struct Run {
    events: VecDeque<Value>,
    expected: usize,
    /// The process's first `GET …/invocation/next`: the moment Lambda ends the Init phase.
    pub first_next: Option<Instant>,
    /// When each event was handed out.
    pub delivered: Vec<Instant>,
    /// Each `POST …/response`: when, and the body.
    pub responses: Vec<(Instant, String)>,
    /// Init and invocation errors the process reported.
    pub errors: Vec<String>,
    next_id: u32,
    /// The function's timeout: each event's deadline is this long after it is handed out.
    timeout: Duration,
}

/// A Lambda Runtime API (2018-06-01) on a local port, serving one process at a time.
#[derive(Clone)]
pub struct RuntimeApi {
    run: Arc<Mutex<Run>>,
    finished: Arc<Notify>,
    /// Signalled when an event is queued, for a `/next` that found none.
    queued: Arc<Notify>,
    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let run = Arc::new(Mutex::new(Run::default()));
        let finished = Arc::new(Notify::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let api = Self {
            run,
            finished,
            queued: Arc::new(Notify::new()),
            address,
        };
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
            .with_state(api.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "Runtime API emulator stopped");
            }
        });
        Ok(api)
    }

    /// Queues `events` for the next process; `timeout` is the function's timeout.
    pub fn begin(&self, events: Vec<Value>, timeout: Duration) {
        let expected = events.len();
        *self.run.lock().unwrap() = Run {
            events: events.into(),
            expected,
            timeout,
            ..Run::default()
        };
    }

    /// Queues one more event for the running process; a `/next` already waiting gets it.
    pub fn queue(&self, event: Value) {
        let mut run = self.run.lock().unwrap();
        run.events.push_back(event);
        run.expected += 1;
        drop(run);
        self.queued.notify_one();
    }

    /// Whether the process has asked for its first event (its Init phase is over).
    pub fn initialised(&self) -> bool {
        self.run.lock().unwrap().first_next.is_some()
    }

    /// Waits until every queued event is answered or the process reported an error, at most
    /// `limit`; false if the time ran out.
    pub async fn wait(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.finished.notified())
            .await
            .is_ok()
    }

    /// What was seen since [`RuntimeApi::begin`]; the emulator is empty afterwards.
    pub fn take(&self) -> Run {
        std::mem::take(&mut *self.run.lock().unwrap())
    }
}

async fn next(State(api): State<RuntimeApi>) -> Response {
    // No event queued: hold the long poll, as Lambda does between invocations, until one is
    // queued or the caller kills the process.
    let (event, id, timeout) = loop {
        {
            let now = Instant::now();
            let mut run = api.run.lock().unwrap();
            run.first_next.get_or_insert(now);
            if let Some(event) = run.events.pop_front() {
                run.delivered.push(now);
                run.next_id += 1;
                break (event, run.next_id, run.timeout);
            }
        }
        api.queued.notified().await;
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
    State(api): State<RuntimeApi>,
    Path(_id): Path<String>,
    body: String,
) -> StatusCode {
    let now = Instant::now();
    let mut run = api.run.lock().unwrap();
    run.responses.push((now, body));
    if run.responses.len() == run.expected {
        api.finished.notify_one();
    }
    StatusCode::ACCEPTED
}

async fn invocation_error(
    State(api): State<RuntimeApi>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    api.run
        .lock()
        .unwrap()
        .errors
        .push(format!("invocation {id}: {body}"));
    api.finished.notify_one();
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<RuntimeApi>, body: String) -> StatusCode {
    api.run.lock().unwrap().errors.push(format!("init: {body}"));
    api.finished.notify_one();
    StatusCode::ACCEPTED
}

/// The command that starts `function`'s release binary as Lambda would: only the environment
/// a Lambda has (the `KIZUNA_*` configuration of `stack`, dummy credentials, AWS at
/// `aws_endpoint`, LINE at `line_base`), stdout appended to `log`.
pub fn command(
    function: &Function,
    runtime_api: &RuntimeApi,
    stack: &LocalStack,
    aws_endpoint: &str,
    line_base: &str,
    warm_up: bool,
    log: &std::path::Path,
) -> tokio::process::Command {
    let c = &stack.config;
    let stdout = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    let mut command = tokio::process::Command::new(functions_dir().join(function.binary));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &runtime_api.address)
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
        .env("RUST_LOG", "info")
        // The stack's configuration, then what this run points elsewhere (proxies).
        .envs(c.to_env())
        .env(env_var::AWS_ENDPOINT_URL, aws_endpoint)
        .env(env_var::LINE_API_BASE, line_base)
        .env(env_var::WARM_UP_AT_INIT, warm_up.to_string())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    command
}

/// An SQS event with one record whose body is `job` (a send job), as the event source mapping
/// hands it to the sender.
pub fn sqs_event(job: &Value, message_id: &str) -> Value {
    serde_json::json!({"Records": [{
        "messageId": message_id,
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

/// CPU time and peak memory of a running process, from /proc (Linux).
#[derive(Debug, Clone, Copy)]
pub struct ProcessUsage {
    /// User + system CPU of the process itself (all its threads), in seconds.
    pub cpu_s: f64,
    /// Peak resident set (`VmHWM`), in KiB.
    pub peak_rss_kib: u64,
}

/// Reads `/proc/<pid>/stat` (utime, stime) and `/proc/<pid>/status` (`VmHWM`). The process
/// must still be alive: a reaped process's figures are gone.
pub fn process_usage(pid: u32) -> std::io::Result<ProcessUsage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_usage(&stat, &status, clock_ticks_per_second())
        .ok_or_else(|| std::io::Error::other(format!("unreadable /proc/{pid}/stat or status")))
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

fn parse_usage(stat: &str, status: &str, ticks: f64) -> Option<ProcessUsage> {
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    // After it: state (3), ppid (4), … utime (14), stime (15).
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let peak_rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(ProcessUsage {
        cpu_s: (utime + stime) as f64 / ticks,
        peak_rss_kib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_utime_plus_stime_and_vmhwm() {
        // A command name with a space and a parenthesis, as the kernel allows.
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 4 0 100 1000000 300 18446744073709551615";
        let status = "Name:\tsender\nVmPeak:\t  9000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t  10000 kB\n";
        let usage = parse_usage(stat, status, 100.0).unwrap();
        assert_eq!(usage.cpu_s, 2.0, "utime 150 + stime 50 ticks at 100/s");
        assert_eq!(usage.peak_rss_kib, 12345);
    }

    #[test]
    fn own_process_is_readable() {
        let usage = process_usage(std::process::id()).unwrap();
        assert!(usage.peak_rss_kib > 0);
    }
}
