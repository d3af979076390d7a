//! Pure types and rules, no I/O.

pub mod auth;
pub mod benefit;
pub mod card;
pub mod card_qr;
pub mod complaint;
pub mod conditionality;
pub mod disbursement;
pub mod edc;
pub mod family;
pub mod family_change;
pub mod graduation;
pub mod holds;
pub mod idempotency;
pub mod ids;
pub mod language;
pub mod ledger;
pub mod login_throttle;
pub mod money;
pub mod monitoring;
pub mod nik;
pub mod p2k2;
pub mod pin_attempts;
pub mod terminal;
pub mod text;
pub mod transmission;
pub mod usage;
