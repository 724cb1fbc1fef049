//! Opening a Lambda's connections while it initialises (`KIZUNA_WARM_UP_AT_INIT`).
//!
//! Without this, a cold start's first event pays, besides its own work, for a TCP + TLS
//! handshake to every service it touches and for the SDK's lazy set-up on first use
//! (credential and endpoint resolution, the TLS configuration). Warm-up makes one cheap call
//! with no side effects to each service during init, all at once, and leaves the connections
//! in the clients' pools, where the first event finds them:
//!
//! | service | call | answer expected |
//! |---|---|---|
//! | DynamoDB | `GetItem` of [`PROBE_ID`] in the municipalities table | no item |
//! | Secrets Manager | `GetSecretValue` of `{prefix}`[`PROBE_ID`] | `ResourceNotFoundException` |
//! | S3 (sender) | `ListObjectsV2` of the content bucket, one key | one key |
//! | LINE | [`LineClient::warm_up`] (`GET /` without credentials) | 404 |
//!
//! Every call is one the function's IAM role already allows (infra/template.yaml); an error
//! answer from the service still means the connection is up. Warm-up is best effort: a probe
//! that fails or takes longer than [`PROBE_TIMEOUT`] is logged, and init carries on — the first
//! event then connects by itself, exactly as without warm-up.

use crate::Config;
use crate::{schema, AwsClients};
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use kizuna_line::LineClient;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

/// The key probed in DynamoDB and Secrets Manager: never a municipality id (those are
/// lowercase letters, digits and hyphens), so the probe never reads real data.
pub const PROBE_ID: &str = "__warm-up__";

/// Longest a probe may hold up init. A healthy probe takes one handshake plus one round trip
/// (tens of milliseconds); one that takes longer is abandoned, not waited for.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A service a function talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    SecretsManager,
    S3,
    Line,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::DynamoDb => "dynamodb",
            Service::SecretsManager => "secretsmanager",
            Service::S3 => "s3",
            Service::Line => "line",
        }
    }
}

/// What the webhook touches on a typical event (the municipality, its channel secret, the
/// household and event tables, the reply to LINE).
pub const WEBHOOK: &[Service] = &[Service::DynamoDb, Service::SecretsManager, Service::Line];
/// What the sender touches on every job (the ledger and households, the channel secret, the
/// content pack, the pushes).
pub const SENDER: &[Service] = &[
    Service::DynamoDb,
    Service::SecretsManager,
    Service::S3,
    Service::Line,
];

/// One probe's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub service: Service,
    pub elapsed: Duration,
    /// `Err` holds why the service could not be reached (transport error or timeout).
    pub reached: Result<(), String>,
}

/// The probes of one warm-up and how long the whole took (they run concurrently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmUpReport {
    pub probes: Vec<Probe>,
    pub elapsed: Duration,
}

impl WarmUpReport {
    /// Whether every probed service answered.
    pub fn all_reached(&self) -> bool {
        self.probes.iter().all(|p| p.reached.is_ok())
    }

    /// One log line for the whole warm-up, and a warning per unreachable service.
    pub fn log(&self) {
        for probe in &self.probes {
            if let Err(reason) = &probe.reached {
                tracing::warn!(
                    service = probe.service.name(),
                    error = %reason,
                    "warm-up could not reach the service; the first event will connect itself"
                );
            }
        }
        tracing::info!(
            elapsed_ms = self.elapsed.as_millis() as u64,
            probes = %self,
            "connections warmed up at init"
        );
    }
}

impl fmt::Display for WarmUpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.probes.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let state = if p.reached.is_ok() { "ok" } else { "failed" };
            write!(
                f,
                "{sep}{}={}:{}ms",
                p.service.name(),
                state,
                p.elapsed.as_millis()
            )?;
        }
        Ok(())
    }
}

/// Probes `services` concurrently through the given clients (whose pools keep the connections).
pub async fn warm_up(
    config: &Config,
    clients: &AwsClients,
    line: &LineClient,
    services: &[Service],
) -> WarmUpReport {
    let start = Instant::now();
    let wanted = |s: Service| services.contains(&s);
    let (dynamodb, secrets, s3, line) = tokio::join!(
        probe(wanted(Service::DynamoDb), Service::DynamoDb, async {
            answered(
                clients
                    .dynamodb
                    .get_item()
                    .table_name(&config.tables.municipalities)
                    .key(
                        schema::municipalities::PK,
                        AttributeValue::S(PROBE_ID.into()),
                    )
                    .send()
                    .await,
            )
        }),
        probe(
            wanted(Service::SecretsManager),
            Service::SecretsManager,
            async {
                answered(
                    clients
                        .secrets
                        .get_secret_value()
                        .secret_id(format!("{}{PROBE_ID}", config.secret_prefix))
                        .send()
                        .await,
                )
            }
        ),
        probe(wanted(Service::S3), Service::S3, async {
            answered(
                clients
                    .s3
                    .list_objects_v2()
                    .bucket(&config.content_bucket)
                    .max_keys(1)
                    .send()
                    .await,
            )
        }),
        probe(wanted(Service::Line), Service::Line, async {
            line.warm_up().await.map(drop).map_err(|e| e.to_string())
        }),
    );
    WarmUpReport {
        probes: [dynamodb, secrets, s3, line]
            .into_iter()
            .flatten()
            .collect(),
        elapsed: start.elapsed(),
    }
}

async fn probe(
    wanted: bool,
    service: Service,
    call: impl Future<Output = Result<(), String>>,
) -> Option<Probe> {
    if !wanted {
        return None;
    }
    let start = Instant::now();
    let reached = match tokio::time::timeout(PROBE_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
    };
    Some(Probe {
        service,
        elapsed: start.elapsed(),
        reached,
    })
}

/// A service's error answer (no such secret, access denied, …) still came over the connection;
/// only failing to get an answer at all (dispatch, timeout, unreadable response) counts.
fn answered<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<(), String>
where
    E: std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    match result {
        Ok(_) | Err(SdkError::ServiceError(_)) => Ok(()),
        Err(e) => Err(DisplayErrorContext(&e).to_string()),
    }
}
