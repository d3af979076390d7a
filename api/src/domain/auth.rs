//! Who may do what: roles, region scopes, and the secrets people type (passwords, PINs).

use std::fmt;

use hmac::{Hmac, Mac};
pub use kks_wire::auth::AgentKind;
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

    /// Whether this scope sees all that `other` sees.
    pub fn includes(&self, other: &RegionScope) -> bool {
        match other {
            Self::National => *self == Self::National,
            Self::Region(region) => self.covers(region),
        }
    }
}

/// Whether an operator of `role` and `own_scope` may create, change, disable or reset the
/// password of a person of `scope`: only an admin, and only inside its own part of the
/// country (a provincial admin never creates or manages a national one).
pub fn may_manage(role: OperatorRole, own_scope: &RegionScope, scope: &RegionScope) -> bool {
    role == OperatorRole::Admin && own_scope.includes(scope)
}

/// The longest password accepted, in bytes (argon2 hashes anything, but unbounded input
/// is a denial-of-service lever).
pub const PASSWORD_BYTES_MAX: usize = 128;
/// The shortest password accepted for a new account, in characters.
pub const PASSWORD_CHARS_MIN: usize = 12;
/// The fewest different characters a new password has ("aaaaaaaaaaaa" is not one).
pub const PASSWORD_DISTINCT_CHARS_MIN: usize = 6;
/// Words an attacker tries first; a new password containing one is refused (NIST SP
/// 800-63B asks for a check against commonly used and context-specific words).
const PASSWORD_WORDS_GUESSED_FIRST: [&str; 14] = [
    "password",
    "passw0rd",
    "qwerty",
    "asdfgh",
    "123456",
    "654321",
    "abcdef",
    "admin",
    "kemensos",
    "indonesia",
    "rahasia",
    "sandi",
    "katasandi",
    "letmein",
];

/// Why a new password is refused: the reason is shown to the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password has at least {PASSWORD_CHARS_MIN} characters")]
    TooShort,
    #[error("a password has at most {PASSWORD_BYTES_MAX} bytes")]
    TooLong,
    #[error("a password has at least {PASSWORD_DISTINCT_CHARS_MIN} different characters")]
    TooFewDistinctCharacters,
    #[error("a password must not contain the user name")]
    ContainsUsername,
    #[error("a password must not contain {0:?}, which is among the first guesses")]
    GuessedFirst(&'static str),
    #[error("the new password must differ from the current one")]
    SameAsCurrent,
}

/// The shortest and longest user names, in characters.
pub const USERNAME_CHARS_MIN: usize = 3;
pub const USERNAME_CHARS_MAX: usize = 64;

/// Why a user name is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a user name has {USERNAME_CHARS_MIN} to {USERNAME_CHARS_MAX} characters: lower-case letters, digits, '.', '_' or '-', starting with a letter"
)]
pub struct UsernameError;

/// A user name for a new operator or agent: what people type at login, so plain ASCII
/// that reads the same on every keyboard and in every log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, UsernameError> {
        let allowed = |character: char| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || matches!(character, '.' | '_' | '-')
        };
        let starts_with_letter = text.chars().next().is_some_and(|first| first.is_ascii_lowercase());
        if (USERNAME_CHARS_MIN..=USERNAME_CHARS_MAX).contains(&text.len())
            && starts_with_letter
            && text.chars().all(allowed)
        {
            Ok(Self(text.to_owned()))
        } else {
            Err(UsernameError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed. Never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// A password to check at login: any non-empty text up to the length limit.
    pub fn parse(text: String) -> Option<Self> {
        (!text.is_empty() && text.len() <= PASSWORD_BYTES_MAX).then_some(Self(text))
    }

    /// A password to set for `username`: long, varied, and free of what is guessed first.
    pub fn parse_new(text: String, username: &str) -> Result<Self, WeakPassword> {
        if text.chars().count() < PASSWORD_CHARS_MIN {
            return Err(WeakPassword::TooShort);
        }
        if text.len() > PASSWORD_BYTES_MAX {
            return Err(WeakPassword::TooLong);
        }
        if text.chars().collect::<std::collections::BTreeSet<_>>().len() < PASSWORD_DISTINCT_CHARS_MIN {
            return Err(WeakPassword::TooFewDistinctCharacters);
        }
        let lowered = text.to_lowercase();
        if lowered.contains(&username.to_lowercase()) {
            return Err(WeakPassword::ContainsUsername);
        }
        if let Some(word) = PASSWORD_WORDS_GUESSED_FIRST.into_iter().find(|word| lowered.contains(word)) {
            return Err(WeakPassword::GuessedFirst(word));
        }
        Ok(Self(text))
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

    /// A one-time PIN sealed for its short stay in the database until its PIN mailer is
    /// downloaded: each digit shifted by a pad digit drawn from HMAC(key, "pin-mailer" ‖
    /// `context`), the context naming the job and the card. Without the key, which never
    /// enters the database, every PIN is equally likely.
    pub fn seal_pin(&self, context: &str, pin: &Pin) -> String {
        let pad = self.mailer_pad(context);
        pin.0.bytes().zip(pad).map(|(digit, shift)| char::from(b'0' + (digit - b'0' + shift) % 10)).collect()
    }

    /// The PIN that [`Self::seal_pin`] sealed with the same context.
    pub fn unseal_pin(&self, context: &str, sealed: &str) -> Option<Pin> {
        let pad = self.mailer_pad(context);
        let digits: Option<String> = sealed
            .bytes()
            .zip(pad)
            .map(|(digit, shift)| digit.is_ascii_digit().then(|| char::from(b'0' + (digit - b'0' + 10 - shift) % 10)))
            .collect();
        Pin::parse(&digits?).ok()
    }

    /// Six pad digits, each from two bytes of the MAC (65,536 mod 10: a bias of 1e-4).
    fn mailer_pad(&self, context: &str) -> [u8; 6] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(b"pin-mailer:");
        mac.update(context.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut pad = [0_u8; 6];
        for (digit, pair) in pad.iter_mut().zip(bytes.chunks_exact(2)) {
            let value = pair.iter().fold(0_u16, |value, byte| (value << 8) | u16::from(*byte));
            *digit = u8::try_from(value % 10).unwrap_or(0);
        }
        pad
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
    fn a_sealed_mailer_pin_opens_only_with_its_key_and_its_context() {
        let key = PinKey::new(b"bank secret");
        let pin = Pin::parse("246810").unwrap();
        let sealed = key.seal_pin("7:5221840000000017", &pin);
        assert_eq!(sealed.len(), 6);
        assert_eq!(key.unseal_pin("7:5221840000000017", &sealed), Some(pin.clone()));
        assert_ne!(key.unseal_pin("8:5221840000000017", &sealed), Some(pin.clone()));
        assert_ne!(PinKey::new(b"other key").unseal_pin("7:5221840000000017", &sealed), Some(pin));
        assert_eq!(key.unseal_pin("7:5221840000000017", "12a456"), None);
    }

    #[test]
    fn passwords_have_limits_and_never_print() {
        assert!(Password::parse(String::new()).is_none());
        assert!(Password::parse("x".repeat(PASSWORD_BYTES_MAX + 1)).is_none());
        assert_eq!(format!("{:?}", Password::parse("secret".to_owned()).unwrap()), "Password(***)");
    }

    #[test]
    fn an_admin_manages_people_only_inside_its_own_part_of_the_country() {
        let region = |code: &str| RegionScope::Region(RegionCode::parse(code).unwrap());
        let national = RegionScope::National;
        assert!(may_manage(OperatorRole::Admin, &national, &national));
        assert!(may_manage(OperatorRole::Admin, &national, &region("33")));
        assert!(may_manage(OperatorRole::Admin, &region("32"), &region("32")));
        assert!(may_manage(OperatorRole::Admin, &region("32"), &region("32.04")));
        assert!(
            !may_manage(OperatorRole::Admin, &region("32"), &national),
            "a provincial admin never makes a national one"
        );
        assert!(!may_manage(OperatorRole::Admin, &region("32"), &region("33")));
        assert!(!may_manage(OperatorRole::Admin, &region("32.04"), &region("32")));
        assert!(!may_manage(OperatorRole::Supervisor, &national, &region("32")), "only admins manage people");
        assert!(!may_manage(OperatorRole::Operator, &national, &region("32")));
    }

    #[test]
    fn a_new_password_is_refused_with_the_reason_it_is_weak() {
        let refusal = |text: &str| Password::parse_new(text.to_owned(), "siti.rahayu").err();
        assert_eq!(refusal("short one"), Some(WeakPassword::TooShort));
        assert_eq!(refusal(&"long enough ".repeat(11)), Some(WeakPassword::TooLong));
        assert_eq!(refusal("abababababababab"), Some(WeakPassword::TooFewDistinctCharacters));
        assert_eq!(refusal("I am Siti.Rahayu!"), Some(WeakPassword::ContainsUsername));
        assert_eq!(refusal("MyPassword2026!"), Some(WeakPassword::GuessedFirst("password")));
        assert_eq!(refusal("jakarta 1234567"), Some(WeakPassword::GuessedFirst("123456")));
        assert_eq!(refusal("lima ayam goreng di pasar"), None);
    }

    #[test]
    fn a_user_name_is_plain_lower_case_ascii_starting_with_a_letter() {
        for good in ["admin.pusat", "op_32", "supervisor-jabar", "abc"] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in
            ["", "ab", "Admin", "1admin", ".admin", "admin pusat", "operator\u{0}jabar", "adm\u{202e}in", "ädmin"]
        {
            assert_eq!(Username::parse(bad), Err(UsernameError), "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(USERNAME_CHARS_MAX + 1)).is_err());
    }
}
