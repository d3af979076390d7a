//! Card numbers: the issuing bank (by its IIN prefix) and the 16-digit number with its
//! Luhn check digit.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Digits in a card number: 6 IIN + 9 serial + 1 check digit.
pub const CARD_NUMBER_DIGITS: usize = 16;

/// Digits in an issuer identification number (the bank prefix).
pub const IIN_DIGITS: usize = 6;

/// The largest serial that fits in the 9 digits between IIN and check digit.
pub const CARD_SERIAL_MAX: u64 = 999_999_999;

/// Longest text [`CardNumber::parse`] looks at: 16 digits and 15 single separators.
/// Anything longer is refused before any other work.
const CARD_NUMBER_TEXT_LENGTH_MAX: usize = CARD_NUMBER_DIGITS * 2 - 1;

/// The four state banks (Himbara) that issue the KKS combo card.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
    strum::AsRefStr,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Bank {
    Bri,
    Bni,
    Mandiri,
    Btn,
}

impl Bank {
    /// The name printed on cards and slips.
    pub fn display_name(self) -> &'static str {
        match self {
            Bank::Bri => "BRI",
            Bank::Bni => "BNI",
            Bank::Mandiri => "Bank Mandiri",
            Bank::Btn => "BTN",
        }
    }

    /// The issuer identification number that starts every card this bank issues.
    ///
    /// These four IINs are illustrative, chosen for this system only: they are not the
    /// banks' real BIN ranges, so a simulated card can never be mistaken for a real one.
    pub fn iin(self) -> &'static str {
        match self {
            Bank::Bri => "522184",
            Bank::Bni => "522185",
            Bank::Mandiri => "603186",
            Bank::Btn => "603187",
        }
    }

    /// The bank whose IIN this is, if any of the four.
    pub fn from_iin(iin: &str) -> Option<Bank> {
        <Bank as strum::VariantArray>::VARIANTS.iter().copied().find(|bank| bank.iin() == iin)
    }
}

/// Why a text is not a KKS card number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardNumberError {
    #[error("card number must have exactly {CARD_NUMBER_DIGITS} digits")]
    WrongLength,
    #[error("card number may contain only digits, grouped by single spaces or dashes")]
    NotDigits,
    #[error("card number check digit is wrong (Luhn)")]
    BadCheckDigit,
    #[error("card number prefix is not the IIN of BRI, BNI, Bank Mandiri or BTN")]
    UnknownBank,
    #[error("card serial exceeds {CARD_SERIAL_MAX}")]
    SerialTooLarge,
}

/// A KKS card number: 16 digits, a known bank's IIN and a correct Luhn check digit.
///
/// Not a secret in this system (the PIN and the signed QR protect the card), so
/// `Display` shows it whole; [`CardNumber::masked`] is for printed faces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardNumber {
    digits: String,
    bank: Bank,
}

impl CardNumber {
    /// Accepts 16 digits, optionally grouped by single spaces or dashes
    /// (`5221 8400 0000 0019`, `5221-8400-0000-0019`).
    pub fn parse(text: &str) -> Result<Self, CardNumberError> {
        if text.len() > CARD_NUMBER_TEXT_LENGTH_MAX {
            return Err(CardNumberError::WrongLength);
        }
        let digits = strip_single_separators(text)?;
        if digits.len() != CARD_NUMBER_DIGITS {
            return Err(CardNumberError::WrongLength);
        }
        if luhn_sum(&digits) % 10 != 0 {
            return Err(CardNumberError::BadCheckDigit);
        }
        let bank = digits.get(..IIN_DIGITS).and_then(Bank::from_iin).ok_or(CardNumberError::UnknownBank)?;
        Ok(Self { digits, bank })
    }

    /// Builds the number for a newly issued card: the bank's IIN, the serial as 9
    /// zero-padded digits, and the Luhn check digit.
    pub fn issue(bank: Bank, serial: u64) -> Result<Self, CardNumberError> {
        if serial > CARD_SERIAL_MAX {
            return Err(CardNumberError::SerialTooLarge);
        }
        let mut digits = format!("{}{serial:09}", bank.iin());
        // The check digit makes the Luhn sum of all 16 digits a multiple of ten; appending
        // a zero first puts the remaining digits in their final doubling positions.
        let check_digit = (10 - luhn_sum(&format!("{digits}0")) % 10) % 10;
        digits.push_str(&check_digit.to_string());
        Self::parse(&digits)
    }

    pub fn bank(&self) -> Bank {
        self.bank
    }

    /// The 16 digits, without separators.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The number as a u64, for compact binary encodings (16 digits always fit).
    pub fn to_u64(&self) -> u64 {
        self.digits.bytes().fold(0, |number, digit| number * 10 + u64::from(digit - b'0'))
    }

    /// The number for a printed face: IIN and last four visible, grouped by four,
    /// e.g. `5221 84** **** 0019`.
    pub fn masked(&self) -> String {
        let last_four_start = CARD_NUMBER_DIGITS - 4;
        let mut masked = String::with_capacity(CARD_NUMBER_DIGITS + 3);
        for (position, digit) in self.digits.chars().enumerate() {
            if position > 0 && position % 4 == 0 {
                masked.push(' ');
            }
            let visible = position < IIN_DIGITS || position >= last_four_start;
            masked.push(if visible { digit } else { '*' });
        }
        masked
    }
}

/// Removes single spaces or dashes that sit between two digits; anything else that is
/// not a digit makes the text not a card number.
fn strip_single_separators(text: &str) -> Result<String, CardNumberError> {
    let mut digits = String::with_capacity(CARD_NUMBER_DIGITS);
    let mut previous_was_digit = false;
    for character in text.chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            previous_was_digit = true;
        } else if (character == ' ' || character == '-') && previous_was_digit {
            previous_was_digit = false;
        } else {
            return Err(CardNumberError::NotDigits);
        }
    }
    if !previous_was_digit {
        // Empty text, or a trailing separator.
        return if digits.is_empty() { Err(CardNumberError::WrongLength) } else { Err(CardNumberError::NotDigits) };
    }
    Ok(digits)
}

/// The Luhn sum of a string of ASCII digits: every second digit from the right doubled
/// (minus 9 when above 9). A number is valid when its sum is a multiple of ten.
fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position_from_right, digit)| {
            let value = u32::from(digit - b'0');
            if position_from_right % 2 == 1 {
                let doubled = value * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                value
            }
        })
        .sum()
}

impl fmt::Display for CardNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.digits)
    }
}

impl std::str::FromStr for CardNumber {
    type Err = CardNumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for CardNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.digits)
    }
}

impl<'de> Deserialize<'de> for CardNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for CardNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{16}$"))
            .description(Some("KKS card number: bank IIN, 9-digit serial, Luhn check digit"))
            .examples(["5221840000000019"])
            .into()
    }
}

impl utoipa::ToSchema for CardNumber {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_sum_matches_known_vectors() {
        assert_eq!(luhn_sum("79927398713") % 10, 0);
        assert_eq!(luhn_sum("4111111111111111") % 10, 0);
        assert_eq!(luhn_sum("5500000000000004") % 10, 0);
        assert_ne!(luhn_sum("79927398710") % 10, 0);
        assert_ne!(luhn_sum("4111111111111112") % 10, 0);
    }

    #[test]
    fn parses_plain_and_grouped_numbers() {
        let plain = CardNumber::parse("5221840000000019").unwrap();
        assert_eq!(plain.as_str(), "5221840000000019");
        assert_eq!(plain.bank(), Bank::Bri);
        assert_eq!(CardNumber::parse("5221 8400 0000 0019").unwrap(), plain);
        assert_eq!(CardNumber::parse("5221-8400-0000-0019").unwrap(), plain);
        assert_eq!(plain.to_string(), "5221840000000019");
        assert_eq!(plain.to_u64(), 5_221_840_000_000_019);
    }

    #[test]
    fn refuses_wrong_lengths() {
        assert_eq!(CardNumber::parse(""), Err(CardNumberError::WrongLength));
        assert_eq!(CardNumber::parse("522184000000001"), Err(CardNumberError::WrongLength));
        assert_eq!(CardNumber::parse("52218400000000190"), Err(CardNumberError::WrongLength));
        assert_eq!(CardNumber::parse(&"5".repeat(200)), Err(CardNumberError::WrongLength));
    }

    #[test]
    fn refuses_non_digits_and_bad_grouping() {
        assert_eq!(CardNumber::parse("5221x40000000017"), Err(CardNumberError::NotDigits));
        assert_eq!(CardNumber::parse("5221  8400 0000 0019"), Err(CardNumberError::NotDigits));
        assert_eq!(CardNumber::parse(" 5221840000000019"), Err(CardNumberError::NotDigits));
        assert_eq!(CardNumber::parse("5221840000000019-"), Err(CardNumberError::NotDigits));
        assert_eq!(CardNumber::parse("５２２１840000000017"), Err(CardNumberError::NotDigits));
    }

    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(CardNumber::parse("5221840000000017"), Err(CardNumberError::BadCheckDigit));
    }

    #[test]
    fn refuses_a_valid_luhn_number_from_an_unknown_bank() {
        assert_eq!(CardNumber::parse("4111111111111111"), Err(CardNumberError::UnknownBank));
    }

    #[test]
    fn issued_numbers_parse_back_for_every_bank() {
        for &bank in <Bank as strum::VariantArray>::VARIANTS {
            for serial in [0, 1, 42, 123_456_789, CARD_SERIAL_MAX] {
                let number = CardNumber::issue(bank, serial).unwrap();
                assert!(number.as_str().starts_with(bank.iin()));
                assert_eq!(number.as_str().get(6..15).unwrap(), format!("{serial:09}"));
                assert_eq!(CardNumber::parse(number.as_str()).unwrap(), number);
                assert_eq!(number.bank(), bank);
            }
        }
        assert_eq!(CardNumber::issue(Bank::Bri, 1).unwrap().as_str(), "5221840000000019");
    }

    #[test]
    fn issuing_refuses_a_serial_beyond_nine_digits() {
        assert_eq!(CardNumber::issue(Bank::Btn, CARD_SERIAL_MAX + 1), Err(CardNumberError::SerialTooLarge));
    }

    #[test]
    fn masked_shows_iin_and_last_four_only() {
        let number = CardNumber::parse("5221840000000019").unwrap();
        assert_eq!(number.masked(), "5221 84** **** 0019");
    }

    #[test]
    fn banks_have_distinct_iins_and_snake_case_names() {
        for &bank in <Bank as strum::VariantArray>::VARIANTS {
            assert_eq!(Bank::from_iin(bank.iin()), Some(bank));
            assert_eq!(bank.iin().len(), IIN_DIGITS);
        }
        assert_eq!(Bank::from_iin("000000"), None);
        assert_eq!(serde_json::to_string(&Bank::Mandiri).unwrap(), "\"mandiri\"");
        assert_eq!("btn".parse::<Bank>().unwrap(), Bank::Btn);
        assert_eq!(Bank::Mandiri.display_name(), "Bank Mandiri");
    }

    #[test]
    fn serde_uses_the_plain_digits_and_parses_on_the_way_in() {
        let number = CardNumber::parse("5221840000000019").unwrap();
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"5221840000000019\"");
        let back: CardNumber = serde_json::from_str("\"5221840000000019\"").unwrap();
        assert_eq!(back, number);
        assert!(serde_json::from_str::<CardNumber>("\"5221840000000017\"").is_err());
    }
}
