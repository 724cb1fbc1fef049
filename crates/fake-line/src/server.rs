//! HTTP handlers of the fake.
//!
//! Order of checks on each endpoint, mirroring what a client can observe from LINE:
//! authentication (401) → injected faults → rate limit (429) → media type (415) → headers
//! and body (400) → reply token / retry key / quota (400 / 409 / 429) → record → 200.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::contract::rich_menu::{IMAGE_TYPES, MAX_IMAGE_BYTES, MAX_PER_CHANNEL};
use crate::{
    contract, Auth, ChannelRuntime, Endpoint, FakeLine, Fault, PushCommit, RecordedPush,
    RecordedReply, RecordedRichMenu, RejectionKind,
};

const AUTH_FAILED: &str =
    "Authentication failed. Confirm that the access token in the authorization header is valid.";
const RATE_LIMITED: &str = "The API rate limit has been exceeded. Try again later.";
const MONTHLY_LIMIT: &str = "You have reached your monthly limit.";
const INVALID_REPLY_TOKEN: &str = "Invalid reply token";
const NOT_JSON: &str = "The request body could not be parsed as JSON";
const RETRY_KEY_ACCEPTED: &str = "The retry key is already accepted";

pub(crate) fn router(fake: FakeLine) -> Router {
    Router::new()
        .route("/v2/bot/message/reply", post(reply))
        .route("/v2/bot/message/push", post(push))
        .route("/v2/bot/message/quota", get(quota))
        .route("/v2/bot/message/quota/consumption", get(consumption))
        .route("/v2/bot/info", get(bot_info))
        .route("/oauth2/v3/token", post(issue_token))
        .route("/v2/bot/richmenu", post(create_rich_menu))
        .route("/v2/bot/richmenu/list", get(list_rich_menus))
        .route(
            "/v2/bot/richmenu/{id}",
            get(get_rich_menu).delete(delete_rich_menu),
        )
        // On api-data.line.me in production: the fake serves both hosts on one address.
        .route(
            "/v2/bot/richmenu/{id}/content",
            post(upload_rich_menu_image).get(download_rich_menu_image),
        )
        .route(
            "/v2/bot/user/all/richmenu",
            get(get_default_rich_menu).delete(cancel_default_rich_menu),
        )
        .route(
            "/v2/bot/user/all/richmenu/{id}",
            post(set_default_rich_menu),
        )
        .route("/__fake/pushes", get(admin_pushes))
        .route("/__fake/replies", get(admin_replies))
        .route("/__fake/rejected", get(admin_rejected))
        .route("/__fake/reply-tokens", post(admin_issue_reply_token))
        .route("/__fake/reset", post(admin_reset))
        .with_state(fake)
}

/// A JSON response carrying `x-line-request-id`, as every LINE response does.
fn respond(status: StatusCode, request_id: &str, body: Value) -> Response {
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-line-request-id", v);
    }
    resp
}

fn new_request_id() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A request refused: the response, already recorded as a rejection (boxed: it travels in
/// `Err` through several layers).
struct Refusal(Box<Response>);

impl Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl FakeLine {
    fn refuse(
        &self,
        endpoint: Endpoint,
        channel: Option<&ChannelRuntime>,
        status: StatusCode,
        kind: RejectionKind,
        body: Value,
    ) -> Refusal {
        let reason = match (body.get("message"), body.get("details")) {
            (Some(m), Some(d)) => format!("{} {d}", m.as_str().unwrap_or_default()),
            (Some(m), None) => m.as_str().unwrap_or_default().to_owned(),
            _ => body.to_string(),
        };
        self.reject(
            endpoint,
            channel.map(|c| c.config.channel_id.as_str()),
            status.as_u16(),
            kind,
            reason,
        );
        Refusal(Box::new(respond(status, &new_request_id(), body)))
    }

    /// Authentication, injected faults and the rate limit, common to the bearer endpoints.
    /// Returns the channel and whether a lost-response fault is due (it acts after the push
    /// is recorded).
    async fn gate(
        &self,
        endpoint: Endpoint,
        headers: &HeaderMap,
    ) -> Result<(&ChannelRuntime, bool), Refusal> {
        let channel = match self.authenticate(bearer(headers)) {
            Auth::Channel(c) => c,
            Auth::Denied => {
                return Err(self.refuse(
                    endpoint,
                    None,
                    StatusCode::UNAUTHORIZED,
                    RejectionKind::Unauthorized,
                    json!({ "message": AUTH_FAILED }),
                ))
            }
        };
        let lost_response = match self.draw_fault(endpoint) {
            Some(Fault::Status(status)) => {
                return Err(self.injected(endpoint, channel, status));
            }
            Some(Fault::Timeout) => {
                tokio::time::sleep(self.fault_delay()).await;
                return Err(self.injected(endpoint, channel, 500));
            }
            Some(Fault::LostResponse) => true,
            None => false,
        };
        if !self.admit(channel, endpoint) {
            return Err(self.refuse(
                endpoint,
                Some(channel),
                StatusCode::TOO_MANY_REQUESTS,
                RejectionKind::RateLimited,
                json!({ "message": RATE_LIMITED }),
            ));
        }
        Ok((channel, lost_response))
    }

    fn injected(&self, endpoint: Endpoint, channel: &ChannelRuntime, status: u16) -> Refusal {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match status.as_u16() {
            401 => AUTH_FAILED,
            429 => RATE_LIMITED,
            500..=599 => "Internal server error (injected by fake-line)",
            _ => "Failure injected by fake-line",
        };
        self.refuse(
            endpoint,
            Some(channel),
            status,
            RejectionKind::Injected,
            json!({ "message": message }),
        )
    }

    /// Media type, JSON parsing and the contract check of a message-sending body.
    fn parse_body(
        &self,
        endpoint: Endpoint,
        channel: &ChannelRuntime,
        headers: &HeaderMap,
        body: &[u8],
        check: fn(&Value) -> Vec<crate::Violation>,
    ) -> Result<Value, Refusal> {
        if !is_json(headers) {
            return Err(self.refuse(
                endpoint,
                Some(channel),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                RejectionKind::UnsupportedMediaType,
                json!({ "message": "Unsupported Media Type: use application/json" }),
            ));
        }
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Err(self.refuse(
                endpoint,
                Some(channel),
                StatusCode::BAD_REQUEST,
                RejectionKind::InvalidJson,
                json!({ "message": NOT_JSON }),
            ));
        };
        let violations = check(&value);
        if !violations.is_empty() {
            return Err(self.refuse(
                endpoint,
                Some(channel),
                StatusCode::BAD_REQUEST,
                RejectionKind::InvalidBody,
                json!({
                    "message": format!("The request body has {} error(s)", violations.len()),
                    "details": violations,
                }),
            ));
        }
        Ok(value)
    }

    fn sent_messages(&self, count: usize) -> Value {
        let sent: Vec<Value> = (0..count)
            .map(|_| {
                json!({
                    "id": self.next_message_id(),
                    "quoteToken": Uuid::new_v4().simple().to_string(),
                })
            })
            .collect();
        json!({ "sentMessages": sent })
    }
}

fn messages_of(body: &Value) -> Vec<Value> {
    body.get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn notification_disabled(body: &Value) -> bool {
    body.get("notificationDisabled")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

async fn reply(State(fake): State<FakeLine>, headers: HeaderMap, body: Bytes) -> Response {
    let endpoint = Endpoint::Reply;
    let channel = match fake.gate(endpoint, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let value = match fake.parse_body(
        endpoint,
        channel,
        &headers,
        &body,
        contract::check_reply_body,
    ) {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    let reply_token = value
        .get("replyToken")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(user_id) = fake.take_reply_token(reply_token, &channel.config.channel_id) else {
        return fake
            .refuse(
                endpoint,
                Some(channel),
                StatusCode::BAD_REQUEST,
                RejectionKind::InvalidReplyToken,
                json!({ "message": INVALID_REPLY_TOKEN }),
            )
            .into_response();
    };
    let request_id = new_request_id();
    let messages = messages_of(&value);
    let response = fake.sent_messages(messages.len());
    fake.record_reply(RecordedReply {
        channel_id: channel.config.channel_id.clone(),
        reply_token: reply_token.to_owned(),
        user_id,
        notification_disabled: notification_disabled(&value),
        messages,
        request_id: request_id.clone(),
        at: fake.now_wall(),
    });
    respond(StatusCode::OK, &request_id, response)
}

async fn push(State(fake): State<FakeLine>, headers: HeaderMap, body: Bytes) -> Response {
    let endpoint = Endpoint::Push;
    let (channel, lost_response) = match fake.gate(endpoint, &headers).await {
        Ok(g) => g,
        Err(refusal) => return refusal.into_response(),
    };
    let retry_key = match headers.get("x-line-retry-key") {
        None => None,
        Some(v) => {
            // LINE documents the hyphenated hexadecimal form.
            let parsed = v
                .to_str()
                .ok()
                .filter(|s| s.len() == 36)
                .and_then(|s| Uuid::try_parse(s).ok());
            match parsed {
                Some(k) => Some(k),
                None => {
                    return fake
                        .refuse(
                            endpoint,
                            Some(channel),
                            StatusCode::BAD_REQUEST,
                            RejectionKind::InvalidRetryKey,
                            json!({ "message": "The value of the X-Line-Retry-Key header is invalid. Specify a UUID." }),
                        )
                        .into_response()
                }
            }
        }
    };
    let value = match fake.parse_body(
        endpoint,
        channel,
        &headers,
        &body,
        contract::check_push_body,
    ) {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    let to = value
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let request_id = new_request_id();
    let messages = messages_of(&value);
    let response = fake.sent_messages(messages.len());
    let record = RecordedPush {
        channel_id: channel.config.channel_id.clone(),
        recipient_known: fake.is_known_user(&to),
        to,
        notification_disabled: notification_disabled(&value),
        messages,
        retry_key,
        request_id: request_id.clone(),
        at: fake.now_wall(),
    };
    match fake.commit_push(channel, record) {
        PushCommit::Accepted => {}
        PushCommit::Duplicate {
            accepted_request_id,
        } => {
            let mut resp = fake
                .refuse(
                    endpoint,
                    Some(channel),
                    StatusCode::CONFLICT,
                    RejectionKind::DuplicateRetryKey,
                    json!({ "message": RETRY_KEY_ACCEPTED }),
                )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&accepted_request_id) {
                resp.headers_mut().insert("x-line-accepted-request-id", v);
            }
            return resp;
        }
        PushCommit::OverQuota => {
            return fake
                .refuse(
                    endpoint,
                    Some(channel),
                    StatusCode::TOO_MANY_REQUESTS,
                    RejectionKind::MonthlyLimit,
                    json!({ "message": MONTHLY_LIMIT }),
                )
                .into_response()
        }
    }
    if lost_response {
        tokio::time::sleep(fake.fault_delay()).await;
    }
    respond(StatusCode::OK, &request_id, response)
}

async fn quota(State(fake): State<FakeLine>, headers: HeaderMap) -> Response {
    let channel = match fake.gate(Endpoint::Quota, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let body = match fake.quota(channel).0 {
        Some(limit) => json!({ "type": "limited", "value": limit }),
        None => json!({ "type": "none" }),
    };
    respond(StatusCode::OK, &new_request_id(), body)
}

async fn consumption(State(fake): State<FakeLine>, headers: HeaderMap) -> Response {
    let channel = match fake.gate(Endpoint::Quota, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let used = fake.quota(channel).1;
    respond(
        StatusCode::OK,
        &new_request_id(),
        json!({ "totalUsage": used }),
    )
}

async fn bot_info(State(fake): State<FakeLine>, headers: HeaderMap) -> Response {
    let channel = match fake.gate(Endpoint::BotInfo, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let c = &channel.config;
    respond(
        StatusCode::OK,
        &new_request_id(),
        json!({
            "userId": c.bot_user_id,
            "basicId": format!("@fake{}", c.channel_id),
            "displayName": format!("Kizuna fake channel {}", c.channel_id),
            "chatMode": "bot",
            "markAsReadMode": "auto",
        }),
    )
}

/// OAuth endpoints answer errors as `{"error", "error_description"}`.
fn oauth_error(
    fake: &FakeLine,
    channel: Option<&ChannelRuntime>,
    kind: RejectionKind,
    error: &str,
    description: String,
) -> Response {
    fake.refuse(
        Endpoint::Token,
        channel,
        StatusCode::BAD_REQUEST,
        kind,
        json!({ "error": error, "error_description": description }),
    )
    .into_response()
}

async fn issue_token(State(fake): State<FakeLine>, headers: HeaderMap, body: Bytes) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return oauth_error(
            &fake,
            None,
            RejectionKind::UnsupportedMediaType,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded".to_owned(),
        );
    }
    let mut form = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        form.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    if form.contains_key("client_assertion") {
        return oauth_error(
            &fake,
            None,
            RejectionKind::InvalidBody,
            "invalid_request",
            "fake-line supports only client_id + client_secret".to_owned(),
        );
    }
    let form = Value::Object(form);
    let violations = contract::check_token_request(&form);
    if !violations.is_empty() {
        let description = violations
            .iter()
            .map(|v| format!("{}: {}", v.property, v.message))
            .collect::<Vec<_>>()
            .join("; ");
        return oauth_error(
            &fake,
            None,
            RejectionKind::InvalidBody,
            "invalid_request",
            description,
        );
    }
    let client_id = form
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let client_secret = form
        .get("client_secret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let channel = match fake.channel_runtime(client_id) {
        Some(c) if c.config.channel_secret == client_secret => c,
        _ => {
            return oauth_error(
                &fake,
                None,
                RejectionKind::InvalidClient,
                "invalid_client",
                "Invalid client_id or client_secret".to_owned(),
            )
        }
    };
    if let Some(Fault::Status(status)) = fake.draw_fault(Endpoint::Token) {
        return fake
            .injected(Endpoint::Token, channel, status)
            .into_response();
    }
    if !fake.admit(channel, Endpoint::Token) {
        return fake
            .refuse(
                Endpoint::Token,
                Some(channel),
                StatusCode::TOO_MANY_REQUESTS,
                RejectionKind::RateLimited,
                json!({ "error": "too_many_requests", "error_description": RATE_LIMITED }),
            )
            .into_response();
    }
    let (token, ttl) = fake.issue_stateless_token(channel);
    respond(
        StatusCode::OK,
        &new_request_id(),
        json!({ "token_type": "Bearer", "access_token": token, "expires_in": ttl.as_secs() }),
    )
}

async fn admin_pushes(State(fake): State<FakeLine>) -> Response {
    Json(fake.recorded_pushes()).into_response()
}

async fn admin_replies(State(fake): State<FakeLine>) -> Response {
    Json(fake.recorded_replies()).into_response()
}

async fn admin_rejected(State(fake): State<FakeLine>) -> Response {
    Json(fake.rejected_requests()).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplyTokenRequest {
    user_id: String,
    #[serde(default)]
    channel_id: Option<String>,
}

async fn admin_issue_reply_token(State(fake): State<FakeLine>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<ReplyTokenRequest>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": "expected {\"userId\": \"U…\", \"channelId\": optional}" })),
        )
            .into_response();
    };
    let token = match &req.channel_id {
        Some(c) => fake.issue_reply_token_for(c, &req.user_id),
        None => fake.issue_reply_token(&req.user_id),
    };
    Json(json!({ "replyToken": token })).into_response()
}

async fn admin_reset(State(fake): State<FakeLine>) -> StatusCode {
    fake.reset();
    StatusCode::NO_CONTENT
}

// ---- rich menus ------------------------------------------------------------------------

const RICH_MENU_NOT_FOUND: &str = "Not found";

fn rich_menu_json(m: &RecordedRichMenu) -> Value {
    let mut v = m.menu.clone();
    if let Value::Object(o) = &mut v {
        o.insert("richMenuId".into(), Value::String(m.rich_menu_id.clone()));
    }
    v
}

impl FakeLine {
    fn rich_menu_not_found(&self, channel: &ChannelRuntime, message: &str) -> Response {
        self.refuse(
            Endpoint::RichMenu,
            Some(channel),
            StatusCode::NOT_FOUND,
            RejectionKind::NotFound,
            json!({ "message": message }),
        )
        .into_response()
    }

    fn bad_rich_menu_image(
        &self,
        channel: &ChannelRuntime,
        status: StatusCode,
        message: String,
    ) -> Response {
        self.refuse(
            Endpoint::RichMenu,
            Some(channel),
            status,
            RejectionKind::InvalidRichMenuImage,
            json!({ "message": message }),
        )
        .into_response()
    }
}

async fn create_rich_menu(
    State(fake): State<FakeLine>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = Endpoint::RichMenu;
    let channel = match fake.gate(endpoint, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let menu = match fake.parse_body(
        endpoint,
        channel,
        &headers,
        &body,
        contract::check_rich_menu_body,
    ) {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    let channel_id = &channel.config.channel_id;
    let mut state = fake.rich_menu_state();
    if state
        .menus
        .iter()
        .filter(|m| &m.channel_id == channel_id)
        .count()
        >= MAX_PER_CHANNEL
    {
        drop(state);
        return fake
            .refuse(
                endpoint,
                Some(channel),
                StatusCode::BAD_REQUEST,
                RejectionKind::InvalidBody,
                json!({ "message": format!("Up to {MAX_PER_CHANNEL} rich menus can be created") }),
            )
            .into_response();
    }
    let rich_menu_id = format!("richmenu-{}", Uuid::new_v4().simple());
    state.menus.push(RecordedRichMenu {
        channel_id: channel_id.clone(),
        rich_menu_id: rich_menu_id.clone(),
        menu,
        image: None,
    });
    drop(state);
    respond(
        StatusCode::OK,
        &new_request_id(),
        json!({ "richMenuId": rich_menu_id }),
    )
}

async fn list_rich_menus(State(fake): State<FakeLine>, headers: HeaderMap) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let menus: Vec<Value> = fake
        .rich_menus(&channel.config.channel_id)
        .iter()
        .map(rich_menu_json)
        .collect();
    respond(
        StatusCode::OK,
        &new_request_id(),
        json!({ "richmenus": menus }),
    )
}

async fn get_rich_menu(
    State(fake): State<FakeLine>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    match fake
        .rich_menus(&channel.config.channel_id)
        .iter()
        .find(|m| m.rich_menu_id == id)
    {
        Some(m) => respond(StatusCode::OK, &new_request_id(), rich_menu_json(m)),
        None => fake.rich_menu_not_found(channel, RICH_MENU_NOT_FOUND),
    }
}

async fn delete_rich_menu(
    State(fake): State<FakeLine>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let channel_id = &channel.config.channel_id;
    let mut state = fake.rich_menu_state();
    let before = state.menus.len();
    state
        .menus
        .retain(|m| !(&m.channel_id == channel_id && m.rich_menu_id == id));
    if state.menus.len() == before {
        drop(state);
        return fake.rich_menu_not_found(channel, RICH_MENU_NOT_FOUND);
    }
    // A deleted menu is no longer shown to anyone, as the default or otherwise.
    if state.defaults.get(channel_id) == Some(&id) {
        state.defaults.remove(channel_id);
    }
    drop(state);
    respond(StatusCode::OK, &new_request_id(), json!({}))
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

async fn upload_rich_menu_image(
    State(fake): State<FakeLine>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let channel_id = &channel.config.channel_id;
    let Some(size) = fake
        .rich_menus(channel_id)
        .iter()
        .find(|m| m.rich_menu_id == id)
        .map(|m| {
            let dim = |k: &str| m.menu["size"][k].as_u64().unwrap_or(0);
            (dim("width"), dim("height"))
        })
    else {
        return fake.rich_menu_not_found(channel, RICH_MENU_NOT_FOUND);
    };
    let media = media_type(&headers).unwrap_or_default();
    if !IMAGE_TYPES.contains(&media.as_str()) {
        return fake.bad_rich_menu_image(
            channel,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported Media Type {media:?}: use image/png or image/jpeg"),
        );
    }
    if body.len() > MAX_IMAGE_BYTES {
        return fake.bad_rich_menu_image(
            channel,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The image is {} bytes: at most {MAX_IMAGE_BYTES}",
                body.len()
            ),
        );
    }
    let format_matches = match contract::image_dimensions(&body) {
        Some(dims) if dims == size => (media == "image/png") == body.starts_with(b"\x89PNG"),
        Some((w, h)) => {
            return fake.bad_rich_menu_image(
                channel,
                StatusCode::BAD_REQUEST,
                format!(
                    "The image is {w}x{h}: it must be the rich menu's size, {}x{}",
                    size.0, size.1
                ),
            )
        }
        None => false,
    };
    if !format_matches {
        return fake.bad_rich_menu_image(
            channel,
            StatusCode::BAD_REQUEST,
            format!("The body is not a {media} image"),
        );
    }
    let mut state = fake.rich_menu_state();
    let Some(menu) = state
        .menus
        .iter_mut()
        .find(|m| &m.channel_id == channel_id && m.rich_menu_id == id)
    else {
        drop(state);
        return fake.rich_menu_not_found(channel, RICH_MENU_NOT_FOUND);
    };
    if menu.image.is_some() {
        drop(state);
        return fake.bad_rich_menu_image(
            channel,
            StatusCode::BAD_REQUEST,
            "An image has already been uploaded to the richmenu".to_owned(),
        );
    }
    menu.image = Some((media, body.to_vec()));
    drop(state);
    respond(StatusCode::OK, &new_request_id(), json!({}))
}

async fn download_rich_menu_image(
    State(fake): State<FakeLine>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let image = fake
        .rich_menus(&channel.config.channel_id)
        .into_iter()
        .find(|m| m.rich_menu_id == id)
        .and_then(|m| m.image);
    match image {
        Some((media, bytes)) => {
            let mut resp = (StatusCode::OK, bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&media) {
                resp.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            resp
        }
        None => fake.rich_menu_not_found(channel, RICH_MENU_NOT_FOUND),
    }
}

async fn set_default_rich_menu(
    State(fake): State<FakeLine>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let channel_id = &channel.config.channel_id;
    let mut state = fake.rich_menu_state();
    let has_image = match state
        .menus
        .iter()
        .find(|m| &m.channel_id == channel_id && m.rich_menu_id == id)
    {
        None => {
            drop(state);
            return fake.rich_menu_not_found(channel, RICH_MENU_NOT_FOUND);
        }
        Some(m) => m.image.is_some(),
    };
    if !has_image {
        drop(state);
        return fake.bad_rich_menu_image(
            channel,
            StatusCode::BAD_REQUEST,
            "must upload richmenu image before applying it to user".to_owned(),
        );
    }
    state.defaults.insert(channel_id.clone(), id);
    drop(state);
    respond(StatusCode::OK, &new_request_id(), json!({}))
}

async fn get_default_rich_menu(State(fake): State<FakeLine>, headers: HeaderMap) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    match fake.default_rich_menu(&channel.config.channel_id) {
        Some(id) => respond(
            StatusCode::OK,
            &new_request_id(),
            json!({ "richMenuId": id }),
        ),
        None => fake.rich_menu_not_found(channel, "no default richmenu"),
    }
}

async fn cancel_default_rich_menu(State(fake): State<FakeLine>, headers: HeaderMap) -> Response {
    let channel = match fake.gate(Endpoint::RichMenu, &headers).await {
        Ok((c, _)) => c,
        Err(refusal) => return refusal.into_response(),
    };
    fake.rich_menu_state()
        .defaults
        .remove(&channel.config.channel_id);
    respond(StatusCode::OK, &new_request_id(), json!({}))
}
