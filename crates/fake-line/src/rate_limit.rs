//! Per-second rate limits: a sliding one-second window per channel and endpoint family.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lock;

/// Default per-second limit of every endpoint family (LINE's documented 2,000 requests/s for
/// sending messages).
pub const DEFAULT_RATE_LIMIT: u32 = 2000;

/// Sliding one-second window of request instants.
#[derive(Debug)]
pub(crate) struct Window {
    limit: u32,
    hits: Mutex<VecDeque<Instant>>,
}

impl Window {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit,
            hits: Mutex::new(VecDeque::new()),
        }
    }

    /// Counts a request at `now`; false if `limit` requests already happened in the second
    /// before it (refused requests do not count, as they consumed nothing).
    pub(crate) fn admit(&self, now: Instant) -> bool {
        let mut hits = lock(&self.hits);
        while hits
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= Duration::from_secs(1))
        {
            hits.pop_front();
        }
        if hits.len() >= self.limit as usize {
            return false;
        }
        hits.push_back(now);
        true
    }

    pub(crate) fn clear(&self) {
        lock(&self.hits).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let w = Window::new(2);
        let t0 = Instant::now();
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_millis(10)));
        assert!(!w.admit(t0 + Duration::from_millis(999)));
        assert!(w.admit(t0 + Duration::from_millis(1000)));
        assert!(!w.admit(t0 + Duration::from_millis(1005)));
        assert!(w.admit(t0 + Duration::from_millis(1010)));
    }
}
