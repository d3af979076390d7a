//! When a terminal sent its request (ISO 8583 field 7, transmission date and time), as it
//! writes it: the moment names the business day a card transaction belongs to. How far a
//! terminal's clock may be off, and how long a transaction may be reversed, are the
//! server's rules.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound};
use serde::{Serialize, Serializer};

use crate::edc::{business_date, WIB};

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
            .examples(["2026-12-04T23:59:53+07:00"])
            .into()
    }
}

impl utoipa::ToSchema for TransmittedAt {}

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
}
