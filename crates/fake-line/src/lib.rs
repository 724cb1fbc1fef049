//! A local fake of the LINE Messaging API that enforces LINE's documented contract, for
//! integration tests and the local stack.
//!
//! What it enforces (each rule has a test in `tests/`):
//! - bearer authentication with configured or issued tokens (401 otherwise, or after
//!   [`FakeLine::revoke_tokens`]);
//! - request bodies valid per LINE's official OpenAPI spec ([`contract`]), including 1..=5
//!   messages, quick replies of at most 13 items, plus text of 1..=5000 UTF-16 code units
//!   and user-id-shaped push recipients;
//! - single-use reply tokens that expire ([`FakeLineBuilder::reply_token_ttl`]);
//! - `X-Line-Retry-Key`: a UUID; a repeat within 24 h answers 409 with
//!   `x-line-accepted-request-id` and is not delivered twice;
//! - rich menus: the create body per the spec and LINE's documented limits (size, ≤ 20
//!   areas within the menu, `chatBarText` ≤ 14), images of PNG/JPEG ≤ 1 MB whose
//!   dimensions equal the menu's, uploaded once and before the menu becomes the default,
//!   404 for unknown ids (images are served on the same address as the API: point the
//!   client's data base URL here too);
//! - per-second rate limits per endpoint family (sliding one-second window) and the monthly
//!   message quota, both answering 429 with LINE's messages.
//!
//! Tests drive it in-process ([`FakeLine::spawn`]) and inspect what it recorded; the
//! `fake-line` binary serves it for the local stack, with `/__fake/*` admin endpoints.

pub mod contract;
mod server;
pub mod spec;
pub mod webhook;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use spec::Violation;

/// Lifetime of tokens issued by `POST /oauth2/v3/token` (LINE: 15 minutes).
pub const STATELESS_TOKEN_TTL: Duration = Duration::from_secs(900);
/// How long a reply token is usable by default (LINE: about one minute after the webhook).
pub const DEFAULT_REPLY_TOKEN_TTL: Duration = Duration::from_secs(60);
/// How long LINE remembers an accepted `X-Line-Retry-Key`.
pub const RETRY_KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default per-second limit of every endpoint family (LINE's documented 2,000 requests/s for
/// sending messages).
pub const DEFAULT_RATE_LIMIT: u32 = 2000;

/// A channel known to the fake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeChannel {
    pub channel_id: String,
    pub channel_secret: String,
    /// Long-lived tokens accepted for this channel (stateless ones are issued on demand).
    #[serde(default)]
    pub access_tokens: Vec<String>,
    /// The bot's user id (`/v2/bot/info` `userId`, webhook `destination`).
    pub bot_user_id: String,
    /// Monthly message quota; `None` = no target limit.
    #[serde(default)]
    pub monthly_quota: Option<u64>,
}

/// Endpoint families, each with its own rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Push,
    Reply,
    /// `GET /v2/bot/message/quota` and `/quota/consumption`.
    Quota,
    /// `POST /oauth2/v3/token`.
    Token,
    /// `GET /v2/bot/info`.
    BotInfo,
    /// The rich menu endpoints (create, image, default, list, get, delete).
    RichMenu,
}

impl Endpoint {
    const ALL: [Endpoint; 6] = [
        Endpoint::Push,
        Endpoint::Reply,
        Endpoint::Quota,
        Endpoint::Token,
        Endpoint::BotInfo,
        Endpoint::RichMenu,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Random failures injected into pushes, drawn from a seeded generator so a test run is
/// reproducible. Fractions are of all authenticated push requests and should sum to ≤ 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    pub seed: u64,
    /// Answered 429 (rate limit message), not delivered.
    #[serde(default)]
    pub too_many_requests: f64,
    /// Answered 500, not delivered.
    #[serde(default)]
    pub server_error: f64,
    /// Held for `delay`, then answered 500, not delivered: with a client timeout below
    /// `delay`, the client sees a timeout.
    #[serde(default)]
    pub timeout: f64,
    /// Delivered and recorded, then held for `delay` before the 200: the client times out
    /// although LINE accepted the push (what retry keys exist for).
    #[serde(default)]
    pub lost_response: f64,
    #[serde(default = "default_fault_delay", with = "duration_ms")]
    pub delay: Duration,
}

fn default_fault_delay() -> Duration {
    Duration::from_secs(15)
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

impl FaultPlan {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            too_many_requests: 0.0,
            server_error: 0.0,
            timeout: 0.0,
            lost_response: 0.0,
            delay: default_fault_delay(),
        }
    }
}

/// A push the fake accepted (delivered).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedPush {
    pub channel_id: String,
    pub to: String,
    pub messages: Vec<Value>,
    pub retry_key: Option<Uuid>,
    pub request_id: String,
    pub notification_disabled: bool,
    /// Whether `to` is a user the fake knows ([`FakeLine::add_friend`] or a reply token
    /// issued for them). LINE answers 200 for unknown and blocked users too; this lets a
    /// test tell them apart.
    pub recipient_known: bool,
    pub at: DateTime<Utc>,
}

/// A reply the fake accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedReply {
    pub channel_id: String,
    pub reply_token: String,
    /// The user the reply token was issued for.
    pub user_id: String,
    pub messages: Vec<Value>,
    pub request_id: String,
    pub notification_disabled: bool,
    pub at: DateTime<Utc>,
}

/// Why a request was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionKind {
    /// Missing, unknown, expired or revoked bearer token (401).
    Unauthorized,
    /// Token endpoint: wrong client id/secret (400 `invalid_client`).
    InvalidClient,
    /// Not `application/json` (415).
    UnsupportedMediaType,
    /// Body is not JSON (400).
    InvalidJson,
    /// Body violates the spec or a documented rule (400 with details).
    InvalidBody,
    /// Unknown, used or expired reply token (400).
    InvalidReplyToken,
    /// `X-Line-Retry-Key` is not a UUID (400).
    InvalidRetryKey,
    /// Same retry key already accepted (409): the protocol working, not a client bug.
    DuplicateRetryKey,
    /// Per-second rate limit (429).
    RateLimited,
    /// Monthly quota used up (429).
    MonthlyLimit,
    /// Failure injected by a test (fault plan or `fail_next`).
    Injected,
    /// Unknown rich menu id, or no default rich menu (404): the channel's state, which a
    /// client may legitimately probe.
    NotFound,
    /// A rich menu image too large (413), of the wrong type (415) or size (400), or a second
    /// image for one menu; or a default set before the image is uploaded (400).
    InvalidRichMenuImage,
}

impl RejectionKind {
    /// Whether the request itself was wrong (as opposed to load, quota, injected faults or a
    /// retry-key duplicate): what tests assert never happens.
    pub fn is_contract_violation(self) -> bool {
        matches!(
            self,
            RejectionKind::Unauthorized
                | RejectionKind::InvalidClient
                | RejectionKind::UnsupportedMediaType
                | RejectionKind::InvalidJson
                | RejectionKind::InvalidBody
                | RejectionKind::InvalidReplyToken
                | RejectionKind::InvalidRetryKey
                | RejectionKind::InvalidRichMenuImage
        )
    }
}

/// A request the fake answered with an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedRequest {
    pub endpoint: Endpoint,
    /// Known once the request authenticated.
    pub channel_id: Option<String>,
    pub status: u16,
    pub kind: RejectionKind,
    /// The error message sent, with the details of an invalid body.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A rich menu the fake holds for a channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRichMenu {
    pub channel_id: String,
    pub rich_menu_id: String,
    /// The create request's body, as accepted.
    pub menu: Value,
    /// Media type and bytes of the uploaded image, once uploaded.
    #[serde(skip)]
    pub image: Option<(String, Vec<u8>)>,
}

/// Each channel's rich menus (in creation order) and its default one.
#[derive(Debug, Default)]
pub(crate) struct RichMenus {
    pub(crate) menus: Vec<RecordedRichMenu>,
    /// Channel id → default rich menu id.
    pub(crate) defaults: HashMap<String, String>,
}

/// Clock of the fake: real time plus an offset that tests can advance (to expire tokens,
/// reply tokens and retry keys without sleeping).
#[derive(Debug, Default)]
struct Clock {
    offset_ms: AtomicU64,
}

impl Clock {
    fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    fn wall(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(SystemTime::now() + self.offset())
    }

    fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Sliding one-second window of request instants.
#[derive(Debug)]
struct Window {
    limit: u32,
    hits: Mutex<VecDeque<Instant>>,
}

impl Window {
    fn new(limit: u32) -> Self {
        Self {
            limit,
            hits: Mutex::new(VecDeque::new()),
        }
    }

    /// Counts a request at `now`; false if `limit` requests already happened in the second
    /// before it (refused requests do not count, as they consumed nothing).
    fn admit(&self, now: Instant) -> bool {
        let mut hits = lock(&self.hits);
        while hits
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= Duration::from_secs(1))
        {
            hits.pop_front();
        }
        if hits.len() >= self.limit as usize {
            return false;
        }
        hits.push_back(now);
        true
    }

    fn clear(&self) {
        lock(&self.hits).clear();
    }
}

#[derive(Debug)]
struct ChannelRuntime {
    config: FakeChannel,
    windows: Vec<Window>,
    /// Tokens issued before this generation are revoked (long-lived ones are generation 0).
    min_generation: AtomicU64,
    generation: AtomicU64,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    channel_id: String,
    expires_at: Instant,
    generation: u64,
}

#[derive(Debug, Clone)]
struct ReplyToken {
    user_id: String,
    /// `None`: usable on any channel.
    channel_id: Option<String>,
    expires_at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    Status(u16),
    Timeout,
    LostResponse,
}

#[derive(Debug, Default)]
struct Faults {
    plan: Option<FaultPlan>,
    rng: u64,
    fail_next: HashMap<Endpoint, VecDeque<u16>>,
}

impl Faults {
    /// SplitMix64: tiny, seedable, and stable across versions (unlike `rand`'s StdRng).
    fn next_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn draw(&mut self, endpoint: Endpoint) -> Option<Fault> {
        if let Some(queue) = self.fail_next.get_mut(&endpoint) {
            if let Some(status) = queue.pop_front() {
                return Some(Fault::Status(status));
            }
        }
        if endpoint != Endpoint::Push {
            return None;
        }
        let plan = self.plan.clone()?;
        let x = self.next_unit();
        let mut edge = plan.too_many_requests;
        if x < edge {
            return Some(Fault::Status(429));
        }
        edge += plan.server_error;
        if x < edge {
            return Some(Fault::Status(500));
        }
        edge += plan.timeout;
        if x < edge {
            return Some(Fault::Timeout);
        }
        edge += plan.lost_response;
        if x < edge {
            return Some(Fault::LostResponse);
        }
        None
    }
}

#[derive(Debug, Default)]
struct Ledger {
    pushes: Vec<RecordedPush>,
    replies: Vec<RecordedReply>,
    rejected: Vec<RejectedRequest>,
    /// (channel id, retry key) → (request id of the accepted push, when).
    retry_keys: HashMap<(String, Uuid), (String, Instant)>,
    counted: HashMap<String, u64>,
    issued_tokens: HashMap<String, u64>,
}

#[derive(Debug)]
struct Inner {
    channels: HashMap<String, ChannelRuntime>,
    /// Long-lived token → channel id (fixed at build).
    static_tokens: HashMap<String, String>,
    issued: RwLock<HashMap<String, IssuedToken>>,
    reply_tokens: Mutex<HashMap<String, ReplyToken>>,
    known_users: RwLock<HashSet<String>>,
    faults: Mutex<Faults>,
    ledger: Mutex<Ledger>,
    rich_menus: Mutex<RichMenus>,
    clock: Clock,
    reply_token_ttl: Duration,
    stateless_token_ttl: Duration,
    message_ids: AtomicU64,
}

/// Drops expired entries when the map has doubled since the last sweep, so that issuing stays
/// amortized O(1) under load instead of scanning the map on every insert.
fn prune<V>(map: &mut HashMap<String, V>, keep: impl Fn(&V) -> bool) {
    let len = map.len();
    if len >= 1024 && len.is_power_of_two() {
        map.retain(|_, v| keep(v));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a test thread must not turn every later request into a panic.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Configures a [`FakeLine`].
#[derive(Debug, Clone)]
pub struct FakeLineBuilder {
    channels: Vec<FakeChannel>,
    rate_limits: HashMap<Endpoint, u32>,
    reply_token_ttl: Duration,
    stateless_token_ttl: Duration,
    faults: Option<FaultPlan>,
}

impl FakeLineBuilder {
    pub fn channel(mut self, channel: FakeChannel) -> Self {
        self.channels.push(channel);
        self
    }

    /// Requests per second (per channel) of an endpoint family; default 2000.
    pub fn rate_limit(mut self, endpoint: Endpoint, per_second: u32) -> Self {
        self.rate_limits.insert(endpoint, per_second);
        self
    }

    /// How long an issued reply token stays usable; default 60 s.
    pub fn reply_token_ttl(mut self, ttl: Duration) -> Self {
        self.reply_token_ttl = ttl;
        self
    }

    /// Lifetime of issued stateless tokens (`expires_in`); default 900 s as LINE.
    pub fn stateless_token_ttl(mut self, ttl: Duration) -> Self {
        self.stateless_token_ttl = ttl;
        self
    }

    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = Some(plan);
        self
    }

    pub fn build(self) -> FakeLine {
        let mut static_tokens = HashMap::new();
        let mut channels = HashMap::new();
        for c in self.channels {
            for t in &c.access_tokens {
                static_tokens.insert(t.clone(), c.channel_id.clone());
            }
            let windows = Endpoint::ALL
                .iter()
                .map(|e| Window::new(*self.rate_limits.get(e).unwrap_or(&DEFAULT_RATE_LIMIT)))
                .collect();
            channels.insert(
                c.channel_id.clone(),
                ChannelRuntime {
                    config: c,
                    windows,
                    min_generation: AtomicU64::new(0),
                    generation: AtomicU64::new(0),
                },
            );
        }
        let faults = Faults {
            rng: self.faults.as_ref().map_or(0, |p| p.seed),
            plan: self.faults,
            fail_next: HashMap::new(),
        };
        // Compile the specs now rather than inside the first request.
        let _ = contract::contract();
        FakeLine {
            inner: Arc::new(Inner {
                channels,
                static_tokens,
                issued: RwLock::new(HashMap::new()),
                reply_tokens: Mutex::new(HashMap::new()),
                known_users: RwLock::new(HashSet::new()),
                faults: Mutex::new(faults),
                ledger: Mutex::new(Ledger::default()),
                rich_menus: Mutex::new(RichMenus::default()),
                clock: Clock::default(),
                reply_token_ttl: self.reply_token_ttl,
                stateless_token_ttl: self.stateless_token_ttl,
                message_ids: AtomicU64::new(530_000_000_000_000_000),
            }),
        }
    }
}

/// The configuration file of the `fake-line` binary.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeLineConfig {
    pub channels: Vec<FakeChannel>,
    /// Per-second limits by endpoint family (`push`, `reply`, `quota`, `token`, `bot_info`, `rich_menu`).
    #[serde(default)]
    pub rate_limits: HashMap<Endpoint, u32>,
    #[serde(default)]
    pub reply_token_ttl_secs: Option<u64>,
    #[serde(default)]
    pub faults: Option<FaultPlan>,
}

impl FakeLineConfig {
    pub fn builder(&self) -> FakeLineBuilder {
        let mut b = FakeLine::builder();
        for c in &self.channels {
            b = b.channel(c.clone());
        }
        for (e, n) in &self.rate_limits {
            b = b.rate_limit(*e, *n);
        }
        if let Some(secs) = self.reply_token_ttl_secs {
            b = b.reply_token_ttl(Duration::from_secs(secs));
        }
        if let Some(plan) = &self.faults {
            b = b.faults(plan.clone());
        }
        b
    }
}

/// The fake: cheap to clone (shared state), inspectable while it serves.
#[derive(Debug, Clone)]
pub struct FakeLine {
    inner: Arc<Inner>,
}

/// A fake serving on a local port. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningFakeLine {
    /// `http://127.0.0.1:<port>`: the base URL to give the client (`KIZUNA_LINE_API_BASE`).
    pub base_url: String,
    pub addr: SocketAddr,
    pub handle: JoinHandle<()>,
    pub fake: FakeLine,
}

impl Deref for RunningFakeLine {
    type Target = FakeLine;

    fn deref(&self) -> &FakeLine {
        &self.fake
    }
}

impl Drop for RunningFakeLine {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Outcome of checking a bearer token.
pub(crate) enum Auth<'a> {
    Channel(&'a ChannelRuntime),
    Denied,
}

impl FakeLine {
    pub fn builder() -> FakeLineBuilder {
        FakeLineBuilder {
            channels: Vec::new(),
            rate_limits: HashMap::new(),
            reply_token_ttl: DEFAULT_REPLY_TOKEN_TTL,
            stateless_token_ttl: STATELESS_TOKEN_TTL,
            faults: None,
        }
    }

    /// The axum router serving the fake (LINE endpoints and `/__fake/*` admin endpoints).
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Serves on `127.0.0.1:0` in a background task.
    pub async fn spawn(&self) -> std::io::Result<RunningFakeLine> {
        self.spawn_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on `addr` in a background task.
    pub async fn spawn_on(&self, addr: SocketAddr) -> std::io::Result<RunningFakeLine> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let router = self.router();
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "fake-line server stopped");
            }
        });
        Ok(RunningFakeLine {
            base_url: format!("http://{addr}"),
            addr,
            handle,
            fake: self.clone(),
        })
    }

    /// A configured channel.
    pub fn channel(&self, channel_id: &str) -> Option<&FakeChannel> {
        self.inner.channels.get(channel_id).map(|c| &c.config)
    }

    /// Issues a reply token for `user_id`, usable once on any channel within the reply token
    /// TTL, as LINE does when it sends a webhook event. Also makes the user known.
    pub fn issue_reply_token(&self, user_id: &str) -> String {
        self.issue_reply_token_inner(user_id, None)
    }

    /// Like [`FakeLine::issue_reply_token`], but only usable with `channel_id`'s tokens.
    pub fn issue_reply_token_for(&self, channel_id: &str, user_id: &str) -> String {
        self.issue_reply_token_inner(user_id, Some(channel_id.to_owned()))
    }

    fn issue_reply_token_inner(&self, user_id: &str, channel_id: Option<String>) -> String {
        let token = Uuid::new_v4().simple().to_string();
        let expires_at = self.inner.clock.now() + self.inner.reply_token_ttl;
        let mut tokens = lock(&self.inner.reply_tokens);
        prune(&mut tokens, |t| t.expires_at > self.inner.clock.now());
        tokens.insert(
            token.clone(),
            ReplyToken {
                user_id: user_id.to_owned(),
                channel_id,
                expires_at,
            },
        );
        drop(tokens);
        self.add_friend(user_id);
        token
    }

    /// Marks a user as known (a friend of the bot) for [`RecordedPush::recipient_known`].
    pub fn add_friend(&self, user_id: &str) {
        self.inner
            .known_users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user_id.to_owned());
    }

    /// Moves the fake's clock forward (expires reply tokens, stateless tokens, retry keys).
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
    }

    /// Makes every token of the channel issued so far (long-lived and stateless) fail with
    /// 401; tokens issued afterwards work.
    pub fn revoke_tokens(&self, channel_id: &str) {
        if let Some(c) = self.inner.channels.get(channel_id) {
            let next = c.generation.fetch_add(1, Ordering::SeqCst) + 1;
            c.min_generation.store(next, Ordering::SeqCst);
        }
    }

    /// Undoes [`FakeLine::revoke_tokens`].
    pub fn restore_tokens(&self, channel_id: &str) {
        if let Some(c) = self.inner.channels.get(channel_id) {
            c.min_generation.store(0, Ordering::SeqCst);
        }
    }

    /// Replaces the random fault plan (`None` stops injecting).
    pub fn set_faults(&self, plan: Option<FaultPlan>) {
        let mut f = lock(&self.inner.faults);
        f.rng = plan.as_ref().map_or(0, |p| p.seed);
        f.plan = plan;
    }

    /// Answers the next `n` push requests with `status` (before recording anything).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.fail_next_on(Endpoint::Push, n, status);
    }

    /// Answers the next `n` requests of an endpoint family with `status`.
    pub fn fail_next_on(&self, endpoint: Endpoint, n: usize, status: u16) {
        let mut f = lock(&self.inner.faults);
        f.fail_next
            .entry(endpoint)
            .or_default()
            .extend(std::iter::repeat_n(status, n));
    }

    pub fn recorded_pushes(&self) -> Vec<RecordedPush> {
        lock(&self.inner.ledger).pushes.clone()
    }

    pub fn recorded_replies(&self) -> Vec<RecordedReply> {
        lock(&self.inner.ledger).replies.clone()
    }

    pub fn rejected_requests(&self) -> Vec<RejectedRequest> {
        lock(&self.inner.ledger).rejected.clone()
    }

    /// Rejections caused by the request itself (see [`RejectionKind::is_contract_violation`]).
    pub fn contract_violations(&self) -> Vec<RejectedRequest> {
        lock(&self.inner.ledger)
            .rejected
            .iter()
            .filter(|r| r.kind.is_contract_violation())
            .cloned()
            .collect()
    }

    /// Messages counted against the channel's monthly quota (one per push recipient;
    /// replies are free).
    pub fn counted_messages(&self, channel_id: &str) -> u64 {
        lock(&self.inner.ledger)
            .counted
            .get(channel_id)
            .copied()
            .unwrap_or(0)
    }

    /// The channel's rich menus, in creation order.
    pub fn rich_menus(&self, channel_id: &str) -> Vec<RecordedRichMenu> {
        lock(&self.inner.rich_menus)
            .menus
            .iter()
            .filter(|m| m.channel_id == channel_id)
            .cloned()
            .collect()
    }

    /// The channel's default rich menu id, if one is set.
    pub fn default_rich_menu(&self, channel_id: &str) -> Option<String> {
        lock(&self.inner.rich_menus)
            .defaults
            .get(channel_id)
            .cloned()
    }

    pub(crate) fn rich_menu_state(&self) -> MutexGuard<'_, RichMenus> {
        lock(&self.inner.rich_menus)
    }

    /// How many stateless tokens were issued for the channel.
    pub fn issued_token_count(&self, channel_id: &str) -> u64 {
        lock(&self.inner.ledger)
            .issued_tokens
            .get(channel_id)
            .copied()
            .unwrap_or(0)
    }

    /// Forgets everything that happened: records, counts, retry keys, reply tokens, rate
    /// windows, pending `fail_next`s, revocations. Keeps the configuration, the fault plan
    /// and issued stateless tokens (clients may have cached them).
    pub fn reset(&self) {
        *lock(&self.inner.ledger) = Ledger::default();
        *lock(&self.inner.rich_menus) = RichMenus::default();
        lock(&self.inner.reply_tokens).clear();
        lock(&self.inner.faults).fail_next.clear();
        for c in self.inner.channels.values() {
            c.min_generation.store(0, Ordering::SeqCst);
            for w in &c.windows {
                w.clear();
            }
        }
    }

    // ---- used by the server ----------------------------------------------------------

    pub(crate) fn authenticate(&self, bearer: Option<&str>) -> Auth<'_> {
        let Some(token) = bearer else {
            return Auth::Denied;
        };
        let (channel_id, generation) = if let Some(c) = self.inner.static_tokens.get(token) {
            (c.clone(), 0)
        } else {
            let issued = self
                .inner
                .issued
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            match issued.get(token) {
                Some(t) if t.expires_at > self.inner.clock.now() => {
                    (t.channel_id.clone(), t.generation)
                }
                _ => return Auth::Denied,
            }
        };
        match self.inner.channels.get(&channel_id) {
            Some(c) if generation >= c.min_generation.load(Ordering::SeqCst) => Auth::Channel(c),
            _ => Auth::Denied,
        }
    }

    pub(crate) fn channel_runtime(&self, channel_id: &str) -> Option<&ChannelRuntime> {
        self.inner.channels.get(channel_id)
    }

    pub(crate) fn admit(&self, channel: &ChannelRuntime, endpoint: Endpoint) -> bool {
        channel.windows[endpoint.index()].admit(self.inner.clock.now())
    }

    pub(crate) fn draw_fault(&self, endpoint: Endpoint) -> Option<Fault> {
        lock(&self.inner.faults).draw(endpoint)
    }

    pub(crate) fn fault_delay(&self) -> Duration {
        lock(&self.inner.faults)
            .plan
            .as_ref()
            .map_or_else(default_fault_delay, |p| p.delay)
    }

    pub(crate) fn reject(
        &self,
        endpoint: Endpoint,
        channel_id: Option<&str>,
        status: u16,
        kind: RejectionKind,
        reason: String,
    ) {
        // Contract violations are what a developer running the local stack needs to see;
        // load-related refusals would flood the log under a load test.
        if kind.is_contract_violation() {
            tracing::warn!(?endpoint, status, ?kind, %reason, "fake-line rejected a request");
        } else {
            tracing::debug!(?endpoint, status, ?kind, %reason, "fake-line refused a request");
        }
        let at = self.inner.clock.wall();
        lock(&self.inner.ledger).rejected.push(RejectedRequest {
            endpoint,
            channel_id: channel_id.map(str::to_owned),
            status,
            kind,
            reason,
            at,
        });
    }

    pub(crate) fn issue_stateless_token(&self, channel: &ChannelRuntime) -> (String, Duration) {
        let token = format!("fake-stateless-{}", Uuid::new_v4().simple());
        let now = self.inner.clock.now();
        let ttl = self.inner.stateless_token_ttl;
        {
            let mut issued = self
                .inner
                .issued
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            prune(&mut issued, |t| t.expires_at > now);
            issued.insert(
                token.clone(),
                IssuedToken {
                    channel_id: channel.config.channel_id.clone(),
                    expires_at: now + ttl,
                    generation: channel.generation.load(Ordering::SeqCst),
                },
            );
        }
        *lock(&self.inner.ledger)
            .issued_tokens
            .entry(channel.config.channel_id.clone())
            .or_default() += 1;
        (token, ttl)
    }

    /// Consumes a reply token: `Some(user id)` if it exists, is unexpired and belongs to the
    /// channel.
    pub(crate) fn take_reply_token(&self, token: &str, channel_id: &str) -> Option<String> {
        let now = self.inner.clock.now();
        let mut tokens = lock(&self.inner.reply_tokens);
        let t = tokens.get(token)?;
        if t.expires_at <= now {
            tokens.remove(token);
            return None;
        }
        if t.channel_id.as_deref().is_some_and(|c| c != channel_id) {
            return None;
        }
        tokens.remove(token).map(|t| t.user_id)
    }

    pub(crate) fn next_message_id(&self) -> String {
        self.inner
            .message_ids
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }

    pub(crate) fn is_known_user(&self, user_id: &str) -> bool {
        self.inner
            .known_users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(user_id)
    }

    pub(crate) fn record_reply(&self, reply: RecordedReply) {
        lock(&self.inner.ledger).replies.push(reply);
    }

    pub(crate) fn now_wall(&self) -> DateTime<Utc> {
        self.inner.clock.wall()
    }

    /// The atomic part of a push: retry-key dedupe, quota, recording.
    pub(crate) fn commit_push(&self, channel: &ChannelRuntime, push: RecordedPush) -> PushCommit {
        let now = self.inner.clock.now();
        let channel_id = &channel.config.channel_id;
        let mut ledger = lock(&self.inner.ledger);
        if let Some(key) = push.retry_key {
            let k = (channel_id.clone(), key);
            match ledger.retry_keys.get(&k) {
                Some((request_id, at)) if now.saturating_duration_since(*at) < RETRY_KEY_TTL => {
                    return PushCommit::Duplicate {
                        accepted_request_id: request_id.clone(),
                    };
                }
                _ => {}
            }
        }
        let counted = ledger.counted.get(channel_id).copied().unwrap_or(0);
        if channel
            .config
            .monthly_quota
            .is_some_and(|quota| counted >= quota)
        {
            return PushCommit::OverQuota;
        }
        // LINE counts one message per recipient, however many message objects the push has.
        ledger.counted.insert(channel_id.clone(), counted + 1);
        if let Some(key) = push.retry_key {
            ledger
                .retry_keys
                .insert((channel_id.clone(), key), (push.request_id.clone(), now));
        }
        ledger.pushes.push(push);
        PushCommit::Accepted
    }

    pub(crate) fn quota(&self, channel: &ChannelRuntime) -> (Option<u64>, u64) {
        (
            channel.config.monthly_quota,
            self.counted_messages(&channel.config.channel_id),
        )
    }
}

pub(crate) enum PushCommit {
    Accepted,
    Duplicate { accepted_request_id: String },
    OverQuota,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let w = Window::new(2);
        let t0 = Instant::now();
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_millis(10)));
        assert!(!w.admit(t0 + Duration::from_millis(999)));
        assert!(w.admit(t0 + Duration::from_millis(1000)));
        assert!(!w.admit(t0 + Duration::from_millis(1005)));
        assert!(w.admit(t0 + Duration::from_millis(1010)));
    }

    #[test]
    fn fault_draws_are_reproducible_and_roughly_proportional() {
        let plan = FaultPlan {
            server_error: 0.25,
            ..FaultPlan::new(42)
        };
        let draw = |plan: &FaultPlan| {
            let mut f = Faults {
                rng: plan.seed,
                plan: Some(plan.clone()),
                fail_next: HashMap::new(),
            };
            (0..1000)
                .map(|_| f.draw(Endpoint::Push))
                .collect::<Vec<_>>()
        };
        let a = draw(&plan);
        assert_eq!(a, draw(&plan));
        let n = a.iter().filter(|f| **f == Some(Fault::Status(500))).count();
        assert!((180..320).contains(&n), "{n}");
        assert!(a
            .iter()
            .all(|f| matches!(f, None | Some(Fault::Status(500)))));
    }

    #[test]
    fn config_file_shape() {
        let cfg: FakeLineConfig = serde_json::from_str(
            r#"{"channels":[{"channel_id":"1","channel_secret":"s","access_tokens":["t"],
                "bot_user_id":"U00000000000000000000000000000000","monthly_quota":10}],
                "rate_limits":{"push":5},"reply_token_ttl_secs":30,
                "faults":{"seed":1,"server_error":0.1}}"#,
        )
        .unwrap();
        let fake = cfg.builder().build();
        assert_eq!(fake.channel("1").unwrap().monthly_quota, Some(10));
        assert_eq!(fake.inner.reply_token_ttl, Duration::from_secs(30));
    }
}
