//! A family's data updates: one row per change, its history.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::family_changes;
use super::{on_backend, StoreError, Tx};

/// A change on file.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = family_changes)]
pub struct FamilyChangeRecord {
    pub id: i64,
    pub family_id: i64,
    pub kind: String,
    /// JSON: the change as entered.
    pub details: String,
    pub reason: String,
    pub actor: String,
    pub at: NaiveDateTime,
    pub natural_exit_due: bool,
}

#[derive(Insertable)]
#[diesel(table_name = family_changes)]
pub struct FamilyChangeInsertForm<'a> {
    pub family_id: i64,
    pub kind: &'a str,
    pub details: String,
    pub reason: &'a str,
    pub actor: &'a str,
    pub at: NaiveDateTime,
    pub natural_exit_due: bool,
}

pub fn insert(tx: &mut Tx<'_>, form: &FamilyChangeInsertForm<'_>) -> Result<FamilyChangeRecord, StoreError> {
    on_backend!(tx, connection => Ok(diesel::insert_into(family_changes::table)
        .values(form)
        .returning(FamilyChangeRecord::as_returning())
        .get_result(connection)?))
}

/// The family's changes, oldest first.
pub fn find_by_family(tx: &mut Tx<'_>, family_id: i64) -> Result<Vec<FamilyChangeRecord>, StoreError> {
    on_backend!(tx, connection => Ok(family_changes::table
        .filter(family_changes::family_id.eq(family_id))
        .order(family_changes::id)
        .select(FamilyChangeRecord::as_select())
        .load(connection)?))
}
