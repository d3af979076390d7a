//! The roll-up of the journal into the dashboard's money figures, run by every server in
//! the background (issue 22). A card transaction only writes the ledger; a pass here
//! reads the journals it has not reached, sums their postings by the rule in
//! [`crate::domain::journal_rollup`] and adds the sums, all in one transaction: a journal
//! is in the figures exactly once. Several servers on one PostgreSQL take turns through a
//! lock on the roll-up's row in the database, never an in-process lock.

use std::collections::HashMap;

use chrono::Duration;

use crate::domain::auth::RegionCode;
use crate::domain::journal_rollup::{
    advance_watermark, family_move, FamilyFlowKey, PostingOwner, RolledPosting, Rollup,
};
use crate::domain::ledger::JournalKind;
use crate::store::journal_rollup::{self, UnrolledPosting};
use crate::store::{monitoring, parse_stored, Store, StoreError, Tx};

/// The most journals one pass reads. A disbursement chunk's journal has up to 2,000
/// postings; a pass is a write on SQLite's one writer, so there it is kept short enough not
/// to hold card transactions back for long. On PostgreSQL a pass holds back only other
/// passes, and each pass's fixed cost (its claim, the watermark) is shared by more
/// journals: with 100 the roll-up fell up to 2.2 s behind 670 withdrawals/s (issue 22's
/// bench).
fn journals_per_pass_max(tx: &Tx<'_>) -> i64 {
    match tx {
        Tx::Sqlite(_) => 100,
        Tx::Postgres(_) => 400,
    }
}

/// How long an id missing below a rolled-up journal may still appear: a transaction that
/// took the id and has not committed yet. No transaction that writes journals stays open
/// this long (the longest, a disbursement chunk, takes seconds), so after it the id is
/// one a rolled-back transaction left unused.
pub const GAP_WAIT: Duration = Duration::minutes(10);

/// The most rolled-up journals above the watermark read to move it (one pass's worth
/// many times over; more only while a gap waits).
const ROLLED_READ_MAX: i64 = 10_000;

/// What a pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Journals added to the figures.
    pub journals: usize,
    /// Whether journals may remain: the pass read as many as it may.
    pub more: bool,
}

/// Rolls up the next journals the figures do not hold yet.
pub fn roll_up(store: &Store) -> Result<Pass, StoreError> {
    store.write(|tx| {
        let Some(watermark) = journal_rollup::claim(tx)? else {
            // Another server's pass holds it.
            return Ok(Pass { journals: 0, more: false });
        };
        let journals_max = journals_per_pass_max(tx);
        let journal_ids = journal_rollup::unrolled_journals(tx, watermark, journals_max)?;
        if journal_ids.is_empty() {
            return Ok(Pass { journals: 0, more: false });
        }
        let mut rollup = Rollup::default();
        for row in &journal_rollup::postings_of_journals(tx, &journal_ids)? {
            rollup.add(&rolled_posting(row)?);
        }
        add_to_figures(tx, &rollup)?;

        let now = chrono::Utc::now().naive_utc();
        journal_rollup::mark_rolled(tx, &journal_ids, now)?;
        let rolled = journal_rollup::rolled_above_watermark(tx, ROLLED_READ_MAX)?;
        let reached = advance_watermark(watermark, &rolled, now, GAP_WAIT);
        if reached > watermark {
            journal_rollup::move_watermark(tx, reached, now)?;
        }
        let journals = journal_ids.len();
        Ok(Pass { journals, more: i64::try_from(journals).unwrap_or(i64::MAX) >= journals_max })
    })
}

/// A family moves from village `from` to `to`, in the caller's transaction: the money
/// figures counted for it so far, its place in the reach and its active holds go with it,
/// so every region's figures stay those of the families living there. The roll-up waits
/// meanwhile; what it has not counted yet it counts at the new village.
pub fn move_family_figures(
    tx: &mut Tx<'_>,
    family_id: i64,
    from: &RegionCode,
    to: &RegionCode,
) -> Result<(), StoreError> {
    let watermark = journal_rollup::lock(tx)?;
    let postings = journal_rollup::counted_family_postings(tx, family_id, watermark)?
        .iter()
        .map(rolled_posting)
        .collect::<Result<Vec<_>, _>>()?;
    let reached: Vec<_> = family_flow_amounts(tx, &[family_id])?
        .into_iter()
        .filter(|(_, amount_minor)| *amount_minor != 0)
        .map(|((_, pocket, kind), _)| (pocket, kind))
        .collect();
    let (rollup, reach) = family_move(&postings, from, to, &reached);
    journal_rollup::add(tx, &rollup, &reach)?;
    journal_rollup::move_family_holds(tx, family_id, from, to)
}

/// Adds a batch's sums, and the reach they change (read against each family's flow as
/// the figures hold it: this pass holds the roll-up, so nothing else changes them).
fn add_to_figures(tx: &mut Tx<'_>, rollup: &Rollup) -> Result<(), StoreError> {
    let before = family_flow_amounts(tx, &rollup.families())?;
    journal_rollup::add(tx, rollup, &rollup.reach_changes(&before))
}

/// The families' own flows as the figures hold them, each with its net amount.
fn family_flow_amounts(tx: &mut Tx<'_>, family_ids: &[i64]) -> Result<HashMap<FamilyFlowKey, i64>, StoreError> {
    let mut amounts = HashMap::new();
    for flow in monitoring::family_flows(tx, family_ids)? {
        let pocket = parse_stored("monitoring_family_flows.pocket", &flow.pocket)?;
        let kind: JournalKind = parse_stored("monitoring_family_flows.journal_kind", &flow.journal_kind)?;
        amounts.insert((flow.family_id, pocket, kind), flow.amount_minor);
    }
    Ok(amounts)
}

/// A row's posting in the domain's terms.
fn rolled_posting(row: &UnrolledPosting) -> Result<RolledPosting, StoreError> {
    let owner_number: i64 = parse_stored("accounts.owner_id", &row.owner_id)?;
    let owner = match (row.owner_kind.as_str(), &row.village_code) {
        ("family", Some(village)) => PostingOwner::Family {
            family_id: owner_number,
            village: RegionCode::parse(village)
                .map_err(|_| StoreError::Corrupt(format!("families.village_code holds {village:?}")))?,
        },
        ("agent", _) => PostingOwner::Agent { agent_id: owner_number },
        (kind, _) => return Err(StoreError::Corrupt(format!("account of {kind} {} has no family", row.owner_id))),
    };
    let journal_kind: JournalKind = parse_stored("journals.kind", &row.journal_kind)?;
    Ok(RolledPosting {
        owner,
        pocket: parse_stored("accounts.kind", &row.pocket)?,
        flow_kind: parse_stored("journals.kind", &row.flow_kind)?,
        is_reversal: journal_kind == JournalKind::Reversal,
        posted_at: row.posted_at,
        amount_minor: row.amount_minor,
    })
}
