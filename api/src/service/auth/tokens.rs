//! Access and refresh tokens: HS256 JWTs with a pinned algorithm, issuer, audience,
//! expiry and the subject's token version (raised to revoke). Each token names the key
//! that signed it in its `kid` header, so after a key rotation the tokens already out keep
//! working until they expire while new ones are signed with the newest key.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::principal::{Principal, Role};
use crate::domain::key_ring::{KeyRing, KeyVersion};
use crate::service::ServiceError;

pub const TOKEN_ISSUER: &str = "kks";
pub const TOKEN_AUDIENCE: &str = "kks-api";
/// Clock difference tolerated between servers, in seconds.
const CLOCK_LEEWAY_SECONDS: u64 = 30;
/// The longest token accepted, in bytes (ours are well under 1 KiB).
pub const TOKEN_BYTES_MAX: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The claims of every KKS token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `operator:7`, `agent:3` or `family:12`.
    pub sub: String,
    pub role: Role,
    /// An operator's region scope (absent: national).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The terminal an agent logged in on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// The subject's token version when issued; a later version revokes this token.
    pub ver: i64,
    pub typ: TokenKind,
}

/// What a login or a refresh returns.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Signs tokens with the newest secret and checks each with the secret its `kid` names.
#[derive(Clone)]
pub struct TokenService {
    keys: KeyRing<KeyVersion, (EncodingKey, DecodingKey)>,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
}

impl TokenService {
    /// From the token-signing secrets by version, newest first.
    pub fn new(secrets: &KeyRing<KeyVersion, Vec<u8>>, access_lifetime: Duration, refresh_lifetime: Duration) -> Self {
        let keys = secrets.map(|secret| (EncodingKey::from_secret(secret), DecodingKey::from_secret(secret)));
        Self { keys, access_lifetime, refresh_lifetime }
    }

    pub fn issue_pair(&self, principal: &Principal, token_version: i64) -> Result<TokenPair, ServiceError> {
        Ok(TokenPair {
            access_token: self.issue(principal, token_version, TokenKind::Access)?,
            refresh_token: self.issue(principal, token_version, TokenKind::Refresh)?,
            token_type: "Bearer".to_owned(),
            expires_in: self.access_lifetime.as_secs(),
        })
    }

    fn issue(&self, principal: &Principal, token_version: i64, kind: TokenKind) -> Result<String, ServiceError> {
        let issued_at = chrono::Utc::now().timestamp();
        let lifetime = match kind {
            TokenKind::Access => self.access_lifetime,
            TokenKind::Refresh => self.refresh_lifetime,
        };
        let mut claims = principal.claims();
        claims.iat = issued_at;
        claims.exp = issued_at.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
        claims.ver = token_version;
        claims.typ = kind;
        let (version, (encoding, _)) = self.keys.newest();
        let header = Header { kid: Some(version.to_string()), ..Header::new(Algorithm::HS256) };
        jsonwebtoken::encode(&header, &claims, encoding)
            .map_err(|error| ServiceError::Invalid(format!("signing a token: {error}")))
    }

    /// Checks signature (HS256 only: `none` and every other algorithm are refused),
    /// issuer, audience and expiry, and that the token is of the kind expected. A refusal
    /// says what the client must do, never which check of the library failed.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, ServiceError> {
        if token.len() > TOKEN_BYTES_MAX {
            return Err(kind.not_valid());
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[TOKEN_ISSUER]);
        validation.set_audience(&[TOKEN_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        let decoding = self.decoding_key(token, kind)?;
        let claims = jsonwebtoken::decode::<Claims>(token, decoding, &validation)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => kind.expired(),
                _ => kind.not_valid(),
            })?
            .claims;
        if claims.typ != kind {
            return Err(ServiceError::Unauthenticated(format!(
                "{} was sent where {} is needed: send {}",
                claims.typ.with_article(),
                kind.with_article(),
                kind.with_the()
            )));
        }
        Ok(claims)
    }
}

impl TokenService {
    /// The secret that checks `token`: the one its `kid` names, or version 1 for a token
    /// from before key ids (no `kid`). A key no longer configured refuses the token.
    fn decoding_key(&self, token: &str, kind: TokenKind) -> Result<&DecodingKey, ServiceError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| kind.not_valid())?;
        let version = match header.kid {
            None => KeyVersion::FIRST,
            Some(kid) => KeyVersion::parse(&kid).map_err(|_| kind.not_valid())?,
        };
        self.keys.find(&version).map(|(_, decoding)| decoding).ok_or(ServiceError::TokenKeyRetired)
    }
}

impl TokenKind {
    fn with_article(self) -> &'static str {
        match self {
            Self::Access => "an access token",
            Self::Refresh => "a refresh token",
        }
    }

    fn with_the(self) -> &'static str {
        match self {
            Self::Access => "the access token",
            Self::Refresh => "the refresh token",
        }
    }

    /// Forged, altered, truncated, for another audience or algorithm: whatever the cause,
    /// the client's only remedy is a new login.
    pub fn not_valid(self) -> ServiceError {
        let capitalised = match self {
            Self::Access => "The access token",
            Self::Refresh => "The refresh token",
        };
        ServiceError::Unauthenticated(format!("{capitalised} is not valid: sign in again"))
    }

    fn expired(self) -> ServiceError {
        ServiceError::Unauthenticated(
            match self {
                Self::Access => "The access token has expired: get a new one with the refresh token, or sign in again",
                Self::Refresh => "The refresh token has expired: sign in again",
            }
            .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFETIME: Duration = Duration::from_secs(600);

    fn tokens(versions: &[(&str, &str)]) -> TokenService {
        let secrets = versions
            .iter()
            .map(|(version, secret)| (KeyVersion::parse(version).unwrap(), secret.as_bytes().to_vec()))
            .collect();
        TokenService::new(&KeyRing::new(secrets).unwrap(), LIFETIME, LIFETIME)
    }

    fn access_token(service: &TokenService) -> String {
        service.issue_pair(&Principal::Family { id: 12 }, 1).unwrap().access_token
    }

    fn kid(token: &str) -> Option<String> {
        jsonwebtoken::decode_header(token).unwrap().kid
    }

    #[test]
    fn tokens_are_signed_by_the_newest_key_and_name_it() {
        let service = tokens(&[("2", "second secret"), ("1", "first secret")]);
        let token = access_token(&service);
        assert_eq!(kid(&token).as_deref(), Some("2"));
        assert_eq!(service.verify(&token, TokenKind::Access).unwrap().sub, "family:12");
    }

    #[test]
    fn a_token_of_an_older_key_verifies_until_that_key_is_retired() {
        let old = access_token(&tokens(&[("1", "first secret")]));
        assert!(tokens(&[("2", "second secret"), ("1", "first secret")]).verify(&old, TokenKind::Access).is_ok());
        let retired = tokens(&[("2", "second secret")]).verify(&old, TokenKind::Access).unwrap_err();
        assert!(matches!(retired, ServiceError::TokenKeyRetired), "{retired:?}");
    }

    #[test]
    fn a_token_without_a_key_id_verifies_with_version_one() {
        let claims = Principal::Family { id: 12 }.claims();
        let claims = Claims { exp: chrono::Utc::now().timestamp() + 600, typ: TokenKind::Access, ..claims };
        let legacy =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"first secret"))
                .unwrap();
        assert!(tokens(&[("2", "second secret"), ("1", "first secret")]).verify(&legacy, TokenKind::Access).is_ok());
        let refused = tokens(&[("2", "first secret")]).verify(&legacy, TokenKind::Access).unwrap_err();
        assert!(matches!(refused, ServiceError::TokenKeyRetired), "{refused:?}");
    }

    #[test]
    fn a_key_id_that_is_not_a_version_is_not_valid() {
        let service = tokens(&[("1", "first secret")]);
        let token = access_token(&service);
        let header = jsonwebtoken::encode(
            &Header { kid: Some("k1".to_owned()), ..Header::new(Algorithm::HS256) },
            &service.verify(&token, TokenKind::Access).unwrap(),
            &EncodingKey::from_secret(b"first secret"),
        )
        .unwrap();
        let refused = service.verify(&header, TokenKind::Access).unwrap_err();
        assert!(matches!(refused, ServiceError::Unauthenticated(_)), "{refused:?}");
    }
}
