//! The signed QR payload printed on a card.
//!
//! It carries no secret and no balance: only which card this is (number, sequence,
//! bank, expiry), signed by the issuer, so an EDC terminal can tell a forged card or a
//! replaced one (older sequence) from the real one before asking for the PIN.
//!
//! Text format: `KKS1.` + base64url(payload) + `.` + base64url(signature), no padding.
//! The 20-byte payload is, big-endian: version (u8), card number (u64), sequence (u16),
//! bank code (u8), expiry as days since 1970-01-01 (u32), issuer key id (4 bytes).
//!
//! Anyone may read and verify a card's QR with the issuer's public key
//! ([`IssuerVerifyingKey`]); only the server, which holds the private key, signs one,
//! through [`CardQrPayload::to_signed_text`].

use std::fmt::Write as _;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{Datelike as _, NaiveDate};
pub use ed25519_dalek::Signature;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest as _, Sha256};

use crate::card::{Bank, CardNumber};

/// The only payload version this code writes and reads.
pub const CARD_QR_VERSION: u8 = 1;

/// Longest QR text accepted; a version-1 text is 119 bytes. Longer texts are refused
/// before any decoding, so a hostile scan cannot make the server do much work.
pub const CARD_QR_TEXT_LENGTH_MAX: usize = 256;

const TEXT_PREFIX: &str = "KKS";
const PAYLOAD_BYTES: usize = 20;
const SIGNATURE_BYTES: usize = 64;
const KEY_ID_BYTES: usize = 4;

/// Signed together with the payload so that a signature made by the issuer key for
/// anything else (another protocol, another message kind) can never pass as a card.
const SIGNATURE_CONTEXT: &[u8] = b"KKS card QR\x00";

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01, for chrono's
/// `num_days_from_ce`.
const EPOCH_DAYS_FROM_COMMON_ERA: i32 = 719_163;

/// Why a scanned QR text is not a valid card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardQrError {
    #[error("QR text is not a KKS card payload")]
    Malformed,
    #[error("KKS card payload version {0} is not supported")]
    UnsupportedVersion(u8),
    #[error("KKS card payload was not issued with this issuer key")]
    UnknownIssuer,
    #[error("KKS card payload signature does not verify")]
    BadSignature,
}

/// Why a text is not an issuer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssuerKeyError {
    #[error("issuer key is not valid hex or base64url")]
    NotEncoded,
    #[error("issuer key must be 32 bytes")]
    WrongLength,
    #[error("issuer public key is not a valid Ed25519 point")]
    NotAPublicKey,
}

/// What a card's QR code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardQrPayload {
    pub card_number: CardNumber,
    /// Incremented each time the card is replaced, so the old card's QR is refused.
    pub sequence: u16,
    pub bank: Bank,
    pub expires_on: NaiveDate,
}

impl CardQrPayload {
    /// The card is valid through its expiry date and expired from the day after.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        today > self.expires_on
    }

    /// The QR text for this card, signed by the issuer whose public key is `issuer`:
    /// `sign` is given the message to sign and returns the issuer's Ed25519 signature of
    /// it. The private key stays with the caller (the server); this crate never sees it.
    pub fn to_signed_text(&self, issuer: &IssuerVerifyingKey, sign: impl FnOnce(&[u8]) -> Signature) -> String {
        let payload_bytes = self.to_bytes(issuer.key_id());
        let signature = sign(&signed_message(&payload_bytes));
        format!(
            "{TEXT_PREFIX}{CARD_QR_VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(&payload_bytes),
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    fn to_bytes(&self, key_id: [u8; KEY_ID_BYTES]) -> Vec<u8> {
        let days = self.expires_on.num_days_from_ce() - EPOCH_DAYS_FROM_COMMON_ERA;
        // An expiry before 1970 is stored as 1970-01-01: still long expired, so the
        // payload means the same to every reader.
        let days = u32::try_from(days.max(0)).unwrap_or(u32::MAX);
        let mut bytes = Vec::with_capacity(PAYLOAD_BYTES);
        bytes.push(CARD_QR_VERSION);
        bytes.extend_from_slice(&self.card_number.to_u64().to_be_bytes());
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        bytes.push(bank_code(self.bank));
        bytes.extend_from_slice(&days.to_be_bytes());
        bytes.extend_from_slice(&key_id);
        bytes
    }

    /// Reads the fields after the signature has been checked.
    fn from_bytes(bytes: &[u8]) -> Result<Self, CardQrError> {
        let card_number = u64::from_be_bytes(take(bytes, 1)?);
        let card_number = CardNumber::parse(&format!("{card_number:016}")).map_err(|_| CardQrError::Malformed)?;
        let sequence = u16::from_be_bytes(take(bytes, 9)?);
        let [bank_byte] = take(bytes, 11)?;
        let bank = bank_from_code(bank_byte).ok_or(CardQrError::Malformed)?;
        if card_number.bank() != bank {
            return Err(CardQrError::Malformed);
        }
        let days = i32::try_from(u32::from_be_bytes(take(bytes, 12)?)).map_err(|_| CardQrError::Malformed)?;
        let expires_on = days
            .checked_add(EPOCH_DAYS_FROM_COMMON_ERA)
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or(CardQrError::Malformed)?;
        Ok(Self { card_number, sequence, bank, expires_on })
    }
}

/// The bank byte in the payload. Part of the wire format: never renumber.
fn bank_code(bank: Bank) -> u8 {
    match bank {
        Bank::Bri => 1,
        Bank::Bni => 2,
        Bank::Mandiri => 3,
        Bank::Btn => 4,
    }
}

fn bank_from_code(code: u8) -> Option<Bank> {
    match code {
        1 => Some(Bank::Bri),
        2 => Some(Bank::Bni),
        3 => Some(Bank::Mandiri),
        4 => Some(Bank::Btn),
        _ => None,
    }
}

/// `N` bytes of `bytes` from `start`, or `Malformed` when they are not all there.
fn take<const N: usize>(bytes: &[u8], start: usize) -> Result<[u8; N], CardQrError> {
    bytes
        .get(start..start.saturating_add(N))
        .and_then(|slice| <[u8; N]>::try_from(slice).ok())
        .ok_or(CardQrError::Malformed)
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    [SIGNATURE_CONTEXT, payload].concat()
}

/// The issuer's public key, published so terminals and card-sim can check cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuerVerifyingKey(VerifyingKey);

impl IssuerVerifyingKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, IssuerKeyError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| IssuerKeyError::NotAPublicKey)
    }

    /// The key as Ed25519 knows it, for the server that holds its private half.
    pub fn from_ed25519(key: VerifyingKey) -> Self {
        Self(key)
    }

    /// The 32 key bytes as base64url without padding.
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn from_base64(text: &str) -> Result<Self, IssuerKeyError> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| IssuerKeyError::NotEncoded)?;
        let bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| IssuerKeyError::WrongLength)?;
        Self::from_bytes(&bytes)
    }

    /// The first 4 bytes of SHA-256 of the public key: names the key inside a payload, so
    /// a card signed by another key is told apart from a tampered one.
    pub fn key_id(&self) -> [u8; KEY_ID_BYTES] {
        let digest = Sha256::digest(self.0.as_bytes());
        let mut key_id = [0; KEY_ID_BYTES];
        key_id.iter_mut().zip(digest.iter()).for_each(|(id_byte, digest_byte)| *id_byte = *digest_byte);
        key_id
    }

    /// The key id as 8 lowercase hex digits.
    pub fn key_id_hex(&self) -> String {
        self.key_id().iter().fold(String::with_capacity(2 * KEY_ID_BYTES), |mut text, byte| {
            // Writing to a String cannot fail.
            let _ = write!(text, "{byte:02x}");
            text
        })
    }

    /// Checks a scanned QR text and returns what it says. Does not check expiry or the
    /// sequence: those are business rules for the caller.
    pub fn verify(&self, text: &str) -> Result<CardQrPayload, CardQrError> {
        if text.len() > CARD_QR_TEXT_LENGTH_MAX {
            return Err(CardQrError::Malformed);
        }
        let mut parts = text.split('.');
        let (Some(header), Some(payload_text), Some(signature_text), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CardQrError::Malformed);
        };
        let version_text = header.strip_prefix(TEXT_PREFIX).ok_or(CardQrError::Malformed)?;
        if version_text.is_empty() || !version_text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(CardQrError::Malformed);
        }
        let version = version_text.parse::<u8>().map_err(|_| CardQrError::Malformed)?;
        if version != CARD_QR_VERSION {
            return Err(CardQrError::UnsupportedVersion(version));
        }
        let payload = URL_SAFE_NO_PAD.decode(payload_text).map_err(|_| CardQrError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature_text).map_err(|_| CardQrError::Malformed)?;
        if payload.len() != PAYLOAD_BYTES {
            return Err(CardQrError::Malformed);
        }
        let signature = <[u8; SIGNATURE_BYTES]>::try_from(signature.as_slice()).map_err(|_| CardQrError::Malformed)?;
        let [payload_version] = take(&payload, 0)?;
        if payload_version != version {
            return Err(CardQrError::Malformed);
        }
        if take::<KEY_ID_BYTES>(&payload, PAYLOAD_BYTES - KEY_ID_BYTES)? != self.key_id() {
            return Err(CardQrError::UnknownIssuer);
        }
        // Strict verification also refuses malleable signatures and weak keys.
        self.0
            .verify_strict(&signed_message(&payload), &Signature::from_bytes(&signature))
            .map_err(|_| CardQrError::BadSignature)?;
        CardQrPayload::from_bytes(&payload)
    }
}

/// Every issuer key a terminal accepts, newest first. After a rotation the new key signs
/// new cards, and the old keys stay listed until the last card they signed has expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerVerifyingKeys(Vec<IssuerVerifyingKey>);

impl IssuerVerifyingKeys {
    pub fn new(keys: Vec<IssuerVerifyingKey>) -> Self {
        Self(keys)
    }

    pub fn keys(&self) -> &[IssuerVerifyingKey] {
        &self.0
    }

    /// Checks a scanned QR text with the key its payload names, and says which key that
    /// was; `UnknownIssuer` when no listed key is that one.
    pub fn verify(&self, text: &str) -> Result<(CardQrPayload, IssuerVerifyingKey), CardQrError> {
        for key in &self.0 {
            match key.verify(text) {
                Err(CardQrError::UnknownIssuer) => continue,
                answer => return answer.map(|payload| (payload, *key)),
            }
        }
        Err(CardQrError::UnknownIssuer)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;

    /// An issuer as the server is one: a private key that signs.
    struct Issuer(SigningKey);

    impl Issuer {
        fn verifying_key(&self) -> IssuerVerifyingKey {
            IssuerVerifyingKey::from_ed25519(self.0.verifying_key())
        }

        fn sign(&self, payload: &CardQrPayload) -> String {
            payload.to_signed_text(&self.verifying_key(), |message| self.0.sign(message))
        }
    }

    fn issuer() -> Issuer {
        Issuer(SigningKey::from_bytes(&[7; 32]))
    }

    fn forger() -> Issuer {
        Issuer(SigningKey::from_bytes(&[8; 32]))
    }

    fn payload() -> CardQrPayload {
        CardQrPayload {
            card_number: CardNumber::issue(Bank::Mandiri, 123_456).unwrap(),
            sequence: 3,
            bank: Bank::Mandiri,
            expires_on: NaiveDate::from_ymd_opt(2029, 8, 31).unwrap(),
        }
    }

    /// Re-encodes a QR text with its decoded payload changed by `change`.
    fn with_payload_changed(text: &str, change: impl FnOnce(&mut Vec<u8>)) -> String {
        let parts: Vec<&str> = text.split('.').collect();
        let mut payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        change(&mut payload);
        format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(&payload), parts[2])
    }

    #[test]
    fn signed_payload_verifies_back_to_the_same_fields() {
        let text = issuer().sign(&payload());
        assert!(text.starts_with("KKS1."));
        assert_eq!(text.len(), 119);
        assert_eq!(issuer().verifying_key().verify(&text), Ok(payload()));
    }

    #[test]
    fn every_bank_round_trips() {
        for &bank in <Bank as strum::VariantArray>::VARIANTS {
            let card = CardQrPayload { card_number: CardNumber::issue(bank, 999_999_999).unwrap(), bank, ..payload() };
            assert_eq!(issuer().verifying_key().verify(&issuer().sign(&card)), Ok(card));
        }
    }

    #[test]
    fn flipping_any_payload_byte_never_verifies() {
        let text = issuer().sign(&payload());
        for index in 0..PAYLOAD_BYTES {
            let altered = with_payload_changed(&text, |bytes| bytes[index] ^= 0x01);
            let result = issuer().verifying_key().verify(&altered);
            let expected: &[CardQrError] = if index >= PAYLOAD_BYTES - KEY_ID_BYTES {
                &[CardQrError::UnknownIssuer]
            } else {
                &[CardQrError::BadSignature, CardQrError::Malformed]
            };
            assert!(matches!(result, Err(error) if expected.contains(&error)), "byte {index}: {result:?}");
        }
    }

    #[test]
    fn changing_any_character_of_the_text_never_verifies() {
        let text = issuer().sign(&payload());
        for index in 0..text.len() {
            let mut altered = text.clone().into_bytes();
            altered[index] = if altered[index] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).unwrap();
            assert!(issuer().verifying_key().verify(&altered).is_err(), "character {index}");
        }
    }

    #[test]
    fn a_card_signed_by_another_key_is_an_unknown_issuer() {
        assert_eq!(issuer().verifying_key().verify(&forger().sign(&payload())), Err(CardQrError::UnknownIssuer));
    }

    #[test]
    fn a_forgery_carrying_our_key_id_fails_the_signature() {
        let our_key_id = issuer().verifying_key().key_id();
        let forged = with_payload_changed(&forger().sign(&payload()), |bytes| {
            bytes[PAYLOAD_BYTES - KEY_ID_BYTES..].copy_from_slice(&our_key_id)
        });
        assert_eq!(issuer().verifying_key().verify(&forged), Err(CardQrError::BadSignature));
    }

    #[test]
    fn bad_prefixes_and_versions_are_refused() {
        let text = issuer().sign(&payload());
        let key = issuer().verifying_key();
        let rest = text.strip_prefix("KKS1").unwrap();
        assert_eq!(key.verify(&format!("KKS2{rest}")), Err(CardQrError::UnsupportedVersion(2)));
        assert_eq!(key.verify(&format!("XYZ1{rest}")), Err(CardQrError::Malformed));
        assert_eq!(key.verify(&format!("KKS{rest}")), Err(CardQrError::Malformed));
        assert_eq!(key.verify(&format!("KKS+1{rest}")), Err(CardQrError::Malformed));
        assert_eq!(key.verify(&format!("{text}.extra")), Err(CardQrError::Malformed));
        assert_eq!(key.verify(""), Err(CardQrError::Malformed));
        let version_two_inside = with_payload_changed(&text, |bytes| bytes[0] = 2);
        assert_eq!(key.verify(&version_two_inside), Err(CardQrError::Malformed));
    }

    #[test]
    fn texts_beyond_the_length_limit_are_refused_before_decoding() {
        let text = issuer().sign(&payload());
        let padded = format!("{text}{}", "A".repeat(CARD_QR_TEXT_LENGTH_MAX - text.len() + 1));
        assert_eq!(issuer().verifying_key().verify(&padded), Err(CardQrError::Malformed));
    }

    #[test]
    fn expiry_is_inclusive_of_the_expiry_date() {
        let card = payload();
        assert!(!card.is_expired(card.expires_on));
        assert!(card.is_expired(card.expires_on.succ_opt().unwrap()));
    }

    #[test]
    fn the_public_key_round_trips_through_base64url() {
        let verifying_key = issuer().verifying_key();
        assert_eq!(IssuerVerifyingKey::from_base64(&verifying_key.to_base64()), Ok(verifying_key));
        assert_eq!(IssuerVerifyingKey::from_base64("AAAA"), Err(IssuerKeyError::WrongLength));
        assert_eq!(IssuerVerifyingKey::from_base64("not base64!"), Err(IssuerKeyError::NotEncoded));
    }

    #[test]
    fn the_key_id_is_the_first_four_bytes_of_the_keys_sha_256_in_hex() {
        let key = issuer().verifying_key();
        let digest = Sha256::digest(key.0.as_bytes());
        let expected: String = digest.iter().take(KEY_ID_BYTES).map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(key.key_id_hex(), expected);
        assert_eq!(key.key_id_hex().len(), 8);
    }

    #[test]
    fn epoch_offset_matches_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(epoch.num_days_from_ce(), EPOCH_DAYS_FROM_COMMON_ERA);
    }

    #[test]
    fn a_key_list_verifies_cards_of_each_listed_key_and_refuses_others() {
        let (old, new) = (forger(), issuer());
        let keys = IssuerVerifyingKeys::new(vec![new.verifying_key(), old.verifying_key()]);
        assert_eq!(keys.verify(&old.sign(&payload())), Ok((payload(), old.verifying_key())));
        assert_eq!(keys.verify(&new.sign(&payload())), Ok((payload(), new.verifying_key())));
        let only_new = IssuerVerifyingKeys::new(vec![new.verifying_key()]);
        assert_eq!(only_new.verify(&old.sign(&payload())), Err(CardQrError::UnknownIssuer));
        assert_eq!(IssuerVerifyingKeys::new(vec![]).verify(&new.sign(&payload())), Err(CardQrError::UnknownIssuer));
        assert_eq!(keys.verify("KKS1.x.y"), Err(CardQrError::Malformed));
    }
}
