//! Checks of the whole template that return what is wrong (empty = fine), so each can be
//! run on the real template (must pass) and on a deliberately broken copy (must fail):
//! infra/checks/tests/mutations.rs does both for every drift these checks exist to catch.

use std::collections::{BTreeMap, BTreeSet};

use crate::{referenced_ids, Template, Value};

/// One metric an alarm reads, with its dimensions as (name, what the value refers to:
/// a logical id, a literal, or `*` for every value of a Metrics Insights `SCHEMA`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WatchedMetric {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// CloudWatch statistic name (`Sum`, `Minimum`, ...); Metrics Insights functions are
    /// translated (`SUM` -> `Sum`, `MIN` -> `Minimum`).
    pub stat: String,
}

/// What an alarm watches and when it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSummary {
    pub watches: Vec<WatchedMetric>,
    /// Metric math other than a Metrics Insights query, verbatim.
    pub expression: Option<String>,
    pub threshold: Option<f64>,
    pub operator: String,
    pub treat_missing_data: String,
}

/// The alarm the code and the runbook expect, by logical id.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedAlarm {
    pub id: &'static str,
    pub watches: Vec<WatchedMetric>,
    pub expression: Option<&'static str>,
    pub threshold: f64,
    pub operator: &'static str,
    pub treat_missing_data: &'static str,
}

pub fn watched(
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    stat: &str,
) -> WatchedMetric {
    WatchedMetric {
        namespace: namespace.to_owned(),
        metric: metric.to_owned(),
        dimensions: dimensions
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        stat: stat.to_owned(),
    }
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A dimension value as what it refers to: the one logical id, else the literal.
fn dimension_target(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    let ids = referenced_ids(value);
    if ids.len() == 1 {
        return ids.into_iter().next().expect("one id");
    }
    value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{value:?}"))
}

fn dimensions_of(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|d| (text(d.get("Name")), dimension_target(d.get("Value"))))
        .collect()
}

fn insights_stat(function: &str) -> String {
    match function.to_ascii_uppercase().as_str() {
        "SUM" => "Sum",
        "MIN" => "Minimum",
        "MAX" => "Maximum",
        "AVG" => "Average",
        "COUNT" => "SampleCount",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// `SELECT FN(Metric) FROM SCHEMA(Namespace, Dim1, Dim2)`, nothing else (no WHERE/GROUP BY).
fn parse_insights(query: &str) -> Option<WatchedMetric> {
    let rest = query.trim().strip_prefix("SELECT ")?;
    let (select, from) = rest.split_once(" FROM SCHEMA(")?;
    let (function, metric) = select.trim().split_once('(')?;
    let metric = metric.strip_suffix(')')?.trim();
    let mut schema = from.trim().strip_suffix(')')?.split(',').map(str::trim);
    let namespace = schema.next()?.trim_matches('"');
    Some(WatchedMetric {
        namespace: namespace.to_owned(),
        metric: metric.trim_matches('"').to_owned(),
        dimensions: schema
            .map(|d| (d.trim_matches('"').to_owned(), "*".to_owned()))
            .collect(),
        stat: insights_stat(function.trim()),
    })
}

impl Template {
    /// The alarm `id` as an [`AlarmSummary`]; `Err` says what could not be read.
    pub fn alarm(&self, id: &str) -> Result<AlarmSummary, String> {
        if self.resource_type(id) != Some("AWS::CloudWatch::Alarm") {
            return Err(format!("{id}: not an AWS::CloudWatch::Alarm"));
        }
        let property = |key: &str| self.property(id, &[key]);
        let mut watches = Vec::new();
        let mut expression = None;
        if let Some(metrics) = property("Metrics").and_then(Value::as_sequence) {
            for entry in metrics {
                if let Some(stat) = entry.get("MetricStat") {
                    let metric = stat.get("Metric");
                    watches.push(WatchedMetric {
                        namespace: text(metric.and_then(|m| m.get("Namespace"))),
                        metric: text(metric.and_then(|m| m.get("MetricName"))),
                        dimensions: dimensions_of(metric.and_then(|m| m.get("Dimensions"))),
                        stat: text(stat.get("Stat")),
                    });
                } else if let Some(e) = entry.get("Expression").and_then(Value::as_str) {
                    if e.trim_start().starts_with("SELECT ") {
                        watches.push(
                            parse_insights(e)
                                .ok_or_else(|| format!("{id}: unreadable query `{e}`"))?,
                        );
                    } else {
                        expression = Some(e.to_owned());
                    }
                }
            }
        } else {
            watches.push(WatchedMetric {
                namespace: text(property("Namespace")),
                metric: text(property("MetricName")),
                dimensions: dimensions_of(property("Dimensions")),
                stat: text(property("Statistic").or_else(|| property("ExtendedStatistic"))),
            });
        }
        Ok(AlarmSummary {
            watches,
            expression,
            threshold: property("Threshold").and_then(|t| self.number(t)),
            operator: text(property("ComparisonOperator")),
            treat_missing_data: text(property("TreatMissingData")),
        })
    }
}

/// Alarms that are missing, extra, or differ from `expected` in namespace, metric name,
/// dimension, statistic, threshold, operator or missing-data treatment; and alarms that do
/// not notify `topic`.
pub fn alarm_drift(template: &Template, expected: &[ExpectedAlarm], topic: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let present: BTreeSet<&str> = template
        .ids_of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .collect();
    let wanted: BTreeSet<&str> = expected.iter().map(|e| e.id).collect();
    for extra in present.difference(&wanted) {
        problems.push(format!(
            "{extra}: an alarm the checks do not know; add it to the expected alarms (and docs/operations.md)"
        ));
    }
    for e in expected {
        if !present.contains(e.id) {
            problems.push(format!("{}: alarm missing", e.id));
            continue;
        }
        let actual = match template.alarm(e.id) {
            Ok(a) => a,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let mut got = actual.watches.clone();
        got.sort();
        let mut want = e.watches.clone();
        want.sort();
        if got != want {
            problems.push(format!("{}: watches {got:?}, expected {want:?}", e.id));
        }
        if actual.expression.as_deref() != e.expression {
            problems.push(format!(
                "{}: expression {:?}, expected {:?}",
                e.id, actual.expression, e.expression
            ));
        }
        if actual.threshold != Some(e.threshold) {
            problems.push(format!(
                "{}: threshold {:?}, expected {}",
                e.id, actual.threshold, e.threshold
            ));
        }
        if actual.operator != e.operator {
            problems.push(format!(
                "{}: operator {}, expected {}",
                e.id, actual.operator, e.operator
            ));
        }
        if actual.treat_missing_data != e.treat_missing_data {
            problems.push(format!(
                "{}: TreatMissingData {}, expected {}",
                e.id, actual.treat_missing_data, e.treat_missing_data
            ));
        }
        for key in ["AlarmActions", "OKActions"] {
            let targets = template
                .property(e.id, &[key])
                .map(referenced_ids)
                .unwrap_or_default();
            if targets != BTreeSet::from([topic.to_owned()]) {
                problems.push(format!("{}: {key} {targets:?}, expected [{topic}]", e.id));
            }
        }
    }
    problems
}

/// Every alarm on the code's own namespace must watch a metric the code emits (`emitted`),
/// across exactly the dimension set the code writes (`dimensions`); every metric in
/// `alarmed` must have an alarm. Catches a renamed metric or dimension on either side.
pub fn custom_metric_drift(
    template: &Template,
    namespace: &str,
    dimensions: &[&str],
    emitted: &[&str],
    alarmed: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut watched_metrics = BTreeSet::new();
    for id in template.ids_of_type("AWS::CloudWatch::Alarm") {
        let Ok(alarm) = template.alarm(id) else {
            continue; // reported by alarm_drift
        };
        for w in alarm.watches {
            // The code's namespace, or one of its metric names in another namespace.
            let custom = w.namespace == namespace || emitted.contains(&w.metric.as_str());
            if !custom {
                continue;
            }
            if w.namespace != namespace {
                problems.push(format!(
                    "{id}: {} in namespace {}, the code emits it in {namespace}",
                    w.metric, w.namespace
                ));
            }
            if !emitted.contains(&w.metric.as_str()) {
                problems.push(format!(
                    "{id}: metric {} is never emitted (kizuna_app::metrics::ALL)",
                    w.metric
                ));
            }
            let names: Vec<&str> = w.dimensions.iter().map(|(n, _)| n.as_str()).collect();
            if names != dimensions {
                problems.push(format!(
                    "{id}: dimensions {names:?}, the code emits {dimensions:?}"
                ));
            }
            watched_metrics.insert(w.metric);
        }
    }
    for metric in alarmed {
        if !watched_metrics.contains(*metric) {
            problems.push(format!("no alarm watches {namespace}/{metric}"));
        }
    }
    problems
}

/// Each function must run as its own `AWS::IAM::Role` (not shared, no SAM `Policies`, no
/// managed policies, trusted by Lambda only) whose statements name exactly the resources
/// `expected` lists for it. The function list comes from the template, so a new function
/// without an entry in `expected` is reported too.
pub fn function_role_drift(
    template: &Template,
    expected: &BTreeMap<&str, BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for function in template.functions() {
        if template.property(function, &["Policies"]).is_some() {
            problems.push(format!(
                "{function}: SAM `Policies` (a second, unchecked role path)"
            ));
        }
        let Some(role) = template.role_of_function(function) else {
            problems.push(format!(
                "{function}: no `Role: !GetAtt <Role>.Arn` of its own (SAM would generate one with AWSLambdaBasicExecutionRole, logs on Resource '*')"
            ));
            continue;
        };
        if let Some(other) = owners.insert(role.clone(), function.to_owned()) {
            problems.push(format!("{role} is shared by {other} and {function}"));
        }
        if template.property(&role, &["ManagedPolicyArns"]).is_some() {
            problems.push(format!("{role}: attaches managed policies"));
        }
        let trust = template
            .property(&role, &["AssumeRolePolicyDocument", "Statement"])
            .and_then(Value::as_sequence);
        let lambda_only = trust.is_some_and(|t| {
            t.len() == 1
                && t[0].get("Principal").and_then(|p| p.get("Service"))
                    == Some(&Value::from("lambda.amazonaws.com"))
        });
        if !lambda_only {
            problems.push(format!(
                "{role}: must be assumable by lambda.amazonaws.com only"
            ));
        }
        let named: BTreeSet<String> = template
            .statements_of(&role)
            .iter()
            .flat_map(|s| s.referenced_ids())
            .collect();
        match expected.get(function) {
            None => problems.push(format!(
                "{function}: no least-privilege expectation (add what its role may name to the checks)"
            )),
            Some(want) if *want != named => problems.push(format!(
                "{function} ({role}) names {named:?}, expected {want:?}"
            )),
            Some(_) => {}
        }
    }
    problems
}

/// Every SQS event source: one message per invocation (`BatchSize: 1` — the sender's
/// timeout and the queue's visibility are sized for one job) and partial batch responses.
pub fn event_source_drift(template: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    for function in template.functions() {
        let events = template
            .property(function, &["Events"])
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten();
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("SQS") {
                continue;
            }
            let at = format!("{function}.{}", name.as_str().unwrap_or("?"));
            let props = event.get("Properties");
            let batch = props
                .and_then(|p| p.get("BatchSize"))
                .and_then(|b| template.number(b));
            if batch != Some(1.0) {
                problems.push(format!("{at}: BatchSize {batch:?}, must be 1"));
            }
            let types = props.and_then(|p| p.get("FunctionResponseTypes"));
            if types
                != Some(&Value::Sequence(vec![Value::from(
                    "ReportBatchItemFailures",
                )]))
            {
                problems.push(format!(
                    "{at}: FunctionResponseTypes must be [ReportBatchItemFailures], is {types:?}"
                ));
            }
        }
    }
    problems
}

/// Every table: deletion protection on, retained on stack deletion and replacement.
pub fn table_protection_drift(template: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    for table in template.ids_of_type("AWS::DynamoDB::Table") {
        if template
            .property(table, &["DeletionProtectionEnabled"])
            .and_then(Value::as_bool)
            != Some(true)
        {
            problems.push(format!("{table}: DeletionProtectionEnabled must be true"));
        }
        let resource = template.resource(table).expect("listed");
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            if resource.get(policy).and_then(Value::as_str) != Some("Retain") {
                problems.push(format!("{table}: {policy} must be Retain"));
            }
        }
    }
    problems
}
