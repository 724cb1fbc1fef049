//! The key that pseudonymises the researchers' survey export (`kizuna survey export`,
//! [`kizuna_core::survey_export`]), from AWS Secrets Manager.
//!
//! The stack generates it (infra/template.yaml, `ResearchPseudonymKey`: a random string,
//! encrypted, retained when the stack is deleted, readable by no function); only the
//! operators' CLI reads it. The key never leaves this process: it is not printed, logged
//! or put in an error (`PseudonymKey`'s `Debug` shows its length only).

use crate::error::store_error;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use kizuna_app::ports::StoreError;
use kizuna_core::survey_export::PseudonymKey;

/// Why the key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PseudonymKeyError {
    #[error(
        "secret {0} does not exist: the stack creates it (ResearchPseudonymKey in \
         infra/template.yaml); set KIZUNA_SURVEY_KEY_SECRET to the stack's name for it"
    )]
    Missing(String),
    #[error("secret {name} is not a usable key: {reason}")]
    Unusable { name: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the key from Secrets Manager (once per command: no cache).
#[derive(Debug, Clone)]
pub struct SecretsManagerPseudonymKey {
    client: aws_sdk_secretsmanager::Client,
    name: String,
}

impl SecretsManagerPseudonymKey {
    pub fn new(client: aws_sdk_secretsmanager::Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The secret's name (not its value).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key: the secret string's bytes, exactly as stored.
    pub async fn get(&self) -> Result<PseudonymKey, PseudonymKeyError> {
        let result = self
            .client
            .get_secret_value()
            .secret_id(&self.name)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                return Err(PseudonymKeyError::Missing(self.name.clone()))
            }
            Err(e) => return Err(store_error("GetSecretValue", e).into()),
        };
        let unusable = |reason: String| PseudonymKeyError::Unusable {
            name: self.name.clone(),
            reason,
        };
        let text = out
            .secret_string()
            .ok_or_else(|| unusable("not a string secret".into()))?;
        PseudonymKey::new(text.as_bytes()).map_err(|e| unusable(e.to_string()))
    }
}
