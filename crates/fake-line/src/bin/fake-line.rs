//! `fake-line --port N --config channels.json`: serves the contract-enforcing fake LINE API
//! for the local stack. Prints `fake-line listening on http://…` on stdout once bound, so
//! scripts can wait for that line.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use fake_line::FakeLineConfig;

#[derive(Parser, Debug)]
#[command(
    name = "fake-line",
    about = "Contract-enforcing fake of the LINE Messaging API"
)]
struct Args {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 0, env = "FAKE_LINE_PORT")]
    port: u16,
    /// Address to bind; loopback unless you know why not.
    #[arg(long, default_value = "127.0.0.1", env = "FAKE_LINE_HOST")]
    host: IpAddr,
    /// Channels file: {"channels": [{"channel_id", "channel_secret", "access_tokens",
    /// "bot_user_id", "monthly_quota"}], "rate_limits": {...}, "reply_token_ttl_secs": n}.
    #[arg(long, env = "FAKE_LINE_CONFIG")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let config: FakeLineConfig = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", args.config.display()))?;
    anyhow::ensure!(!config.channels.is_empty(), "no channels configured");
    let fake = config.builder().build();
    let running = fake
        .spawn_on(SocketAddr::new(args.host, args.port))
        .await
        .context("binding the listener")?;
    println!("fake-line listening on {}", running.base_url);
    tracing::info!(channels = config.channels.len(), base_url = %running.base_url, "fake-line ready");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
