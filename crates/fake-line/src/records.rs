//! What the fake accepted and refused: recorded pushes, replies, rejections and rich menus,
//! the monthly message count and the retry keys seen.

use std::collections::HashMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::channels::{ChannelRuntime, Endpoint};
use crate::{lock, FakeLine};

/// How long LINE remembers an accepted `X-Line-Retry-Key`.
pub const RETRY_KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A push the fake accepted (delivered).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedPush {
    pub channel_id: String,
    pub to: String,
    pub messages: Vec<Value>,
    pub retry_key: Option<Uuid>,
    pub request_id: String,
    pub notification_disabled: bool,
    /// Whether `to` is a user the fake knows ([`FakeLine::add_friend`] or a reply token
    /// issued for them). LINE answers 200 for unknown and blocked users too; this lets a
    /// test tell them apart.
    pub recipient_known: bool,
    pub at: DateTime<Utc>,
}

/// A reply the fake accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedReply {
    pub channel_id: String,
    pub reply_token: String,
    /// The user the reply token was issued for.
    pub user_id: String,
    pub messages: Vec<Value>,
    pub request_id: String,
    pub notification_disabled: bool,
    pub at: DateTime<Utc>,
}

/// Why a request was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionKind {
    /// Missing, unknown, expired or revoked bearer token (401).
    Unauthorized,
    /// Token endpoint: wrong client id/secret (400 `invalid_client`).
    InvalidClient,
    /// Not `application/json` (415).
    UnsupportedMediaType,
    /// Body is not JSON (400).
    InvalidJson,
    /// Body violates the spec or a documented rule (400 with details).
    InvalidBody,
    /// Unknown, used or expired reply token (400).
    InvalidReplyToken,
    /// `X-Line-Retry-Key` is not a UUID (400).
    InvalidRetryKey,
    /// Same retry key already accepted (409): the protocol working, not a client bug.
    DuplicateRetryKey,
    /// Per-second rate limit (429).
    RateLimited,
    /// Monthly quota used up (429).
    MonthlyLimit,
    /// Failure injected by a test (fault plan or `fail_next`).
    Injected,
    /// Unknown rich menu id, or no default rich menu (404): the channel's state, which a
    /// client may legitimately probe.
    NotFound,
    /// A rich menu image too large (413), of the wrong type (415) or size (400), or a second
    /// image for one menu; or a default set before the image is uploaded (400).
    InvalidRichMenuImage,
}

impl RejectionKind {
    /// Whether the request itself was wrong (as opposed to load, quota, injected faults or a
    /// retry-key duplicate): what tests assert never happens.
    pub fn is_contract_violation(self) -> bool {
        matches!(
            self,
            RejectionKind::Unauthorized
                | RejectionKind::InvalidClient
                | RejectionKind::UnsupportedMediaType
                | RejectionKind::InvalidJson
                | RejectionKind::InvalidBody
                | RejectionKind::InvalidReplyToken
                | RejectionKind::InvalidRetryKey
                | RejectionKind::InvalidRichMenuImage
        )
    }
}

/// A request the fake answered with an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedRequest {
    pub endpoint: Endpoint,
    /// Known once the request authenticated.
    pub channel_id: Option<String>,
    pub status: u16,
    pub kind: RejectionKind,
    /// The error message sent, with the details of an invalid body.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A rich menu the fake holds for a channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRichMenu {
    pub channel_id: String,
    pub rich_menu_id: String,
    /// The create request's body, as accepted.
    pub menu: Value,
    /// Media type and bytes of the uploaded image, once uploaded.
    #[serde(skip)]
    pub image: Option<(String, Vec<u8>)>,
}

/// Each channel's rich menus (in creation order) and its default one.
#[derive(Debug, Default)]
pub(crate) struct RichMenus {
    pub(crate) menus: Vec<RecordedRichMenu>,
    /// Channel id → default rich menu id.
    pub(crate) defaults: HashMap<String, String>,
}

/// Everything recorded about requests, behind one lock so that a push's dedupe, quota count
/// and record happen atomically.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub(crate) pushes: Vec<RecordedPush>,
    pub(crate) replies: Vec<RecordedReply>,
    pub(crate) rejected: Vec<RejectedRequest>,
    /// (channel id, retry key) → (request id of the accepted push, when).
    pub(crate) retry_keys: HashMap<(String, Uuid), (String, Instant)>,
    /// Channel id → messages counted against the monthly quota.
    pub(crate) counted: HashMap<String, u64>,
    /// Channel id → stateless tokens issued.
    pub(crate) issued_tokens: HashMap<String, u64>,
}

/// What [`FakeLine::commit_push`] decided.
pub(crate) enum PushCommit {
    Accepted,
    Duplicate { accepted_request_id: String },
    OverQuota,
}

impl FakeLine {
    pub fn recorded_pushes(&self) -> Vec<RecordedPush> {
        lock(&self.inner.ledger).pushes.clone()
    }

    pub fn recorded_replies(&self) -> Vec<RecordedReply> {
        lock(&self.inner.ledger).replies.clone()
    }

    pub fn rejected_requests(&self) -> Vec<RejectedRequest> {
        lock(&self.inner.ledger).rejected.clone()
    }

    /// Rejections caused by the request itself (see [`RejectionKind::is_contract_violation`]).
    pub fn contract_violations(&self) -> Vec<RejectedRequest> {
        lock(&self.inner.ledger)
            .rejected
            .iter()
            .filter(|r| r.kind.is_contract_violation())
            .cloned()
            .collect()
    }

    /// Messages counted against the channel's monthly quota (one per push recipient;
    /// replies are free).
    pub fn counted_messages(&self, channel_id: &str) -> u64 {
        lock(&self.inner.ledger)
            .counted
            .get(channel_id)
            .copied()
            .unwrap_or(0)
    }

    /// The channel's rich menus, in creation order.
    pub fn rich_menus(&self, channel_id: &str) -> Vec<RecordedRichMenu> {
        lock(&self.inner.rich_menus)
            .menus
            .iter()
            .filter(|m| m.channel_id == channel_id)
            .cloned()
            .collect()
    }

    /// The channel's default rich menu id, if one is set.
    pub fn default_rich_menu(&self, channel_id: &str) -> Option<String> {
        lock(&self.inner.rich_menus)
            .defaults
            .get(channel_id)
            .cloned()
    }

    pub(crate) fn rich_menu_state(&self) -> MutexGuard<'_, RichMenus> {
        lock(&self.inner.rich_menus)
    }

    /// How many stateless tokens were issued for the channel.
    pub fn issued_token_count(&self, channel_id: &str) -> u64 {
        lock(&self.inner.ledger)
            .issued_tokens
            .get(channel_id)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn reject(
        &self,
        endpoint: Endpoint,
        channel_id: Option<&str>,
        status: u16,
        kind: RejectionKind,
        reason: String,
    ) {
        // Contract violations are what a developer running the local stack needs to see;
        // load-related refusals would flood the log under a load test.
        if kind.is_contract_violation() {
            tracing::warn!(?endpoint, status, ?kind, %reason, "fake-line rejected a request");
        } else {
            tracing::debug!(?endpoint, status, ?kind, %reason, "fake-line refused a request");
        }
        let at = self.inner.clock.wall();
        lock(&self.inner.ledger).rejected.push(RejectedRequest {
            endpoint,
            channel_id: channel_id.map(str::to_owned),
            status,
            kind,
            reason,
            at,
        });
    }

    pub(crate) fn record_reply(&self, reply: RecordedReply) {
        lock(&self.inner.ledger).replies.push(reply);
    }

    /// The atomic part of a push: retry-key dedupe, quota, recording.
    pub(crate) fn commit_push(&self, channel: &ChannelRuntime, push: RecordedPush) -> PushCommit {
        let now = self.inner.clock.now();
        let channel_id = &channel.config.channel_id;
        let mut ledger = lock(&self.inner.ledger);
        if let Some(key) = push.retry_key {
            let k = (channel_id.clone(), key);
            match ledger.retry_keys.get(&k) {
                Some((request_id, at)) if now.saturating_duration_since(*at) < RETRY_KEY_TTL => {
                    return PushCommit::Duplicate {
                        accepted_request_id: request_id.clone(),
                    };
                }
                _ => {}
            }
        }
        let counted = ledger.counted.get(channel_id).copied().unwrap_or(0);
        if channel
            .config
            .monthly_quota
            .is_some_and(|quota| counted >= quota)
        {
            return PushCommit::OverQuota;
        }
        // LINE counts one message per recipient, however many message objects the push has.
        ledger.counted.insert(channel_id.clone(), counted + 1);
        if let Some(key) = push.retry_key {
            ledger
                .retry_keys
                .insert((channel_id.clone(), key), (push.request_id.clone(), now));
        }
        ledger.pushes.push(push);
        PushCommit::Accepted
    }

    pub(crate) fn quota(&self, channel: &ChannelRuntime) -> (Option<u64>, u64) {
        (
            channel.config.monthly_quota,
            self.counted_messages(&channel.config.channel_id),
        )
    }
}
