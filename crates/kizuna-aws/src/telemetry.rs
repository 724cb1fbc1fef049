//! The one place logging is set up: JSON lines on stdout (CloudWatch Logs), level from
//! `RUST_LOG` (default `info`), no ANSI colours, no module targets.
//!
//! What is logged is decided where it is logged; the rule is in docs/architecture.md: never a
//! LINE user id (use `LineUserId::fingerprint`), a date of birth or due date, a token or a
//! secret. `tests/tests/privacy.rs` runs a whole local day through this exact setup and
//! searches the output for them.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Logging for the Lambdas and the CLI: JSON to stdout.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// The same format and filter, written to `writer` (the privacy test captures it).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_ansi(false)
        .with_target(false)
        .with_current_span(false)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .try_init();
}
