//! Who may do what: roles, region scopes, and the secrets people type (passwords, PINs).

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

text_enum! {
    /// An operator's role: who prepares, who approves, who administers.
    pub enum OperatorRole {
        /// Registers families, issues cards, records verification, prepares batches.
        Operator,
        /// Approves what an operator prepared (maker–checker), resets locked PINs.
        Supervisor,
        /// Manages users; can do what a supervisor does.
        Admin,
    }
}

impl OperatorRole {
    /// Supervisors and admins approve and unlock; operators only prepare.
    pub fn may_approve(self) -> bool {
        matches!(self, Self::Supervisor | Self::Admin)
    }
}

text_enum! {
    /// What kind of agent: a bank agent (cash in, cash out) or an e-Warong (sells goods).
    pub enum AgentKind {
        BankAgent,
        EWarong,
    }
}

/// Why a region code is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a region code is 2 digits, then .2 digits (regency), .2 digits (district) and .4 digits (village), e.g. 32.04.12.2001")]
pub struct RegionCodeError;

text_enum! {
    /// The level of a region in the official hierarchy.
    pub enum RegionLevel {
        Province,
        Regency,
        District,
        Village,
    }
}

/// A Kemendagri region code: `32` (province), `32.04` (regency or city), `32.04.12`
/// (district), `32.04.12.2001` (village). A code's prefix is its ancestry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(text: &str) -> Result<Self, RegionCodeError> {
        let parts: Vec<&str> = text.split('.').collect();
        let widths = [2, 2, 2, 4];
        if parts.len() > widths.len()
            || parts
                .iter()
                .zip(widths)
                .any(|(part, width)| part.len() != width || !part.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return Err(RegionCodeError);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> RegionLevel {
        match self.0.matches('.').count() {
            0 => RegionLevel::Province,
            1 => RegionLevel::Regency,
            2 => RegionLevel::District,
            _ => RegionLevel::Village,
        }
    }

    /// The region one level up, if any.
    pub fn parent(&self) -> Option<Self> {
        self.0.rsplit_once('.').map(|(parent, _)| Self(parent.to_owned()))
    }

    /// Whether `other` is this region or lies inside it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0 == self.0 || other.0.strip_prefix(self.0.as_str()).is_some_and(|rest| rest.starts_with('.'))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for RegionCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$"))
            .examples([serde_json::json!("32.04.12.2001")])
            .into()
    }
}

impl utoipa::ToSchema for RegionCode {}

/// The part of the country an operator sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "region", rename_all = "snake_case")]
pub enum RegionScope {
    National,
    Region(RegionCode),
}

impl RegionScope {
    pub fn covers(&self, region: &RegionCode) -> bool {
        match self {
            Self::National => true,
            Self::Region(scope) => scope.contains(region),
        }
    }
}

/// The longest password accepted, in bytes (argon2 hashes anything, but unbounded input
/// is a denial-of-service lever).
pub const PASSWORD_BYTES_MAX: usize = 128;
/// The shortest password accepted for a new account, in characters.
pub const PASSWORD_CHARS_MIN: usize = 10;

/// A password as typed. Never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// A password to check at login: any non-empty text up to the length limit.
    pub fn parse(text: String) -> Option<Self> {
        (!text.is_empty() && text.len() <= PASSWORD_BYTES_MAX).then_some(Self(text))
    }

    /// A password to set: long enough to resist guessing.
    pub fn parse_new(text: String) -> Option<Self> {
        (text.chars().count() >= PASSWORD_CHARS_MIN).then_some(()).and_then(|()| Self::parse(text))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password(***)")
    }
}

/// Why a PIN is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a PIN is exactly 6 digits")]
pub struct PinFormatError;

/// A card PIN as typed: 6 digits. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn parse(text: &str) -> Result<Self, PinFormatError> {
        if text.len() == 6 && text.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(PinFormatError)
        }
    }

    /// A fresh random PIN, for a new or replaced card.
    pub fn random() -> Self {
        Self(format!("{:06}", rand::random_range(0..1_000_000_u32)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Pin(******)")
    }
}

/// The bank's PIN verification key: the stored value is HMAC-SHA256(key, card number ‖ PIN),
/// so a copy of the database alone does not give up PINs (a 6-digit PIN falls to brute
/// force against any unkeyed hash). Microseconds per check, unlike a password hash.
#[derive(Clone)]
pub struct PinKey(Vec<u8>);

impl PinKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    fn mac(&self, card_number: &str, pin: &Pin) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(card_number.as_bytes());
        mac.update(b":");
        mac.update(pin.0.as_bytes());
        mac
    }

    /// The value to store for this card's PIN (hex).
    pub fn verification_value(&self, card_number: &str, pin: &Pin) -> String {
        hex::encode(self.mac(card_number, pin).finalize().into_bytes())
    }

    /// Whether `pin` matches the stored value, in constant time.
    pub fn verify(&self, card_number: &str, pin: &Pin, stored: &str) -> bool {
        hex::decode(stored).is_ok_and(|expected| self.mac(card_number, pin).verify_slice(&expected).is_ok())
    }
}

impl fmt::Debug for PinKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("PinKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_follow_the_official_shape_and_nest_by_prefix() {
        let province = RegionCode::parse("32").unwrap();
        let village = RegionCode::parse("32.04.12.2001").unwrap();
        assert_eq!(village.level(), RegionLevel::Village);
        assert_eq!(village.parent().map(|code| code.to_string()), Some("32.04.12".to_owned()));
        assert!(province.contains(&village));
        assert!(province.contains(&province));
        assert!(!RegionCode::parse("3").is_ok_and(|_| true));
        assert!(!RegionCode::parse("33").unwrap().contains(&village));
        assert!(!RegionCode::parse("32.0").is_ok_and(|_| true));
        assert!(RegionCode::parse("32.04.12.2001.1").is_err());
        assert!(RegionCode::parse("3a").is_err());
        assert!(RegionScope::National.covers(&village));
        assert!(!RegionScope::Region(RegionCode::parse("32.05").unwrap()).covers(&village));
    }

    #[test]
    fn pins_are_six_digits_and_never_printed() {
        assert!(Pin::parse("123456").is_ok());
        for bad in ["12345", "1234567", "12345a", "", "١٢٣٤٥٦"] {
            assert_eq!(Pin::parse(bad), Err(PinFormatError), "{bad}");
        }
        assert_eq!(format!("{:?}", Pin::parse("123456").unwrap()), "Pin(******)");
        assert_eq!(Pin::random().expose().len(), 6);
    }

    #[test]
    fn a_pin_verifies_only_with_its_key_and_its_card() {
        let key = PinKey::new(b"bank secret");
        let pin = Pin::parse("246810").unwrap();
        let stored = key.verification_value("5221840000000017", &pin);
        assert!(key.verify("5221840000000017", &pin, &stored));
        assert!(!key.verify("5221840000000017", &Pin::parse("246811").unwrap(), &stored));
        assert!(!key.verify("5221840000000025", &pin, &stored), "the same PIN on another card hashes differently");
        assert!(!PinKey::new(b"other key").verify("5221840000000017", &pin, &stored));
        assert!(!key.verify("5221840000000017", &pin, "not hex"));
    }

    #[test]
    fn passwords_have_limits_and_never_print() {
        assert!(Password::parse(String::new()).is_none());
        assert!(Password::parse("x".repeat(PASSWORD_BYTES_MAX + 1)).is_none());
        assert!(Password::parse_new("short".to_owned()).is_none());
        assert!(Password::parse_new("long enough secret".to_owned()).is_some());
        assert_eq!(format!("{:?}", Password::parse("secret".to_owned()).unwrap()), "Password(***)");
    }
}
