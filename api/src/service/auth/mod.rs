//! Logging in, proving who is calling, and logging out.

pub mod family_login;
pub mod password_change;
pub mod passwords;
pub mod pin;
pub mod principal;
pub mod tokens;

use std::time::Duration;

use crate::domain::auth::Password;
use crate::domain::key_ring::{KeyRing, KeyVersion};
use crate::domain::pin_keys::PinKeys;
use crate::service::ServiceError;
use crate::store::agents::Agent;
use crate::store::{agents, audit, families, operators, Store, StoreError, Tx};

/// Where an operator replaces a password an admin set.
pub const OPERATOR_PASSWORD_PATH: &str = "/v1/auth/operators/password";
/// Where an agent replaces a password an admin set.
pub const AGENT_PASSWORD_PATH: &str = "/v1/auth/agents/password";
pub use principal::{Principal, Role};
use tokens::{TokenKind, TokenPair, TokenService};

/// The keys and lifetimes that authentication runs with.
#[derive(Clone)]
pub struct Auth {
    pub tokens: TokenService,
    pub pin_keys: PinKeys,
}

impl Auth {
    pub fn new(
        jwt_secrets: &KeyRing<KeyVersion, Vec<u8>>,
        pin_keys: PinKeys,
        access_lifetime: Duration,
        refresh_lifetime: Duration,
    ) -> Self {
        Self { tokens: TokenService::new(jwt_secrets, access_lifetime, refresh_lifetime), pin_keys }
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

/// The principal, if its token version is still the current one (not logged out since)
/// and, for an agent, its terminal is still its own and active.
pub fn check_not_revoked(store: &Store, principal: Principal, version: i64) -> Result<Principal, ServiceError> {
    store.read_one(|tx| ensure_still_valid(tx, &principal, version))?;
    Ok(principal)
}

/// Refuses a token that was revoked since it was issued (see [`check_not_revoked`]).
fn ensure_still_valid(tx: &mut Tx<'_>, principal: &Principal, version: i64) -> Result<(), ServiceError> {
    match principal {
        Principal::Agent { id, terminal } => agent_on_terminal(tx, *id, terminal, version).map(|_| ()),
        Principal::Operator { .. } | Principal::Family { .. } => ensure_current(token_version(tx, principal)?, version),
    }
}

/// The agent behind a token for `terminal_id`, if the token is current (the agent has not
/// logged out or been deactivated since) and the terminal is still the agent's and
/// active: an admin's deactivation or move of a terminal stops its tokens at once.
pub fn agent_on_terminal(
    tx: &mut Tx<'_>,
    agent_id: i64,
    terminal_id: &str,
    version: i64,
) -> Result<Agent, ServiceError> {
    let found = agents::find_with_terminal(tx, agent_id, terminal_id)?;
    let (agent, terminal) = found.filter(|(agent, _)| !agent.is_disabled()).ok_or(ServiceError::TokenRevoked)?;
    ensure_current(Some(agent.token_version), version)?;
    match terminal {
        Some(terminal) if terminal.agent_id != agent.id => Err(ServiceError::TerminalNotAllowed),
        Some(terminal) if !terminal.is_active() => Err(ServiceError::TerminalInactive(terminal.id)),
        Some(_) => Ok(agent),
        None => Err(ServiceError::TerminalNotAllowed),
    }
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
        // A deactivated agent's tokens stop at once, whatever their version.
        Principal::Agent { id, .. } => {
            agents::find_by_id(tx, *id)?.filter(|agent| !agent.is_disabled()).map(|agent| agent.token_version)
        }
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
        return Err(ServiceError::PasswordChangeRequired(OPERATOR_PASSWORD_PATH));
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
    // A deactivated agent is told nothing more than a stranger.
    let agent = agent.filter(|agent| !agent.is_disabled()).ok_or(ServiceError::WrongCredentials)?;
    if agent.password_change_required {
        return Err(ServiceError::PasswordChangeRequired(AGENT_PASSWORD_PATH));
    }
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
    store.read(|tx| ensure_still_valid(tx, &principal, claims.ver))?;
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
