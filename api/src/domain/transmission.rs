//! When a terminal sent its request (ISO 8583 field 7, transmission date and time): the
//! business day a card transaction belongs to, how far a terminal's clock may be from the
//! ledger's, and how long a transaction may still be reversed.
//!
//! A card transaction belongs to the business day on which the terminal sent it, not the
//! one on which the server received it: a withdrawal sent at 23:59:53 WIB and received
//! after midnight is still the day's, and its reversal (which names the original's STAN
//! and transmission time, as ISO 8583's field 90 does) finds it in that day's STAN slot.
//!
//! The moment itself ([`TransmittedAt`]) is `kks-wire`'s, as terminals send it; the limits
//! on it are the server's rules, here.

use chrono::{Duration, NaiveDateTime};
pub use kks_wire::transmission::{TransmittedAt, TransmittedAtError, TRANSMITTED_AT_PATTERN};

/// How far a terminal's transmission time may be from the ledger's clock, either way. It
/// covers a terminal's drifting clock and a slow network, and is far too short for a
/// request to claim a business day other than the one on which it was sent.
pub const TRANSMISSION_SKEW_MAX: Duration = Duration::minutes(10);

/// How long after its transmission a transaction may still be reversed. A terminal sends
/// its reversal at once, or with its next transaction; a day is generous for a terminal
/// that lost its line, and bounds how far back a reversal can reach into the agent's
/// settled days.
pub const REVERSAL_WINDOW: Duration = Duration::hours(24);

/// Why a request's transmission time is not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransmissionTimeError {
    #[error(
        "sent at {transmitted_at}, but the server's clock reads {now} UTC: more than {} minutes apart; set the terminal's clock",
        TRANSMISSION_SKEW_MAX.num_minutes()
    )]
    OutOfRange { transmitted_at: TransmittedAt, now: NaiveDateTime },
    #[error("the original was sent at {original}, more than {} hours ago: too late to reverse it", REVERSAL_WINDOW.num_hours())]
    ReversalWindowClosed { original: TransmittedAt },
}

/// A card transaction is acted on only when the terminal's clock agrees with the
/// ledger's within [`TRANSMISSION_SKEW_MAX`]: its transmission time names its business day.
pub fn check_transmission(transmitted_at: TransmittedAt, now: NaiveDateTime) -> Result<(), TransmissionTimeError> {
    if (transmitted_at.utc() - now).abs() > TRANSMISSION_SKEW_MAX {
        return Err(TransmissionTimeError::OutOfRange { transmitted_at, now });
    }
    Ok(())
}

/// A reversal names its original's transmission time: no later than a transaction could
/// have been sent (the skew bounds it), and no older than [`REVERSAL_WINDOW`].
pub fn check_reversal(original: TransmittedAt, now: NaiveDateTime) -> Result<(), TransmissionTimeError> {
    if original.utc() - now > TRANSMISSION_SKEW_MAX {
        return Err(TransmissionTimeError::OutOfRange { transmitted_at: original, now });
    }
    if now - original.utc() > REVERSAL_WINDOW {
        return Err(TransmissionTimeError::ReversalWindowClosed { original });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> TransmittedAt {
        TransmittedAt::parse(text).unwrap()
    }

    fn utc(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn a_terminal_clock_within_ten_minutes_of_the_ledger_either_way_is_accepted() {
        let now = utc("2026-12-04T17:00:05");
        for sent in ["2026-12-04T23:50:05+07:00", "2026-12-04T23:59:53+07:00", "2026-12-05T00:10:05+07:00"] {
            assert_eq!(check_transmission(at(sent), now), Ok(()), "{sent}");
        }
    }

    #[test]
    fn a_terminal_clock_more_than_ten_minutes_off_is_refused() {
        let now = utc("2026-12-04T17:00:05");
        for sent in ["2026-12-04T23:50:04+07:00", "2026-12-05T00:10:06+07:00", "2026-12-03T23:59:53+07:00"] {
            assert!(
                matches!(check_transmission(at(sent), now), Err(TransmissionTimeError::OutOfRange { .. })),
                "{sent}"
            );
        }
    }

    #[test]
    fn yesterdays_transaction_may_be_reversed_within_twenty_four_hours() {
        let now = utc("2026-12-04T17:00:05");
        assert_eq!(check_reversal(at("2026-12-04T23:59:53+07:00"), now), Ok(()));
        assert_eq!(check_reversal(at("2026-12-04T00:00:05+07:00"), now), Ok(()), "exactly a day old");
    }

    #[test]
    fn a_reversal_of_a_transaction_older_than_a_day_is_refused() {
        let now = utc("2026-12-04T17:00:05");
        let refused = check_reversal(at("2026-12-04T00:00:04+07:00"), now);
        assert!(matches!(refused, Err(TransmissionTimeError::ReversalWindowClosed { .. })), "{refused:?}");
    }

    #[test]
    fn a_reversal_naming_an_original_sent_in_the_future_is_refused() {
        let now = utc("2026-12-04T17:00:05");
        assert_eq!(check_reversal(at("2026-12-05T00:10:05+07:00"), now), Ok(()), "within the skew");
        let refused = check_reversal(at("2026-12-05T00:10:06+07:00"), now);
        assert!(matches!(refused, Err(TransmissionTimeError::OutOfRange { .. })), "{refused:?}");
    }
}
