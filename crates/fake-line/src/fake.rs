//! The fake itself: shared state behind a cheap handle, serving in a background task.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::channels::{ChannelRuntime, IssuedToken, ReplyToken};
use crate::clock::Clock;
use crate::faults::Faults;
use crate::records::{Ledger, RichMenus};
use crate::{lock, server};

/// Everything a fake holds, shared by its clones and the server task.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) channels: HashMap<String, ChannelRuntime>,
    /// Long-lived token → channel id (fixed at build).
    pub(crate) static_tokens: HashMap<String, String>,
    pub(crate) issued: RwLock<HashMap<String, IssuedToken>>,
    pub(crate) reply_tokens: Mutex<HashMap<String, ReplyToken>>,
    pub(crate) known_users: RwLock<HashSet<String>>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) ledger: Mutex<Ledger>,
    pub(crate) rich_menus: Mutex<RichMenus>,
    pub(crate) clock: Clock,
    pub(crate) reply_token_ttl: Duration,
    pub(crate) stateless_token_ttl: Duration,
    pub(crate) message_ids: AtomicU64,
}

/// The fake: cheap to clone (shared state), inspectable while it serves.
#[derive(Debug, Clone)]
pub struct FakeLine {
    pub(crate) inner: Arc<Inner>,
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

impl FakeLine {
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

    /// Moves the fake's clock forward (expires reply tokens, stateless tokens, retry keys).
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
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

    pub(crate) fn next_message_id(&self) -> String {
        self.inner
            .message_ids
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }

    pub(crate) fn now_wall(&self) -> DateTime<Utc> {
        self.inner.clock.wall()
    }
}
