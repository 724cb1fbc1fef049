//! The fake's clock: real time plus an offset that tests advance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};

/// Clock of the fake: real time plus an offset that tests can advance (to expire tokens,
/// reply tokens and retry keys without sleeping).
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_ms: AtomicU64,
}

impl Clock {
    pub(crate) fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    pub(crate) fn wall(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(SystemTime::now() + self.offset())
    }

    pub(crate) fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
