//! Kizuna's AWS adapters: `kizuna-app`'s ports implemented with the AWS SDK for Rust.
//!
//! - [`Config::from_env`] reads the configuration (the only place that does);
//! - [`AwsClients::from_config`] builds the SDK clients once per process (honours
//!   `AWS_ENDPOINT_URL`, so tests and the local stack need no special code path);
//! - one adapter per port: [`DynamoMunicipalityDirectory`], [`SecretsManagerChannelSecrets`],
//!   [`DynamoHouseholdStore`], [`DynamoWebhookEventLog`], [`DynamoDeliveryLedger`],
//!   [`DynamoRunRecords`], [`DynamoFollowTally`], [`S3ContentStore`], [`SqsSendQueue`];
//! - [`provision::create_all`] creates the tables, bucket and queues from
//!   `infra/template.yaml`'s own definitions ([`stack_template`]) for tests and the local
//!   stack.

pub mod audit;
mod batch;
mod clients;
pub mod compose;
mod config;
mod content;
mod deliveries;
mod error;
mod events;
mod follows;
mod households;
mod item;
mod municipalities;
mod paging;
pub mod provision;
mod queue;
mod research_key;
mod runs;
pub mod schema;
mod secrets;
pub mod stack_template;
pub mod telemetry;
pub mod warmup;

pub use clients::AwsClients;
pub use config::env_var;
pub use config::{
    Config, ConfigError, TableNames, DEFAULT_LINE_API_BASE, DEFAULT_SECRET_PREFIX,
    DEFAULT_SURVEY_KEY_SECRET, DEFAULT_WARM_UP_AT_INIT,
};
pub use content::S3ContentStore;
pub use deliveries::DynamoDeliveryLedger;
pub use events::{DynamoWebhookEventLog, DEFAULT_LOCK as DEFAULT_EVENT_LOCK};
pub use follows::DynamoFollowTally;
pub use households::DynamoHouseholdStore;
pub use municipalities::DynamoMunicipalityDirectory;
pub use paging::object_etags;
pub use queue::SqsSendQueue;
pub use research_key::{PseudonymKeyError, SecretsManagerPseudonymKey};
pub use runs::DynamoRunRecords;
pub use secrets::SecretsManagerChannelSecrets;
