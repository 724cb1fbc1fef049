//! Webhook bodies as the LINE Platform sends them (shape per `webhook.yml`), signed with the
//! channel secret, for tests that drive Kizuna's webhook endpoint.
//!
//! Events carry reply tokens issued by the fake ([`FakeLine::issue_reply_token_for`]), so a
//! reply to them is accepted exactly once, as on LINE.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::FakeLine;

/// `x-line-signature` for `body`: Base64(HMAC-SHA256(channel secret, body)).
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID (what LINE uses for `webhookEventId`): 48-bit millisecond time + 80 random bits.
pub fn new_webhook_event_id() -> String {
    let ms = u128::try_from(now_ms()).unwrap_or(0) & ((1 << 48) - 1);
    let random = uuid::Uuid::new_v4().as_u128() & ((1 << 80) - 1);
    let mut n = (ms << 80) | random;
    let mut out = [0u8; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(n & 31) as usize];
        n >>= 5;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn common(event_type: &str, user_id: &str) -> Value {
    json!({
        "type": event_type,
        "mode": "active",
        "timestamp": now_ms(),
        "source": { "type": "user", "userId": user_id },
        "webhookEventId": new_webhook_event_id(),
        "deliveryContext": { "isRedelivery": false },
    })
}

fn with(mut event: Value, extra: Value) -> Value {
    if let (Some(e), Value::Object(x)) = (event.as_object_mut(), extra) {
        e.extend(x);
    }
    event
}

/// The same event as if sent in a group chat the account was added to (`source.type =
/// group`; LINE includes the sender's `userId` when it may).
pub fn in_group(mut event: Value, group_id: &str) -> Value {
    let user = event["source"]["userId"].clone();
    event["source"] = json!({ "type": "group", "groupId": group_id, "userId": user });
    event
}

/// The same event as if sent in a multi-person chat (`source.type = room`).
pub fn in_room(mut event: Value, room_id: &str) -> Value {
    let user = event["source"]["userId"].clone();
    event["source"] = json!({ "type": "room", "roomId": room_id, "userId": user });
    event
}

/// A follow event (friend added, or unblocked when `is_unblocked`).
pub fn follow_event(user_id: &str, reply_token: &str, is_unblocked: bool) -> Value {
    with(
        common("follow", user_id),
        json!({ "replyToken": reply_token, "follow": { "isUnblocked": is_unblocked } }),
    )
}

/// An unfollow event (blocked). No reply token: it cannot be replied to.
pub fn unfollow_event(user_id: &str) -> Value {
    common("unfollow", user_id)
}

/// A text message event.
pub fn text_message_event(user_id: &str, reply_token: &str, text: &str) -> Value {
    let id = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000_000_000;
    with(
        common("message", user_id),
        json!({
            "replyToken": reply_token,
            "message": {
                "type": "text",
                "id": id.to_string(),
                "quoteToken": uuid::Uuid::new_v4().simple().to_string(),
                "text": text,
            }
        }),
    )
}

/// A postback event; `params` is e.g. `{"date": "2025-10-01"}` from a datetime picker.
pub fn postback_event(
    user_id: &str,
    reply_token: &str,
    data: &str,
    params: Option<Value>,
) -> Value {
    let mut postback = json!({ "data": data });
    if let (Some(p), Some(obj)) = (params, postback.as_object_mut()) {
        obj.insert("params".to_owned(), p);
    }
    with(
        common("postback", user_id),
        json!({ "replyToken": reply_token, "postback": postback }),
    )
}

/// Marks an event as a redelivery (`deliveryContext.isRedelivery: true`), keeping its id.
pub fn redelivered(mut event: Value) -> Value {
    if let Some(ctx) = event
        .get_mut("deliveryContext")
        .and_then(Value::as_object_mut)
    {
        ctx.insert("isRedelivery".to_owned(), Value::Bool(true));
    }
    event
}

/// A webhook request ready to POST: the exact body bytes and its `x-line-signature`.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    pub body: Vec<u8>,
    pub signature: String,
}

/// Serializes `{"destination", "events"}` and signs it.
pub fn signed_body(channel_secret: &str, destination: &str, events: Vec<Value>) -> SignedWebhook {
    let body = json!({ "destination": destination, "events": events })
        .to_string()
        .into_bytes();
    let signature = sign(channel_secret, &body);
    SignedWebhook { body, signature }
}

impl FakeLine {
    /// A signed webhook for a configured channel (`destination` = its bot user id), or `None`
    /// for an unknown channel.
    pub fn webhook(&self, channel_id: &str, events: Vec<Value>) -> Option<SignedWebhook> {
        let c = self.channel(channel_id)?;
        Some(signed_body(&c.channel_secret, &c.bot_user_id, events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::check_webhook_body;

    const USER: &str = "U4af4980629a1b2c3d4e5f6a7b8c9d0e1";
    const BOT: &str = "Uf0e1d2c3b4a5968778695a4b3c2d1e0f";

    #[test]
    fn built_events_conform_to_webhook_yml() {
        let events = vec![
            follow_event(USER, "rt1", false),
            unfollow_event(USER),
            text_message_event(USER, "rt2", "2025-04-01"),
            postback_event(USER, "rt3", "a=due", Some(json!({"date": "2025-10-01"}))),
            redelivered(unfollow_event(USER)),
        ];
        let body = json!({ "destination": BOT, "events": events });
        assert_eq!(check_webhook_body(&body), vec![]);
    }

    #[test]
    fn signature_matches_python_hmac() {
        // Computed independently with Python's hmac/hashlib/base64 (see kizuna-line's tests).
        assert_eq!(
            sign("secret", b""),
            "+eZuF5tnR65UEI+C+K3os8Jddv0wr95sOVgixTAZYWk="
        );
    }

    #[test]
    fn event_ids_are_ulids() {
        let id = new_webhook_event_id();
        assert_eq!(id.len(), 26);
        assert!(id.bytes().all(|b| CROCKFORD.contains(&b)));
        assert_ne!(id, new_webhook_event_id());
    }
}
