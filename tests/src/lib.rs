//! The shared integration-test harness.
//!
//! [`test_aws`] gives each test its own namespace (tables, bucket, queue, secret prefix) on one
//! moto server per test process, provisioned exactly as production is. Tests use the real
//! `aws-sdk-*` clients and Kizuna's real adapters; nothing here is a test-only code path in
//! the code under test.
//!
//! moto is found at `$KIZUNA_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`, else on
//! `PATH`. It is started on a free port on first use and killed when the test process exits
//! (an `atexit` hook, and `PR_SET_PDEATHSIG` in case the process is killed outright).
//! moto runs with its requests serialised (`moto_serialized.py`), because its DynamoDB is not
//! atomic under concurrent conditional writes and DynamoDB is.

use kizuna_aws::{
    AwsClients, Config, DynamoDeliveryLedger, DynamoHouseholdStore, DynamoMunicipalityDirectory,
    DynamoRunRecords, DynamoWebhookEventLog, S3ContentStore, SecretsManagerChannelSecrets,
    SqsSendQueue,
};
use std::sync::atomic::{AtomicU32, Ordering};

/// The region every test uses (Kizuna's production region).
pub const REGION: &str = "ap-northeast-1";
pub use kizuna_local::moto::MOTO_ACCOUNT;

/// One test's AWS: configuration and clients for its own, freshly provisioned namespace.
#[derive(Debug, Clone)]
pub struct TestAws {
    pub namespace: String,
    pub config: Config,
    pub clients: AwsClients,
}

/// Provisions a fresh namespace on this process's moto server (starting it if needed).
pub async fn test_aws() -> TestAws {
    let namespace = next_namespace();
    let (config, clients) = kizuna_local::moto::provisioned_namespace(&namespace)
        .await
        .unwrap_or_else(|e| panic!("provisioning namespace {namespace} on moto: {e}"));
    TestAws {
        namespace,
        config,
        clients,
    }
}

impl TestAws {
    pub fn municipalities(&self) -> DynamoMunicipalityDirectory {
        DynamoMunicipalityDirectory::new(
            self.clients.dynamodb.clone(),
            &self.config.tables.municipalities,
        )
    }

    pub fn households(&self) -> DynamoHouseholdStore {
        DynamoHouseholdStore::new(
            self.clients.dynamodb.clone(),
            &self.config.tables.households,
        )
    }

    pub fn events(&self) -> DynamoWebhookEventLog {
        DynamoWebhookEventLog::new(self.clients.dynamodb.clone(), &self.config.tables.events)
    }

    pub fn follows(&self) -> kizuna_aws::DynamoFollowTally {
        kizuna_aws::DynamoFollowTally::new(
            self.clients.dynamodb.clone(),
            &self.config.tables.events,
        )
    }

    pub fn ledger(&self) -> DynamoDeliveryLedger {
        DynamoDeliveryLedger::new(
            self.clients.dynamodb.clone(),
            &self.config.tables.deliveries,
        )
    }

    pub fn runs(&self) -> DynamoRunRecords {
        DynamoRunRecords::new(
            self.clients.dynamodb.clone(),
            &self.config.tables.deliveries,
        )
    }

    pub fn content(&self) -> S3ContentStore {
        S3ContentStore::new(self.clients.s3.clone(), &self.config.content_bucket)
    }

    pub fn queue(&self) -> SqsSendQueue {
        SqsSendQueue::new(self.clients.sqs.clone(), &self.config.send_queue_url)
    }

    pub fn secrets(&self) -> SecretsManagerChannelSecrets {
        SecretsManagerChannelSecrets::new(self.clients.secrets.clone(), &self.config.secret_prefix)
    }
}

fn next_namespace() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Lowercase, digits and '-' only: valid for tables, buckets, queues and secrets alike.
    format!(
        "kz{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub mod stack;

pub use kizuna_local::moto::moto_endpoint;
