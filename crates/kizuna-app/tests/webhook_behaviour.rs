//! The webhook's behaviour on in-memory ports (stores, LINE, the town's other webhook): the
//! cases of the moto tests in `tests/tests/webhook.rs`, in milliseconds each. Requests are
//! signed bodies as LINE sends them; replies are what the in-memory LINE accepted. Each test
//! says what each case gets.

mod support;

use chrono::NaiveDate;
use kizuna_app::memory::InMemoryStores;
use kizuna_app::model::RunStatus;
use kizuna_app::ports::{DeliveryLedger, HouseholdStore, MunicipalityDirectory, StoreError};
use kizuna_app::webhook::{WebhookHandler, WebhookResponse};
use kizuna_core::{Action, LineUserId, Message, Subject};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use support::*;

/// The consent button of the first-contact notice (docs/privacy.md).
const AGREE_LABEL: &str = "同意して登録する";

static EVENTS: AtomicU64 = AtomicU64::new(1);

/// A fresh `webhookEventId` and reply token for one event.
fn next_ids() -> (String, String) {
    let n = EVENTS.fetch_add(1, Ordering::SeqCst);
    (format!("01TESTEVENT{n:015}"), format!("reply-token-{n}"))
}

/// An event from `user` in a one-to-one chat, as LINE sends it.
fn event(event_type: &str, user: &LineUserId, fields: Value) -> (Value, String) {
    let (id, reply_token) = next_ids();
    let mut event = json!({
        "type": event_type,
        "mode": "active",
        "timestamp": 1_799_000_000_000i64,
        "source": { "type": "user", "userId": user.as_str() },
        "webhookEventId": id,
        "deliveryContext": { "isRedelivery": false },
        "replyToken": reply_token,
    });
    if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), fields) {
        event.extend(fields);
    }
    (event, reply_token)
}

fn follow(user: &LineUserId) -> (Value, String) {
    event(
        "follow",
        user,
        json!({ "follow": { "isUnblocked": false } }),
    )
}

fn text(user: &LineUserId, words: &str) -> (Value, String) {
    let message = json!({ "type": "text", "id": "100001", "quoteToken": "q", "text": words });
    event("message", user, json!({ "message": message }))
}

fn postback(user: &LineUserId, data: &str, date: Option<NaiveDate>) -> (Value, String) {
    let mut postback = json!({ "data": data });
    if let Some(date) = date {
        postback["params"] = json!({ "date": date.format("%Y-%m-%d").to_string() });
    }
    event("postback", user, json!({ "postback": postback }))
}

/// The same event as LINE's redelivery of it (same `webhookEventId`).
fn redelivered(mut event: Value) -> Value {
    event["deliveryContext"]["isRedelivery"] = json!(true);
    event
}

/// The body of a webhook request to the town's bot and its `x-line-signature`.
fn signed_with(secret: &str, events: &[Value]) -> (Vec<u8>, String) {
    let body = json!({ "destination": BOT, "events": events })
        .to_string()
        .into_bytes();
    let signature = kizuna_line_webhook::signature::sign(secret.as_bytes(), &body);
    (body, signature)
}

async fn post(handler: &WebhookHandler, events: &[Value]) -> WebhookResponse {
    let (body, signature) = signed_with(CHANNEL_SECRET, events);
    handler.handle(TOWN, Some(&signature), &body).await
}

/// The quick-reply action labelled `label` in `replies`.
fn button(replies: &[Message], label: &str) -> Action {
    replies
        .iter()
        .find_map(|Message::Text { quick_reply, .. }| {
            quick_reply.as_ref()?.items.iter().find_map(|item| {
                let shown = match &item.action {
                    Action::Message { label, .. }
                    | Action::Postback { label, .. }
                    | Action::DatePicker { label, .. } => label,
                };
                (shown == label).then(|| item.action.clone())
            })
        })
        .unwrap_or_else(|| panic!("no button {label:?} in {replies:#?}"))
}

fn joined(replies: &[Message]) -> String {
    replies
        .iter()
        .map(Message::text_body)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One parent chatting with the town's account.
struct Parent<'a> {
    world: &'a World,
    handler: &'a WebhookHandler,
    user: LineUserId,
}

impl Parent<'_> {
    /// Sends one event and returns the reply to it (empty if none).
    async fn send(&self, (event, reply_token): (Value, String)) -> Vec<Message> {
        let answer = post(self.handler, &[event]).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        self.world.line.reply_to(&reply_token)
    }

    async fn follow(&self) -> Vec<Message> {
        self.send(follow(&self.user)).await
    }

    async fn say(&self, words: &str) -> Vec<Message> {
        self.send(text(&self.user, words)).await
    }

    /// Taps the button labelled `label` in `reply` (a date picker gets `date`).
    async fn tap(&self, reply: &[Message], label: &str, date: Option<NaiveDate>) -> Vec<Message> {
        match button(reply, label) {
            Action::Message { text: words, .. } => self.say(&words).await,
            Action::Postback { data, .. } | Action::DatePicker { data, .. } => {
                self.send(postback(&self.user, &data, date)).await
            }
        }
    }

    /// Follows, agrees and picks a due date: a registered parent.
    async fn register(&self, due: NaiveDate) {
        let notice = self.follow().await;
        let welcome = self.tap(&notice, AGREE_LABEL, None).await;
        self.tap(&welcome, "出産予定日を選ぶ", Some(due)).await;
    }
}

async fn setup() -> (World, WebhookHandler) {
    let world = World::new().await;
    // Midday, as the moto tests.
    world.clock.set(japan_time(today(), 12, 0));
    let handler = world.webhook();
    (world, handler)
}

fn parent<'a>(world: &'a World, handler: &'a WebhookHandler, n: u32) -> Parent<'a> {
    Parent {
        world,
        handler,
        user: user(n),
    }
}

/// Everything a request could have changed: households, delivery records, replies, pushes.
async fn observable(world: &World, stores: &InMemoryStores) -> String {
    let mut households = Vec::new();
    for n in 0..10 {
        households.push(stores.households.get(&town_id(), &user(n)).await.unwrap());
    }
    format!(
        "{households:?} {:?} {:?} {:?}",
        stores.ledger.list(&town_id(), today()).await.unwrap(),
        world.line.replies(),
        world.forwarder.forwarded()
    )
}

#[tokio::test]
async fn a_missing_or_wrong_signature_is_answered_401_and_changes_nothing() {
    // Gets: no signature, a signature with another secret, and the right signature over
    // another body: 401 each, nothing stored, nobody answered, the event not marked done
    // (the genuine request afterwards is handled).
    let (world, handler) = setup().await;
    let (follow_event, reply_token) = follow(&user(1));
    let events = [follow_event];
    let (body, signature) = signed_with(CHANNEL_SECRET, &events);
    let before = observable(&world, &world.stores).await;

    assert_eq!(handler.handle(TOWN, None, &body).await.status, 401);
    let (_, forged) = signed_with("not-the-secret", &events);
    assert_eq!(handler.handle(TOWN, Some(&forged), &body).await.status, 401);
    let (other_body, _) = signed_with(CHANNEL_SECRET, &[follow(&user(2)).0]);
    let answer = handler.handle(TOWN, Some(&signature), &other_body).await;
    assert_eq!(answer.status, 401);
    assert_eq!(observable(&world, &world.stores).await, before);

    assert_eq!(
        handler.handle(TOWN, Some(&signature), &body).await.status,
        200
    );
    assert!(world.household(1).await.is_some());
    assert!(!world.line.reply_to(&reply_token).is_empty());
}

#[tokio::test]
async fn unknown_towns_malformed_bodies_and_other_bots_change_nothing() {
    // Gets: an unknown or malformed town id 404, a signed body that is not JSON 400, a body
    // for another bot 200 ignored, an empty event list (the console's Verify) 200: nothing
    // stored or answered by any of them.
    let (world, handler) = setup().await;
    let (body, signature) = signed_with(CHANNEL_SECRET, &[follow(&user(1)).0]);
    let before = observable(&world, &world.stores).await;
    for town in ["no-such-town", "NO_SUCH"] {
        assert_eq!(
            handler.handle(town, Some(&signature), &body).await.status,
            404
        );
    }
    let garbage = b"{\"destination\": \"x\", \"events\": [".to_vec();
    let garbage_signature =
        kizuna_line_webhook::signature::sign(CHANNEL_SECRET.as_bytes(), &garbage);
    let answer = handler
        .handle(TOWN, Some(&garbage_signature), &garbage)
        .await;
    assert_eq!(answer.status, 400);
    let other_bot = json!({ "destination": "Uother", "events": [follow(&user(1)).0] })
        .to_string()
        .into_bytes();
    let other_signature =
        kizuna_line_webhook::signature::sign(CHANNEL_SECRET.as_bytes(), &other_bot);
    let answer = handler
        .handle(TOWN, Some(&other_signature), &other_bot)
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(post(&handler, &[]).await.status, 200);
    assert_eq!(observable(&world, &world.stores).await, before);
}

#[tokio::test]
async fn follow_stores_only_the_follow_and_replies_with_the_towns_privacy_notice() {
    // Gets: the notice names the town and offers to agree or not; the household holds the
    // follow and nothing else (no registration, no consent).
    let (world, handler) = setup().await;
    let notice = parent(&world, &handler, 1).follow().await;
    assert!(joined(&notice).contains("きずな町"), "{}", joined(&notice));
    button(&notice, AGREE_LABEL);
    button(&notice, "登録しない");
    let household = world.household(1).await.unwrap();
    assert!(household.following);
    assert!(household.registrations.is_empty());
    assert!(household.consent.is_none());
}

#[tokio::test]
async fn agreeing_and_choosing_a_due_date_stores_the_consent_and_the_registration() {
    // Gets: agreeing records consent (the town's notice version, today) and asks for a date;
    // the due date picked is stored as a pregnancy, and the reply says at what time the
    // messages come.
    let (world, handler) = setup().await;
    let parent = parent(&world, &handler, 1);
    let notice = parent.follow().await;
    let welcome = parent.tap(&notice, AGREE_LABEL, None).await;
    let consent = world.household(1).await.unwrap().consent.expect("consent");
    assert_eq!(
        (consent.policy_version.as_str(), consent.agreed_on),
        ("1", today())
    );

    let confirmed = parent
        .tap(&welcome, "出産予定日を選ぶ", Some(d(2027, 6, 1)))
        .await;
    assert!(joined(&confirmed).contains("7時"), "{}", joined(&confirmed));
    let household = world.household(1).await.unwrap();
    assert_eq!(household.registrations.len(), 1);
    assert_eq!(
        household.registrations[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 6, 1)
        }
    );
    assert!(household.receives_messages());
}

#[tokio::test]
async fn a_replayed_event_has_one_effect_in_sequence_and_concurrently() {
    // Gets: LINE's redelivery of an event already handled: 200, handled once (one change,
    // one reply asked for). The same event delivered twice at once: handled once; the other
    // answer is a duplicate (200) or, while the first is in progress, 500 so LINE redelivers
    // it later.
    let (world, handler) = setup().await;
    let parent = parent(&world, &handler, 1);
    parent.register(d(2027, 6, 1)).await;
    let version = world.household(1).await.unwrap().version;
    let replies = world.line.reply_calls();

    let (pause, _) = text(&parent.user, "停止");
    assert_eq!(
        post(&handler, std::slice::from_ref(&pause)).await.status,
        200
    );
    assert_eq!(post(&handler, &[redelivered(pause)]).await.status, 200);
    let household = world.household(1).await.unwrap();
    assert!(household.paused);
    assert_eq!(household.version, version + 1, "one change");
    assert_eq!(world.line.reply_calls(), replies + 1, "one reply");

    let (resume, _) = text(&parent.user, "再開");
    let twice = [resume];
    let (a, b) = tokio::join!(post(&handler, &twice), post(&handler, &twice));
    assert!(a.status == 200 || b.status == 200, "{a:?} {b:?}");
    assert!([a.status, b.status].iter().all(|s| [200, 500].contains(s)));
    let household = world.household(1).await.unwrap();
    assert!(!household.paused);
    assert_eq!(household.version, version + 2, "one change");
    assert_eq!(world.line.reply_calls(), replies + 2, "one reply");
}

#[tokio::test]
async fn a_store_failure_mid_event_answers_500_and_the_redelivery_applies_it_once() {
    // Gets: the household store failing while an event is handled: 500 and nothing changed;
    // the event is released, so LINE's redelivery is handled (once) and answered.
    let (world, handler) = setup().await;
    let parent = parent(&world, &handler, 1);
    parent.register(d(2027, 6, 1)).await;
    let version = world.household(1).await.unwrap().version;
    let (pause, reply_token) = text(&parent.user, "停止");
    world
        .stores
        .households
        .faults
        .fail_next(1, StoreError::Unavailable("timeout".into()));

    assert_eq!(
        post(&handler, std::slice::from_ref(&pause)).await.status,
        500
    );
    assert!(!world.household(1).await.unwrap().paused);
    assert!(world.line.reply_to(&reply_token).is_empty());

    assert_eq!(post(&handler, &[redelivered(pause)]).await.status, 200);
    let household = world.household(1).await.unwrap();
    assert!(household.paused);
    assert_eq!(household.version, version + 1);
    assert!(!world.line.reply_to(&reply_token).is_empty());
}

#[tokio::test]
async fn deleting_removes_the_household_and_its_delivery_records() {
    // Gets: 削除 asks first (nothing removed yet); 削除する removes the household and the
    // ledger's record of the message the parent received today, and says it is done.
    let (world, handler) = setup().await;
    let parent = parent(&world, &handler, 1);
    parent.register(d(2027, 6, 1)).await;
    // Today's message was sent, so the ledger holds a record naming the parent.
    world.clock.set(japan_time(today(), 13, 0));
    let job = kizuna_app::model::SendJob {
        municipality: town_id(),
        date: today(),
        shard: kizuna_app::model::Shard::ALL,
        attempt: 0,
    };
    let report = world
        .sender(quick_settings())
        .run(&job, None)
        .await
        .unwrap();
    assert_eq!(
        (report.status, report.counts.sent),
        (RunStatus::Completed, 1)
    );
    let ledger = &world.stores.ledger;
    assert!(ledger
        .get(&town_id(), today(), &parent.user)
        .await
        .unwrap()
        .is_some());

    let asked = parent.say("削除").await;
    assert!(world.household(1).await.is_some(), "asked, not yet deleted");
    let done = parent.tap(&asked, "削除する", None).await;
    assert!(joined(&done).contains("削除しました"), "{}", joined(&done));
    assert!(world.household(1).await.is_none());
    assert!(ledger.list(&town_id(), today()).await.unwrap().is_empty());
}

#[tokio::test]
async fn texts_that_are_not_ours_get_no_reply_and_are_forwarded_unchanged() {
    // Gets: in a town with another webhook service, a text Kizuna does not understand is
    // not answered and is passed on with the exact body and signature LINE sent; Kizuna's
    // own commands are consumed, not forwarded.
    let (mut world, handler) = setup().await;
    world.town.forward_webhook_url = Some("https://chatbot.example.jp/hook".into());
    world.stores.municipalities.put(&world.town).await.unwrap();
    let (event, reply_token) = text(&user(1), "ゴミの収集日を教えて");
    let (body, signature) = signed_with(CHANNEL_SECRET, &[event]);

    assert_eq!(
        handler.handle(TOWN, Some(&signature), &body).await.status,
        200
    );
    assert!(world.line.reply_to(&reply_token).is_empty(), "no reply");
    let forwarded = world.forwarder.forwarded();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].url, "https://chatbot.example.jp/hook");
    assert_eq!(
        (&forwarded[0].body, &forwarded[0].signature),
        (&body, &signature)
    );

    parent(&world, &handler, 1).say("ヘルプ").await;
    assert_eq!(world.forwarder.forwarded().len(), 1);
}
