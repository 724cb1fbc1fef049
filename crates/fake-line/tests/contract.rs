//! Each rule of LINE's contract that the fake enforces, exercised over HTTP with raw
//! requests (so that invalid ones can be sent). Every test here fails if its rule is not
//! enforced.

use std::time::Duration;

use fake_line::{Endpoint, FakeChannel, FakeLine, FaultPlan, RejectionKind, RunningFakeLine};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const CHANNEL: &str = "1660000001";
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "long-lived-token-1";
const BOT: &str = "Uf0e1d2c3b4a5968778695a4b3c2d1e0f";
const USER: &str = "U4af4980629a1b2c3d4e5f6a7b8c9d0e1";

fn channel(quota: Option<u64>) -> FakeChannel {
    FakeChannel {
        channel_id: CHANNEL.into(),
        channel_secret: SECRET.into(),
        access_tokens: vec![TOKEN.into()],
        bot_user_id: BOT.into(),
        monthly_quota: quota,
    }
}

/// reqwest is built without a crypto provider of its own (the workspace installs aws-lc-rs as
/// rustls' process default, see kizuna_line::tls): install it before building a client.
fn http_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
}

fn http_client() -> reqwest::Client {
    http_builder().build().expect("reqwest client")
}

async fn start(fake: FakeLine) -> (RunningFakeLine, reqwest::Client) {
    let running = fake.spawn().await.expect("bind 127.0.0.1:0");
    (running, http_client())
}

async fn default_fake() -> (RunningFakeLine, reqwest::Client) {
    start(FakeLine::builder().channel(channel(None)).build()).await
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn send(req: reqwest::RequestBuilder) -> Resp {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}

fn text(t: &str) -> Value {
    json!({ "type": "text", "text": t })
}

async fn push_with(
    fake: &RunningFakeLine,
    http: &reqwest::Client,
    token: &str,
    body: &Value,
    retry_key: Option<&str>,
) -> Resp {
    let mut req = http
        .post(format!("{}/v2/bot/message/push", fake.base_url))
        .bearer_auth(token)
        .json(body);
    if let Some(k) = retry_key {
        req = req.header("X-Line-Retry-Key", k);
    }
    send(req).await
}

async fn push(fake: &RunningFakeLine, http: &reqwest::Client, body: &Value) -> Resp {
    push_with(fake, http, TOKEN, body, None).await
}

async fn reply(fake: &RunningFakeLine, http: &reqwest::Client, body: &Value) -> Resp {
    send(
        http.post(format!("{}/v2/bot/message/reply", fake.base_url))
            .bearer_auth(TOKEN)
            .json(body),
    )
    .await
}

fn detail_properties(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["property"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// ---- authentication ------------------------------------------------------------------

#[tokio::test]
async fn unknown_absent_and_revoked_tokens_are_401_with_lines_error_shape() {
    let (fake, http) = default_fake().await;
    let body = json!({ "to": USER, "messages": [text("hi")] });

    let r = push_with(&fake, &http, "not-a-token", &body, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));

    let r = send(
        http.post(format!("{}/v2/bot/message/push", fake.base_url))
            .json(&body),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = send(
        http.get(format!("{}/v2/bot/info", fake.base_url))
            .bearer_auth("nope"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    fake.revoke_tokens(CHANNEL);
    let r = push(&fake, &http, &body).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    fake.restore_tokens(CHANNEL);
    assert_eq!(push(&fake, &http, &body).await.status, StatusCode::OK);

    assert!(fake.recorded_pushes().len() == 1);
    let kinds: Vec<_> = fake.rejected_requests().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![RejectionKind::Unauthorized; 4]);
}

// ---- request bodies -------------------------------------------------------------------

#[tokio::test]
async fn six_messages_are_rejected_and_five_accepted() {
    let (fake, http) = default_fake().await;
    let six: Vec<Value> = (0..6).map(|i| text(&format!("m{i}"))).collect();
    let r = push(&fake, &http, &json!({ "to": USER, "messages": six })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["message"], "The request body has 1 error(s)");
    assert_eq!(detail_properties(&r.body), vec!["messages"]);

    let five: Vec<Value> = (0..5).map(|i| text(&format!("m{i}"))).collect();
    assert_eq!(
        push(&fake, &http, &json!({ "to": USER, "messages": five }))
            .await
            .status,
        StatusCode::OK
    );
    let none: Vec<Value> = vec![];
    assert_eq!(
        push(&fake, &http, &json!({ "to": USER, "messages": none }))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(fake.recorded_pushes().len(), 1);
}

#[tokio::test]
async fn text_over_5000_utf16_units_is_rejected() {
    let (fake, http) = default_fake().await;
    let r = push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [text(&"a".repeat(5001))] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail_properties(&r.body), vec!["messages[0].text"]);

    // 2501 emoji = 2501 code points but 5002 UTF-16 code units.
    let r = push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [text(&"👶".repeat(2501))] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [text(&"あ".repeat(5000))] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn message_object_missing_text_is_rejected() {
    let (fake, http) = default_fake().await;
    let r = push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [{ "type": "text" }] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail_properties(&r.body), vec!["messages[0].text"]);
    let rejected = fake.rejected_requests();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].kind, RejectionKind::InvalidBody);
    assert!(rejected[0].reason.contains("messages[0].text"));
    assert!(fake.recorded_pushes().is_empty());
}

#[tokio::test]
async fn other_spec_violations_are_rejected() {
    let (fake, http) = default_fake().await;
    let cases = [
        // unknown message type (discriminator)
        (
            json!({ "to": USER, "messages": [{ "type": "hologram" }] }),
            "messages[0].type",
        ),
        // wrong JSON type
        (
            json!({ "to": USER, "messages": [{ "type": "text", "text": 42 }] }),
            "messages[0].text",
        ),
        // missing `to`
        (json!({ "messages": [text("hi")] }), "to"),
        // `to` not a user id
        (json!({ "to": "someone", "messages": [text("hi")] }), "to"),
        // quick reply with 14 items
        (
            json!({ "to": USER, "messages": [{ "type": "text", "text": "q", "quickReply": { "items":
                (0..14).map(|i| json!({"type": "action", "action": {"type": "message", "label": format!("l{i}"), "text": "t"}})).collect::<Vec<_>>()
            }}]}),
            "messages[0].quickReply.items",
        ),
        // unknown action type inside a quick reply
        (
            json!({ "to": USER, "messages": [{ "type": "text", "text": "q", "quickReply": { "items": [
                {"type": "action", "action": {"type": "teleport", "label": "x"}}]}}]}),
            "messages[0].quickReply.items[0].action.type",
        ),
        // template message missing altText
        (
            json!({ "to": USER, "messages": [{ "type": "template", "template": {
                "type": "confirm", "text": "ok?", "actions": [
                    {"type": "message", "label": "y", "text": "y"},
                    {"type": "message", "label": "n", "text": "n"}]}}]}),
            "messages[0].altText",
        ),
    ];
    for (body, property) in cases {
        let r = push(&fake, &http, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            detail_properties(&r.body).iter().any(|p| p == property),
            "{property} not in {}",
            r.body
        );
    }
    assert!(fake.recorded_pushes().is_empty());
}

#[tokio::test]
async fn not_json_and_wrong_media_type_are_rejected() {
    let (fake, http) = default_fake().await;
    let r = send(
        http.post(format!("{}/v2/bot/message/push", fake.base_url))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        http.post(format!("{}/v2/bot/message/push", fake.base_url))
            .bearer_auth(TOKEN)
            .header("content-type", "text/plain")
            .body(json!({ "to": USER, "messages": [text("hi")] }).to_string()),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(fake.recorded_pushes().is_empty());
}

#[tokio::test]
async fn a_body_valid_per_the_spec_is_accepted_and_recorded() {
    let (fake, http) = default_fake().await;
    fake.add_friend(USER);
    let messages = json!([
        { "type": "text", "text": "今日は妊娠20週0日です 🤰", "quickReply": { "items": [
            { "type": "action", "action": { "type": "postback", "label": "登録", "data": "a=reg", "displayText": "登録" } },
            { "type": "action", "action": { "type": "datetimepicker", "label": "予定日", "data": "a=due", "mode": "date" } }
        ]}},
        { "type": "sticker", "packageId": "446", "stickerId": "1988" },
        { "type": "template", "altText": "確認", "template": { "type": "buttons", "text": "どうしますか？",
            "actions": [{ "type": "uri", "label": "市のページ", "uri": "https://www.city.example.jp/" }] } },
        { "type": "flex", "altText": "今日のカード", "contents": { "type": "bubble", "body": {
            "type": "box", "layout": "vertical", "contents": [
                { "type": "text", "text": "こんにちは", "wrap": true, "weight": "bold" }] } } }
    ]);
    let key = Uuid::new_v4();
    let r = push_with(
        &fake,
        &http,
        TOKEN,
        &json!({ "to": USER, "messages": messages, "notificationDisabled": true }),
        Some(&key.to_string()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let request_id = r.headers["x-line-request-id"].to_str().unwrap().to_owned();
    assert_eq!(r.body["sentMessages"].as_array().map(Vec::len), Some(4));

    let pushes = fake.recorded_pushes();
    assert_eq!(pushes.len(), 1);
    let p = &pushes[0];
    assert_eq!(p.channel_id, CHANNEL);
    assert_eq!(p.to, USER);
    assert_eq!(p.messages.len(), 4);
    assert_eq!(p.messages[1]["stickerId"], "1988");
    assert_eq!(p.retry_key, Some(key));
    assert_eq!(p.request_id, request_id);
    assert!(p.notification_disabled);
    assert!(p.recipient_known);
    assert!(fake.contract_violations().is_empty());
}

#[tokio::test]
async fn pushes_to_unknown_users_succeed_but_are_marked() {
    let (fake, http) = default_fake().await;
    let r = push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [text("hi")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!fake.recorded_pushes()[0].recipient_known);
}

// ---- reply tokens ----------------------------------------------------------------------

#[tokio::test]
async fn reply_tokens_are_single_use() {
    let (fake, http) = default_fake().await;
    let token = fake.issue_reply_token(USER);
    let body = json!({ "replyToken": token, "messages": [text("ようこそ")] });
    let r = reply(&fake, &http, &body).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.contains_key("x-line-request-id"));

    let r = reply(&fake, &http, &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, json!({ "message": "Invalid reply token" }));

    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": "made-up", "messages": [text("x")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let replies = fake.recorded_replies();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].user_id, USER);
    assert_eq!(replies[0].messages, vec![text("ようこそ")]);
    // Replies are free.
    assert_eq!(fake.counted_messages(CHANNEL), 0);
}

#[tokio::test]
async fn reply_tokens_expire_and_bind_to_their_channel() {
    let fake = FakeLine::builder()
        .channel(channel(None))
        .reply_token_ttl(Duration::from_secs(30))
        .build();
    let (fake, http) = start(fake).await;

    let token = fake.issue_reply_token(USER);
    fake.advance_clock(Duration::from_secs(31));
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": token, "messages": [text("late")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["message"], "Invalid reply token");

    let other = fake.issue_reply_token_for("another-channel", USER);
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": other, "messages": [text("x")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // An invalid body does not consume the token.
    let token = fake.issue_reply_token_for(CHANNEL, USER);
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": token, "messages": [] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": token, "messages": [text("ok")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

// ---- retry keys ------------------------------------------------------------------------

#[tokio::test]
async fn repeated_retry_key_is_409_with_the_accepted_request_id_and_not_delivered_twice() {
    let (fake, http) = default_fake().await;
    let body = json!({ "to": USER, "messages": [text("一度だけ")] });
    let key = Uuid::new_v4().to_string();

    let first = push_with(&fake, &http, TOKEN, &body, Some(&key)).await;
    assert_eq!(first.status, StatusCode::OK);
    let first_id = first.headers["x-line-request-id"].clone();

    let second = push_with(&fake, &http, TOKEN, &body, Some(&key)).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.headers["x-line-accepted-request-id"], first_id);

    assert_eq!(fake.recorded_pushes().len(), 1);
    assert_eq!(fake.counted_messages(CHANNEL), 1);

    // A different key is a different delivery.
    let third = push_with(
        &fake,
        &http,
        TOKEN,
        &body,
        Some(&Uuid::new_v4().to_string()),
    )
    .await;
    assert_eq!(third.status, StatusCode::OK);

    // LINE forgets keys after 24 hours.
    fake.advance_clock(Duration::from_secs(24 * 3600 + 1));
    let later = push_with(&fake, &http, TOKEN, &body, Some(&key)).await;
    assert_eq!(later.status, StatusCode::OK);
    assert_eq!(fake.recorded_pushes().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_with_one_retry_key_deliver_once() {
    let (fake, http) = default_fake().await;
    let key = Uuid::new_v4().to_string();
    let body = json!({ "to": USER, "messages": [text("同時")] });
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, url, body, key) = (
            http.clone(),
            fake.base_url.clone(),
            body.clone(),
            key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            http.post(format!("{url}/v2/bot/message/push"))
                .bearer_auth(TOKEN)
                .header("X-Line-Retry-Key", key)
                .json(&body)
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        19
    );
    assert_eq!(fake.recorded_pushes().len(), 1);
}

#[tokio::test]
async fn retry_key_must_be_a_uuid() {
    let (fake, http) = default_fake().await;
    let body = json!({ "to": USER, "messages": [text("x")] });
    for key in [
        "",
        "123",
        "not-a-uuid-at-all",
        "6f9619ff8b86d011b42d00cf4fc964ff",
    ] {
        let r = push_with(&fake, &http, TOKEN, &body, Some(key)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{key:?}");
    }
    assert!(fake.recorded_pushes().is_empty());
    assert!(fake
        .rejected_requests()
        .iter()
        .all(|r| r.kind == RejectionKind::InvalidRetryKey));
}

// ---- rate limit and quota --------------------------------------------------------------

#[tokio::test]
async fn requests_above_the_rate_are_429() {
    let fake = FakeLine::builder()
        .channel(channel(None))
        .rate_limit(Endpoint::Push, 5)
        .build();
    let (fake, http) = start(fake).await;
    let body = json!({ "to": USER, "messages": [text("x")] });
    for _ in 0..5 {
        assert_eq!(push(&fake, &http, &body).await.status, StatusCode::OK);
    }
    let r = push(&fake, &http, &body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.body,
        json!({ "message": "The API rate limit has been exceeded. Try again later." })
    );
    // Other endpoint families have their own window.
    let token = fake.issue_reply_token(USER);
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": token, "messages": [text("x")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // The window slides: a second later pushes go through again.
    fake.advance_clock(Duration::from_millis(1001));
    assert_eq!(push(&fake, &http, &body).await.status, StatusCode::OK);
    assert_eq!(fake.recorded_pushes().len(), 6);
}

#[tokio::test]
async fn monthly_limit_is_429_and_quota_endpoints_reflect_counted_messages() {
    let (fake, http) = start(FakeLine::builder().channel(channel(Some(2))).build()).await;
    let body = json!({ "to": USER, "messages": [text("a"), text("b"), text("c")] });
    assert_eq!(push(&fake, &http, &body).await.status, StatusCode::OK);
    assert_eq!(push(&fake, &http, &body).await.status, StatusCode::OK);
    let r = push(&fake, &http, &body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.body,
        json!({ "message": "You have reached your monthly limit." })
    );
    // One push to one user counts 1, however many message objects it carries.
    assert_eq!(fake.counted_messages(CHANNEL), 2);

    let q = send(
        http.get(format!("{}/v2/bot/message/quota", fake.base_url))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(q.body, json!({ "type": "limited", "value": 2 }));
    let c = send(
        http.get(format!(
            "{}/v2/bot/message/quota/consumption",
            fake.base_url
        ))
        .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(c.body, json!({ "totalUsage": 2 }));

    // Replies still work and are not counted.
    let token = fake.issue_reply_token(USER);
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": token, "messages": [text("x")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(fake.counted_messages(CHANNEL), 2);
}

#[tokio::test]
async fn quota_without_a_limit_is_none() {
    let (fake, http) = default_fake().await;
    let q = send(
        http.get(format!("{}/v2/bot/message/quota", fake.base_url))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(q.body, json!({ "type": "none" }));
}

// ---- tokens and bot info ---------------------------------------------------------------

#[tokio::test]
async fn stateless_tokens_are_issued_for_valid_credentials_and_expire_after_900s() {
    let (fake, http) = default_fake().await;
    let url = format!("{}/oauth2/v3/token", fake.base_url);
    let r = send(http.post(&url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", CHANNEL),
        ("client_secret", SECRET),
    ]))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["token_type"], "Bearer");
    let token = r.body["access_token"].as_str().unwrap().to_owned();

    let body = json!({ "to": USER, "messages": [text("x")] });
    assert_eq!(
        push_with(&fake, &http, &token, &body, None).await.status,
        StatusCode::OK
    );
    fake.advance_clock(Duration::from_secs(901));
    assert_eq!(
        push_with(&fake, &http, &token, &body, None).await.status,
        StatusCode::UNAUTHORIZED
    );

    let r = send(http.post(&url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", CHANNEL),
        ("client_secret", "wrong"),
    ]))
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_client");

    let r = send(
        http.post(&url)
            .form(&[("client_id", CHANNEL), ("client_secret", SECRET)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_request");
    assert_eq!(fake.issued_token_count(CHANNEL), 1);
}

#[tokio::test]
async fn bot_info_returns_the_bot_user_id() {
    let (fake, http) = default_fake().await;
    let r = send(
        http.get(format!("{}/v2/bot/info", fake.base_url))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["userId"], BOT);
    assert!(r.body["basicId"].is_string() && r.body["displayName"].is_string());
}

// ---- fault injection and test support --------------------------------------------------

#[tokio::test]
async fn fail_next_answers_before_recording_so_a_retry_succeeds() {
    let (fake, http) = default_fake().await;
    fake.fail_next(2, 500);
    let key = Uuid::new_v4().to_string();
    let body = json!({ "to": USER, "messages": [text("x")] });
    assert_eq!(
        push_with(&fake, &http, TOKEN, &body, Some(&key))
            .await
            .status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        push_with(&fake, &http, TOKEN, &body, Some(&key))
            .await
            .status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        push_with(&fake, &http, TOKEN, &body, Some(&key))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(fake.recorded_pushes().len(), 1);
    let injected = fake
        .rejected_requests()
        .iter()
        .filter(|r| r.kind == RejectionKind::Injected)
        .count();
    assert_eq!(injected, 2);
    assert!(fake.contract_violations().is_empty());
}

#[tokio::test]
async fn seeded_fault_plan_fails_a_reproducible_fraction() {
    let plan = FaultPlan {
        too_many_requests: 0.2,
        server_error: 0.2,
        ..FaultPlan::new(7)
    };
    let run = || async {
        let (fake, http) = start(
            FakeLine::builder()
                .channel(channel(None))
                .faults(plan.clone())
                .build(),
        )
        .await;
        let body = json!({ "to": USER, "messages": [text("x")] });
        let mut statuses = Vec::new();
        for _ in 0..100 {
            statuses.push(push(&fake, &http, &body).await.status.as_u16());
        }
        (statuses, fake.recorded_pushes().len())
    };
    let (a, delivered) = run().await;
    let (b, _) = run().await;
    assert_eq!(a, b, "same seed, same faults");
    let ok = a.iter().filter(|s| **s == 200).count();
    assert_eq!(delivered, ok);
    assert!((40..80).contains(&ok), "{ok} of 100 succeeded");
    assert!(a.contains(&429) && a.contains(&500));
}

#[tokio::test]
async fn timeout_fault_delays_and_does_not_deliver_lost_response_delivers() {
    let mut plan = FaultPlan::new(1);
    plan.timeout = 1.0;
    plan.delay = Duration::from_millis(300);
    let (fake, _) = start(
        FakeLine::builder()
            .channel(channel(None))
            .faults(plan.clone())
            .build(),
    )
    .await;
    let http = http_builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let body = json!({ "to": USER, "messages": [text("x")] });
    let err = http
        .post(format!("{}/v2/bot/message/push", fake.base_url))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect_err("client times out");
    assert!(err.is_timeout());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(fake.recorded_pushes().is_empty());

    plan.timeout = 0.0;
    plan.lost_response = 1.0;
    fake.set_faults(Some(plan));
    let key = Uuid::new_v4().to_string();
    let err = http
        .post(format!("{}/v2/bot/message/push", fake.base_url))
        .bearer_auth(TOKEN)
        .header("X-Line-Retry-Key", &key)
        .json(&body)
        .send()
        .await
        .expect_err("client times out");
    assert!(err.is_timeout());
    assert_eq!(
        fake.recorded_pushes().len(),
        1,
        "delivered although the response was lost"
    );
    fake.set_faults(None);
    let r = push_with(&fake, &http_client(), TOKEN, &body, Some(&key)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn admin_endpoints_expose_records_and_issue_reply_tokens() {
    let (fake, http) = default_fake().await;
    push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [text("admin")] }),
    )
    .await;
    let pushes = send(http.get(format!("{}/__fake/pushes", fake.base_url))).await;
    assert_eq!(pushes.body[0]["to"], USER);
    assert_eq!(pushes.body[0]["channelId"], CHANNEL);
    assert_eq!(pushes.body[0]["messages"][0]["text"], "admin");

    let t = send(
        http.post(format!("{}/__fake/reply-tokens", fake.base_url))
            .json(&json!({ "userId": USER })),
    )
    .await;
    let token = t.body["replyToken"].as_str().unwrap().to_owned();
    let r = reply(
        &fake,
        &http,
        &json!({ "replyToken": token, "messages": [text("x")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    let reset = http
        .post(format!("{}/__fake/reset", fake.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert!(fake.recorded_pushes().is_empty());
    assert!(fake.recorded_replies().is_empty());
}

#[tokio::test]
async fn signed_webhooks_use_the_channel_secret_and_bot_id() {
    let fake = FakeLine::builder().channel(channel(None)).build();
    let token = fake.issue_reply_token_for(CHANNEL, USER);
    let hook = fake
        .webhook(
            CHANNEL,
            vec![fake_line::webhook::follow_event(USER, &token, false)],
        )
        .unwrap();
    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["destination"], BOT);
    assert_eq!(hook.signature, fake_line::webhook::sign(SECRET, &hook.body));
    assert!(fake_line::contract::check_webhook_body(&body).is_empty());
}

#[tokio::test]
async fn hostile_nesting_is_rejected_without_crashing() {
    let (fake, http) = default_fake().await;
    // Flex boxes nested about as deep as serde_json allows (128 levels): valid per the spec,
    // and validation recursion stays bounded.
    let mut node = json!({ "type": "text", "text": "leaf" });
    for _ in 0..60 {
        node = json!({ "type": "box", "layout": "vertical", "contents": [node] });
    }
    let body = json!({ "to": USER, "messages": [{ "type": "flex", "altText": "deep",
        "contents": { "type": "bubble", "body": node } }] });
    let r = push(&fake, &http, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Past serde_json's depth limit: not JSON.
    let raw = format!(
        r#"{{"to":"{USER}","messages":{}{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let r = send(
        http.post(format!("{}/v2/bot/message/push", fake.base_url))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(raw),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The server is still alive.
    let ok = push(
        &fake,
        &http,
        &json!({ "to": USER, "messages": [text("alive")] }),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
}

// ---- rich menus -------------------------------------------------------------------------

/// A PNG header (signature + IHDR) of the given size: all the fake reads of an image.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0]);
    b
}

fn rich_menu(width: u64, height: u64, areas: usize) -> Value {
    let w = width / areas.max(1) as u64;
    let areas: Vec<Value> = (0..areas as u64)
        .map(|i| {
            json!({"bounds": {"x": i * w, "y": 0, "width": w, "height": height},
                   "action": {"type": "message", "label": "ヘルプ", "text": "ヘルプ"}})
        })
        .collect();
    json!({"size": {"width": width, "height": height}, "selected": true,
           "name": "kizuna-default", "chatBarText": "メニュー", "areas": areas})
}

async fn create_menu(fake: &RunningFakeLine, http: &reqwest::Client, body: &Value) -> Resp {
    send(
        http.post(format!("{}/v2/bot/richmenu", fake.base_url))
            .bearer_auth(TOKEN)
            .json(body),
    )
    .await
}

async fn upload(
    fake: &RunningFakeLine,
    http: &reqwest::Client,
    id: &str,
    media: &str,
    bytes: Vec<u8>,
) -> Resp {
    send(
        http.post(format!("{}/v2/bot/richmenu/{id}/content", fake.base_url))
            .bearer_auth(TOKEN)
            .header("content-type", media)
            .body(bytes),
    )
    .await
}

#[tokio::test]
async fn rich_menu_bodies_are_checked_against_the_spec_and_lines_limits() {
    let (fake, http) = default_fake().await;
    // Each case gets one broken rule and is refused with a detail on the property.
    let mut chat_bar = rich_menu(2500, 843, 4);
    chat_bar["chatBarText"] = json!("あ".repeat(15));
    let mut outside = rich_menu(2500, 843, 1);
    outside["areas"][0]["bounds"]["width"] = json!(2501);
    let mut no_name = rich_menu(2500, 843, 4);
    no_name.as_object_mut().unwrap().remove("name");
    let mut bad_action = rich_menu(2500, 843, 1);
    bad_action["areas"][0]["action"] = json!({"type": "message", "label": "x"});
    let cases = [
        (chat_bar, "chatBarText"),
        (outside, "areas[0].bounds"),
        (rich_menu(2500, 843, 21), "areas"),
        (rich_menu(2501, 843, 4), "size.width"),
        (rich_menu(2500, 249, 4), "size.height"),
        (rich_menu(2500, 1800, 4), "size"),
        (no_name, "name"),
        (bad_action, "areas[0].action.text"),
    ];
    for (body, property) in cases {
        let r = create_menu(&fake, &http, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{property}: {}", r.body);
        assert!(
            detail_properties(&r.body).iter().any(|p| p == property),
            "{property}: {}",
            r.body
        );
    }
    assert!(fake.rich_menus(CHANNEL).is_empty());
    // LINE's documented sizes pass, with 20 areas at most.
    for (w, h) in [
        (2500, 1686),
        (2500, 843),
        (1200, 810),
        (1200, 405),
        (800, 540),
        (800, 270),
    ] {
        let r = create_menu(&fake, &http, &rich_menu(w, h, 20)).await;
        assert_eq!(r.status, StatusCode::OK, "{w}x{h}: {}", r.body);
        assert!(r.body["richMenuId"]
            .as_str()
            .unwrap()
            .starts_with("richmenu-"));
    }
    // Authentication as everywhere else.
    let r = send(
        http.post(format!("{}/v2/bot/richmenu", fake.base_url))
            .bearer_auth("nope")
            .json(&rich_menu(2500, 843, 4)),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rich_menu_images_must_match_the_menu_and_come_before_the_default() {
    let (fake, http) = default_fake().await;
    let id = create_menu(&fake, &http, &rich_menu(2500, 843, 4))
        .await
        .body["richMenuId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Default before the image: refused.
    let set_default = |id: String| {
        let http = http.clone();
        let url = format!("{}/v2/bot/user/all/richmenu/{id}", fake.base_url);
        async move { send(http.post(url).bearer_auth(TOKEN)).await }
    };
    assert_eq!(
        set_default(id.clone()).await.status,
        StatusCode::BAD_REQUEST
    );
    // Wrong media type, wrong dimensions, not an image, over 1 MB.
    let r = upload(&fake, &http, &id, "image/gif", png_header(2500, 843)).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = upload(&fake, &http, &id, "image/png", png_header(2500, 1686)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["message"].as_str().unwrap().contains("2500x843"),
        "{}",
        r.body
    );
    let r = upload(&fake, &http, &id, "image/png", b"GIF89a........".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = upload(&fake, &http, &id, "image/jpeg", png_header(2500, 843)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a PNG labelled JPEG");
    let mut big = png_header(2500, 843);
    big.resize(1024 * 1024 + 1, 0);
    let r = upload(&fake, &http, &id, "image/png", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(fake.rich_menus(CHANNEL)[0].image.is_none());
    // Unknown menu: 404.
    let r = upload(
        &fake,
        &http,
        "richmenu-unknown",
        "image/png",
        png_header(2500, 843),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A right one, exactly 1 MB, is accepted once.
    let mut ok = png_header(2500, 843);
    ok.resize(1024 * 1024, 0);
    assert_eq!(
        upload(&fake, &http, &id, "image/png", ok.clone())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        upload(&fake, &http, &id, "image/png", ok.clone())
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // A JPEG is read from its start-of-frame segment.
    let jpeg_menu = create_menu(&fake, &http, &rich_menu(1200, 405, 2))
        .await
        .body["richMenuId"]
        .as_str()
        .unwrap()
        .to_owned();
    let jpeg = [
        &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00][..],
        &[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x95, 0x04, 0xB0, 0x03][..],
    ]
    .concat();
    assert_eq!(
        upload(&fake, &http, &jpeg_menu, "image/jpeg", jpeg)
            .await
            .status,
        StatusCode::OK
    );

    // Default: none, then set, then read back; unknown ids are 404.
    let get_default = || {
        send(
            http.get(format!("{}/v2/bot/user/all/richmenu", fake.base_url))
                .bearer_auth(TOKEN),
        )
    };
    assert_eq!(get_default().await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        set_default("richmenu-unknown".into()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(set_default(id.clone()).await.status, StatusCode::OK);
    assert_eq!(get_default().await.body["richMenuId"], json!(id));
    assert_eq!(fake.default_rich_menu(CHANNEL), Some(id.clone()));

    // List and get carry the id; the image downloads as uploaded.
    let list = send(
        http.get(format!("{}/v2/bot/richmenu/list", fake.base_url))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(list.body["richmenus"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["richmenus"][0]["richMenuId"], json!(id));
    let got = send(
        http.get(format!("{}/v2/bot/richmenu/{id}", fake.base_url))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(got.body["chatBarText"], json!("メニュー"));
    let image = http
        .get(format!("{}/v2/bot/richmenu/{id}/content", fake.base_url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(image.to_vec(), ok);

    // Delete: the default goes with the menu; a second delete is 404.
    let delete = || {
        send(
            http.delete(format!("{}/v2/bot/richmenu/{id}", fake.base_url))
                .bearer_auth(TOKEN),
        )
    };
    assert_eq!(delete().await.status, StatusCode::OK);
    assert_eq!(delete().await.status, StatusCode::NOT_FOUND);
    assert_eq!(fake.default_rich_menu(CHANNEL), None);
    assert_eq!(fake.rich_menus(CHANNEL).len(), 1);
    let kinds: Vec<RejectionKind> = fake.rejected_requests().iter().map(|r| r.kind).collect();
    assert!(kinds.contains(&RejectionKind::InvalidRichMenuImage));
    assert!(kinds.contains(&RejectionKind::NotFound));
}
