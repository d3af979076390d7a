//! The roll-up of the journal into the monitoring aggregates (migration 000021): where it
//! stands, the postings it has not reached, and the sums it adds. Every value written is
//! parsed into a domain type first (region codes are digits and dots, kinds are enums,
//! days and times are formatted by chrono), so the upserts inline them safely: one
//! statement for hundreds of rows, within neither backend's limit on bound values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::{on_backend, StoreError, Tx};
use crate::domain::auth::RegionCode;
use crate::domain::journal_rollup::{regions_of, RegionFlowKey, Rollup, Sums};

/// The most rows one upsert statement writes.
const UPSERT_ROWS_MAX: usize = 500;

#[derive(QueryableByName)]
struct Watermark {
    #[diesel(sql_type = BigInt)]
    journal_id_done: i64,
}

/// Claims the roll-up for one pass and says where it stands: on PostgreSQL the state's row
/// stays locked until the pass commits, and another server's pass meanwhile finds it taken
/// (`None`) instead of waiting; SQLite has one writer at a time already.
pub fn claim(tx: &mut Tx<'_>) -> Result<Option<i64>, StoreError> {
    watermark(tx, "FOR UPDATE SKIP LOCKED")
}

/// Waits for the roll-up and holds it until the caller's transaction ends (a family's
/// move takes its counted figures with it, and no pass may count its postings meanwhile);
/// says where it stands.
pub fn lock(tx: &mut Tx<'_>) -> Result<i64, StoreError> {
    watermark(tx, "FOR UPDATE")?.ok_or_else(|| StoreError::Corrupt("monitoring_rollup has no row".to_owned()))
}

/// The roll-up's watermark, its row locked on PostgreSQL as `locking` says.
fn watermark(tx: &mut Tx<'_>, locking: &str) -> Result<Option<i64>, StoreError> {
    let sql = match tx {
        Tx::Sqlite(_) => "SELECT journal_id_done FROM monitoring_rollup WHERE id = 1".to_owned(),
        Tx::Postgres(_) => format!("SELECT journal_id_done FROM monitoring_rollup WHERE id = 1 {locking}"),
    };
    let rows: Vec<Watermark> = on_backend!(tx, connection => diesel::sql_query(&sql).load(connection)?);
    Ok(rows.first().map(|row| row.journal_id_done))
}

/// A posting on a family's or an agent's account, with its journal, as the roll-up reads it.
#[derive(Debug, Clone, QueryableByName)]
pub struct UnrolledPosting {
    #[diesel(sql_type = BigInt)]
    pub journal_id: i64,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    /// The journal's kind, or for a reversal the kind of the journal it reverses.
    #[diesel(sql_type = Text)]
    pub flow_kind: String,
    #[diesel(sql_type = Timestamp)]
    pub posted_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    pub owner_kind: String,
    #[diesel(sql_type = Text)]
    pub owner_id: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    /// The family's village now, for a family's posting.
    #[diesel(sql_type = Nullable<Text>)]
    pub village_code: Option<String>,
}

/// The postings of one family's pockets the figures have counted, in the shape of
/// [`postings_of_journals`].
pub fn counted_family_postings(
    tx: &mut Tx<'_>,
    family_id: i64,
    watermark: i64,
) -> Result<Vec<UnrolledPosting>, StoreError> {
    let sql = format!(
        "SELECT j.id AS journal_id, j.kind AS journal_kind, COALESCE(o.kind, j.kind) AS flow_kind, j.posted_at,
                a.owner_kind, a.owner_id, a.kind AS pocket, p.amount_minor, f.village_code
         FROM accounts a
         JOIN postings p ON p.account_id = a.id
         JOIN journals j ON j.id = p.journal_id
         LEFT JOIN journals o ON o.id = j.reverses_journal_id
         JOIN families f ON f.id = {family_id}
         WHERE a.owner_kind = 'family' AND a.owner_id = '{family_id}'
           AND (j.id <= {watermark} OR EXISTS (SELECT 1 FROM monitoring_rolled_journals r WHERE r.journal_id = j.id))
         ORDER BY j.id"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

#[derive(QueryableByName)]
struct ActiveHold {
    #[diesel(sql_type = Text)]
    pocket: String,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
}

/// Moves the held totals of a family's active holds from one village's regions to
/// another's (migration 000005's hold triggers count a hold's end at the family's
/// village then).
pub fn move_family_holds(
    tx: &mut Tx<'_>,
    family_id: i64,
    from: &RegionCode,
    to: &RegionCode,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT a.kind AS pocket, h.reason, h.amount_minor FROM holds h JOIN accounts a ON a.id = h.account_id
         WHERE a.owner_kind = 'family' AND a.owner_id = '{family_id}' AND h.status = 'active'"
    );
    let holds: Vec<ActiveHold> = on_backend!(tx, connection => diesel::sql_query(&sql).load(connection)?);
    let mut changes: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    for hold in &holds {
        for (village, sign) in [(from, -1), (to, 1)] {
            for region in regions_of(village) {
                let change = changes.entry((region.to_string(), hold.pocket.clone(), hold.reason.clone())).or_default();
                change.0 += sign * hold.amount_minor;
                change.1 += sign;
            }
        }
    }
    // Pockets and reasons are the ledger's enums as stored; checked before they are inlined.
    let rows: Vec<String> = changes
        .into_iter()
        .filter(|(_, change)| *change != (0, 0))
        .map(|((region, pocket, reason), (amount_minor, count))| {
            let pocket: crate::domain::ledger::AccountKind = super::parse_stored("accounts.kind", &pocket)?;
            let reason: crate::domain::ledger::HoldReason = super::parse_stored("holds.reason", &reason)?;
            Ok(format!("('{region}', '{}', '{}', {amount_minor}, {count})", pocket.as_ref(), reason.as_ref()))
        })
        .collect::<Result<_, StoreError>>()?;
    upsert_adding(
        tx,
        "monitoring_holds",
        &["region_code", "pocket", "reason"],
        &["amount_minor", "holds"],
        rows.into_iter(),
    )
}

/// The first `journals_max` journals above `watermark` not rolled up yet, by id.
pub fn unrolled_journals(tx: &mut Tx<'_>, watermark: i64, journals_max: i64) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "SELECT j.id AS journal_id FROM journals j
         WHERE j.id > {watermark}
           AND NOT EXISTS (SELECT 1 FROM monitoring_rolled_journals r WHERE r.journal_id = j.id)
         ORDER BY j.id LIMIT {journals_max}"
    );
    let rows: Vec<JournalIdRow> = on_backend!(tx, connection => diesel::sql_query(&sql).load(connection)?);
    Ok(rows.into_iter().map(|row| row.journal_id).collect())
}

#[derive(QueryableByName)]
struct JournalIdRow {
    #[diesel(sql_type = BigInt)]
    journal_id: i64,
}

/// The postings of `journal_ids` on a family's or an agent's account, found through the
/// postings' journal index, then each account by its key. `CROSS JOIN` keeps that order on
/// SQLite (PostgreSQL plans it freely): left to itself SQLite went through the accounts'
/// `(owner_kind, owner_id, kind)` index, every family's account, on every pass; with a
/// million families a pass took minutes and held the one writer.
pub fn postings_of_journals(tx: &mut Tx<'_>, journal_ids: &[i64]) -> Result<Vec<UnrolledPosting>, StoreError> {
    if journal_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = journal_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT j.id AS journal_id, j.kind AS journal_kind, COALESCE(o.kind, j.kind) AS flow_kind, j.posted_at,
                a.owner_kind, a.owner_id, a.kind AS pocket, p.amount_minor, f.village_code
         FROM postings p
         CROSS JOIN accounts a
         CROSS JOIN journals j
         LEFT JOIN journals o ON o.id = j.reverses_journal_id
         LEFT JOIN families f ON a.owner_kind = 'family' AND f.id = {}
         WHERE p.journal_id IN ({ids})
           AND a.id = p.account_id AND a.owner_kind IN ('family', 'agent')
           AND j.id = p.journal_id
         ORDER BY p.journal_id, p.id",
        owner_number(tx)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// An account's owner id as a number: families and agents have one. PostgreSQL may cast
/// before it filters, so there the cast is the function that answers NULL otherwise.
fn owner_number(tx: &Tx<'_>) -> &'static str {
    match tx {
        Tx::Sqlite(_) => "CAST(a.owner_id AS INTEGER)",
        Tx::Postgres(_) => "monitoring_owner_number(a.owner_id)",
    }
}

/// Adds a batch's sums to the aggregates, and the reach's changes. Rows go to shard 0: one
/// pass runs at a time, so no two writers meet on a row (readers sum over the shards, and
/// the rows the triggers wrote to other shards stay as they are).
pub fn add(tx: &mut Tx<'_>, rollup: &Rollup, reach: &BTreeMap<RegionFlowKey, i64>) -> Result<(), StoreError> {
    let daily = rollup.daily_flows.iter().filter(|(_, sums)| **sums != Sums::default()).map(
        |((region, pocket, kind, day), sums)| {
            format!(
                "('{region}', '{}', '{}', '{day}', 0, {}, {})",
                pocket.as_ref(),
                kind.as_ref(),
                sums.amount_minor,
                sums.entries
            )
        },
    );
    upsert_adding(
        tx,
        "monitoring_flows",
        &["region_code", "pocket", "journal_kind", "business_day", "shard"],
        &["amount_minor", "entries"],
        daily,
    )?;
    let totals = rollup.flow_totals.iter().filter(|(_, sums)| **sums != Sums::default()).map(
        |((region, pocket, kind), sums)| {
            format!(
                "('{region}', '{}', '{}', 0, {}, {})",
                pocket.as_ref(),
                kind.as_ref(),
                sums.amount_minor,
                sums.entries
            )
        },
    );
    upsert_adding(
        tx,
        "monitoring_flow_totals",
        &["region_code", "pocket", "journal_kind", "shard"],
        &["amount_minor", "entries"],
        totals,
    )?;
    let families = rollup.family_flows.iter().map(|((family_id, pocket, kind), sums)| {
        format!("({family_id}, '{}', '{}', {}, {})", pocket.as_ref(), kind.as_ref(), sums.amount_minor, sums.entries)
    });
    upsert_adding(
        tx,
        "monitoring_family_flows",
        &["family_id", "pocket", "journal_kind"],
        &["amount_minor", "entries"],
        families,
    )?;
    let agents = rollup.agent_days.iter().map(|((day, agent_id, kind), sums)| {
        format!("('{day}', {agent_id}, '{}', {}, {})", kind.as_ref(), sums.amount_minor, sums.entries)
    });
    upsert_adding(
        tx,
        "monitoring_agent_days",
        &["business_day", "agent_id", "journal_kind"],
        &["amount_minor", "entries"],
        agents,
    )?;
    let reach = reach.iter().map(|((region, pocket, kind), change)| {
        format!("('{region}', '{}', '{}', 0, {change})", pocket.as_ref(), kind.as_ref())
    });
    upsert_adding(tx, "monitoring_reach", &["region_code", "pocket", "journal_kind", "shard"], &["families"], reach)
}

/// `INSERT … ON CONFLICT (key) DO UPDATE SET column = column + excluded.column` over rows
/// written as SQL tuples (key columns, then the added ones), a statement per
/// [`UPSERT_ROWS_MAX`] rows.
fn upsert_adding(
    tx: &mut Tx<'_>,
    table: &str,
    key: &[&str],
    added: &[&str],
    rows: impl Iterator<Item = String>,
) -> Result<(), StoreError> {
    let columns = key.iter().chain(added).copied().collect::<Vec<_>>().join(", ");
    let set = added.iter().map(|column| format!("{column} = {table}.{column} + excluded.{column}")).collect::<Vec<_>>();
    let head = format!("INSERT INTO {table} ({columns}) VALUES ");
    let tail = format!(" ON CONFLICT ({}) DO UPDATE SET {}", key.join(", "), set.join(", "));
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(UPSERT_ROWS_MAX) {
        let sql = format!("{head}{}{tail}", chunk.join(", "));
        on_backend!(tx, connection => diesel::sql_query(&sql).execute(connection)?);
    }
    Ok(())
}

/// Notes journals as rolled up, at `now`.
pub fn mark_rolled(tx: &mut Tx<'_>, journal_ids: &[i64], now: NaiveDateTime) -> Result<(), StoreError> {
    let at = now.format("%Y-%m-%d %H:%M:%S%.6f");
    for chunk in journal_ids.chunks(UPSERT_ROWS_MAX) {
        let mut sql = String::from("INSERT INTO monitoring_rolled_journals (journal_id, rolled_up_at) VALUES ");
        for (index, id) in chunk.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            // Writing to a String cannot fail.
            let _ = write!(sql, "{separator}({id}, '{at}')");
        }
        on_backend!(tx, connection => diesel::sql_query(&sql).execute(connection)?);
    }
    Ok(())
}

#[derive(QueryableByName)]
struct RolledJournal {
    #[diesel(sql_type = BigInt)]
    journal_id: i64,
    #[diesel(sql_type = Timestamp)]
    rolled_up_at: NaiveDateTime,
}

/// The first `limit` journals rolled up above the watermark, in id order, with when.
pub fn rolled_above_watermark(tx: &mut Tx<'_>, limit: i64) -> Result<Vec<(i64, NaiveDateTime)>, StoreError> {
    let sql =
        format!("SELECT journal_id, rolled_up_at FROM monitoring_rolled_journals ORDER BY journal_id LIMIT {limit}");
    let rows: Vec<RolledJournal> = on_backend!(tx, connection => diesel::sql_query(&sql).load(connection)?);
    Ok(rows.into_iter().map(|row| (row.journal_id, row.rolled_up_at)).collect())
}

/// Moves the watermark to `journal_id` and forgets the rolled-up journals up to it.
pub fn move_watermark(tx: &mut Tx<'_>, journal_id: i64, now: NaiveDateTime) -> Result<(), StoreError> {
    let at = now.format("%Y-%m-%d %H:%M:%S%.6f");
    for sql in [
        format!("DELETE FROM monitoring_rolled_journals WHERE journal_id <= {journal_id}"),
        format!("UPDATE monitoring_rollup SET journal_id_done = {journal_id}, rolled_up_at = '{at}' WHERE id = 1"),
    ] {
        on_backend!(tx, connection => diesel::sql_query(&sql).execute(connection)?);
    }
    Ok(())
}

/// The most journals [`mark`] counts as behind. While an unused id holds the watermark
/// (PostgreSQL, up to the roll-up's `GAP_WAIT`), every journal above it
/// would be looked at for each dashboard answer; counting stops here instead.
pub const JOURNALS_BEHIND_COUNTED_MAX: i64 = 10_000;

/// How far the figures reach: every journal up to `journal_id` is in them, and
/// `journals_behind` committed journals are not yet (counted up to
/// [`JOURNALS_BEHIND_COUNTED_MAX`]).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct RollupMark {
    #[diesel(sql_type = BigInt)]
    pub journal_id: i64,
    #[diesel(sql_type = BigInt)]
    pub journals_behind: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub rolled_up_at: Option<NaiveDateTime>,
}

pub fn mark(tx: &mut Tx<'_>) -> Result<RollupMark, StoreError> {
    // The LIMIT is written out, not bound: see `cached_sql` on re-prepared LIMITs.
    const _: () = assert!(JOURNALS_BEHIND_COUNTED_MAX == 10_000, "the LIMIT below is JOURNALS_BEHIND_COUNTED_MAX");
    let sql = "WITH r AS (SELECT journal_id_done, rolled_up_at FROM monitoring_rollup WHERE id = 1)
               SELECT r.journal_id_done AS journal_id, r.rolled_up_at,
                      (SELECT COUNT(*) FROM (SELECT 1 FROM r AS w CROSS JOIN journals j
                                             WHERE j.id > w.journal_id_done
                                               AND NOT EXISTS (SELECT 1 FROM monitoring_rolled_journals d WHERE d.journal_id = j.id)
                                             LIMIT 10000) AS behind) AS journals_behind
               FROM r";
    let rows: Vec<RollupMark> = on_backend!(tx, connection => diesel::sql_query(sql).load(connection)?);
    rows.into_iter().next().ok_or_else(|| StoreError::Corrupt("monitoring_rollup has no row".to_owned()))
}
