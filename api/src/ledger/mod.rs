//! The ledger: the only code that writes balances. Double-entry journals, holds,
//! idempotency records and the checks that prove it all adds up.

pub mod accounts;
pub mod error;
pub mod holds;
pub mod idempotency;
pub mod posting;
pub mod verify;

pub use error::{LedgerError, Refusal};
// Row ids are plain values that every layer may name; the ledger owns what they point at.
pub use crate::domain::ids::{AccountId, HoldId, JournalId};
