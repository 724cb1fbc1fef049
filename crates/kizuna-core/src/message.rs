//! What a parent receives, channel-neutral: texts, and the choices a parent may answer with
//! (a word to send, a postback, a date to pick).
//!
//! These are domain values: the plan and the conversation build them; the LINE adapter
//! (`kizuna_line::wire`) writes them as LINE's message objects and checks LINE's limits again
//! before a request leaves. The limits below are LINE's, the strictest of the channels Kizuna
//! knows; the plan and the conversation are written to them (five objects a push, texts
//! combined to fit), so what they build is valid on LINE by construction.

use chrono::NaiveDate;

/// LINE's limit on message objects in one reply or push request.
pub const MAX_MESSAGES_PER_REQUEST: usize = 5;
/// LINE's limit on a text message, counted in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 5000;
/// LINE's limit on quick reply buttons.
pub const MAX_QUICK_REPLY_ITEMS: usize = 13;
/// LINE's limit on an action label (characters).
pub const MAX_ACTION_LABEL_CHARS: usize = 20;

/// One message object: a text, optionally with the choices offered under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text {
        text: String,
        /// The choices, shown under the text (LINE: quick-reply buttons, on the last object).
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReply {
    pub items: Vec<QuickReplyItem>,
}

/// One choice under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReplyItem {
    pub action: Action,
}

impl QuickReplyItem {
    pub fn new(action: Action) -> Self {
        Self { action }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Sends `text` as if the parent typed it.
    Message { label: String, text: String },
    /// Sends `data` back to Kizuna (`conversation::postback`); the chat shows `display_text`
    /// as the parent's words, if any.
    Postback {
        label: String,
        data: String,
        display_text: Option<String>,
    },
    /// Lets the parent pick a date between `min` and `max`; the picked date comes back with
    /// `data`.
    DatePicker {
        label: String,
        data: String,
        initial: Option<NaiveDate>,
        max: Option<NaiveDate>,
        min: Option<NaiveDate>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_counts_surrogate_pairs_twice() {
        assert_eq!(utf16_len("あ"), 1);
        assert_eq!(utf16_len("😀"), 2);
    }
}
