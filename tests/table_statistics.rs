//! Table statistics on PostgreSQL. Where the server's autovacuum is off (as on the
//! machines this suite runs on), the store analyzes the tables that changed, by
//! autovacuum's own rule: without it PostgreSQL keeps plans made when a table was
//! nearly empty, foreign-key checks among them (README, "Performance").

mod postgres {
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;
    use diesel::sql_types::{Double, Nullable, Text, Timestamptz};
    use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

    use crate::support::TestDatabase;

    /// How long the store's thread may take: PostgreSQL reports a transaction's changes
    /// within about ten seconds, and the thread looks every ten.
    const ANALYZED_WITHIN: Duration = Duration::from_secs(90);

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        autovacuum: String,
    }

    #[derive(QueryableByName)]
    struct FamiliesStatistics {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        last_analyze: Option<chrono::DateTime<chrono::Utc>>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        last_autoanalyze: Option<chrono::DateTime<chrono::Utc>>,
        #[diesel(sql_type = Double)]
        estimated_rows: f64,
    }

    fn families_statistics(connection: &mut PgConnection) -> FamiliesStatistics {
        diesel::sql_query(
            "SELECT s.last_analyze, s.last_autoanalyze, CAST(c.reltuples AS DOUBLE PRECISION) AS estimated_rows
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'families'",
        )
        .get_result(connection)
        .unwrap()
    }

    #[test]
    fn a_table_that_changed_is_analyzed_by_the_store_when_autovacuum_is_off() {
        const FAMILIES: usize = 2_000;
        let database = TestDatabase::postgres();
        let mut connection = PgConnection::establish(database.url()).unwrap();
        let autovacuum = diesel::sql_query("SELECT current_setting('autovacuum') AS autovacuum")
            .get_result::<Setting>(&mut connection)
            .unwrap()
            .autovacuum;
        let store = database.store();
        connection
            .batch_execute(&format!(
                "INSERT INTO regions (code, name, level) VALUES ('32.04.12.2001', 'Desa Uji', 'village')
                 ON CONFLICT DO NOTHING;
                 INSERT INTO families (nik, recipient_name, address, village_code, category, created_at)
                 SELECT '3204126208' || lpad(CAST(n AS TEXT), 6, '0'), 'Keluarga Uji', 'Kp. Uji', '32.04.12.2001',
                        'regular', now() FROM generate_series(1, {FAMILIES}) n"
            ))
            .unwrap();

        let started = Instant::now();
        let statistics = loop {
            let statistics = families_statistics(&mut connection);
            let analyzed = if autovacuum == "off" {
                assert_eq!(statistics.last_autoanalyze, None, "autovacuum is off");
                statistics.last_analyze.is_some()
            } else {
                // Autovacuum's to do: the store leaves it alone.
                assert_eq!(store.analyze_stale_tables().unwrap(), Vec::<String>::new());
                statistics.last_autoanalyze.is_some() || statistics.last_analyze.is_some()
            };
            if analyzed {
                break statistics;
            }
            assert!(started.elapsed() < ANALYZED_WITHIN, "families was not analyzed (autovacuum {autovacuum})");
            std::thread::sleep(Duration::from_millis(250));
        };
        assert!(statistics.estimated_rows >= FAMILIES as f64, "the statistics count the new families");
        assert!(
            !store.analyze_stale_tables().unwrap().contains(&"public.families".to_owned()),
            "analyzed once, families is fresh until it changes again"
        );
    }
}
