//! Card withdrawals and a national stage, measured beside the database's own ceiling.
//!
//!     scripts/bench        # builds card-sim and the server, then runs this
//!
//! For each backend (`KKS_BENCH_BACKENDS`, default `sqlite,postgres`; PostgreSQL at
//! `KKS_TEST_POSTGRES_URL`), on a fresh database holding the demo, cardholder families with
//! savings and many bank agents (bulk SQL, not timed):
//!
//! 1. **ceiling**: the withdrawal's own transaction (the service call the HTTP handler
//!    makes: PIN check, STAN, limits, ledger posting, idempotency record) in a tight loop
//!    from `KKS_BENCH_CONCURRENCY` threads, no HTTP, no JSON, no token. `each`: one
//!    transaction and one commit per withdrawal; `grouped` (SQLite): concurrent
//!    withdrawals share commits, as the server does. Beside it, the database's own
//!    yardstick: pgbench's TPC-B-like transaction, run by pgbench on PostgreSQL and through
//!    the same store and group commit on SQLite.
//! 2. **full path**: the real `kks serve` over HTTP, driven by `card-sim load` (closed loop,
//!    `KKS_BENCH_CONCURRENCY` terminals at once, withdrawals only), then the ledger check.
//!    Meanwhile, how long an approved withdrawal takes to appear in the dashboard's
//!    overview (the roll-up's lag, [`dashboard_lag_probe`]). Then the open-loop sweep
//!    ([`open_loop_sweep`]): the highest arrival rate whose p99, counted from when each
//!    withdrawal was due, stays within 25 ms.
//! 3. **stage**: `KKS_BENCH_STAGE_FAMILIES` (default 1,000,000; 0 skips) more families,
//!    a fresh server, a PKH stage prepared, approved and executed over HTTP while one
//!    terminal keeps withdrawing (latency before and during) and the dashboard's lag is
//!    probed, then the ledger check.
//!
//! Each phase runs `KKS_BENCH_SECONDS` (default 60). Prints a table and writes the JSON
//! report to `KKS_BENCH_OUTPUT` (default `target/bench-throughput.json`). Throughput and
//! latency are also given as ratios to the ceiling measured in the same run, because
//! these machines are shared and noisy.

// The report is JSON built here: `value["key"]` reads `Null` when a key is absent, and is
// only written on objects this file made.
#![allow(clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use hdrhistogram::Histogram;
use kks_api::domain::auth::{OperatorRole, Password, Pin, PinKey};
use kks_api::domain::card::{Bank, CardNumber};
use kks_api::domain::card_qr::{IssuerSigningKey, IssuerVerifyingKeys};
use kks_api::domain::edc::Stan;
use kks_api::domain::key_ring::{KeyRing, KeyVersion};
use kks_api::domain::money::Amount;
use kks_api::domain::pin_keys::PinKeys;
use kks_api::domain::transmission::TransmittedAt;
use kks_api::service::auth::{passwords, Auth, Principal};
use kks_api::service::edc::{self, CardInput, CardRequest, Operation};
use kks_api::service::seed::DemoCredentials;
use kks_api::store::{DatabaseUrl, Store, StoreOptions, Tx};
use serde_json::{json, Value};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Families with a card and savings that the terminals draw from.
const CARDHOLDERS: usize = 5_000;
/// Savings of each cardholder: enough for every withdrawal of both phases.
const CARDHOLDER_SAVINGS_RUPIAH: i64 = 4_900_000;
/// Bank agents: enough that no agent reaches its daily cash limit (Rp 20 M) in a run.
const CEILING_AGENTS: usize = 400;
const HTTP_AGENTS: usize = 600;
/// Terminals withdrawing while a stage is paid.
const PROBE_AGENTS: usize = 100;
/// The open-loop sweep's rates, as shares of the closed loop's throughput, tried in turn
/// until one misses; then [`SWEEP_BISECTIONS`] more between the last hit and that miss.
const SWEEP_SHARES: [f64; 6] = [0.25, 0.5, 0.75, 0.9, 1.0, 1.1];
const SWEEP_BISECTIONS: usize = 3;
/// Terminals of each sweep step, their own so that no STAN of one run meets another's.
const SWEEP_AGENTS_PER_STEP: usize = 100;
const SWEEP_STEPS_MAX: usize = SWEEP_SHARES.len() + SWEEP_BISECTIONS;
/// A rate is kept while its p99, counted from when each transaction was due, stays within
/// this (issue 22's goal) and the server keeps up with it.
const SWEEP_P99_MS_MAX: f64 = 25.0;
/// The share of the rate that must be served for the rate to count as kept.
const SWEEP_SERVED_SHARE_MIN: f64 = 0.95;
/// The first agent of the sweep's, after the ceiling's, the closed loop's and the stage's.
const SWEEP_AGENTS_FIRST: usize = CEILING_AGENTS + HTTP_AGENTS + PROBE_AGENTS;
const AGENT_PASSWORD: &str = "benchmark agent password";
/// The token version the agents are loaded with: their tokens are current.
const AGENT_TOKEN_VERSION: i64 = 0;
const CARDHOLDER_PIN: &str = "246810";
const WITHDRAWAL_RUPIAH: i64 = 10_000;
/// The demo's village, where the bench's families and agents live.
const VILLAGE: &str = "32.04.12.2001";
const PROVINCE: &str = "32";
const ROWS_PER_INSERT: usize = 1_000;
/// Latency is measured before the stage for this long.
const STAGE_BASELINE: Duration = Duration::from_secs(5);

const JWT_SECRET: &str = "benchmark jwt secret, at least 32 bytes long";
const PIN_KEY: &str = "benchmark pin verification key, 32+ bytes";
const ISSUER_KEY_HEX: &str = "0909090909090909090909090909090909090909090909090909090909090909";

struct Settings {
    /// `ceiling`, `http`, `stage` (`KKS_BENCH_PHASES`, default all three; one alone to profile it).
    phases: Vec<String>,
    seconds: u64,
    concurrency: usize,
    stage_families: usize,
    kks: PathBuf,
    card_sim: PathBuf,
}

fn main() -> BenchResult<()> {
    let number = |name: &str, default: usize| -> usize {
        std::env::var(name).ok().and_then(|text| text.parse().ok()).unwrap_or(default)
    };
    let kks = PathBuf::from(env!("CARGO_BIN_EXE_kks"));
    let card_sim = kks.with_file_name("card-sim");
    if !card_sim.exists() {
        return Err(format!("{} is missing: run scripts/bench (it builds card-sim first)", card_sim.display()).into());
    }
    let phases = std::env::var("KKS_BENCH_PHASES").unwrap_or_else(|_| "ceiling,http,stage".to_owned());
    let settings = Settings {
        phases: phases.split(',').map(|phase| phase.trim().to_owned()).collect(),
        seconds: number("KKS_BENCH_SECONDS", 60) as u64,
        concurrency: number("KKS_BENCH_CONCURRENCY", 64),
        stage_families: number("KKS_BENCH_STAGE_FAMILIES", 1_000_000),
        kks,
        card_sim,
    };
    let backends = std::env::var("KKS_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    let mut reports = Vec::new();
    for backend in backends.split(',').map(str::trim) {
        eprintln!("== {backend}");
        let database = BenchDatabase::create(backend)?;
        let report = run(&database, &settings);
        database.drop_postgres()?;
        reports.push(report?);
    }
    let report = json!({
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
        "seconds_per_phase": settings.seconds,
        "concurrency": settings.concurrency,
        "backends": reports,
    });
    print_table(&report);
    // Relative to the workspace: cargo runs a bench from its package's folder (api/).
    let output = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(std::env::var("KKS_BENCH_OUTPUT").unwrap_or_else(|_| "target/bench-throughput.json".to_owned()));
    std::fs::write(&output, serde_json::to_string_pretty(&report)?)?;
    println!("\nJSON report: {}", output.display());
    Ok(())
}

fn run(database: &BenchDatabase, settings: &Settings) -> BenchResult<Value> {
    let pin_keys = PinKeys::single(KeyVersion::FIRST, PinKey::new(PIN_KEY.as_bytes()));
    let folder = tempfile::tempdir()?;
    let (demo, cardholders) = {
        let store = database.store(true)?;
        store.migrate()?;
        let demo = kks_api::service::seed::seed_demo(&store, &pin_keys, chrono::Utc::now().date_naive())?;
        let cardholders = load_cardholders(&store, pin_keys.newest().1)?;
        load_agents(&store)?;
        (demo, cardholders)
    };

    let runs = |phase: &str| settings.phases.iter().any(|wanted| wanted == phase);
    let mut ceilings = Vec::new();
    let modes: &[(&str, bool)] =
        if database.backend == "sqlite" { &[("each", false), ("grouped", true)] } else { &[("each", false)] };
    for (round, (mode, grouped)) in modes.iter().enumerate().filter(|_| runs("ceiling")) {
        eprintln!("  ceiling ({mode}) …");
        let store = database.store(*grouped)?;
        let agents = (round * CEILING_AGENTS / modes.len())..((round + 1) * CEILING_AGENTS / modes.len());
        let mut figures = ceiling(&store, &pin_keys, &cardholders, agents, settings)?;
        figures["mode"] = json!(mode);
        eprintln!("    {figures}");
        ceilings.push(figures);
    }

    // The database's own yardstick on this machine, beside the ceiling: pgbench's TPC-B
    // transaction (see `pgbench`, `sqlite_tpcb`).
    let reference = if runs("ceiling") {
        eprintln!("  reference (TPC-B-like) …");
        let figures = match &database.postgres {
            Some((admin, _)) => pgbench(settings, admin)?,
            None => sqlite_tpcb(settings)?,
        };
        eprintln!("    {figures}");
        figures
    } else {
        Value::Null
    };

    let full_path = if runs("http") {
        eprintln!("  full path (HTTP, card-sim load) …");
        let credentials = folder.path().join("credentials.json");
        let agents = CEILING_AGENTS..CEILING_AGENTS + HTTP_AGENTS;
        std::fs::write(&credentials, serde_json::to_string(&bench_credentials(&demo, &cardholders, agents))?)?;
        let server = Server::start(settings, &database.url)?;
        let running = Arc::new(AtomicBool::new(true));
        let bytes_before = database_bytes(&database.url)?;
        let lag = dashboard_lag_probe(&server, &database.url, &demo, Arc::clone(&running))?;
        let load = card_sim_load(settings, &server, &credentials, LoadPace::ClosedLoop { database: &database.url });
        running.store(false, Ordering::Relaxed);
        let (load, lag) = (load?, lag.join().map_err(|_| "the dashboard probe panicked")??);
        let approved = load["outcomes"]["APPROVED"].as_f64().unwrap_or(0.0);
        let grown = database_bytes(&database.url)? - bytes_before;
        let bytes_per_withdrawal = (approved > 0.0).then(|| (grown as f64 / approved).round());
        eprintln!("    {} req/s, latency {}", load["requests_per_second"], load["latency_ms"]);
        // Before the sweep: each of its steps logs a hundred terminals in, and while they do
        // the server's memory rises by some 300 MB for about a second (PostgreSQL, measured:
        // 97 → 420 MB and back), which is the logins', not the card traffic's.
        let memory = server.peak_memory_mb()?;
        let closed_rate = load["requests_per_second"].as_f64().unwrap_or(0.0);
        let sweep = open_loop_sweep(settings, &server, folder.path(), (&demo, &cardholders), closed_rate)?;
        drop(server);
        let ratio_to_ceiling: serde_json::Map<String, Value> = ceilings
            .iter()
            .map(|ceiling| (ceiling["mode"].as_str().unwrap_or("?").to_owned(), ratios(&load, ceiling)))
            .collect();
        let ratio_to_reference = if reference.is_null() { Value::Null } else { ratios(&load, &reference) };
        let highest = &sweep["highest_rate"];
        let sweep_to_reference = match (highest.as_f64(), reference["requests_per_second"].as_f64()) {
            (Some(rate), Some(yardstick)) if yardstick > 0.0 => json!((rate / yardstick * 100.0).round() / 100.0),
            _ => Value::Null,
        };
        json!({
            "mode": "closed_loop",
            "requests_per_second": load["requests_per_second"],
            "latency_ms": load["latency_ms"],
            "requests": load["requests"],
            "outcomes": load["outcomes"],
            "unexpected": load["unexpected"],
            "ledger_clean": load["ledger"]["clean"],
            "server_peak_memory_mb": memory,
            "dashboard_lag_ms": latency_ms(&lag),
            "database_bytes_per_approved_withdrawal": bytes_per_withdrawal,
            "ratio_to_ceiling": ratio_to_ceiling,
            "ratio_to_reference": ratio_to_reference,
            "open_loop": sweep,
            "open_loop_highest_rate_to_reference": sweep_to_reference,
        })
    } else {
        Value::Null
    };

    let stage = if runs("stage") && settings.stage_families > 0 {
        eprintln!("  stage: loading {} families …", settings.stage_families);
        load_stage_families(&database.store(true)?, settings.stage_families)?;
        stage(settings, database, &demo, &cardholders)?
    } else {
        Value::Null
    };
    Ok(json!({
        "backend": database.backend,
        "ceiling": ceilings,
        "reference": reference,
        "full_path": full_path,
        "stage": stage,
    }))
}

// --- Phase 1: the ceiling ---------------------------------------------------------------

fn ceiling(
    store: &Store,
    pin_keys: &PinKeys,
    cardholders: &[String],
    agents: std::ops::Range<usize>,
    settings: &Settings,
) -> BenchResult<Value> {
    let jwt_secrets = KeyRing::single(KeyVersion::FIRST, JWT_SECRET.as_bytes().to_vec());
    let auth = Auth::new(&jwt_secrets, pin_keys.clone(), Duration::from_secs(900), Duration::from_secs(3600));
    let issuer = IssuerVerifyingKeys::new(vec![IssuerSigningKey::from_seed(&[9; 32]).verifying_key()]);
    let pin = Pin::parse(CARDHOLDER_PIN)?;
    let amount = Amount::from_minor(WITHDRAWAL_RUPIAH * 100)?;
    // Each thread has its own terminals, so STANs never collide.
    let terminals: Vec<Vec<usize>> = (0..settings.concurrency)
        .map(|thread| agents.clone().skip(thread).step_by(settings.concurrency).collect())
        .collect();
    let figures = closed_loop(settings, |thread, sent| {
        let terminals = terminals.get(thread).ok_or("no terminals")?;
        let agent = terminals.get(sent % terminals.len().max(1)).copied().ok_or("no terminal")?;
        let stan = sent / terminals.len().max(1) + 1;
        let card = cardholders.get((sent * 7919 + thread * 104_729) % cardholders.len()).ok_or("card")?;
        let principal = Principal::Agent { id: agent_id(agent), terminal: terminal_id(agent) };
        let request = CardRequest {
            card: CardInput::Keyed(CardNumber::parse(card)?),
            pin: pin.clone(),
            stan: Stan::parse(&format!("{stan:06}"))?,
            transmitted_at: TransmittedAt::in_wib(kks_api::store::now()),
            idempotency_key: format!("ceiling-{stan}"),
            operation: Operation::CashWithdrawal { amount },
        };
        Ok(edc::transact(store, &auth, &issuer, (&principal, AGENT_TOKEN_VERSION), &request).is_ok())
    })?;
    if figures["refused"] != 0 {
        return Err(format!("{} ceiling withdrawals were refused", figures["refused"]).into());
    }
    Ok(figures)
}

/// Runs `work(thread, sent)` from `settings.concurrency` threads at once for
/// `settings.seconds`, each call after the last one's answer (closed loop), and reports
/// throughput, latency, and how many calls `work` said were refused.
fn closed_loop(settings: &Settings, work: impl Fn(usize, usize) -> BenchResult<bool> + Sync) -> BenchResult<Value> {
    let deadline = Instant::now() + Duration::from_secs(settings.seconds);
    let started = Instant::now();
    let work = &work;
    let results: Vec<BenchResult<(Histogram<u64>, u64)>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..settings.concurrency)
            .map(|thread| {
                scope.spawn(move || -> BenchResult<(Histogram<u64>, u64)> {
                    let mut latency = Histogram::<u64>::new(3)?;
                    let mut refused = 0;
                    let mut sent = 0;
                    while Instant::now() < deadline {
                        let began = Instant::now();
                        if !work(thread, sent)? {
                            refused += 1;
                        }
                        latency.record(began.elapsed().as_micros() as u64)?;
                        sent += 1;
                    }
                    Ok((latency, refused))
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap_or_else(|_| Err("a bench thread panicked".into())))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latency = Histogram::<u64>::new(3)?;
    let mut refused = 0;
    for result in results {
        let (histogram, thread_refused) = result?;
        latency.add(histogram)?;
        refused += thread_refused;
    }
    Ok(json!({
        "requests": latency.len(),
        "requests_per_second": latency.len() as f64 / elapsed,
        "latency_ms": latency_ms(&latency),
        "refused": refused,
    }))
}

/// SQLite's own yardstick, as pgbench is PostgreSQL's: pgbench's TPC-B-like transaction
/// (three updates, a select and an insert) on its scale-10 tables (1,000,000 accounts) in
/// a scratch database, through the same store, group commit and prepared statements as
/// the server, from as many threads as the ceiling.
fn sqlite_tpcb(settings: &Settings) -> BenchResult<Value> {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    use kks_api::store::cached_sql::{bind, cached_sql};
    const ACCOUNTS: i64 = 1_000_000;
    const TELLERS: i64 = 100;
    const BRANCHES: i64 = 10;

    let folder = tempfile::tempdir()?;
    let options = StoreOptions {
        url: DatabaseUrl::parse(&folder.path().join("tpcb.sqlite").display().to_string())?,
        postgres_pool_size: kks_api::store::POSTGRES_POOL_SIZE_DEFAULT,
        sqlite_group_commit: true,
        sqlite_wal_max_bytes: kks_api::store::SQLITE_WAL_MAX_MB_DEFAULT * 1024 * 1024,
    };
    let store = Store::open(&options)?;
    store.write(|tx| {
        execute(
            tx,
            &format!(
                "CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER NOT NULL, filler TEXT);
                 CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, tbalance INTEGER NOT NULL, filler TEXT);
                 CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, abalance INTEGER NOT NULL, filler TEXT);
                 CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TIMESTAMP, filler TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ACCOUNTS})
                 INSERT INTO pgbench_accounts SELECT i, (i - 1) / 100000 + 1, 0, printf('%84s', '') FROM n;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {TELLERS})
                 INSERT INTO pgbench_tellers SELECT i, (i - 1) / 10 + 1, 0, NULL FROM n;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {BRANCHES})
                 INSERT INTO pgbench_branches SELECT i, 0, NULL FROM n;"
            ),
        )
    })?;
    let mut figures = closed_loop(settings, |_, _| {
        let (aid, tid, bid) =
            (rand::random_range(1..=ACCOUNTS), rand::random_range(1..=TELLERS), rand::random_range(1..=BRANCHES));
        let delta = rand::random_range(-5000..=5000_i64);
        store.write(|tx| -> Result<(), kks_api::store::StoreError> {
            let Tx::Sqlite(connection) = tx else { return Ok(()) };
            cached_sql(
                "UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?",
                (bind::<BigInt, _>(delta), bind::<BigInt, _>(aid)),
            )
            .execute(*connection)?;
            #[derive(diesel::QueryableByName)]
            struct Balance {
                #[diesel(sql_type = BigInt)]
                _abalance: i64,
            }
            cached_sql("SELECT abalance AS _abalance FROM pgbench_accounts WHERE aid = ?", (bind::<BigInt, _>(aid),))
                .get_result::<Balance>(*connection)?;
            cached_sql(
                "UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?",
                (bind::<BigInt, _>(delta), bind::<BigInt, _>(tid)),
            )
            .execute(*connection)?;
            cached_sql(
                "UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?",
                (bind::<BigInt, _>(delta), bind::<BigInt, _>(bid)),
            )
            .execute(*connection)?;
            cached_sql(
                "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)",
                (bind::<BigInt, _>(tid), bind::<BigInt, _>(bid), bind::<BigInt, _>(aid), bind::<BigInt, _>(delta)),
            )
            .execute(*connection)?;
            Ok(())
        })?;
        Ok(true)
    })?;
    figures["mode"] = json!("TPC-B-like, grouped");
    Ok(figures)
}

/// The published anchor the goals are set against, measured here: pgbench's TPC-B-like
/// transaction (three updates, a select and an insert, one commit), prepared, from as
/// many clients as the ceiling has threads, in a scratch database of scale 10. Latency
/// comes from pgbench's per-transaction log.
fn pgbench(settings: &Settings, admin: &str) -> BenchResult<Value> {
    let name = format!("kks_bench_{}_pgbench", std::process::id());
    let mut connection = diesel::PgConnection::establish(admin)?;
    connection.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    connection.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = admin.rsplit_once('/').ok_or("admin URL")?;
    let url = format!("{base}/{name}");
    let logs = tempfile::tempdir()?;
    let prefix = logs.path().join("pgbench_log");
    let run = |args: &[&str]| -> BenchResult<String> {
        let output = Command::new("pgbench")
            .args(args)
            .arg(&url)
            .output()
            .map_err(|error| format!("pgbench (Debian's postgresql-client) could not be started: {error}"))?;
        if !output.status.success() {
            return Err(format!("pgbench failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let measured = run(&["-i", "-q", "-s", "10"]).and_then(|_| {
        let (clients, seconds) = (settings.concurrency.to_string(), settings.seconds.to_string());
        let prefix = prefix.to_string_lossy();
        run(&["-c", &clients, "-j", "2", "-T", &seconds, "-M", "prepared", "-l", "--log-prefix", &prefix])
    });
    connection.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    let summary = measured?;
    let tps: f64 = summary
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| format!("no tps in pgbench's summary: {summary}"))?;
    // Each log line: client, transaction, latency in µs, script, epoch seconds, µs.
    let mut latency = Histogram::<u64>::new(3)?;
    for log in std::fs::read_dir(logs.path())? {
        for line in BufReader::new(std::fs::File::open(log?.path())?).lines() {
            if let Some(micros) = line?.split_whitespace().nth(2).and_then(|field| field.parse().ok()) {
                latency.record(micros)?;
            }
        }
    }
    Ok(json!({
        "mode": "pgbench TPC-B-like",
        "requests": latency.len(),
        "requests_per_second": tps,
        "latency_ms": latency_ms(&latency),
    }))
}

// --- Phase 2: the full path ------------------------------------------------------------

/// The credentials file `card-sim load` reads: the HTTP agents and the cardholders.
fn bench_credentials(demo: &DemoCredentials, cardholders: &[String], agents: std::ops::Range<usize>) -> Value {
    let agents: Vec<Value> = agents
        .map(|agent| {
            json!({ "username": agent_username(agent), "password": AGENT_PASSWORD,
                    "terminal_id": terminal_id(agent), "kind": "bank_agent" })
        })
        .collect();
    let families: Vec<Value> = cardholders
        .iter()
        .enumerate()
        .map(|(index, card)| json!({ "family_id": index, "village": VILLAGE, "card_number": card, "pin": CARDHOLDER_PIN }))
        .collect();
    json!({ "operators": demo.operators, "agents": agents, "families": families })
}

/// How `card-sim load` sends.
enum LoadPace<'a> {
    /// Each terminal sends when its last answer is in, for the phase's length; the ledger
    /// is checked at the end.
    ClosedLoop { database: &'a str },
    /// Withdrawals due at a fixed rate for this long; latency counted from when due.
    OpenLoop { rate: u64, seconds: u64 },
}

fn card_sim_load(settings: &Settings, server: &Server, credentials: &Path, pace: LoadPace<'_>) -> BenchResult<Value> {
    let mut command = Command::new(&settings.card_sim);
    command
        .args(["load", "--server", &server.url, "--json", "--no-progress", "--mix", "withdraw=1"])
        .args(["--wrong-pin-share", "0", "--retry-share", "0"])
        .args(["--concurrency", &settings.concurrency.to_string()])
        .arg("--credentials")
        .arg(credentials);
    match pace {
        LoadPace::ClosedLoop { database } => command
            .args(["--duration-secs", &settings.seconds.to_string(), "--database", database])
            .arg("--kks")
            .arg(&settings.kks),
        LoadPace::OpenLoop { rate, seconds } => {
            command.args(["--rate", &rate.to_string(), "--duration-secs", &seconds.to_string()])
        }
    };
    let output = command.stderr(Stdio::inherit()).output()?;
    let report: Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("card-sim load printed no report ({error}), exit {}", output.status))?;
    if !output.status.success() {
        eprintln!("  card-sim load was not clean: unexpected {}", report["unexpected"]);
    }
    Ok(report)
}

/// The highest open-loop rate the server keeps with p99 ≤ [`SWEEP_P99_MS_MAX`]: rising
/// shares of the closed loop's throughput ([`SWEEP_SHARES`]) until one misses, then
/// halving the gap between the last rate kept and the first missed. Each step runs half
/// a phase (at least 10 s) on terminals of its own. A closed loop hides a queue (each
/// terminal waits for its answer before it sends again); an open loop shows it.
fn open_loop_sweep(
    settings: &Settings,
    server: &Server,
    folder: &Path,
    (demo, cardholders): (&DemoCredentials, &[String]),
    closed_rate: f64,
) -> BenchResult<Value> {
    let seconds = (settings.seconds / 2).max(10);
    let mut steps = Vec::new();
    let mut run_step = |rate: u64| -> BenchResult<bool> {
        let step = steps.len();
        let first = SWEEP_AGENTS_FIRST + step * SWEEP_AGENTS_PER_STEP;
        let credentials = folder.join(format!("sweep-{step}.json"));
        let agents = bench_credentials(demo, cardholders, first..first + SWEEP_AGENTS_PER_STEP);
        std::fs::write(&credentials, serde_json::to_string(&agents)?)?;
        eprintln!("  open loop at {rate}/s …");
        let load = card_sim_load(settings, server, &credentials, LoadPace::OpenLoop { rate, seconds })?;
        let served = load["requests_per_second"].as_f64().unwrap_or(0.0);
        let p99 = load["latency_ms"]["p99"].as_f64().unwrap_or(f64::INFINITY);
        let kept = p99 <= SWEEP_P99_MS_MAX
            && served >= rate as f64 * SWEEP_SERVED_SHARE_MIN
            && load["unexpected"].as_object().is_some_and(serde_json::Map::is_empty);
        eprintln!("    served {served:.0}/s, latency {}, kept {kept}", load["latency_ms"]);
        steps.push(json!({ "rate": rate, "served_per_second": served, "latency_ms": load["latency_ms"],
                           "unexpected": load["unexpected"], "kept": kept }));
        Ok(kept)
    };
    let (mut kept, mut missed) = (0, None);
    for share in SWEEP_SHARES {
        let rate = ((closed_rate * share).round() as u64).max(1);
        if run_step(rate)? {
            kept = rate;
        } else {
            missed = Some(rate);
            break;
        }
    }
    for _ in 0..SWEEP_BISECTIONS {
        let Some(high) = missed else { break };
        let rate = (kept + high) / 2;
        if rate <= kept || rate >= high {
            break;
        }
        if run_step(rate)? {
            kept = rate;
        } else {
            missed = Some(rate);
        }
    }
    Ok(json!({
        "p99_ms_max": SWEEP_P99_MS_MAX,
        "seconds_per_step": seconds,
        "highest_rate": (kept > 0).then_some(kept),
        "first_missed_rate": missed,
        "steps": steps,
    }))
}

/// How long an approved withdrawal takes to appear in `/v1/monitoring/overview` while the
/// HTTP phase runs: every half second, the withdrawals the journal holds are counted in
/// the database (a read), and the national overview is asked every 50 ms until its cash
/// withdrawn counts as many.
fn dashboard_lag_probe(
    server: &Server,
    database: &str,
    demo: &DemoCredentials,
    running: Arc<AtomicBool>,
) -> BenchResult<std::thread::JoinHandle<BenchResult<Histogram<u64>>>> {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let admin = demo.operators.iter().find(|operator| operator.region.is_none()).ok_or("the demo's national admin")?;
    let token = token(http.post(format!("{}/v1/auth/operators/login", server.url)).json(&json!({
        "username": admin.username, "password": admin.password })))?;
    let (overview_url, url) = (format!("{}/v1/monitoring/overview", server.url), DatabaseUrl::parse(database)?);
    Ok(std::thread::spawn(move || {
        let mut lags = Histogram::<u64>::new(3)?;
        let shown = || -> BenchResult<i64> {
            let overview: Value = http.get(&overview_url).bearer_auth(&token).send()?.error_for_status()?.json()?;
            let pockets = overview["figures"]["pockets"].as_array().ok_or("pockets")?;
            let savings = pockets.iter().find(|pocket| pocket["pocket"] == "savings").ok_or("savings")?;
            Ok(savings["withdrawn_in_cash"]["entries"].as_i64().ok_or("entries")?)
        };
        while running.load(Ordering::Relaxed) {
            let committed = committed_withdrawals(&url)?;
            let began = Instant::now();
            while shown()? < committed && running.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if running.load(Ordering::Relaxed) {
                lags.record(began.elapsed().as_micros() as u64)?;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(lags)
    }))
}

/// Cash withdrawals in the journal, net of reversals (as the figures count entries).
fn committed_withdrawals(url: &DatabaseUrl) -> BenchResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        entries: i64,
    }
    let sql = "SELECT CAST(COALESCE(SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END), 0) AS BIGINT) AS entries
               FROM journals j LEFT JOIN journals o ON o.id = j.reverses_journal_id
               WHERE COALESCE(o.kind, j.kind) = 'cash_withdrawal'";
    let rows: Vec<Count> = match url.backend() {
        kks_api::store::Backend::Sqlite => diesel::RunQueryDsl::load(
            diesel::sql_query(sql),
            &mut diesel::SqliteConnection::establish(url.location())?,
        )?,
        kks_api::store::Backend::Postgres => {
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut diesel::PgConnection::establish(url.location())?)?
        }
    };
    Ok(rows.first().map_or(0, |row| row.entries))
}

/// The database's size in bytes: SQLite's pages as its connections see them (the WAL's
/// included), PostgreSQL's `pg_database_size` (dead rows included until a vacuum).
fn database_bytes(url: &str) -> BenchResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Bytes {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    let url = DatabaseUrl::parse(url)?;
    let rows: Vec<Bytes> = match url.backend() {
        kks_api::store::Backend::Sqlite => diesel::RunQueryDsl::load(
            diesel::sql_query(
                "SELECT CAST(p.page_count * s.page_size AS BIGINT) AS bytes FROM pragma_page_count() p, pragma_page_size() s",
            ),
            &mut diesel::SqliteConnection::establish(url.location())?,
        )?,
        kks_api::store::Backend::Postgres => diesel::RunQueryDsl::load(
            diesel::sql_query("SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS bytes"),
            &mut diesel::PgConnection::establish(url.location())?,
        )?,
    };
    Ok(rows.first().map_or(0, |row| row.bytes))
}

/// Full path against the ceiling: throughput and latency ratios.
fn ratios(full_path: &Value, ceiling: &Value) -> Value {
    let ratio = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) if b > 0.0 => json!((a / b * 100.0).round() / 100.0),
        _ => Value::Null,
    };
    json!({
        "throughput": ratio(&full_path["requests_per_second"], &ceiling["requests_per_second"]),
        "p50": ratio(&full_path["latency_ms"]["p50"], &ceiling["latency_ms"]["p50"]),
        "p99": ratio(&full_path["latency_ms"]["p99"], &ceiling["latency_ms"]["p99"]),
    })
}

// --- Phase 3: a national stage ---------------------------------------------------------

fn stage(
    settings: &Settings,
    database: &BenchDatabase,
    demo: &DemoCredentials,
    cardholders: &[String],
) -> BenchResult<Value> {
    let server = Server::start(settings, &database.url)?;
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(600)).build()?;
    // The bench's families live in Jawa Barat; its operator prepares, its supervisor approves.
    let login = |role: OperatorRole| -> BenchResult<String> {
        let operator = demo
            .operators
            .iter()
            .find(|operator| operator.role == role && operator.region.as_deref() == Some(PROVINCE))
            .ok_or("an operator of the demo's Jawa Barat")?;
        token(http.post(format!("{}/v1/auth/operators/login", server.url)).json(&json!({
            "username": operator.username, "password": operator.password })))
    };
    let (operator, supervisor) = (login(OperatorRole::Operator)?, login(OperatorRole::Supervisor)?);
    // Terminals of their own, outside card-sim's, so their STANs are their own; several,
    // so that none reaches its daily cash limit.
    let probes: Vec<String> = (CEILING_AGENTS + HTTP_AGENTS..CEILING_AGENTS + HTTP_AGENTS + PROBE_AGENTS)
        .map(|probe| {
            token(http.post(format!("{}/v1/auth/agents/login", server.url)).json(&json!({
                "username": agent_username(probe), "password": AGENT_PASSWORD, "terminal_id": terminal_id(probe) })))
        })
        .collect::<BenchResult<_>>()?;

    let running = Arc::new(AtomicBool::new(true));
    let probe = {
        let (http, url, running, cardholders) =
            (http.clone(), server.url.clone(), Arc::clone(&running), cardholders.to_vec());
        std::thread::spawn(move || -> BenchResult<(Histogram<u64>, Histogram<u64>)> {
            let mut before = Histogram::<u64>::new(3)?;
            let mut during = Histogram::<u64>::new(3)?;
            let started = Instant::now();
            let mut sent = 0;
            while running.load(Ordering::Relaxed) {
                sent += 1;
                let (agent, stan) = (probes.get(sent % PROBE_AGENTS).ok_or("probe")?, sent / PROBE_AGENTS + 1);
                let card = cardholders.get(sent % cardholders.len()).ok_or("card")?;
                let began = Instant::now();
                let answer = http
                    .post(format!("{url}/v1/edc/cash-withdrawals"))
                    .bearer_auth(agent)
                    .header("idempotency-key", format!("probe-{stan}"))
                    .json(&json!({ "card": { "card_number": card }, "pin": CARDHOLDER_PIN,
                                   "stan": format!("{stan:06}"), "amount": WITHDRAWAL_RUPIAH.to_string(),
                                   "transmitted_at": TransmittedAt::in_wib(chrono::Utc::now().naive_utc()) }))
                    .send()?;
                if !answer.status().is_success() {
                    return Err(format!("probe withdrawal refused: {}", answer.text()?).into());
                }
                let elapsed = began.elapsed().as_micros() as u64;
                if started.elapsed() < STAGE_BASELINE {
                    before.record(elapsed)?
                } else {
                    during.record(elapsed)?
                }
            }
            Ok((before, during))
        })
    };
    std::thread::sleep(STAGE_BASELINE);
    let lag = dashboard_lag_probe(&server, &database.url, demo, Arc::clone(&running))?;

    let began = Instant::now();
    let prepared: Value = http
        .post(format!("{}/v1/disbursements", server.url))
        .bearer_auth(&operator)
        .json(&json!({ "programme": "pkh", "year": 2017, "period": 2, "region": PROVINCE }))
        .send()?
        .error_for_status()?
        .json()?;
    let prepare = began.elapsed();
    let batch = prepared["batch"]["id"].as_i64().ok_or("a batch id")?;
    let families = prepared["batch"]["lines_total"].as_i64().ok_or("lines_total")?;
    http.post(format!("{}/v1/disbursements/{batch}/approve", server.url))
        .bearer_auth(&supervisor)
        .send()?
        .error_for_status()?;
    let began = Instant::now();
    http.post(format!("{}/v1/disbursements/{batch}/execute", server.url))
        .bearer_auth(&operator)
        .send()?
        .error_for_status()?;
    let view = loop {
        std::thread::sleep(Duration::from_millis(200));
        let view: Value = http
            .get(format!("{}/v1/disbursements/{batch}", server.url))
            .bearer_auth(&operator)
            .send()?
            .error_for_status()?
            .json()?;
        if view["batch"]["status"] == "completed" || view["pending_lines"] == 0 {
            break view;
        }
    };
    let execute = began.elapsed();
    running.store(false, Ordering::Relaxed);
    let (before, during) = probe.join().map_err(|_| "the probe panicked")??;
    let lag = lag.join().map_err(|_| "the dashboard probe panicked")??;
    let memory = server.stop()?;
    let ledger_clean = verify_ledger(settings, &database.url)?;
    Ok(json!({
        "families": families,
        "paid_lines": view["paid_lines"],
        "failed_lines": view["failed_lines"],
        "prepare_seconds": prepare.as_secs_f64(),
        "execute_seconds": execute.as_secs_f64(),
        "families_per_second": families as f64 / execute.as_secs_f64(),
        "card_before_ms": latency_ms(&before),
        "card_during_ms": latency_ms(&during),
        "card_p99_during_over_before": latency_ms(&during)["p99"].as_f64().unwrap_or(0.0)
            / latency_ms(&before)["p99"].as_f64().unwrap_or(1.0).max(0.001),
        "server_peak_memory_mb": memory,
        "dashboard_lag_ms": latency_ms(&lag),
        "ledger_clean": ledger_clean,
    }))
}

fn token(request: reqwest::blocking::RequestBuilder) -> BenchResult<String> {
    let answer: Value = request.send()?.error_for_status()?.json()?;
    Ok(answer["access_token"].as_str().ok_or("an access token")?.to_owned())
}

fn verify_ledger(settings: &Settings, database: &str) -> BenchResult<bool> {
    Ok(Command::new(&settings.kks)
        .args(["--database", database, "verify-ledger"])
        .stdout(Stdio::null())
        .status()?
        .success())
}

// --- The server -------------------------------------------------------------------------

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(settings: &Settings, database: &str) -> BenchResult<Self> {
        let mut child = Command::new(&settings.kks)
            .args(["--database", database, "serve", "--bind", "127.0.0.1:0", "--no-demo"])
            .args(["--login-attempts-per-minute", "100000"])
            .env("KKS_JWT_SECRET", JWT_SECRET)
            .env("KKS_PIN_KEY", PIN_KEY)
            .env("KKS_ISSUER_KEY", ISSUER_KEY_HEX)
            .env("KKS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().ok_or("the server stopped before listening")??;
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep reading what the server prints, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, url })
    }

    /// Stops the server; its peak resident memory in MB.
    fn stop(self) -> BenchResult<f64> {
        self.peak_memory_mb()
    }

    /// The server's peak resident memory so far (VmHWM), in MB.
    fn peak_memory_mb(&self) -> BenchResult<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let peak_kb: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("VmHWM")?;
        Ok((peak_kb / 1024.0).round())
    }
}

/// A run that fails half-way leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- Data --------------------------------------------------------------------------------

struct BenchDatabase {
    backend: String,
    url: String,
    /// The SQLite file's folder, removed at the end.
    _folder: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl BenchDatabase {
    fn create(backend: &str) -> BenchResult<Self> {
        let folder = tempfile::tempdir()?;
        let (url, postgres) = match backend {
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
        Ok(Self { backend: backend.to_owned(), url, _folder: folder, postgres })
    }

    /// A store as the server opens one (`grouped`: SQLite group commit).
    fn store(&self, grouped: bool) -> BenchResult<Store> {
        let options = StoreOptions {
            url: DatabaseUrl::parse(&self.url)?,
            postgres_pool_size: kks_api::store::POSTGRES_POOL_SIZE_DEFAULT,
            sqlite_group_commit: grouped,
            sqlite_wal_max_bytes: kks_api::store::SQLITE_WAL_MAX_MB_DEFAULT * 1024 * 1024,
        };
        Ok(Store::open(&options)?)
    }

    fn drop_postgres(&self) -> BenchResult<()> {
        if let Some((admin, name)) = &self.postgres {
            diesel::PgConnection::establish(admin)?
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        }
        Ok(())
    }
}

fn agent_username(index: usize) -> String {
    format!("agen.bench.{index}")
}

fn terminal_id(index: usize) -> String {
    format!("TB{index:06}")
}

/// Agents are loaded after the demo's, in order.
fn agent_id(index: usize) -> i64 {
    BENCH_AGENT_ID_BASE + index as i64
}

const BENCH_AGENT_ID_BASE: i64 = 1_000;

fn load_agents(store: &Store) -> BenchResult<()> {
    let hash = passwords::hash(&Password::parse(AGENT_PASSWORD.to_owned()).ok_or("password")?)?;
    let indices: Vec<usize> = (0..SWEEP_AGENTS_FIRST + SWEEP_STEPS_MAX * SWEEP_AGENTS_PER_STEP).collect();
    for chunk in indices.chunks(ROWS_PER_INSERT) {
        let agents: Vec<String> = chunk
            .iter()
            .map(|&index| {
                format!(
                    "({}, '{}', 'Agen {index}', 'bank_agent', 'bri', '{VILLAGE}', '{hash}', {AGENT_TOKEN_VERSION}, '2026-01-01 00:00:00')",
                    agent_id(index),
                    agent_username(index)
                )
            })
            .collect();
        let terminals: Vec<String> = chunk
            .iter()
            .map(|&index| format!("('{}', {}, 'active', '2026-01-01 00:00:00')", terminal_id(index), agent_id(index)))
            .collect();
        let sql = format!(
            "INSERT INTO agents (id, username, display_name, kind, bank, village_code, password_hash, token_version, created_at) VALUES {};
             INSERT INTO terminals (id, agent_id, status, created_at) VALUES {};",
            agents.join(","),
            terminals.join(",")
        );
        store.write(|tx| execute(tx, &sql))?;
    }
    Ok(())
}

/// Families with an active card (PIN [`CARDHOLDER_PIN`]) and funded savings; their card numbers.
fn load_cardholders(store: &Store, pin_key: &PinKey) -> BenchResult<Vec<String>> {
    let pin = Pin::parse(CARDHOLDER_PIN)?;
    let cards: Vec<String> = (0..CARDHOLDERS)
        .map(|index| CardNumber::issue(Bank::Bri, 700_000_000 + index as u64).map(|card| card.as_str().to_owned()))
        .collect::<Result<_, _>>()?;
    let first_family = load_families(store, "8", CARDHOLDERS)?;
    let savings_minor = CARDHOLDER_SAVINGS_RUPIAH * 100;
    for (chunk_index, chunk) in cards.chunks(ROWS_PER_INSERT).enumerate() {
        let family = |offset: usize| first_family + (chunk_index * ROWS_PER_INSERT + offset) as i64;
        let card_rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(offset, card)| {
                format!(
                    "('{card}', {}, 'bri', 1, 'active', '2031-12-31', '2026-01-01 00:00:00', '{}', 0)",
                    family(offset),
                    pin_key.verification_value(card, &pin)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO cards (card_number, family_id, bank, sequence, status, expires_on, issued_at, pin_hash, pin_failed_attempts) VALUES {};
             INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
               SELECT 'family', CAST(id AS TEXT), 'savings', 'open', {savings_minor}, 0, created_at FROM families
               WHERE id BETWEEN {} AND {};",
            card_rows.join(","),
            family(0),
            family(chunk.len() - 1),
        );
        store.write(|tx| execute(tx, &sql))?;
    }
    // One journal funds them all from the treasury, so every balance equals its postings.
    let total = savings_minor * CARDHOLDERS as i64;
    store.write(|tx| {
        execute(
            tx,
            &format!(
                "INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
                   SELECT 'system', 'treasury', 'treasury', 'open', 0, 0, '2026-01-01 00:00:00'
                   WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE owner_kind = 'system' AND kind = 'treasury');
                 UPDATE accounts SET balance_minor = balance_minor - {total} WHERE owner_kind = 'system' AND kind = 'treasury';
                 INSERT INTO journals (kind, reference, memo, posted_at) VALUES ('disbursement', 'bench-savings', 'benchmark opening balances', '2026-01-01 00:00:00');
                 INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor)
                   SELECT j.id, a.id, a.balance_minor, a.balance_minor FROM journals j, accounts a
                   WHERE j.reference = 'bench-savings' AND a.kind = 'savings' AND a.owner_kind = 'family'
                     AND CAST(a.owner_id AS BIGINT) >= {first_family};
                 INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor)
                   SELECT j.id, a.id, -{total}, a.balance_minor FROM journals j, accounts a
                   WHERE j.reference = 'bench-savings' AND a.owner_kind = 'system' AND a.kind = 'treasury';"
            ),
        )
    })?;
    Ok(cards)
}

/// Regular, active families in the demo village, by bulk SQL; the first one's id.
/// `nik_prefix` keeps each call's NIKs apart.
fn load_families(store: &Store, nik_prefix: &str, count: usize) -> BenchResult<i64> {
    let first: i64 = store.read(|tx| -> Result<i64, kks_api::store::StoreError> {
        use diesel::dsl::max;
        use diesel::prelude::*;
        use kks_api::store::schema::families;
        let last: Option<i64> = match tx {
            Tx::Sqlite(connection) => families::table.select(max(families::id)).first(*connection)?,
            Tx::Postgres(connection) => families::table.select(max(families::id)).first(*connection)?,
        };
        Ok(last.unwrap_or(0) + 1)
    })?;
    for start in (0..count).step_by(ROWS_PER_INSERT) {
        let rows: Vec<String> = (start..(start + ROWS_PER_INSERT).min(count))
            .map(|index| {
                format!("({}, '320412620{nik_prefix}{index:06}', 'Keluarga {index}', 'Kp. Uji', '{VILLAGE}', 'regular', 'active', 0, '2026-01-01 00:00:00')",
                    first + index as i64)
            })
            .collect();
        let sql = format!(
            "INSERT INTO families (id, nik, recipient_name, address, village_code, category, status, token_version, created_at) VALUES {};",
            rows.join(",")
        );
        store.write(|tx| execute(tx, &sql))?;
    }
    Ok(first)
}

/// The stage's families, each with a PKH e-wallet.
fn load_stage_families(store: &Store, count: usize) -> BenchResult<()> {
    let started = Instant::now();
    load_families(store, "9", count)?;
    store.write(|tx| {
        execute(
            tx,
            "INSERT INTO accounts (owner_kind, owner_id, kind, status, balance_minor, held_minor, opened_at)
             SELECT 'family', CAST(f.id AS TEXT), 'wallet_pkh', 'open', 0, 0, f.created_at FROM families f
             WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.owner_kind = 'family' AND a.owner_id = CAST(f.id AS TEXT) AND a.kind = 'wallet_pkh')",
        )
    })?;
    // As after any bulk import on PostgreSQL: fresh statistics, or the planner still sees
    // the empty tables (autovacuum would get there within a minute or so).
    if store.backend() == kks_api::store::Backend::Postgres {
        store.write(|tx| execute(tx, "ANALYZE"))?;
    }
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

// --- Report ------------------------------------------------------------------------------

fn latency_ms(histogram: &Histogram<u64>) -> Value {
    let ms = |microseconds: u64| (microseconds as f64 / 10.0).round() / 100.0;
    json!({
        "p50": ms(histogram.value_at_quantile(0.5)),
        "p99": ms(histogram.value_at_quantile(0.99)),
        "p99_9": ms(histogram.value_at_quantile(0.999)),
        "max": ms(histogram.max()),
        "count": histogram.len(),
    })
}

fn print_table(report: &Value) {
    let empty = Vec::new();
    println!(
        "\n{:<9} {:<22} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}",
        "backend", "phase", "req/s", "p50 ms", "p99 ms", "p99.9", "max", "× each", "peak MB"
    );
    for backend in report["backends"].as_array().unwrap_or(&empty) {
        let name = backend["backend"].as_str().unwrap_or("?");
        let row = |phase: &str, figures: &Value, ratio: &Value, memory: &Value| {
            let number = |value: &Value| value.as_f64().map_or("–".to_owned(), |v| format!("{v:.2}"));
            println!(
                "{name:<9} {phase:<22} {:>10.0} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}",
                figures["requests_per_second"].as_f64().unwrap_or(0.0),
                number(&figures["latency_ms"]["p50"]),
                number(&figures["latency_ms"]["p99"]),
                number(&figures["latency_ms"]["p99_9"]),
                number(&figures["latency_ms"]["max"]),
                number(ratio),
                memory.as_f64().map_or("–".to_owned(), |mb| format!("{mb:.0}")),
            );
        };
        for ceiling in backend["ceiling"].as_array().unwrap_or(&empty) {
            row(&format!("ceiling, {}", ceiling["mode"].as_str().unwrap_or("?")), ceiling, &Value::Null, &Value::Null);
        }
        let reference = &backend["reference"];
        if !reference.is_null() {
            row("TPC-B-like reference", reference, &Value::Null, &Value::Null);
        }
        let full = &backend["full_path"];
        if !full.is_null() {
            row(
                "HTTP withdrawals",
                full,
                &full["ratio_to_ceiling"]["each"]["throughput"],
                &full["server_peak_memory_mb"],
            );
        }
        if !full.is_null() {
            println!(
                "{name:<9} dashboard lag (approved withdrawal → overview) during the HTTP phase: p50 {} ms, p99 {} ms, max {} ms ({} probes)",
                full["dashboard_lag_ms"]["p50"], full["dashboard_lag_ms"]["p99"], full["dashboard_lag_ms"]["max"],
                full["dashboard_lag_ms"]["count"],
            );
            println!(
                "{name:<9} database growth during the HTTP phase: {} bytes per approved withdrawal",
                full["database_bytes_per_approved_withdrawal"],
            );
        }
        if let Some(steps) = full["open_loop"]["steps"].as_array() {
            for step in steps {
                let figures =
                    json!({ "requests_per_second": step["served_per_second"], "latency_ms": step["latency_ms"] });
                let kept = if step["kept"] == true { "kept" } else { "missed" };
                row(&format!("open loop {}/s {kept}", step["rate"]), &figures, &Value::Null, &Value::Null);
            }
            println!(
                "{name:<9} highest open-loop rate with p99 ≤ {} ms: {}/s ({}× the reference)",
                full["open_loop"]["p99_ms_max"],
                full["open_loop"]["highest_rate"],
                full["open_loop_highest_rate_to_reference"],
            );
        }
        let stage = &backend["stage"];
        if !stage.is_null() {
            println!(
                "{name:<9} stage: {} families, prepare {:.1} s, execute {:.1} s ({:.0}/s); card p99 {} → {} ms; peak {} MB; ledger clean {}",
                stage["families"],
                stage["prepare_seconds"].as_f64().unwrap_or(0.0),
                stage["execute_seconds"].as_f64().unwrap_or(0.0),
                stage["families_per_second"].as_f64().unwrap_or(0.0),
                stage["card_before_ms"]["p99"],
                stage["card_during_ms"]["p99"],
                stage["server_peak_memory_mb"],
                stage["ledger_clean"],
            );
            println!(
                "{name:<9} dashboard lag during the stage: p50 {} ms, p99 {} ms, max {} ms ({} probes)",
                stage["dashboard_lag_ms"]["p50"],
                stage["dashboard_lag_ms"]["p99"],
                stage["dashboard_lag_ms"]["max"],
                stage["dashboard_lag_ms"]["count"],
            );
        }
    }
}
