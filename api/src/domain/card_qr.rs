//! The signed QR payload printed on a card: the codec and the public key are in
//! `kks-wire` (terminals and card-sim verify cards with them); the issuer's private key,
//! which signs, is the server's alone and lives here.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey};
pub use kks_wire::card_qr::{
    CardQrError, CardQrPayload, IssuerKeyError, IssuerVerifyingKey, IssuerVerifyingKeys, CARD_QR_TEXT_LENGTH_MAX,
    CARD_QR_VERSION,
};

use super::key_ring::{KeyRing, KeyRingError};

/// The issuer's private key, which signs card QR payloads. Never printed.
pub struct IssuerSigningKey(SigningKey);

impl IssuerSigningKey {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// From 64 hex characters, as the key is kept in configuration.
    pub fn from_hex(text: &str) -> Result<Self, IssuerKeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| IssuerKeyError::NotEncoded)?;
        let seed = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| IssuerKeyError::WrongLength)?;
        Ok(Self::from_seed(&seed))
    }

    pub fn verifying_key(&self) -> IssuerVerifyingKey {
        IssuerVerifyingKey::from_ed25519(self.0.verifying_key())
    }

    /// The QR text for a card.
    pub fn sign(&self, payload: &CardQrPayload) -> String {
        payload.to_signed_text(&self.verifying_key(), |message| self.0.sign(message))
    }
}

/// The issuer's keys by key id (the hex id inside every QR), newest first: the newest
/// signs new cards, every one still verifies the cards it signed.
pub type IssuerKeys = KeyRing<String, IssuerSigningKey>;

impl IssuerKeys {
    /// From private keys listed newest first; each key's id follows from its public key.
    pub fn from_keys(keys: Vec<IssuerSigningKey>) -> Result<Self, KeyRingError> {
        Self::new(keys.into_iter().map(|key| (key.verifying_key().key_id_hex(), key)).collect())
    }

    /// The QR text for a card, signed by the newest key.
    pub fn sign(&self, payload: &CardQrPayload) -> String {
        self.newest().1.sign(payload)
    }

    /// The public keys a card may be checked with, newest first.
    pub fn verifying_keys(&self) -> IssuerVerifyingKeys {
        IssuerVerifyingKeys::new(self.iter().map(|(_, key)| key.verifying_key()).collect())
    }
}

impl fmt::Debug for IssuerSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("IssuerSigningKey").field("key_id", &self.verifying_key().key_id_hex()).finish()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::card::{Bank, CardNumber};

    fn issuer() -> IssuerSigningKey {
        IssuerSigningKey::from_seed(&[7; 32])
    }

    fn payload() -> CardQrPayload {
        CardQrPayload {
            card_number: CardNumber::issue(Bank::Mandiri, 123_456).unwrap(),
            sequence: 3,
            bank: Bank::Mandiri,
            expires_on: NaiveDate::from_ymd_opt(2029, 8, 31).unwrap(),
        }
    }

    #[test]
    fn what_the_issuer_signs_verifies_with_its_public_key_only() {
        let text = issuer().sign(&payload());
        assert!(text.starts_with("KKS1."));
        assert_eq!(issuer().verifying_key().verify(&text), Ok(payload()));
        let forger = IssuerSigningKey::from_seed(&[8; 32]);
        assert_eq!(forger.verifying_key().verify(&text), Err(CardQrError::UnknownIssuer));
    }

    #[test]
    fn the_newest_issuer_key_signs_and_every_listed_key_verifies() {
        let old_card = issuer().sign(&payload());
        let keys = IssuerKeys::from_keys(vec![IssuerSigningKey::from_seed(&[8; 32]), issuer()]).unwrap();
        let new_card = keys.sign(&payload());
        assert_eq!(keys.verifying_keys().verify(&old_card), Ok((payload(), issuer().verifying_key())));
        assert_eq!(keys.verifying_keys().verify(&new_card).map(|(card, _)| card), Ok(payload()));
        assert_eq!(issuer().verifying_key().verify(&new_card), Err(CardQrError::UnknownIssuer));
        assert_eq!(keys.ids().cloned().collect::<Vec<_>>()[1], issuer().verifying_key().key_id_hex());
        let twice = IssuerKeys::from_keys(vec![issuer(), issuer()]).unwrap_err();
        assert_eq!(twice, KeyRingError::DuplicateId(issuer().verifying_key().key_id_hex()));
    }

    #[test]
    fn keys_round_trip_through_their_encodings() {
        let verifying_key = issuer().verifying_key();
        assert_eq!(IssuerVerifyingKey::from_base64(&verifying_key.to_base64()), Ok(verifying_key));
        assert_eq!(verifying_key.key_id_hex(), hex::encode(verifying_key.key_id()));
        let from_hex = IssuerSigningKey::from_hex(&"07".repeat(32)).unwrap();
        assert_eq!(from_hex.verifying_key(), verifying_key);
        assert_eq!(IssuerSigningKey::from_hex("07").unwrap_err(), IssuerKeyError::WrongLength);
        assert_eq!(IssuerSigningKey::from_hex(&"zz".repeat(32)).unwrap_err(), IssuerKeyError::NotEncoded);
        assert_eq!(IssuerVerifyingKey::from_base64("AAAA"), Err(IssuerKeyError::WrongLength));
    }

    #[test]
    fn debug_output_does_not_reveal_the_secret() {
        let printed = format!("{:?}", issuer());
        assert!(!printed.contains(&"07".repeat(4)) && !printed.contains("[7, 7"), "{printed}");
        assert!(printed.contains(&issuer().verifying_key().key_id_hex()));
    }
}
