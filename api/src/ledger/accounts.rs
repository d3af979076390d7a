//! Accounts: opening, finding and closing. Balances are written only by
//! [`super::posting`] and [`super::holds`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::error::{LedgerError, Refusal};
use crate::domain::holds::AccountState;
use crate::domain::ids::AccountId;
use crate::domain::ledger::{may_go_negative, AccountKind, AccountStatus, HoldReason, OwnerKind};
use crate::store::schema::accounts;
use crate::store::{now, on_backend, parse_stored, StoreError, Tx};

/// The stored spellings of the account kinds allowed below zero (the treasury), computed
/// once: the posting primitive's conditional update names them on every leg.
pub(crate) static KINDS_THAT_MAY_GO_NEGATIVE: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    use strum::IntoEnumIterator;
    AccountKind::iter().filter(|kind| may_go_negative(*kind)).map(<&str>::from).collect()
});

/// An account as stored, with its materialised balance and held total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub owner_kind: OwnerKind,
    pub owner_id: String,
    pub kind: AccountKind,
    pub status: AccountStatus,
    pub balance_minor: i64,
    pub held_minor: i64,
    pub opened_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    /// While set, nothing but money returned to the treasury leaves the account.
    pub block: Option<DebitBlock>,
}

/// A debit block on an account: why, about what, by whom and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebitBlock {
    pub reason: HoldReason,
    /// What it is about, e.g. the cycle, the member and the commitment missed.
    pub reference: String,
    pub blocked_by: String,
    pub blocked_at: NaiveDateTime,
}

impl Account {
    /// The account as the movement rule sees it, its held total as stored (holds past
    /// their release time included until something ends them).
    pub fn state(&self) -> AccountState {
        AccountState {
            kind: self.kind,
            status: self.status,
            balance_minor: self.balance_minor,
            held_minor: self.held_minor,
            blocked: self.block.is_some(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    id: i64,
    owner_kind: String,
    owner_id: String,
    kind: String,
    status: String,
    balance_minor: i64,
    held_minor: i64,
    opened_at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
    blocked_reason: Option<String>,
    blocked_reference: Option<String>,
    blocked_by: Option<String>,
    blocked_at: Option<NaiveDateTime>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: AccountId(row.id),
            owner_kind: parse_stored("accounts.owner_kind", &row.owner_kind)?,
            owner_id: row.owner_id,
            kind: parse_stored("accounts.kind", &row.kind)?,
            status: parse_stored("accounts.status", &row.status)?,
            balance_minor: row.balance_minor,
            held_minor: row.held_minor,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
            block: match (row.blocked_reason, row.blocked_at) {
                (Some(reason), Some(blocked_at)) => Some(DebitBlock {
                    reason: parse_stored("accounts.blocked_reason", &reason)?,
                    reference: row.blocked_reference.unwrap_or_default(),
                    blocked_by: row.blocked_by.unwrap_or_default(),
                    blocked_at,
                }),
                (None, None) => None,
                _ => {
                    return Err(StoreError::Corrupt(format!("account {}: a block without its reason or time", row.id)))
                }
            },
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct AccountInsertForm<'a> {
    owner_kind: &'a str,
    owner_id: &'a str,
    kind: &'a str,
    opened_at: NaiveDateTime,
}

/// Opens an empty account. An owner has at most one account of each kind.
pub fn open(tx: &mut Tx<'_>, owner_kind: OwnerKind, owner_id: &str, kind: AccountKind) -> Result<Account, LedgerError> {
    if find_by_owner_and_kind(tx, owner_kind, owner_id, kind)?.is_some() {
        return Err(Refusal::AccountExists { owner_kind, owner_id: owner_id.to_owned(), kind }.into());
    }
    let form = AccountInsertForm { owner_kind: owner_kind.as_ref(), owner_id, kind: kind.as_ref(), opened_at: now() };
    let row: AccountRow = on_backend!(tx, connection => diesel::insert_into(accounts::table)
        .values(&form)
        .returning(AccountRow::as_returning())
        .get_result(connection)?);
    Ok(Account::try_from(row)?)
}

/// The owner's account of that kind, opened empty if it does not exist yet (for the
/// programme's own accounts, which exist once).
pub fn find_or_open(
    tx: &mut Tx<'_>,
    owner_kind: OwnerKind,
    owner_id: &str,
    kind: AccountKind,
) -> Result<Account, LedgerError> {
    if let Some(account) = find_by_owner_and_kind(tx, owner_kind, owner_id, kind)? {
        return Ok(account);
    }
    // Two transactions may open it at once (an agent's first two card transactions, on
    // PostgreSQL; the bank test found the loser failing with a duplicate key): the insert
    // that loses waits for the winner and does nothing, and both read the winner's row.
    let form = AccountInsertForm { owner_kind: owner_kind.as_ref(), owner_id, kind: kind.as_ref(), opened_at: now() };
    on_backend!(tx, connection => diesel::insert_into(accounts::table)
        .values(&form)
        .on_conflict_do_nothing()
        .execute(connection)?);
    find_by_owner_and_kind(tx, owner_kind, owner_id, kind)?.ok_or_else(|| {
        StoreError::Corrupt(format!("the {kind} account of {owner_id} was opened but is not found")).into()
    })
}

pub fn find_by_id(tx: &mut Tx<'_>, id: AccountId) -> Result<Option<Account>, StoreError> {
    let row: Option<AccountRow> = on_backend!(tx, connection => accounts::table
        .find(id.0)
        .select(AccountRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Account::try_from).transpose()
}

/// The account, locked for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite
/// has one writer), so that what is read is what the transaction's next update sees.
pub fn lock(tx: &mut Tx<'_>, id: AccountId) -> Result<Account, LedgerError> {
    // Written per arm: `as_select()` names its backend, and SQLite has no row locks.
    let row: Option<AccountRow> = match tx {
        Tx::Sqlite(connection) => {
            accounts::table.find(id.0).select(AccountRow::as_select()).get_result(*connection).optional()?
        }
        Tx::Postgres(connection) => accounts::table
            .find(id.0)
            .select(AccountRow::as_select())
            .for_update()
            .get_result(*connection)
            .optional()?,
    };
    Ok(row.map(Account::try_from).transpose()?.ok_or(Refusal::AccountNotFound { account: id })?)
}

/// Blocks debits from an account; an account blocked already keeps the time its block
/// began and takes the new reference.
pub fn block(
    tx: &mut Tx<'_>,
    id: AccountId,
    reason: HoldReason,
    reference: &str,
    blocked_by: &str,
) -> Result<(), LedgerError> {
    let blocked_at = get(tx, id)?.block.map_or_else(now, |block| block.blocked_at);
    on_backend!(tx, connection => diesel::update(accounts::table.find(id.0))
        .set((
            accounts::blocked_reason.eq(Some(reason.as_ref())),
            accounts::blocked_reference.eq(Some(reference)),
            accounts::blocked_by.eq(Some(blocked_by)),
            accounts::blocked_at.eq(Some(blocked_at)),
        ))
        .execute(connection)?);
    Ok(())
}

/// Lifts an account's debit block, if it has one.
pub fn unblock(tx: &mut Tx<'_>, id: AccountId) -> Result<(), LedgerError> {
    on_backend!(tx, connection => diesel::update(accounts::table.find(id.0))
        .set((
            accounts::blocked_reason.eq(None::<&str>),
            accounts::blocked_reference.eq(None::<&str>),
            accounts::blocked_by.eq(None::<&str>),
            accounts::blocked_at.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)?);
    Ok(())
}

/// Like [`find_by_id`], for callers to whom a missing account is a refusal.
pub fn get(tx: &mut Tx<'_>, id: AccountId) -> Result<Account, LedgerError> {
    find_by_id(tx, id)?.ok_or_else(|| Refusal::AccountNotFound { account: id }.into())
}

pub fn find_by_owner_and_kind(
    tx: &mut Tx<'_>,
    owner_kind: OwnerKind,
    owner_id: &str,
    kind: AccountKind,
) -> Result<Option<Account>, StoreError> {
    let row: Option<AccountRow> = on_backend!(tx, connection => accounts::table
        .filter(accounts::owner_kind.eq(owner_kind.as_ref()))
        .filter(accounts::owner_id.eq(owner_id))
        .filter(accounts::kind.eq(kind.as_ref()))
        .select(AccountRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Account::try_from).transpose()
}

/// The accounts of one kind of many owners at once (a disbursement chunk's wallets).
pub fn find_by_owners_and_kind(
    tx: &mut Tx<'_>,
    owner_kind: OwnerKind,
    owner_ids: &[String],
    kind: AccountKind,
) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = on_backend!(tx, connection => accounts::table
        .filter(accounts::owner_kind.eq(owner_kind.as_ref()))
        .filter(accounts::owner_id.eq_any(owner_ids))
        .filter(accounts::kind.eq(kind.as_ref()))
        // A literal keeps diesel from preparing the statement, so PostgreSQL plans it for
        // these owners each time: its generic plan for `owner_id = ANY($2)` scanned every
        // account (measured: 350 ms a chunk at 25,000 families, against milliseconds).
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE"))
        .select(AccountRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Account::try_from).collect()
}

/// Closes an empty account with no holds; it can then neither receive nor pay.
pub fn close(tx: &mut Tx<'_>, id: AccountId) -> Result<Account, LedgerError> {
    let closed: Option<AccountRow> = on_backend!(tx, connection => diesel::update(
            accounts::table
                .find(id.0)
                .filter(accounts::status.eq(AccountStatus::Open.as_ref()))
                .filter(accounts::balance_minor.eq(0))
                .filter(accounts::held_minor.eq(0)),
        )
        .set((accounts::status.eq(AccountStatus::Closed.as_ref()), accounts::closed_at.eq(Some(now()))))
        .returning(AccountRow::as_returning())
        .get_result(connection)
        .optional()?);
    if let Some(row) = closed {
        return Ok(Account::try_from(row)?);
    }
    let account = get(tx, id)?;
    if account.status == AccountStatus::Closed {
        return Err(Refusal::AccountClosed { account: id }.into());
    }
    Err(Refusal::AccountNotEmpty { account: id, balance_minor: account.balance_minor, held_minor: account.held_minor }
        .into())
}
