//! A cache of channel access tokens: the long-lived one when the credentials carry one,
//! otherwise stateless tokens issued by [`LineClient::issue_stateless_token`].
//!
//! This module uses the client, never the other way round: the client only issues tokens and
//! takes them per call. Tokens and secrets are `kizuna_app::model` types whose `Debug` is
//! redacted and which implement no `Display`, so they cannot reach a log line by accident.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kizuna_app::model::{ChannelCredentials, ChannelToken};

use crate::client::{LineClient, StatelessToken};
use crate::error::LineError;

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
        let issued = self.issue(credentials).await?;
        let now = (self.clock)();
        // A token that lives less than the margin is used once and not cached.
        let refresh_at = now + issued.expires_in.saturating_sub(REFRESH_MARGIN);
        *cached = Some(Cached {
            token: issued.token.clone(),
            refresh_at,
        });
        Ok(issued.token)
    }

    /// A token to use instead of `rejected`, which LINE refused (401): the cached one if a
    /// concurrent caller has already replaced `rejected`, otherwise a newly issued one. So a
    /// burst of pushes refused with the same expired token issues one new token, not one each.
    /// A long-lived token cannot be replaced: it is returned as stored.
    pub async fn fresh_token(
        &self,
        credentials: &ChannelCredentials,
        rejected: &ChannelToken,
    ) -> Result<ChannelToken, LineError> {
        if let Some(token) = &credentials.channel_access_token {
            return Ok(token.clone());
        }
        let slot = self.slot(&credentials.channel_id);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref() {
            if c.token != *rejected && (self.clock)() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        *cached = None;
        let issued = self.issue(credentials).await?;
        let refresh_at = (self.clock)() + issued.expires_in.saturating_sub(REFRESH_MARGIN);
        *cached = Some(Cached {
            token: issued.token.clone(),
            refresh_at,
        });
        Ok(issued.token)
    }

    async fn issue(&self, credentials: &ChannelCredentials) -> Result<StatelessToken, LineError> {
        self.client
            .issue_stateless_token(&credentials.channel_id, &credentials.channel_secret)
            .await
    }

    /// Forgets the cached token of a channel, e.g. after LINE answered 401 with it.
    pub async fn invalidate(&self, channel_id: &str) {
        let slot = self.slot(channel_id);
        *slot.lock().await = None;
    }
}
