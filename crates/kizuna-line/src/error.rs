//! Errors of the Messaging API client, classified by what the caller should do about them.

use std::time::Duration;

use serde::Deserialize;

/// LINE's body message for a 429 caused by the monthly message limit, as opposed to the
/// per-second rate limit: the former will not clear by retrying this month.
pub const MONTHLY_LIMIT_MESSAGE: &str = "You have reached your monthly limit.";

/// LINE's body message for a reply token that is unknown, already used or expired.
pub const INVALID_REPLY_TOKEN_MESSAGE: &str = "Invalid reply token";

/// One entry of `details` in LINE's error response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub property: Option<String>,
}

/// A failed call to the LINE API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// 401: the access token is invalid, expired or revoked (or, for the token endpoint, the
    /// channel id/secret are wrong). Refresh the token; retrying as is will not help.
    #[error("LINE rejected the credentials (401)")]
    Unauthorized,
    /// 400: the request is invalid (message objects, reply token, `to`, …). Not retryable.
    #[error("LINE rejected the request (400): {message}")]
    BadRequest {
        message: String,
        details: Vec<ErrorDetail>,
    },
    /// 429: the per-second rate limit (retryable, after `retry_after` if LINE said) or the
    /// monthly message limit (`monthly_limit`, not retryable this month).
    #[error("LINE rate limit exceeded (429, monthly limit: {monthly_limit})")]
    RateLimited {
        retry_after: Option<Duration>,
        monthly_limit: bool,
    },
    /// 5xx: LINE failed; retryable (with the same `X-Line-Retry-Key` for pushes).
    #[error("LINE server error ({status})")]
    Server { status: u16 },
    /// 409 without `x-line-accepted-request-id`: a conflict that is not a retry-key duplicate.
    #[error("LINE reported a conflict (409): {message}")]
    Conflict { message: String },
    /// Another 4xx status (403 for a plan restriction, 404, 413, 415, …).
    #[error("LINE answered {status}: {message}")]
    Other { status: u16, message: String },
    /// No usable HTTP response: timeout, connection refused/reset, TLS failure. Retryable; for a
    /// push, the request may have been accepted, which is what the retry key is for.
    #[error("transport error talking to LINE: {0}")]
    Transport(String),
    /// A 2xx response whose body is not what the API documents. The request probably took
    /// effect, so this is not retryable.
    #[error("unexpected response from LINE: {0}")]
    InvalidResponse(String),
    /// The client could not be built (bad base URL, TLS backend initialization).
    #[error("invalid LINE client configuration: {0}")]
    Config(String),
}

impl LineError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            LineError::RateLimited { monthly_limit, .. } => !monthly_limit,
            LineError::Server { .. } | LineError::Transport(_) => true,
            LineError::Unauthorized
            | LineError::BadRequest { .. }
            | LineError::Conflict { .. }
            | LineError::Other { .. }
            | LineError::InvalidResponse(_)
            | LineError::Config(_) => false,
        }
    }

    /// Whether LINE refused a reply token (unknown, used or expired): the caller may fall back
    /// to a push.
    pub fn is_invalid_reply_token(&self) -> bool {
        matches!(self, LineError::BadRequest { message, .. } if message == INVALID_REPLY_TOKEN_MESSAGE)
    }

    /// Whether the channel has used up its monthly message quota.
    pub fn is_monthly_limit(&self) -> bool {
        matches!(
            self,
            LineError::RateLimited {
                monthly_limit: true,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability() {
        assert!(LineError::Server { status: 503 }.is_retryable());
        assert!(LineError::Transport("timeout".into()).is_retryable());
        assert!(LineError::RateLimited {
            retry_after: None,
            monthly_limit: false
        }
        .is_retryable());
        assert!(!LineError::RateLimited {
            retry_after: None,
            monthly_limit: true
        }
        .is_retryable());
        assert!(!LineError::Unauthorized.is_retryable());
        assert!(!LineError::BadRequest {
            message: "x".into(),
            details: vec![]
        }
        .is_retryable());
        assert!(!LineError::Conflict {
            message: "x".into()
        }
        .is_retryable());
        assert!(!LineError::InvalidResponse("x".into()).is_retryable());
    }

    #[test]
    fn recognizes_invalid_reply_token() {
        let e = LineError::BadRequest {
            message: INVALID_REPLY_TOKEN_MESSAGE.into(),
            details: vec![],
        };
        assert!(e.is_invalid_reply_token());
        assert!(!LineError::Unauthorized.is_invalid_reply_token());
    }
}
