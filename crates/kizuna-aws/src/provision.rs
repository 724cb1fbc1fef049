//! Creates Kizuna's tables, bucket and queues as `infra/template.yaml` declares them — from
//! the template's own resource definitions ([`crate::stack_template`]), so the local stack
//! and the tests meet what a deployed stack has: the send queue's 1,800 s visibility
//! timeout and its redrive to the dead-letter queue after 5 receives, the tables' keys,
//! indexes and TTL, a versioned, encrypted content bucket. Names come from [`Config`] (a
//! namespace per test); which template resource gets which name is [`local_names`].
//! Idempotent: what exists is kept.

use crate::clients::AwsClients;
use crate::config::Config;
use crate::stack_template::{
    KeyElement, KeyRole, QueueDefinition, StackTemplate, TableDefinition, TemplateError,
};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;

#[derive(Debug, thiserror::Error)]
#[error("provisioning {resource}: {message}")]
pub struct ProvisionError {
    pub resource: String,
    pub message: String,
}

fn failed(resource: &str, err: impl std::error::Error) -> ProvisionError {
    ProvisionError {
        resource: resource.to_owned(),
        message: aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string(),
    }
}

impl From<TemplateError> for ProvisionError {
    fn from(e: TemplateError) -> Self {
        Self {
            resource: "infra/template.yaml".into(),
            message: e.to_string(),
        }
    }
}

/// What provisioning produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The URL SQS gave the queue (emulators may spell it differently from the configured one).
    pub send_queue_url: String,
    /// The send queue's dead-letter queue (`{send queue name}-dlq`), where a job goes after
    /// the template's maxReceiveCount receives.
    pub send_dead_letter_queue_url: Option<String>,
}

/// Which template resource is which configured resource locally.
pub struct LocalNames<'a> {
    pub tables: [(&'static str, &'a str); 4],
    pub content_bucket: (&'static str, &'a str),
    pub send_queue: (&'static str, &'a str),
}

/// Template resources with no local counterpart: EventBridge Scheduler is not emulated, so
/// nothing sends to its dead-letter queue.
pub const NOT_PROVISIONED_LOCALLY: &[&str] = &["ScheduleDeadLetterQueue"];

/// The local name of each template resource provisioning creates.
pub fn local_names(config: &Config) -> LocalNames<'_> {
    LocalNames {
        tables: [
            ("MunicipalitiesTable", &config.tables.municipalities),
            ("HouseholdsTable", &config.tables.households),
            ("WebhookEventsTable", &config.tables.events),
            ("DeliveriesTable", &config.tables.deliveries),
        ],
        content_bucket: ("ContentBucket", &config.content_bucket),
        send_queue: ("SendQueue", config.send_queue_name()),
    }
}

/// The local name of a dead-letter queue of `queue_name`.
pub fn dead_letter_queue_name(queue_name: &str) -> String {
    format!("{queue_name}-dlq")
}

/// Creates every table, the content bucket and the send queue (with its dead-letter queue)
/// as the template defines them, skipping what exists.
pub async fn create_all(
    clients: &AwsClients,
    config: &Config,
) -> Result<Provisioned, ProvisionError> {
    let template = StackTemplate::kizuna()?;
    let names = local_names(config);
    check_every_resource_is_mapped(&template, &names)?;

    for (logical_id, name) in names.tables {
        create_table(&clients.dynamodb, &template.table(logical_id)?, name).await?;
    }
    let (bucket_id, bucket_name) = names.content_bucket;
    create_bucket(&clients.s3, &template, bucket_id, bucket_name).await?;

    let (queue_id, queue_name) = names.send_queue;
    let queue = template.queue(queue_id)?;
    let mut dead_letter = None;
    if let Some(redrive) = &queue.redrive {
        let dlq_name = dead_letter_queue_name(queue_name);
        let dlq = template.queue(&redrive.dead_letter_queue)?;
        let url = create_queue(&clients.sqs, &dlq, &dlq_name, None).await?;
        let arn = clients
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| failed(&dlq_name, e))?
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .ok_or_else(|| ProvisionError {
                resource: dlq_name.clone(),
                message: "no QueueArn".into(),
            })?;
        dead_letter = Some((url, arn));
    }
    let send_queue_url = create_queue(
        &clients.sqs,
        &queue,
        queue_name,
        dead_letter.as_ref().map(|(_, arn)| arn.as_str()),
    )
    .await?;
    Ok(Provisioned {
        send_queue_url,
        send_dead_letter_queue_url: dead_letter.map(|(url, _)| url),
    })
}

/// A table or queue added to the template must get a local name here (or be listed in
/// [`NOT_PROVISIONED_LOCALLY`]): otherwise the tests would run without it.
fn check_every_resource_is_mapped(
    template: &StackTemplate,
    names: &LocalNames<'_>,
) -> Result<(), ProvisionError> {
    let mut known: Vec<String> = names.tables.iter().map(|(id, _)| id.to_string()).collect();
    known.push(names.content_bucket.0.to_owned());
    known.push(names.send_queue.0.to_owned());
    if let Some(redrive) = template.queue(names.send_queue.0)?.redrive {
        known.push(redrive.dead_letter_queue);
    }
    known.extend(NOT_PROVISIONED_LOCALLY.iter().map(|s| s.to_string()));
    for kind in ["AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket"] {
        for id in template.ids_of_type(kind) {
            if !known.contains(&id) {
                return Err(ProvisionError {
                    resource: id,
                    message: "in infra/template.yaml but without a local name (kizuna_aws::provision::local_names)".into(),
                });
            }
        }
    }
    Ok(())
}

fn key_element(element: &KeyElement) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(&element.attribute)
        .key_type(match element.role {
            KeyRole::Hash => KeyType::Hash,
            KeyRole::Range => KeyType::Range,
        })
        .build()
        .expect("attribute name and key type are set")
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &TableDefinition,
    name: &str,
) -> Result<(), ProvisionError> {
    let throughput = || {
        ProvisionedThroughput::builder()
            .read_capacity_units(5)
            .write_capacity_units(5)
            .build()
            .expect("capacities are set")
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(if table.on_demand {
            BillingMode::PayPerRequest
        } else {
            BillingMode::Provisioned
        });
    if !table.on_demand {
        request = request.provisioned_throughput(throughput());
    }
    for element in &table.key {
        request = request.key_schema(key_element(element));
    }
    for (attribute, kind) in &table.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|e| failed(name, e))?,
        );
    }
    for index in &table.indexes {
        let mut projection =
            Projection::builder().projection_type(ProjectionType::from(index.projection.as_str()));
        for attribute in &index.non_key_attributes {
            projection = projection.non_key_attributes(attribute);
        }
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(&index.name)
            .projection(projection.build());
        for element in &index.key {
            gsi = gsi.key_schema(key_element(element));
        }
        if !table.on_demand {
            gsi = gsi.provisioned_throughput(throughput());
        }
        request = request.global_secondary_indexes(gsi.build().map_err(|e| failed(name, e))?);
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(failed(name, e)),
    }
    if let Some(ttl) = &table.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(|e| failed(name, e))?,
            )
            .send()
            .await
            .map_err(|e| failed(name, e))?;
    }
    Ok(())
}

/// Creates (or finds) a queue with the definition's attributes; `dead_letter_arn` is the
/// resolved target of its redrive policy.
async fn create_queue(
    client: &aws_sdk_sqs::Client,
    queue: &QueueDefinition,
    name: &str,
    dead_letter_arn: Option<&str>,
) -> Result<String, ProvisionError> {
    let mut request = client.create_queue().queue_name(name);
    if let Some(v) = queue.visibility_timeout {
        request = request.attributes(QueueAttributeName::VisibilityTimeout, v.to_string());
    }
    if let Some(v) = queue.message_retention_period {
        request = request.attributes(QueueAttributeName::MessageRetentionPeriod, v.to_string());
    }
    if let (Some(redrive), Some(arn)) = (&queue.redrive, dead_letter_arn) {
        let policy = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": redrive.max_receive_count,
        });
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    let out = request.send().await.map_err(|e| failed(name, e))?;
    out.queue_url.ok_or_else(|| ProvisionError {
        resource: name.to_owned(),
        message: "CreateQueue returned no URL".into(),
    })
}

async fn create_bucket(
    client: &aws_sdk_s3::Client,
    template: &StackTemplate,
    logical_id: &str,
    bucket: &str,
) -> Result<(), ProvisionError> {
    let definition = template.bucket(logical_id)?;
    let mut request = client.create_bucket().bucket(bucket);
    // us-east-1 is the one region that refuses an explicit location constraint.
    let region = client.config().region().map(|r| r.as_ref().to_owned());
    if let Some(region) = region.filter(|r| r != "us-east-1") {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.code(),
                Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
            ) => {}
        Err(e) => return Err(failed(bucket, e)),
    }
    if definition.versioned {
        client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| failed(bucket, e))?;
    }
    if let Some(algorithm) = &definition.sse_algorithm {
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(algorithm.as_str()))
            .build()
            .map_err(|e| failed(bucket, e))?;
        client
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(default)
                            .build(),
                    )
                    .build()
                    .map_err(|e| failed(bucket, e))?,
            )
            .send()
            .await
            .map_err(|e| failed(bucket, e))?;
    }
    Ok(())
}
