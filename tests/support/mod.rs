//! Shared setup for the end-to-end suite: a fresh database per test on either backend,
//! the real `kks` binary, and a running server on a free port.

pub mod api;
pub mod bank;
pub mod cluster;
pub mod database;
pub mod figures;
pub mod haproxy;
pub mod ledger;
pub mod server;

pub use database::TestDatabase;
pub use server::TestServer;

use std::process::{Command, Output};

/// The `kks` binary that Cargo built for this test run.
pub const KKS_BINARY: &str = env!("CARGO_BIN_EXE_kks");

/// Runs `kks --database URL ARGS…` and returns what it printed and its exit status.
pub fn kks(database: &TestDatabase, args: &[&str]) -> Output {
    Command::new(KKS_BINARY)
        .arg("--database")
        .arg(database.url())
        .args(args)
        .env("KKS_LOG", "warn")
        .output()
        .expect("running the kks binary")
}

/// Defines each test twice, once per backend: `MODULE::sqlite::NAME` and
/// `MODULE::postgres::NAME`. The body gets a fresh, migrated [`TestDatabase`].
/// Without PostgreSQL, skip that half with `cargo test --workspace -- --skip postgres::`.
macro_rules! on_both_backends {
    ($($(#[$meta:meta])* fn $name:ident($database:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    let $database = $crate::support::TestDatabase::sqlite();
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    let $database = $crate::support::TestDatabase::postgres();
                    $body
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
