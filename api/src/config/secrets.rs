//! The secrets the service runs with: each kind (token, PIN, card issuer) a ring of keys,
//! newest first, from its list variable and the single-key variable of earlier releases
//! (README, Going live, Key rotation).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::{Cli, ConfigError};
use crate::domain::auth::PinKey;
use crate::domain::card_qr::{IssuerKeys, IssuerSigningKey};
use crate::domain::key_ring::{KeyRing, KeyRingError, KeyVersion};
use crate::domain::pin_keys::PinKeys;

/// A secret from the command line or the environment. Never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, in time that does not depend on where they differ
    /// (both are hashed first, so the length leaks nothing either).
    pub fn matches(&self, given: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        Sha256::digest(self.0.as_bytes()).ct_eq(&Sha256::digest(given.as_bytes())).into()
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(***)")
    }
}

/// The shortest token-signing or PIN key accepted, in bytes.
pub const SECRET_BYTES_MIN: usize = 32;

// Development defaults: public, so only for a laptop or a test. Production mode refuses
// to start without real ones.
const DEVELOPMENT_JWT_SECRET: &str = "kks-development-jwt-secret-do-not-use-in-production";
const DEVELOPMENT_PIN_KEY: &str = "kks-development-pin-key-do-not-use-in-production";
const DEVELOPMENT_ISSUER_KEY: &str = "4b4b53206465766c6f706d656e7420697373756572206b6579202d206e6f7421";

/// The secrets the service runs with, resolved from the configuration: each kind a ring
/// of keys, newest first (README, Going live, Key rotation).
pub struct Secrets {
    pub jwt_secrets: KeyRing<KeyVersion, Secret>,
    pub pin_secrets: KeyRing<KeyVersion, Secret>,
    pub issuer_keys: Arc<IssuerKeys>,
    /// Whether a built-in development secret is in use (logged loudly).
    pub development: bool,
}

impl Secrets {
    pub fn pin_keys(&self) -> PinKeys {
        self.pin_secrets.map(|secret| PinKey::new(secret.expose().as_bytes()))
    }
}

/// Where one kind of key is configured: a list, newest first, and the single-key variable
/// of earlier releases, which joins the list as its oldest key.
struct KeySource<'a> {
    list: &'a Option<Secret>,
    list_name: &'static str,
    single: &'a Option<Secret>,
    single_name: &'static str,
    development: &'static str,
}

impl Cli {
    pub fn secrets(&self) -> Result<Secrets, ConfigError> {
        let (jwt_secrets, jwt_development) = self.versioned_keys(&KeySource {
            list: &self.jwt_keys,
            list_name: "KKS_JWT_KEYS",
            single: &self.jwt_secret,
            single_name: "KKS_JWT_SECRET",
            development: DEVELOPMENT_JWT_SECRET,
        })?;
        let (pin_secrets, pin_development) = self.versioned_keys(&KeySource {
            list: &self.pin_keys,
            list_name: "KKS_PIN_KEYS",
            single: &self.pin_key,
            single_name: "KKS_PIN_KEY",
            development: DEVELOPMENT_PIN_KEY,
        })?;
        let source = KeySource {
            list: &self.issuer_keys,
            list_name: "KKS_ISSUER_KEYS",
            single: &self.issuer_key,
            single_name: "KKS_ISSUER_KEY",
            development: DEVELOPMENT_ISSUER_KEY,
        };
        let (issuer_hex, issuer_development) = self.key_entries(&source)?;
        let issuer_keys = issuer_hex
            .iter()
            .map(|(name, hex)| {
                IssuerSigningKey::from_hex(hex.expose())
                    .map_err(|error| ConfigError::Key(name.clone(), error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let issuer_keys = IssuerKeys::from_keys(issuer_keys).map_err(|error| source.refused(&error))?;
        Ok(Secrets {
            jwt_secrets,
            pin_secrets,
            issuer_keys: Arc::new(issuer_keys),
            development: jwt_development || pin_development || issuer_development,
        })
    }

    /// The token or PIN keys: `VERSION:SECRET` entries, then the single key as version 1.
    fn versioned_keys(&self, source: &KeySource<'_>) -> Result<(KeyRing<KeyVersion, Secret>, bool), ConfigError> {
        let (entries, development) = self.key_entries(source)?;
        let mut keys = Vec::with_capacity(entries.len());
        for (name, entry) in entries {
            let (version, secret) = if name == source.single_name {
                (KeyVersion::FIRST, entry)
            } else {
                let (version, secret) = entry
                    .expose()
                    .split_once(':')
                    .ok_or_else(|| ConfigError::Key(name.clone(), "write VERSION:SECRET".to_owned()))?;
                let version = KeyVersion::parse(version.trim())
                    .map_err(|error| ConfigError::Key(name.clone(), error.to_string()))?;
                (version, Secret(secret.trim().to_owned()))
            };
            if secret.0.len() < SECRET_BYTES_MIN {
                return Err(ConfigError::SecretTooShort(name, SECRET_BYTES_MIN));
            }
            keys.push((version, secret));
        }
        Ok((KeyRing::new(keys).map_err(|error| source.refused(&error))?, development))
    }

    /// The entries of a source, each with the name an error message gives it, newest
    /// first; the development key when none is configured (refused in production mode).
    fn key_entries(&self, source: &KeySource<'_>) -> Result<(Vec<(String, Secret)>, bool), ConfigError> {
        let mut entries = Vec::new();
        if let Some(list) = source.list {
            for (index, entry) in list.expose().split(',').enumerate() {
                let name = format!("{} entry {}", source.list_name, index.saturating_add(1));
                if entry.trim().is_empty() {
                    return Err(ConfigError::Key(name, "is empty".to_owned()));
                }
                entries.push((name, Secret(entry.trim().to_owned())));
            }
        }
        if let Some(single) = source.single {
            entries.push((source.single_name.to_owned(), single.clone()));
        }
        if !entries.is_empty() {
            return Ok((entries, false));
        }
        if self.production {
            return Err(ConfigError::MissingSecret(source.single_name, source.list_name));
        }
        Ok((vec![(source.single_name.to_owned(), Secret(source.development.to_owned()))], true))
    }
}

impl KeySource<'_> {
    fn refused(&self, error: &KeyRingError) -> ConfigError {
        ConfigError::Key(
            self.list_name.to_owned(),
            format!("{error} ({} counts as the oldest key, version 1 for tokens and PINs)", self.single_name),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_itself_only() {
        let secret = Secret::from_str("gateway-secret").unwrap();
        assert!(secret.matches("gateway-secret"));
        for wrong in ["", "gateway-secre", "gateway-secret ", "Gateway-secret"] {
            assert!(!secret.matches(wrong), "{wrong:?}");
        }
    }
}
