//! CloudWatch metrics in Embedded Metric Format (EMF): one JSON line on stdout per event,
//! which CloudWatch Logs turns into metrics without an API call (and without IAM rights).
//!
//! Namespace [`NAMESPACE`], dimension [`DIMENSION`]. The metric names are the constants below
//! and nowhere else: the SAM template's alarms are checked against [`ALL`] and [`ALARMED`]
//! (infra/checks), so a renamed metric fails a test instead of silencing an alarm.
//!
//! `MunicipalityRunLate` means **not sent**, not "sent late": a shard's daily run ended the day
//! unfinished, so some or all of its households received no message that day and none will
//! be sent for it. It is emitted by the scheduler in the first slot past the catch-up window
//! (or at a delivery hour outside [`crate::schedule::SENDING_HOURS`]), and by the sender when
//! a job reaches it outside the sending window or after its date. The run record says
//! `late: …` with the counts of what did go out.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "Kizuna";
/// The one dimension every record carries (the municipality id).
pub const DIMENSION: &str = "Municipality";

/// Deliveries pushed in a send job.
pub const SENT: &str = "Sent";
/// Deliveries that failed (permanently or to be retried).
pub const FAILED: &str = "Failed";
/// Deliveries already sent by an earlier attempt.
pub const SKIPPED: &str = "Skipped";
/// Households not sent because the monthly message limit was reached.
pub const NOT_SENT_QUOTA: &str = "NotSentQuota";
/// Households whose day had no content.
pub const MISSING_CONTENT: &str = "MissingContent";
/// Pushes retried after a retryable LINE answer.
pub const RETRIED: &str = "Retried";
/// Messages left in the municipality's monthly quota after a send job.
pub const QUOTA_REMAINING: &str = "QuotaRemaining";
/// [`QUOTA_REMAINING`] as a share of the monthly limit, 0-1 ([`quota_remaining_ratio`]): the
/// alarm compares towns on plans of any size with one threshold.
pub const QUOTA_REMAINING_RATIO: &str = "QuotaRemainingRatio";
/// 1 per municipality run that ended with failed sends.
pub const MUNICIPALITY_RUN_FAILED: &str = "MunicipalityRunFailed";
/// 1 per municipality run given up as not sent (its job came after its date or after the
/// last sending hour, or it did not complete within the catch-up window).
pub const MUNICIPALITY_RUN_LATE: &str = "MunicipalityRunLate";
/// 1 per send job that reached its deadline having attempted no delivery.
pub const MUNICIPALITY_RUN_NO_PROGRESS: &str = "MunicipalityRunNoProgress";

/// Households deleted by the daily retention purge (per municipality, every day).
pub const HOUSEHOLDS_PURGED: &str = "HouseholdsPurged";
/// 1 per municipality whose retention purge failed (the function's run fails too, so the
/// scheduler's Errors alarm fires; the next day's purge retries).
pub const RETENTION_PURGE_FAILED: &str = "RetentionPurgeFailed";

/// Every metric name the code emits.
pub const ALL: &[&str] = &[
    HOUSEHOLDS_PURGED,
    RETENTION_PURGE_FAILED,
    SENT,
    FAILED,
    SKIPPED,
    NOT_SENT_QUOTA,
    MISSING_CONTENT,
    RETRIED,
    QUOTA_REMAINING,
    QUOTA_REMAINING_RATIO,
    MUNICIPALITY_RUN_FAILED,
    MUNICIPALITY_RUN_LATE,
    MUNICIPALITY_RUN_NO_PROGRESS,
];

/// The metrics an operator must hear about: each has an alarm in infra/template.yaml.
/// The counters are emitted as 1 per event (alarm: SUM > 0); the ratio as a share of the
/// limit (alarm: MIN below a share).
pub const ALARMED: &[&str] = &[
    MUNICIPALITY_RUN_FAILED,
    MUNICIPALITY_RUN_LATE,
    MUNICIPALITY_RUN_NO_PROGRESS,
    QUOTA_REMAINING_RATIO,
];

/// The share of the monthly limit still available, 0 when the limit is 0 (nothing can be
/// sent) and never above 1.
pub fn quota_remaining_ratio(remaining: u64, limit: u64) -> f64 {
    if limit == 0 {
        return 0.0;
    }
    remaining.min(limit) as f64 / limit as f64
}

/// CloudWatch unit of a metric: counts, except the ratio.
fn unit(name: &str) -> &'static str {
    if name == QUOTA_REMAINING_RATIO {
        "None"
    } else {
        "Count"
    }
}

/// Builds one EMF record for `municipality` with the given (name, value) metrics.
pub fn emf_record(municipality: &str, at: DateTime<Utc>, metrics: &[(&str, f64)]) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _)| json!({ "Name": name, "Unit": unit(name) }))
        .collect();
    let mut record = Map::new();
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": definitions,
            }],
        }),
    );
    record.insert(DIMENSION.into(), json!(municipality));
    for (name, value) in metrics {
        record.insert((*name).into(), json!(value));
    }
    Value::Object(record)
}

/// Writes one EMF record to stdout (where Lambda's log capture picks it up).
pub fn emit(municipality: &str, at: DateTime<Utc>, metrics: &[(&str, f64)]) {
    println!("{}", emf_record(municipality, at, metrics));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_record_declares_every_metric_it_carries() {
        let r = emf_record("kizuna-town", Utc::now(), &[("Sent", 3.0), ("Failed", 0.0)]);
        let defs = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(defs["Namespace"], "Kizuna");
        assert_eq!(defs["Metrics"][1]["Name"], "Failed");
        assert_eq!(r["Sent"], 3.0);
        assert_eq!(r["Municipality"], "kizuna-town");
        assert_eq!(defs["Metrics"][0]["Unit"], "Count");
    }

    #[test]
    fn the_quota_ratio_is_a_share_of_the_limit_and_unitless() {
        assert_eq!(quota_remaining_ratio(50, 200), 0.25);
        assert_eq!(quota_remaining_ratio(0, 200), 0.0);
        // A limit lowered below what is left, and a zero limit (nothing can be sent).
        assert_eq!(quota_remaining_ratio(300, 200), 1.0);
        assert_eq!(quota_remaining_ratio(10, 0), 0.0);
        let r = emf_record("t", Utc::now(), &[(QUOTA_REMAINING_RATIO, 0.25)]);
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "None"
        );
    }

    #[test]
    fn metric_names_are_distinct_and_the_alarmed_are_emitted_ones() {
        let all: std::collections::BTreeSet<_> = ALL.iter().collect();
        assert_eq!(all.len(), ALL.len());
        assert!(ALARMED.iter().all(|m| all.contains(m)));
    }
}
