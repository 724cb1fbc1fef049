//! The LINE webhook: `POST /webhook/{municipality}`.
//!
//! Order matters and is the security boundary: size → municipality → signature (constant time,
//! over the raw body) → JSON → events. Nothing is parsed, stored or answered before the
//! signature is verified. Every rejection gets a clear status and changes nothing:
//!
//! | input                                   | answer |
//! |-----------------------------------------|--------|
//! | body over 1 MB                          | 413    |
//! | unknown municipality                    | 404    |
//! | missing / wrong `x-line-signature`      | 401    |
//! | malformed JSON                          | 400    |
//! | `destination` of another bot            | 200, ignored |
//! | replayed event (same `webhookEventId`)  | 200, no second effect |
//! | empty `events` (console "Verify")       | 200    |
//! | a store failure mid-way                 | 500, the event is released so LINE's redelivery retries it |
//! | events left when the time budget is used up | 500: the handled ones are done, LINE's redelivery goes on with the rest |

use crate::clock::Clock;
use crate::content::{ContentCache, ContentError};
use crate::model::FollowChange;
use crate::model::{ChannelCredentials, Municipality};
use crate::ports::{
    ChannelSecrets, Claim, ContentStore, DeliveryLedger, FollowTally, HouseholdStore, Messenger,
    MessengerError, MunicipalityDirectory, StoreError, WebhookEventLog, WebhookForwarder,
};
use chrono::NaiveDate;
use kizuna_core::content::ContentLibrary;
use kizuna_core::conversation::{
    needs_current_content, respond, Context, HouseholdChange, Inbound, Outcome,
};
use kizuna_core::{today_in_japan, Household, LineUserId, MunicipalityId};
use kizuna_line_webhook::{
    parse, signature, Event, EventKind, MessageContent, Mode, WebhookRequest,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{info, instrument, warn};

/// LINE's webhook bodies are small; anything this large is not from LINE.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How many times an event is re-applied when a concurrent event for the same parent changed
/// the household between our read and our write.
const MAX_CONFLICT_RETRIES: usize = 5;

/// How long one request may spend starting events, by default: `WebhookFunction`'s timeout
/// in `infra/template.yaml` is 10 s, and the event in flight when the budget runs out (a few
/// DynamoDB round trips and a reply) must still finish before it. A body of thousands of
/// events is worked through over LINE's redeliveries (events done are skipped in one call
/// each) instead of being cut off by the Lambda timeout with no answer at all.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(6);

/// An HTTP answer, independent of any HTTP framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    /// JSON: `{"message": "..."}`.
    pub body: String,
}

impl WebhookResponse {
    fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }
}

#[derive(Clone)]
pub struct WebhookPorts {
    pub municipalities: Arc<dyn MunicipalityDirectory>,
    pub secrets: Arc<dyn ChannelSecrets>,
    pub households: Arc<dyn HouseholdStore>,
    pub events: Arc<dyn WebhookEventLog>,
    /// Follow and unfollow events per town and month, for `kizuna stats`.
    pub follows: Arc<dyn FollowTally>,
    /// The delivery ledger, for 削除: its items name the parent's user id and delivery days.
    pub deliveries: Arc<dyn DeliveryLedger>,
    pub forwarder: Arc<dyn WebhookForwarder>,
    /// The replies (LINE's Messaging API in production).
    pub messenger: Arc<dyn Messenger>,
    /// The content pack, for 今日のメッセージ and the schedule wording (read only for the
    /// events that need it, see [`needs_current_content`]).
    pub content: Arc<dyn ContentStore>,
}

pub struct WebhookHandler {
    ports: WebhookPorts,
    content: ContentCache,
    clock: Arc<dyn Clock>,
    time_budget: Duration,
}

#[derive(Debug, thiserror::Error)]
enum EventError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the same event is being handled by another invocation")]
    InProgress,
}

/// What handling one event came to.
struct Handled {
    consumed: bool,
}

/// What handling a body's events came to.
#[derive(Default)]
struct EventsOutcome {
    /// Some event must be delivered again (answer 500).
    failed: bool,
    /// Some event was not Kizuna's to consume (pass the body on).
    forward: bool,
}

/// The body, if `signature` is the channel's over it and it is a webhook for this town's bot;
/// else the answer: 401 for a bad signature, 400 for a malformed body, 200 (ignored) for a
/// body addressed to another bot.
fn verified_request(
    municipality: &Municipality,
    credentials: &ChannelCredentials,
    signature: &str,
    body: &[u8],
) -> Result<WebhookRequest, WebhookResponse> {
    if !signature::verify(
        credentials.channel_secret.expose_secret().as_bytes(),
        body,
        signature,
    ) {
        warn!("webhook with an invalid signature rejected");
        return Err(WebhookResponse::new(401, "invalid signature"));
    }
    let request = parse(body).map_err(|_| WebhookResponse::new(400, "malformed webhook body"))?;
    if let Some(bot) = &municipality.bot_user_id {
        if *bot != request.destination {
            warn!("webhook for another bot ignored");
            return Err(WebhookResponse::new(
                200,
                "ignored: destination does not match",
            ));
        }
    }
    Ok(request)
}

impl WebhookHandler {
    pub fn new(ports: WebhookPorts, clock: Arc<dyn Clock>) -> Self {
        let content = ContentCache::new(ports.content.clone());
        Self {
            ports,
            content,
            clock,
            time_budget: DEFAULT_TIME_BUDGET,
        }
    }

    /// Replaces [`DEFAULT_TIME_BUDGET`] (measured in real time, whatever the clock says).
    pub fn with_time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = budget;
        self
    }

    /// Loads the content pack now (at init, so the first 今日のメッセージ only checks its
    /// version and registration replies describe the schedule from the start).
    pub async fn load_content(&self) -> Result<(), ContentError> {
        self.content.current().await.map(|_| ())
    }

    /// The content for answering `inbound`: the current library when the answer depends on
    /// it, else the one loaded last (no store call), if any.
    async fn content_for(&self, inbound: &Inbound) -> Option<Arc<ContentLibrary>> {
        if !needs_current_content(inbound) {
            return self.content.last_loaded();
        }
        match self.content.current().await {
            Ok(library) => Some(library),
            Err(e) => {
                // The parent is told to try later; the rest of the conversation goes on.
                warn!(error = %e, "content pack unavailable for a reply");
                None
            }
        }
    }

    /// Handles one webhook request. `signature` is the `x-line-signature` header value (the
    /// caller matches the header name case-insensitively).
    ///
    /// Every log line of the request carries the municipality from this span (recorded once
    /// the id from the URL is known to be well-formed; the raw path segment is never logged).
    #[instrument(name = "webhook", skip_all, fields(municipality = tracing::field::Empty))]
    pub async fn handle(
        &self,
        municipality: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> WebhookResponse {
        let started = Instant::now();
        if body.len() > MAX_BODY_BYTES {
            return WebhookResponse::new(413, "request body too large");
        }
        let (municipality, credentials) = match self.town(municipality).await {
            Ok(town) => town,
            Err(response) => return response,
        };
        let Some(signature) = signature else {
            return WebhookResponse::new(401, "missing signature");
        };
        let request = match verified_request(&municipality, &credentials, signature, body) {
            Ok(request) => request,
            Err(response) => return response,
        };
        let already_done = self.already_done(&request).await;
        let outcome = self
            .handle_events(
                &municipality,
                &credentials,
                &request,
                &already_done,
                started,
            )
            .await;
        if outcome.forward {
            self.forward(&municipality, body, signature).await;
        }
        if outcome.failed {
            WebhookResponse::new(500, "some events could not be handled; please redeliver")
        } else {
            WebhookResponse::new(200, "ok")
        }
    }

    /// The municipality named by the URL and its channel credentials, or the answer to give:
    /// 404 for an id that is malformed or not registered, 503 for a town without
    /// credentials, 500 when the stores fail (LINE redelivers).
    async fn town(
        &self,
        municipality: &str,
    ) -> Result<(Municipality, ChannelCredentials), WebhookResponse> {
        let Ok(municipality_id) = MunicipalityId::parse(municipality) else {
            return Err(WebhookResponse::new(404, "unknown municipality"));
        };
        tracing::Span::current().record("municipality", municipality_id.as_str());
        let municipality = match self.ports.municipalities.get(&municipality_id).await {
            Ok(Some(m)) => m,
            Ok(None) => return Err(WebhookResponse::new(404, "unknown municipality")),
            Err(e) => {
                warn!(error = %e, "municipality lookup failed");
                return Err(WebhookResponse::new(500, "temporarily unavailable"));
            }
        };
        match self.ports.secrets.get(&municipality.id).await {
            Ok(Some(credentials)) => Ok((municipality, credentials)),
            Ok(None) => {
                warn!("no channel credentials stored");
                Err(WebhookResponse::new(503, "municipality not configured"))
            }
            Err(e) => {
                warn!(error = %e, "secret lookup failed");
                Err(WebhookResponse::new(500, "temporarily unavailable"))
            }
        }
    }

    /// A redelivered body of many events is likely one we ran out of time on: find the
    /// events already done in a few batched reads, rather than one claim each, so that each
    /// redelivery gets further than the last.
    async fn already_done(&self, request: &WebhookRequest) -> HashSet<String> {
        if request.events.len() <= 1 || !request.events.iter().any(|e| e.is_redelivery) {
            return HashSet::new();
        }
        let ids: Vec<&str> = request
            .events
            .iter()
            .map(|e| e.webhook_event_id.as_str())
            .collect();
        match self.ports.events.done_among(&ids, self.clock.now()).await {
            Ok(done) => done,
            Err(e) => {
                warn!(error = %e, "could not look up done events; claiming each");
                HashSet::new()
            }
        }
    }

    /// Handles the events not `already_done`, in order, within the time budget.
    async fn handle_events(
        &self,
        municipality: &Municipality,
        credentials: &ChannelCredentials,
        request: &WebhookRequest,
        already_done: &HashSet<String>,
        started: Instant,
    ) -> EventsOutcome {
        let mut outcome = EventsOutcome::default();
        // Events this delivery has worked on. The budget is only checked once the first
        // not-done event has been handled, so every delivery makes progress however slow the
        // lookups before it were: a body is always finished over redeliveries.
        let mut attempted = 0usize;
        for (done, event) in request.events.iter().enumerate() {
            if already_done.contains(&event.webhook_event_id) {
                continue;
            }
            if attempted > 0 && started.elapsed() >= self.time_budget {
                warn!(
                    handled = done,
                    left = request.events.len() - done,
                    "time budget used up; the remaining events are left for LINE's redelivery"
                );
                outcome.failed = true;
                break;
            }
            attempted += 1;
            match self.handle_event(municipality, credentials, event).await {
                Ok(handled) => outcome.forward |= !handled.consumed,
                Err(e) => {
                    warn!(event_type = event.event_type.as_str(), error = %e, "event not handled; LINE will redeliver it");
                    outcome.failed = true;
                }
            }
        }
        outcome
    }

    /// Passes the body on to the town's other webhook, if it has one (events Kizuna did not
    /// consume). A failure is logged; LINE is still answered for Kizuna's own handling.
    async fn forward(&self, municipality: &Municipality, body: &[u8], signature: &str) {
        let Some(url) = &municipality.forward_webhook_url else {
            return;
        };
        match self.ports.forwarder.forward(url, body, signature).await {
            Ok(status) => info!(status, "forwarded to the town's other webhook"),
            Err(e) => warn!(error = %e, "forwarding failed"),
        }
    }

    #[instrument(name = "webhook_event", skip_all, fields(event_type = %event.event_type))]
    async fn handle_event(
        &self,
        municipality: &Municipality,
        credentials: &ChannelCredentials,
        event: &Event,
    ) -> Result<Handled, EventError> {
        if event.mode == Mode::Standby {
            // Another module channel is active: it answers, we neither reply nor record.
            return Ok(Handled { consumed: true });
        }
        // Group and multi-person chats change nothing and get no reply (see
        // `Event::one_to_one_user_id`); they stay the town's other services' business.
        let Some(user) = event
            .one_to_one_user_id()
            .and_then(|u| LineUserId::parse(u).ok())
        else {
            return Ok(Handled { consumed: false });
        };
        let Some(inbound) = inbound_of(event) else {
            return Ok(Handled { consumed: false });
        };
        let now = self.clock.now();
        let fresh_event = !event.webhook_event_id.is_empty();
        if fresh_event {
            match self
                .ports
                .events
                .claim(&event.webhook_event_id, now)
                .await?
            {
                Claim::Acquired => {}
                Claim::AlreadyDone => {
                    info!("duplicate webhook event ignored");
                    return Ok(Handled { consumed: true });
                }
                Claim::InProgress => return Err(EventError::InProgress),
            }
        }
        // Counted before the household changes: if counting fails the event is released and
        // redelivered whole, and a count already made is not made again (it is keyed by the
        // event id), so the month's figure neither loses nor doubles the event.
        let result = match self.count_follow(municipality, event).await {
            Ok(()) => {
                self.apply(municipality, credentials, &user, &inbound, event)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        if fresh_event {
            match &result {
                Ok(_) => self.ports.events.complete(&event.webhook_event_id).await?,
                Err(_) => {
                    if let Err(e) = self.ports.events.release(&event.webhook_event_id).await {
                        warn!(error = %e, "could not release a failed event; it retries after its lock expires");
                    }
                }
            }
        }
        result
    }

    /// Adds a follow or unfollow event to the town's monthly tally, in the month of the day it
    /// is handled (Japan time), as the household's own dates are. An event without an id
    /// cannot be counted exactly once and is not counted.
    async fn count_follow(
        &self,
        municipality: &Municipality,
        event: &Event,
    ) -> Result<(), StoreError> {
        let change = match event.kind {
            EventKind::Follow {
                is_unblocked: false,
            } => FollowChange::NewFriend,
            EventKind::Follow { is_unblocked: true } => FollowChange::Unblocked,
            EventKind::Unfollow => FollowChange::Unfollowed,
            _ => return Ok(()),
        };
        if event.webhook_event_id.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        self.ports
            .follows
            .count_once(
                &municipality.id,
                today_in_japan(now),
                change,
                &event.webhook_event_id,
                now,
            )
            .await
            .map(|_| ())
    }

    /// Applies one parent's event: the conversation's answer stored, then replied.
    async fn apply(
        &self,
        municipality: &Municipality,
        credentials: &ChannelCredentials,
        user: &LineUserId,
        inbound: &Inbound,
        event: &Event,
    ) -> Result<Handled, EventError> {
        let today = today_in_japan(self.clock.now());
        let content = self.content_for(inbound).await;
        let ctx = Context {
            today,
            municipality_name: &municipality.display_name,
            delivery_hour: municipality.delivery_hour,
            privacy_url: municipality.privacy_url.as_deref(),
            privacy_policy_version: &municipality.privacy_policy_version,
            content: content.as_deref(),
        };
        let outcome = self
            .respond_and_store(&municipality.id, user, inbound, &ctx)
            .await?;
        if let (false, Some(reply_token)) = (outcome.replies.is_empty(), &event.reply_token) {
            self.reply(credentials, reply_token, &outcome.replies).await;
        }
        info!(
            user = %user.fingerprint(),
            consumed = outcome.consumed,
            replies = outcome.replies.len(),
            "event handled"
        );
        Ok(Handled {
            consumed: outcome.consumed,
        })
    }

    /// The conversation's answer to `inbound` over the stored household, with its change
    /// stored. A change that lost a race with a concurrent event for the same parent (the
    /// household's version moved) is decided again over the household as it is now.
    async fn respond_and_store(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
        inbound: &Inbound,
        ctx: &Context<'_>,
    ) -> Result<Outcome, EventError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let existing = self.ports.households.get(municipality, user).await?;
            let outcome = respond(existing.as_ref(), municipality, user, inbound, ctx);
            let stored = self
                .store_change(
                    municipality,
                    user,
                    existing.as_ref(),
                    &outcome.household,
                    ctx.today,
                )
                .await;
            match stored {
                Ok(()) => return Ok(outcome),
                Err(StoreError::Conflict) if attempt < MAX_CONFLICT_RETRIES => {
                    info!(user = %user.fingerprint(), "concurrent change; re-applying the event");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Stores what the conversation decided about the household read as `existing`.
    async fn store_change(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
        existing: Option<&Household>,
        change: &HouseholdChange,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        match change {
            HouseholdChange::Unchanged => Ok(()),
            HouseholdChange::Save(h) => self.ports.households.save(h).await.map(|_| ()),
            // Conditional on the version read, as a save is: 削除する decided on a household
            // that a concurrent event has since changed is re-decided.
            HouseholdChange::Delete => match existing {
                Some(read) => {
                    // The ledger first: if this fails the event is released and LINE's
                    // redelivery repeats both; after the household is gone, nothing would
                    // bring the parent's ledger items back to mind.
                    self.ports
                        .deliveries
                        .forget_user(municipality, user, today)
                        .await?;
                    self.ports.households.delete(read).await
                }
                None => Ok(()),
            },
        }
    }

    async fn reply(
        &self,
        credentials: &ChannelCredentials,
        reply_token: &str,
        messages: &[kizuna_core::Message],
    ) {
        let messenger = &self.ports.messenger;
        match messenger.reply(credentials, reply_token, messages).await {
            Ok(()) => {}
            // The messenger has forgotten the refused token, so the next call gets a fresh one.
            Err(MessengerError::Unauthorized { .. }) => {
                warn!("reply refused: channel token rejected (401)");
            }
            // The state change stands; a lost reply is visible to the parent as silence, and
            // 登録内容 shows the truth. A reply token is single-use, so there is no retry.
            Err(e) => warn!(error = %e, "reply failed"),
        }
    }
}

/// The conversation's view of a webhook event; `None` for events Kizuna does not handle.
fn inbound_of(event: &Event) -> Option<Inbound> {
    match &event.kind {
        EventKind::Follow { is_unblocked } => Some(Inbound::Follow {
            unblocked: *is_unblocked,
        }),
        EventKind::Unfollow => Some(Inbound::Unfollow),
        EventKind::Message(MessageContent::Text { text, .. }) => Some(Inbound::Text(text.clone())),
        EventKind::Message(_) => None,
        EventKind::Postback(p) => Some(Inbound::Postback {
            data: p.data.clone(),
            date: p
                .params
                .date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        }),
        EventKind::Unknown => None,
    }
}

/// The follow tally as the webhook drives it, on the in-memory stores: an event that fails
/// half-way and is redelivered is counted once, and a tally that cannot be written leaves the
/// household untouched for the redelivery.
#[cfg(test)]
mod follow_tally_tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::memory::InMemoryStores;
    use crate::messaging::{MonthlyQuota, PushReceipt};
    use crate::model::{ChannelSecret, FollowCounts};
    use async_trait::async_trait;
    use kizuna_core::Message;

    const SECRET: &str = "tally-secret";
    const USER: &str = "U00000000000000000000000000000031";

    /// Replies go nowhere; nothing else is called by a follow.
    struct SilentMessenger;

    #[async_trait]
    impl Messenger for SilentMessenger {
        async fn check_access(&self, _: &ChannelCredentials) -> Result<(), MessengerError> {
            Ok(())
        }
        async fn push(
            &self,
            _: &ChannelCredentials,
            _: &LineUserId,
            _: &[Message],
            _: uuid::Uuid,
        ) -> Result<PushReceipt, MessengerError> {
            unreachable!("the webhook does not push")
        }
        async fn reply(
            &self,
            _: &ChannelCredentials,
            _: &str,
            _: &[Message],
        ) -> Result<(), MessengerError> {
            Ok(())
        }
        async fn monthly_quota(
            &self,
            _: &ChannelCredentials,
        ) -> Result<MonthlyQuota, MessengerError> {
            unreachable!("the webhook does not ask for the quota")
        }
        async fn quota_consumption(&self, _: &ChannelCredentials) -> Result<u64, MessengerError> {
            unreachable!("the webhook does not ask for the quota")
        }
    }

    struct NoForward;

    #[async_trait]
    impl WebhookForwarder for NoForward {
        async fn forward(&self, _: &str, _: &[u8], _: &str) -> Result<u16, String> {
            Ok(200)
        }
    }

    async fn handler(stores: &InMemoryStores) -> WebhookHandler {
        let town = MunicipalityId::parse("tally-town").unwrap();
        stores
            .municipalities
            .put(&Municipality::new(town.clone(), "集計町", 8))
            .await
            .unwrap();
        stores
            .secrets
            .put(
                &town,
                &ChannelCredentials {
                    channel_id: "1".into(),
                    channel_secret: ChannelSecret::new(SECRET),
                    channel_access_token: None,
                },
            )
            .await
            .unwrap();
        let ports = WebhookPorts {
            municipalities: stores.municipalities.clone(),
            secrets: stores.secrets.clone(),
            households: stores.households.clone(),
            events: stores.events.clone(),
            follows: stores.follows.clone(),
            deliveries: stores.ledger.clone(),
            forwarder: Arc::new(NoForward),
            messenger: Arc::new(SilentMessenger),
            content: stores.content.clone(),
        };
        let now = chrono::DateTime::parse_from_rfc3339("2027-01-10T03:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        WebhookHandler::new(ports, Arc::new(FixedClock::new(now)))
    }

    /// A follow with a fixed event id, as LINE delivers (or redelivers) it.
    async fn deliver_follow(handler: &WebhookHandler, redelivery: bool) -> u16 {
        let body = serde_json::json!({
            "destination": "Ubot",
            "events": [{
                "type": "follow",
                "mode": "active",
                "timestamp": 1_799_000_000_000_i64,
                "source": { "type": "user", "userId": USER },
                "webhookEventId": "01TALLYFOLLOW0000000000000",
                "deliveryContext": { "isRedelivery": redelivery },
                "replyToken": "rt",
                "follow": { "isUnblocked": false },
            }],
        })
        .to_string();
        let signature = signature::sign(SECRET.as_bytes(), body.as_bytes());
        handler
            .handle("tally-town", Some(&signature), body.as_bytes())
            .await
            .status
    }

    async fn new_friends(stores: &InMemoryStores) -> u64 {
        let town = MunicipalityId::parse("tally-town").unwrap();
        let day = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
        stores.follows.counts(&town, &[day]).await.unwrap()[0].new_friends
    }

    #[tokio::test]
    async fn a_follow_that_fails_after_being_counted_is_counted_once_over_its_redelivery() {
        let stores = InMemoryStores::new();
        let handler = handler(&stores).await;
        // Counted, then the household read fails: 500, the event is released.
        stores
            .households
            .faults
            .fail_next(1, StoreError::Unavailable("down".into()));
        assert_eq!(deliver_follow(&handler, false).await, 500);
        assert_eq!(new_friends(&stores).await, 1);
        // LINE redelivers: handled now, and not counted again.
        assert_eq!(deliver_follow(&handler, true).await, 200);
        assert_eq!(new_friends(&stores).await, 1);
        // Once done, a further redelivery is a duplicate event.
        assert_eq!(deliver_follow(&handler, true).await, 200);
        assert_eq!(new_friends(&stores).await, 1);
    }

    #[tokio::test]
    async fn a_tally_that_cannot_be_written_leaves_the_event_to_the_redelivery() {
        let stores = InMemoryStores::new();
        let handler = handler(&stores).await;
        stores
            .follows
            .faults
            .fail_next(1, StoreError::Unavailable("down".into()));
        assert_eq!(deliver_follow(&handler, false).await, 500);
        let town = MunicipalityId::parse("tally-town").unwrap();
        let user = LineUserId::parse(USER).unwrap();
        assert_eq!(
            stores.households.get(&town, &user).await.unwrap(),
            None,
            "nothing is stored before the follow is counted"
        );
        assert_eq!(deliver_follow(&handler, true).await, 200);
        assert!(stores.households.get(&town, &user).await.unwrap().is_some());
        let day = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
        assert_eq!(
            stores.follows.counts(&town, &[day]).await.unwrap()[0],
            FollowCounts {
                new_friends: 1,
                ..Default::default()
            }
        );
    }
}
