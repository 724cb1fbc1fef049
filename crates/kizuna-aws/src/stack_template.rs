//! The deployed stack's own resource definitions, read from `infra/template.yaml` (compiled
//! in), so that [`crate::provision`] creates the local and test stacks' tables, queues and
//! bucket as the template declares them instead of from a hand-written copy that drifts.
//!
//! Only what provisioning needs is read: table keys, attribute types, GSIs, billing mode and
//! TTL; queue visibility, retention and redrive policy; bucket versioning and encryption.
//! Values are literals or `!Ref Parameter` (resolved to the parameter's `Default`);
//! `!GetAtt Queue.Arn` is understood where a redrive policy names its dead-letter queue.
//! CloudFormation's short tags (`!Ref`, `!GetAtt`, `!Sub`) arrive from serde_yaml 0.9 as
//! [`Value::Tagged`]; the long forms (`Ref:`, `Fn::GetAtt:`) are read too.
//! Properties that have no local meaning (names, tags, encryption at rest of tables, point
//! in time recovery, deletion protection, public access blocks, lifecycle rules) are listed
//! in [`IGNORED_LOCALLY`]; a property in neither list fails a unit test, so a new setting
//! in the template is either applied locally or consciously left out.

use serde_yaml::{Mapping, Value};

/// `infra/template.yaml`, as compiled into this crate.
pub const TEMPLATE_YAML: &str = include_str!("../../../infra/template.yaml");

/// Properties read by [`StackTemplate`], per resource type.
pub const APPLIED: &[(&str, &[&str])] = &[
    (
        "AWS::DynamoDB::Table",
        &[
            "AttributeDefinitions",
            "KeySchema",
            "GlobalSecondaryIndexes",
            "BillingMode",
            "TimeToLiveSpecification",
        ],
    ),
    (
        "AWS::SQS::Queue",
        &[
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "RedrivePolicy",
        ],
    ),
    (
        "AWS::S3::Bucket",
        &["VersioningConfiguration", "BucketEncryption"],
    ),
];

/// Properties deliberately not reproduced on the emulator, per resource type.
pub const IGNORED_LOCALLY: &[(&str, &[&str])] = &[
    (
        "AWS::DynamoDB::Table",
        &[
            // Local names come from kizuna_aws::Config (a namespace per test).
            "TableName",
            "Tags",
            "DeletionProtectionEnabled",
            "PointInTimeRecoverySpecification",
            "SSESpecification",
        ],
    ),
    (
        "AWS::SQS::Queue",
        &["QueueName", "Tags", "SqsManagedSseEnabled"],
    ),
    (
        "AWS::S3::Bucket",
        &[
            "Tags",
            "PublicAccessBlockConfiguration",
            "OwnershipControls",
            "LifecycleConfiguration",
        ],
    ),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("infra/template.yaml is not valid YAML: {0}")]
    Yaml(String),
    #[error("infra/template.yaml: {0}")]
    Shape(String),
}

fn shape(message: impl Into<String>) -> TemplateError {
    TemplateError::Shape(message.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Hash,
    Range,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute: String,
    pub role: KeyRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDefinition {
    pub name: String,
    pub key: Vec<KeyElement>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub logical_id: String,
    /// (attribute name, `S` | `N` | `B`).
    pub attributes: Vec<(String, String)>,
    pub key: Vec<KeyElement>,
    pub indexes: Vec<IndexDefinition>,
    pub on_demand: bool,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue.
    pub dead_letter_queue: String,
    pub max_receive_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDefinition {
    pub logical_id: String,
    pub visibility_timeout: Option<i64>,
    pub message_retention_period: Option<i64>,
    pub redrive: Option<Redrive>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketDefinition {
    pub logical_id: String,
    pub versioned: bool,
    /// `AES256` or `aws:kms`.
    pub sse_algorithm: Option<String>,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct StackTemplate {
    root: Value,
}

impl StackTemplate {
    /// The repository's `infra/template.yaml`.
    pub fn kizuna() -> Result<Self, TemplateError> {
        Self::parse(TEMPLATE_YAML)
    }

    pub fn parse(yaml: &str) -> Result<Self, TemplateError> {
        let root: Value =
            serde_yaml::from_str(yaml).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        if !matches!(root.get("Resources"), Some(Value::Mapping(_))) {
            return Err(shape("no Resources mapping"));
        }
        Ok(Self { root })
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(Mapping::iter)
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
    }

    /// Logical ids of the resources of `resource_type`, in template order.
    pub fn ids_of_type(&self, resource_type: &str) -> Vec<String> {
        self.resources()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(resource_type))
            .map(|(id, _)| id.to_owned())
            .collect()
    }

    /// `Properties` of `logical_id`, which must be of `resource_type`.
    fn properties(&self, logical_id: &str, resource_type: &str) -> Result<&Value, TemplateError> {
        let resource = self
            .root
            .get("Resources")
            .and_then(|r| r.get(logical_id))
            .ok_or_else(|| shape(format!("no resource {logical_id}")))?;
        let actual = resource.get("Type").and_then(Value::as_str);
        if actual != Some(resource_type) {
            return Err(shape(format!(
                "{logical_id} is {actual:?}, not {resource_type}"
            )));
        }
        resource
            .get("Properties")
            .ok_or_else(|| shape(format!("{logical_id} has no Properties")))
    }

    /// A scalar written literally or as `!Ref Parameter` (its `Default`).
    fn resolve<'a>(&'a self, value: &'a Value) -> Result<&'a Value, TemplateError> {
        let parameter = match value {
            Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
            Value::Mapping(m) if m.len() == 1 => m.get("Ref").and_then(Value::as_str),
            Value::Tagged(tagged) => {
                return Err(shape(format!(
                    "{} is not supported where provisioning reads a value",
                    tagged.tag
                )))
            }
            other => return Ok(other),
        };
        let parameter = parameter.ok_or_else(|| shape("!Ref without a name"))?;
        self.root
            .get("Parameters")
            .and_then(|p| p.get(parameter))
            .and_then(|p| p.get("Default"))
            .ok_or_else(|| shape(format!("!Ref {parameter}: no parameter default to use")))
    }

    fn string(&self, value: Option<&Value>, what: &str) -> Result<String, TemplateError> {
        let value = value.ok_or_else(|| shape(format!("{what} missing")))?;
        self.resolve(value)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| shape(format!("{what} is not a string")))
    }

    fn integer(&self, value: Option<&Value>, what: &str) -> Result<Option<i64>, TemplateError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let value = self.resolve(value)?;
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .map(Some)
            .ok_or_else(|| shape(format!("{what} is not an integer")))
    }

    fn key(&self, value: Option<&Value>, what: &str) -> Result<Vec<KeyElement>, TemplateError> {
        let elements = value
            .and_then(Value::as_sequence)
            .ok_or_else(|| shape(format!("{what}: no KeySchema")))?;
        elements
            .iter()
            .map(|e| {
                let role = match self.string(e.get("KeyType"), what)?.as_str() {
                    "HASH" => KeyRole::Hash,
                    "RANGE" => KeyRole::Range,
                    other => return Err(shape(format!("{what}: key type {other}"))),
                };
                Ok(KeyElement {
                    attribute: self.string(e.get("AttributeName"), what)?,
                    role,
                })
            })
            .collect()
    }

    pub fn table(&self, logical_id: &str) -> Result<TableDefinition, TemplateError> {
        let props = self.properties(logical_id, "AWS::DynamoDB::Table")?;
        let attributes = props
            .get("AttributeDefinitions")
            .and_then(Value::as_sequence)
            .ok_or_else(|| shape(format!("{logical_id}: no AttributeDefinitions")))?
            .iter()
            .map(|a| {
                Ok((
                    self.string(a.get("AttributeName"), logical_id)?,
                    self.string(a.get("AttributeType"), logical_id)?,
                ))
            })
            .collect::<Result<_, TemplateError>>()?;
        let mut indexes = Vec::new();
        for gsi in props
            .get("GlobalSecondaryIndexes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let name = self.string(gsi.get("IndexName"), logical_id)?;
            let projection = gsi.get("Projection");
            indexes.push(IndexDefinition {
                key: self.key(gsi.get("KeySchema"), &name)?,
                projection: self.string(projection.and_then(|p| p.get("ProjectionType")), &name)?,
                non_key_attributes: projection
                    .and_then(|p| p.get("NonKeyAttributes"))
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .map(|a| self.string(Some(a), &name))
                    .collect::<Result<_, _>>()?,
                name,
            });
        }
        let billing = match props.get("BillingMode") {
            Some(mode) => self.string(Some(mode), logical_id)?,
            None => "PROVISIONED".to_owned(),
        };
        let ttl = props.get("TimeToLiveSpecification");
        let ttl_enabled = ttl
            .and_then(|t| t.get("Enabled"))
            .map(|e| self.resolve(e))
            .transpose()?
            .and_then(Value::as_bool)
            == Some(true);
        Ok(TableDefinition {
            logical_id: logical_id.to_owned(),
            attributes,
            key: self.key(props.get("KeySchema"), logical_id)?,
            indexes,
            on_demand: billing == "PAY_PER_REQUEST",
            ttl_attribute: if ttl_enabled {
                Some(self.string(ttl.and_then(|t| t.get("AttributeName")), logical_id)?)
            } else {
                None
            },
        })
    }

    pub fn queue(&self, logical_id: &str) -> Result<QueueDefinition, TemplateError> {
        let props = self.properties(logical_id, "AWS::SQS::Queue")?;
        let redrive = match props.get("RedrivePolicy") {
            None => None,
            Some(policy) => {
                let target = policy
                    .get("deadLetterTargetArn")
                    .ok_or_else(|| shape(format!("{logical_id}: redrive without a target")))?;
                Some(Redrive {
                    dead_letter_queue: arn_of(target).ok_or_else(|| {
                        shape(format!(
                            "{logical_id}: deadLetterTargetArn must be !GetAtt <Queue>.Arn"
                        ))
                    })?,
                    max_receive_count: self
                        .integer(policy.get("maxReceiveCount"), logical_id)?
                        .ok_or_else(|| shape(format!("{logical_id}: no maxReceiveCount")))?,
                })
            }
        };
        Ok(QueueDefinition {
            logical_id: logical_id.to_owned(),
            visibility_timeout: self.integer(props.get("VisibilityTimeout"), logical_id)?,
            message_retention_period: self
                .integer(props.get("MessageRetentionPeriod"), logical_id)?,
            redrive,
        })
    }

    pub fn bucket(&self, logical_id: &str) -> Result<BucketDefinition, TemplateError> {
        let props = self.properties(logical_id, "AWS::S3::Bucket")?;
        let versioned = match props
            .get("VersioningConfiguration")
            .and_then(|v| v.get("Status"))
        {
            Some(status) => self.string(Some(status), logical_id)? == "Enabled",
            None => false,
        };
        let sse_algorithm = props
            .get("BucketEncryption")
            .and_then(|e| e.get("ServerSideEncryptionConfiguration"))
            .and_then(Value::as_sequence)
            .and_then(|rules| rules.first())
            .and_then(|rule| rule.get("ServerSideEncryptionByDefault"))
            .map(|d| self.string(d.get("SSEAlgorithm"), logical_id))
            .transpose()?;
        Ok(BucketDefinition {
            logical_id: logical_id.to_owned(),
            versioned,
            sse_algorithm,
        })
    }

    /// Property names each resource of `resource_type` uses (for the coverage test).
    pub fn property_names(&self, resource_type: &str) -> Vec<(String, String)> {
        self.resources()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(resource_type))
            .flat_map(|(id, r)| {
                r.get("Properties")
                    .and_then(Value::as_mapping)
                    .into_iter()
                    .flat_map(Mapping::keys)
                    .filter_map(|k| Some((id.to_owned(), k.as_str()?.to_owned())))
            })
            .collect()
    }
}

/// The logical id in `!GetAtt X.Arn`, `!GetAtt [X, Arn]` or `Fn::GetAtt: [X, Arn]`.
fn arn_of(value: &Value) -> Option<String> {
    let inner = match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => &tagged.value,
        Value::Mapping(m) if m.len() == 1 => m.get("Fn::GetAtt")?,
        _ => return None,
    };
    match inner {
        Value::String(path) => {
            let (id, attribute) = path.split_once('.')?;
            (attribute == "Arn").then(|| id.to_owned())
        }
        Value::Sequence(parts) => match parts.as_slice() {
            [id, attribute] if attribute.as_str() == Some("Arn") => id.as_str().map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    fn kizuna() -> StackTemplate {
        StackTemplate::kizuna().unwrap()
    }

    #[test]
    fn every_property_of_a_provisioned_type_is_applied_or_ignored_on_purpose() {
        let t = kizuna();
        for (resource_type, applied) in APPLIED {
            let ignored = IGNORED_LOCALLY
                .iter()
                .find(|(t, _)| t == resource_type)
                .map(|(_, i)| *i)
                .unwrap_or_default();
            for (id, property) in t.property_names(resource_type) {
                assert!(
                    applied.contains(&property.as_str()) || ignored.contains(&property.as_str()),
                    "{id}.{property}: apply it in provision.rs or list it in IGNORED_LOCALLY"
                );
            }
        }
    }

    #[test]
    fn the_send_queue_redrives_to_its_dead_letter_queue() {
        let q = kizuna().queue("SendQueue").unwrap();
        assert_eq!(q.visibility_timeout, Some(1800));
        assert_eq!(
            q.redrive,
            Some(Redrive {
                dead_letter_queue: "SendDeadLetterQueue".into(),
                max_receive_count: 5
            })
        );
        let dlq = kizuna().queue("SendDeadLetterQueue").unwrap();
        assert_eq!(dlq.redrive, None);
        assert!(dlq.message_retention_period > q.message_retention_period);
    }

    #[test]
    fn tables_read_with_their_keys_indexes_and_ttl() {
        let t = kizuna().table("HouseholdsTable").unwrap();
        assert_eq!(
            t.key,
            [
                KeyElement {
                    attribute: schema::households::PK.into(),
                    role: KeyRole::Hash
                },
                KeyElement {
                    attribute: schema::households::SK.into(),
                    role: KeyRole::Range
                }
            ]
        );
        assert_eq!(t.indexes.len(), 1);
        assert_eq!(t.indexes[0].name, schema::households::GSI_DELIVERABLE);
        assert_eq!(t.indexes[0].projection, "ALL");
        assert!(t.on_demand);
        assert_eq!(
            t.ttl_attribute.as_deref(),
            Some(schema::households::EXPIRES_AT)
        );
        let bucket = kizuna().bucket("ContentBucket").unwrap();
        assert!(bucket.versioned);
        assert_eq!(bucket.sse_algorithm.as_deref(), Some("AES256"));
    }

    #[test]
    fn short_and_long_forms_and_parameter_defaults_are_resolved() {
        let t = StackTemplate::parse(
            r#"
Parameters:
  Visibility:
    Type: Number
    Default: 90
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  A:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref Visibility
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt [Dlq, Arn]
        maxReceiveCount: "3"
  B:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: {Ref: Visibility}
      RedrivePolicy:
        deadLetterTargetArn: {"Fn::GetAtt": [Dlq, Arn]}
        maxReceiveCount: 4
  C:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Sub "${Visibility}"
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.QueueName
        maxReceiveCount: 4
"#,
        )
        .unwrap();
        let a = t.queue("A").unwrap();
        assert_eq!(a.visibility_timeout, Some(90));
        assert_eq!(a.redrive.unwrap().max_receive_count, 3);
        let b = t.queue("B").unwrap();
        assert_eq!(b.visibility_timeout, Some(90));
        assert_eq!(b.redrive.unwrap().dead_letter_queue, "Dlq");
        // An intrinsic provisioning cannot evaluate is an error, not a silent default.
        assert!(t.queue("C").is_err());
        assert!(t.table("A").is_err(), "wrong type");
    }
}
