//! The one source of "now" for use cases, so tests can run a day that is not today.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move (tests, the local demo stack).
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The real clock moved by a fixed offset: time passes at the real rate (so leases and
/// timeouts expire as they would), but on another day. Several processes given the same
/// offset agree on "now" — the local chaos runs use it to run a daily fan-out across killed
/// and restarted sender processes on a date that is not today.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: chrono::Duration,
}

impl ShiftedClock {
    pub fn new(offset: chrono::Duration) -> Self {
        Self { offset }
    }

    /// A clock that reads `at` now and moves on from there in real time.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self::new(at - Utc::now())
    }

    pub fn offset(&self) -> chrono::Duration {
        self.offset
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_asked_and_moves_in_real_time() {
        let at = DateTime::parse_from_rfc3339("2027-01-10T07:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ShiftedClock::starting_at(at);
        let first = clock.now();
        assert!((first - at).num_seconds().abs() < 5, "{first} vs {at}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first);
        // Another process given the same offset reads the same time.
        let other = ShiftedClock::new(clock.offset());
        assert!((other.now() - clock.now()).num_milliseconds().abs() < 1000);
    }
}
