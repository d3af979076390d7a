//! The passwords of operators and agents: the owner replaces its own, proving the current
//! one (also the way out of a password an admin set: it does nothing else), or an admin
//! sets one that must be replaced. One piece for both: the two log in with a user name and
//! a password and differ only in their table.

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

    /// Stores the new hash, to be replaced at the next login when `chosen_by_another`, and
    /// revokes every earlier token.
    fn store(self, tx: &mut Tx<'_>, id: i64, password_hash: &str, chosen_by_another: bool) -> Result<(), StoreError> {
        match self {
            Self::Operator => {
                operators::set_password(tx, id, password_hash, chosen_by_another)?;
                operators::bump_token_version(tx, id)
            }
            Self::Agent => {
                agents::set_password(tx, id, password_hash, chosen_by_another)?;
                agents::bump_token_version(tx, id)
            }
        }
    }

    /// Stores the hash and records in the audit trail who set it and why
    /// (`operator.password_changed`, `agent.password_reset`…).
    fn set(
        self,
        tx: &mut Tx<'_>,
        id: i64,
        password_hash: &str,
        by: PasswordSetter<'_>,
        why: &str,
    ) -> Result<(), ServiceError> {
        let (actor, event, chosen_by_another) = match by {
            PasswordSetter::Owner => (format!("{}:{id}", self.kind()), "password_changed", false),
            PasswordSetter::Admin(actor) => (actor.to_owned(), "password_reset", true),
        };
        self.store(tx, id, password_hash, chosen_by_another)?;
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &actor,
                action: &format!("{}.{event}", self.kind()),
                object_kind: self.kind(),
                object_id: &id.to_string(),
                reason: why,
                details: serde_json::json!({ "tokens_revoked": true }),
            },
        )?;
        Ok(())
    }
}

/// Who sets a password: its owner, or an admin (by its audit subject, `operator:7`).
#[derive(Clone, Copy)]
enum PasswordSetter<'a> {
    Owner,
    Admin(&'a str),
}

/// An admin sets a temporary password for `owner`'s `id`, inside the admin's transaction
/// (which has checked the admin may): every token of the owner stops, and the owner must
/// choose a new password before working again.
pub fn set_by_admin(
    tx: &mut Tx<'_>,
    owner: PasswordOwner,
    id: i64,
    password_hash: &str,
    admin: &str,
    why: &str,
) -> Result<(), ServiceError> {
    owner.set(tx, id, password_hash, PasswordSetter::Admin(admin), why)
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
        owner.set(tx, holder.id, &password_hash, PasswordSetter::Owner, "changed by its owner")
    })
}
