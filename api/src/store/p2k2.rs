//! P2K2/FDS sessions and who attended them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{p2k2_attendance, p2k2_sessions};
use super::{on_backend, parse_stored, StoreError, Tx};
use crate::domain::p2k2::Module;

/// A session on file, with the families present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub village_code: String,
    pub group_name: String,
    pub held_on: NaiveDate,
    pub module: Module,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub attended: Vec<i64>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = p2k2_sessions)]
struct SessionRow {
    id: i64,
    village_code: String,
    group_name: String,
    held_on: NaiveDate,
    module: String,
    recorded_by: String,
    recorded_at: NaiveDateTime,
}

impl SessionRow {
    fn with(self, attended: Vec<i64>) -> Result<Session, StoreError> {
        Ok(Session {
            id: self.id,
            module: parse_stored("p2k2_sessions.module", &self.module)?,
            village_code: self.village_code,
            group_name: self.group_name,
            held_on: self.held_on,
            recorded_by: self.recorded_by,
            recorded_at: self.recorded_at,
            attended,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = p2k2_sessions)]
pub struct SessionInsertForm<'a> {
    pub village_code: &'a str,
    pub group_name: &'a str,
    pub held_on: NaiveDate,
    pub module: &'a str,
    pub recorded_by: &'a str,
    pub recorded_at: NaiveDateTime,
}

/// Records a session and its attendance; the unique index refuses the same session twice.
pub fn insert(tx: &mut Tx<'_>, form: &SessionInsertForm<'_>, attended: &[i64]) -> Result<Session, StoreError> {
    let row: SessionRow = on_backend!(tx, connection => diesel::insert_into(p2k2_sessions::table)
        .values(form)
        .returning(SessionRow::as_returning())
        .get_result(connection)?);
    let rows: Vec<_> = attended
        .iter()
        .map(|family| (p2k2_attendance::session_id.eq(row.id), p2k2_attendance::family_id.eq(*family)))
        .collect();
    on_backend!(tx, connection => diesel::insert_into(p2k2_attendance::table).values(&rows).execute(connection)?);
    row.with(attended.to_vec())
}

/// The sessions held in a region (all when `None`), newest first, at most `limit`, with
/// an id below `before` when given.
pub fn find_in_region(
    tx: &mut Tx<'_>,
    region: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Session>, StoreError> {
    let rows: Vec<SessionRow> = on_backend!(tx, connection => {
        let mut query = p2k2_sessions::table
            .order(p2k2_sessions::id.desc())
            .limit(limit)
            .select(SessionRow::as_select())
            .into_boxed();
        if let Some(prefix) = region {
            query = query.filter(p2k2_sessions::village_code.eq(prefix).or(p2k2_sessions::village_code.like(format!("{prefix}.%"))));
        }
        if let Some(before) = before {
            query = query.filter(p2k2_sessions::id.lt(before));
        }
        query.load(connection)?
    });
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let attendance: Vec<(i64, i64)> = on_backend!(tx, connection => p2k2_attendance::table
        .filter(p2k2_attendance::session_id.eq_any(&ids))
        .order((p2k2_attendance::session_id, p2k2_attendance::family_id))
        .select((p2k2_attendance::session_id, p2k2_attendance::family_id))
        .load(connection)?);
    rows.into_iter()
        .map(|row| {
            let attended =
                attendance.iter().filter(|(session, _)| *session == row.id).map(|(_, family)| *family).collect();
            row.with(attended)
        })
        .collect()
}

/// Sessions and attendances per module in a region (all when `None`).
pub fn count_by_module(tx: &mut Tx<'_>, region: Option<&str>) -> Result<Vec<ModuleCount>, StoreError> {
    let sessions: Vec<(String, i64)> = on_backend!(tx, connection => {
        let mut query = p2k2_sessions::table
            .group_by(p2k2_sessions::module)
            .select((p2k2_sessions::module, diesel::dsl::count_star()))
            .into_boxed();
        if let Some(prefix) = region {
            query = query.filter(p2k2_sessions::village_code.eq(prefix).or(p2k2_sessions::village_code.like(format!("{prefix}.%"))));
        }
        query.load(connection)?
    });
    let attendances: Vec<(String, i64)> = on_backend!(tx, connection => {
        let mut query = p2k2_attendance::table
            .inner_join(p2k2_sessions::table)
            .group_by(p2k2_sessions::module)
            .select((p2k2_sessions::module, diesel::dsl::count_star()))
            .into_boxed();
        if let Some(prefix) = region {
            query = query.filter(p2k2_sessions::village_code.eq(prefix).or(p2k2_sessions::village_code.like(format!("{prefix}.%"))));
        }
        query.load(connection)?
    });
    sessions
        .into_iter()
        .map(|(module, sessions)| {
            let attendances = attendances.iter().find(|(other, _)| *other == module).map_or(0, |(_, count)| *count);
            Ok(ModuleCount { module: parse_stored("p2k2_sessions.module", &module)?, sessions, attendances })
        })
        .collect()
}

/// One line of [`count_by_module`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleCount {
    pub module: Module,
    pub sessions: i64,
    /// Families present, summed over the sessions.
    pub attendances: i64,
}
