//! LINE's message objects: how the core's channel-neutral messages
//! ([`kizuna_core::Message`]: a text and the choices a parent may answer with) go over the
//! wire, and LINE's limits checked before a request leaves.
//!
//! The core plans *what* a parent receives; only this module knows LINE's JSON (`quickReply`,
//! `"type": "action"`, `datetimepicker` with `mode: "date"`). The plan and the conversation are
//! written to LINE's limits (they are the strictest of the channels Kizuna knows), and
//! [`render`] checks them again: a message LINE would refuse with a 400 is refused here, saying
//! what is wrong, and never sent. The rendered objects borrow from the messages, so rendering
//! a day's push allocates two small vectors and no strings (the fan-out renders millions).

use kizuna_core::message::{
    utf16_len, Action, Message, MAX_ACTION_LABEL_CHARS, MAX_MESSAGES_PER_REQUEST,
    MAX_QUICK_REPLY_ITEMS, MAX_TEXT_UTF16,
};
use serde::Serialize;

/// LINE's limit on a postback action's `data`, in characters.
pub const MAX_POSTBACK_DATA_CHARS: usize = 300;
/// LINE's limit on a postback action's `displayText` and a message action's `text`.
pub const MAX_ACTION_TEXT_CHARS: usize = 300;

/// A message object as LINE's Messaging API takes it (`Message` in its OpenAPI spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LineMessage<'a> {
    #[serde(rename_all = "camelCase")]
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        quick_reply: Option<LineQuickReply<'a>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineQuickReply<'a> {
    pub items: Vec<LineQuickReplyItem<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineQuickReplyItem<'a> {
    /// Always "action".
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub action: LineAction<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LineAction<'a> {
    Message {
        label: &'a str,
        text: &'a str,
    },
    #[serde(rename_all = "camelCase")]
    Postback {
        label: &'a str,
        data: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        display_text: Option<&'a str>,
    },
    /// LINE's date picker: `mode: "date"`, dates as `YYYY-MM-DD`.
    #[serde(rename = "datetimepicker", rename_all = "camelCase")]
    DatetimePicker {
        label: &'a str,
        data: &'a str,
        mode: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        initial: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<String>,
    },
}

/// What LINE would refuse in a request's messages; `message` is the object's index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("a request carries 1 to {MAX_MESSAGES_PER_REQUEST} message objects, not {0}")]
    MessageCount(usize),
    #[error("message {message}: a text is 1 to {MAX_TEXT_UTF16} UTF-16 units, not {units}")]
    TextLength { message: usize, units: usize },
    #[error("message {message}: at most {MAX_QUICK_REPLY_ITEMS} quick replies, not {count}")]
    QuickReplyCount { message: usize, count: usize },
    #[error("message {message}: an action label is 1 to {MAX_ACTION_LABEL_CHARS} characters, not {chars}")]
    LabelLength { message: usize, chars: usize },
    #[error("message {message}: an action's data or text is 1 to {MAX_POSTBACK_DATA_CHARS} characters, not {chars}")]
    ActionTextLength { message: usize, chars: usize },
}

/// The request's `messages`, as LINE takes them, or what LINE would refuse in them.
pub fn render(messages: &[Message]) -> Result<Vec<LineMessage<'_>>, RenderError> {
    if messages.is_empty() || messages.len() > MAX_MESSAGES_PER_REQUEST {
        return Err(RenderError::MessageCount(messages.len()));
    }
    messages
        .iter()
        .enumerate()
        .map(|(index, message)| render_one(index, message))
        .collect()
}

fn render_one(index: usize, message: &Message) -> Result<LineMessage<'_>, RenderError> {
    let Message::Text { text, quick_reply } = message;
    let units = utf16_len(text);
    if units == 0 || units > MAX_TEXT_UTF16 {
        return Err(RenderError::TextLength {
            message: index,
            units,
        });
    }
    let quick_reply = match quick_reply {
        None => None,
        Some(reply) => {
            if reply.items.len() > MAX_QUICK_REPLY_ITEMS {
                return Err(RenderError::QuickReplyCount {
                    message: index,
                    count: reply.items.len(),
                });
            }
            let items = reply
                .items
                .iter()
                .map(|item| {
                    Ok(LineQuickReplyItem {
                        kind: "action",
                        action: render_action(index, &item.action)?,
                    })
                })
                .collect::<Result<_, RenderError>>()?;
            Some(LineQuickReply { items })
        }
    };
    Ok(LineMessage::Text { text, quick_reply })
}

fn render_action(index: usize, action: &Action) -> Result<LineAction<'_>, RenderError> {
    let label = |label: &str| {
        let chars = label.chars().count();
        if chars == 0 || chars > MAX_ACTION_LABEL_CHARS {
            return Err(RenderError::LabelLength {
                message: index,
                chars,
            });
        }
        Ok(())
    };
    let within = |text: &str, limit: usize| {
        let chars = text.chars().count();
        if chars == 0 || chars > limit {
            return Err(RenderError::ActionTextLength {
                message: index,
                chars,
            });
        }
        Ok(())
    };
    let date = |d: &Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    Ok(match action {
        Action::Message { label: l, text } => {
            label(l)?;
            within(text, MAX_ACTION_TEXT_CHARS)?;
            LineAction::Message { label: l, text }
        }
        Action::Postback {
            label: l,
            data,
            display_text,
        } => {
            label(l)?;
            within(data, MAX_POSTBACK_DATA_CHARS)?;
            if let Some(shown) = display_text {
                within(shown, MAX_ACTION_TEXT_CHARS)?;
            }
            LineAction::Postback {
                label: l,
                data,
                display_text: display_text.as_deref(),
            }
        }
        Action::DatePicker {
            label: l,
            data,
            initial,
            max,
            min,
        } => {
            label(l)?;
            within(data, MAX_POSTBACK_DATA_CHARS)?;
            LineAction::DatetimePicker {
                label: l,
                data,
                mode: "date",
                initial: date(initial),
                max: date(max),
                min: date(min),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::message::QuickReplyItem;
    use kizuna_core::testing::date;

    fn json(messages: &[Message]) -> serde_json::Value {
        serde_json::to_value(render(messages).unwrap()).unwrap()
    }

    #[test]
    fn a_text_with_a_date_picker_is_written_as_line_expects() {
        let msg = Message::text("予定日を教えてください").with_quick_reply(vec![
            QuickReplyItem::new(Action::DatePicker {
                label: "予定日を選ぶ".into(),
                data: "kizuna:v1:date:due".into(),
                initial: Some(date(2027, 1, 1)),
                max: Some(date(2027, 9, 22)),
                min: None,
            }),
            QuickReplyItem::new(Action::Postback {
                label: "やめておく".into(),
                data: "kizuna:v1:cancel".into(),
                display_text: Some("やめておく".into()),
            }),
            QuickReplyItem::new(Action::Message {
                label: "ヘルプ".into(),
                text: "ヘルプ".into(),
            }),
        ]);
        assert_eq!(
            json(&[msg]),
            serde_json::json!([{
                "type": "text",
                "text": "予定日を教えてください",
                "quickReply": {"items": [
                    {"type": "action", "action": {
                        "type": "datetimepicker", "label": "予定日を選ぶ",
                        "data": "kizuna:v1:date:due", "mode": "date",
                        "initial": "2027-01-01", "max": "2027-09-22"}},
                    {"type": "action", "action": {
                        "type": "postback", "label": "やめておく",
                        "data": "kizuna:v1:cancel", "displayText": "やめておく"}},
                    {"type": "action", "action": {
                        "type": "message", "label": "ヘルプ", "text": "ヘルプ"}}
                ]}
            }])
        );
        assert_eq!(
            json(&[Message::text("こんにちは")]),
            serde_json::json!([{"type": "text", "text": "こんにちは"}]),
            "no quickReply key without choices"
        );
    }

    #[test]
    fn what_line_would_refuse_is_refused_before_it_is_sent() {
        let text = |n: usize| Message::text("あ".repeat(n));
        let button = |label: &str, data: &str| {
            QuickReplyItem::new(Action::Postback {
                label: label.into(),
                data: data.into(),
                display_text: None,
            })
        };
        assert_eq!(render(&[]), Err(RenderError::MessageCount(0)));
        assert_eq!(
            render(&vec![text(1); MAX_MESSAGES_PER_REQUEST + 1]),
            Err(RenderError::MessageCount(6))
        );
        assert!(render(&vec![text(1); MAX_MESSAGES_PER_REQUEST]).is_ok());
        assert!(render(&[text(MAX_TEXT_UTF16)]).is_ok());
        assert_eq!(
            render(&[text(1), text(MAX_TEXT_UTF16 + 1)]),
            Err(RenderError::TextLength {
                message: 1,
                units: 5001
            })
        );
        assert_eq!(
            render(&[text(0)]),
            Err(RenderError::TextLength {
                message: 0,
                units: 0
            })
        );
        // A surrogate pair counts twice, as LINE counts.
        assert!(render(&[Message::text("😀".repeat(MAX_TEXT_UTF16 / 2 + 1))]).is_err());
        let many = vec![button("はい", "d"); MAX_QUICK_REPLY_ITEMS + 1];
        assert_eq!(
            render(&[text(1).with_quick_reply(many)]),
            Err(RenderError::QuickReplyCount {
                message: 0,
                count: 14
            })
        );
        assert!(render(&[
            text(1).with_quick_reply(vec![button(&"あ".repeat(MAX_ACTION_LABEL_CHARS), "d")])
        ])
        .is_ok());
        assert_eq!(
            render(&[text(1)
                .with_quick_reply(vec![button(&"あ".repeat(MAX_ACTION_LABEL_CHARS + 1), "d")])]),
            Err(RenderError::LabelLength {
                message: 0,
                chars: 21
            })
        );
        assert_eq!(
            render(&[text(1).with_quick_reply(vec![button(
                "はい",
                &"x".repeat(MAX_POSTBACK_DATA_CHARS + 1)
            )])]),
            Err(RenderError::ActionTextLength {
                message: 0,
                chars: 301
            })
        );
    }
}
