//! Kizuna's application layer: use cases written against small ports (traits).
//!
//! This crate knows no AWS SDK and no HTTP client (`cargo tree -p kizuna-app -e normal` shows
//! no reqwest, hyper or kizuna-line). [`ports`] declares what the use cases need from the
//! outside world (one concern per trait, object-safe so a Lambda `main` can hand out
//! `Arc<dyn …>`), [`messaging`] the outbound channel among them, and [`model`] holds the
//! records that cross those ports. The webhook's LINE protocol (signature, event types) is
//! the pure `kizuna-line-webhook` crate.

pub mod add_friend;
pub mod clock;
pub mod content;
pub mod fanout_sim;
#[cfg(feature = "http")]
pub mod http;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod messaging;
pub mod metrics;
pub mod model;
pub mod pacing;
pub mod paging;
pub mod ports;
pub mod retention;
pub mod schedule;
pub mod scheduler;
pub mod sender;
pub mod webhook;
