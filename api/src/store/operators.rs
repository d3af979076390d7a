//! Operators: programme staff with a role and a region scope.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::operators;
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::auth::{OperatorRole, RegionCode, RegionScope};

#[derive(Debug, Clone)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: OperatorRole,
    pub scope: RegionScope,
    pub password_hash: String,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    /// Set when an admin disabled the operator: no login, no token, history kept.
    pub disabled_at: Option<NaiveDateTime>,
    /// Set by an admin's password reset: the operator chooses a new one before working.
    pub password_change_required: bool,
}

impl Operator {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = operators)]
struct OperatorRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    region_code: Option<String>,
    password_hash: String,
    token_version: i64,
    created_at: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
    password_change_required: bool,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = StoreError;
    fn try_from(row: OperatorRow) -> Result<Self, StoreError> {
        let scope = match row.region_code {
            None => RegionScope::National,
            Some(code) => RegionScope::Region(
                RegionCode::parse(&code).map_err(|_| StoreError::Corrupt(format!("operators.region_code {code:?}")))?,
            ),
        };
        Ok(Self {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            role: parse_stored("operators.role", &row.role)?,
            scope,
            password_hash: row.password_hash,
            token_version: row.token_version,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            password_change_required: row.password_change_required,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = operators)]
pub struct OperatorInsertForm<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub region_code: Option<&'a str>,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub password_change_required: bool,
}

impl<'a> OperatorInsertForm<'a> {
    pub fn new(
        username: &'a str,
        display_name: &'a str,
        role: OperatorRole,
        scope: &'a RegionScope,
        password_hash: &'a str,
    ) -> Self {
        Self {
            username,
            display_name,
            role: role.into(),
            region_code: region_code(scope),
            password_hash,
            created_at: now(),
            password_change_required: false,
        }
    }

    /// The password was chosen by someone else (an admin): its owner replaces it first.
    pub fn with_password_chosen_by_another(self) -> Self {
        Self { password_change_required: true, ..self }
    }
}

fn region_code(scope: &RegionScope) -> Option<&str> {
    match scope {
        RegionScope::National => None,
        RegionScope::Region(code) => Some(code.as_str()),
    }
}

/// What an admin changes about an operator; `None` leaves a field as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = operators)]
pub struct OperatorUpdateForm<'a> {
    pub display_name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub region_code: Option<Option<&'a str>>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
}

impl<'a> OperatorUpdateForm<'a> {
    /// The `region_code` column's value for a scope.
    pub fn region_code_of(scope: &'a RegionScope) -> Option<&'a str> {
        region_code(scope)
    }
}

pub fn insert(tx: &mut Tx<'_>, form: &OperatorInsertForm<'_>) -> Result<Operator, StoreError> {
    let row: OperatorRow = on_backend!(tx, connection => diesel::insert_into(operators::table)
        .values(form)
        .returning(OperatorRow::as_returning())
        .get_result(connection)?);
    Operator::try_from(row)
}

pub fn find_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<Operator>, StoreError> {
    let row: Option<OperatorRow> = on_backend!(tx, connection => operators::table
        .find(id)
        .select(OperatorRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Operator::try_from).transpose()
}

pub fn find_by_username(tx: &mut Tx<'_>, username: &str) -> Result<Option<Operator>, StoreError> {
    let row: Option<OperatorRow> = on_backend!(tx, connection => operators::table
        .filter(operators::username.eq(username))
        .select(OperatorRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Operator::try_from).transpose()
}

/// Operators inside `scope` (national: everyone; a region: those of the region and below),
/// optionally of one role, by id after `after`, at most `limit`.
pub fn find_page(
    tx: &mut Tx<'_>,
    scope: &RegionScope,
    role: Option<OperatorRole>,
    after: i64,
    limit: i64,
) -> Result<Vec<Operator>, StoreError> {
    let rows: Vec<OperatorRow> = on_backend!(tx, connection => {
        let mut query = operators::table
            .filter(operators::id.gt(after))
            .order(operators::id)
            .limit(limit)
            .select(OperatorRow::as_select())
            .into_boxed();
        if let RegionScope::Region(code) = scope {
            query = query.filter(
                operators::region_code.eq(code.as_str()).or(operators::region_code.like(format!("{code}.%"))),
            );
        }
        if let Some(role) = role {
            query = query.filter(operators::role.eq(<&str>::from(role)));
        }
        query.load(connection)?
    });
    rows.into_iter().map(Operator::try_from).collect()
}

/// Applies an admin's change; the caller revokes tokens where the change calls for it.
pub fn update(tx: &mut Tx<'_>, id: i64, form: &OperatorUpdateForm<'_>) -> Result<Operator, StoreError> {
    let row: OperatorRow = on_backend!(tx, connection => diesel::update(operators::table.find(id))
        .set(form)
        .returning(OperatorRow::as_returning())
        .get_result(connection)?);
    Operator::try_from(row)
}

/// Stores a new password hash; `change_required` when someone other than its owner chose it.
pub fn set_password(tx: &mut Tx<'_>, id: i64, password_hash: &str, change_required: bool) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(operators::table.find(id))
        .set((operators::password_hash.eq(password_hash), operators::password_change_required.eq(change_required)))
        .execute(connection)?);
    Ok(())
}

/// Whether any operator exists (an empty database has none until its first admin).
pub fn any_exist(tx: &mut Tx<'_>) -> Result<bool, StoreError> {
    let first: Option<i64> = on_backend!(tx, connection => operators::table
        .select(operators::id)
        .first(connection)
        .optional()?);
    Ok(first.is_some())
}

/// Revokes every token issued to the operator so far.
pub fn bump_token_version(tx: &mut Tx<'_>, id: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(operators::table.find(id))
        .set(operators::token_version.eq(operators::token_version + 1))
        .execute(connection)?);
    Ok(())
}
