//! Key rotation for the operator (`kks keys`): a new key to put first in its list, and
//! where the keys in use stand. Keys live in the environment only; this module sees
//! their ids, and the database tells which PIN key version each card's PIN is kept under.

use serde::Serialize;

use crate::domain::card_qr::IssuerSigningKey;
use crate::domain::key_ring::KeyVersion;
use crate::service::ServiceError;
use crate::store::{cards, Store};

/// Random bytes in a new key: an Ed25519 seed, or an HMAC secret (64 hex characters,
/// twice the shortest secret accepted).
const NEW_KEY_BYTES: usize = 32;

/// A key just made, as it is written into its list variable.
#[derive(Debug)]
pub struct NewKey {
    /// The entry to put first in the variable: `HEX` (issuer) or `VERSION:HEX`.
    pub entry: String,
    /// The key id: the issuer key's hex id, or the version.
    pub key_id: String,
}

/// A new card issuer key; its id follows from its public key.
pub fn new_issuer_key() -> NewKey {
    let seed: [u8; NEW_KEY_BYTES] = rand::random();
    let key_id = IssuerSigningKey::from_seed(&seed).verifying_key().key_id_hex();
    NewKey { entry: hex::encode(seed), key_id }
}

/// A new token or PIN secret, versioned one above the highest version configured.
pub fn new_versioned_key<'a>(configured: impl Iterator<Item = &'a KeyVersion>) -> Result<NewKey, ServiceError> {
    let version = configured
        .max()
        .copied()
        .unwrap_or(KeyVersion::FIRST)
        .next()
        .ok_or_else(|| ServiceError::Invalid("the highest key version is taken; renumber the keys".to_owned()))?;
    let secret: [u8; NEW_KEY_BYTES] = rand::random();
    Ok(NewKey { entry: format!("{version}:{}", hex::encode(secret)), key_id: version.to_string() })
}

/// The ids of the keys configured, each list newest first.
pub struct ConfiguredKeys {
    pub issuer: Vec<String>,
    pub jwt: Vec<KeyVersion>,
    pub pin: Vec<KeyVersion>,
}

/// Where the keys stand: what `kks keys status` prints.
#[derive(Debug, Serialize)]
pub struct KeyStatus {
    /// Card issuer key ids; the first signs new cards.
    pub issuer_keys: Vec<String>,
    /// Token key versions; the first signs new tokens.
    pub jwt_keys: Vec<KeyVersion>,
    /// PIN key versions; the first makes new PIN verification values.
    pub pin_keys: Vec<KeyVersion>,
    /// Active cards by the PIN key version their PIN is kept under.
    pub active_cards_by_pin_key: Vec<PinKeyUsage>,
}

#[derive(Debug, Serialize)]
pub struct PinKeyUsage {
    pub key_version: i32,
    pub active_cards: i64,
    /// `false`: these cards' PINs are refused (`PIN_KEY_RETIRED`) until an operator resets them.
    pub configured: bool,
}

impl KeyStatus {
    /// Active cards whose PIN is kept under a key that is not configured.
    pub fn cards_under_retired_pin_keys(&self) -> i64 {
        self.active_cards_by_pin_key.iter().filter(|usage| !usage.configured).map(|usage| usage.active_cards).sum()
    }
}

pub fn status(store: &Store, configured: ConfiguredKeys) -> Result<KeyStatus, ServiceError> {
    let counts = store.read(|tx| Ok::<_, ServiceError>(cards::count_active_by_pin_key_version(tx)?))?;
    let active_cards_by_pin_key = counts
        .into_iter()
        .map(|(key_version, active_cards)| PinKeyUsage {
            key_version,
            active_cards,
            configured: KeyVersion::from_stored(key_version).is_some_and(|version| configured.pin.contains(&version)),
        })
        .collect();
    Ok(KeyStatus {
        issuer_keys: configured.issuer,
        jwt_keys: configured.jwt,
        pin_keys: configured.pin,
        active_cards_by_pin_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card_qr::IssuerKeys;

    #[test]
    fn a_new_versioned_key_takes_the_version_after_the_highest() {
        let versions = [KeyVersion::parse("2").unwrap(), KeyVersion::parse("5").unwrap(), KeyVersion::FIRST];
        let key = new_versioned_key(versions.iter()).unwrap();
        assert_eq!(key.key_id, "6");
        let (version, secret) = key.entry.split_once(':').unwrap();
        assert_eq!((version, secret.len()), ("6", 2 * NEW_KEY_BYTES));
        assert_ne!(new_versioned_key(versions.iter()).unwrap().entry, key.entry, "each key is random");
    }

    #[test]
    fn a_new_issuer_key_is_a_seed_whose_id_is_its_public_keys() {
        let key = new_issuer_key();
        let signing = IssuerSigningKey::from_hex(&key.entry).unwrap();
        assert_eq!(signing.verifying_key().key_id_hex(), key.key_id);
        assert_eq!(IssuerKeys::from_keys(vec![signing]).unwrap().newest().0, &key.key_id);
    }
}
