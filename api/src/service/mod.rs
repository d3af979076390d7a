//! Use cases: each opens its transaction, applies the domain rules and posts through
//! the ledger.

pub mod access;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod cards;
pub mod complaints;
pub mod conditionality;
pub mod disbursements;
pub mod edc;
pub mod error;
pub mod families;
pub mod family_changes;
pub mod graduation;
pub mod health;
pub mod holds;
pub mod imports;
pub mod key_rotation;
pub mod ledger_check;
pub mod monitoring;
pub mod operators;
pub mod p2k2;
pub mod reconciliation;
pub mod regions;
pub mod retention;
pub mod seed;
pub mod writer_wait;

/// The ledger's clock, which a test server may move forward (`--test-clock`).
pub use crate::store::clock;
/// The database handle that handlers pass to use cases; they never query it themselves.
pub use crate::store::Store;
pub use error::ServiceError;
