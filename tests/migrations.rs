//! The two migration folders: reversible, and one schema on both backends.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use kks_api::domain::ledger::AccountKind;
use serde_json::{json, Value};

use crate::support::api::{keyed, transmitted_now, with, Terminal};
use crate::support::bank::fund_family;
use crate::support::{on_both_backends, TestDatabase, TestServer};

const WITHDRAW: &str = "/v1/edc/cash-withdrawals";
const PURCHASE: &str = "/v1/edc/purchases";

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

    fn the_batch_cancel_migration_keeps_a_seeded_databases_batches_and_lines_and_cancels_a_live_twin(database) {
        let families: Vec<i64> = {
            let server = TestServer::start(&database);
            server.demo().families_in("32").iter().map(|family| family.family_id).collect()
        };
        let batches = count(&database, "SELECT COUNT(*) AS count FROM disbursement_batches");
        let lines = count(&database, "SELECT COUNT(*) AS count FROM disbursement_lines");
        assert_eq!((batches, lines), (6, 12), "the demo seed's batches and lines");

        // On the old schema, a second live batch for PKH stage 2 in Jawa Barat, as the old
        // code accepted, with a line for a family the first one did not pay.
        redo_batch_cancel_migration(&database, &format!(
            "INSERT INTO disbursement_batches (id, programme, year, period, region_code, status, prepared_by, prepared_at)
             VALUES (100, 'pkh', 2017, 2, '32', 'prepared', 'operator:2', '2017-04-01 00:00:00'),
                    (101, 'pkh', 2017, 2, '32', 'prepared', 'operator:2', '2017-04-02 00:00:00');
             INSERT INTO disbursement_lines (batch_id, programme, year, period, family_id, amount_minor)
             VALUES (100, 'pkh', 2017, 2, {}, 50000000), (101, 'pkh', 2017, 2, {}, 50000000);",
            families[0], families[1]
        ));
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_batches"), batches + 2);
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_batches WHERE status = 'completed'"), 6);
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_batches WHERE id = 100 AND status = 'prepared'"), 1);
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_batches WHERE id = 101 AND status = 'cancelled' AND cancelled_by = 'system:migration'"), 1, "the younger twin is cancelled");
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_lines WHERE batch_id = 101"), 0, "its line is freed");
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_lines"), lines + 1);

        // Down removes the cancelled batch; up again changes nothing more.
        redo_batch_cancel_migration(&database, "");
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_batches"), batches + 1);
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM disbursement_lines"), lines + 1);
        if !database.is_postgres() {
            assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM pragma_foreign_key_check"), 0);
        }
        crate::support::ledger::assert_ledger_clean(&database.store());
    }
    fn the_typed_receipts_migration_draws_the_same_slips_from_the_receipts_kept_as_json(database) {
        // Two approved transactions as the new code writes them, and their receipts.
        let server = TestServer::start_after(&database, &[], |store, demo| {
            fund_family(store, demo.families[0].family_id, AccountKind::Savings, 100_000);
        });
        let family = server.demo().families[0].clone();
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        let gas = || with(keyed(&family), json!({"programme": "lpg", "basket": [{"sku": "LPG-3KG", "quantity": 2}],
            "transmitted_at": transmitted_now()}));
        let (gas_body, cash_body) = (gas(), with(keyed(&family), json!({"amount": "50000", "transmitted_at": transmitted_now()})));
        let bought: Value = warong.send_with(PURCHASE, "000901", "migration-gas", gas_body.clone()).json().unwrap();
        drop(warong);
        let agent = Terminal::of(&server, "agen.cileunyi");
        let drawn: Value = agent.send_with(WITHDRAW, "000902", "migration-cash", cash_body.clone()).json().unwrap();
        drop(agent);
        assert!(bought["reference"].is_string() && drawn["reference"].is_string(), "{bought} {drawn}");

        // The schema before: each row's details hold its basket and its receipt, as the
        // older code wrote them. Migrated again, the rows answer retries as they did.
        let details = |receipt: &Value, basket: Value| {
            format!("UPDATE edc_transactions SET details = '{}' WHERE reference = '{}';",
                json!({"basket": basket, "receipt": receipt}), receipt["reference"].as_str().unwrap())
        };
        let on_old_schema = details(&bought, json!([{"sku": "LPG-3KG", "quantity": 2, "quota": 3}]))
            + &details(&drawn, json!([]));
        let server = server.restarted_after(&database, || redo_migrations_through(&database, "000022", &on_old_schema));
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        assert_eq!(warong.send_with(PURCHASE, "000901", "migration-gas", gas_body).json::<Value>().unwrap(), bought);
        drop(warong);
        let agent = Terminal::of(&server, "agen.cileunyi");
        assert_eq!(agent.send_with(WITHDRAW, "000902", "migration-cash", cash_body).json::<Value>().unwrap(), drawn);
        assert_eq!(count(&database, "SELECT COUNT(*) AS count FROM edc_transactions WHERE kind = 'purchase' AND basket IS NOT NULL"), 1);
        crate::support::ledger::assert_ledger_clean(&database.store());
    }
}

/// Reverts the migrations down to and including the batch-cancel one and applies them
/// again, on a connection that enforces foreign keys as the server's do, running
/// `on_old_schema` in between.
fn redo_batch_cancel_migration(database: &TestDatabase, on_old_schema: &str) {
    redo_migrations_through(database, "000011", on_old_schema);
}

/// Reverts the migrations down to and including the one whose version ends in `version`
/// and applies them again, running `on_old_schema` in between, on a connection that
/// enforces foreign keys as the server's do.
fn redo_migrations_through(database: &TestDatabase, version: &str, on_old_schema: &str) {
    let revert_through = |mut revert_last: Box<dyn FnMut() -> String + '_>| {
        const NEWER_MIGRATIONS_MAX: usize = 20;
        let mut reverted = Vec::new();
        while reverted.len() <= NEWER_MIGRATIONS_MAX {
            reverted.push(revert_last());
            if reverted.last().is_some_and(|reverted: &String| reverted.ends_with(version)) {
                return;
            }
        }
        panic!("migration {version} is not among the last ones: {reverted:?}");
    };
    if database.is_postgres() {
        let mut connection = PgConnection::establish(database.url()).unwrap();
        revert_through(Box::new(|| connection.revert_last_migration(POSTGRES_MIGRATIONS).unwrap().to_string()));
        if !on_old_schema.is_empty() {
            connection.batch_execute(on_old_schema).unwrap();
        }
        connection.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    } else {
        let mut connection = SqliteConnection::establish(sqlite_path(database)).unwrap();
        connection.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        revert_through(Box::new(|| connection.revert_last_migration(SQLITE_MIGRATIONS).unwrap().to_string()));
        connection.batch_execute(on_old_schema).unwrap();
        connection.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

fn count(database: &TestDatabase, sql: &str) -> i64 {
    let rows: Vec<Count> = if database.is_postgres() {
        diesel::sql_query(sql).load(&mut PgConnection::establish(database.url()).unwrap()).unwrap()
    } else {
        diesel::sql_query(sql).load(&mut SqliteConnection::establish(sqlite_path(database)).unwrap()).unwrap()
    };
    rows.first().map(|row| row.count).unwrap()
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
