use crate::error::{corrupt, store_error};
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use kizuna_app::model::ChannelCredentials;
use kizuna_app::ports::{ChannelSecrets, StoreResult};
use kizuna_core::MunicipalityId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long credentials are reused across warm invocations before Secrets Manager is asked
/// again: short enough that a rotated token is picked up within minutes, long enough that a
/// busy webhook does not pay a Secrets Manager call (and its price) per request.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// [`ChannelSecrets`] on AWS Secrets Manager: secret `{prefix}{municipality_id}`, JSON
/// `{"channel_id", "channel_secret", "channel_access_token"?}`, cached in memory.
#[derive(Debug)]
pub struct SecretsManagerChannelSecrets {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    ttl: Duration,
    cache: Mutex<HashMap<MunicipalityId, (Instant, ChannelCredentials)>>,
}

impl SecretsManagerChannelSecrets {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            ttl: DEFAULT_CACHE_TTL,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Overrides the cache lifetime (`Duration::ZERO` disables caching).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn secret_name(&self, id: &MunicipalityId) -> String {
        format!("{}{}", self.prefix, id.as_str())
    }

    fn cached(&self, id: &MunicipalityId) -> Option<ChannelCredentials> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, c)| c.clone())
    }

    fn remember(&self, id: &MunicipalityId, credentials: &ChannelCredentials) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(id.clone(), (Instant::now(), credentials.clone()));
    }
}

#[async_trait]
impl ChannelSecrets for SecretsManagerChannelSecrets {
    /// Only found credentials are cached: an unknown municipality is rare and must start
    /// working as soon as its secret is created.
    async fn get(&self, id: &MunicipalityId) -> StoreResult<Option<ChannelCredentials>> {
        if let Some(hit) = self.cached(id) {
            return Ok(Some(hit));
        }
        let result = self
            .client
            .get_secret_value()
            .secret_id(self.secret_name(id))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(store_error("GetSecretValue", e)),
        };
        let text = out
            .secret_string()
            .ok_or_else(|| corrupt("channel secret", "not a string secret"))?;
        // The serde error would quote the JSON around the fault, i.e. the secret: keep only
        // its category.
        let credentials: ChannelCredentials = serde_json::from_str(text)
            .map_err(|e| corrupt("channel secret JSON", format!("{:?}", e.classify())))?;
        self.remember(id, &credentials);
        Ok(Some(credentials))
    }

    async fn put(&self, id: &MunicipalityId, credentials: &ChannelCredentials) -> StoreResult<()> {
        let json = serde_json::to_string(credentials).map_err(|e| corrupt("credentials", e))?;
        let name = self.secret_name(id);
        let updated = self
            .client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(&json)
            .send()
            .await;
        match updated {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                self.client
                    .create_secret()
                    .name(&name)
                    .description("Kizuna: LINE channel credentials")
                    .secret_string(&json)
                    .send()
                    .await
                    .map_err(|e| store_error("CreateSecret", e))?;
            }
            Err(e) => return Err(store_error("PutSecretValue", e)),
        }
        self.remember(id, credentials);
        Ok(())
    }
}
