//! Channels and their credentials: configured channels, endpoint families, long-lived and
//! issued stateless tokens (with revocation), reply tokens and the users a bot knows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rate_limit::Window;
use crate::{lock, FakeLine};

/// Lifetime of tokens issued by `POST /oauth2/v3/token` (LINE: 15 minutes).
pub const STATELESS_TOKEN_TTL: Duration = Duration::from_secs(900);
/// How long a reply token is usable by default (LINE: about one minute after the webhook).
pub const DEFAULT_REPLY_TOKEN_TTL: Duration = Duration::from_secs(60);

/// A channel known to the fake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeChannel {
    pub channel_id: String,
    pub channel_secret: String,
    /// Long-lived tokens accepted for this channel (stateless ones are issued on demand).
    #[serde(default)]
    pub access_tokens: Vec<String>,
    /// The bot's user id (`/v2/bot/info` `userId`, webhook `destination`).
    pub bot_user_id: String,
    /// Monthly message quota; `None` = no target limit.
    #[serde(default)]
    pub monthly_quota: Option<u64>,
}

/// Endpoint families, each with its own rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Push,
    Reply,
    /// `GET /v2/bot/message/quota` and `/quota/consumption`.
    Quota,
    /// `POST /oauth2/v3/token`.
    Token,
    /// `GET /v2/bot/info`.
    BotInfo,
    /// The rich menu endpoints (create, image, default, list, get, delete).
    RichMenu,
}

impl Endpoint {
    pub(crate) const ALL: [Endpoint; 6] = [
        Endpoint::Push,
        Endpoint::Reply,
        Endpoint::Quota,
        Endpoint::Token,
        Endpoint::BotInfo,
        Endpoint::RichMenu,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A configured channel with its rate-limit windows (one per [`Endpoint`]) and token
/// generations.
#[derive(Debug)]
pub(crate) struct ChannelRuntime {
    pub(crate) config: FakeChannel,
    pub(crate) windows: Vec<Window>,
    /// Tokens issued before this generation are revoked (long-lived ones are generation 0).
    pub(crate) min_generation: AtomicU64,
    pub(crate) generation: AtomicU64,
}

/// A stateless token issued by `POST /oauth2/v3/token`.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub(crate) channel_id: String,
    pub(crate) expires_at: Instant,
    pub(crate) generation: u64,
}

/// A reply token issued with a (fake) webhook event.
#[derive(Debug, Clone)]
pub(crate) struct ReplyToken {
    pub(crate) user_id: String,
    /// `None`: usable on any channel.
    pub(crate) channel_id: Option<String>,
    pub(crate) expires_at: Instant,
}

/// Outcome of checking a bearer token.
pub(crate) enum Auth<'a> {
    Channel(&'a ChannelRuntime),
    Denied,
}

/// Drops expired entries when the map has doubled since the last sweep, so that issuing stays
/// amortized O(1) under load instead of scanning the map on every insert.
fn prune<V>(map: &mut HashMap<String, V>, keep: impl Fn(&V) -> bool) {
    let len = map.len();
    if len >= 1024 && len.is_power_of_two() {
        map.retain(|_, v| keep(v));
    }
}

impl FakeLine {
    /// A configured channel.
    pub fn channel(&self, channel_id: &str) -> Option<&FakeChannel> {
        self.inner.channels.get(channel_id).map(|c| &c.config)
    }

    /// Issues a reply token for `user_id`, usable once on any channel within the reply token
    /// TTL, as LINE does when it sends a webhook event. Also makes the user known.
    pub fn issue_reply_token(&self, user_id: &str) -> String {
        self.issue_reply_token_inner(user_id, None)
    }

    /// Like [`FakeLine::issue_reply_token`], but only usable with `channel_id`'s tokens.
    pub fn issue_reply_token_for(&self, channel_id: &str, user_id: &str) -> String {
        self.issue_reply_token_inner(user_id, Some(channel_id.to_owned()))
    }

    fn issue_reply_token_inner(&self, user_id: &str, channel_id: Option<String>) -> String {
        let token = Uuid::new_v4().simple().to_string();
        let expires_at = self.inner.clock.now() + self.inner.reply_token_ttl;
        let mut tokens = lock(&self.inner.reply_tokens);
        prune(&mut tokens, |t| t.expires_at > self.inner.clock.now());
        tokens.insert(
            token.clone(),
            ReplyToken {
                user_id: user_id.to_owned(),
                channel_id,
                expires_at,
            },
        );
        drop(tokens);
        self.add_friend(user_id);
        token
    }

    /// Marks a user as known (a friend of the bot) for [`RecordedPush::recipient_known`].
    pub fn add_friend(&self, user_id: &str) {
        self.inner
            .known_users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user_id.to_owned());
    }

    pub(crate) fn is_known_user(&self, user_id: &str) -> bool {
        self.inner
            .known_users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(user_id)
    }

    /// Makes every token of the channel issued so far (long-lived and stateless) fail with
    /// 401; tokens issued afterwards work.
    pub fn revoke_tokens(&self, channel_id: &str) {
        if let Some(c) = self.inner.channels.get(channel_id) {
            let next = c.generation.fetch_add(1, Ordering::SeqCst) + 1;
            c.min_generation.store(next, Ordering::SeqCst);
        }
    }

    /// Undoes [`FakeLine::revoke_tokens`].
    pub fn restore_tokens(&self, channel_id: &str) {
        if let Some(c) = self.inner.channels.get(channel_id) {
            c.min_generation.store(0, Ordering::SeqCst);
        }
    }

    pub(crate) fn authenticate(&self, bearer: Option<&str>) -> Auth<'_> {
        let Some(token) = bearer else {
            return Auth::Denied;
        };
        let (channel_id, generation) = if let Some(c) = self.inner.static_tokens.get(token) {
            (c.clone(), 0)
        } else {
            let issued = self
                .inner
                .issued
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            match issued.get(token) {
                Some(t) if t.expires_at > self.inner.clock.now() => {
                    (t.channel_id.clone(), t.generation)
                }
                _ => return Auth::Denied,
            }
        };
        match self.inner.channels.get(&channel_id) {
            Some(c) if generation >= c.min_generation.load(Ordering::SeqCst) => Auth::Channel(c),
            _ => Auth::Denied,
        }
    }

    pub(crate) fn channel_runtime(&self, channel_id: &str) -> Option<&ChannelRuntime> {
        self.inner.channels.get(channel_id)
    }

    pub(crate) fn admit(&self, channel: &ChannelRuntime, endpoint: Endpoint) -> bool {
        channel.windows[endpoint.index()].admit(self.inner.clock.now())
    }

    pub(crate) fn issue_stateless_token(&self, channel: &ChannelRuntime) -> (String, Duration) {
        let token = format!("fake-stateless-{}", Uuid::new_v4().simple());
        let now = self.inner.clock.now();
        let ttl = self.inner.stateless_token_ttl;
        {
            let mut issued = self
                .inner
                .issued
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            prune(&mut issued, |t| t.expires_at > now);
            issued.insert(
                token.clone(),
                IssuedToken {
                    channel_id: channel.config.channel_id.clone(),
                    expires_at: now + ttl,
                    generation: channel.generation.load(Ordering::SeqCst),
                },
            );
        }
        *lock(&self.inner.ledger)
            .issued_tokens
            .entry(channel.config.channel_id.clone())
            .or_default() += 1;
        (token, ttl)
    }

    /// Consumes a reply token: `Some(user id)` if it exists, is unexpired and belongs to the
    /// channel.
    pub(crate) fn take_reply_token(&self, token: &str, channel_id: &str) -> Option<String> {
        let now = self.inner.clock.now();
        let mut tokens = lock(&self.inner.reply_tokens);
        let t = tokens.get(token)?;
        if t.expires_at <= now {
            tokens.remove(token);
            return None;
        }
        if t.channel_id.as_deref().is_some_and(|c| c != channel_id) {
            return None;
        }
        tokens.remove(token).map(|t| t.user_id)
    }
}
