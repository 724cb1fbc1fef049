//! What the template must say, written once for infra/checks' tests: the alarms (their
//! custom metric names come from kizuna_app::metrics, the names the code emits) and what
//! each function's role may name.

#![allow(dead_code)] // each test crate uses part of it

use std::collections::{BTreeMap, BTreeSet};

use kizuna_app::metrics;
use kizuna_infra_checks::{watched, ExpectedAlarm, Template};

pub const TOPIC: &str = "AlarmTopic";

pub fn template() -> Template {
    Template::kizuna().expect("infra/template.yaml parses")
}

pub fn template_yaml() -> String {
    std::fs::read_to_string(kizuna_infra_checks::kizuna_template_path()).unwrap()
}

pub fn ids(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The `QuotaLowRatio` parameter's default; the quota alarm's threshold.
pub const QUOTA_LOW_RATIO_DEFAULT: f64 = 0.1;

/// A counter the code emits as 1 per event: alarm on its sum over every municipality
/// being above 0, i.e. on the first event.
fn counter_alarm(id: &'static str, metric: &str) -> ExpectedAlarm {
    ExpectedAlarm {
        id,
        watches: vec![watched(
            metrics::NAMESPACE,
            metric,
            &[(metrics::DIMENSION, "*")],
            "Sum",
        )],
        expression: None,
        threshold: 0.0,
        operator: "GreaterThanThreshold",
        treat_missing_data: "notBreaching",
    }
}

/// An AWS metric alarm that fires on the first event in 5 minutes.
fn any_event(
    id: &'static str,
    namespace: &str,
    metric: &str,
    dimension: (&str, &str),
    stat: &str,
) -> ExpectedAlarm {
    ExpectedAlarm {
        id,
        watches: vec![watched(namespace, metric, &[dimension], stat)],
        expression: None,
        threshold: 0.0,
        operator: "GreaterThanThreshold",
        treat_missing_data: "notBreaching",
    }
}

/// Every alarm of the stack. docs/operations.md has one row per alarm.
pub fn expected_alarms() -> Vec<ExpectedAlarm> {
    let api = ("ApiId", "WebhookApi");
    vec![
        any_event(
            "SendDeadLetterQueueAlarm",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            ("QueueName", "SendDeadLetterQueue"),
            "Maximum",
        ),
        ExpectedAlarm {
            threshold: 3600.0,
            ..any_event(
                "SendQueueOldestMessageAlarm",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                ("QueueName", "SendQueue"),
                "Maximum",
            )
        },
        // Liveness: no data (no invocation at all) must alarm, hence breaching.
        ExpectedAlarm {
            id: "SchedulerNotInvokedAlarm",
            watches: vec![watched(
                "AWS/Lambda",
                "Invocations",
                &[("FunctionName", "SchedulerFunction")],
                "Sum",
            )],
            expression: None,
            threshold: 1.0,
            operator: "LessThanThreshold",
            treat_missing_data: "breaching",
        },
        any_event(
            "ScheduleDeadLetterQueueAlarm",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            ("QueueName", "ScheduleDeadLetterQueue"),
            "Maximum",
        ),
        any_event(
            "WebhookErrorsAlarm",
            "AWS/Lambda",
            "Errors",
            ("FunctionName", "WebhookFunction"),
            "Sum",
        ),
        any_event(
            "SchedulerErrorsAlarm",
            "AWS/Lambda",
            "Errors",
            ("FunctionName", "SchedulerFunction"),
            "Sum",
        ),
        any_event(
            "SenderErrorsAlarm",
            "AWS/Lambda",
            "Errors",
            ("FunctionName", "SenderFunction"),
            "Sum",
        ),
        any_event(
            "SenderThrottlesAlarm",
            "AWS/Lambda",
            "Throttles",
            ("FunctionName", "SenderFunction"),
            "Sum",
        ),
        any_event("WebhookApi5xxAlarm", "AWS/ApiGateway", "5xx", api, "Sum"),
        ExpectedAlarm {
            id: "WebhookApi4xxRatioAlarm",
            watches: vec![
                watched("AWS/ApiGateway", "Count", &[api], "Sum"),
                watched("AWS/ApiGateway", "4xx", &[api], "Sum"),
            ],
            expression: Some("IF(requests >= 5, refused / requests, 0)"),
            threshold: 0.5,
            operator: "GreaterThanThreshold",
            treat_missing_data: "notBreaching",
        },
        counter_alarm(
            "MunicipalityRunFailedAlarm",
            metrics::MUNICIPALITY_RUN_FAILED,
        ),
        counter_alarm("MunicipalityRunLateAlarm", metrics::MUNICIPALITY_RUN_LATE),
        counter_alarm(
            "MunicipalityRunNoProgressAlarm",
            metrics::MUNICIPALITY_RUN_NO_PROGRESS,
        ),
        // The ratio is 0-1 per town; the lowest town decides.
        ExpectedAlarm {
            id: "QuotaLowAlarm",
            watches: vec![watched(
                metrics::NAMESPACE,
                metrics::QUOTA_REMAINING_RATIO,
                &[(metrics::DIMENSION, "*")],
                "Minimum",
            )],
            expression: None,
            threshold: QUOTA_LOW_RATIO_DEFAULT,
            operator: "LessThanThreshold",
            treat_missing_data: "notBreaching",
        },
    ]
}

/// What each function's role may name: its own tables, queue, bucket, log group and (via
/// `Stage`) its stage's secrets. Both directions are checked: nothing extra (least
/// privilege) and nothing missing (AccessDenied in production; moto does not enforce IAM).
pub fn expected_role_resources() -> BTreeMap<&'static str, BTreeSet<String>> {
    BTreeMap::from([
        (
            "WebhookFunction",
            ids(&[
                "WebhookLogGroup",
                "MunicipalitiesTable",
                "HouseholdsTable",
                "WebhookEventsTable",
                // BatchWriteItem (deletes) only: a parent's ledger items on 削除.
                "DeliveriesTable",
                // GetObject/ListBucket: 今日のメッセージ plans from the content pack.
                "ContentBucket",
                "Stage",
            ]),
        ),
        (
            "SchedulerFunction",
            ids(&[
                "SchedulerLogGroup",
                "MunicipalitiesTable",
                // Query + DeleteItem: the daily retention purge.
                "HouseholdsTable",
                "DeliveriesTable",
                "SendQueue",
            ]),
        ),
        (
            "SenderFunction",
            ids(&[
                "SenderLogGroup",
                "SendQueue",
                "MunicipalitiesTable",
                "HouseholdsTable",
                "DeliveriesTable",
                "ContentBucket",
                "Stage",
            ]),
        ),
    ])
}
