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
}

impl<'a> OperatorInsertForm<'a> {
    pub fn new(
        username: &'a str,
        display_name: &'a str,
        role: OperatorRole,
        scope: &'a RegionScope,
        password_hash: &'a str,
    ) -> Self {
        let region_code = match scope {
            RegionScope::National => None,
            RegionScope::Region(code) => Some(code.as_str()),
        };
        Self { username, display_name, role: role.into(), region_code, password_hash, created_at: now() }
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

/// Revokes every token issued to the operator so far.
pub fn bump_token_version(tx: &mut Tx<'_>, id: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(operators::table.find(id))
        .set(operators::token_version.eq(operators::token_version + 1))
        .execute(connection)?);
    Ok(())
}
