//! The bank's PIN keys across a rotation: each stored PIN verification value carries the
//! version of the key that made it; the newest key makes new values, and a right PIN
//! checked under an older key is re-keyed to the newest then and there.

use super::auth::{Pin, PinKey};
use super::key_ring::{KeyRing, KeyVersion};

/// The configured PIN keys, newest first.
pub type PinKeys = KeyRing<KeyVersion, PinKey>;

/// What is stored for a card's PIN: the keyed hash and the version of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinVerificationValue {
    pub key_version: KeyVersion,
    /// HMAC-SHA256(key, card number ‖ PIN), hex.
    pub value: String,
}

/// The answer of a PIN check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinMatch {
    /// The PIN is right; `rekeyed` is the value to store instead when it was made under an
    /// older key.
    Right {
        rekeyed: Option<PinVerificationValue>,
    },
    Wrong,
    /// The value was made under a key no longer configured: it cannot be checked, only an
    /// operator's PIN reset gives the card a PIN again.
    KeyRetired(KeyVersion),
}

impl PinKeys {
    /// The value to store for a new PIN, under the newest key.
    pub fn verification_value(&self, card_number: &str, pin: &Pin) -> PinVerificationValue {
        let (key_version, key) = self.newest();
        PinVerificationValue { key_version: *key_version, value: key.verification_value(card_number, pin) }
    }

    /// Checks `pin` against the stored value, with the key of the value's version.
    pub fn check(&self, card_number: &str, pin: &Pin, stored: &PinVerificationValue) -> PinMatch {
        let Some(key) = self.find(&stored.key_version) else { return PinMatch::KeyRetired(stored.key_version) };
        if !key.verify(card_number, pin, &stored.value) {
            return PinMatch::Wrong;
        }
        let rekeyed = (*self.newest().0 != stored.key_version).then(|| self.verification_value(card_number, pin));
        PinMatch::Right { rekeyed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: &str = "5221840000000017";

    fn keys(versions: &[(i32, &str)]) -> PinKeys {
        let keys = versions
            .iter()
            .map(|(version, secret)| (KeyVersion::from_stored(*version).unwrap(), PinKey::new(secret.as_bytes())))
            .collect();
        PinKeys::new(keys).unwrap()
    }

    fn pin(text: &str) -> Pin {
        Pin::parse(text).unwrap()
    }

    #[test]
    fn a_new_pin_is_kept_under_the_newest_key_and_checks_without_rekeying() {
        let ring = keys(&[(2, "second key"), (1, "first key")]);
        let stored = ring.verification_value(CARD, &pin("246810"));
        assert_eq!(stored.key_version, KeyVersion::from_stored(2).unwrap());
        assert_eq!(ring.check(CARD, &pin("246810"), &stored), PinMatch::Right { rekeyed: None });
        assert_eq!(ring.check(CARD, &pin("246811"), &stored), PinMatch::Wrong);
    }

    #[test]
    fn a_right_pin_under_an_older_key_is_rekeyed_to_the_newest() {
        let before = keys(&[(1, "first key")]);
        let stored = before.verification_value(CARD, &pin("246810"));
        let after = keys(&[(2, "second key"), (1, "first key")]);
        let PinMatch::Right { rekeyed: Some(rekeyed) } = after.check(CARD, &pin("246810"), &stored) else {
            panic!("a right PIN under key 1 is re-keyed")
        };
        assert_eq!(rekeyed, after.verification_value(CARD, &pin("246810")));
        assert_eq!(after.check(CARD, &pin("246810"), &rekeyed), PinMatch::Right { rekeyed: None });
        assert_eq!(after.check(CARD, &pin("000000"), &stored), PinMatch::Wrong, "a wrong PIN is not re-keyed");
    }

    #[test]
    fn a_value_under_a_key_no_longer_configured_is_refused_whatever_the_pin() {
        let stored = keys(&[(1, "first key")]).verification_value(CARD, &pin("246810"));
        let only_new = keys(&[(2, "second key")]);
        assert_eq!(only_new.check(CARD, &pin("246810"), &stored), PinMatch::KeyRetired(KeyVersion::FIRST));
    }

    #[test]
    fn the_stored_version_picks_the_key_that_checks_a_value() {
        // Version 1 is now another secret: the value made by the old secret no longer matches.
        let stored = keys(&[(1, "first key")]).verification_value(CARD, &pin("246810"));
        let renumbered = keys(&[(2, "first key"), (1, "another key")]);
        assert_eq!(renumbered.check(CARD, &pin("246810"), &stored), PinMatch::Wrong);
    }
}
