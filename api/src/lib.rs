//! KKS: the back end of Indonesia's non-cash social assistance on the Kartu Keluarga
//! Sejahtera combo card.
//!
//! Layers, with arrows pointing one way: [`http`] → [`service`] → [`domain`], and
//! [`service`] → [`ledger`].

pub mod config;
pub mod domain;
pub mod http;
pub mod ledger;
pub mod service;
