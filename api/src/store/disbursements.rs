//! Benefit schedules, disbursement batches and their lines.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

use super::cached_sql::{bind, cached_sql};
use super::schema::{benefit_schedules, disbursement_batches, disbursement_lines, families, family_exits};
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::auth::RegionCode;
use crate::domain::benefit::{Enrolment, Payees, Programme, Rate};
use crate::domain::disbursement::BatchStatus;
use crate::domain::family::{BenefitCategory, FamilyStatus};
use crate::domain::ids::JournalId;

/// One row of a benefit schedule.
/// The years a benefit schedule may name (the table's CHECK): a year outside is refused as
/// invalid input before the database would refuse it as an internal error.
pub const SCHEDULE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Queryable, Selectable, Insertable, utoipa::ToSchema,
)]
#[diesel(table_name = benefit_schedules)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"programme": "bpnt", "year": 2018, "category": "all", "period": 1, "amount_minor": 11000000}))]
pub struct ScheduleRow {
    pub programme: String,
    /// Within [`SCHEDULE_YEARS`].
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// `all`, or a PKH benefit category.
    pub category: String,
    /// PKH stage (1–4) or month (1–12).
    pub period: i32,
    pub amount_minor: i64,
}

impl ScheduleRow {
    /// The row as the benefit rule reads it.
    pub fn rate(&self) -> Result<Rate, StoreError> {
        let payees = Payees::parse(&self.category).ok_or_else(|| {
            StoreError::Corrupt(format!("benefit_schedules.category holds unknown value {:?}", self.category))
        })?;
        Ok(Rate { payees, amount_minor: self.amount_minor })
    }
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: i64,
    pub programme: Programme,
    pub year: i32,
    pub period: i32,
    /// The region it pays (absent: national).
    #[schema(value_type = Option<String>)]
    pub region_code: Option<RegionCode>,
    pub status: BatchStatus,
    pub release_at: Option<NaiveDateTime>,
    pub prepared_by: String,
    pub prepared_at: NaiveDateTime,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub lines_total: i64,
    pub amount_total_minor: i64,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<NaiveDateTime>,
    /// Why it was cancelled, as its canceller wrote it.
    pub cancellation_reason: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = disbursement_batches)]
struct BatchRow {
    id: i64,
    programme: String,
    year: i32,
    period: i32,
    region_code: Option<String>,
    status: String,
    release_at: Option<NaiveDateTime>,
    prepared_by: String,
    prepared_at: NaiveDateTime,
    approved_by: Option<String>,
    approved_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    lines_total: i64,
    amount_total_minor: i64,
    cancelled_by: Option<String>,
    cancelled_at: Option<NaiveDateTime>,
    cancellation_reason: Option<String>,
}

impl TryFrom<BatchRow> for Batch {
    type Error = StoreError;
    fn try_from(row: BatchRow) -> Result<Self, StoreError> {
        let region_code = row
            .region_code
            .map(|code| {
                RegionCode::parse(&code)
                    .map_err(|_| StoreError::Corrupt(format!("batch {}: region_code {code:?}", row.id)))
            })
            .transpose()?;
        Ok(Self {
            id: row.id,
            programme: parse_stored("disbursement_batches.programme", &row.programme)?,
            year: row.year,
            period: row.period,
            region_code,
            status: parse_stored("disbursement_batches.status", &row.status)?,
            release_at: row.release_at,
            prepared_by: row.prepared_by,
            prepared_at: row.prepared_at,
            approved_by: row.approved_by,
            approved_at: row.approved_at,
            completed_at: row.completed_at,
            lines_total: row.lines_total,
            amount_total_minor: row.amount_total_minor,
            cancelled_by: row.cancelled_by,
            cancelled_at: row.cancelled_at,
            cancellation_reason: row.cancellation_reason,
        })
    }
}

/// A new batch, `preparing` until its lines are written.
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

/// Inserts a batch. A live batch of the same programme, year, period and region makes it
/// fail with a unique violation (index `disbursement_batches_live`).
pub fn insert_batch(tx: &mut Tx<'_>, form: &BatchInsertForm<'_>) -> Result<Batch, StoreError> {
    let row: BatchRow = on_backend!(tx, connection => diesel::insert_into(disbursement_batches::table)
        .values(form)
        .returning(BatchRow::as_returning())
        .get_result(connection)?);
    Batch::try_from(row)
}

pub fn find_batch(tx: &mut Tx<'_>, id: i64) -> Result<Option<Batch>, StoreError> {
    let row: Option<BatchRow> = on_backend!(tx, connection => disbursement_batches::table
        .find(id)
        .select(BatchRow::as_select())
        .first(connection)
        .optional()?);
    row.map(Batch::try_from).transpose()
}

/// The live batches of one programme, year and period, oldest first: at most one per
/// region, none inside another's, so a handful (one per province or regency) in practice.
pub fn find_live_batches(
    tx: &mut Tx<'_>,
    programme: Programme,
    year: i32,
    period: i32,
) -> Result<Vec<Batch>, StoreError> {
    let live: Vec<&str> = BatchStatus::LIVE.iter().map(|status| status.as_ref()).collect();
    let rows: Vec<BatchRow> = on_backend!(tx, connection => disbursement_batches::table
        .filter(disbursement_batches::programme.eq(programme.as_ref()))
        .filter(disbursement_batches::year.eq(year))
        .filter(disbursement_batches::period.eq(period))
        .filter(disbursement_batches::status.eq_any(&live))
        .order(disbursement_batches::id)
        .select(BatchRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Batch::try_from).collect()
}

/// Locks a batch for the rest of the transaction if it is still in `status`; `false` if it
/// is not (cancelled meanwhile). A page of lines being written holds it, so a cancel
/// either waits for the page and frees its lines too, or comes first and the page writes
/// nothing (PostgreSQL re-reads the row after the wait; SQLite has one writer).
pub fn lock_batch_in(tx: &mut Tx<'_>, id: i64, status: BatchStatus) -> Result<bool, StoreError> {
    let target = disbursement_batches::table
        .find(id)
        .filter(disbursement_batches::status.eq(status.as_ref()))
        .select(disbursement_batches::id);
    // Written per arm: SQLite has no row locks.
    let found = match tx {
        Tx::Sqlite(connection) => target.first::<i64>(*connection).optional()?,
        Tx::Postgres(connection) => target.for_update().first::<i64>(*connection).optional()?,
    };
    Ok(found.is_some())
}

/// Ends a batch's preparation with its totals; `false` if it was no longer preparing.
pub fn finish_preparation(tx: &mut Tx<'_>, id: i64, lines: i64, amount_minor: i64) -> Result<bool, StoreError> {
    let changed = on_backend!(tx, connection => diesel::update(disbursement_batches::table
            .find(id)
            .filter(disbursement_batches::status.eq(BatchStatus::Preparing.as_ref())))
        .set((
            disbursement_batches::status.eq(BatchStatus::Prepared.as_ref()),
            disbursement_batches::lines_total.eq(lines),
            disbursement_batches::amount_total_minor.eq(amount_minor),
        ))
        .execute(connection)?);
    Ok(changed == 1)
}

/// Removes a batch still being prepared that has no line; `false` if it was no longer
/// preparing.
pub fn delete_empty_batch(tx: &mut Tx<'_>, id: i64) -> Result<bool, StoreError> {
    let has_lines = disbursement_lines::table.filter(disbursement_lines::batch_id.eq(id));
    let deleted = on_backend!(tx, connection => diesel::delete(disbursement_batches::table
            .find(id)
            .filter(disbursement_batches::status.eq(BatchStatus::Preparing.as_ref()))
            .filter(diesel::dsl::not(diesel::dsl::exists(has_lines))))
        .execute(connection)?);
    Ok(deleted == 1)
}

/// Cancels a batch that is not executing yet, with who and why; `false` if it was not
/// cancellable any more (started meanwhile).
pub fn cancel_batch(tx: &mut Tx<'_>, id: i64, cancelled_by: &str, reason: &str) -> Result<bool, StoreError> {
    let cancellable: Vec<&str> = BatchStatus::CANCELLABLE.iter().map(|status| status.as_ref()).collect();
    let changed = on_backend!(tx, connection => diesel::update(disbursement_batches::table
            .find(id)
            .filter(disbursement_batches::status.eq_any(&cancellable)))
        .set((
            disbursement_batches::status.eq(BatchStatus::Cancelled.as_ref()),
            disbursement_batches::cancelled_by.eq(Some(cancelled_by)),
            disbursement_batches::cancelled_at.eq(Some(now())),
            disbursement_batches::cancellation_reason.eq(Some(reason)),
        ))
        .execute(connection)?);
    Ok(changed == 1)
}

/// Deletes a cancelled batch's lines, all pending (it never executed), so that another
/// batch may pay those families for the period. Returns how many.
pub fn delete_lines(tx: &mut Tx<'_>, batch_id: i64) -> Result<usize, StoreError> {
    let lines = disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .filter(disbursement_lines::status.eq("pending"));
    Ok(on_backend!(tx, connection => diesel::delete(lines).execute(connection)?))
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
        .filter(disbursement_batches::status.eq(BatchStatus::Executing.as_ref()))
        .select(disbursement_batches::id)
        .load(connection)?))
}

/// Moves a batch between statuses; `false` if it was not in `from` (someone else moved it).
pub fn change_status(
    tx: &mut Tx<'_>,
    id: i64,
    from: BatchStatus,
    to: BatchStatus,
    approved_by: Option<&str>,
) -> Result<bool, StoreError> {
    let at = now();
    let changed = on_backend!(tx, connection => {
        let target = disbursement_batches::table.find(id).filter(disbursement_batches::status.eq(from.as_ref()));
        match (to, approved_by) {
            (BatchStatus::Approved, Some(approver)) => diesel::update(target)
                .set((
                    disbursement_batches::status.eq(to.as_ref()),
                    disbursement_batches::approved_by.eq(Some(approver)),
                    disbursement_batches::approved_at.eq(Some(at)),
                ))
                .execute(connection)?,
            (BatchStatus::Completed, _) => diesel::update(target)
                .set((disbursement_batches::status.eq(to.as_ref()), disbursement_batches::completed_at.eq(Some(at))))
                .execute(connection)?,
            _ => diesel::update(target).set(disbursement_batches::status.eq(to.as_ref())).execute(connection)?,
        }
    });
    Ok(changed == 1)
}

/// A family a batch would pay (or a cycle decide): its id, benefit category, village,
/// status, and whether its exit (if it left PKH) kept its food and LPG assistance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub family_id: i64,
    pub category: BenefitCategory,
    pub village_code: String,
    pub status: FamilyStatus,
    pub non_cash_continues: bool,
}

impl Payee {
    pub fn enrolment(&self) -> Enrolment {
        Enrolment { status: self.status, non_cash_continues: self.non_cash_continues }
    }
}

/// Families in one of `statuses`, in a region (by code prefix), by id, after `after`.
pub fn find_payees(
    tx: &mut Tx<'_>,
    statuses: &[FamilyStatus],
    region_prefix: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<Payee>, StoreError> {
    let statuses: Vec<&str> = statuses.iter().map(<&str>::from).collect();
    let rows: Vec<(i64, String, String, String, Option<bool>)> = on_backend!(tx, connection => {
        let mut query = families::table
            .left_join(family_exits::table)
            .filter(families::status.eq_any(&statuses))
            .filter(families::id.gt(after))
            .order(families::id)
            .limit(limit)
            .select((
                families::id,
                families::category,
                families::village_code,
                families::status,
                family_exits::non_cash_continues.nullable(),
            ))
            .into_boxed();
        if let Some(prefix) = region_prefix {
            query = query.filter(families::village_code.eq(prefix).or(families::village_code.like(format!("{prefix}.%"))));
        }
        query.load(connection)?
    });
    rows.into_iter()
        .map(|(family_id, category, village_code, status, non_cash_continues)| {
            Ok(Payee {
                family_id,
                category: parse_stored("families.category", &category)?,
                village_code,
                status: parse_stored("families.status", &status)?,
                non_cash_continues: non_cash_continues.unwrap_or(true),
            })
        })
        .collect()
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
