//! Logging in, proving who is calling, and logging out.

pub mod family_login;
pub mod passwords;
pub mod pin;
pub mod principal;
pub mod tokens;

use std::time::Duration;

use crate::domain::auth::{Password, PinKey};
use crate::service::ServiceError;
use crate::store::{agents, audit, families, operators, Store, StoreError, Tx};
pub use principal::{Principal, Role};
use tokens::{TokenKind, TokenPair, TokenService};

/// The keys and lifetimes that authentication runs with.
#[derive(Clone)]
pub struct Auth {
    pub tokens: TokenService,
    pub pin_key: PinKey,
}

impl Auth {
    pub fn new(jwt_secret: &[u8], pin_key: PinKey, access_lifetime: Duration, refresh_lifetime: Duration) -> Self {
        Self { tokens: TokenService::new(jwt_secret, access_lifetime, refresh_lifetime), pin_key }
    }
}

/// The principal behind an access token, if the token verifies and has not been revoked.
pub fn authenticate(store: &Store, auth: &Auth, token: &str) -> Result<Principal, ServiceError> {
    let (principal, version) = verify_access_token(auth, token)?;
    check_not_revoked(store, principal, version)
}

/// The principal an access token names and the token version it carries, if its
/// signature, algorithm, issuer, audience and lifetime check out. No database work: a
/// forged token is refused before anything else about the request is looked at.
pub fn verify_access_token(auth: &Auth, token: &str) -> Result<(Principal, i64), ServiceError> {
    let claims = auth.tokens.verify(token, TokenKind::Access)?;
    Ok((Principal::from_claims(&claims)?, claims.ver))
}

/// The principal, if its token version is still the current one (not logged out since).
pub fn check_not_revoked(store: &Store, principal: Principal, version: i64) -> Result<Principal, ServiceError> {
    let current = store.read_one(|tx| token_version(tx, &principal))?;
    ensure_current(current, version)?;
    Ok(principal)
}

/// Refuses a token whose version is not the subject's current one: the subject logged out
/// since, or no longer exists (`current` is `None`).
pub fn ensure_current(current: Option<i64>, presented: i64) -> Result<(), ServiceError> {
    if current != Some(presented) {
        return Err(ServiceError::TokenRevoked);
    }
    Ok(())
}

/// The subject's current token version; `None` if the subject no longer exists.
fn token_version(tx: &mut Tx<'_>, principal: &Principal) -> Result<Option<i64>, StoreError> {
    Ok(match principal {
        // A disabled operator's tokens stop at once, whatever their version.
        Principal::Operator { id, .. } => operators::find_by_id(tx, *id)?
            .filter(|operator| !operator.is_disabled())
            .map(|operator| operator.token_version),
        Principal::Agent { id, .. } => agents::find_by_id(tx, *id)?.map(|agent| agent.token_version),
        Principal::Family { id } => families::find_by_id(tx, *id)?.map(|family| family.token_version),
    })
}

pub fn login_operator(
    store: &Store,
    auth: &Auth,
    username: &str,
    password: &Password,
) -> Result<TokenPair, ServiceError> {
    let operator = store.read(|tx| operators::find_by_username(tx, username))?;
    // The hash is checked outside any transaction: it takes tens of milliseconds.
    if !passwords::verify(password, operator.as_ref().map(|operator| operator.password_hash.as_str())) {
        return Err(ServiceError::WrongCredentials);
    }
    // A disabled operator is told nothing more than a stranger.
    let operator = operator.filter(|operator| !operator.is_disabled()).ok_or(ServiceError::WrongCredentials)?;
    if operator.password_change_required {
        return Err(ServiceError::PasswordChangeRequired);
    }
    let principal = Principal::Operator { id: operator.id, role: operator.role, scope: operator.scope };
    auth.tokens.issue_pair(&principal, operator.token_version)
}

pub fn login_agent(
    store: &Store,
    auth: &Auth,
    username: &str,
    password: &Password,
    terminal_id: &str,
) -> Result<TokenPair, ServiceError> {
    let agent = store.read(|tx| agents::find_by_username(tx, username))?;
    if !passwords::verify(password, agent.as_ref().map(|agent| agent.password_hash.as_str())) {
        return Err(ServiceError::WrongCredentials);
    }
    let agent = agent.ok_or(ServiceError::WrongCredentials)?;
    let terminal = store.read(|tx| agents::find_terminal_by_id(tx, terminal_id))?;
    if !terminal.is_some_and(|terminal| terminal.agent_id == agent.id && terminal.is_active()) {
        return Err(ServiceError::TerminalNotAllowed);
    }
    let principal = Principal::Agent { id: agent.id, terminal: terminal_id.to_owned() };
    auth.tokens.issue_pair(&principal, agent.token_version)
}

pub use family_login::login_family;

/// A new token pair for a refresh token that is still valid and not revoked.
pub fn refresh(store: &Store, auth: &Auth, refresh_token: &str) -> Result<TokenPair, ServiceError> {
    let claims = auth.tokens.verify(refresh_token, TokenKind::Refresh)?;
    let principal = Principal::from_claims(&claims)?;
    let current = store.read(|tx| token_version(tx, &principal))?;
    ensure_current(current, claims.ver)?;
    auth.tokens.issue_pair(&principal, claims.ver)
}

/// Revokes every token of the caller, on every device, and says so in the audit trail.
pub fn logout(store: &Store, principal: &Principal) -> Result<(), ServiceError> {
    store.write(|tx| {
        let (object_kind, id) = match principal {
            Principal::Operator { id, .. } => ("operator", *id),
            Principal::Agent { id, .. } => ("agent", *id),
            Principal::Family { id } => ("family", *id),
        };
        match principal {
            Principal::Operator { .. } => operators::bump_token_version(tx, id)?,
            Principal::Agent { .. } => agents::bump_token_version(tx, id)?,
            Principal::Family { .. } => families::bump_token_version(tx, id)?,
        }
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &principal.subject(),
                action: "tokens.revoked",
                object_kind,
                object_id: &id.to_string(),
                reason: "logged out: every earlier token of this user is revoked",
                details: serde_json::json!({}),
            },
        )
    })?;
    Ok(())
}
