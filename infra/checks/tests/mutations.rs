//! Each template check must be able to fail: every test runs a check on the real
//! infra/template.yaml (it must pass) and on a copy with one deliberate drift (it must
//! report it). The mutations are text edits of the YAML, each asserted to have changed
//! the text, so a mutation that no longer applies fails loudly instead of testing nothing.

mod common;

use common::{expected_alarms, expected_role_resources, template, template_yaml, TOPIC};
use kizuna_app::metrics;
use kizuna_infra_checks::{
    alarm_drift, custom_metric_drift, event_source_drift, function_role_drift,
    iam_scope_violations, table_protection_drift, Template,
};

/// The template with the `nth` (0-based) occurrence of `from` replaced by `to`.
fn mutated_nth(from: &str, to: &str, nth: usize) -> Template {
    let yaml = template_yaml();
    let (at, _) = yaml
        .match_indices(from)
        .nth(nth)
        .unwrap_or_else(|| panic!("mutation does not apply: no occurrence {nth} of {from:?}"));
    let mut changed = yaml.clone();
    changed.replace_range(at..at + from.len(), to);
    assert_ne!(changed, yaml);
    Template::parse(&changed).expect("the mutated template still parses")
}

/// The template with the only occurrence of `from` replaced by `to`.
fn mutated(from: &str, to: &str) -> Template {
    let count = template_yaml().matches(from).count();
    assert_eq!(
        count, 1,
        "mutation must be unambiguous: {from:?} occurs {count} times"
    );
    mutated_nth(from, to, 0)
}

/// A resource added at the end of `Resources` (just before `Outputs:`).
fn with_resource(yaml_block: &str) -> Template {
    mutated("\nOutputs:\n", &format!("\n{yaml_block}\nOutputs:\n"))
}

fn alarms(t: &Template) -> Vec<String> {
    alarm_drift(t, &expected_alarms(), TOPIC)
}

fn custom_metrics(t: &Template) -> Vec<String> {
    custom_metric_drift(
        t,
        metrics::NAMESPACE,
        &[metrics::DIMENSION],
        metrics::ALL,
        metrics::ALARMED,
    )
}

fn roles(t: &Template) -> Vec<String> {
    function_role_drift(t, &expected_role_resources())
}

/// `check` passes on the real template and reports something containing `expect` on `bad`.
fn assert_catches(check: fn(&Template) -> Vec<String>, bad: &Template, expect: &str) {
    let real = check(&template());
    assert!(
        real.is_empty(),
        "the real template fails the check:\n{}",
        real.join("\n")
    );
    let found = check(bad);
    assert!(
        found.iter().any(|p| p.contains(expect)),
        "mutation not caught (want `{expect}`), check said: {found:#?}"
    );
}

// --- Alarms against what the code emits -------------------------------------------------------

#[test]
fn alarm_namespace_drift_is_caught() {
    let bad = mutated(
        "SELECT SUM(MunicipalityRunNoProgress) FROM SCHEMA(Kizuna, Municipality)",
        "SELECT SUM(MunicipalityRunNoProgress) FROM SCHEMA(KizunaApp, Municipality)",
    );
    assert_catches(alarms, &bad, "MunicipalityRunNoProgressAlarm: watches");
    assert_catches(custom_metrics, &bad, "in namespace KizunaApp");
}

#[test]
fn alarm_metric_name_drift_is_caught() {
    // As if the code's metric had been renamed in the template only.
    let bad = mutated(
        "SELECT SUM(MunicipalityRunFailed)",
        "SELECT SUM(MunicipalityRunFailure)",
    );
    assert_catches(alarms, &bad, "MunicipalityRunFailedAlarm: watches");
    assert_catches(
        custom_metrics,
        &bad,
        "MunicipalityRunFailure is never emitted",
    );
    assert_catches(
        custom_metrics,
        &bad,
        "no alarm watches Kizuna/MunicipalityRunFailed",
    );
}

#[test]
fn alarm_dimension_drift_is_caught() {
    let custom = mutated(
        "SELECT MIN(QuotaRemainingRatio) FROM SCHEMA(Kizuna, Municipality)",
        "SELECT MIN(QuotaRemainingRatio) FROM SCHEMA(Kizuna, Town)",
    );
    assert_catches(custom_metrics, &custom, "dimensions [\"Town\"]");
    assert_catches(alarms, &custom, "QuotaLowAlarm: watches");
    // An AWS metric's dimension: HTTP API metrics are per ApiId, not ApiName.
    let aws = mutated_nth("- Name: ApiId", "- Name: ApiName", 0);
    assert_catches(alarms, &aws, "WebhookApi5xxAlarm: watches");
}

#[test]
fn alarm_statistic_drift_is_caught() {
    // The lowest town's ratio decides; an average would hide one town running out.
    let custom = mutated(
        "SELECT MIN(QuotaRemainingRatio)",
        "SELECT AVG(QuotaRemainingRatio)",
    );
    assert_catches(alarms, &custom, "QuotaLowAlarm: watches");
    let aws = mutated_nth(
        "      Statistic: Maximum\n",
        "      Statistic: Average\n",
        0,
    );
    assert_catches(alarms, &aws, "SendDeadLetterQueueAlarm: watches");
}

#[test]
fn alarm_threshold_drift_is_caught() {
    // The counters are 1 per event: a threshold of 1 with GreaterThan would wait for two.
    let bad = mutated(
        "Label: MunicipalityRunLate\n          Expression: SELECT SUM(MunicipalityRunLate) FROM SCHEMA(Kizuna, Municipality)\n          Period: 300\n          ReturnData: true\n      EvaluationPeriods: 1\n      Threshold: 0\n",
        "Label: MunicipalityRunLate\n          Expression: SELECT SUM(MunicipalityRunLate) FROM SCHEMA(Kizuna, Municipality)\n          Period: 300\n          ReturnData: true\n      EvaluationPeriods: 1\n      Threshold: 1\n",
    );
    assert_catches(
        alarms,
        &bad,
        "MunicipalityRunLateAlarm: threshold Some(1.0)",
    );
    // The quota threshold is a parameter; its default is what is checked.
    let parameter = mutated("    Default: 0.1\n", "    Default: 1000\n");
    assert_catches(alarms, &parameter, "QuotaLowAlarm: threshold Some(1000.0)");
}

#[test]
fn alarm_operator_drift_is_caught() {
    let bad = mutated(
        "      Threshold: !Ref QuotaLowRatio\n      ComparisonOperator: LessThanThreshold\n",
        "      Threshold: !Ref QuotaLowRatio\n      ComparisonOperator: GreaterThanThreshold\n",
    );
    assert_catches(alarms, &bad, "QuotaLowAlarm: operator GreaterThanThreshold");
}

#[test]
fn liveness_alarm_that_ignores_missing_data_is_caught() {
    // No invocation means no data point: notBreaching would never fire.
    let bad = mutated(
        "TreatMissingData: breaching",
        "TreatMissingData: notBreaching",
    );
    assert_catches(alarms, &bad, "SchedulerNotInvokedAlarm: TreatMissingData");
}

#[test]
fn an_unknown_or_removed_alarm_is_caught() {
    let extra = with_resource(
        "  ExtraAlarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Namespace: AWS/SQS\n      MetricName: NumberOfMessagesSent\n      Statistic: Sum\n      Period: 300\n      EvaluationPeriods: 1\n      Threshold: 0\n      ComparisonOperator: GreaterThanThreshold\n",
    );
    assert_catches(
        alarms,
        &extra,
        "ExtraAlarm: an alarm the checks do not know",
    );
    let removed = mutated("  MunicipalityRunNoProgressAlarm:\n", "  SomethingElse:\n");
    assert_catches(
        alarms,
        &removed,
        "MunicipalityRunNoProgressAlarm: alarm missing",
    );
}

// --- Roles ------------------------------------------------------------------------------------

#[test]
fn a_function_without_its_own_role_is_caught() {
    let no_role = with_resource(
        "  ReportFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Description: a new function that forgot its role\n      MemorySize: 128\n",
    );
    assert_catches(
        roles,
        &no_role,
        "ReportFunction: no `Role: !GetAtt <Role>.Arn`",
    );
    let borrowed = with_resource(
        "  ReportFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Role: !GetAtt SenderRole.Arn\n",
    );
    assert_catches(roles, &borrowed, "SenderRole is shared by");
    let sam_policies = with_resource(
        "  ReportRole:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Statement:\n          - Effect: Allow\n            Principal:\n              Service: lambda.amazonaws.com\n            Action: sts:AssumeRole\n  ReportFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Role: !GetAtt ReportRole.Arn\n      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref HouseholdsTable\n",
    );
    assert_catches(roles, &sam_policies, "ReportFunction: SAM `Policies`");
    // Its own role, but nobody wrote down what it may touch.
    assert_catches(
        roles,
        &sam_policies,
        "ReportFunction: no least-privilege expectation",
    );
}

#[test]
fn a_role_reaching_another_functions_resource_is_caught() {
    let bad = mutated(
        "              - Sid: ReadContentPacks\n                Effect: Allow\n                Action:\n                  - s3:GetObject\n                Resource: !Sub ${ContentBucket.Arn}/*\n",
        "              - Sid: ReadContentPacks\n                Effect: Allow\n                Action:\n                  - s3:GetObject\n                Resource: !Sub ${ContentBucket.Arn}/*\n              - Sid: ReadEvents\n                Effect: Allow\n                Action:\n                  - dynamodb:GetItem\n                Resource: !GetAtt WebhookEventsTable.Arn\n",
    );
    assert_catches(roles, &bad, "SenderFunction (SenderRole) names");
}

#[test]
fn a_role_gaining_partiql_writes_is_caught() {
    for action in [
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLDelete",
    ] {
        let bad = mutated(
            "                Action:\n                  - dynamodb:Scan\n",
            &format!("                Action:\n                  - dynamodb:Scan\n                  - {action}\n"),
        );
        assert_catches(
            iam_scope_violations,
            &bad,
            &format!("PartiQL write action `{action}`"),
        );
    }
}

// --- Queue and tables -------------------------------------------------------------------------

#[test]
fn a_send_batch_size_above_one_is_caught() {
    let bad = mutated("            BatchSize: 1\n", "            BatchSize: 10\n");
    assert_catches(
        event_source_drift,
        &bad,
        "SenderFunction.SendJobs: BatchSize Some(10.0)",
    );
    // Misspelt partial-batch setting: neither linter notices.
    let misspelt = mutated("FunctionResponseTypes:", "FunctionResponseType:");
    assert_catches(
        event_source_drift,
        &misspelt,
        "FunctionResponseTypes must be",
    );
}

#[test]
fn removed_deletion_protection_is_caught_on_every_table() {
    for (nth, table) in [
        "MunicipalitiesTable",
        "HouseholdsTable",
        "WebhookEventsTable",
        "DeliveriesTable",
    ]
    .into_iter()
    .enumerate()
    {
        let removed = mutated_nth("      DeletionProtectionEnabled: true\n", "", nth);
        assert_catches(
            table_protection_drift,
            &removed,
            &format!("{table}: DeletionProtectionEnabled must be true"),
        );
    }
    let off = mutated_nth(
        "DeletionProtectionEnabled: true",
        "DeletionProtectionEnabled: false",
        1,
    );
    assert_catches(
        table_protection_drift,
        &off,
        "HouseholdsTable: DeletionProtectionEnabled",
    );
}
