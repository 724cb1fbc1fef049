//! The local and test stacks are provisioned from infra/template.yaml's own definitions
//! (kizuna_aws::provision): the queue, its dead-letter queue and the bucket on moto have the
//! deployed stack's settings, so tests meet the DLQ path a deployed stack does.

use aws_sdk_sqs::types::QueueAttributeName;
use kizuna_aws::provision::dead_letter_queue_name;
use kizuna_aws::stack_template::StackTemplate;
use kizuna_tests::test_aws;

#[tokio::test]
async fn the_send_queue_has_the_templates_visibility_and_redrive_to_its_dlq() {
    let aws = test_aws().await;
    let definition = StackTemplate::kizuna().unwrap().queue("SendQueue").unwrap();
    let redrive = definition
        .redrive
        .clone()
        .expect("the template's send queue redrives");

    let sqs = &aws.clients.sqs;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&aws.config.send_queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(
        attributes[&QueueAttributeName::VisibilityTimeout],
        definition.visibility_timeout.unwrap().to_string()
    );
    assert_eq!(
        attributes[&QueueAttributeName::MessageRetentionPeriod],
        definition.message_retention_period.unwrap().to_string()
    );
    let dlq_url = sqs
        .get_queue_url()
        .queue_name(dead_letter_queue_name(aws.config.send_queue_name()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let policy: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(policy["deadLetterTargetArn"], dlq_arn.as_str());
    assert_eq!(
        policy["maxReceiveCount"].to_string().trim_matches('"'),
        redrive.max_receive_count.to_string()
    );

    // The DLQ path itself: a job received maxReceiveCount times without being deleted (a
    // sender that keeps failing it) moves to the dead-letter queue.
    sqs.send_message()
        .queue_url(&aws.config.send_queue_url)
        .message_body("a job that always fails")
        .send()
        .await
        .unwrap();
    let mut receives = 0;
    for _ in 0..20 {
        let got = sqs
            .receive_message()
            .queue_url(&aws.config.send_queue_url)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            break;
        }
        receives += 1;
    }
    assert_eq!(receives, redrive.max_receive_count);
    let dead = sqs
        .receive_message()
        .queue_url(&dlq_url)
        .send()
        .await
        .unwrap();
    assert_eq!(dead.messages().len(), 1);
    assert_eq!(dead.messages()[0].body(), Some("a job that always fails"));
}

#[tokio::test]
async fn the_content_bucket_is_versioned_and_encrypted_as_in_the_template() {
    let aws = test_aws().await;
    let definition = StackTemplate::kizuna()
        .unwrap()
        .bucket("ContentBucket")
        .unwrap();
    assert!(definition.versioned);
    let s3 = &aws.clients.s3;
    // Behaviour rather than GetBucketVersioning (moto answers that with an XML root the SDK
    // rejects): an object written twice keeps both versions, and new objects are encrypted
    // with the template's default algorithm.
    for body in ["first", "second"] {
        s3.put_object()
            .bucket(&aws.config.content_bucket)
            .key("probe.toml")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let versions = s3
        .list_object_versions()
        .bucket(&aws.config.content_bucket)
        .prefix("probe.toml")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 2, "{versions:?}");
    let head = s3
        .head_object()
        .bucket(&aws.config.content_bucket)
        .key("probe.toml")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption().map(|e| e.as_str()),
        definition.sse_algorithm.as_deref()
    );
}

#[tokio::test]
async fn tables_have_the_templates_indexes_and_ttl() {
    let aws = test_aws().await;
    let template = StackTemplate::kizuna().unwrap();
    let tables = [
        ("HouseholdsTable", &aws.config.tables.households),
        ("DeliveriesTable", &aws.config.tables.deliveries),
    ];
    for (logical_id, name) in tables {
        let definition = template.table(logical_id).unwrap();
        let described = aws
            .clients
            .dynamodb
            .describe_table()
            .table_name(name.as_str())
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let indexes: Vec<&str> = described
            .global_secondary_indexes()
            .iter()
            .filter_map(|i| i.index_name())
            .collect();
        let expected: Vec<&str> = definition.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(indexes, expected, "{logical_id}");
        let ttl = aws
            .clients
            .dynamodb
            .describe_time_to_live()
            .table_name(name.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(
            ttl.time_to_live_description()
                .and_then(|t| t.attribute_name()),
            definition.ttl_attribute.as_deref(),
            "{logical_id}"
        );
    }
}
