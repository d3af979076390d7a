//! The ledger's clock: UTC, to the microsecond (what both backends store exactly).
//!
//! A server started with `kks serve --test-clock` (never in production) lets a test move
//! this clock forward, so that stage openings, hold releases and the business day's
//! midnight (WIB) can be crossed in seconds. Tokens and card expiry keep the real clock.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime, SubsecRound};

/// A clock that reads the real time plus an offset that only grows.
struct Clock {
    /// How far it is ahead of the real clock, in microseconds (zero: the real clock).
    ahead_microseconds: AtomicI64,
}

impl Clock {
    const fn new() -> Self {
        Self { ahead_microseconds: AtomicI64::new(0) }
    }

    fn now(&self) -> NaiveDateTime {
        let ahead = Duration::microseconds(self.ahead_microseconds.load(Ordering::Relaxed));
        (chrono::Utc::now().naive_utc() + ahead).trunc_subsecs(6)
    }

    fn move_forward_to(&self, at: NaiveDateTime) -> Result<NaiveDateTime, ClockError> {
        let current = self.now();
        if at < current {
            return Err(ClockError::Backwards { now: current, asked: at });
        }
        // One microsecond more than the difference: the reading is truncated to whole
        // microseconds and must not fall short of `at`.
        let ahead = (at - chrono::Utc::now().naive_utc()).num_microseconds().unwrap_or(i64::MAX).saturating_add(1);
        // Concurrent moves keep the furthest: the clock only goes forward.
        self.ahead_microseconds.fetch_max(ahead, Ordering::Relaxed);
        Ok(self.now())
    }
}

static LEDGER_CLOCK: Clock = Clock::new();

pub fn now() -> NaiveDateTime {
    LEDGER_CLOCK.now()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Journals, holds and business days are ordered in time: the clock never goes back.
    #[error("the clock reads {now} and never goes back (asked for {asked})")]
    Backwards { now: NaiveDateTime, asked: NaiveDateTime },
}

/// Moves the ledger's clock forward to `at`; returns the time it reads afterwards.
pub fn move_forward_to(at: NaiveDateTime) -> Result<NaiveDateTime, ClockError> {
    LEDGER_CLOCK.move_forward_to(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward_and_never_back() {
        let clock = Clock::new();
        let tomorrow = clock.now() + Duration::days(1);
        let moved = clock.move_forward_to(tomorrow).unwrap();
        assert!(moved >= tomorrow && moved - tomorrow < Duration::seconds(5), "{moved} vs {tomorrow}");
        assert!(matches!(clock.move_forward_to(tomorrow - Duration::hours(1)), Err(ClockError::Backwards { .. })));
        assert!(clock.now() >= tomorrow);
    }
}
