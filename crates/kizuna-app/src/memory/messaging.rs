//! An in-memory [`Messenger`] and [`WebhookForwarder`]: LINE as the use cases see it through
//! the ports, for behaviour tests of the sender and the webhook that run in milliseconds.
//!
//! [`InMemoryMessenger`] reproduces what `kizuna_line::LineMessenger` over LINE (or the
//! `fake-line` server) lets a use case observe:
//! - **retry keys**: a push whose retry key was accepted before (on the same channel) is not
//!   delivered again and answers [`PushReceipt::AlreadyAccepted`] with the first request id,
//!   as LINE's 409 with `x-line-accepted-request-id` does (no 24-hour expiry here);
//! - **the monthly quota**: one counted message per delivered push however many message
//!   objects it holds; a push beyond a [`MonthlyQuota::Limited`] quota is refused with
//!   [`MessengerError::MonthlyLimitReached`] and not delivered;
//! - **reply tokens** are single-use: a second reply with one token is refused (`Rejected`);
//! - **tokens**: [`LineFault::TokenExpired`] is the 401 that the adapter absorbs by issuing a
//!   fresh token and pushing once more (so the push is delivered and the port sees no error),
//!   while a revoked channel ([`InMemoryMessenger::revoke`]) or
//!   [`LineFault::CredentialsRevoked`] surfaces as [`MessengerError::Unauthorized`]. A reply
//!   is not retried with a fresh token by the adapter, so an expired token fails a reply.
//!
//! **Scripted faults**, per call ([`InMemoryMessenger::fail_next_pushes`],
//! [`InMemoryMessenger::fail_next_replies`], [`InMemoryMessenger::fail_next_quota_reads`]) or
//! per recipient ([`InMemoryMessenger::fail_pushes_to`]; a recipient's own faults come
//! first). Every push call is recorded with its answer ([`InMemoryMessenger::push_calls`]),
//! every delivery once ([`InMemoryMessenger::deliveries`]).
//!
//! Not reproduced: the per-second rate limit (only as a scripted 429), message validation
//! (the fake-line server's contract checks), token caching, and LINE's silent acceptance of a
//! push to a parent who blocked the account (such a push counts as delivered here too; the
//! webhook's unfollow is what stops the sends).

use super::locked;
use crate::messaging::{Messenger, MessengerError, MonthlyQuota, PushReceipt, WebhookForwarder};
use crate::model::ChannelCredentials;
use async_trait::async_trait;
use kizuna_core::{LineUserId, Message};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

/// One scripted answer of LINE to a call, instead of its normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
    /// 429, the per-second rate limit, with LINE's `Retry-After` if given. Not delivered;
    /// retryable.
    RateLimited { retry_after: Option<Duration> },
    /// A 5xx answer. Not delivered; retryable.
    ServerError(u16),
    /// The recipient refused with a 4xx (a user who cannot be sent to, e.g. one who is not a
    /// friend of the account): not delivered, and no retry changes that today.
    RecipientRefused { status: u16 },
    /// 401 for an expired access token. The adapter issues a fresh token and pushes once
    /// more, so a push is delivered without an error ([`InMemoryMessenger::token_renewals`]
    /// counts it); a reply, which the adapter does not retry, fails `Unauthorized`.
    TokenExpired,
    /// 401 even with a fresh token (the channel's credentials were revoked): `Unauthorized`.
    CredentialsRevoked,
    /// LINE's monthly message limit (429): `MonthlyLimitReached`, not delivered.
    MonthlyLimit,
    /// LINE accepted and delivered the push, but its answer was lost on the way back
    /// (timeout, connection reset): `Unavailable`. Only a retry with the same retry key keeps
    /// the parent from receiving it twice.
    AnswerLost,
    /// The call never returns, as for a process killed while it waited on LINE: for killing
    /// a use case mid-page (drop its future once [`InMemoryMessenger::hanging`] counts it).
    Hang,
}

impl LineFault {
    /// A refusal for a recipient who blocked the account or never added it (400).
    pub fn not_a_friend() -> Self {
        LineFault::RecipientRefused { status: 400 }
    }

    /// The error the port surfaces for this fault (the adapter's own description, as
    /// `kizuna_line::LineError` prints it).
    fn error(&self) -> MessengerError {
        match self {
            LineFault::RateLimited { retry_after } => MessengerError::RateLimited {
                retry_after: *retry_after,
                detail: "LINE rate limit exceeded (429, monthly limit: false)".into(),
            },
            LineFault::ServerError(status) => MessengerError::Unavailable {
                detail: format!("LINE server error ({status})"),
            },
            LineFault::RecipientRefused { status } => MessengerError::Rejected {
                detail: format!("LINE answered {status}: the recipient cannot be sent to"),
            },
            LineFault::TokenExpired | LineFault::CredentialsRevoked => unauthorized(),
            LineFault::MonthlyLimit => monthly_limit(),
            LineFault::AnswerLost | LineFault::Hang => MessengerError::Unavailable {
                detail: "transport error talking to LINE: connection reset".into(),
            },
        }
    }
}

fn unauthorized() -> MessengerError {
    MessengerError::Unauthorized {
        detail: "LINE rejected the credentials (401)".into(),
    }
}

fn monthly_limit() -> MessengerError {
    MessengerError::MonthlyLimitReached {
        detail: "LINE rate limit exceeded (429, monthly limit: true)".into(),
    }
}

/// A push LINE delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPush {
    pub channel_id: String,
    pub to: LineUserId,
    pub retry_key: Uuid,
    pub messages: Vec<Message>,
    pub request_id: String,
}

/// One call of [`Messenger::push`], delivered or not, with the answer the port gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCall {
    pub to: LineUserId,
    pub retry_key: Uuid,
    pub answer: Result<PushReceipt, MessengerError>,
}

/// A reply LINE accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedReply {
    pub channel_id: String,
    pub reply_token: String,
    pub messages: Vec<Message>,
}

/// Scripted faults: per call, and per recipient for pushes.
#[derive(Debug, Default)]
struct Script {
    /// `None`: a push answered normally, before the faults that follow it.
    pushes: VecDeque<Option<LineFault>>,
    pushes_to: HashMap<LineUserId, VecDeque<LineFault>>,
    replies: VecDeque<LineFault>,
    quota_reads: VecDeque<LineFault>,
}

impl Script {
    fn next_push_fault(&mut self, to: &LineUserId) -> Option<LineFault> {
        let own = self.pushes_to.get_mut(to).and_then(VecDeque::pop_front);
        own.or_else(|| self.pushes.pop_front().flatten())
    }
}

#[derive(Debug, Default)]
struct LineState {
    deliveries: Vec<RecordedPush>,
    push_calls: Vec<PushCall>,
    /// (channel id, retry key) → request id of the accepted push.
    accepted_keys: HashMap<(String, Uuid), String>,
    replies: Vec<RecordedReply>,
    /// Every call of `reply`, refused ones included.
    reply_calls: u64,
    used_reply_tokens: HashSet<String>,
    quotas: HashMap<String, MonthlyQuota>,
    /// Counted messages per channel this month.
    consumption: HashMap<String, u64>,
    revoked: HashSet<String>,
    token_renewals: u64,
    hanging: u64,
    requests: u64,
}

impl LineState {
    fn new_request_id(&mut self) -> String {
        self.requests += 1;
        format!("fake-request-{:08}", self.requests)
    }

    fn over_quota(&self, channel_id: &str) -> bool {
        let used = self.consumption.get(channel_id).copied().unwrap_or(0);
        matches!(self.quotas.get(channel_id), Some(MonthlyQuota::Limited(limit)) if used >= *limit)
    }

    /// Delivers the push unless its retry key was accepted before or the month's quota is
    /// used up: what LINE does with an authenticated, valid push.
    fn accept(
        &mut self,
        channel: &ChannelCredentials,
        to: &LineUserId,
        messages: &[Message],
        retry_key: Uuid,
    ) -> Result<PushReceipt, MessengerError> {
        let channel_id = &channel.channel_id;
        if let Some(first) = self.accepted_keys.get(&(channel_id.clone(), retry_key)) {
            return Ok(PushReceipt::AlreadyAccepted {
                accepted_request_id: first.clone(),
            });
        }
        if self.over_quota(channel_id) {
            return Err(monthly_limit());
        }
        let request_id = self.new_request_id();
        *self.consumption.entry(channel_id.clone()).or_default() += 1;
        self.accepted_keys
            .insert((channel_id.clone(), retry_key), request_id.clone());
        self.deliveries.push(RecordedPush {
            channel_id: channel_id.clone(),
            to: to.clone(),
            retry_key,
            messages: messages.to_vec(),
            request_id: request_id.clone(),
        });
        Ok(PushReceipt::Accepted {
            request_id: Some(request_id),
        })
    }

    /// The answer to a push with `fault` scripted (or none), and whether the call hangs.
    fn push(
        &mut self,
        fault: Option<LineFault>,
        channel: &ChannelCredentials,
        to: &LineUserId,
        messages: &[Message],
        retry_key: Uuid,
    ) -> (Result<PushReceipt, MessengerError>, bool) {
        if self.revoked.contains(&channel.channel_id) {
            return (Err(unauthorized()), false);
        }
        match fault {
            None => (self.accept(channel, to, messages, retry_key), false),
            Some(LineFault::TokenExpired) => {
                self.token_renewals += 1;
                (self.accept(channel, to, messages, retry_key), false)
            }
            Some(LineFault::AnswerLost) => {
                // Delivered (or a duplicate LINE recognised), and then the answer is lost.
                let _ = self.accept(channel, to, messages, retry_key);
                (Err(LineFault::AnswerLost.error()), false)
            }
            Some(LineFault::Hang) => {
                self.hanging += 1;
                (Err(LineFault::Hang.error()), true)
            }
            Some(fault) => (Err(fault.error()), false),
        }
    }
}

/// LINE's Messaging API in memory, for any number of channels (keyed by channel id).
#[derive(Debug, Default)]
pub struct InMemoryMessenger {
    state: Mutex<LineState>,
    script: Mutex<Script>,
}

impl InMemoryMessenger {
    /// Answers the next `calls` pushes (to anyone) with `fault`, after the ones already
    /// scripted.
    pub fn fail_next_pushes(&self, calls: usize, fault: LineFault) {
        self.fail_pushes_after(0, calls, fault);
    }

    /// Lets `ok_calls` pushes (to anyone) through, then answers `calls` pushes with `fault`:
    /// for failing a use case at a later push, e.g. killing a sender after k deliveries.
    pub fn fail_pushes_after(&self, ok_calls: usize, calls: usize, fault: LineFault) {
        let mut script = locked(&self.script);
        script.pushes.extend(std::iter::repeat_n(None, ok_calls));
        script
            .pushes
            .extend(std::iter::repeat_n(Some(fault), calls));
    }

    /// Answers the next `calls` pushes to `to` with `fault` (`usize::MAX`: every one, as for
    /// a recipient who can never be sent to). These come before the per-call faults.
    pub fn fail_pushes_to(&self, to: &LineUserId, calls: usize, fault: LineFault) {
        let mut script = locked(&self.script);
        let queue = script.pushes_to.entry(to.clone()).or_default();
        if calls == usize::MAX {
            // Enough for any test, without holding usize::MAX entries.
            queue.extend(std::iter::repeat_n(fault, 10_000));
        } else {
            queue.extend(std::iter::repeat_n(fault, calls));
        }
    }

    /// Answers the next `calls` replies with `fault`.
    pub fn fail_next_replies(&self, calls: usize, fault: LineFault) {
        locked(&self.script)
            .replies
            .extend(std::iter::repeat_n(fault, calls));
    }

    /// Answers the next `calls` quota reads ([`Messenger::monthly_quota`] and
    /// [`Messenger::quota_consumption`] alike) with `fault`.
    pub fn fail_next_quota_reads(&self, calls: usize, fault: LineFault) {
        locked(&self.script)
            .quota_reads
            .extend(std::iter::repeat_n(fault, calls));
    }

    /// Drops every scripted fault not yet used.
    pub fn clear_faults(&self) {
        *locked(&self.script) = Script::default();
    }

    /// Sets a channel's monthly quota (default: unlimited).
    pub fn set_monthly_quota(&self, channel_id: &str, quota: MonthlyQuota) {
        locked(&self.state)
            .quotas
            .insert(channel_id.to_owned(), quota);
    }

    /// Refuses the channel's credentials from now on, fresh tokens included.
    pub fn revoke(&self, channel_id: &str) {
        locked(&self.state).revoked.insert(channel_id.to_owned());
    }

    /// Accepts the channel's credentials again.
    pub fn restore(&self, channel_id: &str) {
        locked(&self.state).revoked.remove(channel_id);
    }

    /// Every delivered push, in order.
    pub fn deliveries(&self) -> Vec<RecordedPush> {
        locked(&self.state).deliveries.clone()
    }

    /// The delivered pushes to `to`.
    pub fn deliveries_to(&self, to: &LineUserId) -> Vec<RecordedPush> {
        let state = locked(&self.state);
        state
            .deliveries
            .iter()
            .filter(|p| &p.to == to)
            .cloned()
            .collect()
    }

    /// How many pushes each recipient received.
    pub fn deliveries_by_recipient(&self) -> BTreeMap<LineUserId, usize> {
        let mut counts = BTreeMap::new();
        for push in &locked(&self.state).deliveries {
            *counts.entry(push.to.clone()).or_default() += 1;
        }
        counts
    }

    /// Every push call, delivered or not, in order.
    pub fn push_calls(&self) -> Vec<PushCall> {
        locked(&self.state).push_calls.clone()
    }

    /// The push calls for `to`, in order.
    pub fn push_calls_to(&self, to: &LineUserId) -> Vec<PushCall> {
        let state = locked(&self.state);
        state
            .push_calls
            .iter()
            .filter(|c| &c.to == to)
            .cloned()
            .collect()
    }

    /// Every accepted reply, in order.
    pub fn replies(&self) -> Vec<RecordedReply> {
        locked(&self.state).replies.clone()
    }

    /// How many replies were asked for, refused ones included (a reply token used twice is
    /// refused, so [`InMemoryMessenger::replies`] alone cannot show a use case replying twice).
    pub fn reply_calls(&self) -> u64 {
        locked(&self.state).reply_calls
    }

    /// The messages replied with `reply_token` (empty if none was accepted).
    pub fn reply_to(&self, reply_token: &str) -> Vec<Message> {
        let state = locked(&self.state);
        state
            .replies
            .iter()
            .find(|r| r.reply_token == reply_token)
            .map(|r| r.messages.clone())
            .unwrap_or_default()
    }

    /// Messages counted against the channel's quota this month.
    pub fn counted_messages(&self, channel_id: &str) -> u64 {
        let state = locked(&self.state);
        state.consumption.get(channel_id).copied().unwrap_or(0)
    }

    /// How many expired tokens the adapter would have replaced by fresh ones.
    pub fn token_renewals(&self) -> u64 {
        locked(&self.state).token_renewals
    }

    /// How many calls are hanging ([`LineFault::Hang`]).
    pub fn hanging(&self) -> u64 {
        locked(&self.state).hanging
    }

    fn quota_read_fault(&self, channel: &ChannelCredentials) -> Result<(), MessengerError> {
        if locked(&self.state).revoked.contains(&channel.channel_id) {
            return Err(unauthorized());
        }
        match locked(&self.script).quota_reads.pop_front() {
            None | Some(LineFault::TokenExpired) => Ok(()),
            Some(fault) => Err(fault.error()),
        }
    }
}

#[async_trait]
impl Messenger for InMemoryMessenger {
    /// As the adapter: a long-lived token is taken as stored (refused only when used), while
    /// a revoked channel of stateless tokens cannot have one issued.
    async fn check_access(&self, channel: &ChannelCredentials) -> Result<(), MessengerError> {
        let revoked = locked(&self.state).revoked.contains(&channel.channel_id);
        if revoked && channel.uses_stateless_tokens() {
            return Err(unauthorized());
        }
        Ok(())
    }

    async fn push(
        &self,
        channel: &ChannelCredentials,
        to: &LineUserId,
        messages: &[Message],
        retry_key: Uuid,
    ) -> Result<PushReceipt, MessengerError> {
        let fault = locked(&self.script).next_push_fault(to);
        let (answer, hangs) = {
            let mut state = locked(&self.state);
            let (answer, hangs) = state.push(fault, channel, to, messages, retry_key);
            state.push_calls.push(PushCall {
                to: to.clone(),
                retry_key,
                answer: answer.clone(),
            });
            (answer, hangs)
        };
        if hangs {
            std::future::pending::<()>().await;
        }
        answer
    }

    async fn reply(
        &self,
        channel: &ChannelCredentials,
        reply_token: &str,
        messages: &[Message],
    ) -> Result<(), MessengerError> {
        let fault = locked(&self.script).replies.pop_front();
        let mut state = locked(&self.state);
        state.reply_calls += 1;
        if state.revoked.contains(&channel.channel_id) {
            return Err(unauthorized());
        }
        if let Some(fault) = fault {
            return Err(fault.error());
        }
        if !state.used_reply_tokens.insert(reply_token.to_owned()) {
            return Err(MessengerError::Rejected {
                detail: "LINE rejected the request (400): Invalid reply token".into(),
            });
        }
        state.replies.push(RecordedReply {
            channel_id: channel.channel_id.clone(),
            reply_token: reply_token.to_owned(),
            messages: messages.to_vec(),
        });
        Ok(())
    }

    async fn monthly_quota(
        &self,
        channel: &ChannelCredentials,
    ) -> Result<MonthlyQuota, MessengerError> {
        self.quota_read_fault(channel)?;
        let state = locked(&self.state);
        Ok(state
            .quotas
            .get(&channel.channel_id)
            .copied()
            .unwrap_or(MonthlyQuota::Unlimited))
    }

    async fn quota_consumption(&self, channel: &ChannelCredentials) -> Result<u64, MessengerError> {
        self.quota_read_fault(channel)?;
        Ok(self.counted_messages(&channel.channel_id))
    }
}

/// A request passed on to a town's other webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    pub url: String,
    pub body: Vec<u8>,
    pub signature: String,
}

/// The town's other webhook service in memory: records what it was sent and answers 200, or
/// what [`InMemoryWebhookForwarder::answer_with`] says.
#[derive(Debug)]
pub struct InMemoryWebhookForwarder {
    forwarded: Mutex<Vec<ForwardedRequest>>,
    answer: Mutex<Result<u16, String>>,
}

impl Default for InMemoryWebhookForwarder {
    fn default() -> Self {
        Self {
            forwarded: Mutex::default(),
            answer: Mutex::new(Ok(200)),
        }
    }
}

impl InMemoryWebhookForwarder {
    /// The downstream's status from now on, or why it cannot be reached (`Err`).
    pub fn answer_with(&self, answer: Result<u16, String>) {
        *locked(&self.answer) = answer;
    }

    /// Every request forwarded, in order (also those whose answer was an error).
    pub fn forwarded(&self) -> Vec<ForwardedRequest> {
        locked(&self.forwarded).clone()
    }
}

#[async_trait]
impl WebhookForwarder for InMemoryWebhookForwarder {
    async fn forward(&self, url: &str, body: &[u8], signature: &str) -> Result<u16, String> {
        locked(&self.forwarded).push(ForwardedRequest {
            url: url.to_owned(),
            body: body.to_vec(),
            signature: signature.to_owned(),
        });
        locked(&self.answer).clone()
    }
}
