//! A whole local stack per test: a fresh moto namespace, a fake LINE, the webhook over HTTP,
//! the scheduler and the sender (see `kizuna-local`), plus helpers that act like a parent.

use crate::test_aws;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use kizuna_core::MunicipalityId;
use kizuna_local::{LocalStack, StackOptions, Town};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The repository's `content/` (the sample pack).
pub fn content_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content")
}

/// The sample town of the content pack: きずな町, delivering at 7:00.
pub fn kizuna_town() -> Town {
    Town::new("kizuna-town", "きずな町", 7, 1)
}

pub fn town_id(id: &str) -> MunicipalityId {
    MunicipalityId::parse(id).expect("valid municipality id")
}

/// A LINE-shaped user id made from `n`.
pub fn user(n: u32) -> String {
    format!("U{:032x}", 0xabc0_0000_u128 + u128::from(n))
}

pub async fn stack_with(towns: Vec<Town>, options: StackOptions) -> LocalStack {
    let aws = test_aws().await;
    LocalStack::start(aws.config, aws.clients, towns, &content_dir(), options)
        .await
        .expect("local stack starts")
}

/// One town (きずな町), the clock at `date` 12:00 Japan time.
pub async fn stack_on(date: NaiveDate) -> LocalStack {
    let stack = stack_with(vec![kizuna_town()], StackOptions::default()).await;
    stack.set_japan_time(date, 12, 0);
    stack
}

/// Acts as one parent in one town's LINE chat.
pub struct Parent<'a> {
    pub stack: &'a LocalStack,
    pub town: MunicipalityId,
    pub user: String,
}

impl<'a> Parent<'a> {
    pub fn new(stack: &'a LocalStack, town: &str, user: String) -> Self {
        Self {
            stack,
            town: town_id(town),
            user,
        }
    }

    async fn send(&self, event: Value) -> Vec<Value> {
        let before = self.stack.replies_to(&self.user).len();
        let (status, body) = self.stack.post_events(&self.town, vec![event]).await;
        assert_eq!(status, 200, "webhook answered {status}: {body}");
        let replies = self.stack.replies_to(&self.user);
        replies.get(before).cloned().unwrap_or_default()
    }

    pub async fn follow(&self) -> Vec<Value> {
        let token = self.stack.reply_token(&self.user);
        self.send(fake_line::webhook::follow_event(&self.user, &token, false))
            .await
    }

    pub async fn unfollow(&self) {
        self.send(fake_line::webhook::unfollow_event(&self.user))
            .await;
    }

    pub async fn say(&self, text: &str) -> Vec<Value> {
        let token = self.stack.reply_token(&self.user);
        self.send(fake_line::webhook::text_message_event(
            &self.user, &token, text,
        ))
        .await
    }

    /// Taps the quick-reply button labelled `label` in `reply` (a date picker gets `date`).
    pub async fn tap(&self, reply: &[Value], label: &str, date: Option<NaiveDate>) -> Vec<Value> {
        let action = find_button(reply, label)
            .unwrap_or_else(|| panic!("no button {label:?} in {reply:#?}"));
        let token = self.stack.reply_token(&self.user);
        match action["type"].as_str() {
            Some("message") => {
                let text = action["text"].as_str().unwrap_or_default();
                self.send(fake_line::webhook::text_message_event(
                    &self.user, &token, text,
                ))
                .await
            }
            Some("postback") | Some("datetimepicker") => {
                let params = date.map(|d| json!({ "date": d.format("%Y-%m-%d").to_string() }));
                let data = action["data"].as_str().unwrap_or_default();
                self.send(fake_line::webhook::postback_event(
                    &self.user, &token, data, params,
                ))
                .await
            }
            other => panic!("unexpected action type {other:?}"),
        }
    }
}

/// The consent button of the first-contact notice (docs/privacy.md).
pub const AGREE_LABEL: &str = "同意して登録する";

impl Parent<'_> {
    /// Follows and agrees to the town's privacy notice. Returns the reply to the agreement:
    /// the welcome that asks for a due date or birth date, with date pickers.
    pub async fn follow_and_agree(&self) -> Vec<Value> {
        let notice = self.follow().await;
        self.tap(&notice, AGREE_LABEL, None).await
    }

    /// Follows, agrees to the town's privacy notice, and registers `date` typed as text
    /// (a due date or a birth date). Returns the reply to the date.
    pub async fn register(&self, date: &str) -> Vec<Value> {
        self.follow_and_agree().await;
        self.say(date).await
    }
}

/// The action of the quick-reply button labelled `label`, if any.
pub fn find_button(reply: &[Value], label: &str) -> Option<Value> {
    reply.iter().find_map(|m| {
        m["quickReply"]["items"]
            .as_array()?
            .iter()
            .find_map(|item| (item["action"]["label"] == label).then(|| item["action"].clone()))
    })
}

/// All texts of a reply or push, joined.
pub fn joined(messages: &[Value]) -> String {
    kizuna_local::texts(messages).join("\n")
}

/// An HTTP/1.1 POST written byte by byte, so that the path and the header name reach the
/// server exactly as given (an HTTP client would normalise the header name's case). Returns
/// the status code, or 0 when the server answered something that is not HTTP.
pub async fn post_with_header(
    base: &str,
    path: &str,
    header: &str,
    value: &str,
    body: &[u8],
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("local webhook server accepts connections");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{header}: {value}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("request head written");
    // The server may answer (413) and close before reading a large body.
    let _ = stream.write_all(body).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// An attribute value rendered with map keys in order (a `HashMap`'s `Debug` is not).
fn canonical(value: &AttributeValue) -> String {
    match value {
        AttributeValue::M(map) => {
            let mut entries: Vec<_> = map
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", canonical(v)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(","))
        }
        AttributeValue::L(list) => {
            let entries: Vec<_> = list.iter().map(canonical).collect();
            format!("[{}]", entries.join(","))
        }
        other => format!("{other:?}"),
    }
}

/// Every item of a DynamoDB table, each rendered in full and sorted: two snapshots are equal
/// exactly when the table holds the same items with the same attribute values.
pub async fn table_snapshot(stack: &LocalStack, table: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = stack
            .clients
            .dynamodb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap_or_else(|e| panic!("scanning {table}: {e:?}"));
        for item in page.items.unwrap_or_default() {
            items.push(canonical(&AttributeValue::M(item)));
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    items.sort();
    items
}
