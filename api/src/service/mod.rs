//! Use cases: each opens its transaction, applies the domain rules and posts through
//! the ledger.

pub mod health;
pub mod ledger_check;
