//! The one place logging is set up: JSON lines on stdout (CloudWatch Logs), level from
//! `RUST_LOG` (default `info`), no ANSI colours, no module targets.
//!
//! What is logged is decided where it is logged; the rule is in docs/architecture.md: never a
//! LINE user id (use `LineUserId::fingerprint`), a date of birth or due date, a token or a
//! secret.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_ansi(false)
        .with_target(false)
        .with_current_span(false)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .try_init();
}
