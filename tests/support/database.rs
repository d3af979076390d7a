//! A throwaway database per test: a SQLite file in a temporary folder, or a PostgreSQL
//! database created on the test server and dropped (forcibly) when the test ends.

use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use kks_api::store::{DatabaseUrl, Store, StoreOptions};

/// The PostgreSQL server the suite creates its databases on. `.ci/run` sets it; by
/// default the local server with trust authentication.
pub fn postgres_admin_url() -> String {
    std::env::var("KKS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestDatabase {
    url: String,
    /// The SQLite file's folder, removed on drop.
    _folder: Option<tempfile::TempDir>,
    /// The PostgreSQL database to drop on drop.
    postgres_name: Option<String>,
}

static DATABASE_COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    pub fn sqlite() -> Self {
        let folder = tempfile::tempdir().expect("creating a temporary folder");
        let url = format!("sqlite://{}", folder.path().join("kks.sqlite").display());
        let database = Self { url, _folder: Some(folder), postgres_name: None };
        database.store().migrate().expect("migrating the SQLite test database");
        database
    }

    /// A SQLite database in `folder`, which someone else provides and removes (a small
    /// filesystem of the test's own); migrated.
    pub fn sqlite_in(folder: &std::path::Path) -> Self {
        let url = format!("sqlite://{}", folder.join("kks.sqlite").display());
        let database = Self { url, _folder: None, postgres_name: None };
        database.store().migrate().expect("migrating the SQLite test database");
        database
    }

    /// The SQLite file's path (panics on PostgreSQL).
    pub fn sqlite_path(&self) -> &str {
        self.url.strip_prefix("sqlite://").expect("a SQLite test database")
    }

    /// Fails (never skips) when PostgreSQL is unreachable: a skipped backend is not a pass.
    pub fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!(
            "kks_test_{}_{}_{}",
            std::process::id(),
            DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is unreachable at {admin_url} ({error}). Start it, point \
                 KKS_TEST_POSTGRES_URL at one, or run without the PostgreSQL tests: cargo test --workspace -- --skip postgres::"
            )
        });
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("creating the PostgreSQL test database");
        let (base, _) = admin_url.rsplit_once('/').expect("the admin URL names a database");
        let database = Self { url: format!("{base}/{name}"), _folder: None, postgres_name: Some(name) };
        database.store().migrate().expect("migrating the PostgreSQL test database");
        database
    }

    /// A database that someone else created and will remove (e.g. a throwaway
    /// PostgreSQL cluster of the test's own); migrated, never dropped here.
    pub fn existing(url: &str) -> Self {
        let database = Self { url: url.to_owned(), _folder: None, postgres_name: None };
        database.store().migrate().expect("migrating the database");
        database
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// A store on this database, like the server's own.
    pub fn store(&self) -> Store {
        let options = StoreOptions {
            url: DatabaseUrl::parse(&self.url).expect("test database URL"),
            postgres_pool_size: 16,
            sqlite_group_commit: true,
            sqlite_wal_max_bytes: kks_api::store::SQLITE_WAL_MAX_MB_DEFAULT * 1024 * 1024,
        };
        Store::open(&options).expect("opening the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            if let Ok(mut admin) = PgConnection::establish(&postgres_admin_url()) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
