//! The outbound side of a municipality's messaging channel, as ports: what the sender and the
//! webhook ask of LINE, in the application's words.
//!
//! The use cases hand over the municipality's [`ChannelCredentials`] with every call and never
//! see an access token: issuing, caching and renewing tokens is the adapter's business
//! (`kizuna_line::LineMessenger`), and so is the one retry with a freshly issued token when the
//! cached one is refused.

use crate::model::ChannelCredentials;
use async_trait::async_trait;
use kizuna_core::{LineUserId, Message};
use std::time::Duration;
use uuid::Uuid;

/// A push the messaging service did not refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushReceipt {
    /// Accepted now. `request_id` is the service's id of the request, for its support desk.
    Accepted { request_id: Option<String> },
    /// A push with the same retry key was accepted before (LINE answers 409 within 24 hours
    /// of it): the message was delivered once and is not sent again.
    AlreadyAccepted { accepted_request_id: String },
}

/// The channel's message allowance for the current month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthlyQuota {
    /// No limit set.
    Unlimited,
    /// At most this many messages this month.
    Limited(u64),
}

/// Why a call to the messaging service failed, sorted by what the caller can do about it.
///
/// Every variant carries the adapter's own description (`detail`), which is what `Display`
/// prints: the ledger keeps it as a failed delivery's reason and logs show it, so it must
/// never hold a token, a secret or a user id (LINE's error answers hold none).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessengerError {
    /// Too many requests right now; retryable, after `retry_after` if the service said.
    #[error("{detail}")]
    RateLimited {
        retry_after: Option<Duration>,
        detail: String,
    },
    /// The channel has used up its monthly message limit: nothing more goes out this month
    /// unless the limit is raised, so retrying now does not help.
    #[error("{detail}")]
    MonthlyLimitReached { detail: String },
    /// The channel's credentials were refused, even with a freshly issued access token where
    /// the channel uses stateless tokens. Not retryable until the credentials change.
    #[error("{detail}")]
    Unauthorized { detail: String },
    /// The service refused this request (a 4xx other than the above), or answered a success
    /// in a shape that must not be retried (the message probably went out). Not retryable.
    #[error("{detail}")]
    Rejected { detail: String },
    /// No usable answer (timeout, connection failure) or a server error (5xx). Retryable; a
    /// push may have been accepted all the same, which is what its retry key is for.
    #[error("{detail}")]
    Unavailable { detail: String },
}

impl MessengerError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            MessengerError::RateLimited { .. } | MessengerError::Unavailable { .. } => true,
            MessengerError::MonthlyLimitReached { .. }
            | MessengerError::Unauthorized { .. }
            | MessengerError::Rejected { .. } => false,
        }
    }
}

/// Sends a municipality's messages through its channel (LINE's Messaging API in production).
///
/// Object-safe: a composition root builds one per process and hands out `Arc<dyn Messenger>`.
#[async_trait]
pub trait Messenger: Send + Sync {
    /// Makes sure the credentials give access now (a long-lived token as stored, or a
    /// stateless one issued or reused from the adapter's cache). The sender asks before it
    /// takes a send job, so refused credentials fail the job before anything is leased or
    /// counted.
    async fn check_access(&self, channel: &ChannelCredentials) -> Result<(), MessengerError>;

    /// Pushes `messages` to one recipient. Every attempt at one delivery must use the same
    /// `retry_key`: an attempt whose earlier twin was accepted (its answer lost) then comes
    /// back as [`PushReceipt::AlreadyAccepted`] instead of a second delivery.
    async fn push(
        &self,
        channel: &ChannelCredentials,
        to: &LineUserId,
        messages: &[Message],
        retry_key: Uuid,
    ) -> Result<PushReceipt, MessengerError>;

    /// Answers a webhook event with its single-use `reply_token`. Not retried by the
    /// adapter: a refused reply token stays refused.
    async fn reply(
        &self,
        channel: &ChannelCredentials,
        reply_token: &str,
        messages: &[Message],
    ) -> Result<(), MessengerError>;

    /// The channel's monthly message limit.
    async fn monthly_quota(
        &self,
        channel: &ChannelCredentials,
    ) -> Result<MonthlyQuota, MessengerError>;

    /// Messages counted against the monthly limit so far this month.
    async fn quota_consumption(&self, channel: &ChannelCredentials) -> Result<u64, MessengerError>;
}

/// Forwards a webhook request, unchanged, to the town's other webhook service.
#[async_trait]
pub trait WebhookForwarder: Send + Sync {
    /// `signature` is the original `x-line-signature`: the downstream verifies it with the same
    /// channel secret, so the body must be the exact bytes LINE sent. Returns the downstream's
    /// HTTP status, or why it could not be reached.
    async fn forward(&self, url: &str, body: &[u8], signature: &str) -> Result<u16, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail() -> String {
        "LINE said so".into()
    }

    /// Gets: only a passing rate limit and an unavailable service are worth another try; the
    /// month's limit, refused credentials and refused requests are not.
    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(MessengerError::RateLimited {
            retry_after: Some(Duration::from_secs(1)),
            detail: detail()
        }
        .is_retryable());
        assert!(MessengerError::Unavailable { detail: detail() }.is_retryable());
        assert!(!MessengerError::MonthlyLimitReached { detail: detail() }.is_retryable());
        assert!(!MessengerError::Unauthorized { detail: detail() }.is_retryable());
        assert!(!MessengerError::Rejected { detail: detail() }.is_retryable());
    }

    /// Gets: `Display` is the adapter's description alone (it becomes a ledger reason).
    #[test]
    fn displays_the_adapters_description() {
        let e = MessengerError::Unavailable {
            detail: "LINE server error (503)".into(),
        };
        assert_eq!(e.to_string(), "LINE server error (503)");
    }
}
