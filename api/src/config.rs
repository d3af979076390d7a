//! Command line and environment. Every setting is a flag with an environment variable
//! and a documented default, so `kks serve` with no configuration at all works.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::card_qr::IssuerSigningKey;
use crate::http::client_address::TrustedProxies;
use crate::http::cors::CorsOrigins;
use crate::store::{DatabaseUrl, StoreError, StoreOptions};
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

    /// Secret that signs access and refresh tokens (HS256), at least 32 bytes.
    #[arg(long, global = true, env = "KKS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// The bank's PIN verification key (HMAC), at least 32 bytes. It never enters the
    /// database, so a copy of the database alone does not reveal PINs.
    #[arg(long, global = true, env = "KKS_PIN_KEY", hide_env_values = true)]
    pub pin_key: Option<Secret>,

    /// The card issuer's Ed25519 private key (64 hex characters) that signs card QR codes.
    #[arg(long, global = true, env = "KKS_ISSUER_KEY", hide_env_values = true)]
    pub issuer_key: Option<Secret>,

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

    /// How long the answer to a card transaction is kept for its retries, in hours (at
    /// least 25: the reversal window and the clock skew). Older answers are deleted in
    /// the background; the transactions themselves stay.
    #[arg(long, env = "KKS_IDEMPOTENCY_RETENTION_HOURS",
          default_value_t = crate::service::retention::IDEMPOTENCY_RETENTION_HOURS_DEFAULT,
          value_parser = clap::value_parser!(u32).range(i64::from(crate::service::retention::IDEMPOTENCY_RETENTION_HOURS_MIN)..))]
    pub idempotency_retention_hours: u32,

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

/// A secret from the command line or the environment. Never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(***)")
    }
}

/// Why the configuration cannot start the service.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("production mode needs {0} (see README, Configuration)")]
    MissingSecret(&'static str),
    #[error("{0} must be at least {1} bytes")]
    SecretTooShort(&'static str, usize),
    #[error("KKS_ISSUER_KEY: {0}")]
    IssuerKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The shortest token-signing or PIN key accepted, in bytes.
pub const SECRET_BYTES_MIN: usize = 32;

// Development defaults: public, so only for a laptop or a test. Production mode refuses
// to start without real ones.
const DEVELOPMENT_JWT_SECRET: &str = "kks-development-jwt-secret-do-not-use-in-production";
const DEVELOPMENT_PIN_KEY: &str = "kks-development-pin-key-do-not-use-in-production";
const DEVELOPMENT_ISSUER_KEY: &str = "4b4b53206465766c6f706d656e7420697373756572206b6579202d206e6f7421";

/// The secrets the service runs with, resolved from the configuration.
pub struct Secrets {
    pub jwt_secret: Secret,
    pub pin_key: Secret,
    pub issuer_key: Arc<IssuerSigningKey>,
    /// Whether the built-in development secrets are in use (logged loudly).
    pub development: bool,
}

impl Cli {
    pub fn secrets(&self) -> Result<Secrets, ConfigError> {
        let pick = |given: &Option<Secret>, name: &'static str, development: &str| match (given, self.production) {
            (Some(secret), _) => Ok(secret.clone()),
            (None, true) => Err(ConfigError::MissingSecret(name)),
            (None, false) => Ok(Secret(development.to_owned())),
        };
        let jwt_secret = pick(&self.jwt_secret, "KKS_JWT_SECRET", DEVELOPMENT_JWT_SECRET)?;
        let pin_key = pick(&self.pin_key, "KKS_PIN_KEY", DEVELOPMENT_PIN_KEY)?;
        let issuer_hex = pick(&self.issuer_key, "KKS_ISSUER_KEY", DEVELOPMENT_ISSUER_KEY)?;
        for (name, secret) in [("KKS_JWT_SECRET", &jwt_secret), ("KKS_PIN_KEY", &pin_key)] {
            if secret.0.len() < SECRET_BYTES_MIN {
                return Err(ConfigError::SecretTooShort(name, SECRET_BYTES_MIN));
            }
        }
        let issuer_key = IssuerSigningKey::from_hex(issuer_hex.expose())
            .map_err(|error| ConfigError::IssuerKey(error.to_string()))?;
        let development = self.jwt_secret.is_none() || self.pin_key.is_none() || self.issuer_key.is_none();
        Ok(Secrets { jwt_secret, pin_key, issuer_key: Arc::new(issuer_key), development })
    }
}

impl Cli {
    pub fn store_options(&self) -> Result<StoreOptions, StoreError> {
        Ok(StoreOptions {
            url: DatabaseUrl::parse(&self.database)?,
            postgres_pool_size: self.postgres_pool_size,
            sqlite_group_commit: true,
            sqlite_wal_max_bytes: self.sqlite_wal_max_mb.saturating_mul(1024 * 1024),
        })
    }
}
