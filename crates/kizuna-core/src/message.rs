//! LINE message objects, as Kizuna sends them (a subset of the Messaging API's `Message`).
//!
//! These are domain values — the texts a parent reads — that serialise to exactly the JSON
//! LINE expects; they carry no HTTP concerns.

use serde::{Deserialize, Serialize};

/// LINE's limit on message objects in one reply or push request.
pub const MAX_MESSAGES_PER_REQUEST: usize = 5;
/// LINE's limit on a text message, counted in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 5000;
/// LINE's limit on quick reply buttons.
pub const MAX_QUICK_REPLY_ITEMS: usize = 13;
/// LINE's limit on an action label (characters).
pub const MAX_ACTION_LABEL_CHARS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Message {
    #[serde(rename_all = "camelCase")]
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quick_reply: Option<QuickReply>,
    },
}

impl Message {
    pub fn text(text: impl Into<String>) -> Self {
        Message::Text {
            text: text.into(),
            quick_reply: None,
        }
    }

    pub fn with_quick_reply(self, items: Vec<QuickReplyItem>) -> Self {
        match self {
            Message::Text { text, .. } => Message::Text {
                text,
                quick_reply: Some(QuickReply { items }),
            },
        }
    }

    pub fn text_body(&self) -> &str {
        match self {
            Message::Text { text, .. } => text,
        }
    }
}

/// Length of a text as LINE counts it.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub items: Vec<QuickReplyItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyItem {
    /// Always "action".
    #[serde(rename = "type")]
    pub kind: String,
    pub action: Action,
}

impl QuickReplyItem {
    pub fn new(action: Action) -> Self {
        Self {
            kind: "action".to_owned(),
            action,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// Sends `text` as if the parent typed it.
    Message { label: String, text: String },
    #[serde(rename_all = "camelCase")]
    Postback {
        label: String,
        data: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display_text: Option<String>,
    },
    /// A date picker (`mode: "date"`); dates are `YYYY-MM-DD`.
    #[serde(rename = "datetimepicker", rename_all = "camelCase")]
    DatetimePicker {
        label: String,
        data: String,
        mode: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_date_picker_serialises_as_line_expects() {
        let msg =
            Message::text("予定日を教えてください").with_quick_reply(vec![QuickReplyItem::new(
                Action::DatetimePicker {
                    label: "予定日を選ぶ".into(),
                    data: "kizuna:v1:date:due".into(),
                    mode: "date".into(),
                    initial: Some("2027-01-01".into()),
                    max: Some("2027-09-22".into()),
                    min: Some("2026-11-25".into()),
                },
            )]);
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["type"], "text");
        assert_eq!(json["quickReply"]["items"][0]["type"], "action");
        assert_eq!(
            json["quickReply"]["items"][0]["action"]["type"],
            "datetimepicker"
        );
        assert_eq!(json["quickReply"]["items"][0]["action"]["mode"], "date");
    }

    #[test]
    fn utf16_counts_surrogate_pairs_twice() {
        assert_eq!(utf16_len("あ"), 1);
        assert_eq!(utf16_len("😀"), 2);
    }
}
