//! Money: exact decimal rupiah at the edges, integer minor units (sen) inside.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Minor units per rupiah: amounts are stored in sen.
pub const MINOR_UNITS_PER_RUPIAH: i64 = 100;

/// Decimal places a rupiah amount may carry (sen).
pub const AMOUNT_SCALE_MAX: u32 = 2;

/// The largest single amount accepted anywhere: Rp 1 trillion. Far above any programme
/// figure (a whole national stage is in the trillions only when summed over families, and
/// sums are never parsed from input), yet small enough that sums of millions of postings
/// cannot overflow an i64 of sen.
pub const AMOUNT_RUPIAH_MAX: i64 = 1_000_000_000_000;

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount is not a decimal number")]
    NotANumber,
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount has more than {AMOUNT_SCALE_MAX} decimal places (sen)")]
    TooPrecise,
    #[error("amount exceeds the maximum of Rp {AMOUNT_RUPIAH_MAX}")]
    TooLarge,
}

/// A positive amount of rupiah, exact to the sen.
///
/// Built only through [`Amount::parse`], [`Amount::from_decimal`] or
/// [`Amount::from_minor`], so an `Amount` in hand is always positive, at most
/// two decimal places and within [`AMOUNT_RUPIAH_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount {
    minor: i64,
}

impl Amount {
    pub fn from_decimal(value: Decimal) -> Result<Self, AmountError> {
        if value <= Decimal::ZERO {
            return Err(AmountError::NotPositive);
        }
        if value.normalize().scale() > AMOUNT_SCALE_MAX {
            return Err(AmountError::TooPrecise);
        }
        if value > Decimal::from(AMOUNT_RUPIAH_MAX) {
            return Err(AmountError::TooLarge);
        }
        let minor = value * Decimal::from(MINOR_UNITS_PER_RUPIAH);
        // Exact: the scale check above guarantees an integral number of sen.
        let minor = i64::try_from(minor.trunc()).map_err(|_| AmountError::TooLarge)?;
        Ok(Self { minor })
    }

    /// Parses a plain decimal string: digits, optionally a point and more digits, with a
    /// leading minus read only to refuse it. No exponents, no separators, no spaces inside.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let text = text.trim();
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
        let is_digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
        if !is_digits(whole) || !is_digits(fraction) {
            return Err(AmountError::NotANumber);
        }
        // Too many digits for a Decimal is too large an amount, not a malformed one.
        let value = Decimal::from_str(text).map_err(|_| AmountError::TooLarge)?;
        Self::from_decimal(value)
    }

    /// An amount from sen, for values read back from the ledger.
    pub fn from_minor(minor: i64) -> Result<Self, AmountError> {
        if minor <= 0 {
            return Err(AmountError::NotPositive);
        }
        if minor > AMOUNT_RUPIAH_MAX * MINOR_UNITS_PER_RUPIAH {
            return Err(AmountError::TooLarge);
        }
        Ok(Self { minor })
    }

    /// Whole rupiah, for figures that are whole by definition (benefit schedules).
    pub fn from_rupiah(rupiah: i64) -> Result<Self, AmountError> {
        Self::from_minor(rupiah.checked_mul(MINOR_UNITS_PER_RUPIAH).ok_or(AmountError::TooLarge)?)
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn to_decimal(self) -> Decimal {
        rupiah_from_minor(self.minor)
    }
}

/// A signed ledger figure (a balance, a held total) from sen to rupiah.
pub fn rupiah_from_minor(minor: i64) -> Decimal {
    Decimal::new(minor, AMOUNT_SCALE_MAX)
}

impl fmt::Display for Amount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.to_decimal())
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

// On the wire an amount is a decimal string ("500000" or "500000.00"), never a float.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.to_decimal())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{1,13}(\.[0-9]{1,2})?$"))
            .description(Some("Rupiah as a decimal string, at most two decimal places (sen)"))
            .examples(["500000"])
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_sen_amounts_exactly() {
        assert_eq!(Amount::parse("500000").map(Amount::minor), Ok(50_000_000));
        assert_eq!(Amount::parse("500000.00").map(Amount::minor), Ok(50_000_000));
        assert_eq!(Amount::parse("40500.5").map(Amount::minor), Ok(4_050_050));
        assert_eq!(Amount::parse("0.01").map(Amount::minor), Ok(1));
    }

    #[test]
    fn refuses_zero_negative_overprecise_huge_and_garbage() {
        assert_eq!(Amount::parse("0"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse("-1"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse("1.001"), Err(AmountError::TooPrecise));
        assert_eq!(Amount::parse("1000000000000.01"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse("1e9"), Err(AmountError::NotANumber));
        assert_eq!(Amount::parse("abc"), Err(AmountError::NotANumber));
        assert_eq!(Amount::parse("1,000"), Err(AmountError::NotANumber));
        assert_eq!(Amount::parse("1."), Err(AmountError::NotANumber));
        assert_eq!(Amount::parse("+1"), Err(AmountError::NotANumber));
        assert_eq!(Amount::parse("99999999999999999999999999999999999"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse(""), Err(AmountError::NotANumber));
    }

    #[test]
    fn trailing_zeros_beyond_sen_are_not_extra_precision() {
        assert_eq!(Amount::parse("12.3400").map(Amount::minor), Ok(1234));
    }

    #[test]
    fn serialises_as_a_decimal_string_and_round_trips() {
        let amount = Amount::parse("390000").unwrap_or_else(|error| panic!("{error}"));
        let json = serde_json::to_string(&amount).unwrap_or_default();
        assert_eq!(json, "\"390000.00\"");
        let back: Amount = serde_json::from_str(&json).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(back, amount);
        assert!(serde_json::from_str::<Amount>("390000").is_err(), "a JSON number is not accepted");
    }
}
