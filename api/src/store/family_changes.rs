//! A family's data updates: one row per change, its history, and the second person's
//! decision on a change that waited for one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::family_changes;
use super::{on_backend, parse_stored, StoreError, Tx};
use crate::domain::family_change::ChangeStatus;

/// A change on file.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub status: ChangeStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = family_changes)]
struct FamilyChangeRow {
    id: i64,
    family_id: i64,
    kind: String,
    details: String,
    reason: String,
    actor: String,
    at: NaiveDateTime,
    natural_exit_due: bool,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_reason: Option<String>,
}

impl TryFrom<FamilyChangeRow> for FamilyChangeRecord {
    type Error = StoreError;
    fn try_from(row: FamilyChangeRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            family_id: row.family_id,
            kind: row.kind,
            details: row.details,
            reason: row.reason,
            actor: row.actor,
            at: row.at,
            natural_exit_due: row.natural_exit_due,
            status: parse_stored("family_changes.status", &row.status)?,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            decision_reason: row.decision_reason,
        })
    }
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
    pub status: &'a str,
}

/// A second person's decision on a pending change.
#[derive(AsChangeset)]
#[diesel(table_name = family_changes)]
pub struct FamilyChangeDecisionForm<'a> {
    pub status: &'a str,
    pub natural_exit_due: bool,
    pub decided_by: &'a str,
    pub decided_at: NaiveDateTime,
    pub decision_reason: &'a str,
}

pub fn insert(tx: &mut Tx<'_>, form: &FamilyChangeInsertForm<'_>) -> Result<FamilyChangeRecord, StoreError> {
    let row: FamilyChangeRow = on_backend!(tx, connection => diesel::insert_into(family_changes::table)
        .values(form)
        .returning(FamilyChangeRow::as_returning())
        .get_result(connection)?);
    FamilyChangeRecord::try_from(row)
}

/// The family's changes, oldest first.
pub fn find_by_family(tx: &mut Tx<'_>, family_id: i64) -> Result<Vec<FamilyChangeRecord>, StoreError> {
    let rows: Vec<FamilyChangeRow> = on_backend!(tx, connection => family_changes::table
        .filter(family_changes::family_id.eq(family_id))
        .order(family_changes::id)
        .select(FamilyChangeRow::as_select())
        .load(connection)?);
    rows.into_iter().map(FamilyChangeRecord::try_from).collect()
}

/// The family's change with this id.
pub fn find_by_family_id_and_id(
    tx: &mut Tx<'_>,
    family_id: i64,
    id: i64,
) -> Result<Option<FamilyChangeRecord>, StoreError> {
    let row: Option<FamilyChangeRow> = on_backend!(tx, connection => family_changes::table
        .find(id)
        .filter(family_changes::family_id.eq(family_id))
        .select(FamilyChangeRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(FamilyChangeRecord::try_from).transpose()
}

/// Records the decision on a change that is still pending; `None` if it was decided
/// meanwhile (the conditional update is what keeps two approvers from both applying it).
pub fn decide_pending(
    tx: &mut Tx<'_>,
    id: i64,
    form: &FamilyChangeDecisionForm<'_>,
) -> Result<Option<FamilyChangeRecord>, StoreError> {
    let pending: &str = ChangeStatus::Pending.into();
    let row: Option<FamilyChangeRow> = on_backend!(tx, connection => diesel::update(
        family_changes::table.find(id).filter(family_changes::status.eq(pending)),
    )
    .set(form)
    .returning(FamilyChangeRow::as_returning())
    .get_result(connection)
    .optional()?);
    row.map(FamilyChangeRecord::try_from).transpose()
}
