//! The LINE webhook protocol, as LINE defines it: the `x-line-signature` check and the
//! webhook request body's event types. Pure functions over bytes: no HTTP client, no I/O.
//!
//! A crate of its own so that the application layer (`kizuna-app`), which handles webhooks,
//! can use it without depending on the LINE HTTP adapter (`kizuna-line`), which depends on
//! the application layer to implement its ports.

pub mod event;
pub mod signature;

pub use event::{
    parse, Event, EventKind, MessageContent, Mode, Postback, PostbackParams, Source,
    WebhookParseError, WebhookRequest,
};
