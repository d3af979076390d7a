//! KKS: the back end of Indonesia's non-cash social assistance on the Kartu Keluarga
//! Sejahtera combo card.
//!
//! Layers, with arrows pointing one way: [`http`] → [`service`] → [`domain`], and
//! [`service`] → [`ledger`] (money) and [`store`] (everything else) → the database.

// `text_enum!`, kks-wire's, declares the server's own text enums too (one spelling rule).
#[macro_use]
extern crate kks_wire;

pub mod config;
pub mod domain;
pub mod http;
pub mod ledger;
pub mod render;
pub mod service;
pub mod store;
