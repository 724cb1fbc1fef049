//! Configuring a fake: the builder tests use and the `fake-line` binary's configuration file.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Deserialize;

use crate::channels::{
    ChannelRuntime, Endpoint, FakeChannel, DEFAULT_REPLY_TOKEN_TTL, STATELESS_TOKEN_TTL,
};
use crate::clock::Clock;
use crate::contract;
use crate::fake::{FakeLine, Inner};
use crate::faults::{FaultPlan, Faults};
use crate::rate_limit::{Window, DEFAULT_RATE_LIMIT};
use crate::records::{Ledger, RichMenus};

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

#[cfg(test)]
mod tests {
    use super::*;

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
