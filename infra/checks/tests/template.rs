//! Checks on infra/template.yaml that cfn-lint and `sam validate --lint` do not make.
//! (tests/mutations.rs shows that the drift checks used here fail on a broken template.)

mod common;

use std::collections::BTreeSet;

use common::{expected_alarms, expected_role_resources, ids, template, TOPIC};
use kizuna_app::metrics;
use kizuna_aws::{env_var, schema};
use kizuna_infra_checks::{
    alarm_drift, custom_metric_drift, event_source_drift, function_role_drift,
    iam_scope_violations, referenced_ids, repo_root, table_protection_drift, Template, Value,
};

const FUNCTIONS: [&str; 3] = ["WebhookFunction", "SchedulerFunction", "SenderFunction"];
const TABLES: [&str; 4] = [
    "MunicipalitiesTable",
    "HouseholdsTable",
    "WebhookEventsTable",
    "DeliveriesTable",
];

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

/// Each function its own role, naming exactly its own resources (common.rs lists them);
/// the function list is the template's, so a new function must be added there too.
#[test]
fn each_function_has_its_own_least_privilege_role() {
    let t = template();
    assert_eq!(
        t.functions().into_iter().collect::<BTreeSet<_>>(),
        FUNCTIONS.into_iter().collect()
    );
    let problems = function_role_drift(&t, &expected_role_resources());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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
        // The scheduler: the daily retention purge's conditional deletes.
        ("HouseholdsTable", ids(&["WebhookRole", "SchedulerRole"])),
        ("WebhookEventsTable", ids(&["WebhookRole"])),
        // The webhook: a BatchWriteItem of deletes of a parent's ledger items on 削除.
        (
            "DeliveriesTable",
            ids(&["SchedulerRole", "SenderRole", "WebhookRole"]),
        ),
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
fn secrets_are_readable_only_under_the_stages_prefix() {
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
        // The '/' after the stage: `kizuna/prod*` would also match `kizuna/prod2/...`.
        assert!(arn.contains(":secret:kizuna/${Stage}/*"), "{role}: {arn}");
    }
    assert!(
        !t.statements_of("SchedulerRole")
            .iter()
            .any(|s| s.actions.iter().any(|a| a.starts_with("secretsmanager:"))),
        "the scheduler never talks to LINE"
    );
    // The functions look their secrets up under the same prefix.
    let prefix = t
        .function_property("WebhookFunction", "Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(|v| v.get(env_var::SECRET_PREFIX))
        .unwrap();
    assert_eq!(
        format!("{prefix:?}"),
        format!("{:?}", sub("kizuna/${Stage}/"))
    );
    // A stage name cannot contain '/' or be empty, so one stage's prefix is never a prefix
    // of another's.
    let pattern = string(
        t.root()
            .get("Parameters")
            .and_then(|p| p.get("Stage"))
            .and_then(|p| p.get("AllowedPattern")),
    );
    let pattern = regex_lite::Regex::new(pattern).unwrap();
    for ok in ["prod", "staging", "dev-2"] {
        assert!(pattern.is_match(ok), "{ok}");
    }
    for bad in ["", "prod/x", "Prod", "a/../b"] {
        assert!(!pattern.is_match(bad), "{bad:?}");
    }
    // The CLI, run without KIZUNA_SECRET_PREFIX, writes where the default stage reads.
    let default_stage = string(
        t.root()
            .get("Parameters")
            .and_then(|p| p.get("Stage"))
            .and_then(|p| p.get("Default")),
    );
    assert_eq!(
        format!("kizuna/{default_stage}/"),
        kizuna_aws::DEFAULT_SECRET_PREFIX
    );
}

/// The researchers' pseudonym key (`kizuna survey export`): generated, encrypted, retained,
/// named as kizuna-aws expects, and out of every function's reach — by name (outside the
/// functions' prefix), by resource policy (each function role denied), and by
/// configuration (no function is given its name).
#[test]
fn the_research_key_is_generated_retained_and_readable_by_no_function() {
    let t = template();
    let id = "ResearchPseudonymKey";
    assert_eq!(t.resource_type(id), Some("AWS::SecretsManager::Secret"));
    let resource = t.resource(id).unwrap();
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        assert_eq!(string(resource.get(policy)), "Retain", "{policy}");
    }
    assert_eq!(
        string(t.property(id, &["KmsKeyId"])),
        "alias/aws/secretsmanager"
    );
    let length = int(t.property(id, &["GenerateSecretString", "PasswordLength"]));
    assert!(length as usize >= kizuna_core::survey_export::MIN_KEY_BYTES * 2);
    assert!(
        t.property(id, &["SecretString"]).is_none(),
        "never typed in"
    );

    // The name the CLI reads: the namespaced one for stage kizuna-${Stage}, and for the
    // default stage the CLI's default.
    let name = t.property(id, &["Name"]).unwrap();
    let config = kizuna_aws::Config::for_namespace("kizuna-${Stage}", None, "http://q", "http://l");
    assert_eq!(
        format!("{name:?}"),
        format!("{:?}", sub(&config.survey_key_secret))
    );
    let default_stage = string(
        t.root()
            .get("Parameters")
            .and_then(|p| p.get("Stage"))
            .and_then(|p| p.get("Default")),
    );
    assert_eq!(
        config.survey_key_secret.replace("${Stage}", default_stage),
        kizuna_aws::DEFAULT_SURVEY_KEY_SECRET
    );
    let output = t
        .root()
        .get("Outputs")
        .and_then(|o| o.get("SurveyKeySecretName"))
        .and_then(|o| o.get("Value"))
        .expect("SurveyKeySecretName output");
    assert_eq!(output, name);

    // Outside the only prefix any function may read (`kizuna/${Stage}/*`,
    // secrets_are_readable_only_under_the_stages_prefix), and no Allow names it.
    assert!(!config.survey_key_secret.starts_with("kizuna/"));
    for statement in t.statements().iter().filter(|s| s.is_allow()) {
        let resources = format!("{:?}", statement.resources);
        assert!(
            !resources.contains("research") && !resources.contains(id),
            "{} / {:?} reaches the research key",
            statement.owner,
            statement.sid
        );
    }

    // The resource policy denies every function role everything on it.
    let policy = t
        .ids_of_type("AWS::SecretsManager::ResourcePolicy")
        .into_iter()
        .find(|p| referenced_ids(t.property(p, &["SecretId"]).unwrap()) == ids(&[id]))
        .expect("a resource policy on the research key");
    assert_eq!(
        t.property(policy, &["BlockPublicPolicy"]),
        Some(&Value::from(true))
    );
    let deny = t
        .statements_of(policy)
        .into_iter()
        .find(|s| s.effect == "Deny")
        .expect("a Deny statement");
    assert!(
        deny.actions.iter().any(|a| a == "secretsmanager:*"),
        "{:?}",
        deny.actions
    );
    let principals = t
        .property(policy, &["ResourcePolicy", "Statement"])
        .and_then(Value::as_sequence)
        .unwrap()
        .iter()
        .find(|s| s.get("Effect") == Some(&Value::from("Deny")))
        .and_then(|s| s.get("Principal"))
        .and_then(|p| p.get("AWS"))
        .unwrap();
    let roles: BTreeSet<String> = FUNCTIONS
        .iter()
        .map(|f| {
            let role = t.function_property(f, "Role").unwrap();
            referenced_ids(role).into_iter().next().unwrap()
        })
        .collect();
    assert_eq!(referenced_ids(principals), roles);

    // No function is given the key's name.
    let global = t
        .root()
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(|f| f.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .unwrap();
    assert!(global.get(env_var::SURVEY_KEY_SECRET).is_none());
    for function in FUNCTIONS {
        let own = t.property(function, &["Environment", "Variables"]);
        assert!(own
            .and_then(|v| v.get(env_var::SURVEY_KEY_SECRET))
            .is_none());
    }
}

/// `!Sub text` as serde_yaml reads it.
fn sub(text: &str) -> Value {
    serde_yaml::from_str(&format!("!Sub {text}")).unwrap()
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
        (env_var::LINE_API_BASE, "LineApiBase"),
        (env_var::TABLE_MUNICIPALITIES, "MunicipalitiesTable"),
        (env_var::TABLE_HOUSEHOLDS, "HouseholdsTable"),
        (env_var::TABLE_EVENTS, "WebhookEventsTable"),
        (env_var::TABLE_DELIVERIES, "DeliveriesTable"),
        (env_var::CONTENT_BUCKET, "ContentBucket"),
        (env_var::SEND_QUEUE_URL, "SendQueue"),
        (env_var::SECRET_PREFIX, "Stage"),
        (env_var::WARM_UP_AT_INIT, "WarmUpAtInit"),
    ];
    // Every variable Config reads (as `to_env` lists them) is in the list above, so a new
    // setting cannot reach the code without reaching the template. AWS_ENDPOINT_URL is for
    // emulators only; Lambda must not have it.
    let config = kizuna_aws::Config::for_namespace("t", None, "http://q/1", "http://l");
    let read: BTreeSet<&str> = config.to_env().into_iter().map(|(name, _)| name).collect();
    let listed: BTreeSet<&str> = expected.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        read, listed,
        "Config::to_env and the template's list differ"
    );
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
fn scheduler_ticks_hourly_and_purges_daily_in_japan_time_with_a_dead_letter_queue() {
    let t = template();
    let events = t
        .property("SchedulerFunction", &["Events"])
        .and_then(Value::as_mapping)
        .unwrap();
    assert_eq!(events.len(), 2);
    // (event, cron, the input functions/scheduler deserialises)
    let expected = [
        (
            "HourlyTick",
            "cron(0 * * * ? *)",
            serde_json::json!({ "scheduled_time": "<aws.scheduler.scheduled-time>" }),
        ),
        (
            "DailyPurge",
            "cron(30 3 * * ? *)",
            serde_json::json!({ "task": "purge", "scheduled_time": "<aws.scheduler.scheduled-time>" }),
        ),
    ];
    for (name, cron, input) in expected {
        let event = events.get(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(string(event.get("Type")), "ScheduleV2");
        let props = event.get("Properties").unwrap();
        assert_eq!(string(props.get("ScheduleExpression")), cron, "{name}");
        assert_eq!(
            string(props.get("ScheduleExpressionTimezone")),
            "Asia/Tokyo"
        );
        assert_eq!(
            string(props.get("FlexibleTimeWindow").and_then(|f| f.get("Mode"))),
            "OFF"
        );
        // Without OmitName a second stack in the account would collide on the name.
        assert_eq!(props.get("OmitName").and_then(Value::as_bool), Some(true));
        let parsed: serde_json::Value = serde_json::from_str(string(props.get("Input"))).unwrap();
        assert_eq!(parsed, input, "{name}");
        assert!(
            int(props
                .get("RetryPolicy")
                .and_then(|r| r.get("MaximumRetryAttempts")))
                >= 1,
            "{name}"
        );
        assert_eq!(
            referenced_ids(
                props
                    .get("DeadLetterConfig")
                    .and_then(|d| d.get("Arn"))
                    .unwrap()
            ),
            ids(&["ScheduleDeadLetterQueue"]),
            "{name}"
        );
    }
    // The purge's IAM: Query and DeleteItem on the households table itself, nothing else.
    let purge = t
        .statements_of("SchedulerRole")
        .into_iter()
        .filter(|s| s.referenced_ids().contains("HouseholdsTable"))
        .collect::<Vec<_>>();
    assert_eq!(purge.len(), 1);
    assert_eq!(purge[0].actions, ["dynamodb:Query", "dynamodb:DeleteItem"]);
    assert_eq!(
        purge[0].resources,
        [serde_yaml::from_str::<Value>("!GetAtt HouseholdsTable.Arn").unwrap()]
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
    // One job per invocation (the timeout and visibility are sized for one job).
    let problems = event_source_drift(&t);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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
    let problems = table_protection_drift(&t);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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
fn alarms_watch_what_the_code_emits_and_notify_the_topic() {
    let t = template();
    let problems = alarm_drift(&t, &expected_alarms(), TOPIC);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let problems = custom_metric_drift(
        &t,
        metrics::NAMESPACE,
        &[metrics::DIMENSION],
        metrics::ALL,
        metrics::ALARMED,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The EMF records carry exactly this namespace and dimension set; an alarm on any other
    // dimension set would never see a data point.
    let record = metrics::emf_record(
        "town",
        chrono::DateTime::UNIX_EPOCH,
        &[(metrics::QUOTA_REMAINING_RATIO, 1.0)],
    );
    let emf = &record["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(emf["Namespace"], metrics::NAMESPACE);
    assert_eq!(emf["Dimensions"], serde_json::json!([[metrics::DIMENSION]]));
    // The quota threshold is a share of the limit.
    let ratio = t
        .root()
        .get("Parameters")
        .and_then(|p| p.get("QuotaLowRatio"))
        .unwrap();
    assert_eq!(
        t.number(ratio.get("Default").unwrap()),
        Some(common::QUOTA_LOW_RATIO_DEFAULT)
    );
    assert_eq!(t.number(ratio.get("MaxValue").unwrap()), Some(1.0));
    // The e-mail subscription exists only when an address was given.
    let subscription = t.resource("AlarmEmailSubscription").unwrap();
    assert_eq!(string(subscription.get("Condition")), "HasAlarmEmail");
}

/// docs/operations.md has one row per alarm (what it means, what to do first).
#[test]
fn every_alarm_has_a_row_in_the_operator_guide() {
    let t = template();
    let guide = std::fs::read_to_string(repo_root().join("docs/operations.md")).unwrap();
    for alarm in t.ids_of_type("AWS::CloudWatch::Alarm") {
        let name = string(t.property(alarm, &["AlarmName"]));
        // `!Sub kizuna-${Stage}-send-dlq` -> the row starts with `| send-dlq |`.
        let short = name.trim_start_matches("kizuna-${Stage}-");
        assert!(
            guide.contains(&format!("| `{short}` |")),
            "docs/operations.md has no row for {alarm} (`{short}`)"
        );
    }
}

#[test]
fn webhook_api_logs_requests_without_bodies_or_addresses() {
    let t = template();
    let settings = t.property("WebhookApi", &["AccessLogSettings"]).unwrap();
    assert_eq!(
        referenced_ids(settings.get("DestinationArn").unwrap()),
        ids(&["WebhookAccessLogGroup"])
    );
    assert_eq!(
        referenced_ids(
            t.property("WebhookAccessLogGroup", &["RetentionInDays"])
                .unwrap()
        ),
        ids(&["LogRetentionDays"])
    );
    let format: serde_json::Value =
        serde_json::from_str(string(settings.get("Format"))).expect("JSON access log format");
    let fields: Vec<&str> = format
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap())
        .collect();
    for wanted in [
        "$context.requestId",
        "$context.routeKey",
        "$context.status",
        "$context.integrationErrorMessage",
        "$context.responseLatency",
    ] {
        assert!(fields.contains(&wanted), "access log lacks {wanted}");
    }
    for field in &fields {
        for personal in ["identity", "sourceIp", "userAgent", "body", "authorizer"] {
            assert!(!field.contains(personal), "access log has {field}");
        }
    }
}

// --- Environments ----------------------------------------------------------------------------

/// Resource types that take tags, and (explicitly) those that do not, so a new kind of
/// resource forces a decision.
const TAGGED_AS_LIST: [&str; 8] = [
    "AWS::DynamoDB::Table",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Alarm",
    "AWS::IAM::Role",
];
const TAGGED_AS_MAP: [&str; 2] = ["AWS::Serverless::Function", "AWS::Serverless::HttpApi"];
const NOT_TAGGABLE: [&str; 3] = [
    "AWS::SNS::Subscription",
    "AWS::S3::BucketPolicy",
    "AWS::SecretsManager::ResourcePolicy",
];

#[test]
fn everything_taggable_is_tagged_with_project_and_stage() {
    let t = template();
    let stage: Value = serde_yaml::from_str("!Ref Stage").unwrap();
    for (id, resource) in t.resources() {
        let kind = string(resource.get("Type"));
        let tags: Vec<(String, Value)> = if TAGGED_AS_LIST.contains(&kind) {
            t.property(id, &["Tags"])
                .and_then(Value::as_sequence)
                .unwrap_or_else(|| panic!("{id} has no Tags"))
                .iter()
                .map(|tag| {
                    (
                        string(tag.get("Key")).to_owned(),
                        tag.get("Value").unwrap().clone(),
                    )
                })
                .collect()
        } else if TAGGED_AS_MAP.contains(&kind) {
            let tags = if kind == "AWS::Serverless::Function" {
                t.function_property(id, "Tags")
            } else {
                t.property(id, &["Tags"])
            };
            tags.and_then(Value::as_mapping)
                .unwrap_or_else(|| panic!("{id} has no Tags"))
                .iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
                .collect()
        } else {
            assert!(
                NOT_TAGGABLE.contains(&kind),
                "{id}: is {kind} taggable? add it to a list in this test"
            );
            continue;
        };
        assert!(
            tags.contains(&("Project".to_owned(), Value::from("kizuna"))),
            "{id}: {tags:?}"
        );
        assert!(
            tags.contains(&("Stage".to_owned(), stage.clone())),
            "{id}: {tags:?}"
        );
    }
}

/// Every name a second stage in the same account could collide with contains the stage.
#[test]
fn resource_names_are_derived_from_the_stage() {
    let t = template();
    let named = [
        ("TableName", "AWS::DynamoDB::Table"),
        ("QueueName", "AWS::SQS::Queue"),
        ("LogGroupName", "AWS::Logs::LogGroup"),
        ("TopicName", "AWS::SNS::Topic"),
        ("AlarmName", "AWS::CloudWatch::Alarm"),
        ("FunctionName", "AWS::Serverless::Function"),
    ];
    for (property, kind) in named {
        for id in t.ids_of_type(kind) {
            let name = t
                .property(id, &[property])
                .unwrap_or_else(|| panic!("{id} has no {property}"));
            assert_eq!(referenced_ids(name), ids(&["Stage"]), "{id}.{property}");
        }
    }
    // The names the local stack and tests use (Config::for_namespace) are the deployed
    // ones for namespace kizuna-{Stage}.
    let config = kizuna_aws::Config::for_namespace("kizuna-${Stage}", None, "http://q", "http://l");
    let expected = [
        (
            "MunicipalitiesTable",
            "TableName",
            config.tables.municipalities.as_str(),
        ),
        (
            "HouseholdsTable",
            "TableName",
            config.tables.households.as_str(),
        ),
        (
            "WebhookEventsTable",
            "TableName",
            config.tables.events.as_str(),
        ),
        (
            "DeliveriesTable",
            "TableName",
            config.tables.deliveries.as_str(),
        ),
        ("SendQueue", "QueueName", config.send_queue_name()),
    ];
    for (id, property, name) in expected {
        assert_eq!(
            format!("{:?}", t.property(id, &[property]).unwrap()),
            format!("{:?}", sub(name)),
            "{id}"
        );
    }
}

#[test]
fn line_api_base_must_be_https() {
    let t = template();
    let pattern = string(
        t.root()
            .get("Parameters")
            .and_then(|p| p.get("LineApiBase"))
            .and_then(|p| p.get("AllowedPattern")),
    );
    let pattern = regex_lite::Regex::new(pattern).unwrap();
    assert!(pattern.is_match(kizuna_aws::DEFAULT_LINE_API_BASE));
    for bad in [
        "http://api.line.me",
        "http://127.0.0.1:9",
        "https://api.line.me/",
        "https://api.line.me/v2",
        "ftp://x",
    ] {
        assert!(!pattern.is_match(bad), "{bad}");
    }
}

#[test]
fn samconfig_has_prod_and_staging_with_their_stage_and_builds_without_a_prompt() {
    let text = std::fs::read_to_string(repo_root().join("infra/samconfig.toml")).unwrap();
    let config: toml::Value = toml::from_str(&text).unwrap();
    let mut stacks = BTreeSet::new();
    for (env, stage) in [("default", "prod"), ("staging", "staging")] {
        let section = |command: &str| {
            config
                .get(env)
                .and_then(|e| e.get(command))
                .and_then(|c| c.get("parameters"))
                .unwrap_or_else(|| panic!("[{env}.{command}.parameters]"))
        };
        // rust-cargolambda is a SAM beta feature: without this `sam build` prompts.
        assert_eq!(
            section("build")
                .get("beta_features")
                .and_then(toml::Value::as_bool),
            Some(true),
            "{env}"
        );
        let overrides = section("deploy")
            .get("parameter_overrides")
            .and_then(toml::Value::as_str)
            .unwrap();
        assert!(
            overrides
                .split_whitespace()
                .any(|p| p == format!("Stage={stage}")),
            "{env}: {overrides}"
        );
        let stack = section("global")
            .get("stack_name")
            .and_then(toml::Value::as_str)
            .unwrap();
        assert!(
            stacks.insert(stack.to_owned()),
            "{env} reuses stack {stack}"
        );
    }
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

/// The same for the ledger's batched delete: the webhook forgets a parent's delivery-ledger
/// items on 削除 (`DeliveryLedger::forget_user`, one BatchWriteItem of deletes), so the
/// webhook's role must allow BatchWriteItem on the deliveries table (and nothing that puts).
#[test]
fn the_ledger_forget_on_delete_is_granted_to_the_webhook() {
    let t = template();
    let deliveries = include_str!("../../../crates/kizuna-aws/src/deliveries.rs");
    assert!(
        deliveries.contains("async fn forget_user") && deliveries.contains(".batch_write_item()"),
        "forget_user no longer batches its deletes; update this check"
    );
    assert!(
        include_str!("../../../crates/kizuna-app/src/webhook.rs").contains(".forget_user("),
        "the webhook no longer forgets the ledger on 削除; update this check"
    );
    let on_deliveries: Vec<String> = t
        .statements_of("WebhookRole")
        .iter()
        .filter(|s| {
            s.effect == "Allow"
                && s.resources
                    .iter()
                    .any(|r| format!("{r:?}").contains("DeliveriesTable"))
        })
        .flat_map(|s| s.actions.clone())
        .collect();
    assert!(
        on_deliveries.iter().any(|a| a == "dynamodb:BatchWriteItem"),
        "WebhookRole needs dynamodb:BatchWriteItem on DeliveriesTable: {on_deliveries:?}"
    );
    assert!(
        !on_deliveries
            .iter()
            .any(|a| a == "dynamodb:PutItem" || a == "dynamodb:UpdateItem"),
        "WebhookRole may only delete on DeliveriesTable: {on_deliveries:?}"
    );
}

/// The sender commits each page with TransactWriteItems. IAM has no action of that name: it
/// checks each item's own action (Put → `dynamodb:PutItem`, Update → `dynamodb:UpdateItem`),
/// and moto checks neither, so a missing grant would only fail on AWS.
#[test]
fn the_senders_page_commit_is_granted_to_the_sender() {
    let t = template();
    let deliveries = include_str!("../../../crates/kizuna-aws/src/deliveries.rs");
    assert!(
        deliveries.contains(".transact_write_items()")
            && deliveries.contains("Put::builder()")
            && deliveries.contains("Update::builder()"),
        "the page commit changed shape; update this check"
    );
    let granted: Vec<String> = t
        .statements_of("SenderRole")
        .iter()
        .filter(|s| {
            s.effect == "Allow"
                && s.resources.iter().any(|r| {
                    let r = format!("{r:?}");
                    r.contains("DeliveriesTable") && !r.contains("/index/")
                })
        })
        .flat_map(|s| s.actions.clone())
        .collect();
    for action in ["dynamodb:PutItem", "dynamodb:UpdateItem"] {
        assert!(
            granted.iter().any(|a| a == action),
            "SenderRole needs {action} on DeliveriesTable for the page commit: {granted:?}"
        );
    }
}

/// The webhook counts follow events (`DynamoFollowTally::count_once`) with one
/// TransactWriteItems of a Put (the event's marker) and an Update (the town's monthly
/// counter), both on the webhook events table: IAM checks PutItem and UpdateItem there, and
/// moto checks neither. The tally needs no other table.
#[test]
fn the_follow_tally_is_granted_to_the_webhook() {
    let t = template();
    let follows = include_str!("../../../crates/kizuna-aws/src/follows.rs");
    assert!(
        follows.contains(".transact_write_items()")
            && follows.contains("Put::builder()")
            && follows.contains("Update::builder()")
            && follows.contains("existing_items("),
        "the follow tally changed shape; update this check"
    );
    let compose = include_str!("../../../crates/kizuna-aws/src/compose.rs");
    assert!(
        compose.contains("DynamoFollowTally::new(\n        clients.dynamodb.clone(),\n        &config.tables.events,"),
        "the follow tally moved to another table; update this check and the template"
    );
    assert!(
        include_str!("../../../crates/kizuna-app/src/webhook.rs").contains(".count_once("),
        "the webhook no longer counts follows; update this check"
    );
    let granted: Vec<String> = t
        .statements_of("WebhookRole")
        .iter()
        .filter(|s| {
            s.effect == "Allow"
                && s.resources
                    .iter()
                    .any(|r| format!("{r:?}").contains("WebhookEventsTable"))
        })
        .flat_map(|s| s.actions.clone())
        .collect();
    for action in ["dynamodb:PutItem", "dynamodb:UpdateItem"] {
        assert!(
            granted.iter().any(|a| a == action),
            "WebhookRole needs {action} on WebhookEventsTable for the follow tally: {granted:?}"
        );
    }
}
