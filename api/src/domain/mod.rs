//! Pure types and rules, no I/O.

pub mod auth;
pub mod benefit;
pub mod card;
pub mod card_qr;
pub mod edc;
pub mod family;
pub mod language;
pub mod ledger;
pub mod money;
pub mod nik;
