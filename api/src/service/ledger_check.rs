//! Reconciling the ledger with itself (`kks verify-ledger`).

use crate::ledger::verify::{self, LedgerReport};
use crate::store::{Store, StoreError};

/// Runs every ledger check on one consistent snapshot.
pub fn verify_ledger(store: &Store) -> Result<LedgerReport, StoreError> {
    store.read(verify::verify)
}
