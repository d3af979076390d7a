//! Command line and environment. Every setting is a flag with an environment variable
//! and a documented default, so `kks serve` with no configuration at all works.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::store::POSTGRES_POOL_SIZE_DEFAULT;
use crate::store::{DatabaseUrl, StoreError, StoreOptions};

/// KKS: non-cash social assistance on the Kartu Keluarga Sejahtera combo card.
#[derive(Debug, Parser)]
#[command(name = "kks", version, propagate_version = true)]
pub struct Cli {
    /// The database: a SQLite file (`sqlite://PATH` or a plain path), created if missing,
    /// or a PostgreSQL URL (`postgres://USER@HOST:PORT/DB`).
    #[arg(long, global = true, env = "KKS_DATABASE_URL", default_value = "sqlite://kks.sqlite")]
    pub database: String,

    /// PostgreSQL connections held by this process (ignored for SQLite).
    #[arg(long, global = true, env = "KKS_POSTGRES_POOL_SIZE", default_value_t = POSTGRES_POOL_SIZE_DEFAULT)]
    pub postgres_pool_size: u32,

    /// Log lines as human-readable text or as JSON objects (for log collectors).
    #[arg(long, global = true, env = "KKS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi {
        /// Write it to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Recompute every balance from the journal and check the ledger's invariants;
    /// exits 1 with a report on any discrepancy.
    VerifyLedger {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, env = "KKS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "KKS_WORKERS")]
    pub workers: Option<usize>,
}

impl Cli {
    pub fn store_options(&self) -> Result<StoreOptions, StoreError> {
        Ok(StoreOptions { url: DatabaseUrl::parse(&self.database)?, postgres_pool_size: self.postgres_pool_size })
    }
}
