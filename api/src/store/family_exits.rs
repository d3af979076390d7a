//! Families' graduations and exits from PKH: one row per family that left.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{families, family_exits};
use super::{on_backend, parse_stored, StoreError, Tx};
use crate::domain::graduation::{ExitReason, ExitTerms};

/// An exit on file: its terms, the year the family joined, who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyExit {
    pub family_id: i64,
    pub terms: ExitTerms,
    pub year_in: i32,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = family_exits)]
struct ExitRow {
    family_id: i64,
    kind: String,
    reason: String,
    year_in: i32,
    year_out: i32,
    non_cash_continues: bool,
    note: String,
    recorded_by: String,
    recorded_at: NaiveDateTime,
}

impl TryFrom<ExitRow> for FamilyExit {
    type Error = StoreError;
    fn try_from(row: ExitRow) -> Result<Self, StoreError> {
        Ok(Self {
            family_id: row.family_id,
            terms: ExitTerms {
                kind: parse_stored("family_exits.kind", &row.kind)?,
                reason: parse_stored("family_exits.reason", &row.reason)?,
                year_out: row.year_out,
                non_cash_continues: row.non_cash_continues,
                note: row.note,
            },
            year_in: row.year_in,
            recorded_by: row.recorded_by,
            recorded_at: row.recorded_at,
        })
    }
}

/// Records an exit; the family's primary key makes a second one impossible.
pub fn insert(tx: &mut Tx<'_>, exit: &FamilyExit) -> Result<(), StoreError> {
    let row = ExitRow {
        family_id: exit.family_id,
        kind: exit.terms.kind.to_string(),
        reason: exit.terms.reason.to_string(),
        year_in: exit.year_in,
        year_out: exit.terms.year_out,
        non_cash_continues: exit.terms.non_cash_continues,
        note: exit.terms.note.clone(),
        recorded_by: exit.recorded_by.clone(),
        recorded_at: exit.recorded_at,
    };
    on_backend!(tx, connection => diesel::insert_into(family_exits::table).values(&row).execute(connection)?);
    Ok(())
}

pub fn find_by_family(tx: &mut Tx<'_>, family_id: i64) -> Result<Option<FamilyExit>, StoreError> {
    let row: Option<ExitRow> = on_backend!(tx, connection => family_exits::table
        .find(family_id)
        .select(ExitRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(FamilyExit::try_from).transpose()
}

/// Where to look for exits: the families of some villages, or of a region (all of them
/// when `None`).
#[derive(Debug, Clone, Copy)]
pub enum ExitArea<'a> {
    Villages(&'a [String]),
    Region(Option<&'a str>),
}

/// An exit with the family's recipient and village, as the monitoring form lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedExit {
    pub exit: FamilyExit,
    pub recipient_name: String,
    pub village_code: String,
}

/// The exits of an area, by village then family, at most `limit`.
pub fn find_in_area(tx: &mut Tx<'_>, area: ExitArea<'_>, limit: i64) -> Result<Vec<ListedExit>, StoreError> {
    let rows: Vec<(ExitRow, String, String)> = on_backend!(tx, connection => {
        let mut query = family_exits::table
            .inner_join(families::table)
            .order((families::village_code, families::id))
            .limit(limit)
            .select((ExitRow::as_select(), families::recipient_name, families::village_code))
            .into_boxed();
        match area {
            ExitArea::Villages(villages) => query = query.filter(families::village_code.eq_any(villages)),
            ExitArea::Region(Some(prefix)) => {
                query = query.filter(families::village_code.eq(prefix).or(families::village_code.like(format!("{prefix}.%"))));
            }
            ExitArea::Region(None) => {}
        }
        query.load(connection)?
    });
    rows.into_iter()
        .map(|(row, recipient_name, village_code)| {
            Ok(ListedExit { exit: FamilyExit::try_from(row)?, recipient_name, village_code })
        })
        .collect()
}

/// Exits per reason among the families of a region (all of them when `None`).
pub fn count_by_reason(tx: &mut Tx<'_>, region: Option<&str>) -> Result<Vec<(ExitReason, i64)>, StoreError> {
    let rows: Vec<(String, i64)> = on_backend!(tx, connection => {
        let mut query = family_exits::table
            .inner_join(families::table)
            .group_by(family_exits::reason)
            .select((family_exits::reason, diesel::dsl::count_star()))
            .into_boxed();
        if let Some(prefix) = region {
            query = query.filter(families::village_code.eq(prefix).or(families::village_code.like(format!("{prefix}.%"))));
        }
        query.load(connection)?
    });
    rows.into_iter().map(|(reason, families)| Ok((parse_stored("family_exits.reason", &reason)?, families))).collect()
}
