//! Lambda entry point of the scheduler function (EventBridge Scheduler, Asia/Tokyo). Two
//! schedules invoke it (infra/template.yaml):
//!
//! - hourly, input `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`: the send slot is
//!   taken from the *scheduled* time, so a delayed or retried invocation serves its own hour;
//! - daily, input `{"task": "purge", "scheduled_time": …}`: the retention purge.

use chrono::{DateTime, Utc};
use kizuna_app::retention::RetentionPurge;
use kizuna_app::scheduler::Scheduler;
use kizuna_aws::{compose, telemetry, AwsClients, Config};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The `task` of the daily retention schedule's input; keep in sync with the template.
pub const PURGE_TASK: &str = "purge";

#[derive(Debug, Deserialize)]
struct ScheduledEvent {
    scheduled_time: Option<String>,
    task: Option<String>,
}

/// What one invocation is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Task {
    SendSlot(Option<DateTime<Utc>>),
    RetentionPurge,
    Unknown(String),
}

struct Jobs {
    scheduler: Scheduler,
    purge: RetentionPurge,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let clients = AwsClients::for_lambda(&config)?;
    let jobs = Arc::new(Jobs {
        scheduler: compose::scheduler(&config, &clients),
        purge: compose::retention_purge(&config, &clients),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let jobs = jobs.clone();
        async move { handle(&jobs, event.payload).await }
    }))
    .await
}

async fn handle(jobs: &Jobs, payload: Value) -> Result<Value, Error> {
    let now = Utc::now();
    match task_of(&payload) {
        Task::SendSlot(scheduled) => {
            let scheduled = scheduled.unwrap_or_else(|| {
                tracing::warn!("no scheduled_time in the event; using the invocation time");
                now
            });
            let report = jobs.scheduler.run_slot(scheduled, now).await?;
            Ok(json!({
                "date": report.date.to_string(),
                "hour": report.hour,
                "jobs": report.jobs.len(),
                "late": report.late,
            }))
        }
        Task::RetentionPurge => {
            let report = jobs.purge.run(now).await?;
            if !report.failed.is_empty() {
                // An error makes the invocation count in the function's Errors alarm.
                return Err(format!(
                    "retention purge failed for {} of {} municipalities",
                    report.failed.len(),
                    report.municipalities
                )
                .into());
            }
            Ok(json!({
                "task": PURGE_TASK,
                "cutoff": report.cutoff.map(|d| d.to_string()),
                "deleted": report.deleted,
                "municipalities": report.municipalities,
            }))
        }
        // Refused loudly rather than treated as a send slot: a mistyped schedule input
        // must not enqueue a day's sends at the wrong hour.
        Task::Unknown(task) => Err(format!("unknown scheduled task {task:?}").into()),
    }
}

fn task_of(payload: &Value) -> Task {
    let event: ScheduledEvent = match serde_json::from_value(payload.clone()) {
        Ok(event) => event,
        Err(_) => return Task::SendSlot(None),
    };
    match event.task.as_deref() {
        None => Task::SendSlot(event.scheduled_time.as_deref().and_then(parse_time)),
        Some(PURGE_TASK) => Task::RetentionPurge,
        Some(other) => Task::Unknown(other.to_owned()),
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduled_time_comes_from_the_event() {
        let Task::SendSlot(Some(t)) = task_of(&json!({"scheduled_time": "2027-01-01T22:00:00Z"}))
        else {
            panic!("a send slot with its time");
        };
        assert_eq!(t.to_rfc3339(), "2027-01-01T22:00:00+00:00");
        assert_eq!(task_of(&json!({})), Task::SendSlot(None));
        assert_eq!(
            task_of(&json!({"scheduled_time": "soon"})),
            Task::SendSlot(None)
        );
    }

    #[test]
    fn the_daily_schedule_asks_for_the_purge() {
        let event = json!({"task": "purge", "scheduled_time": "2027-01-01T18:30:00Z"});
        assert_eq!(task_of(&event), Task::RetentionPurge);
        assert_eq!(
            task_of(&json!({"task": "purgeall"})),
            Task::Unknown("purgeall".into())
        );
    }

    /// The template's daily schedule sends exactly the task this function dispatches on.
    #[test]
    fn the_template_schedules_the_purge_daily() {
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml"),
        )
        .unwrap();
        let needle = format!("\"task\": \"{PURGE_TASK}\"");
        assert!(
            template.contains(&needle) || template.contains(&format!("\"task\":\"{PURGE_TASK}\"")),
            "infra/template.yaml has no schedule with input {needle}"
        );
    }
}
