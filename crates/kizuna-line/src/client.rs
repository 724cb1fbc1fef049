//! Messaging API client: reply, push (with `X-Line-Retry-Key`), quota, stateless channel
//! access tokens, bot info, rich menus.
//!
//! Message objects are taken as any `Serialize` value: their types live in `kizuna-core`, and
//! this crate only moves them.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ErrorDetail, LineError, MONTHLY_LIMIT_MESSAGE};
use crate::rich_menu::{RichMenu, RichMenuSummary};
use kizuna_app::model::{ChannelSecret, ChannelToken};

/// Production base URL of the Messaging API and the token endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.line.me";

/// Production base URL of the data host, which takes the binary uploads (rich menu images).
pub const DEFAULT_DATA_BASE_URL: &str = "https://api-data.line.me";

/// Whole-request timeout. LINE usually answers in well under a second; a push that hangs
/// longer is better retried (with its retry key) than waited for inside a Lambda's budget.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection-establishment timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

const REQUEST_ID_HEADER: &str = "x-line-request-id";
const ACCEPTED_REQUEST_ID_HEADER: &str = "x-line-accepted-request-id";
const RETRY_KEY_HEADER: &str = "x-line-retry-key";

/// An id LINE assigned to a sent message (`sentMessages[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub id: String,
    #[serde(default)]
    pub quote_token: Option<String>,
}

/// Result of a successful reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAccepted {
    /// `x-line-request-id`, for LINE support requests.
    pub request_id: Option<String>,
    pub sent_messages: Vec<SentMessage>,
}

/// Result of a push that LINE did not reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// 200: accepted now.
    Accepted {
        request_id: Option<String>,
        sent_messages: Vec<SentMessage>,
    },
    /// 409 with `x-line-accepted-request-id`: a request with the same retry key was already
    /// accepted (within 24 h), so the message was delivered once and is not sent again.
    AlreadyAccepted { accepted_request_id: String },
}

/// A token issued by `POST /oauth2/v3/token`.
#[derive(Clone, Debug)]
pub struct StatelessToken {
    pub token: ChannelToken,
    /// Lifetime announced by LINE (900 s today).
    pub expires_in: Duration,
}

/// `GET /v2/bot/message/quota`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// No target limit set.
    Unlimited,
    /// Target limit for the current month.
    Limited(u64),
}

/// `GET /v2/bot/info` (the fields Kizuna uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotInfo {
    /// The bot's user id: webhooks for this channel carry it as `destination`.
    pub user_id: String,
    pub basic_id: String,
    pub display_name: String,
    #[serde(default)]
    pub premium_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplyBody<'a, M> {
    reply_token: &'a str,
    messages: &'a [M],
}

#[derive(Serialize)]
struct PushBody<'a, M> {
    to: &'a str,
    messages: &'a [M],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentMessagesBody {
    #[serde(default)]
    sent_messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct QuotaBody {
    #[serde(rename = "type")]
    quota_type: String,
    #[serde(default)]
    value: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsumptionBody {
    total_usage: u64,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: u64,
}

/// LINE's error body: `{"message": ..., "details": [...]}` for the Messaging API,
/// `{"error": ..., "error_description": ...}` for the OAuth endpoints.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl ErrorBody {
    fn parse(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn text(&self, bytes: &[u8]) -> String {
        if let Some(m) = &self.message {
            return m.clone();
        }
        match (&self.error, &self.error_description) {
            (Some(e), Some(d)) => format!("{e}: {d}"),
            (Some(e), None) => e.clone(),
            // Not JSON: keep a bounded prefix of the body for diagnosis.
            _ => String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        }
    }
}

/// Client of the LINE Messaging API. Cheap to clone (the HTTP connection pool is shared);
/// build it once per process.
#[derive(Clone)]
pub struct LineClient {
    http: reqwest::Client,
    base_url: Url,
    /// `api-data.line.me` for production; the API base itself otherwise (a fake serves
    /// both), unless set with [`LineClient::with_data_base_url`].
    data_base_url: Url,
}

impl fmt::Debug for LineClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineClient")
            .field("base_url", &self.base_url.as_str())
            .field("data_base_url", &self.data_base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl LineClient {
    /// A client for `base_url` (e.g. [`DEFAULT_BASE_URL`], or a fake's address) with the
    /// default timeouts.
    pub fn new(base_url: &str) -> Result<Self, LineError> {
        Self::with_timeouts(base_url, DEFAULT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT)
    }

    /// A client with explicit whole-request and connect timeouts.
    pub fn with_timeouts(
        base_url: &str,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<Self, LineError> {
        let http = crate::tls::http_client_builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(concat!("kizuna-line/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LineError::Config(e.to_string()))?;
        Self::with_http_client(http, base_url)
    }

    /// A client over a caller-built `reqwest::Client` (which must set its own timeout).
    pub fn with_http_client(http: reqwest::Client, base_url: &str) -> Result<Self, LineError> {
        let base_url = parse_base_url(base_url)?;
        let data_base_url = if base_url.host_str()
            == Url::parse(DEFAULT_BASE_URL)
                .ok()
                .as_ref()
                .and_then(Url::host_str)
        {
            parse_base_url(DEFAULT_DATA_BASE_URL)?
        } else {
            base_url.clone()
        };
        Ok(Self {
            http,
            base_url,
            data_base_url,
        })
    }

    /// The same client with another data host (where rich menu images are uploaded).
    pub fn with_data_base_url(mut self, data_base_url: &str) -> Result<Self, LineError> {
        self.data_base_url = parse_base_url(data_base_url)?;
        Ok(self)
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    pub fn data_base_url(&self) -> &Url {
        &self.data_base_url
    }

    fn url(&self, path: &str) -> Result<Url, LineError> {
        join(&self.base_url, path)
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        token: &ChannelToken,
    ) -> Result<RequestBuilder, LineError> {
        Ok(self
            .http
            .request(method, self.url(path)?)
            .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret())))
    }

    /// `POST /v2/bot/message/reply`: answers a webhook event with up to 5 message objects.
    /// A used or expired reply token is a [`LineError::BadRequest`] for which
    /// [`LineError::is_invalid_reply_token`] holds.
    pub async fn reply<M: Serialize>(
        &self,
        token: &ChannelToken,
        reply_token: &str,
        messages: &[M],
    ) -> Result<ReplyAccepted, LineError> {
        let body = ReplyBody {
            reply_token,
            messages,
        };
        let resp = send(
            self.request(Method::POST, "/v2/bot/message/reply", token)?
                .json(&body),
        )
        .await?;
        let (status, headers, bytes) = read(resp).await?;
        if !status.is_success() {
            return Err(classify(status, &headers, &bytes));
        }
        let sent: SentMessagesBody = decode(&bytes)?;
        Ok(ReplyAccepted {
            request_id: header(&headers, REQUEST_ID_HEADER),
            sent_messages: sent.sent_messages,
        })
    }

    /// `POST /v2/bot/message/push` with `X-Line-Retry-Key: retry_key`.
    ///
    /// Use the same `retry_key` for every attempt of one delivery: if an earlier attempt was
    /// accepted (e.g. its response was lost to a timeout), LINE answers 409 and this returns
    /// [`PushOutcome::AlreadyAccepted`] instead of delivering twice.
    pub async fn push<M: Serialize>(
        &self,
        token: &ChannelToken,
        to_user_id: &str,
        messages: &[M],
        retry_key: Uuid,
    ) -> Result<PushOutcome, LineError> {
        let body = PushBody {
            to: to_user_id,
            messages,
        };
        let resp = send(
            self.request(Method::POST, "/v2/bot/message/push", token)?
                .header(RETRY_KEY_HEADER, retry_key.hyphenated().to_string())
                .json(&body),
        )
        .await?;
        let (status, headers, bytes) = read(resp).await?;
        if status == StatusCode::CONFLICT {
            if let Some(accepted_request_id) = header(&headers, ACCEPTED_REQUEST_ID_HEADER) {
                return Ok(PushOutcome::AlreadyAccepted {
                    accepted_request_id,
                });
            }
        }
        if !status.is_success() {
            return Err(classify(status, &headers, &bytes));
        }
        let sent: SentMessagesBody = decode(&bytes)?;
        Ok(PushOutcome::Accepted {
            request_id: header(&headers, REQUEST_ID_HEADER),
            sent_messages: sent.sent_messages,
        })
    }

    /// `GET /v2/bot/message/quota`: the monthly target limit.
    pub async fn quota(&self, token: &ChannelToken) -> Result<Quota, LineError> {
        let body: QuotaBody = self.get_json("/v2/bot/message/quota", token).await?;
        match (body.quota_type.as_str(), body.value) {
            ("none", _) => Ok(Quota::Unlimited),
            ("limited", Some(v)) => Ok(Quota::Limited(v)),
            (other, value) => Err(LineError::InvalidResponse(format!(
                "quota type {other:?} with value {value:?}"
            ))),
        }
    }

    /// `GET /v2/bot/message/quota/consumption`: messages counted against the quota this month.
    pub async fn quota_consumption(&self, token: &ChannelToken) -> Result<u64, LineError> {
        let body: ConsumptionBody = self
            .get_json("/v2/bot/message/quota/consumption", token)
            .await?;
        Ok(body.total_usage)
    }

    /// `GET /v2/bot/info`.
    pub async fn bot_info(&self, token: &ChannelToken) -> Result<BotInfo, LineError> {
        self.get_json("/v2/bot/info", token).await
    }

    /// Opens a connection to the API host and leaves it in the client's pool, so the next call
    /// skips the TCP and TLS handshakes (a Lambda calls this while it initialises). Sends
    /// `GET /` without credentials: no endpoint, no token, nothing LINE counts or logs against
    /// a channel. Any HTTP answer (LINE's is a 404) means the connection is up.
    pub async fn warm_up(&self) -> Result<StatusCode, LineError> {
        let resp = send(self.http.get(self.url("/")?)).await?;
        let status = resp.status();
        // Reading the body to its end returns the connection to the pool.
        resp.bytes().await.map_err(transport)?;
        Ok(status)
    }

    /// `POST /oauth2/v3/token` (client credentials): a stateless channel access token, valid
    /// for 15 minutes and not revocable. Callers cache it (the token module's `TokenProvider`).
    pub async fn issue_stateless_token(
        &self,
        channel_id: &str,
        channel_secret: &ChannelSecret,
    ) -> Result<StatelessToken, LineError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", channel_id),
            ("client_secret", channel_secret.expose_secret()),
        ];
        let resp = send(self.http.post(self.url("/oauth2/v3/token")?).form(&form)).await?;
        let (status, headers, bytes) = read(resp).await?;
        if !status.is_success() {
            // The token endpoint answers bad client credentials with 400 `invalid_client`:
            // to the caller that is an authentication failure, not a malformed request.
            let err = ErrorBody::parse(&bytes);
            if status == StatusCode::BAD_REQUEST && err.error.as_deref() == Some("invalid_client") {
                return Err(LineError::Unauthorized);
            }
            return Err(classify(status, &headers, &bytes));
        }
        let body: TokenBody = decode(&bytes)?;
        Ok(StatelessToken {
            token: ChannelToken::new(body.access_token),
            expires_in: Duration::from_secs(body.expires_in),
        })
    }

    /// `POST /v2/bot/richmenu`: creates a rich menu (without its image) and returns its id.
    pub async fn create_rich_menu(
        &self,
        token: &ChannelToken,
        menu: &RichMenu,
    ) -> Result<String, LineError> {
        let resp = send(
            self.request(Method::POST, "/v2/bot/richmenu", token)?
                .json(menu),
        )
        .await?;
        let body: RichMenuIdBody = expect_json(resp).await?;
        Ok(body.rich_menu_id)
    }

    /// `POST /v2/bot/richmenu/{richMenuId}/content` on the data host: attaches the menu's
    /// image (`image/png` or `image/jpeg`, ≤ 1 MB, exactly the menu's size). LINE accepts one
    /// image per menu: to change it, create a new menu.
    pub async fn upload_rich_menu_image(
        &self,
        token: &ChannelToken,
        rich_menu_id: &str,
        content_type: &str,
        image: Vec<u8>,
    ) -> Result<(), LineError> {
        let url = join(
            &self.data_base_url,
            &format!("/v2/bot/richmenu/{}/content", path_segment(rich_menu_id)?),
        )?;
        let resp = send(
            self.http
                .post(url)
                .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(image),
        )
        .await?;
        expect_success(resp).await
    }

    /// `POST /v2/bot/user/all/richmenu/{richMenuId}`: the menu every user sees unless a
    /// per-user menu is linked to them.
    pub async fn set_default_rich_menu(
        &self,
        token: &ChannelToken,
        rich_menu_id: &str,
    ) -> Result<(), LineError> {
        let path = format!("/v2/bot/user/all/richmenu/{}", path_segment(rich_menu_id)?);
        let resp = send(self.request(Method::POST, &path, token)?).await?;
        expect_success(resp).await
    }

    /// `GET /v2/bot/user/all/richmenu`: the default rich menu's id, `None` if there is none.
    pub async fn default_rich_menu(
        &self,
        token: &ChannelToken,
    ) -> Result<Option<String>, LineError> {
        match self
            .get_json::<RichMenuIdBody>("/v2/bot/user/all/richmenu", token)
            .await
        {
            Ok(body) => Ok(Some(body.rich_menu_id)),
            Err(LineError::Other { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /v2/bot/user/all/richmenu`: no default rich menu any more.
    pub async fn cancel_default_rich_menu(&self, token: &ChannelToken) -> Result<(), LineError> {
        let resp = send(self.request(Method::DELETE, "/v2/bot/user/all/richmenu", token)?).await?;
        expect_success(resp).await
    }

    /// `GET /v2/bot/richmenu/list`: the channel's rich menus created through the API.
    pub async fn rich_menus(
        &self,
        token: &ChannelToken,
    ) -> Result<Vec<RichMenuSummary>, LineError> {
        let body: RichMenuListBody = self.get_json("/v2/bot/richmenu/list", token).await?;
        Ok(body.richmenus)
    }

    /// `DELETE /v2/bot/richmenu/{richMenuId}`.
    pub async fn delete_rich_menu(
        &self,
        token: &ChannelToken,
        rich_menu_id: &str,
    ) -> Result<(), LineError> {
        let path = format!("/v2/bot/richmenu/{}", path_segment(rich_menu_id)?);
        let resp = send(self.request(Method::DELETE, &path, token)?).await?;
        expect_success(resp).await
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        token: &ChannelToken,
    ) -> Result<T, LineError> {
        let resp = send(self.request(Method::GET, path, token)?).await?;
        let (status, headers, bytes) = read(resp).await?;
        if !status.is_success() {
            return Err(classify(status, &headers, &bytes));
        }
        decode(&bytes)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RichMenuIdBody {
    rich_menu_id: String,
}

#[derive(Deserialize)]
struct RichMenuListBody {
    richmenus: Vec<RichMenuSummary>,
}

fn parse_base_url(base_url: &str) -> Result<Url, LineError> {
    let url = Url::parse(base_url)
        .map_err(|e| LineError::Config(format!("base URL {base_url:?}: {e}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(LineError::Config(format!(
            "base URL {:?} is not an http(s) URL",
            url.as_str()
        )));
    }
    Ok(url)
}

fn join(base: &Url, path: &str) -> Result<Url, LineError> {
    // Keep any path prefix of the base URL (a fake may be mounted under one).
    let joined = format!("{}{}", base.as_str().trim_end_matches('/'), path);
    Url::parse(&joined).map_err(|e| LineError::Config(e.to_string()))
}

/// A rich menu id as one path segment: LINE's ids are `richmenu-` and hex; anything else
/// (a `/`, `?`) would address another endpoint.
fn path_segment(id: &str) -> Result<&str, LineError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(id)
    } else {
        Err(LineError::Config(format!("{id:?} is not a rich menu id")))
    }
}

async fn expect_success(resp: Response) -> Result<(), LineError> {
    let (status, headers, bytes) = read(resp).await?;
    if !status.is_success() {
        return Err(classify(status, &headers, &bytes));
    }
    Ok(())
}

async fn expect_json<T: for<'de> Deserialize<'de>>(resp: Response) -> Result<T, LineError> {
    let (status, headers, bytes) = read(resp).await?;
    if !status.is_success() {
        return Err(classify(status, &headers, &bytes));
    }
    decode(&bytes)
}

async fn send(request: RequestBuilder) -> Result<Response, LineError> {
    request.send().await.map_err(transport)
}

async fn read(resp: Response) -> Result<(StatusCode, HeaderMap, Vec<u8>), LineError> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.map_err(transport)?;
    Ok((status, headers, bytes.to_vec()))
}

fn transport(e: reqwest::Error) -> LineError {
    // Drop the URL from the message: it adds nothing to the kind of failure and keeps log
    // lines short (it never contains secrets, which travel in headers and bodies).
    let e = e.without_url();
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    LineError::Transport(format!("{kind}: {e}"))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, LineError> {
    serde_json::from_slice(bytes).map_err(|e| LineError::InvalidResponse(e.to_string()))
}

/// `Retry-After` in seconds (LINE does not document sending it, but honour it if present).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn classify(status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> LineError {
    let body = ErrorBody::parse(bytes);
    let message = body.text(bytes);
    match status.as_u16() {
        400 => LineError::BadRequest {
            message,
            details: body.details,
        },
        401 => LineError::Unauthorized,
        409 => LineError::Conflict { message },
        429 => LineError::RateLimited {
            retry_after: retry_after(headers),
            monthly_limit: body.message.as_deref() == Some(MONTHLY_LIMIT_MESSAGE),
        },
        s @ 500..=599 => LineError::Server { status: s },
        s => LineError::Other { status: s, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn classifies_statuses_and_bodies() {
        let none = HeaderMap::new();
        assert_eq!(
            classify(
                StatusCode::UNAUTHORIZED,
                &none,
                br#"{"message":"Authentication failed"}"#
            ),
            LineError::Unauthorized
        );
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                &none,
                br#"{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}]}"#
            ),
            LineError::BadRequest {
                message: "The request body has 1 error(s)".into(),
                details: vec![ErrorDetail {
                    message: Some("May not be empty".into()),
                    property: Some("messages[0].text".into()),
                }],
            }
        );
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                &headers(&[("retry-after", "3")]),
                br#"{"message":"The API rate limit has been exceeded. Try again later."}"#
            ),
            LineError::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                monthly_limit: false
            }
        );
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                &none,
                br#"{"message":"You have reached your monthly limit."}"#
            ),
            LineError::RateLimited {
                retry_after: None,
                monthly_limit: true
            }
        );
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, &none, b"<html>bad gateway</html>"),
            LineError::Server { status: 502 }
        );
        assert_eq!(
            classify(StatusCode::CONFLICT, &none, br#"{"message":"conflict"}"#),
            LineError::Conflict {
                message: "conflict".into()
            }
        );
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &none, b"not json"),
            LineError::Other {
                status: 403,
                message: "not json".into()
            }
        );
    }

    #[test]
    fn joins_paths_onto_base_urls_with_or_without_prefix() {
        let c = LineClient::new("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            c.url("/v2/bot/info").unwrap().as_str(),
            "http://127.0.0.1:9/v2/bot/info"
        );
        let c = LineClient::new("http://127.0.0.1:9/line/").unwrap();
        assert_eq!(
            c.url("/v2/bot/info").unwrap().as_str(),
            "http://127.0.0.1:9/line/v2/bot/info"
        );
    }

    #[test]
    fn images_go_to_the_data_host_in_production_and_to_the_fake_otherwise() {
        let c = LineClient::new(DEFAULT_BASE_URL).unwrap();
        assert_eq!(c.data_base_url().as_str(), "https://api-data.line.me/");
        let c = LineClient::new("http://127.0.0.1:9/line").unwrap();
        assert_eq!(c.data_base_url().as_str(), "http://127.0.0.1:9/line");
        let c = c.with_data_base_url("http://127.0.0.1:10").unwrap();
        assert_eq!(c.data_base_url().as_str(), "http://127.0.0.1:10/");
        assert!(path_segment("richmenu-0123abc").is_ok());
        assert!(path_segment("../info").is_err());
        assert!(path_segment("").is_err());
    }

    #[test]
    fn rejects_unusable_base_urls() {
        for base in ["", "api.line.me", "mailto:x@y", "ftp://x"] {
            assert!(
                matches!(LineClient::new(base), Err(LineError::Config(_))),
                "{base}"
            );
        }
    }
}
