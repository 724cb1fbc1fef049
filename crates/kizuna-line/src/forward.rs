//! Forwarding a webhook request, unchanged, to another webhook service of the same channel.
//!
//! A LINE channel has one webhook URL, and a town's account usually already serves other
//! things (segment delivery, forms, chatbots). Kizuna can sit in front and pass on what it does
//! not consume: the exact body bytes with the original `x-line-signature`, which the
//! downstream verifies with the same channel secret, exactly as if LINE had called it.

use crate::error::LineError;
use async_trait::async_trait;
use kizuna_app::ports::WebhookForwarder;
use std::time::Duration;

/// A forward must not hold up the webhook's answer to LINE for long.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);

/// The [`WebhookForwarder`] over HTTP.
#[derive(Debug, Clone)]
pub struct WebhookForwardClient {
    http: reqwest::Client,
}

impl WebhookForwardClient {
    pub fn new() -> Result<Self, LineError> {
        let http = crate::tls::http_client_builder()
            .timeout(FORWARD_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| LineError::Config(e.to_string()))?;
        Ok(Self { http })
    }

    /// POSTs `body` to `url` with `x-line-signature: signature`; returns the status code.
    pub async fn forward(&self, url: &str, body: &[u8], signature: &str) -> Result<u16, LineError> {
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .header("x-line-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| LineError::Transport(e.without_url().to_string()))?;
        Ok(response.status().as_u16())
    }
}

#[async_trait]
impl WebhookForwarder for WebhookForwardClient {
    async fn forward(&self, url: &str, body: &[u8], signature: &str) -> Result<u16, String> {
        WebhookForwardClient::forward(self, url, body, signature)
            .await
            .map_err(|e| e.to_string())
    }
}
