//! A sender process for the local stack: works the SQS send queue the way Lambda's SQS event
//! source does (batch size 1, delete on success, leave a failed message to reappear after its
//! visibility timeout), running the production `Sender` in a process of its own — so the chaos
//! runs can kill it with SIGKILL at any instruction, as Lambda can be killed.
//!
//! Configuration is the Lambda's (`KIZUNA_*`, `AWS_ENDPOINT_URL`, AWS region and credentials)
//! plus what the Lambda environment fixes and the local runs vary:
//!
//! | variable                      | meaning                                            | default |
//! |-------------------------------|----------------------------------------------------|---------|
//! | `KIZUNA_CLOCK_OFFSET_MS`      | shift of "now" from the real clock (shared by every process of a run) | 0 |
//! | `KIZUNA_SENDER_LEASE_SECS`    | delivery lease                                     | 300     |
//! | `KIZUNA_LINE_TIMEOUT_MS`      | whole-request timeout of LINE calls                | 10000   |
//! | `KIZUNA_VISIBILITY_SECS`      | visibility timeout taken on each received message  | 1800    |
//! | `KIZUNA_JOB_TIMEOUT_SECS`     | the invocation's deadline (Lambda's Timeout)       | 300     |
//! | `KIZUNA_DEADLINE_MARGIN_SECS` | stop starting deliveries this long before it       | 60      |
//!
//! Logs are the Lambda's JSON lines on stdout.

use anyhow::Context as _;
use kizuna_app::clock::{Clock, ShiftedClock};
use kizuna_app::sender::{Sender, SenderPorts, SenderSettings};
use kizuna_aws::{compose, telemetry, AwsClients, Config};
use kizuna_line::client::{LineClient, DEFAULT_CONNECT_TIMEOUT};
use kizuna_line::LineMessenger;
use kizuna_local::worker_env;
use std::sync::Arc;
use std::time::Duration;

fn env_u64(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v} is not a number")),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = AwsClients::from_config(&config).await;
    let offset_ms = std::env::var(worker_env::CLOCK_OFFSET_MS)
        .ok()
        .map(|v| v.parse::<i64>())
        .transpose()
        .context(worker_env::CLOCK_OFFSET_MS)?
        .unwrap_or(0);
    let clock: Arc<dyn Clock> =
        Arc::new(ShiftedClock::new(chrono::Duration::milliseconds(offset_ms)));
    let settings = SenderSettings {
        lease: Duration::from_secs(env_u64(worker_env::SENDER_LEASE_SECS, 300)?),
        deadline_margin: Duration::from_secs(env_u64(worker_env::DEADLINE_MARGIN_SECS, 60)?),
        ..SenderSettings::default()
    };
    let line = LineClient::with_timeouts(
        &config.line_api_base,
        Duration::from_millis(env_u64(worker_env::LINE_TIMEOUT_MS, 10_000)?),
        DEFAULT_CONNECT_TIMEOUT,
    )?;
    let ports = SenderPorts {
        municipalities: compose::municipalities(&config, &clients),
        secrets: compose::secrets(&config, &clients),
        households: compose::households(&config, &clients),
        ledger: compose::ledger(&config, &clients),
        runs: compose::runs(&config, &clients),
        content: compose::content(&config, &clients),
        messenger: Arc::new(LineMessenger::new(line)),
    };
    let sender = Sender::new(ports, clock, settings);
    let visibility = i32::try_from(env_u64(worker_env::VISIBILITY_SECS, 1800)?)?;
    let job_timeout = Duration::from_secs(env_u64(worker_env::JOB_TIMEOUT_SECS, 300)?);

    loop {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(&config.send_queue_url)
            .max_number_of_messages(1)
            .visibility_timeout(visibility)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(r) => r.messages.unwrap_or_default(),
            Err(e) => {
                // The event source mapping retries polling on its own; so do we.
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receiving from the send queue failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        for message in messages {
            let Some(receipt) = message.receipt_handle() else {
                continue;
            };
            let deadline = tokio::time::Instant::now() + job_timeout;
            let body = message.body().unwrap_or_default();
            // Redelivered after its visibility timeout, as SQS does for the Lambda (a
            // malformed job too: the local stack has no DLQ redrive to wait for).
            if !sender.run_queued(body, Some(deadline)).await.redeliver() {
                // A failed delete only means the message comes back: the ledger makes
                // the rerun send nothing.
                if let Err(e) = clients
                    .sqs
                    .delete_message()
                    .queue_url(&config.send_queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "deleting a finished send job failed");
                }
            }
        }
    }
}
