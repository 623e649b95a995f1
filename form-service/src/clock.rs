//! The service's idea of "now", in whole seconds since the Unix epoch.
//!
//! Real time plus an offset that tests can move forward, so retry schedules and
//! give-up deadlines are tested without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock shared by the store and the outbox.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        real + self.offset.load(Ordering::Relaxed)
    }

    /// A clock `secs` away from real time (negative: in the past).
    pub fn shifted(secs: i64) -> Clock {
        Clock {
            offset: Arc::new(AtomicI64::new(secs)),
        }
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset
            .fetch_add(by.as_secs() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_every_clone() {
        let a = Clock::default();
        let b = a.clone();
        let before = b.now();
        a.advance(Duration::from_secs(3600));
        assert!(b.now() >= before + 3600);
    }
}
