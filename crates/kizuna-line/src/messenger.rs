//! [`LineMessenger`]: the application's [`Messenger`] port over the Messaging API client, with
//! the channel access token cache inside, so the use cases never hold a token.

use async_trait::async_trait;
use kizuna_app::model::{ChannelCredentials, ChannelToken};
use kizuna_app::ports::{Messenger, MessengerError, MonthlyQuota, PushReceipt};
use kizuna_core::{LineUserId, Message};
use uuid::Uuid;

use crate::client::{LineClient, PushOutcome, Quota};
use crate::error::LineError;
use crate::token::TokenProvider;
use crate::wire::{self, LineMessage};

/// Sends through LINE's Messaging API for any number of channels: one HTTP connection pool,
/// one token cache keyed by channel id. Build it once per process.
#[derive(Debug)]
pub struct LineMessenger {
    client: LineClient,
    tokens: TokenProvider,
}

impl LineMessenger {
    pub fn new(client: LineClient) -> Self {
        let tokens = TokenProvider::new(client.clone());
        Self { client, tokens }
    }

    /// The same messenger over an existing token cache (tests replace its clock).
    pub fn with_tokens(client: LineClient, tokens: TokenProvider) -> Self {
        Self { client, tokens }
    }

    /// The client it sends with (its connection pool is the one warmed up at init).
    pub fn client(&self) -> &LineClient {
        &self.client
    }

    async fn token(&self, channel: &ChannelCredentials) -> Result<ChannelToken, MessengerError> {
        self.tokens.token(channel).await.map_err(messenger_error)
    }

    /// After LINE refused the channel's token with a 401: forget it, so that the next call
    /// starts from a fresh token rather than the refused one.
    async fn forget(&self, channel: &ChannelCredentials) {
        self.tokens.invalidate(&channel.channel_id).await;
    }
}

#[async_trait]
impl Messenger for LineMessenger {
    async fn check_access(&self, channel: &ChannelCredentials) -> Result<(), MessengerError> {
        self.token(channel).await.map(|_| ())
    }

    /// A push refused with 401 is sent once more with a freshly issued token when the channel
    /// uses stateless tokens: one may be refused before its announced expiry. A long-lived
    /// token cannot be renewed here, so its 401 is final at once.
    async fn push(
        &self,
        channel: &ChannelCredentials,
        to: &LineUserId,
        messages: &[Message],
        retry_key: Uuid,
    ) -> Result<PushReceipt, MessengerError> {
        let messages = render(messages)?;
        let messages = messages.as_slice();
        let token = self.token(channel).await?;
        let first = self
            .client
            .push(&token, to.as_str(), messages, retry_key)
            .await;
        let answer = match first {
            Err(LineError::Unauthorized) if channel.uses_stateless_tokens() => {
                // Failing to issue a fresh token leaves the push refused (and the refused token
                // forgotten: `fresh_token` dropped it before issuing).
                let Ok(fresh) = self.tokens.fresh_token(channel, &token).await else {
                    return Err(messenger_error(LineError::Unauthorized));
                };
                // The same retry key: if the first push was somehow accepted, LINE says 409.
                self.client
                    .push(&fresh, to.as_str(), messages, retry_key)
                    .await
            }
            other => other,
        };
        match answer {
            Ok(PushOutcome::Accepted { request_id, .. }) => {
                Ok(PushReceipt::Accepted { request_id })
            }
            Ok(PushOutcome::AlreadyAccepted {
                accepted_request_id,
            }) => Ok(PushReceipt::AlreadyAccepted {
                accepted_request_id,
            }),
            Err(e) => {
                if e == LineError::Unauthorized {
                    self.forget(channel).await;
                }
                Err(messenger_error(e))
            }
        }
    }

    /// Not retried with a fresh token: the webhook's reply has always been given up on a 401
    /// (the token is forgotten, so the next event's reply gets a fresh one).
    async fn reply(
        &self,
        channel: &ChannelCredentials,
        reply_token: &str,
        messages: &[Message],
    ) -> Result<(), MessengerError> {
        let messages = render(messages)?;
        let token = self.token(channel).await?;
        match self.client.reply(&token, reply_token, &messages).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if e == LineError::Unauthorized {
                    self.forget(channel).await;
                }
                Err(messenger_error(e))
            }
        }
    }

    async fn monthly_quota(
        &self,
        channel: &ChannelCredentials,
    ) -> Result<MonthlyQuota, MessengerError> {
        let token = self.token(channel).await?;
        match self.client.quota(&token).await {
            Ok(Quota::Limited(limit)) => Ok(MonthlyQuota::Limited(limit)),
            Ok(Quota::Unlimited) => Ok(MonthlyQuota::Unlimited),
            Err(e) => Err(messenger_error(e)),
        }
    }

    async fn quota_consumption(&self, channel: &ChannelCredentials) -> Result<u64, MessengerError> {
        let token = self.token(channel).await?;
        self.client
            .quota_consumption(&token)
            .await
            .map_err(messenger_error)
    }
}

/// The application's view of a LINE error: what to do about it, and LINE's own description
/// (which names no token, secret or user).
/// The messages as LINE's message objects; what LINE would refuse (a 400) is refused here,
/// not retryable, and never sent. The detail names counts and positions, never the text.
fn render(messages: &[Message]) -> Result<Vec<LineMessage<'_>>, MessengerError> {
    wire::render(messages).map_err(|e| MessengerError::Rejected {
        detail: format!("not sent: {e}"),
    })
}

pub fn messenger_error(e: LineError) -> MessengerError {
    let detail = e.to_string();
    match e {
        LineError::RateLimited {
            monthly_limit: true,
            ..
        } => MessengerError::MonthlyLimitReached { detail },
        LineError::RateLimited { retry_after, .. } => MessengerError::RateLimited {
            retry_after,
            detail,
        },
        LineError::Unauthorized => MessengerError::Unauthorized { detail },
        LineError::Server { .. } | LineError::Transport(_) => {
            MessengerError::Unavailable { detail }
        }
        LineError::BadRequest { .. }
        | LineError::Conflict { .. }
        | LineError::Other { .. }
        | LineError::InvalidResponse(_)
        | LineError::Config(_) => MessengerError::Rejected { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Gets: every LINE error keeps its retryability and its description across the port, and
    /// the monthly limit is told apart from the per-second rate limit.
    #[test]
    fn line_errors_keep_their_meaning_across_the_port() {
        let cases = [
            LineError::Unauthorized,
            LineError::BadRequest {
                message: "Invalid reply token".into(),
                details: vec![],
            },
            LineError::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                monthly_limit: false,
            },
            LineError::RateLimited {
                retry_after: None,
                monthly_limit: true,
            },
            LineError::Server { status: 503 },
            LineError::Conflict {
                message: "x".into(),
            },
            LineError::Other {
                status: 403,
                message: "x".into(),
            },
            LineError::Transport("timeout".into()),
            LineError::InvalidResponse("x".into()),
            LineError::Config("x".into()),
        ];
        for line in cases {
            let app = messenger_error(line.clone());
            assert_eq!(app.is_retryable(), line.is_retryable(), "{line:?}");
            assert_eq!(app.to_string(), line.to_string());
            assert_eq!(
                matches!(app, MessengerError::MonthlyLimitReached { .. }),
                line.is_monthly_limit()
            );
            assert_eq!(
                matches!(app, MessengerError::Unauthorized { .. }),
                line == LineError::Unauthorized
            );
        }
        assert_eq!(
            messenger_error(LineError::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                monthly_limit: false,
            }),
            MessengerError::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                detail: "LINE rate limit exceeded (429, monthly limit: false)".into(),
            }
        );
    }
}
