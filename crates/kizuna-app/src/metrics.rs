//! CloudWatch metrics in Embedded Metric Format (EMF): one JSON line on stdout per event,
//! which CloudWatch Logs turns into metrics without an API call (and without IAM rights).
//!
//! Namespace `Kizuna`, dimension `Municipality`. Metric names (the SAM template's alarms use
//! them): `Sent`, `Failed`, `Skipped`, `NotSentQuota`, `MissingContent`, `Retried`,
//! `QuotaRemaining`, `MunicipalityRunFailed`, `MunicipalityRunLate`.
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

/// Builds one EMF record for `municipality` with the given (name, value) metrics.
pub fn emf_record(municipality: &str, at: DateTime<Utc>, metrics: &[(&str, f64)]) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _)| json!({ "Name": name, "Unit": "Count" }))
        .collect();
    let mut record = Map::new();
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Municipality"]],
                "Metrics": definitions,
            }],
        }),
    );
    record.insert("Municipality".into(), json!(municipality));
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
    }
}
