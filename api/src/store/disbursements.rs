//! Benefit schedules, disbursement batches and their lines.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

use super::cached_sql::{bind, cached_sql};
use super::schema::{benefit_schedules, disbursement_batches, disbursement_lines, families};
use super::{now, on_backend, StoreError, Tx};
use crate::ledger::JournalId;

/// One row of a benefit schedule.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Queryable, Selectable, Insertable, utoipa::ToSchema,
)]
#[diesel(table_name = benefit_schedules)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRow {
    pub programme: String,
    pub year: i32,
    /// `all`, or a PKH benefit category.
    pub category: String,
    /// PKH stage (1–4) or month (1–12).
    pub period: i32,
    pub amount_minor: i64,
}

pub fn find_schedule(tx: &mut Tx<'_>, programme: &str, year: i32, period: i32) -> Result<Vec<ScheduleRow>, StoreError> {
    on_backend!(tx, connection => Ok(benefit_schedules::table
        .filter(benefit_schedules::programme.eq(programme))
        .filter(benefit_schedules::year.eq(year))
        .filter(benefit_schedules::period.eq(period))
        .select(ScheduleRow::as_select())
        .load(connection)?))
}

pub fn find_schedules_by_year(tx: &mut Tx<'_>, year: i32) -> Result<Vec<ScheduleRow>, StoreError> {
    on_backend!(tx, connection => Ok(benefit_schedules::table
        .filter(benefit_schedules::year.eq(year))
        .order((benefit_schedules::programme, benefit_schedules::category, benefit_schedules::period))
        .select(ScheduleRow::as_select())
        .load(connection)?))
}

/// Adds schedule rows; `false` if any already exists (schedules are not edited).
pub fn insert_schedule(tx: &mut Tx<'_>, rows: &[ScheduleRow]) -> Result<bool, StoreError> {
    let mut inserted = 0;
    // Row by row: diesel has no multi-row INSERT … ON CONFLICT for SQLite.
    for row in rows {
        inserted += on_backend!(tx, connection => diesel::insert_into(benefit_schedules::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(connection)?);
    }
    Ok(inserted == rows.len())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = disbursement_batches)]
pub struct Batch {
    pub id: i64,
    pub programme: String,
    pub year: i32,
    pub period: i32,
    /// The region it pays (absent: national).
    pub region_code: Option<String>,
    pub status: String,
    pub release_at: Option<NaiveDateTime>,
    pub prepared_by: String,
    pub prepared_at: NaiveDateTime,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub lines_total: i64,
    pub amount_total_minor: i64,
}

#[derive(Insertable)]
#[diesel(table_name = disbursement_batches)]
pub struct BatchInsertForm<'a> {
    pub programme: &'a str,
    pub year: i32,
    pub period: i32,
    pub region_code: Option<&'a str>,
    pub status: &'a str,
    pub release_at: Option<NaiveDateTime>,
    pub prepared_by: &'a str,
    pub prepared_at: NaiveDateTime,
}

pub fn insert_batch(tx: &mut Tx<'_>, form: &BatchInsertForm<'_>) -> Result<Batch, StoreError> {
    on_backend!(tx, connection => Ok(diesel::insert_into(disbursement_batches::table)
        .values(form)
        .returning(Batch::as_returning())
        .get_result(connection)?))
}

pub fn find_batch(tx: &mut Tx<'_>, id: i64) -> Result<Option<Batch>, StoreError> {
    on_backend!(tx, connection => Ok(disbursement_batches::table
        .find(id)
        .select(Batch::as_select())
        .first(connection)
        .optional()?))
}

/// A batch's settled lines, counted as they settle (pending ones are the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = disbursement_batches)]
pub struct BatchProgress {
    pub paid_lines: i64,
    pub paid_amount_minor: i64,
    pub failed_lines: i64,
}

pub fn find_progress(tx: &mut Tx<'_>, id: i64) -> Result<Option<BatchProgress>, StoreError> {
    on_backend!(tx, connection => Ok(disbursement_batches::table
        .find(id)
        .select(BatchProgress::as_select())
        .get_result(connection)
        .optional()?))
}

/// Adds settled lines to a batch's counts, in the transaction that settles them.
fn count_settled(tx: &mut Tx<'_>, batch_id: i64, change: BatchProgress) -> Result<(), StoreError> {
    let update = cached_sql(
        "UPDATE disbursement_batches SET paid_lines = paid_lines + ?, paid_amount_minor = paid_amount_minor + ?, \
         failed_lines = failed_lines + ? WHERE id = ?",
        (
            bind::<BigInt, _>(change.paid_lines),
            bind::<BigInt, _>(change.paid_amount_minor),
            bind::<BigInt, _>(change.failed_lines),
            bind::<BigInt, _>(batch_id),
        ),
    );
    on_backend!(tx, connection => update.execute(connection)?);
    Ok(())
}

/// Batches left executing (a crash or a restart): to resume.
pub fn find_batches_executing(tx: &mut Tx<'_>) -> Result<Vec<i64>, StoreError> {
    on_backend!(tx, connection => Ok(disbursement_batches::table
        .filter(disbursement_batches::status.eq("executing"))
        .select(disbursement_batches::id)
        .load(connection)?))
}

pub fn set_totals(tx: &mut Tx<'_>, id: i64, lines: i64, amount_minor: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(disbursement_batches::table.find(id))
        .set((disbursement_batches::lines_total.eq(lines), disbursement_batches::amount_total_minor.eq(amount_minor)))
        .execute(connection)?);
    Ok(())
}

/// Moves a batch between statuses; `false` if it was not in `from` (someone else moved it).
pub fn change_status(
    tx: &mut Tx<'_>,
    id: i64,
    from: &str,
    to: &str,
    approved_by: Option<&str>,
) -> Result<bool, StoreError> {
    let at = now();
    let changed = on_backend!(tx, connection => {
        let target = disbursement_batches::table.find(id).filter(disbursement_batches::status.eq(from));
        match (to, approved_by) {
            ("approved", Some(approver)) => diesel::update(target)
                .set((
                    disbursement_batches::status.eq(to),
                    disbursement_batches::approved_by.eq(Some(approver)),
                    disbursement_batches::approved_at.eq(Some(at)),
                ))
                .execute(connection)?,
            ("completed", _) => diesel::update(target)
                .set((disbursement_batches::status.eq(to), disbursement_batches::completed_at.eq(Some(at))))
                .execute(connection)?,
            _ => diesel::update(target).set(disbursement_batches::status.eq(to)).execute(connection)?,
        }
    });
    Ok(changed == 1)
}

/// A family a batch would pay (or a cycle decide): its id, benefit category, village and
/// status.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Payee {
    pub family_id: i64,
    pub category: String,
    pub village_code: String,
    pub status: String,
}

/// Families in a status set, in a region (by code prefix), by id, after `after`.
pub fn find_payees(
    tx: &mut Tx<'_>,
    statuses: &[&str],
    region_prefix: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<Payee>, StoreError> {
    on_backend!(tx, connection => {
        let mut query = families::table
            .filter(families::status.eq_any(statuses))
            .filter(families::id.gt(after))
            .order(families::id)
            .limit(limit)
            .select((families::id, families::category, families::village_code, families::status))
            .into_boxed();
        if let Some(prefix) = region_prefix {
            query = query.filter(families::village_code.eq(prefix).or(families::village_code.like(format!("{prefix}.%"))));
        }
        Ok(query.load(connection)?)
    })
}

#[derive(Insertable)]
#[diesel(table_name = disbursement_lines)]
pub struct LineInsertForm<'a> {
    pub batch_id: i64,
    pub programme: &'a str,
    pub year: i32,
    pub period: i32,
    pub family_id: i64,
    pub amount_minor: i64,
}

/// Inserts lines in one statement; a family already paid (or due) for the period by any
/// batch is skipped (the unique programme, year, period and family).
pub fn insert_lines(tx: &mut Tx<'_>, lines: &[LineInsertForm<'_>]) -> Result<usize, StoreError> {
    if lines.is_empty() {
        return Ok(0);
    }
    // Every value is a number but the programme, one of our own stored spellings; diesel
    // has no multi-row INSERT … ON CONFLICT for SQLite, and one row a statement cost a
    // round trip per family on PostgreSQL.
    let rows = lines
        .iter()
        .map(|line| {
            if !line.programme.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_') {
                return Err(StoreError::Corrupt(format!("programme {:?}", line.programme)));
            }
            Ok(format!(
                "({}, '{}', {}, {}, {}, {})",
                line.batch_id, line.programme, line.year, line.period, line.family_id, line.amount_minor
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let sql = format!(
        "INSERT INTO disbursement_lines (batch_id, programme, year, period, family_id, amount_minor) VALUES {} \
         ON CONFLICT DO NOTHING",
        rows.join(", ")
    );
    Ok(on_backend!(tx, connection => diesel::sql_query(&sql).execute(connection)?))
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = disbursement_lines)]
pub struct Line {
    pub id: i64,
    pub batch_id: i64,
    pub family_id: i64,
    pub amount_minor: i64,
    pub status: String,
}

/// The pending lines of a batch after line `after`, oldest first, locked for the caller to
/// settle in the same transaction with [`mark_paid`] or [`mark_failed`]. PostgreSQL skips
/// lines another transaction holds (`SKIP LOCKED`) and, under READ COMMITTED, drops a line
/// that transaction settled; SQLite has one writer. So no line is settled twice, whatever
/// servers run the batch.
pub fn lock_pending_lines(tx: &mut Tx<'_>, batch_id: i64, after: i64, limit: i64) -> Result<Vec<Line>, StoreError> {
    let pending = disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .filter(disbursement_lines::status.eq("pending"))
        .filter(disbursement_lines::id.gt(after))
        .order(disbursement_lines::id)
        .limit(limit);
    // Written per arm: `as_select()` names its backend, and SQLite has no row locks.
    Ok(match tx {
        Tx::Sqlite(connection) => pending.select(Line::as_select()).load(*connection)?,
        Tx::Postgres(connection) => pending.select(Line::as_select()).for_update().skip_locked().load(*connection)?,
    })
}

/// A batch's pending lines among `ids`. The batch and id range let PostgreSQL read the
/// pending lines' index over this chunk only: it guesses few rows for `id = ANY(…)` and
/// scanned every pending line instead.
#[diesel::dsl::auto_type]
fn pending_among<'a>(batch_id: i64, first: i64, last: i64, ids: &'a [i64]) -> _ {
    disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .filter(disbursement_lines::id.between(first, last))
        .filter(disbursement_lines::id.eq_any(ids))
        .filter(disbursement_lines::status.eq("pending"))
}

/// The smallest and largest of `ids`: the id range [`pending_among`] reads.
fn id_range(ids: &[i64]) -> Option<(i64, i64)> {
    Some((*ids.iter().min()?, *ids.iter().max()?))
}

/// Marks locked lines paid by `journal`, one write each, and adds them to the batch's
/// counts. Fails (and the caller's transaction with the money it posted) if any of them
/// was no longer pending: a line is never paid twice.
pub fn mark_paid(tx: &mut Tx<'_>, batch_id: i64, ids: &[i64], journal: JournalId) -> Result<(), StoreError> {
    let Some((first, last)) = id_range(ids) else { return Ok(()) };
    let amounts: Vec<i64> = on_backend!(tx, connection => diesel::update(pending_among(batch_id, first, last, ids))
        .set((
            disbursement_lines::status.eq("paid"),
            disbursement_lines::paid_at.eq(Some(now())),
            disbursement_lines::journal_id.eq(Some(journal.0)),
        ))
        .returning(disbursement_lines::amount_minor)
        .get_results(connection)?);
    settled(amounts.len(), ids.len(), batch_id)?;
    let paid =
        BatchProgress { paid_lines: amounts.len() as i64, paid_amount_minor: amounts.iter().sum(), failed_lines: 0 };
    count_settled(tx, batch_id, paid)
}

/// Marks locked lines failed, with the reason; their money stays in the programme fund.
pub fn mark_failed(tx: &mut Tx<'_>, batch_id: i64, ids: &[i64], reason: &str) -> Result<(), StoreError> {
    let Some((first, last)) = id_range(ids) else { return Ok(()) };
    let failed = on_backend!(tx, connection => diesel::update(pending_among(batch_id, first, last, ids))
        .set((disbursement_lines::status.eq("failed"), disbursement_lines::failure_reason.eq(Some(reason))))
        .execute(connection)?);
    settled(failed, ids.len(), batch_id)?;
    count_settled(tx, batch_id, BatchProgress { paid_lines: 0, paid_amount_minor: 0, failed_lines: failed as i64 })
}

/// Every locked line was settled, or something else settled one: refuse rather than count it twice.
fn settled(written: usize, locked: usize, batch_id: i64) -> Result<(), StoreError> {
    if written == locked {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!("batch {batch_id}: {written} of {locked} locked lines were still pending")))
    }
}

/// Whether a batch still has lines to pay.
pub fn has_pending_lines(tx: &mut Tx<'_>, batch_id: i64) -> Result<bool, StoreError> {
    let pending = disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .filter(disbursement_lines::status.eq("pending"));
    on_backend!(tx, connection => Ok(diesel::select(diesel::dsl::exists(pending)).get_result(connection)?))
}

/// Lines and amounts of a batch by status, summed by the database.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct StatusTotal {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub lines: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub amount_minor: i64,
}

pub fn line_totals(tx: &mut Tx<'_>, batch_id: i64) -> Result<Vec<StatusTotal>, StoreError> {
    // The id is an integer, not request text; SUM(BIGINT) is cast back for PostgreSQL.
    let sql = format!(
        "SELECT status, COUNT(*) AS lines, CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS amount_minor
         FROM disbursement_lines WHERE batch_id = {batch_id} GROUP BY status ORDER BY status"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Why lines failed, with how many each (the first few reasons).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize, utoipa::ToSchema)]
pub struct FailureReason {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub reason: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub lines: i64,
}

pub fn failure_reasons(tx: &mut Tx<'_>, batch_id: i64) -> Result<Vec<FailureReason>, StoreError> {
    let sql = format!(
        "SELECT COALESCE(failure_reason, '') AS reason, COUNT(*) AS lines FROM disbursement_lines
         WHERE batch_id = {batch_id} AND status = 'failed' GROUP BY failure_reason ORDER BY lines DESC LIMIT 20"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}
