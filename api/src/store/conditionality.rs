//! Commitment verification records and what each closed cycle decided.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{cycle_outcomes, verification_records};
use super::{on_backend, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, Insertable, utoipa::ToSchema)]
#[diesel(table_name = verification_records)]
pub struct VerificationRecord {
    pub family_id: i64,
    pub cycle: String,
    pub complied: bool,
    pub member_id: Option<i64>,
    pub obligation: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// Records (or corrects, before the cycle closes) a family's verification for a cycle.
pub fn upsert_record(tx: &mut Tx<'_>, record: &VerificationRecord) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::insert_into(verification_records::table)
        .values(record)
        .on_conflict((verification_records::family_id, verification_records::cycle))
        .do_update()
        .set((
            verification_records::complied.eq(record.complied),
            verification_records::member_id.eq(record.member_id),
            verification_records::obligation.eq(&record.obligation),
            verification_records::recorded_by.eq(&record.recorded_by),
            verification_records::recorded_at.eq(record.recorded_at),
        ))
        .execute(connection)?);
    Ok(())
}

pub fn find_record(tx: &mut Tx<'_>, family_id: i64, cycle: &str) -> Result<Option<VerificationRecord>, StoreError> {
    on_backend!(tx, connection => Ok(verification_records::table
        .find((family_id, cycle))
        .select(VerificationRecord::as_select())
        .first(connection)
        .optional()?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, Insertable, utoipa::ToSchema)]
#[diesel(table_name = cycle_outcomes)]
pub struct OutcomeRow {
    pub cycle: String,
    pub family_id: i64,
    pub outcome: String,
    pub failed_cycles_in_row: i32,
    pub decided_at: NaiveDateTime,
}

/// Claims the family's outcome for the cycle; `false` if the cycle was already applied
/// to it (closing twice changes nothing).
pub fn claim_outcome(tx: &mut Tx<'_>, row: &OutcomeRow) -> Result<bool, StoreError> {
    let inserted = on_backend!(tx, connection => diesel::insert_into(cycle_outcomes::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(connection)?);
    Ok(inserted == 1)
}

/// The family's most recent decided outcome, if any.
pub fn find_latest_outcome(tx: &mut Tx<'_>, family_id: i64) -> Result<Option<OutcomeRow>, StoreError> {
    on_backend!(tx, connection => Ok(cycle_outcomes::table
        .filter(cycle_outcomes::family_id.eq(family_id))
        .order(cycle_outcomes::decided_at.desc())
        .select(OutcomeRow::as_select())
        .first(connection)
        .optional()?))
}

pub fn find_outcomes_by_family(tx: &mut Tx<'_>, family_id: i64) -> Result<Vec<OutcomeRow>, StoreError> {
    on_backend!(tx, connection => Ok(cycle_outcomes::table
        .filter(cycle_outcomes::family_id.eq(family_id))
        .order(cycle_outcomes::decided_at)
        .select(OutcomeRow::as_select())
        .load(connection)?))
}
