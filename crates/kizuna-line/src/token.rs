//! Channel credentials and access tokens, and a cache of stateless tokens.
//!
//! Tokens and secrets are wrapped in types whose `Debug` is redacted and which implement no
//! `Display` or `Serialize`, so they cannot reach a log line by accident; the raw value is only
//! reachable through an explicitly named `expose_secret()`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::client::LineClient;
use crate::error::LineError;

/// A channel access token (long-lived or stateless). `Debug` prints `ChannelToken(***)`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ChannelToken(String);

impl ChannelToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The raw token, for the `Authorization` header. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChannelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelToken(***)")
    }
}

/// A channel secret (signs webhooks, issues stateless tokens). `Debug` prints `ChannelSecret(***)`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ChannelSecret(String);

impl ChannelSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The raw secret, as the HMAC key of [`crate::signature::verify`]. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChannelSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSecret(***)")
    }
}

/// One municipality's LINE channel credentials, in the JSON shape of its secret
/// (`{"channel_id": "...", "channel_secret": "...", "channel_access_token": "..."}`, the token
/// being optional: without it, stateless tokens are issued from id + secret).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ChannelCredentials {
    pub channel_id: String,
    pub channel_secret: ChannelSecret,
    #[serde(default)]
    pub channel_access_token: Option<ChannelToken>,
}

/// A token issued by `POST /oauth2/v3/token`.
#[derive(Clone, Debug)]
pub struct StatelessToken {
    pub token: ChannelToken,
    /// Lifetime announced by LINE (900 s today).
    pub expires_in: Duration,
}

/// How long before its announced expiry a cached token stops being handed out, so that a
/// request started with it does not arrive at LINE after it expired.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Time source of the cache, replaceable in tests.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

#[derive(Clone)]
struct Cached {
    token: ChannelToken,
    /// The instant after which the token must not be handed out any more.
    refresh_at: Instant,
}

/// Hands out a channel's access token: the long-lived one when the credentials carry one,
/// otherwise a stateless token, cached per channel id until [`REFRESH_MARGIN`] before expiry.
///
/// Issuing is serialized per channel, so a burst of concurrent senders issues one token rather
/// than one each (a stateless token is cheap, but the token endpoint is rate-limited too).
pub struct TokenProvider {
    client: LineClient,
    clock: Clock,
    // The outer std mutex is held only to find the channel's slot; the per-channel async mutex
    // is held across the HTTP call that issues a token.
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    pub fn new(client: LineClient) -> Self {
        Self::with_clock(client, Arc::new(Instant::now))
    }

    pub fn with_clock(client: LineClient, clock: Clock) -> Self {
        Self {
            client,
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, channel_id: &str) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(channel_id.to_owned()).or_default())
    }

    /// A token that is valid now (and for at least [`REFRESH_MARGIN`] if it is stateless).
    pub async fn token(&self, credentials: &ChannelCredentials) -> Result<ChannelToken, LineError> {
        if let Some(token) = &credentials.channel_access_token {
            return Ok(token.clone());
        }
        let slot = self.slot(&credentials.channel_id);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref() {
            if (self.clock)() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let issued = self
            .client
            .issue_stateless_token(&credentials.channel_id, &credentials.channel_secret)
            .await?;
        let now = (self.clock)();
        // A token that lives less than the margin is used once and not cached.
        let refresh_at = now + issued.expires_in.saturating_sub(REFRESH_MARGIN);
        *cached = Some(Cached {
            token: issued.token.clone(),
            refresh_at,
        });
        Ok(issued.token)
    }

    /// Forgets the cached token of a channel, e.g. after LINE answered 401 with it.
    pub async fn invalidate(&self, channel_id: &str) {
        let slot = self.slot(channel_id);
        *slot.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_tokens_or_secrets() {
        let creds: ChannelCredentials = serde_json::from_str(
            r#"{"channel_id":"1234567890","channel_secret":"s3cr3t-value","channel_access_token":"t0k3n-value"}"#,
        )
        .unwrap();
        let shown = format!("{creds:?} {:?}", creds.channel_access_token);
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("t0k3n-value"), "{shown}");
        assert!(shown.contains("ChannelToken(***)"));
        assert!(shown.contains("ChannelSecret(***)"));
        assert!(shown.contains("1234567890"));
    }

    #[test]
    fn credentials_without_a_long_lived_token_parse() {
        let creds: ChannelCredentials =
            serde_json::from_str(r#"{"channel_id":"1","channel_secret":"s"}"#).unwrap();
        assert!(creds.channel_access_token.is_none());
        assert_eq!(creds.channel_secret.expose_secret(), "s");
    }
}
