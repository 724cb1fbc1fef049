//! A whole local stack per test: a fresh moto namespace, a fake LINE, the webhook over HTTP,
//! the scheduler and the sender (see `kizuna-local`), plus helpers that act like a parent.

use crate::test_aws;
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
