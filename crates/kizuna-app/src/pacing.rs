//! Pacing pushes under a channel's rate limit, and backing off after LINE says "slow down".
//!
//! LINE allows a push rate per channel (2,000 requests/s by default) and answers 429 above it.
//! A 429 is not an error we want to recover from; it is one we want never to cause. So the
//! sender reserves a time slot for every request *before* sending it: slots are spaced
//! `1 / rate` apart, so no one-second window ever holds more than the rate, however many
//! requests are in flight at once.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Fraction of the channel's documented limit we actually use. Timer wake-ups are coarse
/// (about 1 ms), so slots reserved 0.5 ms apart can leave in pairs; a 2 % margin absorbs that
/// without ever touching the limit.
pub const RATE_HEADROOM: f64 = 0.98;

/// A slot reservation pacer: `acquire().await` returns no earlier than the caller's slot.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `limit_per_second` (the channel's documented limit; headroom is applied here).
    pub fn for_limit(limit_per_second: u32) -> Self {
        let effective = (f64::from(limit_per_second.max(1)) * RATE_HEADROOM).max(1.0);
        Self {
            interval: Duration::from_secs_f64(1.0 / effective),
            next_slot: Mutex::new(None),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(reserved) if reserved > now => reserved,
                _ => now,
            };
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Exponential backoff with full jitter for retryable LINE answers (429 rate limit, 5xx,
/// timeouts). The same `X-Line-Retry-Key` is sent on every attempt, so a retry of a request
/// that LINE did accept is answered 409 and never delivered twice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(200),
            max: Duration::from_secs(10),
            attempts: 6,
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (attempt counts from 1), given a jitter draw in
    /// `[0, 1)` and LINE's `Retry-After`, which wins when it is longer.
    pub fn delay(&self, attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .first
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max);
        let jittered = exp.mul_f64(jitter.clamp(0.0, 1.0)).max(self.first / 2);
        match retry_after {
            Some(after) if after > jittered => after.min(self.max),
            _ => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_never_exceed_the_rate_in_any_second() {
        let pacer = std::sync::Arc::new(Pacer::for_limit(100));
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..300 {
            let pacer = pacer.clone();
            handles.push(tokio::spawn(async move {
                pacer.acquire().await;
                Instant::now() - start
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.push(h.await.unwrap());
        }
        times.sort();
        // Sliding one-second window over the release times: never more than the limit.
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(in_window <= 100, "{in_window} releases within 1 s of {t:?}");
        }
        // And the pacer does not dawdle: 300 slots at 98/s take about 3 s.
        let last = *times.last().unwrap();
        assert!(last < Duration::from_millis(3100), "took {last:?}");
    }

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 1.0, None), Duration::from_millis(200));
        assert_eq!(b.delay(3, 1.0, None), Duration::from_millis(800));
        assert_eq!(b.delay(30, 1.0, None), Duration::from_secs(10));
        assert_eq!(b.delay(1, 0.0, None), Duration::from_millis(100));
        assert_eq!(
            b.delay(1, 0.5, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            b.delay(1, 0.5, Some(Duration::from_secs(60))),
            Duration::from_secs(10)
        );
    }
}
