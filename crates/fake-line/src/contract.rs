//! LINE's request contract: the official OpenAPI specs (embedded, unmodified, from
//! `openapi/`) plus the documented rules the specs do not express.
//!
//! Public so that other crates' tests can check message objects without going through HTTP.

use std::sync::OnceLock;

use serde_json::Value;

use crate::spec::{utf16_len, Spec, SpecError, Violation};

/// LINE's Messaging API spec (`line/line-openapi`, see `openapi/SOURCE.txt`).
pub const MESSAGING_API_YAML: &str = include_str!("../openapi/messaging-api.yml");
/// LINE's channel access token API spec.
pub const CHANNEL_ACCESS_TOKEN_YAML: &str = include_str!("../openapi/channel-access-token.yml");
/// LINE's webhook event spec.
pub const WEBHOOK_YAML: &str = include_str!("../openapi/webhook.yml");

/// Maximum length of a text message's `text`, in UTF-16 code units (documented by LINE for
/// the text message object, absent from the spec's schema).
pub const MAX_TEXT_LENGTH: usize = 5000;

/// The three compiled specs.
#[derive(Debug)]
pub struct Contract {
    pub messaging: Spec,
    pub token: Spec,
    pub webhook: Spec,
}

impl Contract {
    fn compile() -> Result<Self, SpecError> {
        let contract = Contract {
            messaging: Spec::from_yaml(MESSAGING_API_YAML)?,
            token: Spec::from_yaml(CHANNEL_ACCESS_TOKEN_YAML)?,
            webhook: Spec::from_yaml(WEBHOOK_YAML)?,
        };
        // Fail at start-up, not on the first request, if a schema the fake relies on is gone.
        for name in [
            "PushMessageRequest",
            "ReplyMessageRequest",
            "Message",
            "RichMenuRequest",
        ] {
            contract.messaging.schema(name)?;
        }
        contract
            .token
            .schema("IssueStatelessChannelTokenByClientSecretRequest")?;
        contract.webhook.schema("CallbackRequest")?;
        Ok(contract)
    }
}

/// The compiled contract, built once per process (the specs are embedded, so failure is a
/// build defect, caught by this crate's tests).
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        Contract::compile().unwrap_or_else(|e| panic!("embedded LINE OpenAPI specs: {e}"))
    })
}

fn schema_violations(spec: &Spec, schema: &str, value: &Value) -> Vec<Violation> {
    let violations = match spec.schema(schema) {
        Ok(s) => s.validate(value),
        // Checked in Contract::compile.
        Err(e) => vec![Violation {
            message: e.to_string(),
            property: String::new(),
        }],
    };
    #[cfg(feature = "jsonschema-comparison")]
    comparison::compare(schema, value, &violations);
    violations
}

/// The `jsonschema`-based validator run beside the hand-written one on every body the
/// contract checks, recording where their verdicts differ.
#[cfg(feature = "jsonschema-comparison")]
pub mod comparison {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock};

    use serde_json::Value;

    use super::{CHANNEL_ACCESS_TOKEN_YAML, MESSAGING_API_YAML, WEBHOOK_YAML};
    use crate::json_schema::{JsonSchemaSpec, LengthUnit};
    use crate::spec::Violation;

    const MESSAGING: &[&str] = &[
        "PushMessageRequest",
        "ReplyMessageRequest",
        "RichMenuRequest",
    ];
    const TOKEN: &[&str] = &["IssueStatelessChannelTokenByClientSecretRequest"];
    const WEBHOOK: &[&str] = &["CallbackRequest"];

    /// A body one validator accepted and the other refused.
    #[derive(Debug, Clone)]
    pub struct Disagreement {
        pub schema: String,
        pub body: Value,
        pub hand_written: Vec<Violation>,
        pub jsonschema: Vec<Violation>,
    }

    /// The translated specs, with lengths counted as `unit`.
    pub fn specs(unit: LengthUnit) -> Vec<(&'static [&'static str], JsonSchemaSpec)> {
        [
            (MESSAGING, MESSAGING_API_YAML),
            (TOKEN, CHANNEL_ACCESS_TOKEN_YAML),
            (WEBHOOK, WEBHOOK_YAML),
        ]
        .into_iter()
        .map(|(names, yaml)| {
            let spec = JsonSchemaSpec::from_yaml(yaml, names, unit)
                .unwrap_or_else(|e| panic!("translating {names:?}: {e}"));
            (names, spec)
        })
        .collect()
    }

    /// The `jsonschema` verdict on a body of the named schema, lengths in UTF-16 code units.
    pub fn jsonschema_violations(schema: &str, value: &Value) -> Vec<Violation> {
        static SPECS: OnceLock<Vec<(&'static [&'static str], JsonSchemaSpec)>> = OnceLock::new();
        let specs = SPECS.get_or_init(|| specs(LengthUnit::Utf16));
        let (_, spec) = specs
            .iter()
            .find(|(names, _)| names.contains(&schema))
            .unwrap_or_else(|| panic!("no translated schema {schema}"));
        spec.validate(schema, value)
            .unwrap_or_else(|e| panic!("validating {schema}: {e}"))
    }

    static DISAGREEMENTS: Mutex<Vec<Disagreement>> = Mutex::new(Vec::new());

    static COMPARED: AtomicUsize = AtomicUsize::new(0);

    /// How many bodies both validators have judged in this process.
    pub fn compared() -> usize {
        COMPARED.load(Ordering::Relaxed)
    }

    pub(super) fn compare(schema: &str, value: &Value, hand_written: &[Violation]) {
        let jsonschema = jsonschema_violations(schema, value);
        if COMPARED.fetch_add(1, Ordering::Relaxed) == 0 {
            // So that a run's log shows the comparison was on.
            eprintln!("jsonschema-comparison: judging every request body with both validators");
        }
        if jsonschema.is_empty() == hand_written.is_empty() {
            return;
        }
        // Printed so that a run of another crate's tests against the fake shows it.
        eprintln!(
            "jsonschema-comparison: verdicts differ on {schema}: hand-written {hand_written:?}, \
             jsonschema {jsonschema:?}, body {value}"
        );
        crate::lock(&DISAGREEMENTS).push(Disagreement {
            schema: schema.to_owned(),
            body: value.clone(),
            hand_written: hand_written.to_vec(),
            jsonschema,
        });
    }

    /// Every disagreement seen by this process so far.
    pub fn disagreements() -> Vec<Disagreement> {
        crate::lock(&DISAGREEMENTS).clone()
    }
}

/// Rules on message objects that LINE documents but the spec does not encode.
fn message_rules(messages: Option<&Value>, prefix: &str, out: &mut Vec<Violation>) {
    let Some(Value::Array(messages)) = messages else {
        return;
    };
    for (i, m) in messages.iter().enumerate() {
        let is_text = matches!(
            m.get("type").and_then(Value::as_str),
            Some("text" | "textV2")
        );
        if let (true, Some(Value::String(text))) = (is_text, m.get("text")) {
            let len = utf16_len(text);
            if len == 0 || len > MAX_TEXT_LENGTH {
                out.push(Violation {
                    message: if len == 0 {
                        "May not be empty".to_owned()
                    } else {
                        format!("Length must be between 1 and {MAX_TEXT_LENGTH}")
                    },
                    property: format!("{prefix}[{i}].text"),
                });
            }
        }
    }
}

/// Whether `s` has the shape of a LINE user id: `U` followed by 32 lowercase hex digits.
pub fn is_user_id(s: &str) -> bool {
    s.len() == 33
        && s.starts_with('U')
        && s.bytes()
            .skip(1)
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Violations of a push request body (`PushMessageRequest` plus the documented rules; the
/// fake only accepts user ids as `to`, which is all Kizuna sends to).
pub fn check_push_body(body: &Value) -> Vec<Violation> {
    let mut out = schema_violations(&contract().messaging, "PushMessageRequest", body);
    message_rules(body.get("messages"), "messages", &mut out);
    if let Some(Value::String(to)) = body.get("to") {
        if !is_user_id(to) {
            out.push(Violation {
                message: "Must be a user ID (U followed by 32 lowercase hexadecimal digits)"
                    .to_owned(),
                property: "to".to_owned(),
            });
        }
    }
    out
}

/// Violations of a reply request body (`ReplyMessageRequest` plus the documented rules).
pub fn check_reply_body(body: &Value) -> Vec<Violation> {
    let mut out = schema_violations(&contract().messaging, "ReplyMessageRequest", body);
    message_rules(body.get("messages"), "messages", &mut out);
    out
}

/// Violations of an array of message objects, as they would appear in a push or reply body
/// (for tests of code that composes messages).
pub fn check_messages(messages: &Value) -> Vec<Violation> {
    let body =
        serde_json::json!({ "to": "U00000000000000000000000000000000", "messages": messages });
    check_push_body(&body)
}

/// Violations of a stateless token request (form fields as a JSON object of strings).
pub fn check_token_request(form: &Value) -> Vec<Violation> {
    schema_violations(
        &contract().token,
        "IssueStatelessChannelTokenByClientSecretRequest",
        form,
    )
}

/// Violations of a webhook request body (`CallbackRequest` of webhook.yml), for checking
/// the webhook bodies tests send to Kizuna.
pub fn check_webhook_body(body: &Value) -> Vec<Violation> {
    schema_violations(&contract().webhook, "CallbackRequest", body)
}

/// Rich menu limits LINE documents for the rich menu object and its image (the spec only
/// encodes `chatBarText` ≤ 14 and `name` ≤ 300).
pub mod rich_menu {
    /// Width of the menu (and its image), in pixels.
    pub const WIDTH: std::ops::RangeInclusive<u64> = 800..=2500;
    /// Minimum height, in pixels.
    pub const MIN_HEIGHT: u64 = 250;
    /// Minimum aspect ratio, width ÷ height.
    pub const MIN_ASPECT_RATIO: f64 = 1.45;
    /// Tappable areas per menu.
    pub const MAX_AREAS: usize = 20;
    /// Image file size.
    pub const MAX_IMAGE_BYTES: usize = 1024 * 1024;
    /// Rich menus per channel.
    pub const MAX_PER_CHANNEL: usize = 1000;
    /// Text of a message action.
    pub const MAX_ACTION_TEXT: usize = 300;
    /// Image media types.
    pub const IMAGE_TYPES: [&str; 2] = ["image/png", "image/jpeg"];
}

fn violation(property: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation {
        message: message.into(),
        property: property.into(),
    }
}

fn dimension(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// Violations of a create-rich-menu body (`RichMenuRequest` plus the documented rules: every
/// property required, the size limits, at most 20 areas, each within the menu).
pub fn check_rich_menu_body(body: &Value) -> Vec<Violation> {
    use rich_menu::MAX_AREAS;
    let mut out = schema_violations(&contract().messaging, "RichMenuRequest", body);
    for required in ["size", "selected", "name", "chatBarText", "areas"] {
        if body.get(required).is_none() {
            out.push(violation(required, "Must be specified"));
        }
    }
    let size = body
        .get("size")
        .and_then(|s| Some((dimension(s, "width")?, dimension(s, "height")?)));
    if let Some(size) = size {
        rich_menu_size_rules(size, &mut out);
    }
    if let Some(Value::String(name)) = body.get("name") {
        if name.is_empty() {
            out.push(violation("name", "May not be empty"));
        }
    }
    if let Some(Value::Array(areas)) = body.get("areas") {
        if areas.len() > MAX_AREAS {
            out.push(violation(
                "areas",
                format!("Size must be between 0 and {MAX_AREAS}"),
            ));
        }
        for (i, area) in areas.iter().enumerate() {
            rich_menu_area_rules(&format!("areas[{i}]"), area, size, &mut out);
        }
    }
    out
}

/// LINE's documented menu sizes: width, minimum height, minimum aspect ratio.
fn rich_menu_size_rules((w, h): (u64, u64), out: &mut Vec<Violation>) {
    use rich_menu::{MIN_ASPECT_RATIO, MIN_HEIGHT, WIDTH};
    if !WIDTH.contains(&w) {
        out.push(violation(
            "size.width",
            format!("Must be between {} and {}", WIDTH.start(), WIDTH.end()),
        ));
    }
    if h < MIN_HEIGHT {
        out.push(violation(
            "size.height",
            format!("Must be at least {MIN_HEIGHT}"),
        ));
    } else if (w as f64) / (h as f64) < MIN_ASPECT_RATIO {
        out.push(violation(
            "size",
            format!("Aspect ratio (width / height) must be at least {MIN_ASPECT_RATIO}"),
        ));
    }
}

/// One tappable area: an action (a message action with its text) and bounds within the menu.
fn rich_menu_area_rules(
    path: &str,
    area: &Value,
    size: Option<(u64, u64)>,
    out: &mut Vec<Violation>,
) {
    use rich_menu::MAX_ACTION_TEXT;
    match area.get("action") {
        None => out.push(violation(format!("{path}.action"), "Must be specified")),
        // LINE documents a message action's text as required, 1–300 characters.
        Some(a) if a.get("type").and_then(Value::as_str) == Some("message") => {
            let len = a.get("text").and_then(Value::as_str).map(utf16_len);
            if !matches!(len, Some(1..=MAX_ACTION_TEXT)) {
                out.push(violation(
                    format!("{path}.action.text"),
                    format!("Must be 1 to {MAX_ACTION_TEXT} characters"),
                ));
            }
        }
        Some(_) => {}
    }
    let Some(b) = area.get("bounds") else {
        out.push(violation(format!("{path}.bounds"), "Must be specified"));
        return;
    };
    let (Some(x), Some(y), Some(bw), Some(bh)) = (
        dimension(b, "x"),
        dimension(b, "y"),
        dimension(b, "width"),
        dimension(b, "height"),
    ) else {
        out.push(violation(
            format!("{path}.bounds"),
            "x, y, width and height must be specified",
        ));
        return;
    };
    if let Some((w, h)) = size {
        if x.saturating_add(bw) > w || y.saturating_add(bh) > h {
            out.push(violation(
                format!("{path}.bounds"),
                "Must be within the rich menu's size",
            ));
        }
    }
}

/// Width and height of a PNG (from its IHDR chunk) or JPEG (from its start-of-frame
/// segment); `None` if the bytes are neither.
pub fn image_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG_SIGNATURE) {
        if bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
            return None;
        }
        let be = |r: std::ops::Range<usize>| {
            u64::from(u32::from_be_bytes(bytes[r].try_into().expect("4 bytes")))
        };
        return Some((be(16..20), be(20..24)));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 4 <= bytes.len() {
            if bytes[i] != 0xFF {
                return None;
            }
            let marker = bytes[i + 1];
            let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            let is_sof = (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
            if is_sof {
                let h = bytes.get(i + 5..i + 7)?;
                let w = bytes.get(i + 7..i + 9)?;
                return Some((
                    u64::from(u16::from_be_bytes([w[0], w[1]])),
                    u64::from(u16::from_be_bytes([h[0], h[1]])),
                ));
            }
            i += 2 + len;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_specs_compile() {
        let c = contract();
        // The limits the fake enforces come from the spec itself.
        assert_eq!(
            c.messaging
                .property_limit("PushMessageRequest", "messages", "maxItems"),
            Some(5)
        );
        assert_eq!(
            c.messaging
                .property_limit("ReplyMessageRequest", "messages", "minItems"),
            Some(1)
        );
        assert_eq!(
            c.messaging
                .property_limit("QuickReply", "items", "maxItems"),
            Some(13)
        );
    }

    #[test]
    fn user_id_shape() {
        assert!(is_user_id("U4af4980629a1b2c3d4e5f6a7b8c9d0e1"));
        assert!(!is_user_id("U4AF4980629A1B2C3D4E5F6A7B8C9D0E1"));
        assert!(!is_user_id("C4af4980629a1b2c3d4e5f6a7b8c9d0e1"));
        assert!(!is_user_id("U4af4980629a1b2c3d4e5f6a7b8c9d0e"));
        assert!(!is_user_id("U4af4980629a1b2c3d4e5f6a7b8c9d0eあ"));
    }

    #[test]
    fn realistic_messages_pass() {
        let messages = json!([
            {"type": "text", "text": "今日のひとこと 👶 (妊娠20週)",
             "quickReply": {"items": [
                {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}},
                {"type": "action", "action": {"type": "postback", "label": "登録", "data": "a=reg",
                  "displayText": "登録する"}},
                {"type": "action", "action": {"type": "datetimepicker", "label": "予定日",
                  "data": "a=due", "mode": "date", "initial": "2025-10-01"}}
             ]}},
            {"type": "sticker", "packageId": "446", "stickerId": "1988"},
            {"type": "template", "altText": "確認",
             "template": {"type": "confirm", "text": "登録しますか？", "actions": [
                {"type": "message", "label": "はい", "text": "はい"},
                {"type": "message", "label": "いいえ", "text": "いいえ"}]}},
            {"type": "flex", "altText": "カード",
             "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical",
               "contents": [{"type": "text", "text": "こんにちは", "wrap": true}]}}}
        ]);
        assert_eq!(check_messages(&messages), vec![]);
    }

    #[test]
    fn text_rules() {
        let long = "あ".repeat(MAX_TEXT_LENGTH + 1);
        let v = check_messages(&json!([{"type": "text", "text": long}]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].property, "messages[0].text");
        // 2500 emoji outside the BMP = 5000 UTF-16 code units: exactly at the limit.
        let emoji = "😀".repeat(2500);
        assert!(check_messages(&json!([{"type": "text", "text": emoji}])).is_empty());
        let emoji = "😀".repeat(2501);
        assert_eq!(
            check_messages(&json!([{"type": "text", "text": emoji}])).len(),
            1
        );
        let v = check_messages(&json!([{"type": "text", "text": ""}]));
        assert_eq!(v[0].message, "May not be empty");
    }

    #[test]
    fn webhook_schema_is_usable() {
        let body = json!({"destination": "U4af4980629a1b2c3d4e5f6a7b8c9d0e1", "events": [{
            "type": "unfollow", "mode": "active", "timestamp": 1, "webhookEventId": "01H",
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f6a7b8c9d0e1"}}]});
        assert_eq!(check_webhook_body(&body), vec![]);
        let bad = json!({"destination": "nope", "events": [{"type": "follow"}]});
        assert!(!check_webhook_body(&bad).is_empty());
    }
}
