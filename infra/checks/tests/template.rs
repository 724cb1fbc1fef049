//! Checks on infra/template.yaml that cfn-lint and `sam validate --lint` do not make.

use std::collections::BTreeSet;

use kizuna_aws::schema;
use kizuna_infra_checks::{iam_scope_violations, referenced_ids, repo_root, Template, Value};

const FUNCTIONS: [&str; 3] = ["WebhookFunction", "SchedulerFunction", "SenderFunction"];
const TABLES: [&str; 4] = [
    "MunicipalitiesTable",
    "HouseholdsTable",
    "WebhookEventsTable",
    "DeliveriesTable",
];

fn template() -> Template {
    Template::kizuna().expect("infra/template.yaml parses")
}

fn ids(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn int(value: Option<&Value>) -> i64 {
    value
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("expected an integer, got {value:?}"))
}

fn string(value: Option<&Value>) -> &str {
    value
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("expected a string, got {value:?}"))
}

// --- IAM -----------------------------------------------------------------------------------

#[test]
fn iam_allow_statements_name_specific_actions_on_own_resources() {
    let violations = iam_scope_violations(&template());
    assert!(
        violations.is_empty(),
        "unscoped IAM:\n{}",
        violations.join("\n")
    );
}

#[test]
fn iam_checker_catches_each_kind_of_wildcard() {
    // The check above passing means nothing unless the checker can fail: feed it a role
    // with one of each mistake and expect each to be reported.
    let bad = Template::parse(
        r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  BadRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: bad
          PolicyDocument:
            Statement:
              - Sid: Star
                Effect: Allow
                Action: '*'
                Resource: !GetAtt Table.Arn
              - Sid: ServiceStar
                Effect: Allow
                Action: [dynamodb:GetItem, dynamodb:*]
                Resource: !GetAtt Table.Arn
              - Sid: AnyResource
                Effect: Allow
                Action: dynamodb:GetItem
                Resource: '*'
              - Sid: LiteralArn
                Effect: Allow
                Action: dynamodb:GetItem
                Resource: arn:aws:dynamodb:ap-northeast-1:123456789012:table/Other
              - Sid: AllTables
                Effect: Allow
                Action: dynamodb:GetItem
                Resource: !Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*
              - Sid: Negated
                Effect: Allow
                NotAction: iam:*
                Resource: !GetAtt Table.Arn
              - Sid: ExemptIsFine
                Effect: Allow
                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords]
                Resource: '*'
              - Sid: DenyMayUseWildcards
                Effect: Deny
                Action: '*'
                Resource: '*'
"#,
    )
    .unwrap();
    let violations = iam_scope_violations(&bad);
    let flagged: BTreeSet<&str> = violations
        .iter()
        .map(|v| {
            v.split(": ")
                .next()
                .unwrap()
                .trim_start_matches("BadRole / ")
        })
        .collect();
    assert_eq!(
        flagged,
        BTreeSet::from([
            "Star",
            "ServiceStar",
            "AnyResource",
            "LiteralArn",
            "AllTables",
            "Negated"
        ]),
        "{violations:#?}"
    );
}

#[test]
fn each_function_has_its_own_lambda_role_and_no_sam_generated_policies() {
    let t = template();
    let mut roles = BTreeSet::new();
    for function in FUNCTIONS {
        let role = t
            .role_of_function(function)
            .unwrap_or_else(|| panic!("{function} has no Role: !GetAtt <Role>.Arn"));
        assert!(
            roles.insert(role.clone()),
            "{role} is shared between functions"
        );
        // SAM `Policies` on the function would create a second, unchecked role path.
        assert!(
            t.property(function, &["Policies"]).is_none(),
            "{function} has SAM Policies"
        );
        assert!(
            t.property(&role, &["ManagedPolicyArns"]).is_none(),
            "{role} attaches managed policies (AWSLambdaBasicExecutionRole logs to Resource '*')"
        );
        let trust = t
            .property(&role, &["AssumeRolePolicyDocument", "Statement"])
            .and_then(Value::as_sequence)
            .expect("trust policy");
        assert_eq!(trust.len(), 1);
        assert_eq!(
            string(trust[0].get("Principal").and_then(|p| p.get("Service"))),
            "lambda.amazonaws.com"
        );
    }
}

/// What each function's role may name: its own tables, queue, bucket, log group and the
/// secret prefix parameter. Both directions are checked: nothing extra (least privilege)
/// and nothing missing (the function would fail with AccessDenied in production).
#[test]
fn each_function_role_names_exactly_its_own_resources() {
    let t = template();
    let expected = [
        (
            "WebhookFunction",
            ids(&[
                "WebhookLogGroup",
                "MunicipalitiesTable",
                "HouseholdsTable",
                "WebhookEventsTable",
                // 今日のメッセージ plans from the content pack.
                "ContentBucket",
                "SecretPrefix",
            ]),
        ),
        (
            "SchedulerFunction",
            ids(&[
                "SchedulerLogGroup",
                "MunicipalitiesTable",
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
                "SecretPrefix",
            ]),
        ),
    ];
    for (function, expected) in expected {
        let role = t.role_of_function(function).unwrap();
        let named: BTreeSet<String> = t
            .statements_of(&role)
            .iter()
            .flat_map(|s| s.referenced_ids())
            .collect();
        assert_eq!(named, expected, "{function} ({role})");
    }
}

/// Writes per table, per function: a read-only grant silently gaining PutItem is exactly
/// the drift least privilege is about.
#[test]
fn only_the_intended_functions_write_each_table() {
    let t = template();
    let writes = [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    ];
    let expected_writers = [
        ("MunicipalitiesTable", ids(&[])), // the operator CLI writes it, not the functions
        ("HouseholdsTable", ids(&["WebhookRole"])),
        ("WebhookEventsTable", ids(&["WebhookRole"])),
        ("DeliveriesTable", ids(&["SchedulerRole", "SenderRole"])),
    ];
    for (table, expected) in expected_writers {
        let writers: BTreeSet<String> = t
            .statements()
            .into_iter()
            .filter(|s| s.is_allow() && s.referenced_ids().contains(table))
            .filter(|s| s.actions.iter().any(|a| writes.contains(&a.as_str())))
            .map(|s| s.owner)
            .collect();
        assert_eq!(writers, expected, "writers of {table}");
    }
}

#[test]
fn sender_can_query_the_deliverable_index_and_only_read_content() {
    let t = template();
    let statements = t.statements_of("SenderRole");
    let index_query = statements.iter().any(|s| {
        s.actions.iter().any(|a| a == "dynamodb:Query")
            && s.resources
                .iter()
                .any(|r| format!("{r:?}").contains("/index/deliverable"))
    });
    assert!(
        index_query,
        "sender needs dynamodb:Query on HouseholdsTable/index/deliverable"
    );
    let runs_of_the_day = t.statements_of("SchedulerRole").iter().any(|s| {
        s.actions.iter().any(|a| a == "dynamodb:Query")
            && s.resources
                .iter()
                .any(|r| format!("{r:?}").contains("${DeliveriesTable.Arn}/index/runs_by_date"))
    });
    assert!(
        runs_of_the_day,
        "the scheduler lists the day's runs on DeliveriesTable/index/runs_by_date"
    );
    // The webhook reads the content pack too (今日のメッセージ), and only reads it.
    for role in ["SenderRole", "WebhookRole"] {
        let s3_actions: BTreeSet<String> = t
            .statements_of(role)
            .iter()
            .flat_map(|s| s.actions.clone())
            .filter(|a| a.starts_with("s3:"))
            .collect();
        assert_eq!(
            s3_actions,
            BTreeSet::from(["s3:GetObject".to_owned(), "s3:ListBucket".to_owned()]),
            "{role}"
        );
    }
}

#[test]
fn secrets_are_readable_only_under_the_secret_prefix() {
    let t = template();
    for role in ["WebhookRole", "SenderRole"] {
        let secret_statements: Vec<_> = t
            .statements_of(role)
            .into_iter()
            .filter(|s| s.actions.iter().any(|a| a.starts_with("secretsmanager:")))
            .collect();
        assert_eq!(secret_statements.len(), 1, "{role}");
        assert_eq!(
            secret_statements[0].actions,
            ["secretsmanager:GetSecretValue"]
        );
        let arn = format!("{:?}", secret_statements[0].resources);
        assert!(arn.contains(":secret:${SecretPrefix}*"), "{role}: {arn}");
    }
    assert!(
        !t.statements_of("SchedulerRole")
            .iter()
            .any(|s| s.actions.iter().any(|a| a.starts_with("secretsmanager:"))),
        "the scheduler never talks to LINE"
    );

    // An empty prefix would turn `secret:${SecretPrefix}*` into every secret in the account.
    let pattern = string(
        t.root()
            .get("Parameters")
            .and_then(|p| p.get("SecretPrefix"))
            .and_then(|p| p.get("AllowedPattern")),
    );
    let pattern = regex_lite::Regex::new(pattern).unwrap();
    assert!(pattern.is_match("kizuna/line/"));
    assert!(!pattern.is_match(""));
    assert!(
        !pattern.is_match("kizuna"),
        "prefix must end with '/' so kizuna/line-other is not matched"
    );
}

// --- Functions -------------------------------------------------------------------------------

/// `[[bin]]` names declared by the function crates under functions/.
fn function_binaries() -> BTreeSet<String> {
    let mut bins = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let manifest: toml::Value = toml::from_str(&text).unwrap();
        for bin in manifest
            .get("bin")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            bins.insert(
                bin.get("name")
                    .and_then(toml::Value::as_str)
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    bins
}

#[test]
fn functions_are_arm64_al2023_built_by_cargo_lambda_from_existing_binaries() {
    let t = template();
    let binaries = function_binaries();
    let mut named = BTreeSet::new();
    for function in FUNCTIONS {
        assert_eq!(
            string(t.function_property(function, "Runtime")),
            "provided.al2023"
        );
        assert_eq!(
            string(t.function_property(function, "Handler")),
            "bootstrap"
        );
        let arch = t
            .function_property(function, "Architectures")
            .and_then(Value::as_sequence)
            .unwrap();
        assert_eq!(arch, &[Value::from("arm64")]);
        // CodeUri is the workspace root (relative to infra/), where `cargo lambda build` runs.
        let code_uri = string(t.function_property(function, "CodeUri"));
        let code_dir = repo_root()
            .join("infra")
            .join(code_uri)
            .canonicalize()
            .unwrap();
        assert_eq!(code_dir, repo_root().canonicalize().unwrap());
        let metadata = t
            .resource(function)
            .unwrap()
            .get("Metadata")
            .expect("Metadata");
        assert_eq!(string(metadata.get("BuildMethod")), "rust-cargolambda");
        let binary = string(
            metadata
                .get("BuildProperties")
                .and_then(|b| b.get("Binary")),
        );
        assert!(
            binaries.contains(binary),
            "{function}: no [[bin]] named {binary} in functions/*: {binaries:?}"
        );
        named.insert(binary.to_owned());
        // Every function logs JSON into its own log group, whose retention is the parameter.
        let group = t
            .property(function, &["LoggingConfig", "LogGroup"])
            .expect("LoggingConfig.LogGroup");
        let group = referenced_ids(group).into_iter().next().unwrap();
        assert_eq!(t.resource_type(&group), Some("AWS::Logs::LogGroup"));
        assert_eq!(
            string(t.property(function, &["LoggingConfig", "LogFormat"])),
            "JSON"
        );
        assert_eq!(
            referenced_ids(t.property(&group, &["RetentionInDays"]).unwrap()),
            ids(&["LogRetentionDays"])
        );
    }
    assert_eq!(named.len(), FUNCTIONS.len(), "two functions share a binary");
}

#[test]
fn every_function_gets_the_configuration_kizuna_aws_reads() {
    // docs/architecture.md, "Configuration": the contract with kizuna_aws::Config.
    let t = template();
    let expected = [
        ("KIZUNA_LINE_API_BASE", "LineApiBase"),
        ("KIZUNA_TABLE_MUNICIPALITIES", "MunicipalitiesTable"),
        ("KIZUNA_TABLE_HOUSEHOLDS", "HouseholdsTable"),
        ("KIZUNA_TABLE_EVENTS", "WebhookEventsTable"),
        ("KIZUNA_TABLE_DELIVERIES", "DeliveriesTable"),
        ("KIZUNA_CONTENT_BUCKET", "ContentBucket"),
        ("KIZUNA_SEND_QUEUE_URL", "SendQueue"),
        ("KIZUNA_SECRET_PREFIX", "SecretPrefix"),
        ("KIZUNA_WARM_UP_AT_INIT", "WarmUpAtInit"),
    ];
    for function in FUNCTIONS {
        let own = t.property(function, &["Environment", "Variables"]);
        let global = t
            .root()
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"));
        for (name, source) in expected {
            let value = own
                .and_then(|v| v.get(name))
                .or_else(|| global.and_then(|v| v.get(name)));
            let value = value.unwrap_or_else(|| panic!("{function} lacks {name}"));
            assert_eq!(referenced_ids(value), ids(&[source]), "{function} {name}");
        }
    }
}

#[test]
fn warm_up_parameter_defaults_to_what_kizuna_aws_defaults_to() {
    // A deployment that does not set the parameter behaves like a function without the
    // variable: the two defaults must not drift apart.
    let t = template();
    let parameter = t
        .root()
        .get("Parameters")
        .and_then(|p| p.get("WarmUpAtInit"))
        .expect("WarmUpAtInit parameter");
    assert_eq!(
        string(parameter.get("Default")),
        kizuna_aws::DEFAULT_WARM_UP_AT_INIT.to_string()
    );
    let allowed: Vec<&str> = parameter
        .get("AllowedValues")
        .and_then(|v| v.as_sequence())
        .expect("AllowedValues")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(allowed, ["true", "false"]);
}

#[test]
fn webhook_is_post_per_municipality_on_the_http_api() {
    let t = template();
    let event = t
        .property("WebhookFunction", &["Events", "LineWebhook"])
        .unwrap();
    assert_eq!(string(event.get("Type")), "HttpApi");
    let props = event.get("Properties").unwrap();
    assert_eq!(string(props.get("Method")), "POST");
    assert_eq!(string(props.get("Path")), "/webhook/{municipality}");
    assert_eq!(
        referenced_ids(props.get("ApiId").unwrap()),
        ids(&["WebhookApi"])
    );
    let url = format!(
        "{:?}",
        t.root()
            .get("Outputs")
            .and_then(|o| o.get("WebhookBaseUrl"))
            .and_then(|o| o.get("Value"))
            .unwrap()
    );
    assert!(
        url.contains("https://${WebhookApi}.execute-api.") && url.contains("/webhook/"),
        "{url}"
    );
}

#[test]
fn scheduler_ticks_hourly_in_japan_time_with_the_scheduled_time() {
    let t = template();
    let events = t
        .property("SchedulerFunction", &["Events"])
        .and_then(Value::as_mapping)
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = events.values().next().unwrap();
    assert_eq!(string(event.get("Type")), "ScheduleV2");
    let props = event.get("Properties").unwrap();
    assert_eq!(string(props.get("ScheduleExpression")), "cron(0 * * * ? *)");
    assert_eq!(
        string(props.get("ScheduleExpressionTimezone")),
        "Asia/Tokyo"
    );
    assert_eq!(
        string(props.get("FlexibleTimeWindow").and_then(|f| f.get("Mode"))),
        "OFF"
    );
    assert_eq!(props.get("OmitName").and_then(Value::as_bool), Some(true));
    // functions/scheduler deserialises exactly this shape (ScheduledTick).
    let input: serde_json::Value = serde_json::from_str(string(props.get("Input"))).unwrap();
    assert_eq!(
        input,
        serde_json::json!({ "scheduled_time": "<aws.scheduler.scheduled-time>" })
    );
}

// --- Queue -----------------------------------------------------------------------------------

#[test]
fn sender_event_source_reports_batch_item_failures() {
    let t = template();
    let events = t
        .property("SenderFunction", &["Events"])
        .and_then(Value::as_mapping)
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = events.values().next().unwrap();
    assert_eq!(string(event.get("Type")), "SQS");
    let props = event.get("Properties").unwrap();
    assert_eq!(
        referenced_ids(props.get("Queue").unwrap()),
        ids(&["SendQueue"])
    );
    // Spelling matters: neither linter rejects `FunctionResponseType` or a lowercase value,
    // and without it one failed job makes the whole batch retry (duplicate pushes to parents).
    let types = props
        .get("FunctionResponseTypes")
        .and_then(Value::as_sequence)
        .expect("FunctionResponseTypes");
    assert_eq!(types, &[Value::from("ReportBatchItemFailures")]);
    let batch = int(props.get("BatchSize"));
    assert!((1..=10).contains(&batch), "BatchSize {batch}");
}

#[test]
fn send_queue_outlives_sender_retries_and_redrives_to_an_encrypted_dlq() {
    let t = template();
    let timeout = int(t.function_property("SenderFunction", "Timeout"));
    let visibility = int(t.property("SendQueue", &["VisibilityTimeout"]));
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility}s < 6 x sender timeout {timeout}s"
    );
    let redrive = t.property("SendQueue", &["RedrivePolicy"]).unwrap();
    assert_eq!(
        referenced_ids(redrive.get("deadLetterTargetArn").unwrap()),
        ids(&["SendDeadLetterQueue"])
    );
    let receives = int(redrive.get("maxReceiveCount"));
    assert!((2..=10).contains(&receives), "maxReceiveCount {receives}");
    for queue in ["SendQueue", "SendDeadLetterQueue"] {
        assert_eq!(
            t.property(queue, &["SqsManagedSseEnabled"])
                .and_then(Value::as_bool),
            Some(true),
            "{queue}"
        );
    }
    // Failed jobs must stay in the DLQ longer than they would in the source queue.
    assert!(
        int(t.property("SendDeadLetterQueue", &["MessageRetentionPeriod"]))
            > int(t.property("SendQueue", &["MessageRetentionPeriod"]))
    );
}

// --- Data ------------------------------------------------------------------------------------

#[test]
fn tables_have_the_data_model_keys() {
    let t = template();
    let key = |table: &str| -> Vec<(String, String)> {
        t.property(table, &["KeySchema"])
            .and_then(Value::as_sequence)
            .unwrap()
            .iter()
            .map(|k| {
                (
                    string(k.get("AttributeName")).to_owned(),
                    string(k.get("KeyType")).to_owned(),
                )
            })
            .collect()
    };
    let pair = |n: &str, k: &str| (n.to_owned(), k.to_owned());
    // The names kizuna-aws's adapters use (and docs/data-model.md documents).
    assert_eq!(
        key("MunicipalitiesTable"),
        [pair(schema::municipalities::PK, "HASH")]
    );
    assert_eq!(
        key("HouseholdsTable"),
        [
            pair(schema::households::PK, "HASH"),
            pair(schema::households::SK, "RANGE")
        ]
    );
    assert_eq!(
        key("WebhookEventsTable"),
        [pair(schema::events::PK, "HASH")]
    );
    assert_eq!(
        key("DeliveriesTable"),
        [
            pair(schema::deliveries::PK, "HASH"),
            pair(schema::deliveries::SK, "RANGE")
        ]
    );

    // (index name, key attributes, projection) of a table's only GSI.
    let gsi = |table: &str| -> (String, Vec<String>, String) {
        let indexes = t
            .property(table, &["GlobalSecondaryIndexes"])
            .and_then(Value::as_sequence)
            .unwrap();
        assert_eq!(indexes.len(), 1, "{table}");
        let gsi = &indexes[0];
        let key = gsi
            .get("KeySchema")
            .and_then(Value::as_sequence)
            .unwrap()
            .iter()
            .map(|k| string(k.get("AttributeName")).to_owned())
            .collect();
        let projection =
            string(gsi.get("Projection").and_then(|p| p.get("ProjectionType"))).to_owned();
        (string(gsi.get("IndexName")).to_owned(), key, projection)
    };
    let expected = |name: &str, pk: &str, sk: &str| {
        (
            name.to_owned(),
            vec![pk.to_owned(), sk.to_owned()],
            "ALL".to_owned(),
        )
    };
    assert_eq!(
        gsi("HouseholdsTable"),
        expected(
            schema::households::GSI_DELIVERABLE,
            schema::households::SEND_SHARD,
            schema::households::SK
        )
    );
    assert_eq!(
        gsi("DeliveriesTable"),
        expected(
            schema::deliveries::GSI_RUNS_BY_DATE,
            schema::deliveries::RUN_DATE,
            schema::deliveries::RUN_ID
        )
    );
    // All key attributes are strings.
    for table in TABLES {
        for attribute in t
            .property(table, &["AttributeDefinitions"])
            .and_then(Value::as_sequence)
            .unwrap()
        {
            assert_eq!(string(attribute.get("AttributeType")), "S", "{table}");
        }
    }
}

#[test]
fn tables_are_on_demand_recoverable_encrypted_expiring_and_retained() {
    let t = template();
    assert_eq!(
        t.ids_of_type("AWS::DynamoDB::Table")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        TABLES.into_iter().collect()
    );
    for table in TABLES {
        assert_eq!(
            string(t.property(table, &["BillingMode"])),
            "PAY_PER_REQUEST",
            "{table}"
        );
        assert_eq!(
            t.property(
                table,
                &[
                    "PointInTimeRecoverySpecification",
                    "PointInTimeRecoveryEnabled"
                ]
            )
            .and_then(Value::as_bool),
            Some(true),
            "{table} PITR"
        );
        assert_eq!(
            t.property(table, &["SSESpecification", "SSEEnabled"])
                .and_then(Value::as_bool),
            Some(true),
            "{table} SSE"
        );
        assert_eq!(
            string(t.property(table, &["SSESpecification", "SSEType"])),
            "KMS",
            "{table} SSE"
        );
        assert_eq!(
            string(t.property(table, &["TimeToLiveSpecification", "AttributeName"])),
            schema::households::EXPIRES_AT,
            "{table} TTL"
        );
        assert_eq!(
            t.property(table, &["TimeToLiveSpecification", "Enabled"])
                .and_then(Value::as_bool),
            Some(true),
            "{table} TTL"
        );
        let resource = t.resource(table).unwrap();
        assert_eq!(string(resource.get("DeletionPolicy")), "Retain", "{table}");
        assert_eq!(
            string(resource.get("UpdateReplacePolicy")),
            "Retain",
            "{table}"
        );
    }
}

#[test]
fn content_bucket_is_private_versioned_encrypted_and_tls_only() {
    let t = template();
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            t.property("ContentBucket", &["PublicAccessBlockConfiguration", flag])
                .and_then(Value::as_bool),
            Some(true),
            "{flag}"
        );
    }
    assert_eq!(
        string(t.property("ContentBucket", &["VersioningConfiguration", "Status"])),
        "Enabled"
    );
    let encryption = t
        .property(
            "ContentBucket",
            &["BucketEncryption", "ServerSideEncryptionConfiguration"],
        )
        .and_then(Value::as_sequence)
        .unwrap();
    let algorithm = string(
        encryption[0]
            .get("ServerSideEncryptionByDefault")
            .and_then(|d| d.get("SSEAlgorithm")),
    );
    assert!(["AES256", "aws:kms"].contains(&algorithm));
    let rules = t
        .property("ContentBucket", &["LifecycleConfiguration", "Rules"])
        .and_then(Value::as_sequence)
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r.get("NoncurrentVersionExpiration").is_some()),
        "old versions must expire"
    );

    let deny_plain_http = t.statements_of("ContentBucketPolicy").into_iter().any(|s| {
        s.effect == "Deny"
            && s.referenced_ids().contains("ContentBucket")
            && s.resources.len() == 2
            && format!(
                "{:?}",
                t.property("ContentBucketPolicy", &["PolicyDocument"])
            )
            .contains("aws:SecureTransport")
    });
    assert!(
        deny_plain_http,
        "bucket policy must deny requests without TLS"
    );
}

// --- Alarms ----------------------------------------------------------------------------------

#[test]
fn alarms_cover_dlq_errors_throttles_and_run_metrics_and_notify_the_topic() {
    let t = template();
    let alarms = t.ids_of_type("AWS::CloudWatch::Alarm");
    let mut covered = BTreeSet::new();
    for alarm in &alarms {
        if let Some(queries) = t.property(alarm, &["Metrics"]).and_then(Value::as_sequence) {
            // Metrics Insights: `SELECT FN(Metric) FROM SCHEMA(Namespace, Dimension)`.
            assert_eq!(queries.len(), 1, "{alarm}");
            let expression = string(queries[0].get("Expression"));
            let parsed = expression
                .split_once(" FROM SCHEMA(")
                .and_then(|(select, from)| {
                    let metric = select.split_once('(')?.1.strip_suffix(')')?;
                    let (namespace, dimension) = from.strip_suffix(')')?.split_once(", ")?;
                    Some(format!("{namespace}/{metric}/{dimension}"))
                });
            covered
                .insert(parsed.unwrap_or_else(|| panic!("{alarm}: unexpected query {expression}")));
        } else {
            let namespace = string(t.property(alarm, &["Namespace"]));
            let metric = string(t.property(alarm, &["MetricName"]));
            for dimension in referenced_ids(t.property(alarm, &["Dimensions"]).unwrap()) {
                covered.insert(format!("{namespace}/{metric}/{dimension}"));
            }
        }
        assert_eq!(
            referenced_ids(t.property(alarm, &["AlarmActions"]).unwrap()),
            ids(&["AlarmTopic"]),
            "{alarm}"
        );
        assert_eq!(
            string(t.property(alarm, &["TreatMissingData"])),
            "notBreaching",
            "{alarm}"
        );
    }
    // The sender's EMF records (kizuna_app::metrics) carry exactly this namespace and
    // dimension set; an alarm on any other dimension set would never see a data point.
    let record = kizuna_app::metrics::emf_record(
        "town",
        chrono::DateTime::UNIX_EPOCH,
        &[("QuotaRemaining", 1.0)],
    );
    let emf = &record["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(emf["Dimensions"], serde_json::json!([["Municipality"]]));
    let custom = |metric: &str| format!("{}/{metric}/Municipality", kizuna_app::metrics::NAMESPACE);
    let expected = [
        "AWS/SQS/ApproximateNumberOfMessagesVisible/SendDeadLetterQueue".to_owned(),
        "AWS/Lambda/Errors/WebhookFunction".to_owned(),
        "AWS/Lambda/Errors/SchedulerFunction".to_owned(),
        "AWS/Lambda/Errors/SenderFunction".to_owned(),
        "AWS/Lambda/Throttles/SenderFunction".to_owned(),
        custom("MunicipalityRunFailed"),
        custom("MunicipalityRunLate"),
        custom("QuotaRemaining"),
    ];
    for metric in expected {
        assert!(
            covered.contains(&metric),
            "no alarm on {metric}; have {covered:?}"
        );
    }
    // The e-mail subscription exists only when an address was given.
    let subscription = t.resource("AlarmEmailSubscription").unwrap();
    assert_eq!(string(subscription.get("Condition")), "HasAlarmEmail");
}

/// moto does not enforce IAM, so a DynamoDB call added to an adapter without its permission
/// passes every local test and fails only on AWS (as both batched reads once did: the
/// sender's rerun skip of sent deliveries, the webhook's lookup of a redelivered body's done
/// events). Each batched read the code makes must be granted to the function that makes it.
#[test]
fn batched_reads_in_the_adapters_are_granted_to_their_functions() {
    let t = template();
    let cases = [
        (
            include_str!("../../../crates/kizuna-aws/src/deliveries.rs"),
            "SenderRole",
            "DeliveriesTable",
        ),
        (
            include_str!("../../../crates/kizuna-aws/src/events.rs"),
            "WebhookRole",
            "WebhookEventsTable",
        ),
    ];
    assert!(
        include_str!("../../../crates/kizuna-aws/src/batch.rs").contains(".batch_get_item()"),
        "existing_items no longer calls BatchGetItem; update this check"
    );
    for (source, role, table) in cases {
        assert!(
            source.contains("existing_items("),
            "the {table} adapter no longer batches reads; update this check"
        );
        let granted = t.statements_of(role).iter().any(|s| {
            s.effect == "Allow"
                && s.actions.iter().any(|a| a == "dynamodb:BatchGetItem")
                && s.resources.iter().any(|r| {
                    let r = format!("{r:?}");
                    r.contains(table) && !r.contains("/index/")
                })
        });
        assert!(granted, "{role} needs dynamodb:BatchGetItem on {table}");
    }
}
