//! The one place logging is set up: JSON lines on stdout (CloudWatch Logs), level from
//! `RUST_LOG` (default `info`), no ANSI colours, no module targets.
//!
//! `RUST_LOG` is read as [`Targets`]: a default level and levels per target
//! (`warn,kizuna_app=debug`). That is all a Lambda's log level needs; `EnvFilter`'s span and
//! field filters would bring a regex engine into every binary.
//!
//! What is logged is decided where it is logged; the rule is in docs/architecture.md: never a
//! LINE user id (use `LineUserId::fingerprint`), a date of birth or due date, a token or a
//! secret. `tests/tests/privacy.rs` runs a whole local day through this exact setup and
//! searches the output for them.

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

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
        .with_writer(writer)
        .finish()
        .with(level_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .try_init();
}

/// `RUST_LOG` as levels per target; unset or unreadable: `info` for everything.
fn level_filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn rust_log_sets_levels_per_target_and_defaults_to_info() {
        let unset = level_filter(None);
        assert_eq!(unset.default_level(), Some(LevelFilter::INFO));
        assert!(unset.would_enable("kizuna_app::sender", &Level::INFO));
        assert!(!unset.would_enable("kizuna_app::sender", &Level::DEBUG));

        let set = level_filter(Some("warn,kizuna_app=debug"));
        assert!(set.would_enable("kizuna_app::sender", &Level::DEBUG));
        assert!(!set.would_enable("aws_config", &Level::INFO));
        assert!(set.would_enable("aws_config", &Level::WARN));

        // Unparseable: the default, not silence.
        let bad = level_filter(Some("=="));
        assert!(bad.would_enable("kizuna_app", &Level::INFO));
    }
}
