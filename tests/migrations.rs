//! The two migration folders: reversible, and one schema on both backends.

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::support::{on_both_backends, TestDatabase};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

fn sqlite_path(database: &TestDatabase) -> &str {
    database.url().trim_start_matches("sqlite://")
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

on_both_backends! {
    fn migrations_run_down_and_up_again(database) {
        // The test database arrives migrated: down, then up again.
        if database.is_postgres() {
            let mut connection = PgConnection::establish(database.url()).unwrap();
            connection.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
            connection.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
        } else {
            let mut connection = SqliteConnection::establish(sqlite_path(&database)).unwrap();
            connection.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
            connection.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
        }
        crate::support::ledger::assert_ledger_clean(&database.store());
    }
}

#[test]
fn both_backends_have_the_same_tables_and_columns() {
    let (sqlite, postgres) = (TestDatabase::sqlite(), TestDatabase::postgres());
    let mut sqlite_columns: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name
         FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%'",
    )
    .load(&mut SqliteConnection::establish(sqlite_path(&sqlite)).unwrap())
    .unwrap();
    let mut postgres_columns: Vec<Column> = diesel::sql_query(
        "SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%'",
    )
    .load(&mut PgConnection::establish(postgres.url()).unwrap())
    .unwrap();
    sqlite_columns.sort();
    postgres_columns.sort();
    assert!(sqlite_columns.len() > 20, "the schema was read: {sqlite_columns:?}");
    assert_eq!(sqlite_columns, postgres_columns);
}
