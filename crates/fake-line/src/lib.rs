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
//!
//! Layout: `fake` (the shared state and the running server), `builder` (configuration),
//! `channels` (channels, tokens, reply tokens), `rate_limit`, `faults` (injected failures),
//! `records` (what was accepted and refused), `clock` (time tests can advance), `server`
//! (the HTTP endpoints), [`contract`] and [`spec`] (what a request body must be).

mod builder;
mod channels;
mod clock;
pub mod contract;
mod fake;
mod faults;
#[cfg(feature = "jsonschema-comparison")]
pub mod json_schema;
mod rate_limit;
mod records;
mod server;
pub mod spec;
pub mod webhook;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use builder::{FakeLineBuilder, FakeLineConfig};
pub use channels::{Endpoint, FakeChannel, DEFAULT_REPLY_TOKEN_TTL, STATELESS_TOKEN_TTL};
pub use fake::{FakeLine, RunningFakeLine};
pub use faults::FaultPlan;
pub use rate_limit::DEFAULT_RATE_LIMIT;
pub use records::{
    RecordedPush, RecordedReply, RecordedRichMenu, RejectedRequest, RejectionKind, RETRY_KEY_TTL,
};
pub use spec::Violation;

pub(crate) use channels::{Auth, ChannelRuntime};
pub(crate) use faults::Fault;
pub(crate) use records::PushCommit;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a test thread must not turn every later request into a panic.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
