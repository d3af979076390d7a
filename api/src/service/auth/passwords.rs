//! Operator and agent passwords, hashed with argon2id (tens of milliseconds on purpose).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::domain::auth::Password;
use crate::service::ServiceError;

/// The PHC string to store for a password (argon2id, default parameters, random salt).
pub fn hash(password: &Password) -> Result<String, ServiceError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|error| ServiceError::Invalid(format!("salt: {error}")))?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ServiceError::Invalid(format!("hashing the password: {error}")))
}

/// Whether `password` matches `stored`. With no stored hash (unknown user) it checks a
/// dummy hash anyway, so that the answer takes as long and says nothing.
pub fn verify(password: &Password, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        Password::parse("no user has this password".to_owned()).and_then(|dummy| hash(&dummy).ok()).unwrap_or_default()
    });
    let matches = PasswordHash::new(stored.unwrap_or(dummy))
        .is_ok_and(|parsed| Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok());
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let password = Password::parse("correct horse battery".to_owned()).unwrap();
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&password, Some(&stored)));
        assert!(!verify(&Password::parse("wrong horse battery".to_owned()).unwrap(), Some(&stored)));
        assert!(!verify(&password, None), "an unknown user never logs in");
        assert!(!verify(&password, Some("not a hash")));
    }
}
