//! When a terminal sent its request (ISO 8583 field 7, transmission date and time): the
//! business day a card transaction belongs to, how far a terminal's clock may be from the
//! ledger's, and how long a transaction may still be reversed.
//!
//! A card transaction belongs to the business day on which the terminal sent it, not the
//! one on which the server received it: a withdrawal sent at 23:59:53 WIB and received
//! after midnight is still the day's, and its reversal (which names the original's STAN
//! and transmission time, as ISO 8583's field 90 does) finds it in that day's STAN slot.

use std::fmt;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound};
use serde::{Serialize, Serializer};

use super::edc::{business_date, WIB};

/// How far a terminal's transmission time may be from the ledger's clock, either way. It
/// covers a terminal's drifting clock and a slow network, and is far too short for a
/// request to claim a business day other than the one on which it was sent.
pub const TRANSMISSION_SKEW_MAX: Duration = Duration::minutes(10);

/// How long after its transmission a transaction may still be reversed. A terminal sends
/// its reversal at once, or with its next transaction; a day is generous for a terminal
/// that lost its line, and bounds how far back a reversal can reach into the agent's
/// settled days.
pub const REVERSAL_WINDOW: Duration = Duration::hours(24);

/// The moment a terminal sent a request, as it wrote it: RFC 3339 with an offset
/// (`2026-12-04T23:59:53+07:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransmittedAt(DateTime<FixedOffset>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a transmission time is RFC 3339 with an offset, e.g. 2026-12-04T23:59:53+07:00")]
pub struct TransmittedAtError;

/// The shape of an RFC 3339 date-time with its offset, as the OpenAPI document gives it
/// (`T` may also be `t` or a space, `Z` also `z`, as RFC 3339 allows).
pub const TRANSMITTED_AT_PATTERN: &str =
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

impl TransmittedAt {
    pub fn parse(text: &str) -> Result<Self, TransmittedAtError> {
        // RFC 3339 is ASCII; chrono would also read a Unicode minus sign in the offset.
        if !text.is_ascii() {
            return Err(TransmittedAtError);
        }
        DateTime::parse_from_rfc3339(text).map(Self).map_err(|_| TransmittedAtError)
    }

    /// The moment `at_utc`, written in WIB to the second as an Indonesian terminal sends it
    /// (ISO 8583's field 7 has no fractions of a second).
    pub fn in_wib(at_utc: NaiveDateTime) -> Self {
        Self(at_utc.trunc_subsecs(0).and_utc().with_timezone(&WIB))
    }

    /// The same moment in UTC, as the ledger's clock reads.
    pub fn utc(self) -> NaiveDateTime {
        self.0.naive_utc()
    }

    /// The business day (WIB) the request belongs to.
    pub fn business_date(self) -> NaiveDate {
        business_date(self.utc())
    }
}

impl fmt::Display for TransmittedAt {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }
}

/// Written as the terminal sends it (RFC 3339 text).
impl Serialize for TransmittedAt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl utoipa::PartialSchema for TransmittedAt {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(TRANSMITTED_AT_PATTERN))
            .description(Some(
                "When a terminal sent a request (ISO 8583 field 7): RFC 3339 with an offset. Its date in WIB (UTC+7) \
                 is the transaction's business day.",
            ))
            .examples([serde_json::json!("2026-12-04T23:59:53+07:00")])
            .into()
    }
}

impl utoipa::ToSchema for TransmittedAt {}

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
    fn a_transmission_time_is_rfc_3339_with_an_offset() {
        assert_eq!(at("2026-12-04T23:59:53+07:00").utc(), utc("2026-12-04T16:59:53"));
        assert_eq!(at("2026-12-04T16:59:53Z").utc(), utc("2026-12-04T16:59:53"));
        assert_eq!(at("2026-12-04T23:59:53.250+07:00").to_string(), "2026-12-04T23:59:53.250+07:00");
        let unicode_minus = "2026-12-04T16:59:53\u{2212}07:00";
        for bad in [
            "2026-12-04T23:59:53",
            "2026-12-04",
            "23:59:53+07:00",
            "yesterday",
            "",
            "2026-13-04T00:00:00Z",
            unicode_minus,
        ] {
            assert_eq!(TransmittedAt::parse(bad), Err(TransmittedAtError), "{bad}");
        }
    }

    #[test]
    fn a_request_sent_a_second_before_midnight_in_jakarta_belongs_to_that_day() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(at("2026-12-04T23:59:59+07:00").business_date(), day);
        assert_eq!(at("2026-12-04T16:59:59Z").business_date(), day, "the same moment written in UTC");
        assert_eq!(at("2026-12-05T00:00:00+07:00").business_date(), day.succ_opt().unwrap());
    }

    #[test]
    fn a_terminal_writes_the_moment_in_wib_to_the_second() {
        let written = TransmittedAt::in_wib(utc("2026-12-04T16:59:53.987654"));
        assert_eq!(written.to_string(), "2026-12-04T23:59:53+07:00");
        assert_eq!(TransmittedAt::parse(&written.to_string()), Ok(written));
        assert_eq!(serde_json::to_value(written).unwrap(), serde_json::json!("2026-12-04T23:59:53+07:00"));
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
