//! Programme staff: the first admin of an empty database (from the command line), and
//! admins creating, listing, changing, disabling and resetting the people of their region.
//! Whatever changes a person's rights (role, region, disabling, a password reset) revokes
//! that person's tokens in the same transaction.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::password_change::{self, PasswordOwner};
use super::auth::{passwords, Principal};
use super::ServiceError;
use crate::domain::auth::{may_manage, OperatorRole, Password, RegionCode, RegionScope, Username};
use crate::store::operators::{self, Operator, OperatorInsertForm, OperatorUpdateForm};
use crate::store::{audit, now, regions, Store, Tx};

/// The longest display name, in characters.
pub const DISPLAY_NAME_CHARS_MAX: usize = 100;
/// The longest reason for a change, in characters.
pub const REASON_CHARS_MAX: usize = 500;
/// Operators listed per page at most, and by default.
pub const OPERATORS_PER_PAGE_MAX: i64 = 200;
pub const OPERATORS_PER_PAGE_DEFAULT: i64 = 100;
/// How the `region` fields name the whole country.
const NATIONAL: &str = "national";

/// A national admin to create, as typed by whoever runs `kks admin create`.
pub struct NewAdmin {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// A person an admin adds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    /// Lower-case letters, digits, '.', '_' or '-', starting with a letter.
    #[schema(min_length = 3, max_length = 64, example = "operator.bandung")]
    pub username: String,
    #[schema(min_length = 1, max_length = 100, example = "Operator Dinsos Kabupaten Bandung")]
    pub display_name: String,
    pub role: OperatorRole,
    /// The part of the country the person works in: a region code, or `national`.
    #[schema(example = "32.04")]
    pub region: String,
    /// A first password, which the person must replace at first login.
    #[schema(value_type = String, min_length = 12, max_length = 128, example = "tiga kambing di sawah")]
    pub password: String,
}

/// What an admin changes about a person; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorChange {
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub role: Option<OperatorRole>,
    /// A region code, or `national`.
    #[schema(example = "32.04")]
    pub region: Option<String>,
    /// `true` disables (every token stops at once; the history stays), `false` enables.
    pub disabled: Option<bool>,
    /// Why, for the audit trail.
    #[schema(min_length = 1, max_length = 500, example = "moved to the regency office")]
    pub reason: String,
}

/// An admin sets a new password for a person who forgot theirs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// A temporary password, which the person must replace at next login.
    #[schema(value_type = String, min_length = 12, max_length = 128)]
    pub password: String,
    #[schema(min_length = 1, max_length = 500, example = "forgot the password; identity checked by phone")]
    pub reason: String,
}

/// Which people to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OperatorQuery {
    pub role: Option<OperatorRole>,
    /// Paging: people after this id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 100).
    pub limit: Option<i64>,
}

/// A person as an admin sees them (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: OperatorRole,
    /// A region code, or `national`.
    pub region: String,
    /// When an admin disabled the person; absent: active.
    pub disabled_at: Option<NaiveDateTime>,
    /// The person must choose a new password before working.
    pub password_change_required: bool,
    pub created_at: NaiveDateTime,
}

impl From<Operator> for OperatorView {
    fn from(operator: Operator) -> Self {
        Self {
            id: operator.id,
            username: operator.username,
            display_name: operator.display_name,
            role: operator.role,
            region: scope_text(&operator.scope).to_owned(),
            disabled_at: operator.disabled_at,
            password_change_required: operator.password_change_required,
            created_at: operator.created_at,
        }
    }
}

fn scope_text(scope: &RegionScope) -> &str {
    match scope {
        RegionScope::National => NATIONAL,
        RegionScope::Region(code) => code.as_str(),
    }
}

fn parse_scope(text: &str) -> Result<RegionScope, ServiceError> {
    if text == NATIONAL {
        return Ok(RegionScope::National);
    }
    RegionCode::parse(text)
        .map(RegionScope::Region)
        .map_err(|_| ServiceError::Invalid(format!("region: {text:?} is neither a region code nor {NATIONAL:?}")))
}

pub(crate) fn display_name(text: &str) -> Result<&str, ServiceError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > DISPLAY_NAME_CHARS_MAX || text.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(format!(
            "display_name: 1 to {DISPLAY_NAME_CHARS_MAX} characters, without control characters"
        )));
    }
    Ok(text)
}

pub(crate) fn reason(text: &str) -> Result<&str, ServiceError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > REASON_CHARS_MAX || text.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(format!(
            "reason: 1 to {REASON_CHARS_MAX} characters, without control characters"
        )));
    }
    Ok(text)
}

/// The caller's role and scope, if the caller is an admin.
fn admin(caller: &Principal) -> Result<(OperatorRole, &RegionScope), ServiceError> {
    match caller {
        Principal::Operator { role: OperatorRole::Admin, scope, .. } => Ok((OperatorRole::Admin, scope)),
        _ => Err(ServiceError::Forbidden("only admins manage people".to_owned())),
    }
}

fn is_caller(caller: &Principal, id: i64) -> bool {
    matches!(caller, Principal::Operator { id: caller_id, .. } if *caller_id == id)
}

/// Creates a national admin: the way into an empty production database. The person
/// typed the password themselves, so it need not be changed at first login.
pub fn create_admin(store: &Store, new: &NewAdmin) -> Result<Operator, ServiceError> {
    let username = Username::parse(&new.username)?;
    let display_name = display_name(&new.display_name)?;
    let password = Password::parse_new(new.password.clone(), username.as_str())?;
    let password_hash = passwords::hash(&password)?;
    let form = OperatorInsertForm::new(
        username.as_str(),
        display_name,
        OperatorRole::Admin,
        &RegionScope::National,
        &password_hash,
    );
    store.write(|tx| insert(tx, &form, "system:cli", "national admin created with `kks admin create`"))
}

/// An admin adds a person inside its own part of the country, with a first password the
/// person replaces at first login.
pub fn create(store: &Store, caller: &Principal, new: &NewOperator) -> Result<OperatorView, ServiceError> {
    let (role, own_scope) = admin(caller)?;
    let username = Username::parse(&new.username)?;
    let display_name = display_name(&new.display_name)?;
    let scope = parse_scope(&new.region)?;
    if !may_manage(role, own_scope, &scope) {
        return Err(ServiceError::Forbidden(format!(
            "you may add people only inside {}, not in {}",
            scope_text(own_scope),
            scope_text(&scope)
        )));
    }
    let password = Password::parse_new(new.password.clone(), username.as_str())?;
    let password_hash = passwords::hash(&password)?;
    let form = OperatorInsertForm::new(username.as_str(), display_name, new.role, &scope, &password_hash)
        .with_password_chosen_by_another();
    store.write(|tx| {
        ensure_registered(tx, &scope)?;
        insert(tx, &form, &caller.subject(), "added by an admin").map(OperatorView::from)
    })
}

fn ensure_registered(tx: &mut Tx<'_>, scope: &RegionScope) -> Result<(), ServiceError> {
    if let RegionScope::Region(code) = scope {
        if regions::find_by_code(tx, code)?.is_none() {
            return Err(ServiceError::Invalid(format!("region {code} is not registered")));
        }
    }
    Ok(())
}

/// Inserts an operator and records it in the audit trail, in the caller's transaction.
fn insert(tx: &mut Tx<'_>, form: &OperatorInsertForm<'_>, actor: &str, why: &str) -> Result<Operator, ServiceError> {
    if operators::find_by_username(tx, form.username)?.is_some() {
        return Err(ServiceError::UsernameTaken);
    }
    let operator = operators::insert(tx, form).map_err(|error| match error {
        // Two people created at once under one name: the unique index decides.
        error if error.is_unique_violation() => ServiceError::UsernameTaken,
        other => other.into(),
    })?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action: "operator.created",
            object_kind: "operator",
            object_id: &operator.id.to_string(),
            reason: why,
            details: serde_json::json!({
                "username": operator.username,
                "role": operator.role,
                "region": scope_text(&operator.scope),
            }),
        },
    )?;
    Ok(operator)
}

/// The people inside the admin's own part of the country, by id.
pub fn list(store: &Store, caller: &Principal, query: &OperatorQuery) -> Result<Vec<OperatorView>, ServiceError> {
    let (_, own_scope) = admin(caller)?;
    // Checked at the door (PAGING_INVALID); kept within the bound here whatever the caller.
    let limit = query.limit.unwrap_or(OPERATORS_PER_PAGE_DEFAULT).clamp(1, OPERATORS_PER_PAGE_MAX);
    let page = store.read(|tx| operators::find_page(tx, own_scope, query.role, query.after.unwrap_or(0), limit))?;
    Ok(page.into_iter().map(OperatorView::from).collect())
}

/// A person the admin may manage, or "not found" (an admin outside the person's region
/// is not told that the person exists).
fn managed(tx: &mut Tx<'_>, caller: &Principal, id: i64) -> Result<Operator, ServiceError> {
    let (role, own_scope) = admin(caller)?;
    operators::find_by_id(tx, id)?
        .filter(|operator| may_manage(role, own_scope, &operator.scope))
        .ok_or(ServiceError::NotFound("operator"))
}

/// An admin changes a person's name, role, region or access. A change of rights revokes
/// the person's tokens at once; an admin cannot change its own rights (another admin
/// must), so nobody locks the last admin out by mistake.
pub fn change(
    store: &Store,
    caller: &Principal,
    id: i64,
    change: &OperatorChange,
) -> Result<OperatorView, ServiceError> {
    let (role, own_scope) = admin(caller)?;
    let why = reason(&change.reason)?;
    let new_name = change.display_name.as_deref().map(display_name).transpose()?;
    let new_scope = change.region.as_deref().map(parse_scope).transpose()?;
    // An empty change would reach the database as an UPDATE with nothing to set.
    if new_name.is_none() && change.role.is_none() && new_scope.is_none() && change.disabled.is_none() {
        return Err(ServiceError::Invalid("nothing to change: give display_name, role, region or disabled".to_owned()));
    }
    if let Some(scope) = new_scope.as_ref().filter(|scope| !may_manage(role, own_scope, scope)) {
        return Err(ServiceError::Forbidden(format!(
            "you may move people only inside {}, not to {}",
            scope_text(own_scope),
            scope_text(scope)
        )));
    }
    store.write(|tx| {
        let before = managed(tx, caller, id)?;
        let rights_change = change.role.is_some_and(|new| new != before.role)
            || new_scope.as_ref().is_some_and(|scope| *scope != before.scope)
            || change.disabled.is_some_and(|disabled| disabled != before.is_disabled());
        if rights_change && is_caller(caller, id) {
            return Err(ServiceError::Forbidden(
                "you cannot change your own role, region or access: ask another admin".to_owned(),
            ));
        }
        if let Some(scope) = &new_scope {
            ensure_registered(tx, scope)?;
        }
        let form = OperatorUpdateForm {
            display_name: new_name,
            role: change.role.map(<&str>::from),
            region_code: new_scope.as_ref().map(OperatorUpdateForm::region_code_of),
            disabled_at: change.disabled.map(|disabled| disabled.then(|| before.disabled_at.unwrap_or_else(now))),
        };
        let after = operators::update(tx, id, &form)?;
        if rights_change {
            operators::bump_token_version(tx, id)?;
        }
        let state = |operator: &Operator| {
            serde_json::json!({
                "display_name": operator.display_name,
                "role": operator.role,
                "region": scope_text(&operator.scope),
                "disabled": operator.is_disabled(),
            })
        };
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &caller.subject(),
                action: "operator.changed",
                object_kind: "operator",
                object_id: &id.to_string(),
                reason: why,
                details: serde_json::json!({
                    "before": state(&before),
                    "after": state(&after),
                    "tokens_revoked": rights_change,
                }),
            },
        )?;
        Ok(OperatorView::from(after))
    })
}

/// An admin sets a temporary password for a person: the person's tokens stop, and the
/// person must choose a new password before working again.
pub fn reset_password(store: &Store, caller: &Principal, id: i64, reset: &PasswordReset) -> Result<(), ServiceError> {
    admin(caller)?;
    if is_caller(caller, id) {
        return Err(ServiceError::Forbidden(
            "change your own password with POST /v1/auth/operators/password".to_owned(),
        ));
    }
    let why = reason(&reset.reason)?;
    let target = store.read(|tx| managed(tx, caller, id))?;
    let password = Password::parse_new(reset.password.clone(), &target.username)?;
    let password_hash = passwords::hash(&password)?;
    store.write(|tx| {
        managed(tx, caller, id)?;
        password_change::set_by_admin(tx, PasswordOwner::Operator, id, &password_hash, &caller.subject(), why)
    })
}
