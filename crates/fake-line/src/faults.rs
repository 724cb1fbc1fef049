//! Injected failures: a seeded random fault plan for pushes and queued `fail_next` statuses.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::channels::Endpoint;
use crate::{lock, FakeLine};

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

pub(crate) fn default_fault_delay() -> Duration {
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

/// A failure drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fault {
    Status(u16),
    Timeout,
    LostResponse,
}

/// The fault plan, its generator state and the queued `fail_next` statuses.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) plan: Option<FaultPlan>,
    pub(crate) rng: u64,
    pub(crate) fail_next: HashMap<Endpoint, VecDeque<u16>>,
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

    pub(crate) fn draw(&mut self, endpoint: Endpoint) -> Option<Fault> {
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

impl FakeLine {
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

    pub(crate) fn draw_fault(&self, endpoint: Endpoint) -> Option<Fault> {
        lock(&self.inner.faults).draw(endpoint)
    }

    pub(crate) fn fault_delay(&self) -> Duration {
        lock(&self.inner.faults)
            .plan
            .as_ref()
            .map_or_else(default_fault_delay, |p| p.delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
