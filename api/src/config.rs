//! Command line and environment. Every setting is a flag with an environment variable
//! and a documented default, so `kks serve` with no configuration at all works.

mod secrets;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
pub use secrets::{Secret, Secrets, SECRET_BYTES_MIN};

use crate::http::client_address::TrustedProxies;
use crate::http::cors::CorsOrigins;
use crate::store::{Backend, DatabaseUrl, StoreError, StoreOptions};
use crate::store::{POSTGRES_POOL_SIZE_DEFAULT, SQLITE_WAL_MAX_MB_DEFAULT};

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

    /// SQLite: the bound on the write-ahead log (`FILE-wal`), in MiB. Once the log holds a
    /// sixteenth of it, it is copied back into the database file and started again; a
    /// longer file is cut back to it.
    #[arg(long, global = true, env = "KKS_SQLITE_WAL_MAX_MB", default_value_t = SQLITE_WAL_MAX_MB_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub sqlite_wal_max_mb: u64,

    /// Production mode: no demo data, and no built-in development secrets: a missing
    /// secret stops the start.
    #[arg(long, global = true, env = "KKS_PRODUCTION")]
    pub production: bool,

    /// Secret that signs access and refresh tokens (HS256), at least 32 bytes. With
    /// `KKS_JWT_KEYS` it is the oldest key, version 1.
    #[arg(long, global = true, env = "KKS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Token-signing secrets across a rotation, newest first: `VERSION:SECRET,…` (e.g.
    /// `2:…,1:…`). The newest signs new tokens, its version in their `kid`; the others
    /// verify tokens until they expire.
    #[arg(long, global = true, env = "KKS_JWT_KEYS", hide_env_values = true)]
    pub jwt_keys: Option<Secret>,

    /// The bank's PIN verification key (HMAC), at least 32 bytes. It never enters the
    /// database, so a copy of the database alone does not reveal PINs.
    /// With `KKS_PIN_KEYS` it is the oldest key, version 1.
    #[arg(long, global = true, env = "KKS_PIN_KEY", hide_env_values = true)]
    pub pin_key: Option<Secret>,

    /// PIN keys across a rotation, newest first: `VERSION:SECRET,…`. The newest makes new
    /// PIN verification values; a card's PIN kept under an older one is re-keyed at its
    /// next right PIN.
    #[arg(long, global = true, env = "KKS_PIN_KEYS", hide_env_values = true)]
    pub pin_keys: Option<Secret>,

    /// The card issuer's Ed25519 private key (64 hex characters) that signs card QR codes.
    /// With `KKS_ISSUER_KEYS` it is the oldest key.
    #[arg(long, global = true, env = "KKS_ISSUER_KEY", hide_env_values = true)]
    pub issuer_key: Option<Secret>,

    /// Card issuer keys across a rotation, newest first: `HEX,HEX,…` (each 64 hex
    /// characters; its key id follows from it). The newest signs new cards; every one
    /// verifies the cards it signed, so keep a key until its last card has expired.
    #[arg(long, global = true, env = "KKS_ISSUER_KEYS", hide_env_values = true)]
    pub issuer_keys: Option<Secret>,

    /// How long an access token is valid, in minutes.
    #[arg(long, global = true, env = "KKS_ACCESS_TOKEN_MINUTES", default_value_t = 15)]
    pub access_token_minutes: u32,

    /// How long a refresh token is valid, in hours (an agent's working day).
    #[arg(long, global = true, env = "KKS_REFRESH_TOKEN_HOURS", default_value_t = 12)]
    pub refresh_token_hours: u32,

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
    /// Create the demo region, operators, agents, families and cards, and write their
    /// credentials to a JSON file.
    Seed(SeedArgs),
    /// Manage programme staff from the command line (the first admin of an empty database).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Rotate the token, PIN and card issuer keys (README, Going live, Key rotation).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import regions or families from a CSV file, with a progress bar; beside a running
    /// server on the same SQLite file, waits for its writes. Exits 1 when the file is
    /// refused whole (nothing written), 3 when some lines were refused (the others kept).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Recompute every balance from the journal and check the ledger's invariants;
    /// exits 1 with a report on any discrepancy.
    VerifyLedger {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a national admin. Reads the password twice from standard input (without
    /// echo on a terminal; one line each from a pipe). Works in production mode and beside
    /// a running server.
    Create {
        /// The admin's user name: lower-case letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// The name shown for the admin (default: the user name).
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new key, to be put first in its list variable (`KKS_ISSUER_KEYS`,
    /// `KKS_JWT_KEYS`, `KKS_PIN_KEYS`); the keys in use stay after it.
    Generate {
        #[arg(value_enum)]
        kind: KeyKind,
    },
    /// The configured key ids, and how many active cards keep their PIN under each PIN key
    /// version; exits 1 when a card's PIN is under a key that is not configured.
    Status {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Which secret a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyKind {
    /// The card issuer's Ed25519 key, which signs card QR codes.
    Issuer,
    /// The secret that signs access and refresh tokens.
    Jwt,
    /// The bank's PIN verification key.
    Pin,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Regions from a CSV of Kemendagri codes and names (`code,name`), parents first.
    Regions {
        /// The CSV file (UTF-8, comma-separated, a header line).
        file: PathBuf,
    },
    /// Families with their members, one line per family
    /// (`nik,family_card_number,recipient_name,address,village_code,category,members`).
    Families {
        /// The CSV file (UTF-8, comma-separated, a header line).
        file: PathBuf,
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

    /// Do not seed demo data into a fresh database (never seeded in production mode).
    #[arg(long, env = "KKS_NO_DEMO")]
    pub no_demo: bool,

    /// Where the demo credentials are written when a fresh database is seeded.
    #[arg(long, env = "KKS_DEMO_CREDENTIALS", default_value = "demo-credentials.json")]
    pub demo_credentials: PathBuf,

    /// Disbursement lines paid per database transaction (smaller: card transactions wait
    /// less behind a running disbursement; larger: it runs faster).
    #[arg(long, env = "KKS_DISBURSEMENT_CHUNK_LINES", default_value_t = crate::service::disbursements::LINES_PER_CHUNK_DEFAULT)]
    pub disbursement_chunk_lines: i64,

    /// Login and PIN attempts allowed per client address per minute (429 beyond).
    #[arg(long, env = "KKS_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 30)]
    pub login_attempts_per_minute: u32,

    /// Browser origins allowed to call the API cross-origin (CORS), comma-separated
    /// (`https://app.example.id,http://localhost:3000`); none by default.
    #[arg(long, env = "KKS_CORS_ORIGINS", default_value = "")]
    pub cors_origins: CorsOrigins,

    /// Addresses of the proxies (load balancers) in front of the service, comma-separated:
    /// only from these peers are `Forwarded` and `X-Forwarded-For` believed for the client's
    /// address (the login limiter's key). None by default: the TCP peer is the client.
    #[arg(long, env = "KKS_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,

    /// A read-only copy of the PostgreSQL database (a streaming standby) for the
    /// monitoring pages and their CSV exports, so that the dashboard's readers never load
    /// the primary; a libpq URL like `--database`. None by default: they read the primary.
    /// The overview says how far behind the standby is.
    #[arg(long, env = "KKS_REPORTS_DATABASE_URL")]
    pub reports_database: Option<String>,

    /// How long the answer to a card transaction is kept for its retries, in hours (at
    /// least 25: the reversal window and the clock skew). Older answers are deleted in
    /// the background; the transactions themselves stay.
    #[arg(long, env = "KKS_IDEMPOTENCY_RETENTION_HOURS",
          default_value_t = crate::service::retention::IDEMPOTENCY_RETENTION_HOURS_DEFAULT,
          value_parser = clap::value_parser!(u32).range(i64::from(crate::service::retention::IDEMPOTENCY_RETENTION_HOURS_MIN)..))]
    pub idempotency_retention_hours: u32,

    /// The shared secret the SMS gateway sends in `X-KKS-Webhook-Secret` with each message
    /// (`POST /v1/complaints/sms`); unset: that webhook refuses every message.
    #[arg(long, env = "KKS_SMS_WEBHOOK_SECRET", hide_env_values = true)]
    pub sms_webhook_secret: Option<Secret>,

    /// For tests only: the ledger's clock stands still until `PUT /test-clock` moves it
    /// forward (stage openings, hold releases, the business day). Refused in production.
    #[arg(long)]
    pub test_clock: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed the demo data set (the only one there is).
    #[arg(long, required = true)]
    pub demo: bool,

    /// Where to write the credentials.
    #[arg(long, default_value = "demo-credentials.json")]
    pub credentials: PathBuf,
}

/// Why the configuration cannot start the service.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("production mode needs {0} or {1} (see README, Configuration)")]
    MissingSecret(&'static str, &'static str),
    #[error("{0} must be at least {1} bytes")]
    SecretTooShort(String, usize),
    /// A key list or key that cannot be read; says which entry and why, never the secret.
    #[error("{0}: {1}")]
    Key(String, String),
    #[error("--reports-database: {0}")]
    ReportsDatabase(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Cli {
    /// The store of the monitoring pages: `--reports-database` (PostgreSQL only, with
    /// this store's pool size) or, without it, `None`: they read the database itself.
    pub fn reports_store_options(&self, args: &ServeArgs) -> Result<Option<StoreOptions>, ConfigError> {
        let Some(url) = &args.reports_database else { return Ok(None) };
        let url = DatabaseUrl::parse(url).map_err(|error| ConfigError::ReportsDatabase(error.to_string()))?;
        let main = self.store_options()?;
        if url.backend() != Backend::Postgres || main.url.backend() != Backend::Postgres {
            return Err(ConfigError::ReportsDatabase(
                "only a standby of a PostgreSQL database (postgres:// both)".to_owned(),
            ));
        }
        Ok(Some(StoreOptions { url, ..main }))
    }

    pub fn store_options(&self) -> Result<StoreOptions, StoreError> {
        Ok(StoreOptions {
            url: DatabaseUrl::parse(&self.database)?,
            postgres_pool_size: self.postgres_pool_size,
            sqlite_group_commit: true,
            sqlite_wal_max_bytes: self.sqlite_wal_max_mb.saturating_mul(1024 * 1024),
        })
    }
}
