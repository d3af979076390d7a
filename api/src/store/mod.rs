//! The database: one of two backends, chosen by the URL, with one behaviour. Code above
//! this module sees a [`Store`] and a transaction ([`Tx`]); a query is written once and
//! compiled for both backends through [`on_backend!`]. One module per table group.

pub mod agents;
pub mod audit;
pub mod cached_sql;
pub mod cards;
pub mod catalogue;
pub mod clock;
pub mod complaints;
pub mod conditionality;
pub mod disbursements;
pub mod edc;
pub mod families;
pub mod family_changes;
pub mod family_exits;
mod group_commit;
pub mod imports;
pub mod journal_rollup;
pub mod login_throttles;
pub mod monitoring;
pub mod operators;
pub mod p2k2;
pub mod reconciliation;
pub mod regions;
pub mod replication;
pub mod schema;
pub mod usage;
pub mod wal;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use clock::now;
pub use wal::SQLITE_WAL_MAX_MB_DEFAULT;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// How long a request waits for a connection before the store reports itself unavailable.
pub const CONNECTION_WAIT_MAX: Duration = Duration::from_secs(10);

/// How long SQLite waits on another process's lock (e.g. `kks verify-ledger` beside a
/// running server) before giving up.
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Pages the SQLite writer keeps in memory (KiB): the hot part of the ledger, so that a
/// transaction rarely reads from disk. Savepoints journal in memory too (`temp_store`).
pub const SQLITE_WRITER_CACHE_KIB: u32 = 32 * 1024;

/// Pages each SQLite reader keeps (KiB). Readers are many, and a scan (a batch's lines, a
/// region's families) fills whatever it is given: with 32 MiB each the server peaked at
/// 553 MB during a 1,000,000-family stage, with 4 MiB at 286 MB. Beyond this, readers
/// read from the operating system's file cache.
pub const SQLITE_READER_CACHE_KIB: u32 = 4 * 1024;

/// Readers of the embedded database; writers are one connection (SQLite has one writer).
pub const SQLITE_READERS_MAX: u32 = 8;

/// Any number larger than this many PostgreSQL connections per server process only
/// queues inside the database on a small machine.
pub const POSTGRES_POOL_SIZE_DEFAULT: u32 = 16;

/// Lock id for migrations, so that several servers starting at once migrate one by one.
const POSTGRES_MIGRATION_LOCK_ID: i64 = 0x4b4b_535f_4d49_4752; // "KKS_MIGR"

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database location: `postgres://…` / `postgresql://…` for PostgreSQL; `sqlite://PATH`,
/// `sqlite:PATH` or a plain file path for the embedded SQLite database.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    location: String,
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self { backend: Backend::Postgres, location: text.to_owned() });
        }
        let path = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")).unwrap_or(text);
        if path.is_empty() || path.contains("://") || path == ":memory:" {
            return Err(StoreError::UnsupportedUrl(redact(text)));
        }
        Ok(Self { backend: Backend::Sqlite, location: path.to_owned() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as diesel wants it: a file path for SQLite, the URL for PostgreSQL.
    pub fn location(&self) -> &str {
        &self.location
    }
}

// A PostgreSQL URL may carry a password: never print it.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&redact(&self.location))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&redact(&self.location))
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use postgres://… or a SQLite file path")]
    UnsupportedUrl(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    #[error("migrating the database failed: {0}")]
    Migration(String),
    /// The database holds something the code never writes: changed by hand, or a bug.
    #[error("the database holds unexpected data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A unique index refused the write: two at once, and the other got there first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            // A lost connection (the database restarted) is an outage, not a bad query.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info)
            | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            // SQLite's one writer is another process (a command beside the server) and
            // held the lock past the busy timeout: try again later, nothing was written.
            Error::DatabaseError(_, info) if info.message() == "database is locked" => {
                Self::Unavailable("another process is writing to the SQLite file".to_owned())
            }
            // A full disk (or one that fails) is an outage too: the request was not wrong,
            // and the same request succeeds once there is room again.
            Error::DatabaseError(_, info) if is_disk_failure(info.message()) => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

/// Whether a database error says the disk is full or failing: SQLite's `SQLITE_FULL` and
/// `SQLITE_IOERR`, PostgreSQL's `disk_full` (53100), whose message names the errno.
fn is_disk_failure(message: &str) -> bool {
    const DISK_FAILURES: [&str; 3] = ["database or disk is full", "disk I/O error", "No space left on device"];
    DISK_FAILURES.iter().any(|failure| message.contains(failure))
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// A connection inside an open transaction, on whichever backend the store runs.
pub enum Tx<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Runs `$body` with `$conn` bound to the concrete connection of the transaction `$tx`.
/// The body is compiled once per backend, so a query is written once and checked twice.
macro_rules! on_backend {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(connection) => {
                let $conn: &mut ::diesel::sqlite::SqliteConnection = connection;
                $body
            }
            $crate::store::Tx::Postgres(connection) => {
                let $conn: &mut ::diesel::pg::PgConnection = connection;
                $body
            }
        }
    };
}
pub(crate) use on_backend;

impl Tx<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `operation` in a savepoint: if it fails, its writes are undone and the
    /// enclosing transaction goes on (used to record a refused operation's answer).
    pub fn savepoint<T, E>(&mut self, operation: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        match self {
            Tx::Sqlite(connection) => connection.transaction(|inner| operation(&mut Tx::Sqlite(inner))),
            Tx::Postgres(connection) => connection.transaction(|inner| operation(&mut Tx::Postgres(inner))),
        }
    }
}

/// Applied to every SQLite connection: durable WAL, a busy timeout, foreign keys. No
/// connection checkpoints the WAL by itself (the one that happened to commit would stall
/// every queued writer while it copies pages): a background thread does ([`wal`]), and
/// `journal_size_limit` cuts the log file back to its bound whenever it starts again.
#[derive(Debug)]
struct SqlitePragmas {
    cache_kib: u32,
    wal_max_bytes: u64,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, connection: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        connection
            .batch_execute(&format!(
                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA cache_size = -{cache_kib};
                 PRAGMA wal_autocheckpoint = 0;
                 PRAGMA journal_size_limit = {wal_max_bytes};",
                cache_kib = self.cache_kib,
                wal_max_bytes = self.wal_max_bytes
            ))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

enum Pools {
    /// SQLite allows one writer at a time; a single writer connection makes writers queue
    /// in this process instead of spinning on the database lock, and commit in groups.
    Sqlite {
        writer: Box<group_commit::GroupCommit>,
        readers: Pool<ConnectionManager<SqliteConnection>>,
    },
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// Connection pools to the ledger database. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Store {
    pools: std::sync::Arc<Pools>,
    url: DatabaseUrl,
}

/// How to open a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: DatabaseUrl,
    /// Connections to PostgreSQL per process (ignored for SQLite).
    pub postgres_pool_size: u32,
    /// SQLite: concurrent writes share one durable commit (see [`group_commit`]); off,
    /// every write is a transaction of its own (to measure what grouping gains).
    pub sqlite_group_commit: bool,
    /// SQLite: the bound on the write-ahead log, in bytes (see [`wal`]).
    pub sqlite_wal_max_bytes: u64,
}

impl StoreOptions {
    /// The defaults for a database at `url`: as `kks` runs with no configuration.
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            postgres_pool_size: POSTGRES_POOL_SIZE_DEFAULT,
            sqlite_group_commit: true,
            sqlite_wal_max_bytes: SQLITE_WAL_MAX_MB_DEFAULT * 1024 * 1024,
        }
    }
}

impl Store {
    pub fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        let url = options.url.clone();
        let pools = match url.backend() {
            Backend::Sqlite => {
                let wal_max_bytes = options.sqlite_wal_max_bytes;
                let builder = |cache_kib| {
                    Pool::builder()
                        .min_idle(Some(0))
                        .connection_timeout(CONNECTION_WAIT_MAX)
                        .connection_customizer(Box::new(SqlitePragmas { cache_kib, wal_max_bytes }))
                };
                let manager = || ConnectionManager::<SqliteConnection>::new(url.location());
                Pools::Sqlite {
                    // The writer is not pinged when it is checked out (`SELECT 1`, one
                    // statement a batch): a connection to a local file cannot have gone
                    // away, and `BEGIN IMMEDIATE` follows at once anyway.
                    writer: Box::new(group_commit::GroupCommit::new(
                        builder(SQLITE_WRITER_CACHE_KIB).max_size(1).test_on_check_out(false).build(manager())?,
                        options.sqlite_group_commit,
                    )),
                    readers: builder(SQLITE_READER_CACHE_KIB).max_size(SQLITE_READERS_MAX).build(manager())?,
                }
            }
            Backend::Postgres => Pools::Postgres(
                // No idle minimum: r2d2 would keep opening connections on a background
                // thread, and a process exiting while one of those is in its TLS handshake
                // crashes inside libpq's OpenSSL clean-up. Connections open on demand.
                Pool::builder()
                    .min_idle(Some(0))
                    .connection_timeout(CONNECTION_WAIT_MAX)
                    .max_size(options.postgres_pool_size.max(1))
                    .build(ConnectionManager::<PgConnection>::new(url.location()))?,
            ),
        };
        let pools = std::sync::Arc::new(pools);
        match url.backend() {
            Backend::Sqlite => {
                let mut bound = wal::WalBound::new(url.location(), options.sqlite_wal_max_bytes);
                maintain_in_background(&pools, "sqlite-checkpoint", wal::WAL_CHECK_INTERVAL, move |pools| {
                    checkpoint(pools, &mut bound)
                })
            }
            Backend::Postgres => maintain_in_background(&pools, "postgres-analyze", POSTGRES_ANALYZE_INTERVAL, analyze),
        }
        Ok(Self { pools, url })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// PostgreSQL with autovacuum off: analyzes the tables that changed enough since their
    /// last ANALYZE, as a background thread of the store does every few seconds, and
    /// names them. Nothing to do elsewhere.
    pub fn analyze_stale_tables(&self) -> Result<Vec<String>, StoreError> {
        analyze_stale_tables(&self.pools)
    }

    /// Applies the embedded migrations that this database has not seen yet.
    pub fn migrate(&self) -> Result<(), StoreError> {
        let failed = |error: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(error.to_string());
        match self.pools.as_ref() {
            Pools::Sqlite { writer, .. } => {
                writer.connection()?.run_pending_migrations(SQLITE_MIGRATIONS).map_err(failed)?;
            }
            Pools::Postgres(pool) => {
                let mut connection = pool.get()?;
                connection.batch_execute(&format!("SELECT pg_advisory_lock({POSTGRES_MIGRATION_LOCK_ID})"))?;
                let migrated = connection.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()).map_err(failed);
                connection.batch_execute(&format!("SELECT pg_advisory_unlock({POSTGRES_MIGRATION_LOCK_ID})"))?;
                migrated?;
            }
        }
        Ok(())
    }

    /// Runs one business operation atomically: all of it commits, or none of it does, and
    /// it returns once its writes are durable. On SQLite it runs in a savepoint of a
    /// transaction shared with concurrent writes (group commit, see [`group_commit`]),
    /// which takes the write lock at once (`BEGIN IMMEDIATE`), so it never fails
    /// half-way on a lock upgrade. An operation must not call `write` again.
    pub fn write<T, E>(&self, operation: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<StoreError>,
    {
        match self.pools.as_ref() {
            Pools::Sqlite { writer, .. } => writer.write(operation),
            Pools::Postgres(pool) => {
                let mut connection = checkout(pool)?;
                connection.build_transaction().read_write().run(|inner| operation(&mut Tx::Postgres(inner)))
            }
        }
    }

    /// Runs reads in one transaction, so that they see one consistent state.
    pub fn read<T, E>(&self, operation: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<StoreError>,
    {
        match self.pools.as_ref() {
            Pools::Sqlite { readers, .. } => {
                let mut connection = checkout(readers)?;
                connection.transaction(|inner| operation(&mut Tx::Sqlite(inner)))
            }
            Pools::Postgres(pool) => {
                let mut connection = checkout(pool)?;
                connection
                    .build_transaction()
                    .read_only()
                    .repeatable_read()
                    .run(|inner| operation(&mut Tx::Postgres(inner)))
            }
        }
    }

    /// Runs one read outside any transaction: a single statement sees one consistent
    /// state by itself, and saves `BEGIN` and `COMMIT` (two round trips on PostgreSQL).
    /// It runs on a read connection; `operation` must only read.
    pub fn read_one<T, E>(&self, operation: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        match self.pools.as_ref() {
            Pools::Sqlite { readers, .. } => operation(&mut Tx::Sqlite(&mut *checkout(readers)?)),
            Pools::Postgres(pool) => operation(&mut Tx::Postgres(&mut *checkout(pool)?)),
        }
    }

    /// Whether the database answers a trivial query (for `/readyz`).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.read(|tx| -> Result<(), StoreError> {
            on_backend!(tx, connection => connection.batch_execute("SELECT 1")?);
            Ok(())
        })
    }
}

/// How often PostgreSQL's statistics are checked for tables that changed (when autovacuum,
/// which would do it, is off). A stage changes a million rows in a minute or two.
const POSTGRES_ANALYZE_INTERVAL: Duration = Duration::from_secs(10);

/// Runs `task` every `interval` on a thread of its own, until the store is dropped.
fn maintain_in_background(
    pools: &std::sync::Arc<Pools>,
    name: &str,
    interval: Duration,
    mut task: impl FnMut(&Pools) + Send + 'static,
) {
    let pools = std::sync::Arc::downgrade(pools);
    let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || loop {
        std::thread::sleep(interval);
        let Some(pools) = pools.upgrade() else { return };
        task(&pools);
    });
    if let Err(error) = spawned {
        tracing::error!(%error, thread = name, "could not start a database maintenance thread");
    }
}

/// Copies the SQLite WAL back into the database file, and starts it again from its
/// beginning before it passes its bound ([`wal`]); left alone, the WAL grows.
fn checkpoint(pools: &Pools, bound: &mut wal::WalBound) {
    if let Pools::Sqlite { writer, readers } = pools {
        bound.keep(writer, || wal::passive(&mut *checkout(readers)?));
    }
}

fn analyze(pools: &Pools) {
    match analyze_stale_tables(pools) {
        Ok(tables) if tables.is_empty() => {}
        Ok(tables) => tracing::info!(?tables, "autovacuum is off: analyzed the tables that changed"),
        Err(error) => tracing::warn!(%error, "analyzing changed tables failed; will try again"),
    }
}

/// The tables that changed enough since their last ANALYZE, by autovacuum's own rule and
/// settings, when autovacuum is off.
const STALE_TABLES_SQL: &str = "SELECT format('%I.%I', s.schemaname, s.relname) AS name
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE current_setting('autovacuum') = 'off' AND NOT pg_is_in_recovery()
      AND s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
          + current_setting('autovacuum_analyze_scale_factor')::float8 * GREATEST(c.reltuples, 0)
    ORDER BY 1";

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Analyzes the tables that autovacuum would have, had it been on, and names them. Fresh
/// statistics matter beyond the planner's estimates: an ANALYZE is what makes PostgreSQL
/// plan its cached statements again, the foreign-key checks among them. Measured on a
/// server with autovacuum off: each posting's check on its journal kept the sequential
/// scan planned when `journals` had one page, and a 1,000,000-family stage took 345.8 s
/// instead of 76.2 s (README, "Performance").
fn analyze_stale_tables(pools: &Pools) -> Result<Vec<String>, StoreError> {
    let Pools::Postgres(pool) = pools else { return Ok(Vec::new()) };
    let mut connection = checkout(pool)?;
    let stale: Vec<TableName> = diesel::RunQueryDsl::load(diesel::sql_query(STALE_TABLES_SQL), &mut *connection)?;
    let tables: Vec<String> = stale.into_iter().map(|table| table.name).collect();
    if !tables.is_empty() {
        // The names are quoted by format('%I'), from the catalogue, not from a request.
        connection.batch_execute(&format!("ANALYZE {}", tables.join(", ")))?;
    }
    Ok(tables)
}

fn checkout<C>(pool: &Pool<ConnectionManager<C>>) -> Result<PooledConnection<ConnectionManager<C>>, StoreError>
where
    C: diesel::r2d2::R2D2Connection + 'static,
{
    pool.get().map_err(StoreError::from)
}

/// Reads a stored enum spelling; an unknown one means the database was changed by hand.
pub(crate) fn parse_stored<T: std::str::FromStr>(column: &'static str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("{column} holds unknown value {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_choose_their_backend() {
        let postgres = DatabaseUrl::parse("postgres://kks@db/kks").unwrap();
        assert_eq!(postgres.backend(), Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("postgresql://db/kks").unwrap().backend(), Backend::Postgres);
        let sqlite = DatabaseUrl::parse("sqlite://data/kks.sqlite").unwrap();
        assert_eq!((sqlite.backend(), sqlite.location()), (Backend::Sqlite, "data/kks.sqlite"));
        assert_eq!(DatabaseUrl::parse("kks.sqlite").unwrap().location(), "kks.sqlite");
        assert!(DatabaseUrl::parse("mysql://db/kks").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn a_full_disk_is_an_outage_not_a_bad_query() {
        use diesel::result::{DatabaseErrorKind, Error};
        let full = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new("database or disk is full".to_owned()));
        assert!(matches!(StoreError::from(full), StoreError::Unavailable(_)));
        let postgres = "could not extend file \"base/16384/16390\": No space left on device".to_owned();
        let full = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(postgres));
        assert!(matches!(StoreError::from(full), StoreError::Unavailable(_)));
        let unique = Error::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new("duplicate key".to_owned()));
        assert!(matches!(StoreError::from(unique), StoreError::Query(_)));
    }

    #[test]
    fn database_urls_never_print_their_password() {
        let url = DatabaseUrl::parse("postgres://kks:hunter2@db/kks").unwrap();
        assert_eq!(url.to_string(), "postgres://kks:***@db/kks");
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
