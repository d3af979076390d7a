//! Ledger fixtures: accounts to move money between and money to move.

use kks_api::domain::ledger::{AccountKind, JournalKind, OwnerKind};
use kks_api::domain::money::Amount;
use kks_api::ledger::accounts::{self, Account};
use kks_api::ledger::{posting, AccountId, LedgerError};
use kks_api::store::Store;

pub fn rupiah(value: i64) -> Amount {
    Amount::from_rupiah(value).expect("a valid amount")
}

/// The treasury account, opened on first use.
pub fn treasury(store: &Store) -> AccountId {
    store
        .write(|tx| accounts::find_or_open(tx, OwnerKind::System, "treasury", AccountKind::Treasury))
        .map(|account| account.id)
        .expect("opening the treasury")
}

/// A family's savings account, empty.
pub fn savings(store: &Store, family: &str) -> AccountId {
    store
        .write(|tx| accounts::open(tx, OwnerKind::Family, family, AccountKind::Savings))
        .map(|account| account.id)
        .expect("opening a savings account")
}

/// Credits an account from the treasury.
pub fn fund(store: &Store, account: AccountId, amount: Amount) {
    let treasury = treasury(store);
    store
        .write(|tx| posting::transfer(tx, JournalKind::Adjustment, "test funding", treasury, account, amount))
        .expect("funding an account");
}

pub fn account(store: &Store, id: AccountId) -> Account {
    store.read(|tx| accounts::get(tx, id)).expect("reading an account")
}

/// Asserts the ledger verifies clean and returns nothing else.
pub fn assert_ledger_clean(store: &Store) {
    let report = kks_api::service::ledger_check::verify_ledger(store).expect("verifying the ledger");
    assert!(report.is_clean(), "ledger discrepancies: {:#?}", report.discrepancies);
}

/// The refusal inside a ledger error, or a panic for an outage.
pub fn refusal(error: LedgerError) -> kks_api::ledger::Refusal {
    match error {
        LedgerError::Refused(refusal) => refusal,
        LedgerError::Store(store) => panic!("expected a refusal, got a store error: {store}"),
    }
}

/// The sum of every family account's balance of one kind, straight from the table.
pub fn sum_balances(store: &Store, kind: &str) -> i64 {
    use diesel::prelude::*;
    use kks_api::store::schema::accounts;
    let balances: Vec<i64> = store
        .read(|tx| -> Result<Vec<i64>, kks_api::store::StoreError> {
            let query = accounts::table
                .filter(accounts::owner_kind.eq("family"))
                .filter(accounts::kind.eq(kind))
                .select(accounts::balance_minor);
            Ok(match tx {
                kks_api::store::Tx::Sqlite(connection) => query.load(*connection)?,
                kks_api::store::Tx::Postgres(connection) => query.load(*connection)?,
            })
        })
        .expect("reading balances");
    balances.iter().sum()
}
