//! The composition root: adapters wired into the use cases, once per process.
//!
//! The Lambda entry points, the local stack and the integration tests all build their
//! handlers here, from a [`Config`] and [`AwsClients`], so there is one wiring to get right.

use crate::{
    warmup, AwsClients, Config, DynamoDeliveryLedger, DynamoFollowTally, DynamoHouseholdStore,
    DynamoMunicipalityDirectory, DynamoRunRecords, DynamoWebhookEventLog, S3ContentStore,
    SecretsManagerChannelSecrets, SecretsManagerPseudonymKey, SqsSendQueue,
};
use kizuna_app::clock::Clock;
use kizuna_app::retention::{RetentionPorts, RetentionPurge};
use kizuna_app::scheduler::{Scheduler, SchedulerPorts};
use kizuna_app::sender::{Sender, SenderPorts, SenderSettings};
use kizuna_app::webhook::{WebhookHandler, WebhookPorts};
use kizuna_line::{LineClient, LineError, LineMessenger, WebhookForwardClient};
use std::sync::Arc;

/// The LINE client for `config.line_api_base` (`KIZUNA_LINE_API_BASE`).
pub fn line_client(config: &Config) -> Result<LineClient, LineError> {
    LineClient::new(&config.line_api_base)
}

pub fn municipalities(config: &Config, clients: &AwsClients) -> Arc<DynamoMunicipalityDirectory> {
    Arc::new(DynamoMunicipalityDirectory::new(
        clients.dynamodb.clone(),
        &config.tables.municipalities,
    ))
}

pub fn households(config: &Config, clients: &AwsClients) -> Arc<DynamoHouseholdStore> {
    Arc::new(DynamoHouseholdStore::new(
        clients.dynamodb.clone(),
        &config.tables.households,
    ))
}

pub fn secrets(config: &Config, clients: &AwsClients) -> Arc<SecretsManagerChannelSecrets> {
    Arc::new(SecretsManagerChannelSecrets::new(
        clients.secrets.clone(),
        &config.secret_prefix,
    ))
}

/// The researchers' pseudonym key (operators' CLI only: no function is given its name).
pub fn pseudonym_key(config: &Config, clients: &AwsClients) -> SecretsManagerPseudonymKey {
    SecretsManagerPseudonymKey::new(clients.secrets.clone(), &config.survey_key_secret)
}

pub fn runs(config: &Config, clients: &AwsClients) -> Arc<DynamoRunRecords> {
    Arc::new(DynamoRunRecords::new(
        clients.dynamodb.clone(),
        &config.tables.deliveries,
    ))
}

pub fn ledger(config: &Config, clients: &AwsClients) -> Arc<DynamoDeliveryLedger> {
    Arc::new(DynamoDeliveryLedger::new(
        clients.dynamodb.clone(),
        &config.tables.deliveries,
    ))
}

/// The monthly follow tally (in the webhook events table).
pub fn follows(config: &Config, clients: &AwsClients) -> Arc<DynamoFollowTally> {
    Arc::new(DynamoFollowTally::new(
        clients.dynamodb.clone(),
        &config.tables.events,
    ))
}

pub fn content(config: &Config, clients: &AwsClients) -> Arc<S3ContentStore> {
    Arc::new(S3ContentStore::new(
        clients.s3.clone(),
        &config.content_bucket,
    ))
}

pub fn send_queue(config: &Config, clients: &AwsClients) -> Arc<SqsSendQueue> {
    Arc::new(SqsSendQueue::new(
        clients.sqs.clone(),
        &config.send_queue_url,
    ))
}

/// The webhook use case.
pub fn webhook_handler(
    config: &Config,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
) -> Result<WebhookHandler, LineError> {
    webhook_handler_with_line(config, clients, clock, line_client(config)?)
}

/// The webhook use case as its Lambda builds it at init: first the connections it will need
/// are warmed up (if [`Config::warm_up_at_init`]), through the very clients it then uses.
pub async fn webhook_handler_at_init(
    config: &Config,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
) -> Result<WebhookHandler, LineError> {
    let line = line_client(config)?;
    if config.warm_up_at_init {
        warmup::warm_up(config, clients, &line, warmup::WEBHOOK)
            .await
            .log();
    }
    let handler = webhook_handler_with_line(config, clients, clock, line)?;
    if config.warm_up_at_init {
        // 今日のメッセージ then only checks the pack's version, and the registration reply
        // describes the pack's schedule from the first event on.
        if let Err(e) = handler.load_content().await {
            tracing::warn!(error = %e, "could not load the content pack at init; 今日のメッセージ will");
        }
    }
    Ok(handler)
}

/// The webhook use case over a given LINE client (whose connection pool its messenger
/// shares).
pub fn webhook_handler_with_line(
    config: &Config,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
    line: LineClient,
) -> Result<WebhookHandler, LineError> {
    let ports = WebhookPorts {
        municipalities: municipalities(config, clients),
        secrets: secrets(config, clients),
        households: households(config, clients),
        events: Arc::new(DynamoWebhookEventLog::new(
            clients.dynamodb.clone(),
            &config.tables.events,
        )),
        follows: follows(config, clients),
        deliveries: ledger(config, clients),
        forwarder: Arc::new(WebhookForwardClient::new()?),
        content: content(config, clients),
        messenger: Arc::new(LineMessenger::new(line)),
    };
    Ok(WebhookHandler::new(ports, clock))
}

/// The sender use case.
pub fn sender(
    config: &Config,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
    settings: SenderSettings,
) -> Result<Sender, LineError> {
    Ok(sender_with_line(
        config,
        clients,
        clock,
        settings,
        line_client(config)?,
    ))
}

/// The sender use case as its Lambda builds it at init (see [`webhook_handler_at_init`]).
pub async fn sender_at_init(
    config: &Config,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
    settings: SenderSettings,
) -> Result<Sender, LineError> {
    let line = line_client(config)?;
    if config.warm_up_at_init {
        warmup::warm_up(config, clients, &line, warmup::SENDER)
            .await
            .log();
    }
    let sender = sender_with_line(config, clients, clock, settings, line);
    if config.warm_up_at_init {
        // The content pack (S3 reads and parsing) is what a cold sender's first job waits on
        // longest; loaded here, the first job only checks its version.
        if let Err(e) = sender.content().await {
            tracing::warn!(error = %e, "could not load the content pack at init; the first job will");
        }
    }
    Ok(sender)
}

/// The sender use case over a given LINE client (whose connection pool its messenger shares).
pub fn sender_with_line(
    config: &Config,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
    settings: SenderSettings,
    line: LineClient,
) -> Sender {
    let ports = SenderPorts {
        municipalities: municipalities(config, clients),
        secrets: secrets(config, clients),
        households: households(config, clients),
        ledger: ledger(config, clients),
        runs: runs(config, clients),
        content: content(config, clients),
        messenger: Arc::new(LineMessenger::new(line)),
    };
    Sender::new(ports, clock, settings)
}

/// The scheduler use case.
/// The daily retention purge, run by the scheduler function on its own schedule.
pub fn retention_purge(config: &Config, clients: &AwsClients) -> RetentionPurge {
    RetentionPurge::new(RetentionPorts {
        municipalities: municipalities(config, clients),
        households: households(config, clients),
    })
}

pub fn scheduler(config: &Config, clients: &AwsClients) -> Scheduler {
    Scheduler::new(SchedulerPorts {
        municipalities: municipalities(config, clients),
        runs: runs(config, clients),
        queue: send_queue(config, clients),
    })
}
