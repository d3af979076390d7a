//! The ledger's clock: UTC, to the microsecond (what both backends store exactly).
//!
//! A server started with `kks serve --test-clock` (never in production) lets a test move
//! this clock forward, so that stage openings, hold releases and the business day's
//! midnight (WIB) can be crossed in seconds. Tokens and card expiry keep the real clock.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime, SubsecRound};

/// How far the test clock is ahead of the real one, in microseconds (zero: the real clock).
static AHEAD_MICROSECONDS: AtomicI64 = AtomicI64::new(0);

pub fn now() -> NaiveDateTime {
    let ahead = Duration::microseconds(AHEAD_MICROSECONDS.load(Ordering::Relaxed));
    (chrono::Utc::now().naive_utc() + ahead).trunc_subsecs(6)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Journals, holds and business days are ordered in time: the clock never goes back.
    #[error("the clock reads {now} and never goes back (asked for {asked})")]
    Backwards { now: NaiveDateTime, asked: NaiveDateTime },
}

/// Moves the clock forward to `at`; returns the time it reads afterwards.
pub fn move_forward_to(at: NaiveDateTime) -> Result<NaiveDateTime, ClockError> {
    let current = now();
    if at < current {
        return Err(ClockError::Backwards { now: current, asked: at });
    }
    let real = chrono::Utc::now().naive_utc();
    let ahead = (at - real).num_microseconds().unwrap_or(i64::MAX);
    // Concurrent moves keep the furthest: the clock only goes forward.
    AHEAD_MICROSECONDS.fetch_max(ahead, Ordering::Relaxed);
    Ok(now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward_and_never_back() {
        let tomorrow = now() + Duration::days(1);
        let moved = move_forward_to(tomorrow).unwrap();
        assert!(moved >= tomorrow && moved - tomorrow < Duration::seconds(5), "{moved} vs {tomorrow}");
        assert!(matches!(move_forward_to(tomorrow - Duration::hours(1)), Err(ClockError::Backwards { .. })));
        assert!(now() >= tomorrow);
    }
}
