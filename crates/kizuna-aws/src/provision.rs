//! Creates Kizuna's tables, bucket and queue exactly as `docs/data-model.md` describes and the
//! SAM template declares. Used by the test harness and the local stack; idempotent.

use crate::clients::AwsClients;
use crate::config::Config;
use crate::schema::{deliveries, events, households, municipalities};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

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

/// What provisioning produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The URL SQS gave the queue (emulators may spell it differently from the configured one).
    pub send_queue_url: String,
}

/// One table's shape.
struct TableSpec<'a> {
    name: &'a str,
    pk: &'static str,
    sk: Option<&'static str>,
    /// (index name, partition key, sort key); all attributes projected.
    gsi: Option<(&'static str, &'static str, &'static str)>,
    ttl: Option<&'static str>,
}

/// Creates every table, the content bucket and the send queue, skipping what exists.
pub async fn create_all(
    clients: &AwsClients,
    config: &Config,
) -> Result<Provisioned, ProvisionError> {
    let tables = [
        TableSpec {
            name: &config.tables.municipalities,
            pk: municipalities::PK,
            sk: None,
            gsi: None,
            ttl: None,
        },
        TableSpec {
            name: &config.tables.households,
            pk: households::PK,
            sk: Some(households::SK),
            gsi: Some((
                households::GSI_DELIVERABLE,
                households::SEND_SHARD,
                households::SK,
            )),
            ttl: Some(households::EXPIRES_AT),
        },
        TableSpec {
            name: &config.tables.events,
            pk: events::PK,
            sk: None,
            gsi: None,
            ttl: Some(events::EXPIRES_AT),
        },
        TableSpec {
            name: &config.tables.deliveries,
            pk: deliveries::PK,
            sk: Some(deliveries::SK),
            gsi: Some((
                deliveries::GSI_RUNS_BY_DATE,
                deliveries::RUN_DATE,
                deliveries::RUN_ID,
            )),
            ttl: Some(deliveries::EXPIRES_AT),
        },
    ];
    for spec in &tables {
        create_table(&clients.dynamodb, spec).await?;
    }
    create_bucket(&clients.s3, &config.content_bucket).await?;
    let out = clients
        .sqs
        .create_queue()
        .queue_name(config.send_queue_name())
        .send()
        .await
        .map_err(|e| failed(config.send_queue_name(), e))?;
    Ok(Provisioned {
        send_queue_url: out
            .queue_url
            .unwrap_or_else(|| config.send_queue_url.clone()),
    })
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("attribute name and key type are set")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute name and type are set")
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    spec: &TableSpec<'_>,
) -> Result<(), ProvisionError> {
    let mut attributes = vec![spec.pk];
    let mut request = client
        .create_table()
        .table_name(spec.name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.pk, KeyType::Hash));
    if let Some(sk) = spec.sk {
        request = request.key_schema(key(sk, KeyType::Range));
        attributes.push(sk);
    }
    if let Some((index, pk, sk)) = spec.gsi {
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(pk, KeyType::Hash))
            .key_schema(key(sk, KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| failed(index, e))?;
        request = request.global_secondary_indexes(gsi);
        attributes.extend([pk, sk]);
    }
    attributes.sort_unstable();
    attributes.dedup();
    for a in attributes {
        request = request.attribute_definitions(string_attribute(a));
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(failed(spec.name, e)),
    }
    if let Some(ttl) = spec.ttl {
        client
            .update_time_to_live()
            .table_name(spec.name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(|e| failed(spec.name, e))?,
            )
            .send()
            .await
            .map_err(|e| failed(spec.name, e))?;
    }
    Ok(())
}

async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), ProvisionError> {
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
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(failed(bucket, e)),
    }
}
