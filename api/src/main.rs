//! `kks`: the KKS server and its operator commands.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use kks_api::config::{AdminCommand, Cli, Command, ImportCommand, KeyKind, KeysCommand, LogFormat, Secrets, ServeArgs};
use kks_api::http::auth::AttemptLimiter;
use kks_api::http::{self, metrics::Metrics, AppState};
use kks_api::service::auth::Auth;
use kks_api::service::imports::{self, FileKind, Importer};
use kks_api::service::key_rotation::{self, ConfiguredKeys};
use kks_api::service::operators::NewAdmin;
use kks_api::service::writer_wait::{when_the_writer_is_free, WRITER_WAIT_MAX};
use kks_api::service::{self, seed::DemoCredentials};
use kks_api::store::{Store, StoreOptions};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_)) {
        restart_with_bounded_malloc_arenas();
    }
    init_logging(cli.log_format);
    match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kks: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives each thread that finds the allocator busy an arena of its own (up to eight
/// per core) and keeps what was freed in each. During a 200,000-family stage the server
/// peaked at 199–230 MB that way and at 84–103 MB with two arenas, at the same speed
/// (README, Performance; mimalloc instead was slower here and no smaller).
/// glibc reads the setting only as a process starts, so the server starts itself again
/// with it, once; a setting given by the operator is kept.
fn restart_with_bounded_malloc_arenas() {
    const ARENAS: (&str, &str) = ("MALLOC_ARENA_MAX", "2");
    if std::env::var_os(ARENAS.0).is_some() {
        return;
    }
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => return eprintln!("kks: carrying on with glibc's default arenas: {error}"),
    };
    // Only returns if the new image could not be started.
    let error = std::process::Command::new(program).args(std::env::args_os().skip(1)).env(ARENAS.0, ARENAS.1).exec();
    eprintln!("kks: carrying on with glibc's default arenas: {error}");
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let options = cli.store_options().context("reading --database")?;
    match &cli.command {
        Command::Serve(args) => {
            anyhow::ensure!(
                !(cli.production && args.test_clock),
                "--test-clock is for tests, never in production mode"
            );
            let secrets = cli.secrets().context("reading the secrets")?;
            let store = open_migrated(&options)?;
            if !cli.production && !args.no_demo && service::seed::is_fresh(&store)? {
                seed_demo(&store, &secrets, &args.demo_credentials)?;
            }
            serve(store, cli, &secrets, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open_migrated(&options)?;
            println!("database {} is up to date", options.url);
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed(args) => {
            anyhow::ensure!(!cli.production, "demo data is never seeded in production mode");
            let secrets = cli.secrets().context("reading the secrets")?;
            let store = open_migrated(&options)?;
            anyhow::ensure!(service::seed::is_fresh(&store)?, "the database already has users; seed a fresh one");
            seed_demo(&store, &secrets, &args.credentials)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi { output } => {
            let document = http::openapi::document_json().context("generating the OpenAPI document")?;
            match output {
                Some(path) => std::fs::write(path, document).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{document}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Create { username, display_name }) => {
            let store = open_migrated(&options)?;
            let password = read_new_password().context("reading the password")?;
            let new = NewAdmin {
                username: username.clone(),
                display_name: display_name.clone().unwrap_or_else(|| username.clone()),
                password,
            };
            let admin = when_the_writer_is_free(|| service::operators::create_admin(&store, &new), say_waiting)
                .context("creating the admin")?;
            println!(
                "national admin {:?} created (operator {}); log in with POST /v1/auth/operators/login",
                admin.username, admin.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(command) => run_keys(cli, &options, command),
        Command::Import(command) => {
            let (kind, file) = match command {
                ImportCommand::Regions { file } => (FileKind::Regions, file),
                ImportCommand::Families { file } => (FileKind::Families, file),
            };
            let store = open_migrated(&options)?;
            import_file(&store, kind, file)
        }
        Command::VerifyLedger { json } => {
            let store = Store::open(&options).with_context(|| format!("opening the database {}", options.url))?;
            let report = service::ledger_check::verify_ledger(&store).context("verifying the ledger")?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "checked {} accounts, {} journals, {} postings, {} active holds",
                    report.accounts, report.journals, report.postings, report.active_holds
                );
                for discrepancy in &report.discrepancies {
                    println!("DISCREPANCY {}", serde_json::to_string(discrepancy)?);
                }
                if report.is_clean() {
                    println!("ledger OK: every balance equals its postings, every journal sums to zero");
                } else {
                    println!("ledger BROKEN: {} discrepancies", report.discrepancy_count);
                }
            }
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

fn run_keys(cli: &Cli, options: &StoreOptions, command: &KeysCommand) -> anyhow::Result<ExitCode> {
    let secrets = cli.secrets().context("reading the secrets")?;
    match command {
        KeysCommand::Generate { kind } => {
            let (new, variable) = match kind {
                KeyKind::Issuer => (key_rotation::new_issuer_key(), "KKS_ISSUER_KEYS"),
                KeyKind::Jwt => (key_rotation::new_versioned_key(secrets.jwt_secrets.ids())?, "KKS_JWT_KEYS"),
                KeyKind::Pin => (key_rotation::new_versioned_key(secrets.pin_secrets.ids())?, "KKS_PIN_KEYS"),
            };
            // The entry alone on standard output, for scripts; the guidance beside it.
            println!("{}", new.entry);
            eprintln!(
                "kks: new key {}: put it first in {variable}, before the keys in use, and restart every server \
                 (README, Going live, Key rotation)",
                new.key_id
            );
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Status { json } => {
            let store = open_migrated(options)?;
            let configured = ConfiguredKeys {
                issuer: secrets.issuer_keys.ids().cloned().collect(),
                jwt: secrets.jwt_secrets.ids().copied().collect(),
                pin: secrets.pin_secrets.ids().copied().collect(),
            };
            let status = key_rotation::status(&store, configured).context("reading the key status")?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("card issuer keys (the first signs new cards): {}", status.issuer_keys.join(", "));
                println!("token keys (the first signs new tokens): {}", listed(&status.jwt_keys));
                println!("PIN keys (the first keeps new PINs): {}", listed(&status.pin_keys));
                println!("active cards by the PIN key their PIN is kept under:");
                for usage in &status.active_cards_by_pin_key {
                    let note = if usage.configured {
                        ""
                    } else {
                        "  NOT CONFIGURED: refused until an operator resets the PIN"
                    };
                    println!("  version {}: {} cards{note}", usage.key_version, usage.active_cards);
                }
            }
            Ok(if status.cards_under_retired_pin_keys() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

fn listed(ids: &[impl ToString]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Refused lines printed at the end of `kks import`; the job shows them all.
const REJECTIONS_PRINTED_MAX: usize = 20;

/// `kks import`: the service's own import, in this process, with a progress bar.
fn import_file(store: &Store, kind: FileKind, file: &Path) -> anyhow::Result<ExitCode> {
    let importer = Importer::command_line();
    let started = when_the_writer_is_free(|| imports::start(store, &importer, kind, file), say_waiting)
        .with_context(|| format!("refused {}; nothing was imported", file.display()))?;
    let job = if started.to_run {
        let progress = ImportBar::new(started.job.lines_total);
        let job = imports::run(store, started.job.id, kind, &importer, file, &progress)
            .with_context(|| format!("importing {}", file.display()))?;
        progress.bar.finish_and_clear();
        job
    } else {
        println!("this file was imported already (import {}): nothing changed", started.job.id);
        started.job
    };
    println!(
        "import {} {}: {} lines, {} accepted, {} already present, {} refused",
        job.id, job.status, job.lines_total, job.accepted, job.already_present, job.rejected
    );
    for rejection in job.rejections.iter().take(REJECTIONS_PRINTED_MAX) {
        println!("  line {}: {} {}", rejection.line, rejection.code, rejection.reason);
    }
    if job.rejected > 0 {
        println!("every refused line: GET /v1/imports/{}?after=LINE", job.id);
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// The progress bar of `kks import` (hidden when the output is not a terminal).
struct ImportBar {
    bar: ProgressBar,
}

impl ImportBar {
    fn new(lines_total: i64) -> Self {
        let bar = ProgressBar::new(u64::try_from(lines_total).unwrap_or(0));
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} lines, {per_sec}, {eta} left  {msg}") {
            bar.set_style(style);
        }
        Self { bar }
    }
}

impl imports::Progress for ImportBar {
    fn chunk_written(&self, job: &imports::ImportView) {
        self.bar.set_position(u64::try_from(job.lines_done).unwrap_or(0));
        self.bar.set_message(format!("{} refused", job.rejected));
    }

    fn waiting_for_writer(&self, reason: &str) {
        self.bar.suspend(|| say_waiting(reason));
    }
}

/// What a command says while another process holds the SQLite write lock.
fn say_waiting(reason: &str) {
    eprintln!("kks: the database is busy ({reason}); waiting up to {} s", WRITER_WAIT_MAX.as_secs());
}

fn open_migrated(options: &StoreOptions) -> anyhow::Result<Store> {
    let store = Store::open(options).with_context(|| format!("opening the database {}", options.url))?;
    store.migrate().context("migrating the database")?;
    Ok(store)
}

fn seed_demo(store: &Store, secrets: &Secrets, credentials_path: &Path) -> anyhow::Result<()> {
    let credentials = service::seed::seed_demo(store, &secrets.pin_keys(), chrono::Utc::now().date_naive())
        .context("seeding the demo data")?;
    std::fs::write(credentials_path, serde_json::to_string_pretty(&credentials)? + "\n")
        .with_context(|| format!("writing {}", credentials_path.display()))?;
    print_demo_summary(&credentials, credentials_path);
    Ok(())
}

fn print_demo_summary(credentials: &DemoCredentials, path: &Path) {
    println!("demo data seeded; credentials written to {}", path.display());
    for operator in &credentials.operators {
        let region = operator.region.as_deref().unwrap_or("national");
        println!("  operator {:<18} password {}  ({}, {region})", operator.username, operator.password, operator.role);
    }
    for agent in &credentials.agents {
        println!("  agent    {:<18} password {}  (terminal {})", agent.username, agent.password, agent.terminal_id);
    }
    for family in &credentials.families {
        println!("  family   card {} PIN {}  ({})", family.card_number, family.pin, family.recipient_name);
    }
}

#[actix_web::main]
async fn serve(store: Store, cli: &Cli, secrets: &Secrets, args: &ServeArgs) -> anyhow::Result<()> {
    if secrets.development {
        tracing::warn!(
            "using the built-in development secrets: never expose this server; use --production in production"
        );
    }
    let auth = Auth::new(
        &secrets.jwt_secrets.map(|secret| secret.expose().as_bytes().to_vec()),
        secrets.pin_keys(),
        Duration::from_secs(u64::from(cli.access_token_minutes) * 60),
        Duration::from_secs(u64::from(cli.refresh_token_hours) * 3600),
    );
    let reports = match cli.reports_store_options(args)? {
        Some(options) => Store::open(&options).context("opening --reports-database")?,
        None => store.clone(),
    };
    let state = web::Data::new(AppState {
        store,
        reports,
        metrics: Metrics::new().context("registering metrics")?,
        auth,
        login_limiter: AttemptLimiter::per_minute(args.login_attempts_per_minute, args.trusted_proxies.clone()),
        cors_origins: args.cors_origins.clone(),
        card_issuer: Arc::clone(&secrets.issuer_keys),
        disbursement_chunk_lines: args.disbursement_chunk_lines,
        test_clock: args.test_clock,
        sms_webhook_secret: args.sms_webhook_secret.clone(),
    });
    if args.test_clock {
        kks_api::store::clock::make_manual();
        tracing::warn!("--test-clock: the ledger's clock stands still until PUT /test-clock moves it; for tests only");
    }
    // A disbursement interrupted by a crash or a restart carries on where it stopped.
    for batch_id in service::disbursements::unfinished(&state.store).context("finding unfinished disbursements")? {
        tracing::info!(batch_id, "resuming disbursement");
        service::disbursements::run_in_background(state.store.clone(), batch_id, args.disbursement_chunk_lines);
    }
    release_due_holds_in_background(state.store.clone());
    roll_up_journal_in_background(state.store.clone());
    let retention = service::retention::Retention::hours(args.idempotency_retention_hours)
        .context("--idempotency-retention-hours")?;
    purge_expired_answers_in_background(state.store.clone(), retention);
    let factory_state = state.clone();
    let mut server = HttpServer::new(move || http::app(factory_state.clone()));
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    let server = server.bind(&args.bind).with_context(|| format!("binding {}", args.bind))?;
    for address in server.addrs() {
        // Tests and scripts read this line to find a port chosen with `--bind …:0`.
        println!("listening on http://{address}");
    }
    tracing::info!(database = %state.store.url(), "kks serving");
    server.run().await.context("running the HTTP server")
}

/// How often holds whose release time has passed are ended (every view already counts
/// them free from that moment; ending them keeps the stored held totals and the audit
/// trail in step, and the number of due holds small).
const DUE_HOLD_RELEASE_INTERVAL: Duration = Duration::from_secs(5);

fn release_due_holds_in_background(store: Store) {
    repeat_in_background("release-due-holds", DUE_HOLD_RELEASE_INTERVAL, move || {
        match service::holds::release_due(&store) {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "ended holds whose release time had passed"),
            Err(error) => tracing::warn!(%error, "ending due holds failed; will try again"),
        }
        false
    });
}

/// How often the journal is rolled up into the dashboard's figures when it has caught up:
/// the figures trail an approved transaction by about this much (issue 22 asks ≤ 2 s).
const ROLLUP_INTERVAL: Duration = Duration::from_millis(200);

fn roll_up_journal_in_background(store: Store) {
    repeat_in_background("journal-rollup", ROLLUP_INTERVAL, move || {
        match service::monitoring::rollup::roll_up(&store) {
            Ok(pass) => return pass.more,
            Err(error) => {
                tracing::warn!(%error, "rolling the journal up into the dashboard's figures failed; will try again")
            }
        }
        false
    });
}

/// Runs `pass` on a thread of its own for as long as the process lives: again at once
/// when it says there is more to do, else after `interval`.
fn repeat_in_background(name: &str, interval: Duration, mut pass: impl FnMut() -> bool + Send + 'static) {
    let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || loop {
        if !pass() {
            std::thread::sleep(interval);
        }
    });
    if let Err(error) = spawned {
        tracing::error!(%error, thread = name, "could not start a background thread");
    }
}

/// Reads a new password twice: without echo from a terminal, one line each from a pipe
/// (scripts). Never printed.
fn read_new_password() -> anyhow::Result<String> {
    let (first, second) = if std::io::stdin().is_terminal() {
        (rpassword::prompt_password("New password: ")?, rpassword::prompt_password("Repeat the password: ")?)
    } else {
        let mut lines = std::io::stdin().lines();
        let mut next = || -> anyhow::Result<String> {
            lines.next().context("standard input ended: send the password on two lines")?.map_err(Into::into)
        };
        (next()?, next()?)
    };
    anyhow::ensure!(first == second, "the two passwords differ; nothing was created");
    Ok(first)
}

/// How often answers kept for retries are looked at for expiry.
const ANSWER_PURGE_INTERVAL: Duration = Duration::from_secs(5);

fn purge_expired_answers_in_background(store: Store, retention: service::retention::Retention) {
    repeat_in_background("purge-expired-answers", ANSWER_PURGE_INTERVAL, move || {
        match service::retention::purge_expired_answers(&store, retention) {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "deleted idempotency answers older than their retention"),
            Err(error) => tracing::warn!(%error, "deleting expired idempotency answers failed; will try again"),
        }
        false
    });
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("KKS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // One line per request when its span closes: request id, route, status, latency.
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::CLOSE).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
