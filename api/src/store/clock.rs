//! The ledger's clock: UTC, to the microsecond (what both backends store exactly).
//!
//! A server started with `kks serve --test-clock` (never in production) runs on a manual
//! clock instead: it stands still until a test moves it forward. Stage openings, hold
//! releases and the business day's midnight (WIB) are then crossed in an instant, and
//! every answer that depends on the time can be predicted exactly (a clock that moved by
//! a microsecond at each reading put a reversal sent exactly 24 hours after its original
//! outside the window on the server and inside it in the model). Tokens and card expiry
//! keep the real clock.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, SubsecRound};

/// The real clock, or a manual one.
struct Clock {
    manual: AtomicBool,
    /// The manual clock's reading, in microseconds since 1970.
    manual_microseconds: AtomicI64,
}

impl Clock {
    const fn new() -> Self {
        Self { manual: AtomicBool::new(false), manual_microseconds: AtomicI64::new(0) }
    }

    fn now(&self) -> NaiveDateTime {
        if !self.manual.load(Ordering::Acquire) {
            return chrono::Utc::now().naive_utc().trunc_subsecs(6);
        }
        DateTime::from_timestamp_micros(self.manual_microseconds.load(Ordering::Acquire))
            .map(|moment| moment.naive_utc())
            .unwrap_or(NaiveDateTime::MAX)
    }

    /// From now on the clock moves only when told to, from the real time of this call.
    fn make_manual(&self) {
        let real = chrono::Utc::now().timestamp_micros();
        self.manual_microseconds.fetch_max(real, Ordering::AcqRel);
        self.manual.store(true, Ordering::Release);
    }

    fn move_forward_to(&self, at: NaiveDateTime) -> Result<NaiveDateTime, ClockError> {
        if !self.manual.load(Ordering::Acquire) {
            return Err(ClockError::NotManual);
        }
        let current = self.now();
        if at < current {
            return Err(ClockError::Backwards { now: current, asked: at });
        }
        // Concurrent moves keep the furthest: the clock only goes forward.
        self.manual_microseconds.fetch_max(at.and_utc().timestamp_micros(), Ordering::AcqRel);
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
    #[error("the real clock cannot be moved")]
    NotManual,
}

/// Runs the ledger on a manual clock from now on (`kks serve --test-clock`).
pub fn make_manual() {
    LEDGER_CLOCK.make_manual();
}

/// Moves the manual clock forward to `at`; returns the time it reads afterwards.
pub fn move_forward_to(at: NaiveDateTime) -> Result<NaiveDateTime, ClockError> {
    LEDGER_CLOCK.move_forward_to(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_manual_clock_stands_still_and_moves_only_forward() {
        let clock = Clock::new();
        assert_eq!(clock.move_forward_to(clock.now()), Err(ClockError::NotManual));
        clock.make_manual();
        let (first, second) = (clock.now(), clock.now());
        assert_eq!(first, second, "it stands still");
        let tomorrow = second + Duration::days(1);
        assert_eq!(clock.move_forward_to(tomorrow), Ok(tomorrow));
        assert!(matches!(clock.move_forward_to(tomorrow - Duration::hours(1)), Err(ClockError::Backwards { .. })));
        assert_eq!(clock.now(), tomorrow, "a refused move changes nothing");
    }
}
