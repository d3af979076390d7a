//! Use cases: each opens its transaction, applies the domain rules and posts through
//! the ledger.

pub mod access;
pub mod agents;
pub mod auth;
pub mod cards;
pub mod conditionality;
pub mod disbursements;
pub mod edc;
pub mod error;
pub mod families;
pub mod health;
pub mod holds;
pub mod ledger_check;
pub mod monitoring;
pub mod operators;
pub mod reconciliation;
pub mod regions;
pub mod retention;
pub mod seed;

pub use error::ServiceError;
