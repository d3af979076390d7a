//! The monitoring endpoints at national scale, and what keeping their aggregates costs.
//!
//!     KKS_BENCH_FAMILIES=1000000 KKS_BENCH_BACKENDS=sqlite cargo bench -p kks-api --bench monitoring
//!
//! For each backend (`KKS_BENCH_BACKENDS`, default `sqlite,postgres`; PostgreSQL at
//! `KKS_TEST_POSTGRES_URL`) on a fresh database:
//!
//! 1. loads `KKS_BENCH_FAMILIES` families (default 100,000) in 8,500 villages of 34
//!    provinces, with a quarter of ledger history per family: PKH and BPNT credited, 60%
//!    move PKH money to savings, 50% withdraw cash at their district's agent, 70% buy food
//!    (about 7 postings per family). Bulk SQL, but every posting goes through the
//!    monitoring triggers, as in production; the load rate is printed;
//! 2. checks that the national figures equal the ledger's balances, to the sen;
//! 3. times each monitoring query through the service layer (as `kks serve` runs it):
//!    national, province, regency, district and village overviews (30 days of series, as
//!    the dashboard asks; the national one also with 90), a village's families,
//!    one family's page, a NIK search, the indicators and a day of agent activity;
//! 4. measures the triggers' cost: EDC cash withdrawals through the service layer (PIN,
//!    STAN, idempotency, posting, one transaction each) with the triggers, then with the
//!    posting triggers dropped.
//!
//! Prints a table and one JSON line per backend.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use hdrhistogram::Histogram;
use kks_api::domain::auth::{OperatorRole, Pin, PinKey, RegionCode, RegionScope};
use kks_api::domain::card::CardNumber;
use kks_api::domain::card_qr::{IssuerSigningKey, IssuerVerifyingKeys};
use kks_api::domain::edc::{business_date, Stan};
use kks_api::domain::key_ring::{KeyRing, KeyVersion};
use kks_api::domain::ledger::{AccountKind, JournalKind, OwnerKind};
use kks_api::domain::money::{rupiah_from_minor, Amount};
use kks_api::domain::pin_keys::PinKeys;
use kks_api::domain::transmission::TransmittedAt;
use kks_api::ledger::{accounts, posting, AccountId};
use kks_api::service::auth::{Auth, Principal};
use kks_api::service::edc::{self, CardInput, CardRequest, Operation};
use kks_api::service::monitoring::{agents, families, indicators, overview};
use kks_api::store::{now, Backend, DatabaseUrl, Store, StoreOptions, Tx};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// 34 provinces × 5 regencies × 5 districts × 10 villages.
const PROVINCES: usize = 34;
const REGENCIES_PER_PROVINCE: usize = 5;
const DISTRICTS_PER_REGENCY: usize = 5;
const VILLAGES_PER_DISTRICT: usize = 10;
/// Days of daily series the overviews ask for: what the dashboard's charts show.
const CHART_DAYS: u32 = 30;
/// Timed runs of each query (the first run is a warm-up and not counted).
const QUERY_RUNS: usize = 30;
/// EDC withdrawals timed with and without the monitoring triggers.
const WITHDRAWALS: u32 = 2_000;
/// Ledger journals (savings → agent) posted in one transaction, with and without them.
const LEDGER_JOURNALS: u32 = 20_000;
/// Journals inserted in bulk by prepared statements, with and without them.
const BULK_JOURNALS: u32 = 50_000;

/// What the monitoring triggers cost a cash withdrawal: end to end (each its own
/// transaction, committed to disk); in the ledger alone (many in one transaction; diesel
/// prepares a batch insert anew each time, and SQLite compiles the triggers with it); and
/// their execution alone (statements prepared once).
struct TriggerCost {
    with_triggers: Histogram<u64>,
    without_triggers: Histogram<u64>,
    /// SQLite only: on PostgreSQL, one family's aggregate rows updated 20,000 times in one
    /// transaction keep 20,000 row versions, a case no business operation makes.
    ledger_with_triggers: Option<Duration>,
    ledger_without_triggers: Option<Duration>,
    bulk_with_triggers: Duration,
    bulk_without_triggers: Duration,
}

struct QueryFigures {
    name: &'static str,
    latency: Histogram<u64>,
}

struct Figures {
    backend: &'static str,
    families: usize,
    postings: i64,
    load: Duration,
    queries: Vec<QueryFigures>,
    trigger_cost: TriggerCost,
}

fn main() -> BenchResult<()> {
    let families: usize =
        std::env::var("KKS_BENCH_FAMILIES").ok().and_then(|text| text.parse().ok()).unwrap_or(100_000);
    let backends = std::env::var("KKS_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    let mut results = Vec::new();
    for backend in backends.split(',').map(str::trim) {
        let backend = match backend {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => return Err(format!("unknown backend {other}").into()),
        };
        results.push(run(backend, families)?);
    }
    let ms = |histogram: &Histogram<u64>, quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1000.0;
    for figures in &results {
        println!(
            "\n{}: {} families, {} postings loaded through the triggers in {:.1} s ({:.0} postings/s)",
            figures.backend,
            figures.families,
            figures.postings,
            figures.load.as_secs_f64(),
            figures.postings as f64 / figures.load.as_secs_f64()
        );
        println!("{:<36} {:>10} {:>10} {:>10}", "query", "p50 ms", "p99 ms", "max ms");
        for query in &figures.queries {
            println!(
                "{:<36} {:>10.2} {:>10.2} {:>10.2}",
                query.name,
                ms(&query.latency, 0.5),
                ms(&query.latency, 0.99),
                query.latency.max() as f64 / 1000.0
            );
        }
        let cost = &figures.trigger_cost;
        let (with, without) = (&cost.with_triggers, &cost.without_triggers);
        println!(
            "EDC cash withdrawal, one transaction each: with the triggers p50 {:.3} ms, mean {:.3} ms; without p50 {:.3} ms, mean {:.3} ms",
            ms(with, 0.5),
            with.mean() / 1000.0,
            ms(without, 0.5),
            without.mean() / 1000.0,
        );
        if let (Some(with), Some(without)) = (cost.ledger_with_triggers, cost.ledger_without_triggers) {
            println!(
                "ledger cash-withdrawal journal (2 postings), {LEDGER_JOURNALS} in one transaction: {:.1} µs with the triggers, {:.1} µs without: {:+.1} µs per journal",
                with.as_secs_f64() * 1e6,
                without.as_secs_f64() * 1e6,
                (with.as_secs_f64() - without.as_secs_f64()) * 1e6
            );
        }
        println!(
            "the triggers' execution, {BULK_JOURNALS} journals by statements prepared once: {:.2} µs with the triggers, {:.2} µs without: {:+.2} µs per journal",
            cost.bulk_with_triggers.as_secs_f64() * 1e6,
            cost.bulk_without_triggers.as_secs_f64() * 1e6,
            (cost.bulk_with_triggers.as_secs_f64() - cost.bulk_without_triggers.as_secs_f64()) * 1e6
        );
    }
    for figures in &results {
        let queries: serde_json::Map<String, serde_json::Value> = figures
            .queries
            .iter()
            .map(|query| {
                let value = serde_json::json!({"p50_ms": ms(&query.latency, 0.5), "p99_ms": ms(&query.latency, 0.99), "max_ms": query.latency.max() as f64 / 1000.0});
                (query.name.to_owned(), value)
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "backend": figures.backend,
                "families": figures.families,
                "postings": figures.postings,
                "load_seconds": figures.load.as_secs_f64(),
                "queries": queries,
                "withdrawal_ms": {
                    "with_triggers": {"p50": ms(&figures.trigger_cost.with_triggers, 0.5), "mean": figures.trigger_cost.with_triggers.mean() / 1000.0},
                    "without_triggers": {"p50": ms(&figures.trigger_cost.without_triggers, 0.5), "mean": figures.trigger_cost.without_triggers.mean() / 1000.0},
                },
                "ledger_journal_us": {
                    "with_triggers": figures.trigger_cost.ledger_with_triggers.map(|time| time.as_secs_f64() * 1e6),
                    "without_triggers": figures.trigger_cost.ledger_without_triggers.map(|time| time.as_secs_f64() * 1e6),
                },
                "prepared_journal_us": {
                    "with_triggers": figures.trigger_cost.bulk_with_triggers.as_secs_f64() * 1e6,
                    "without_triggers": figures.trigger_cost.bulk_without_triggers.as_secs_f64() * 1e6,
                },
            })
        );
    }
    Ok(())
}

fn run(backend: Backend, families: usize) -> BenchResult<Figures> {
    let folder = tempfile::tempdir()?;
    let (url, postgres_name) = match backend {
        Backend::Sqlite => (format!("sqlite://{}", folder.path().join("bench.sqlite").display()), None),
        Backend::Postgres => {
            let admin = std::env::var("KKS_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let name = format!("kks_bench_monitoring_{}", std::process::id());
            let mut connection = diesel::PgConnection::establish(&admin)?;
            connection.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
            connection.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let (base, _) = admin.rsplit_once('/').ok_or("admin URL")?;
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
    };
    let store = Store::open(&StoreOptions {
        url: DatabaseUrl::parse(&url)?,
        postgres_pool_size: 4,
        sqlite_group_commit: true,
        sqlite_wal_max_bytes: kks_api::store::SQLITE_WAL_MAX_MB_DEFAULT * 1024 * 1024,
    })?;
    store.migrate()?;
    let label = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    eprintln!("{label}: loading {families} families …");
    let started = Instant::now();
    let postings = load(&store, backend, families)?;
    let load = started.elapsed();
    eprintln!("{label}: loaded {postings} postings in {:.1} s", load.as_secs_f64());
    check_against_ledger(&store)?;
    let queries = time_queries(&store)?;
    let trigger_cost = trigger_cost(&store, backend)?;
    drop(store);
    if let Some((admin, name)) = postgres_name {
        diesel::PgConnection::establish(&admin)?
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    }
    Ok(Figures { backend: label, families, postings, load, queries, trigger_cost })
}

fn execute(tx: &mut Tx<'_>, sql: &str) -> Result<(), kks_api::store::StoreError> {
    match tx {
        Tx::Sqlite(connection) => connection.batch_execute(sql)?,
        Tx::Postgres(connection) => connection.batch_execute(sql)?,
    }
    Ok(())
}

fn village_code(index: usize) -> String {
    let village = index % VILLAGES_PER_DISTRICT;
    let district = (index / VILLAGES_PER_DISTRICT) % DISTRICTS_PER_REGENCY;
    let regency = (index / (VILLAGES_PER_DISTRICT * DISTRICTS_PER_REGENCY)) % REGENCIES_PER_PROVINCE;
    let province = index / (VILLAGES_PER_DISTRICT * DISTRICTS_PER_REGENCY * REGENCIES_PER_PROVINCE);
    format!("{:02}.{:02}.{:02}.{:04}", 11 + province, 1 + regency, 1 + district, 2001 + village)
}

/// Regions, families, agents, accounts and a quarter of postings, by bulk SQL; the
/// monitoring triggers run for every row, as they do in production. Returns the postings.
fn load(store: &Store, backend: Backend, families: usize) -> BenchResult<i64> {
    let villages = PROVINCES * REGENCIES_PER_PROVINCE * DISTRICTS_PER_REGENCY * VILLAGES_PER_DISTRICT;
    let mut regions = Vec::new();
    for index in 0..villages {
        let village = RegionCode::parse(&village_code(index)).map_err(|error| error.to_string())?;
        let mut code = Some(village);
        while let Some(region) = code {
            regions.push(region.clone());
            code = region.parent();
        }
    }
    regions.sort();
    regions.dedup();
    store.write(|tx| -> Result<(), kks_api::store::StoreError> {
        for chunk in regions.chunks(1_000) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|code| {
                    let parent = code.parent().map_or_else(|| "NULL".to_owned(), |parent| format!("'{parent}'"));
                    format!("('{code}', 'Wilayah {code}', '{}', {parent})", code.level())
                })
                .collect();
            execute(tx, &format!("INSERT INTO regions (code, name, level, parent_code) VALUES {};", rows.join(",")))?;
        }
        let villages: Vec<String> =
            (0..villages).map(|index| format!("({index}, '{}')", village_code(index))).collect();
        execute(tx, "CREATE TABLE bench_villages (idx BIGINT PRIMARY KEY, code TEXT NOT NULL);")?;
        for chunk in villages.chunks(1_000) {
            execute(tx, &format!("INSERT INTO bench_villages (idx, code) VALUES {};", chunk.join(",")))?;
        }
        Ok(())
    })?;
    let numbers = match backend {
        Backend::Sqlite => format!(
            "CREATE TABLE bench_numbers (n BIGINT PRIMARY KEY);
             WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < {families})
             INSERT INTO bench_numbers (n) SELECT n FROM counter;"
        ),
        Backend::Postgres => format!(
            "CREATE TABLE bench_numbers (n BIGINT PRIMARY KEY);
             INSERT INTO bench_numbers (n) SELECT generate_series(1, {families});"
        ),
    };
    let nik = match backend {
        Backend::Sqlite => "printf('%016d', n)",
        Backend::Postgres => "lpad(CAST(n AS TEXT), 16, '0')",
    };
    // Events happen over the 90 days before today (UTC), each family on its own days.
    let day = |offset: &str| match backend {
        Backend::Sqlite => format!("datetime('now', '-90 days', '+' || ({offset}) || ' days')"),
        Backend::Postgres => format!("(LOCALTIMESTAMP - INTERVAL '90 days' + ({offset}) * INTERVAL '1 day')"),
    };
    let steps: Vec<(&str, String)> = vec![
        ("numbers", numbers),
        (
            "families",
            format!(
                "INSERT INTO families (nik, recipient_name, address, village_code, category, status, token_version, created_at)
                 SELECT {nik}, 'Keluarga ' || CAST(n AS TEXT), 'Alamat', v.code, 'regular', 'active', 0, '2026-01-01 00:00:00'
                 FROM bench_numbers JOIN bench_villages v ON v.idx = n % {villages} ORDER BY n;"
            ),
        ),
        (
            "agents",
            "INSERT INTO agents (username, display_name, kind, bank, village_code, password_hash, token_version, created_at)
             SELECT 'agen.' || substr(code, 1, 8), 'Agen ' || substr(code, 1, 8), 'bank_agent', 'bri', code, 'x', 0, '2026-01-01 00:00:00'
             FROM bench_villages WHERE code LIKE '%.2001' ORDER BY idx;"
                .to_owned(),
        ),
        (
            "accounts",
            "INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
             VALUES ('system', 'treasury', 'treasury', 'open', 0, 0, '2026-01-01 00:00:00');
             INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
             SELECT 'agent', CAST(id AS TEXT), 'agent_settlement', 'open', 0, 0, '2026-01-01 00:00:00' FROM agents ORDER BY id;
             CREATE TABLE bench_agent_accounts (district TEXT PRIMARY KEY, account_id BIGINT NOT NULL);
             INSERT INTO bench_agent_accounts (district, account_id)
             SELECT substr(g.village_code, 1, 8), a.id FROM agents g JOIN accounts a ON a.owner_kind = 'agent' AND a.owner_id = CAST(g.id AS TEXT);
             INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
             SELECT 'family', CAST(f.id AS TEXT), k.kind, 'open', 0, 0, '2026-01-01 00:00:00'
             FROM families f CROSS JOIN (SELECT 'savings' AS kind UNION ALL SELECT 'wallet_pkh' UNION ALL SELECT 'wallet_bpnt') k
             ORDER BY f.id, k.kind;"
                .to_owned(),
        ),
    ];
    for (name, sql) in &steps {
        let started = Instant::now();
        store.write(|tx| execute(tx, sql))?;
        eprintln!("  {name}: {:.1} s", started.elapsed().as_secs_f64());
    }
    // (journal kind, reference tag, which families, amount in sen, day offset, debited, credited)
    let events: [(&str, &str, &str, i64, &str, &str, &str); 5] = [
        ("disbursement", "pkh", "1 = 1", 50_000_000, "f.id % 30", "treasury", "wallet_pkh"),
        ("disbursement", "bpnt", "1 = 1", 11_000_000, "30 + f.id % 30", "treasury", "wallet_bpnt"),
        ("wallet_to_savings", "w2s", "f.id % 10 < 6", 30_000_000, "31 + f.id % 30", "wallet_pkh", "savings"),
        ("cash_withdrawal", "cash", "f.id % 10 < 5", 20_000_000, "62 + f.id % 28", "savings", "agent"),
        ("purchase", "food", "f.id % 10 < 7", 2_200_000, "62 + f.id % 28", "wallet_bpnt", "agent"),
    ];
    let account = |role: &str| {
        match role {
        "treasury" => "(SELECT id FROM accounts WHERE owner_kind = 'system' AND owner_id = 'treasury' AND kind = 'treasury')".to_owned(),
        "agent" => "(SELECT account_id FROM bench_agent_accounts WHERE district = substr(f.village_code, 1, 8))".to_owned(),
        family_pocket => format!(
            "(SELECT id FROM accounts WHERE owner_kind = 'family' AND owner_id = CAST(f.id AS TEXT) AND kind = '{family_pocket}')"
        ),
    }
    };
    for (kind, tag, which, amount, offset, debited, credited) in events {
        let started = Instant::now();
        let batch = 100_000;
        for first in (0..families).step_by(batch) {
            let range = format!("f.id > {first} AND f.id <= {} AND {which}", first + batch);
            let sql = format!(
                "INSERT INTO journals (kind, reference, memo, posted_at)
                 SELECT '{kind}', 'bench-{tag}-' || CAST(f.id AS TEXT), '', {} FROM families f WHERE {range} ORDER BY f.id;
                 INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor)
                 SELECT j.id, {}, -{amount}, 0 FROM families f JOIN journals j ON j.reference = 'bench-{tag}-' || CAST(f.id AS TEXT)
                 WHERE {range} ORDER BY f.id;
                 INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor)
                 SELECT j.id, {}, {amount}, 0 FROM families f JOIN journals j ON j.reference = 'bench-{tag}-' || CAST(f.id AS TEXT)
                 WHERE {range} ORDER BY f.id;",
                day(offset),
                account(debited),
                account(credited)
            );
            store.write(|tx| execute(tx, &sql))?;
        }
        eprintln!("  {kind} ({tag}): {:.1} s", started.elapsed().as_secs_f64());
    }
    let started = Instant::now();
    // Balances as the ledger would have them (the postings were loaded in bulk).
    store.write(|tx| {
        execute(
            tx,
            "UPDATE accounts SET balance_minor = COALESCE((SELECT SUM(p.amount_minor) FROM postings p WHERE p.account_id = accounts.id), 0);
             DROP TABLE bench_numbers; DROP TABLE bench_villages; DROP TABLE bench_agent_accounts;",
        )
    })?;
    if backend == Backend::Postgres {
        store.write(|tx| execute(tx, "ANALYZE"))?;
    }
    eprintln!("  balances: {:.1} s", started.elapsed().as_secs_f64());
    let postings = store.read(|tx| -> Result<i64, kks_api::store::StoreError> {
        use diesel::prelude::*;
        use kks_api::store::schema::postings;
        Ok(match tx {
            Tx::Sqlite(connection) => postings::table.count().get_result(*connection)?,
            Tx::Postgres(connection) => postings::table.count().get_result(*connection)?,
        })
    })?;
    Ok(postings)
}

fn national() -> Principal {
    Principal::Operator { id: 1, role: OperatorRole::Operator, scope: RegionScope::National }
}

/// The national figures equal the ledger's balances per pocket, to the sen.
fn check_against_ledger(store: &Store) -> BenchResult<()> {
    let overview = overview::overview(store, &national(), None, 90)?;
    for pocket in &overview.figures.pockets {
        let balances: Vec<i64> = store.read(|tx| -> Result<Vec<i64>, kks_api::store::StoreError> {
            use diesel::prelude::*;
            use kks_api::store::schema::accounts;
            let query = accounts::table
                .filter(accounts::owner_kind.eq("family"))
                .filter(accounts::kind.eq(pocket.pocket.as_ref()))
                .select(accounts::balance_minor);
            Ok(match tx {
                Tx::Sqlite(connection) => query.load(*connection)?,
                Tx::Postgres(connection) => query.load(*connection)?,
            })
        })?;
        let ledger = rupiah_from_minor(balances.iter().sum());
        if pocket.balance != ledger {
            return Err(format!("{}: monitoring says {}, the ledger {ledger}", pocket.pocket, pocket.balance).into());
        }
        eprintln!("  {}: {} on the monitoring overview = {ledger} in the ledger", pocket.pocket, pocket.balance);
    }
    Ok(())
}

fn time_queries(store: &Store) -> BenchResult<Vec<QueryFigures>> {
    let principal = national();
    let code = |text: &str| RegionCode::parse(text).map_err(|error| error.to_string());
    let (province, regency, district, village) =
        (code("32")?, code("32.03")?, code("32.03.04")?, code(&village_code(21 * 250 + 2 * 50 + 3 * 10 + 7))?);
    let today = business_date(now());
    let some_day: NaiveDate = today - chrono::Duration::days(15);
    let family_page_id = 777;
    let nik = format!("{family_page_id:016}");
    let mut results = Vec::new();
    let mut time = |name: &'static str, query: &dyn Fn() -> BenchResult<()>| -> BenchResult<()> {
        query()?;
        let mut latency = Histogram::<u64>::new(3)?;
        for _ in 0..QUERY_RUNS {
            let started = Instant::now();
            query()?;
            latency.record(started.elapsed().as_micros() as u64)?;
        }
        eprintln!("  {name}: p50 {:.2} ms", latency.value_at_quantile(0.5) as f64 / 1000.0);
        results.push(QueryFigures { name, latency });
        Ok(())
    };
    time("overview national (34 provinces)", &|| {
        overview::overview(store, &principal, None, CHART_DAYS).map(|_| ()).map_err(Into::into)
    })?;
    time("overview national, 90 days of series", &|| {
        overview::overview(store, &principal, None, 90).map(|_| ()).map_err(Into::into)
    })?;
    time("overview province 32", &|| {
        overview::overview(store, &principal, Some(&province), CHART_DAYS).map(|_| ()).map_err(Into::into)
    })?;
    time("overview regency 32.03", &|| {
        overview::overview(store, &principal, Some(&regency), CHART_DAYS).map(|_| ()).map_err(Into::into)
    })?;
    time("overview district 32.03.04", &|| {
        overview::overview(store, &principal, Some(&district), CHART_DAYS).map(|_| ()).map_err(Into::into)
    })?;
    time("overview village", &|| {
        overview::overview(store, &principal, Some(&village), CHART_DAYS).map(|_| ()).map_err(Into::into)
    })?;
    time("families of a village (200)", &|| {
        families::list(store, &principal, Some(&village), None, 0, 200).map(|_| ()).map_err(Into::into)
    })?;
    time("family search by NIK (national)", &|| {
        families::list(store, &principal, None, Some(&nik), 0, 50).map(|_| ()).map_err(Into::into)
    })?;
    time("family page with timeline", &|| {
        families::page(store, &principal, family_page_id).map(|_| ()).map_err(Into::into)
    })?;
    time("indicators national", &|| indicators::indicators(store, &principal, None).map(|_| ()).map_err(Into::into))?;
    time("indicators province 32", &|| {
        indicators::indicators(store, &principal, Some(&province)).map(|_| ()).map_err(Into::into)
    })?;
    time("agent activity national, one day (500)", &|| {
        agents::activity(store, &principal, None, Some(some_day), 0, 500).map(|_| ()).map_err(Into::into)
    })?;
    Ok(results)
}

/// EDC cash withdrawals through the service layer with the monitoring triggers, then
/// without the posting triggers (dropped), on the loaded database.
fn trigger_cost(store: &Store, backend: Backend) -> BenchResult<TriggerCost> {
    let pin_keys = PinKeys::single(KeyVersion::FIRST, PinKey::new(b"benchmark pin verification key, 32+ bytes"));
    let demo = kks_api::service::seed::seed_demo(store, &pin_keys, business_date(now()))?;
    let family = demo.families.first().ok_or("a demo family")?;
    let savings = store
        .read(|tx| {
            accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family.family_id.to_string(), AccountKind::Savings)
        })?
        .ok_or("the demo family's savings")?
        .id;
    let treasury =
        store.write(|tx| accounts::find_or_open(tx, OwnerKind::System, "treasury", AccountKind::Treasury))?.id;
    let million = Amount::from_rupiah(1_000_000)?;
    store.write(|tx| posting::transfer(tx, JournalKind::Adjustment, "bench savings", treasury, savings, million))?;
    let auth = Auth::new(
        &KeyRing::single(KeyVersion::FIRST, b"benchmark jwt secret, at least 32 bytes long".to_vec()),
        pin_keys,
        Duration::from_secs(900),
        Duration::from_secs(3600),
    );
    let issuer = IssuerVerifyingKeys::new(vec![IssuerSigningKey::from_seed(&[9; 32]).verifying_key()]);
    let card = CardNumber::parse(&family.card_number)?;
    let pin = Pin::parse(&family.pin)?;
    let bank_agent =
        store.read(|tx| kks_api::store::agents::find_by_username(tx, "agen.cileunyi"))?.ok_or("the demo bank agent")?;
    let principal = Principal::Agent { id: bank_agent.id, terminal: "T3204001".to_owned() };
    let mut next_stan = 0_u32;
    let mut withdrawals = |count: u32| -> BenchResult<Histogram<u64>> {
        let mut latency = Histogram::<u64>::new(3)?;
        for _ in 0..count {
            next_stan += 1;
            let request = CardRequest {
                card: CardInput::Keyed(card.clone()),
                pin: pin.clone(),
                stan: Stan::parse(&format!("{next_stan:06}"))?,
                transmitted_at: TransmittedAt::in_wib(now()),
                idempotency_key: format!("bench-{next_stan}"),
                operation: Operation::CashWithdrawal { amount: Amount::from_rupiah(1)? },
            };
            let started = Instant::now();
            edc::transact(store, &auth, &issuer, (&principal, bank_agent.token_version), &request)?;
            latency.record(started.elapsed().as_micros() as u64)?;
        }
        Ok(latency)
    };
    let agent_settlement = store
        .write(|tx| {
            accounts::find_or_open(tx, OwnerKind::Agent, &bank_agent.id.to_string(), AccountKind::AgentSettlement)
        })?
        .id;
    let one_rupiah = Amount::from_rupiah(1)?;
    // The CPU cost alone: journals posted by the ledger in one transaction (no commit each).
    let postings_in_one_transaction = || -> BenchResult<Option<Duration>> {
        if backend == Backend::Postgres {
            return Ok(None);
        }
        let started = Instant::now();
        store.write(|tx| -> Result<(), kks_api::ledger::LedgerError> {
            for _ in 0..LEDGER_JOURNALS {
                posting::transfer(tx, JournalKind::CashWithdrawal, "bench", savings, agent_settlement, one_rupiah)?;
            }
            Ok(())
        })?;
        Ok(Some(started.elapsed() / LEDGER_JOURNALS))
    };
    let ledger_with_triggers = postings_in_one_transaction()?;
    let bulk_with_triggers = bulk_postings(store, backend, "bulk with", savings, agent_settlement)?;
    withdrawals(100)?;
    let with_triggers = withdrawals(WITHDRAWALS)?;
    let drop_triggers = match backend {
        Backend::Sqlite => "DROP TRIGGER monitoring_family_posting; DROP TRIGGER monitoring_agent_posting;",
        Backend::Postgres => "DROP TRIGGER monitoring_on_postings ON postings;",
    };
    store.write(|tx| execute(tx, drop_triggers))?;
    let ledger_without_triggers = postings_in_one_transaction()?;
    let bulk_without_triggers = bulk_postings(store, backend, "bulk without", savings, agent_settlement)?;
    withdrawals(100)?;
    let without_triggers = withdrawals(WITHDRAWALS)?;
    Ok(TriggerCost {
        with_triggers,
        without_triggers,
        ledger_with_triggers,
        ledger_without_triggers,
        bulk_with_triggers,
        bulk_without_triggers,
    })
}

/// The triggers' execution alone: cash-withdrawal journals (a family's savings → an agent)
/// inserted by a few statements prepared once, [`BULK_JOURNALS`] in one transaction.
/// Returns the time per journal (two postings). Balances are not touched: the database is
/// thrown away afterwards.
fn bulk_postings(
    store: &Store,
    backend: Backend,
    tag: &str,
    savings: AccountId,
    agent: AccountId,
) -> BenchResult<Duration> {
    let (posted_at, numbers) = match backend {
        Backend::Sqlite => (
            "datetime('now')",
            format!("WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < {BULK_JOURNALS}) SELECT n FROM counter"),
        ),
        Backend::Postgres => ("LOCALTIMESTAMP", format!("SELECT generate_series(1, {BULK_JOURNALS}) AS n")),
    };
    let started = Instant::now();
    store.write(|tx| {
        execute(
            tx,
            &format!(
                "INSERT INTO journals (kind, reference, memo, posted_at)
                 SELECT 'cash_withdrawal', '{tag}', '', {posted_at} FROM ({numbers}) numbers;
                 INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor)
                 SELECT id, {savings}, -100, 0 FROM journals WHERE reference = '{tag}';
                 INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor)
                 SELECT id, {agent}, 100, 0 FROM journals WHERE reference = '{tag}';"
            ),
        )
    })?;
    Ok(started.elapsed() / BULK_JOURNALS)
}
