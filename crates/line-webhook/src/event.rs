//! Webhook request body (`POST` from the LINE Platform to our webhook URL), per LINE's
//! `webhook.yml` (`CallbackRequest`, `Event` and its subtypes).
//!
//! Parsing is deliberately tolerant where LINE evolves the format and strict only where a body
//! cannot be a LINE webhook at all:
//! - unknown event types, unknown source types, unknown message types and unknown fields are
//!   accepted (LINE adds them without notice, and a failure here would make LINE redeliver the
//!   whole batch forever);
//! - a known event type whose type-specific payload does not match the spec (say, a `postback`
//!   without `postback.data`) becomes [`EventKind::Unknown`] rather than failing its siblings;
//! - the common fields every event must carry (`type`, `timestamp`, `mode`, `webhookEventId`,
//!   `deliveryContext`) and the body's `destination` and `events` are required: a body without
//!   them is not a LINE webhook (the signature check should already have rejected it); so is
//!   one with an empty or overlong `webhookEventId` ([`MAX_WEBHOOK_EVENT_ID_LEN`]).
//!
//! Nothing here panics on hostile input: `serde_json` bounds nesting depth, and every
//! conversion is fallible.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// The longest `webhookEventId` accepted. LINE's are 26-character ULIDs; the id is the key
/// events are deduplicated on, and a key longer than DynamoDB allows (2,048 bytes) would fail
/// the store on every redelivery of the body, so a longer one means the body is not LINE's.
pub const MAX_WEBHOOK_EVENT_ID_LEN: usize = 128;

/// The whole webhook request body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookRequest {
    /// User id of the bot that should receive the events; compare it with the bot's own user
    /// id (LINE's `GET /v2/bot/info`) to reject events meant for another channel.
    pub destination: String,
    /// May be empty: LINE sends an empty array to verify the webhook URL.
    pub events: Vec<Event>,
}

/// Why a body could not be read as a webhook request.
#[derive(Debug, thiserror::Error)]
#[error("invalid webhook body: {0}")]
pub struct WebhookParseError(#[from] serde_json::Error);

/// Parses a webhook body (after its signature has been verified).
pub fn parse(body: &[u8]) -> Result<WebhookRequest, WebhookParseError> {
    Ok(serde_json::from_slice(body)?)
}

/// One webhook event: the fields common to all events, plus the type-specific part in `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The raw `type` (also for events that map to [`EventKind::Unknown`]).
    pub event_type: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Absent for some event types (e.g. `activated`); [`Source::Unknown`] for source types
    /// this crate does not know.
    pub source: Option<Source>,
    /// ULID identifying the event; stable across redeliveries, so it is the key to deduplicate on.
    pub webhook_event_id: String,
    /// `deliveryContext.isRedelivery`.
    pub is_redelivery: bool,
    pub mode: Mode,
    /// Present on events that can be replied to (and only usable in [`Mode::Active`]).
    pub reply_token: Option<String>,
    pub kind: EventKind,
}

impl Event {
    /// The LINE user id when the event comes from a one-to-one chat with the account, and
    /// `None` for group chats, multi-person chats and unknown sources.
    ///
    /// Only one-to-one events may act on a parent's data: a reply in a group is read by
    /// everyone in it (a due date is health data), and a group member's message is not a
    /// request to receive daily messages.
    pub fn one_to_one_user_id(&self) -> Option<&str> {
        match self.source.as_ref()? {
            Source::User { user_id } => user_id.as_deref(),
            Source::Group { .. } | Source::Room { .. } | Source::Unknown { .. } => None,
        }
    }
}

/// Channel state (`mode`): in `standby` another module owns the chat, so we must not reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Active,
    Standby,
    /// A mode added after this crate was written.
    #[serde(other)]
    Unknown,
}

/// Where the event came from (`source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    User {
        user_id: Option<String>,
    },
    Group {
        group_id: String,
        user_id: Option<String>,
    },
    Room {
        room_id: String,
        user_id: Option<String>,
    },
    /// A source type this crate does not know, or a source that does not match the spec.
    Unknown {
        source_type: String,
    },
}

/// The type-specific part of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Added as a friend, or unblocked.
    Follow {
        is_unblocked: bool,
    },
    /// Blocked.
    Unfollow,
    Message(MessageContent),
    Postback(Postback),
    /// Any other event type, or a known type whose payload does not match the spec.
    Unknown,
}

/// `message` of a message event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageContent {
    Text {
        id: String,
        text: String,
        quote_token: Option<String>,
    },
    /// Stickers, images, locations, … (and text messages that do not match the spec).
    Other { id: String, message_type: String },
}

/// `postback` of a postback event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Postback {
    pub data: String,
    pub params: PostbackParams,
}

/// `postback.params`, filled by a datetime picker action (`date` `2017-12-25`, `time` `01:00`,
/// `datetime` `2017-12-25T01:00`), kept as the strings LINE sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct PostbackParams {
    pub date: Option<String>,
    pub time: Option<String>,
    pub datetime: Option<String>,
}

// ---- wire format -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(rename = "type")]
    event_type: String,
    timestamp: i64,
    #[serde(default)]
    source: Option<Value>,
    webhook_event_id: String,
    delivery_context: RawDeliveryContext,
    mode: Mode,
    #[serde(default)]
    reply_token: Option<Value>,
    #[serde(default)]
    follow: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    postback: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDeliveryContext {
    is_redelivery: bool,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum RawSource {
    #[serde(rename_all = "camelCase")]
    User {
        #[serde(default)]
        user_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Group {
        group_id: String,
        #[serde(default)]
        user_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Room {
        room_id: String,
        #[serde(default)]
        user_id: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFollow {
    is_unblocked: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageHead {
    #[serde(rename = "type")]
    message_type: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTextMessage {
    id: String,
    text: String,
    #[serde(default)]
    quote_token: Option<String>,
}

#[derive(Deserialize)]
struct RawPostback {
    data: String,
    #[serde(default)]
    params: Option<PostbackParams>,
}

fn source_from(value: Value) -> Source {
    let source_type = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match serde_json::from_value::<RawSource>(value) {
        Ok(RawSource::User { user_id }) => Source::User { user_id },
        Ok(RawSource::Group { group_id, user_id }) => Source::Group { group_id, user_id },
        Ok(RawSource::Room { room_id, user_id }) => Source::Room { room_id, user_id },
        Err(_) => Source::Unknown { source_type },
    }
}

fn message_from(value: Value) -> Option<MessageContent> {
    let head: RawMessageHead = serde_json::from_value(value.clone()).ok()?;
    if head.message_type == "text" {
        if let Ok(text) = serde_json::from_value::<RawTextMessage>(value) {
            return Some(MessageContent::Text {
                id: text.id,
                text: text.text,
                quote_token: text.quote_token,
            });
        }
    }
    Some(MessageContent::Other {
        id: head.id,
        message_type: head.message_type,
    })
}

fn kind_from(raw: &mut RawEvent) -> EventKind {
    match raw.event_type.as_str() {
        // `follow.isUnblocked` is required by today's spec but absent from webhooks sent before
        // it was introduced (and from redeliveries of those): read its absence as a new friend.
        "follow" => match raw.follow.take() {
            None => EventKind::Follow {
                is_unblocked: false,
            },
            Some(v) => match serde_json::from_value::<RawFollow>(v) {
                Ok(f) => EventKind::Follow {
                    is_unblocked: f.is_unblocked,
                },
                Err(_) => EventKind::Unknown,
            },
        },
        "unfollow" => EventKind::Unfollow,
        "message" => raw
            .message
            .take()
            .and_then(message_from)
            .map_or(EventKind::Unknown, EventKind::Message),
        "postback" => raw
            .postback
            .take()
            .and_then(|v| serde_json::from_value::<RawPostback>(v).ok())
            .map_or(EventKind::Unknown, |p| {
                EventKind::Postback(Postback {
                    data: p.data,
                    params: p.params.unwrap_or_default(),
                })
            }),
        _ => EventKind::Unknown,
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut raw = RawEvent::deserialize(deserializer)?;
        let kind = kind_from(&mut raw);
        // A reply token of the wrong JSON type is as good as none.
        let reply_token = match raw.reply_token {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        if raw.webhook_event_id.is_empty() || raw.webhook_event_id.len() > MAX_WEBHOOK_EVENT_ID_LEN
        {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(&raw.webhook_event_id),
                &"a webhookEventId of 1 to 128 bytes",
            ));
        }
        Ok(Event {
            event_type: raw.event_type,
            timestamp: raw.timestamp,
            source: raw.source.map(source_from),
            webhook_event_id: raw.webhook_event_id,
            is_redelivery: raw.delivery_context.is_redelivery,
            mode: raw.mode,
            reply_token,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "U4af4980629a1b2c3d4e5f6a7b8c9d0e1";
    const BOT: &str = "Uf0e1d2c3b4a5968778695a4b3c2d1e0f";

    // Bodies in the shape of the examples in LINE's Messaging API reference (webhook event
    // objects), checked against webhook.yml's schemas.
    fn follow_body() -> String {
        format!(
            r#"{{
  "destination": "{BOT}",
  "events": [
    {{
      "replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",
      "type": "follow",
      "mode": "active",
      "timestamp": 1462629479859,
      "source": {{ "type": "user", "userId": "{USER}" }},
      "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
      "deliveryContext": {{ "isRedelivery": false }},
      "follow": {{ "isUnblocked": true }}
    }}
  ]
}}"#
        )
    }

    fn assert_conforms_to_webhook_yml(body: &str) {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(fake_line::contract::check_webhook_body(&value), vec![]);
    }

    #[test]
    fn parses_a_follow_event() {
        assert_conforms_to_webhook_yml(&follow_body());
        let req = parse(follow_body().as_bytes()).expect("valid body");
        assert_eq!(req.destination, BOT);
        let ev = &req.events[0];
        assert_eq!(ev.event_type, "follow");
        assert_eq!(ev.kind, EventKind::Follow { is_unblocked: true });
        assert_eq!(ev.one_to_one_user_id(), Some(USER));
        assert_eq!(
            ev.reply_token.as_deref(),
            Some("nHuyWiB7yP5Zw52FIkcQobQuGDXCTA")
        );
        assert_eq!(ev.mode, Mode::Active);
        assert!(!ev.is_redelivery);
        assert_eq!(ev.timestamp, 1_462_629_479_859);
        assert_eq!(ev.webhook_event_id, "01FZ74A0TDDPYRVKNK77XKC3ZR");
    }

    #[test]
    fn parses_text_unfollow_postback_and_unknown_events_in_one_body() {
        let body = format!(
            r#"{{
  "destination": "{BOT}",
  "events": [
    {{
      "replyToken": "0f3779fba3b349968c5d07db31eab56f",
      "type": "message",
      "mode": "active",
      "timestamp": 1462629479859,
      "source": {{ "type": "user", "userId": "{USER}" }},
      "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
      "deliveryContext": {{ "isRedelivery": true }},
      "message": {{
        "id": "444573844083572737",
        "type": "text",
        "quoteToken": "q3Plxr4AgKd...",
        "text": "2025-04-01",
        "markAsReadToken": "30yhdy232..."
      }}
    }},
    {{
      "type": "unfollow",
      "mode": "active",
      "timestamp": 1462629479860,
      "source": {{ "type": "user", "userId": "{USER}" }},
      "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZS",
      "deliveryContext": {{ "isRedelivery": false }}
    }},
    {{
      "replyToken": "b60d432864f44d079f6d8efe86cf404b",
      "type": "postback",
      "mode": "active",
      "source": {{ "type": "user", "userId": "{USER}" }},
      "timestamp": 1513669370317,
      "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZT",
      "deliveryContext": {{ "isRedelivery": false }},
      "postback": {{
        "data": "action=register&kind=due",
        "params": {{ "date": "2025-10-01" }}
      }}
    }},
    {{
      "replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",
      "type": "beacon",
      "mode": "standby",
      "timestamp": 1462629479861,
      "source": {{ "type": "user", "userId": "{USER}" }},
      "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZV",
      "deliveryContext": {{ "isRedelivery": false }},
      "beacon": {{ "hwid": "d41d8cd98f", "type": "enter" }}
    }},
    {{
      "replyToken": "8cf9239d56244f4197887e939187e19e",
      "type": "message",
      "mode": "active",
      "timestamp": 1462629479862,
      "source": {{ "type": "group", "groupId": "Ca56f94637c8e3b0ef1a2b3c4d5e6f70", "userId": "{USER}" }},
      "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZW",
      "deliveryContext": {{ "isRedelivery": false }},
      "message": {{
        "type": "sticker",
        "id": "1501597916",
        "quoteToken": "q3Plxr4AgKd...",
        "stickerId": "52002738",
        "packageId": "11537",
        "stickerResourceType": "ANIMATION"
      }}
    }}
  ]
}}"#
        );
        assert_conforms_to_webhook_yml(&body);
        let req = parse(body.as_bytes()).expect("valid body");
        assert_eq!(req.events.len(), 5);

        assert_eq!(
            req.events[0].kind,
            EventKind::Message(MessageContent::Text {
                id: "444573844083572737".into(),
                text: "2025-04-01".into(),
                quote_token: Some("q3Plxr4AgKd...".into()),
            })
        );
        assert!(req.events[0].is_redelivery);

        assert_eq!(req.events[1].kind, EventKind::Unfollow);
        assert_eq!(req.events[1].reply_token, None);

        assert_eq!(
            req.events[2].kind,
            EventKind::Postback(Postback {
                data: "action=register&kind=due".into(),
                params: PostbackParams {
                    date: Some("2025-10-01".into()),
                    time: None,
                    datetime: None,
                },
            })
        );

        assert_eq!(req.events[3].kind, EventKind::Unknown);
        assert_eq!(req.events[3].event_type, "beacon");
        assert_eq!(req.events[3].mode, Mode::Standby);

        assert_eq!(
            req.events[4].kind,
            EventKind::Message(MessageContent::Other {
                id: "1501597916".into(),
                message_type: "sticker".into(),
            })
        );
        assert_eq!(
            req.events[4].source,
            Some(Source::Group {
                group_id: "Ca56f94637c8e3b0ef1a2b3c4d5e6f70".into(),
                user_id: Some(USER.into()),
            })
        );
        // A group member's event names them, but acts on nobody's data.
        assert_eq!(req.events[4].one_to_one_user_id(), None);
    }

    #[test]
    fn empty_events_array_is_a_verification_request() {
        let req = parse(format!(r#"{{"destination":"{BOT}","events":[]}}"#).as_bytes()).unwrap();
        assert!(req.events.is_empty());
    }

    #[test]
    fn tolerates_unknown_fields_modes_sources_and_old_follow_events() {
        let body = format!(
            r#"{{"destination":"{BOT}","newTopLevel":{{"x":1}},"events":[
            {{"type":"follow","mode":"someNewMode","timestamp":1,"webhookEventId":"01A",
              "deliveryContext":{{"isRedelivery":false,"extra":true}},
              "source":{{"type":"space","spaceId":"S1"}},"replyToken":"r","brandNew":[1,2]}},
            {{"type":"postback","mode":"active","timestamp":2,"webhookEventId":"01B",
              "deliveryContext":{{"isRedelivery":false}},"postback":{{"params":{{}}}}}},
            {{"type":"message","mode":"active","timestamp":3,"webhookEventId":"01C",
              "deliveryContext":{{"isRedelivery":false}},"replyToken":42,
              "source":{{"type":"user"}},
              "message":{{"type":"text","id":"1","text":7}}}}
            ]}}"#
        );
        let req = parse(body.as_bytes()).expect("tolerant parse");
        let [follow, postback, text] = &req.events[..] else {
            panic!("expected three events");
        };
        assert_eq!(
            follow.kind,
            EventKind::Follow {
                is_unblocked: false
            }
        );
        assert_eq!(follow.mode, Mode::Unknown);
        assert_eq!(
            follow.source,
            Some(Source::Unknown {
                source_type: "space".into()
            })
        );
        assert_eq!(follow.one_to_one_user_id(), None);
        // postback without `data` does not match the spec: unknown, but its siblings survive
        assert_eq!(postback.kind, EventKind::Unknown);
        assert_eq!(
            text.kind,
            EventKind::Message(MessageContent::Other {
                id: "1".into(),
                message_type: "text".into()
            })
        );
        assert_eq!(text.reply_token, None);
        assert_eq!(text.source, Some(Source::User { user_id: None }));
    }

    #[test]
    fn rejects_bodies_that_are_not_webhooks() {
        for body in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"destination":"U1"}"#,
            r#"{"events":[]}"#,
            r#"{"destination":"U1","events":{}}"#,
            // an event without the common required fields
            r#"{"destination":"U1","events":[{"type":"follow"}]}"#,
            r#"{"destination":"U1","events":[{"type":"unfollow","mode":"active","timestamp":"1","webhookEventId":"x","deliveryContext":{"isRedelivery":false}}]}"#,
            r#"{"destination":"U1","events":[{"type":"unfollow","mode":"active","timestamp":1,"webhookEventId":"","deliveryContext":{"isRedelivery":false}}]}"#,
        ] {
            assert!(parse(body.as_bytes()).is_err(), "accepted {body:?}");
        }
        // An event id longer than any key the event log can store (found by the webhook
        // fuzz tests: a validly signed body with one got 500 on every delivery).
        let with_id = |id: &str| {
            format!(
                r#"{{"destination":"U1","events":[{{"type":"unfollow","mode":"active","timestamp":1,"webhookEventId":"{id}","deliveryContext":{{"isRedelivery":false}}}}]}}"#
            )
        };
        assert!(parse(with_id(&"E".repeat(MAX_WEBHOOK_EVENT_ID_LEN)).as_bytes()).is_ok());
        assert!(parse(with_id(&"E".repeat(MAX_WEBHOOK_EVENT_ID_LEN + 1)).as_bytes()).is_err());
        assert!(parse(with_id(&"E".repeat(3000)).as_bytes()).is_err());
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
        let mut body = format!(r#"{{"destination":"{BOT}","events":[{{"type":"x","extra":"#);
        body.push_str(&"[".repeat(100_000));
        body.push_str(&"]".repeat(100_000));
        body.push_str("}]}");
        assert!(parse(body.as_bytes()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn mutated_valid_bodies_never_panic(pos in 0usize..2000, byte in proptest::num::u8::ANY, cut in 0usize..2000) {
            let mut body = follow_body().into_bytes();
            let len = body.len();
            body[pos % len] = byte;
            body.truncate(cut.max(1) % (len + 1));
            let _ = parse(&body);
        }
    }
}
