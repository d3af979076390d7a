//! Pure types and rules, no I/O.

pub mod ledger;
pub mod money;
