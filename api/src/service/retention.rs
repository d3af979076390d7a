//! How long the answers kept for retries stay. Every card transaction stores its answer
//! under its idempotency key (an approval's is its reference; until issue 22 it was the
//! whole receipt, about 690 bytes), so that a retry gets the first answer; kept for good,
//! they filled the disk under sustained load. After a retention they are deleted. Nothing
//! else goes: the journal, the EDC record (the bank's transaction log, from which the slip
//! is drawn) and the STAN's slot stay, so a reversal still finds its original, a STAN
//! stays unique per terminal and business day, and the audit trail is whole.

use chrono::Duration;

use super::ServiceError;
use crate::ledger::idempotency::{self, PURGE_BATCH_ROWS};
use crate::store::{now, Store};

/// How long an answer is kept by default, in hours (`--idempotency-retention-hours`): the
/// shortest that is safe. A retry that could still be acted on finds its answer, and the
/// answers held, bounded by traffic × retention, are a third of three days' (issue 22 asks
/// 24 h; the reversal window and the clock skew make it 25).
pub const IDEMPOTENCY_RETENTION_HOURS_DEFAULT: u32 = IDEMPOTENCY_RETENTION_HOURS_MIN;

/// The shortest retention accepted, in hours. Until a request's transmission time is
/// [`crate::domain::transmission::REVERSAL_WINDOW`] and
/// [`crate::domain::transmission::TRANSMISSION_SKEW_MAX`] old, a retry of it could still be
/// acted on (a reversal); it must get its first answer, so the answer is kept until then.
/// Later, a retry whose answer is gone is refused before it does anything
/// (`TRANSMISSION_TIME_OUT_OF_RANGE`, `REVERSAL_WINDOW_CLOSED`).
pub const IDEMPOTENCY_RETENTION_HOURS_MIN: u32 = 25;

/// The most batches one pass deletes: a backlog (a first start after an upgrade) is
/// worked off over several passes rather than in one long run.
pub const PURGE_BATCHES_PER_PASS_MAX: usize = 100;

/// How long answers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(Duration);

impl Retention {
    /// A retention of `hours`, at least [`IDEMPOTENCY_RETENTION_HOURS_MIN`].
    pub fn hours(hours: u32) -> Result<Self, ServiceError> {
        if hours < IDEMPOTENCY_RETENTION_HOURS_MIN {
            return Err(ServiceError::Invalid(format!(
                "the idempotency retention is at least {IDEMPOTENCY_RETENTION_HOURS_MIN} hours (the reversal window and the clock skew)"
            )));
        }
        Ok(Self(Duration::hours(i64::from(hours))))
    }
}

/// Deletes the answers older than `retention` by the ledger's clock, in batches of
/// [`PURGE_BATCH_ROWS`], each in a transaction of its own; says how many went.
pub fn purge_expired_answers(store: &Store, retention: Retention) -> Result<usize, ServiceError> {
    let cutoff = now() - retention.0;
    let mut purged = 0;
    for _ in 0..PURGE_BATCHES_PER_PASS_MAX {
        let deleted = idempotency::purge_older_than(store, cutoff)?;
        purged += deleted;
        if deleted < PURGE_BATCH_ROWS {
            break;
        }
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::transmission::{REVERSAL_WINDOW, TRANSMISSION_SKEW_MAX};

    #[test]
    fn the_shortest_retention_outlasts_every_retry_that_could_still_be_acted_on() {
        let shortest = Duration::hours(i64::from(IDEMPOTENCY_RETENTION_HOURS_MIN));
        assert!(shortest >= REVERSAL_WINDOW + TRANSMISSION_SKEW_MAX);
    }

    #[test]
    fn a_retention_shorter_than_the_reversal_window_is_refused() {
        assert!(Retention::hours(24).is_err());
        assert_eq!(Retention::hours(25).unwrap(), Retention(Duration::hours(25)));
    }
}
