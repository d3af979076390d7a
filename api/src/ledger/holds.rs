//! Holds: money that stays on an account, visible to its owner, but may not leave it.
//! available = balance − active holds; a hold never exceeds what is available when it
//! is placed, so every account keeps balance ≥ held.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::{Account, AccountRow};
use super::error::{LedgerError, Refusal};
use super::posting::{self, PostedJournal};
use crate::domain::ids::{AccountId, HoldId, JournalId};
use crate::domain::ledger::{AccountKind, AccountStatus, HoldReason, HoldStatus, JournalKind, OwnerKind};
use crate::domain::money::Amount;
use crate::store::schema::{accounts, holds};
use crate::store::{audit, now, on_backend, parse_stored, StoreError, Tx};

/// How many due holds one release pass ends, so that a pass is a bounded transaction.
pub const RELEASE_BATCH_MAX: i64 = 1_000;

/// The longest reference or actor name a hold stores, in bytes.
pub const HOLD_TEXT_BYTES_MAX: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub id: HoldId,
    pub account: AccountId,
    pub amount_minor: i64,
    pub reason: HoldReason,
    /// What the hold is about: a disbursement stage, a verification cycle, a case number.
    pub reference: String,
    /// The rule or person that placed it.
    pub placed_by: String,
    pub placed_at: NaiveDateTime,
    /// When the hold ends by itself, if it does.
    pub release_at: Option<NaiveDateTime>,
    pub status: HoldStatus,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_by: Option<String>,
    pub capture_journal: Option<JournalId>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = holds)]
struct HoldRow {
    id: i64,
    account_id: i64,
    amount_minor: i64,
    reason: String,
    reference: String,
    placed_by: String,
    placed_at: NaiveDateTime,
    release_at: Option<NaiveDateTime>,
    status: String,
    ended_at: Option<NaiveDateTime>,
    ended_by: Option<String>,
    capture_journal_id: Option<i64>,
}

impl TryFrom<HoldRow> for Hold {
    type Error = StoreError;
    fn try_from(row: HoldRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: HoldId(row.id),
            account: AccountId(row.account_id),
            amount_minor: row.amount_minor,
            reason: parse_stored("holds.reason", &row.reason)?,
            reference: row.reference,
            placed_by: row.placed_by,
            placed_at: row.placed_at,
            release_at: row.release_at,
            status: parse_stored("holds.status", &row.status)?,
            ended_at: row.ended_at,
            ended_by: row.ended_by,
            capture_journal: row.capture_journal_id.map(JournalId),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = holds)]
struct HoldInsertForm<'a> {
    account_id: i64,
    amount_minor: i64,
    reason: &'a str,
    reference: &'a str,
    placed_by: &'a str,
    placed_at: NaiveDateTime,
    release_at: Option<NaiveDateTime>,
}

/// A hold to place.
#[derive(Debug, Clone)]
pub struct HoldDraft<'a> {
    pub account: AccountId,
    pub amount: Amount,
    pub reason: HoldReason,
    pub reference: &'a str,
    pub placed_by: &'a str,
    pub release_at: Option<NaiveDateTime>,
}

/// Blocks `amount` of the account's available money.
pub fn place(tx: &mut Tx<'_>, draft: &HoldDraft<'_>) -> Result<Hold, LedgerError> {
    if draft.reference.len() > HOLD_TEXT_BYTES_MAX || draft.placed_by.len() > HOLD_TEXT_BYTES_MAX {
        return Err(Refusal::Malformed {
            problem: format!("hold reference and actor are at most {HOLD_TEXT_BYTES_MAX} bytes"),
        }
        .into());
    }
    let amount_minor = draft.amount.minor();
    // Holds past their release time keep nothing: if they are in the way, they are ended
    // (the account locked first, as on every path) and the hold is tried once more.
    if !hold_back(tx, draft.account, amount_minor)? {
        super::accounts::lock(tx, draft.account)?;
        if release_due_on(tx, draft.account, now())? == 0 || !hold_back(tx, draft.account, amount_minor)? {
            let account = super::accounts::get(tx, draft.account)?;
            if account.status == AccountStatus::Closed {
                return Err(Refusal::AccountClosed { account: account.id }.into());
            }
            return Err(Refusal::InsufficientFunds {
                account: account.id,
                available_minor: account.balance_minor - account.held_minor,
                requested_minor: amount_minor,
            }
            .into());
        }
    }
    let form = HoldInsertForm {
        account_id: draft.account.0,
        amount_minor,
        reason: draft.reason.as_ref(),
        reference: draft.reference,
        placed_by: draft.placed_by,
        placed_at: now(),
        release_at: draft.release_at,
    };
    let row: HoldRow = on_backend!(tx, connection => diesel::insert_into(holds::table)
        .values(&form)
        .returning(HoldRow::as_returning())
        .get_result(connection)?);
    let placed = Hold::try_from(row)?;
    record(tx, &placed, "hold.placed", draft.placed_by, serde_json::json!({ "release_at": draft.release_at }))?;
    Ok(placed)
}

/// Raises the account's held total by `amount_minor` if it is open and has that much
/// free of holds; `false` if not.
fn hold_back(tx: &mut Tx<'_>, account: AccountId, amount_minor: i64) -> Result<bool, LedgerError> {
    let updated = on_backend!(tx, connection => diesel::update(
            accounts::table
                .find(account.0)
                .filter(accounts::status.eq(AccountStatus::Open.as_ref()))
                .filter((accounts::balance_minor - accounts::held_minor).ge(amount_minor)),
        )
        .set(accounts::held_minor.eq(accounts::held_minor + amount_minor))
        .execute(connection)?);
    Ok(updated == 1)
}

/// Makes held money available again.
pub fn release(tx: &mut Tx<'_>, hold: HoldId, released_by: &str) -> Result<Hold, LedgerError> {
    let released = end(tx, hold, released_by)?;
    record(tx, &released, "hold.released", released_by, serde_json::json!({}))?;
    Ok(released)
}

/// Ends an active hold (status released) and frees its money, without an audit event:
/// the caller records what the ending was.
fn end(tx: &mut Tx<'_>, hold: HoldId, released_by: &str) -> Result<Hold, LedgerError> {
    let ended: Option<HoldRow> = on_backend!(tx, connection => diesel::update(
            holds::table.find(hold.0).filter(holds::status.eq(HoldStatus::Active.as_ref())),
        )
        .set((
            holds::status.eq(HoldStatus::Released.as_ref()),
            holds::ended_at.eq(Some(now())),
            holds::ended_by.eq(Some(released_by)),
        ))
        .returning(HoldRow::as_returning())
        .get_result(connection)
        .optional()?);
    let Some(row) = ended else {
        let existing = find_by_id(tx, hold)?.ok_or(Refusal::HoldNotFound { hold })?;
        return Err(Refusal::HoldNotActive { hold, status: existing.status }.into());
    };
    unhold(tx, AccountId(row.account_id), row.amount_minor)?;
    Ok(Hold::try_from(row)?)
}

/// Moves the held money to `destination` (e.g. back to the treasury) in one journal.
pub fn capture(
    tx: &mut Tx<'_>,
    hold: HoldId,
    destination: AccountId,
    kind: JournalKind,
    reference: &str,
    captured_by: &str,
) -> Result<(Hold, PostedJournal), LedgerError> {
    // Released first, so that its money counts as available to the journal; all of it
    // happens in the caller's transaction, so nobody else sees the money unheld.
    let released = end(tx, hold, captured_by)?;
    let amount = Amount::from_minor(released.amount_minor)
        .map_err(|error| StoreError::Corrupt(format!("hold {hold} amount: {error}")))?;
    let journal = posting::transfer(tx, kind, reference, released.account, destination, amount)?;
    let row: HoldRow = on_backend!(tx, connection => diesel::update(holds::table.find(hold.0))
        .set((holds::status.eq(HoldStatus::Captured.as_ref()), holds::capture_journal_id.eq(Some(journal.id.0))))
        .returning(HoldRow::as_returning())
        .get_result(connection)?);
    let captured = Hold::try_from(row)?;
    record(tx, &captured, "hold.captured", captured_by, serde_json::json!({ "journal": journal.id }))?;
    Ok((captured, journal))
}

/// Appends a hold's change to the audit trail, in the transaction that makes it.
fn record(tx: &mut Tx<'_>, hold: &Hold, action: &str, actor: &str, more: serde_json::Value) -> Result<(), LedgerError> {
    let mut details = serde_json::json!({
        "account": hold.account,
        "amount_minor": hold.amount_minor,
        "reason": hold.reason,
    });
    if let (Some(details), Some(more)) = (details.as_object_mut(), more.as_object()) {
        details.extend(more.clone());
    }
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action,
            object_kind: "hold",
            object_id: &hold.id.to_string(),
            reason: &format!("{}: {}", hold.reason.as_ref(), hold.reference),
            details,
        },
    )?;
    Ok(())
}

fn unhold(tx: &mut Tx<'_>, account: AccountId, amount_minor: i64) -> Result<(), LedgerError> {
    on_backend!(tx, connection => diesel::update(accounts::table.find(account.0))
        .set(accounts::held_minor.eq(accounts::held_minor - amount_minor))
        .execute(connection)?);
    Ok(())
}

/// Ends the holds on an account whose release time has passed at `at`, at most
/// [`RELEASE_BATCH_MAX`]; returns how many it ended. The caller holds the account's lock
/// ([`super::accounts::lock`]): accounts are locked before their holds, on every path.
pub fn release_due_on(tx: &mut Tx<'_>, account: AccountId, at: NaiveDateTime) -> Result<usize, LedgerError> {
    let due: Vec<i64> = on_backend!(tx, connection => holds::table
        .filter(holds::account_id.eq(account.0))
        .filter(holds::status.eq(HoldStatus::Active.as_ref()))
        .filter(holds::release_at.le(at))
        .select(holds::id)
        .order(holds::id)
        .limit(RELEASE_BATCH_MAX)
        .load(connection)?);
    for hold in &due {
        release(tx, HoldId(*hold), RELEASED_BY_TIME)?;
    }
    Ok(due.len())
}

/// Who ends a hold whose release time has come.
const RELEASED_BY_TIME: &str = "release time reached";

/// Accounts with holds past their release time at `at`, at most `limit`, in ascending id
/// order (for the background release; see [`release_due_on`]).
pub fn find_accounts_with_due_holds(
    tx: &mut Tx<'_>,
    at: NaiveDateTime,
    limit: i64,
) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<i64> = on_backend!(tx, connection => holds::table
        .filter(holds::status.eq(HoldStatus::Active.as_ref()))
        .filter(holds::release_at.le(at))
        .select(holds::account_id)
        .distinct()
        .order(holds::account_id)
        .limit(limit)
        .load(connection)?);
    Ok(ids.into_iter().map(AccountId).collect())
}

pub fn find_by_id(tx: &mut Tx<'_>, hold: HoldId) -> Result<Option<Hold>, StoreError> {
    let row: Option<HoldRow> = on_backend!(tx, connection => holds::table
        .find(hold.0)
        .select(HoldRow::as_select())
        .first(connection)
        .optional()?);
    row.map(Hold::try_from).transpose()
}

/// The active holds on an account, oldest first.
pub fn find_active_by_account(tx: &mut Tx<'_>, account: AccountId) -> Result<Vec<Hold>, StoreError> {
    let rows: Vec<HoldRow> = on_backend!(tx, connection => holds::table
        .filter(holds::account_id.eq(account.0))
        .filter(holds::status.eq(HoldStatus::Active.as_ref()))
        .order(holds::id)
        .select(HoldRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Hold::try_from).collect()
}

/// Every account of one owner (a family's pockets), each with its active holds oldest
/// first, in one query; with `also`, another owner's account of one kind in the same query
/// (a card transaction's agent settlement account), if it is open.
pub fn find_by_owner_with_active_holds(
    tx: &mut Tx<'_>,
    owner_kind: OwnerKind,
    owner_id: &str,
    also: Option<(OwnerKind, &str, AccountKind)>,
) -> Result<Vec<(Account, Vec<Hold>)>, StoreError> {
    let active = holds::account_id.eq(accounts::id).and(holds::status.eq(HoldStatus::Active.as_ref()));
    let owned = accounts::owner_kind.eq(owner_kind.as_ref()).and(accounts::owner_id.eq(owner_id));
    // The query is built per backend: a selection is typed by its backend.
    macro_rules! with_holds_where {
        ($filter:expr) => {
            accounts::table
                .left_join(holds::table.on(active))
                .filter($filter)
                .order((accounts::id, holds::id))
                .select((AccountRow::as_select(), Option::<HoldRow>::as_select()))
        };
    }
    let rows: Vec<(AccountRow, Option<HoldRow>)> = match also {
        None => on_backend!(tx, connection => with_holds_where!(owned).load(connection)?),
        Some((also_kind, also_id, also_account)) => {
            let other = accounts::owner_kind
                .eq(also_kind.as_ref())
                .and(accounts::owner_id.eq(also_id))
                .and(accounts::kind.eq(also_account.as_ref()));
            on_backend!(tx, connection => with_holds_where!(owned.or(other)).load(connection)?)
        }
    };
    let mut found: Vec<(Account, Vec<Hold>)> = Vec::new();
    for (account, hold) in rows {
        // An account's rows come together, one per active hold (one without any).
        let account = Account::try_from(account)?;
        if found.last().is_none_or(|(last, _)| last.id != account.id) {
            found.push((account, Vec::new()));
        }
        if let (Some(hold), Some((_, holds))) = (hold, found.last_mut()) {
            holds.push(Hold::try_from(hold)?);
        }
    }
    Ok(found)
}

/// Why money on an account is blocked, each reason once.
pub fn active_reasons(tx: &mut Tx<'_>, account: AccountId) -> Result<Vec<HoldReason>, StoreError> {
    let mut reasons: Vec<HoldReason> =
        find_active_by_account(tx, account)?.into_iter().map(|hold| hold.reason).collect();
    reasons.sort_by_key(|reason| reason.as_ref().to_owned());
    reasons.dedup();
    Ok(reasons)
}
