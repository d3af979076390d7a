//! An operator or an agent replaces its own password, proving the current one (also the
//! way out of a password an admin set: it does nothing else). One use case for both: the
//! two log in with a user name and a password and differ only in their table.

use crate::domain::auth::{Password, WeakPassword};
use crate::service::auth::passwords;
use crate::service::ServiceError;
use crate::store::{agents, audit, operators, Store, StoreError, Tx};

/// Whose password is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordOwner {
    Operator,
    Agent,
}

/// What the change needs to know of the owner's row.
struct Holder {
    id: i64,
    username: String,
    password_hash: String,
    disabled: bool,
}

impl PasswordOwner {
    /// The owner's kind as the audit trail names it (`operator`, `agent`).
    fn kind(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Agent => "agent",
        }
    }

    fn holder(self, tx: &mut Tx<'_>, by: Lookup<'_>) -> Result<Option<Holder>, StoreError> {
        Ok(match self {
            Self::Operator => match by {
                Lookup::Username(username) => operators::find_by_username(tx, username)?,
                Lookup::Id(id) => operators::find_by_id(tx, id)?,
            }
            .map(|operator| Holder {
                disabled: operator.is_disabled(),
                id: operator.id,
                username: operator.username,
                password_hash: operator.password_hash,
            }),
            Self::Agent => match by {
                Lookup::Username(username) => agents::find_by_username(tx, username)?,
                Lookup::Id(id) => agents::find_by_id(tx, id)?,
            }
            .map(|agent| Holder {
                disabled: agent.is_disabled(),
                id: agent.id,
                username: agent.username,
                password_hash: agent.password_hash,
            }),
        })
    }

    /// Stores the new hash (chosen by its owner: no change required) and revokes every
    /// earlier token.
    fn replace(self, tx: &mut Tx<'_>, id: i64, password_hash: &str) -> Result<(), StoreError> {
        match self {
            Self::Operator => {
                operators::set_password(tx, id, password_hash, false)?;
                operators::bump_token_version(tx, id)
            }
            Self::Agent => {
                agents::set_password(tx, id, password_hash, false)?;
                agents::bump_token_version(tx, id)
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Lookup<'a> {
    Username(&'a str),
    Id(i64),
}

/// Replaces the password of `owner`'s `username` after checking `current`; a disabled
/// owner is told nothing more than a stranger. Every earlier token is revoked.
pub fn change_own_password(
    store: &Store,
    owner: PasswordOwner,
    username: &str,
    current: &Password,
    new_text: String,
) -> Result<(), ServiceError> {
    let holder = store.read(|tx| owner.holder(tx, Lookup::Username(username)))?;
    // The hash is checked outside any transaction: it takes tens of milliseconds.
    if !passwords::verify(current, holder.as_ref().map(|holder| holder.password_hash.as_str())) {
        return Err(ServiceError::WrongCredentials);
    }
    let holder = holder.filter(|holder| !holder.disabled).ok_or(ServiceError::WrongCredentials)?;
    let new = Password::parse_new(new_text, &holder.username)?;
    if new.expose() == current.expose() {
        return Err(WeakPassword::SameAsCurrent.into());
    }
    let password_hash = passwords::hash(&new)?;
    store.write(|tx| {
        // A change in between (an admin's reset, a deactivation) wins: the current
        // password proven above is gone.
        let unchanged = owner
            .holder(tx, Lookup::Id(holder.id))?
            .is_some_and(|now_stored| now_stored.password_hash == holder.password_hash && !now_stored.disabled);
        if !unchanged {
            return Err(ServiceError::WrongCredentials);
        }
        owner.replace(tx, holder.id, &password_hash)?;
        let kind = owner.kind();
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &format!("{kind}:{}", holder.id),
                action: &format!("{kind}.password_changed"),
                object_kind: kind,
                object_id: &holder.id.to_string(),
                reason: "changed by its owner",
                details: serde_json::json!({ "tokens_revoked": true }),
            },
        )?;
        Ok(())
    })
}
