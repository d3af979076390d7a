//! Use cases: each opens its transaction, applies the domain rules and posts through
//! the ledger.

pub mod auth;
pub mod cards;
pub mod error;
pub mod health;
pub mod ledger_check;
pub mod seed;

pub use error::ServiceError;
