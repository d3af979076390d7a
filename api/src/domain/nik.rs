//! NIK (Nomor Induk Kependudukan): the 16-digit Indonesian national identity number.
//!
//! Layout: 2 province + 2 regency + 2 district + DDMMYY date of birth (women add 40 to
//! the day) + 4 serial.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Digits in a NIK.
pub const NIK_DIGITS: usize = 16;

/// Added to the day of birth in a woman's NIK.
const FEMALE_DAY_OFFSET: u32 = 40;

/// Province codes a NIK may start with.
///
/// The 38 provinces in the Ministry of Home Affairs (Kemendagri) coding. The Papua
/// provinces carry two codings in practice: Kemendagri numbers the six of them 91–96,
/// while the statistics bureau (BPS) uses 91, 92 and 94–97. Both codings occur in data
/// that families and regional offices bring, so all of 91–97 are accepted: refusing a
/// real family's identity number would be worse than accepting one unused code.
const PROVINCE_CODES: [u8; 39] = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, // Sumatra
    21, // Kepulauan Riau
    31, 32, 33, 34, 35, 36, // Java
    51, 52, 53, // Bali and Nusa Tenggara
    61, 62, 63, 64, 65, // Kalimantan
    71, 72, 73, 74, 75, 76, // Sulawesi
    81, 82, // Maluku
    91, 92, 93, 94, 95, 96, 97, // Papua
];

/// Why a text is not a NIK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("NIK must have exactly {NIK_DIGITS} digits")]
    WrongLength,
    #[error("NIK may contain only digits")]
    NotDigits,
    #[error("NIK does not start with a known province code")]
    UnknownProvince,
    #[error("NIK does not contain a possible date of birth")]
    ImpossibleBirthDate,
    #[error("NIK serial must not be 0000")]
    ZeroSerial,
}

/// A structurally valid NIK. Whether it belongs to a real person is for the population
/// registry (Dukcapil) to say; this type only guarantees the shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nik(String);

impl Nik {
    pub fn parse(text: &str) -> Result<Self, NikError> {
        if text.len() != NIK_DIGITS {
            // Byte length: a non-ASCII text of 16 characters is also refused here, which
            // is right, since it cannot be 16 ASCII digits.
            return if text.chars().all(|character| character.is_ascii_digit()) {
                Err(NikError::WrongLength)
            } else {
                Err(NikError::NotDigits)
            };
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(NikError::NotDigits);
        }
        let number_at = |start: usize| two_digits(text, start);
        if !PROVINCE_CODES.iter().any(|&code| u32::from(code) == number_at(0)) {
            return Err(NikError::UnknownProvince);
        }
        let day_coded = number_at(6);
        let month = number_at(8);
        let day = if day_coded > FEMALE_DAY_OFFSET { day_coded - FEMALE_DAY_OFFSET } else { day_coded };
        if !(1..=31).contains(&day) || !(1..=12).contains(&month) || day > days_in_month_max(month) {
            return Err(NikError::ImpossibleBirthDate);
        }
        if text.get(12..) == Some("0000") {
            return Err(NikError::ZeroSerial);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit province code the NIK was issued under.
    pub fn province_code(&self) -> u8 {
        // Always two ASCII digits, so at most 99.
        u8::try_from(two_digits(&self.0, 0)).unwrap_or(u8::MAX)
    }

    /// Whether the holder is registered as a woman (day of birth coded with +40).
    pub fn is_female(&self) -> bool {
        two_digits(&self.0, 6) > FEMALE_DAY_OFFSET
    }
}

/// The two-digit number at `start`; zero for positions outside the text, which the
/// callers never ask for.
fn two_digits(text: &str, start: usize) -> u32 {
    text.get(start..start + 2)
        .map(|pair| pair.bytes().fold(0, |number, digit| number * 10 + u32::from(digit.wrapping_sub(b'0'))))
        .unwrap_or(0)
}

/// The longest a month can be in any year. The NIK carries only two year digits, so
/// the century (and thus the leap year) is unknown: 29 February is always possible.
fn days_in_month_max(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::str::FromStr for Nik {
    type Err = NikError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Nik {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Nik {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Nik {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{16}$"))
            .description(Some(
                "NIK, the national identity number: province, regency, district, date of birth \
                 (day + 40 for women), serial",
            ))
            .examples([serde_json::json!("3174055708850001")])
            .into()
    }
}

impl utoipa::ToSchema for Nik {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_man_and_a_woman() {
        let man = Nik::parse("3174051708850001").unwrap();
        assert_eq!(man.as_str(), "3174051708850001");
        assert_eq!(man.province_code(), 31);
        assert!(!man.is_female());
        let woman = Nik::parse("3174055708850001").unwrap();
        assert!(woman.is_female());
        assert_eq!(woman.to_string(), "3174055708850001");
    }

    #[test]
    fn accepts_every_listed_province_including_the_new_papua_ones() {
        for code in PROVINCE_CODES {
            assert!(Nik::parse(&format!("{code}01011708850001")).is_ok(), "province {code}");
        }
    }

    #[test]
    fn refuses_wrong_lengths() {
        assert_eq!(Nik::parse(""), Err(NikError::WrongLength));
        assert_eq!(Nik::parse("317405170885001"), Err(NikError::WrongLength));
        assert_eq!(Nik::parse("31740517088500011"), Err(NikError::WrongLength));
    }

    #[test]
    fn refuses_non_digits() {
        assert_eq!(Nik::parse("3174 51708850001"), Err(NikError::NotDigits));
        assert_eq!(Nik::parse("317405170885000a"), Err(NikError::NotDigits));
        assert_eq!(Nik::parse("3174-0517-0885-0001"), Err(NikError::NotDigits));
        assert_eq!(Nik::parse("３174051708850001"), Err(NikError::NotDigits));
    }

    #[test]
    fn refuses_unknown_provinces() {
        for code in ["00", "10", "20", "22", "30", "37", "50", "54", "60", "66", "70", "77", "83", "90", "98"] {
            assert_eq!(Nik::parse(&format!("{code}74051708850001")), Err(NikError::UnknownProvince), "{code}");
        }
    }

    #[test]
    fn refuses_impossible_birth_dates() {
        for date in ["000185", "320185", "400185", "720185", "011385", "010085", "310485", "300285", "700285"] {
            assert_eq!(Nik::parse(&format!("317405{date}0001")), Err(NikError::ImpossibleBirthDate), "{date}");
        }
    }

    #[test]
    fn accepts_the_29th_of_february_for_men_and_women() {
        assert!(Nik::parse("3174052902010001").is_ok());
        assert!(Nik::parse("3174056902010001").is_ok());
        assert!(Nik::parse("3174057112990001").is_ok());
    }

    #[test]
    fn refuses_a_zero_serial() {
        assert_eq!(Nik::parse("3174051708850000"), Err(NikError::ZeroSerial));
    }

    #[test]
    fn serde_uses_the_digits_and_parses_on_the_way_in() {
        let nik = Nik::parse("3174051708850001").unwrap();
        assert_eq!(serde_json::to_string(&nik).unwrap(), "\"3174051708850001\"");
        assert_eq!(serde_json::from_str::<Nik>("\"3174051708850001\"").unwrap(), nik);
        assert!(serde_json::from_str::<Nik>("\"3174051708850000\"").is_err());
    }
}
