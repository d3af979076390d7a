//! Keys that outlive a rotation: a ring of keys, newest first. The newest signs what is
//! made from now on (cards, tokens, PIN verification values); every key in the ring still
//! verifies what it signed before, so a rotation breaks nothing that is alive. Only a
//! key's id ever leaves the process (in a QR, a token header, a database row).

use std::fmt;

/// Why a list of keys cannot be a ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    #[error("no key is given")]
    Empty,
    #[error("key id {0} is given twice")]
    DuplicateId(String),
}

/// Keys by id, the newest first; never empty.
#[derive(Debug, Clone)]
pub struct KeyRing<Id, Key> {
    newest: (Id, Key),
    older: Vec<(Id, Key)>,
}

impl<Id: PartialEq + fmt::Display, Key> KeyRing<Id, Key> {
    /// From keys listed newest first, each id once.
    pub fn new(keys: Vec<(Id, Key)>) -> Result<Self, KeyRingError> {
        let mut keys = keys.into_iter();
        let newest = keys.next().ok_or(KeyRingError::Empty)?;
        let ring = Self { newest, older: keys.collect() };
        for (index, id) in ring.ids().enumerate() {
            if ring.ids().skip(index + 1).any(|other| other == id) {
                return Err(KeyRingError::DuplicateId(id.to_string()));
            }
        }
        Ok(ring)
    }

    /// A ring of one key, as before any rotation.
    pub fn single(id: Id, key: Key) -> Self {
        Self { newest: (id, key), older: Vec::new() }
    }

    /// The key that signs from now on, with its id.
    pub fn newest(&self) -> (&Id, &Key) {
        (&self.newest.0, &self.newest.1)
    }

    /// The key of this id, if it is still in the ring.
    pub fn find(&self, id: &Id) -> Option<&Key> {
        self.iter().find(|(key_id, _)| *key_id == id).map(|(_, key)| key)
    }

    /// Every key with its id, the newest first.
    pub fn iter(&self) -> impl Iterator<Item = (&Id, &Key)> {
        std::iter::once(&self.newest).chain(&self.older).map(|(id, key)| (id, key))
    }

    pub fn ids(&self) -> impl Iterator<Item = &Id> {
        self.iter().map(|(id, _)| id)
    }

    /// The same ring with each key turned into another form (a secret into a signer).
    pub fn map<Other>(&self, mut convert: impl FnMut(&Key) -> Other) -> KeyRing<Id, Other>
    where
        Id: Clone,
    {
        KeyRing {
            newest: (self.newest.0.clone(), convert(&self.newest.1)),
            older: self.older.iter().map(|(id, key)| (id.clone(), convert(key))).collect(),
        }
    }
}

/// Why a text is not a key version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key version is a whole number from 1 to {}", i32::MAX)]
pub struct KeyVersionError;

/// The id of a token-signing key or a PIN key: a positive whole number, raised by one at
/// each rotation. It is the token's `kid` and the PIN verification value's key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct KeyVersion(i32);

impl KeyVersion {
    /// The version of a key given alone in the single-key variables (`KKS_JWT_SECRET`,
    /// `KKS_PIN_KEY`), which is also what PIN values stored before versions existed carry.
    pub const FIRST: Self = Self(1);

    pub fn parse(text: &str) -> Result<Self, KeyVersionError> {
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(KeyVersionError);
        }
        text.parse::<i32>().ok().and_then(Self::from_stored).ok_or(KeyVersionError)
    }

    /// A version read back from a row; `None` when it is not positive.
    pub fn from_stored(value: i32) -> Option<Self> {
        (value >= 1).then_some(Self(value))
    }

    pub fn get(self) -> i32 {
        self.0
    }

    /// The version a new key takes after this one.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(value: i32) -> KeyVersion {
        KeyVersion::from_stored(value).unwrap()
    }

    #[test]
    fn the_first_key_listed_is_the_newest_and_every_key_is_found_by_its_id() {
        let ring = KeyRing::new(vec![(version(3), "c"), (version(2), "b"), (version(1), "a")]).unwrap();
        assert_eq!(ring.newest(), (&version(3), &"c"));
        assert_eq!(ring.find(&version(1)), Some(&"a"));
        assert_eq!(ring.find(&version(4)), None);
        assert_eq!(ring.ids().copied().collect::<Vec<_>>(), [version(3), version(2), version(1)]);
        assert_eq!(ring.map(|key| key.to_uppercase()).find(&version(2)).map(String::as_str), Some("B"));
        assert_eq!(KeyRing::single(version(1), "a").iter().collect::<Vec<_>>(), [(&version(1), &"a")]);
    }

    #[test]
    fn a_ring_has_at_least_one_key_and_each_id_once() {
        assert_eq!(KeyRing::<KeyVersion, &str>::new(vec![]).unwrap_err(), KeyRingError::Empty);
        assert_eq!(
            KeyRing::new(vec![(version(2), "b"), (version(1), "a"), (version(2), "c")]).unwrap_err(),
            KeyRingError::DuplicateId("2".to_owned())
        );
    }

    #[test]
    fn key_versions_are_positive_whole_numbers() {
        assert_eq!(KeyVersion::parse("2"), Ok(version(2)));
        for bad in ["", "0", "-1", "+1", "1.5", "v2", "99999999999"] {
            assert_eq!(KeyVersion::parse(bad), Err(KeyVersionError), "{bad}");
        }
        assert_eq!(KeyVersion::from_stored(0), None);
        assert_eq!(KeyVersion::FIRST.next(), Some(version(2)));
        assert_eq!(version(i32::MAX).next(), None);
    }
}
