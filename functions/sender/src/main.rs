//! Lambda entry point of the sender: one SQS record = one send job (municipality, date, shard).
//!
//! A job that must run again is reported as a batch item failure (`ReportBatchItemFailures`),
//! so SQS redelivers only that record after the visibility timeout, and after the redrive
//! limit moves it to the DLQ, whose alarm wakes the operator. The ledger makes every rerun
//! send only what is still unsent.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use kizuna_app::clock::SystemClock;
use kizuna_app::sender::{Sender, SenderSettings};
use kizuna_aws::{compose, telemetry, AwsClients, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::Instrument as _;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = AwsClients::for_lambda(&config)?;
    // Connections opened now if KIZUNA_WARM_UP_AT_INIT (kizuna_aws::warmup).
    let sender = Arc::new(
        compose::sender_at_init(
            &config,
            &clients,
            Arc::new(SystemClock),
            SenderSettings::default(),
        )
        .await?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let sender = sender.clone();
        async move { handle(&sender, event).await }
    }))
    .await
}

async fn handle(sender: &Sender, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let deadline = deadline_of(event.context.deadline);
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let id = record.message_id.clone().unwrap_or_default();
        // One span per record: its lines carry the SQS message id (no personal data) beside
        // the Lambda request id, and the job's own span (municipality, date, shard) inside.
        let outcome = sender
            .run_queued(record.body.as_deref().unwrap_or_default(), Some(deadline))
            .instrument(tracing::info_span!("sqs_record", message_id = %id))
            .await;
        if outcome.redeliver() {
            response.add_failure(id);
        }
    }
    Ok(response)
}

/// The invocation's deadline (epoch milliseconds) as a tokio instant.
fn deadline_of(epoch_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    tokio::time::Instant::now() + Duration::from_millis(epoch_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_response_has_lambdas_field_names() {
        let mut r = SqsBatchResponse::default();
        r.add_failure("m1");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"batchItemFailures":[{"itemIdentifier":"m1"}]}"#
        );
    }

    #[tokio::test]
    async fn a_past_deadline_is_now() {
        let before = tokio::time::Instant::now();
        assert!(deadline_of(0) <= tokio::time::Instant::now() && deadline_of(0) >= before);
    }
}
