//! Import jobs (regions and families from CSV files, bulk card issuance), the lines they
//! refused, and a card issuance's one-time PINs until its mailer is downloaded.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{import_pins, import_rejections, imports};
use super::{now, on_backend, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = imports)]
pub struct ImportRow {
    pub id: i64,
    pub kind: String,
    pub actor: String,
    pub scope_code: Option<String>,
    pub digest: Option<String>,
    pub region_code: Option<String>,
    pub bank: Option<String>,
    pub status: String,
    pub lines_total: i64,
    pub lines_done: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub already_present: i64,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub pins_delivered_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = imports)]
pub struct ImportInsertForm<'a> {
    pub kind: &'a str,
    pub actor: &'a str,
    pub scope_code: Option<&'a str>,
    pub digest: Option<&'a str>,
    pub region_code: Option<&'a str>,
    pub bank: Option<&'a str>,
    pub status: &'a str,
    pub lines_total: i64,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What one chunk did, added to the job's counts in the chunk's transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    pub lines: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub already_present: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_rejections)]
pub struct Rejection {
    pub import_id: i64,
    pub line: i64,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_pins)]
pub struct SealedPin {
    pub import_id: i64,
    pub card_number: String,
    pub family_id: i64,
    pub pin_sealed: String,
    pub pin_key_version: i32,
}

/// Inserts the job; for a file already imported by the same person, nothing (see
/// [`find_by_file`]).
pub fn insert_if_new(tx: &mut Tx<'_>, form: &ImportInsertForm<'_>) -> Result<Option<ImportRow>, StoreError> {
    on_backend!(tx, connection => Ok(diesel::insert_into(imports::table)
        .values(form)
        .on_conflict_do_nothing()
        .returning(ImportRow::as_returning())
        .get_result(connection)
        .optional()?))
}

pub fn find_by_file(tx: &mut Tx<'_>, kind: &str, actor: &str, digest: &str) -> Result<Option<ImportRow>, StoreError> {
    on_backend!(tx, connection => Ok(imports::table
        .filter(imports::kind.eq(kind))
        .filter(imports::actor.eq(actor))
        .filter(imports::digest.eq(digest))
        .select(ImportRow::as_select())
        .get_result(connection)
        .optional()?))
}

pub fn find_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<ImportRow>, StoreError> {
    on_backend!(tx, connection => Ok(imports::table
        .find(id)
        .select(ImportRow::as_select())
        .get_result(connection)
        .optional()?))
}

/// Takes over a job that failed or whose runner went quiet before `quiet_since` (a
/// crash, a restart), by one conditional update: of two takers, one wins.
pub fn take_over(tx: &mut Tx<'_>, id: i64, quiet_since: NaiveDateTime) -> Result<bool, StoreError> {
    let changed = on_backend!(tx, connection => diesel::update(
            imports::table
                .find(id)
                .filter(imports::status.ne("finished"))
                .filter(imports::status.eq("failed").or(imports::updated_at.lt(quiet_since))),
        )
        .set((imports::status.eq("running"), imports::updated_at.eq(now())))
        .execute(connection)?);
    Ok(changed == 1)
}

/// Adds a chunk's counts to the job and says it is alive.
pub fn add_chunk(tx: &mut Tx<'_>, id: i64, counts: ChunkCounts) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(imports::table.find(id))
        .set((
            imports::lines_done.eq(imports::lines_done + counts.lines),
            imports::accepted.eq(imports::accepted + counts.accepted),
            imports::rejected.eq(imports::rejected + counts.rejected),
            imports::already_present.eq(imports::already_present + counts.already_present),
            imports::updated_at.eq(now()),
        ))
        .execute(connection)?);
    Ok(())
}

/// Ends the job: `finished`, or `failed` (taken over again by the next upload of the file).
pub fn set_status(tx: &mut Tx<'_>, id: i64, status: &str) -> Result<(), StoreError> {
    let finished_at = (status == "finished").then(now);
    on_backend!(tx, connection => diesel::update(imports::table.find(id))
        .set((imports::status.eq(status), imports::updated_at.eq(now()), imports::finished_at.eq(finished_at)))
        .execute(connection)?);
    Ok(())
}

pub fn insert_rejections(tx: &mut Tx<'_>, rejections: &[Rejection]) -> Result<(), StoreError> {
    if rejections.is_empty() {
        return Ok(());
    }
    on_backend!(tx, connection => diesel::insert_into(import_rejections::table).values(rejections).execute(connection)?);
    Ok(())
}

/// The job's rejected lines after line `after`, in line order.
pub fn find_rejections(tx: &mut Tx<'_>, id: i64, after: i64, limit: i64) -> Result<Vec<Rejection>, StoreError> {
    on_backend!(tx, connection => Ok(import_rejections::table
        .filter(import_rejections::import_id.eq(id))
        .filter(import_rejections::line.gt(after))
        .order(import_rejections::line)
        .limit(limit)
        .select(Rejection::as_select())
        .load(connection)?))
}

pub fn insert_pins(tx: &mut Tx<'_>, pins: &[SealedPin]) -> Result<(), StoreError> {
    if pins.is_empty() {
        return Ok(());
    }
    on_backend!(tx, connection => diesel::insert_into(import_pins::table).values(pins).execute(connection)?);
    Ok(())
}

/// Marks the mailer delivered, once: false when it was already.
pub fn mark_pins_delivered(tx: &mut Tx<'_>, id: i64) -> Result<bool, StoreError> {
    let changed = on_backend!(tx, connection => diesel::update(
            imports::table.find(id).filter(imports::pins_delivered_at.is_null()),
        )
        .set(imports::pins_delivered_at.eq(now()))
        .execute(connection)?);
    Ok(changed == 1)
}

/// The job's sealed PINs, deleted in the same statement's transaction as they are read.
pub fn take_pins(tx: &mut Tx<'_>, id: i64) -> Result<Vec<SealedPin>, StoreError> {
    on_backend!(tx, connection => {
        let pins = import_pins::table
            .filter(import_pins::import_id.eq(id))
            .order(import_pins::family_id)
            .select(SealedPin::as_select())
            .load(connection)?;
        diesel::delete(import_pins::table.filter(import_pins::import_id.eq(id))).execute(connection)?;
        Ok(pins)
    })
}
