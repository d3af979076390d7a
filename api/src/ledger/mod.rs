//! The ledger: the only code that writes balances. Double-entry journals, holds,
//! idempotency records and the checks that prove it all adds up.

pub mod accounts;
pub mod error;
pub mod holds;
pub mod idempotency;
pub mod ids;
pub mod posting;
pub mod verify;

pub use error::{LedgerError, Refusal};
pub use ids::{AccountId, HoldId, JournalId};
