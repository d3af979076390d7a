//! The end-to-end suite: real databases (SQLite and PostgreSQL), the real `kks` binary,
//! real HTTP. One test binary, so the suite links once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

mod agents;
mod audit_trail;
mod auth;
mod bank_invariant;
mod card_sim;
mod cards;
mod complaints;
mod crash_safety;
mod disbursements;
mod disk;
mod edc;
mod edge;
mod families;
mod family_app;
mod family_change_approvals;
mod family_changes;
mod going_live;
mod graduation;
mod hostile_input;
mod http_skeleton;
mod idempotency;
mod imports;
mod key_rotation;
mod ledger_concurrency;
mod ledger_posting;
mod load_balancer;
mod migrations;
mod money_rules;
mod monitoring;
mod monitoring_shards;
mod p2k2;
mod people;
mod postgres_outages;
mod refusal_reasons;
mod reports_standby;

mod statement_count;
mod suspension_stories;
mod table_statistics;
mod verify_ledger;
