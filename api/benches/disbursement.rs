//! A PKH stage for many families, and what it does to card transactions meanwhile.
//!
//!     KKS_BENCH_FAMILIES=1000000 cargo bench -p kks-api --bench disbursement
//!
//! For each backend (`KKS_BENCH_BACKENDS`, default `sqlite,postgres`; PostgreSQL at
//! `KKS_TEST_POSTGRES_URL`, default the local server) on a fresh database: loads the
//! families (bulk SQL, not timed), times preparing and executing the stage through the
//! service layer (as `kks serve` runs it), and measures EDC balance inquiries (PIN check,
//! STAN claim, idempotency record, one write transaction each) on one terminal before
//! the stage (baseline) and while it runs. Prints a table and one JSON line per backend.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use hdrhistogram::Histogram;
use kks_api::domain::auth::{OperatorRole, Pin, PinKey, RegionScope};
use kks_api::domain::benefit::Programme;
use kks_api::domain::card::CardNumber;
use kks_api::domain::card_qr::IssuerSigningKey;
use kks_api::domain::edc::Stan;
use kks_api::service::auth::{Auth, Principal};
use kks_api::service::disbursements::{self, BatchRequest};
use kks_api::service::edc::{self, CardInput, CardRequest, Operation};
use kks_api::store::{DatabaseUrl, Store, StoreOptions, Tx};

const FAMILIES_PER_INSERT: usize = 1_000;
const BASELINE_TRANSACTIONS: usize = 1_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Figures {
    backend: String,
    families: usize,
    prepare: Duration,
    execute: Duration,
    baseline: Histogram<u64>,
    during: Histogram<u64>,
}

fn main() -> BenchResult<()> {
    let families: usize =
        std::env::var("KKS_BENCH_FAMILIES").ok().and_then(|text| text.parse().ok()).unwrap_or(100_000);
    let backends = std::env::var("KKS_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    let mut results = Vec::new();
    for backend in backends.split(',').map(str::trim) {
        eprintln!("{backend}: {families} families …");
        results.push(run(backend, families)?);
    }
    println!(
        "{:<9} {:>9} {:>10} {:>10} {:>12} {:>20} {:>20} {:>8}",
        "backend",
        "families",
        "prepare s",
        "execute s",
        "families/s",
        "card p50/p99 ms (base)",
        "card p50/p99 ms (during)",
        "p99 ×"
    );
    for figures in &results {
        let ms = |histogram: &Histogram<u64>, quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1000.0;
        println!(
            "{:<9} {:>9} {:>10.1} {:>10.1} {:>12.0} {:>9.2} / {:<8.2} {:>9.2} / {:<8.2} {:>8.1}",
            figures.backend,
            figures.families,
            figures.prepare.as_secs_f64(),
            figures.execute.as_secs_f64(),
            figures.families as f64 / figures.execute.as_secs_f64(),
            ms(&figures.baseline, 0.5),
            ms(&figures.baseline, 0.99),
            ms(&figures.during, 0.5),
            ms(&figures.during, 0.99),
            ms(&figures.during, 0.99) / ms(&figures.baseline, 0.99).max(0.001),
        );
    }
    for figures in &results {
        let ms = |histogram: &Histogram<u64>, quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1000.0;
        println!(
            "{}",
            serde_json::json!({
                "backend": figures.backend,
                "families": figures.families,
                "prepare_seconds": figures.prepare.as_secs_f64(),
                "execute_seconds": figures.execute.as_secs_f64(),
                "families_per_second": figures.families as f64 / figures.execute.as_secs_f64(),
                "card_baseline_ms": {"p50": ms(&figures.baseline, 0.5), "p99": ms(&figures.baseline, 0.99), "max": figures.baseline.max() as f64 / 1000.0, "count": figures.baseline.len()},
                "card_during_ms": {"p50": ms(&figures.during, 0.5), "p99": ms(&figures.during, 0.99), "max": figures.during.max() as f64 / 1000.0, "count": figures.during.len()},
            })
        );
    }
    Ok(())
}

fn run(backend: &str, families: usize) -> BenchResult<Figures> {
    let folder = tempfile::tempdir()?;
    let (url, postgres_name) = match backend {
        "sqlite" => (format!("sqlite://{}", folder.path().join("bench.sqlite").display()), None),
        "postgres" => {
            let admin = std::env::var("KKS_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let name = format!("kks_bench_{}", std::process::id());
            let mut connection = diesel::PgConnection::establish(&admin)?;
            connection.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
            connection.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let (base, _) = admin.rsplit_once('/').ok_or("admin URL")?;
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
        other => return Err(format!("unknown backend {other}").into()),
    };
    let store = Store::open(&StoreOptions { url: DatabaseUrl::parse(&url)?, postgres_pool_size: 8 })?;
    store.migrate()?;
    let pin_key = PinKey::new(b"benchmark pin verification key, 32+ bytes");
    let demo = kks_api::service::seed::seed_demo(&store, &pin_key, chrono::Utc::now().date_naive())?;
    load_families(&store, families)?;

    let auth = Auth::new(
        b"benchmark jwt secret, at least 32 bytes long",
        pin_key,
        Duration::from_secs(900),
        Duration::from_secs(3600),
    );
    let issuer = IssuerSigningKey::from_seed(&[9; 32]).verifying_key();
    let family = demo.families.first().ok_or("a demo family")?;
    let card = CardNumber::parse(&family.card_number)?;
    let pin = Pin::parse(&family.pin)?;
    let agent = Principal::Agent { id: 1, terminal: "T3204001".to_owned() };
    let next_stan = Arc::new(std::sync::atomic::AtomicU32::new(1));
    let inquiry = {
        let (store, auth, next_stan) = (store.clone(), auth.clone(), Arc::clone(&next_stan));
        move || -> BenchResult<Duration> {
            let stan = next_stan.fetch_add(1, Ordering::Relaxed);
            let request = CardRequest {
                card: CardInput::Keyed(card.clone()),
                pin: pin.clone(),
                stan: Stan::parse(&format!("{stan:06}"))?,
                idempotency_key: format!("bench-{stan}"),
                operation: Operation::BalanceInquiry,
            };
            let started = Instant::now();
            edc::transact(&store, &auth, &issuer, &agent, &request)?;
            Ok(started.elapsed())
        }
    };
    let mut baseline = Histogram::<u64>::new(3)?;
    for _ in 0..BASELINE_TRANSACTIONS {
        baseline.record(inquiry()?.as_micros() as u64)?;
    }

    let operator = Principal::Operator { id: 1, role: OperatorRole::Operator, scope: RegionScope::National };
    let supervisor = Principal::Operator { id: 2, role: OperatorRole::Supervisor, scope: RegionScope::National };
    let request = BatchRequest { programme: Programme::Pkh, year: 2017, period: 2, region: None, release_at: None };
    let started = Instant::now();
    let batch = disbursements::prepare(&store, &operator, &request)?.batch;
    let prepare = started.elapsed();
    disbursements::approve(&store, &supervisor, batch.id)?;
    disbursements::start(&store, &operator, batch.id)?;

    let running = Arc::new(AtomicBool::new(true));
    let card_thread = {
        let running = Arc::clone(&running);
        std::thread::spawn(move || -> BenchResult<Histogram<u64>> {
            let mut during = Histogram::<u64>::new(3)?;
            while running.load(Ordering::Relaxed) {
                during.record(inquiry()?.as_micros() as u64)?;
            }
            Ok(during)
        })
    };
    let started = Instant::now();
    disbursements::run(&store, batch.id, disbursements::LINES_PER_CHUNK_DEFAULT)?;
    let execute = started.elapsed();
    running.store(false, Ordering::Relaxed);
    let during = card_thread.join().map_err(|_| "the card thread panicked")??;

    let report = kks_api::service::ledger_check::verify_ledger(&store)?;
    if !report.is_clean() {
        return Err(format!("ledger discrepancies after the stage: {:?}", report.discrepancies).into());
    }
    drop(store);
    if let Some((admin, name)) = postgres_name {
        diesel::PgConnection::establish(&admin)?
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    }
    Ok(Figures { backend: backend.to_owned(), families: families + 3, prepare, execute, baseline, during })
}

/// Regular families with a PKH e-wallet in the demo village, by bulk SQL.
fn load_families(store: &Store, count: usize) -> BenchResult<()> {
    let started = Instant::now();
    for first in (0..count).step_by(FAMILIES_PER_INSERT) {
        let rows: Vec<String> = (first..(first + FAMILIES_PER_INSERT).min(count))
            .map(|index| format!("('3204126208{index:06}', 'Keluarga {index}', 'Kp. Uji', '32.04.12.2001', 'regular', 'active', 0, '2026-01-01 00:00:00')"))
            .collect();
        let sql = format!(
            "INSERT INTO families (nik, recipient_name, address, village_code, category, status, token_version, created_at) VALUES {};",
            rows.join(",")
        );
        store.write(|tx| execute(tx, &sql))?;
    }
    store.write(|tx| {
        execute(
            tx,
            "INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
             SELECT 'family', CAST(f.id AS TEXT), 'wallet_pkh', 'open', 0, 0, f.created_at FROM families f
             WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.owner_kind = 'family' AND a.owner_id = CAST(f.id AS TEXT) AND a.kind = 'wallet_pkh')",
        )
    })?;
    eprintln!("  loaded {count} families in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn execute(tx: &mut Tx<'_>, sql: &str) -> Result<(), kks_api::store::StoreError> {
    match tx {
        Tx::Sqlite(connection) => connection.batch_execute(sql)?,
        Tx::Postgres(connection) => connection.batch_execute(sql)?,
    }
    Ok(())
}
