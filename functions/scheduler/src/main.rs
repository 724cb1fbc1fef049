//! Lambda entry point of the hourly scheduler (EventBridge Scheduler, Asia/Tokyo).
//!
//! The schedule's input is `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`: the slot is
//! taken from the *scheduled* time, so a delayed or retried invocation serves its own hour.

use chrono::{DateTime, Utc};
use kizuna_app::scheduler::Scheduler;
use kizuna_aws::{compose, telemetry, AwsClients, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct ScheduledEvent {
    scheduled_time: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = AwsClients::from_config(&config).await;
    let scheduler = Arc::new(compose::scheduler(&config, &clients));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let scheduler = scheduler.clone();
        async move { handle(&scheduler, event.payload).await }
    }))
    .await
}

async fn handle(scheduler: &Scheduler, payload: Value) -> Result<Value, Error> {
    let now = Utc::now();
    let scheduled = scheduled_time(&payload).unwrap_or_else(|| {
        tracing::warn!("no scheduled_time in the event; using the invocation time");
        now
    });
    let report = scheduler.run_slot(scheduled, now).await?;
    Ok(json!({
        "date": report.date.to_string(),
        "hour": report.hour,
        "jobs": report.jobs.len(),
        "late": report.late,
    }))
}

fn scheduled_time(payload: &Value) -> Option<DateTime<Utc>> {
    let event: ScheduledEvent = serde_json::from_value(payload.clone()).ok()?;
    DateTime::parse_from_rfc3339(event.scheduled_time?.as_str())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduled_time_comes_from_the_event() {
        let t = scheduled_time(&json!({"scheduled_time": "2027-01-01T22:00:00Z"})).unwrap();
        assert_eq!(t.to_rfc3339(), "2027-01-01T22:00:00+00:00");
        assert!(scheduled_time(&json!({})).is_none());
        assert!(scheduled_time(&json!({"scheduled_time": "soon"})).is_none());
    }
}
