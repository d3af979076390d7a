//! `load`: many simulated terminals at once against a server on this machine, then
//! throughput, latency percentiles, outcomes by code and a ledger check.
//!
//! Closed loop by default: each worker sends its next request when the previous answer is
//! in, so a slow server slows the senders and its queueing hides from the latency
//! (coordinated omission). With `--rate` the run is open loop: transaction `n` is due at
//! `start + n / rate` whether or not earlier answers are in, and its latency is counted
//! from when it was due, so time spent waiting for a free terminal counts too.

mod report;
mod worker;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kks_wire::auth::AgentKind;
use kks_wire::edc::PurchaseProgramme;
use serde::Deserialize;

use crate::api::{is_loopback, Session};
use crate::credentials::Credentials;
use crate::terminal::Terminal;
use crate::ServerArgs;

pub use report::Report;

/// The most workers (simulated terminals sending at once).
const CONCURRENCY_MAX: u64 = 64;

/// The most transactions of a `--count` run.
const COUNT_MAX: u64 = 100_000;

/// The longest run, in seconds; a `--count` run stops there too.
const DURATION_SECONDS_MAX: u64 = 3_600;

/// The highest open-loop rate, transactions per second.
const RATE_MAX: u64 = 100_000;

/// STANs a worker can use: the six-digit space shared out among the workers.
const STAN_SPACE: u32 = 999_999;

#[derive(Args)]
pub struct LoadArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The demo credentials file of the server (its agents, operators and families).
    #[arg(long)]
    credentials: PathBuf,
    /// The server's database, for `kks verify-ledger` at the end (sqlite://PATH or postgres://…).
    /// Without it the ledger is not checked.
    #[arg(long)]
    database: Option<String>,
    /// The `kks` binary that checks the ledger (default: `kks` next to this program).
    #[arg(long)]
    kks: Option<PathBuf>,
    /// Workers sending at once (1–64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=CONCURRENCY_MAX))]
    concurrency: u64,
    /// Stop after this many transactions (1–100000); retries come on top.
    #[arg(long, conflicts_with = "duration_secs", value_parser = clap::value_parser!(u64).range(1..=COUNT_MAX))]
    count: Option<u64>,
    /// Stop after this many seconds (1–3600). Without --count or --duration-secs: --count 1000.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=DURATION_SECONDS_MAX))]
    duration_secs: Option<u64>,
    /// Open loop: start transactions at this many per second (1–100000) across all workers,
    /// each latency counted from when its transaction was due. Without it: closed loop.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=RATE_MAX))]
    rate: Option<u64>,
    /// Weights of the transaction kinds: inquiry (balance), withdraw (cash, at a bank agent),
    /// purchase (at an e-Warong), transfer (PKH e-wallet to savings).
    #[arg(long, default_value = "inquiry=50,withdraw=30,purchase=10,transfer=10")]
    mix: String,
    /// The share of transactions sent with a wrong PIN (0–1). A card locked after three is
    /// unlocked by an operator of its region, and counted.
    #[arg(long, default_value_t = 0.05)]
    wrong_pin_share: f64,
    /// The share of transactions sent a second time with the same Idempotency-Key (0–1); the
    /// second answer must be the first.
    #[arg(long, default_value_t = 0.05)]
    retry_share: f64,
    /// Seed of the random choices, for a run that can be repeated.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the report as JSON on stdout (the progress bar stays on stderr).
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

/// A kind of transaction in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoadKind {
    Inquiry,
    Withdraw,
    Purchase,
    Transfer,
}

impl LoadKind {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "inquiry" => Some(Self::Inquiry),
            "withdraw" => Some(Self::Withdraw),
            "purchase" => Some(Self::Purchase),
            "transfer" => Some(Self::Transfer),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Inquiry => "inquiry",
            Self::Withdraw => "withdraw",
            Self::Purchase => "purchase",
            Self::Transfer => "transfer",
        }
    }

    /// Whether an agent of this kind may do it (an unknown kind is tried for everything
    /// but goods and cash).
    fn allowed_at(self, agent: Option<AgentKind>) -> bool {
        match self {
            Self::Inquiry | Self::Transfer => true,
            Self::Withdraw => agent == Some(AgentKind::BankAgent),
            Self::Purchase => agent == Some(AgentKind::EWarong),
        }
    }
}

fn parse_mix(text: &str) -> anyhow::Result<Vec<(LoadKind, u32)>> {
    let mut mix = Vec::new();
    for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let (name, weight) = part.split_once('=').ok_or_else(|| anyhow!("--mix: write KIND=WEIGHT, not {part}"))?;
        let kind = LoadKind::parse(name.trim())
            .ok_or_else(|| anyhow!("--mix: no kind {name}: inquiry, withdraw, purchase or transfer"))?;
        let weight: u32 =
            weight.trim().parse().with_context(|| format!("--mix: {part}: the weight is a whole number"))?;
        if weight > 0 {
            mix.push((kind, weight));
        }
    }
    if mix.is_empty() {
        bail!("--mix: give at least one kind a weight above 0");
    }
    Ok(mix)
}

/// `GET /v1/catalogue`, one item.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueItem {
    pub sku: String,
    pub programme: PurchaseProgramme,
}

/// What every worker shares.
pub struct Shared {
    pub terminals: Vec<(Option<AgentKind>, Terminal)>,
    /// Operators who unlock a PIN locked by wrong tries, one login each.
    pub operators: Vec<Session>,
    /// For each family, the operator (index in `operators`) of its region.
    pub unlockers: Vec<Option<usize>>,
    pub credentials: Credentials,
    pub catalogue: Vec<CatalogueItem>,
    pub mix: Vec<(LoadKind, u32)>,
    pub wrong_pin_share: f64,
    pub retry_share: f64,
    /// Tickets: a worker takes one per transaction; `None` runs until the deadline.
    pub count: Option<u64>,
    pub tickets: AtomicU64,
    /// Open loop: the interval between due times, counted from `started`.
    pub interval: Option<Duration>,
    pub started: Instant,
    pub deadline: Instant,
    /// STANs per worker, and where this run starts inside each worker's range.
    pub stan_range: u32,
    pub stan_offset: u32,
    /// Makes this run's idempotency keys its own.
    pub run_tag: String,
    pub progress: ProgressBar,
    pub done: AtomicBool,
}

/// Runs the load and prints the report; true when nothing unexpected happened and the
/// ledger verifies (or was not asked to be checked).
pub fn run(args: &LoadArgs) -> anyhow::Result<bool> {
    if !is_loopback(&args.server.server) {
        bail!(
            "load sends traffic only to a server on this machine (127.0.0.1, localhost, [::1]), not {}",
            args.server.server
        );
    }
    for (name, share) in [("--wrong-pin-share", args.wrong_pin_share), ("--retry-share", args.retry_share)] {
        if !(0.0..=1.0).contains(&share) {
            bail!("{name} is a share between 0 and 1");
        }
    }
    let mix = parse_mix(&args.mix)?;
    let server = args.server.connect()?;
    let credentials = Credentials::load(&args.credentials)?;
    if credentials.families.is_empty() {
        bail!("the credentials list no family");
    }
    let mut terminals = Vec::new();
    for agent in &credentials.agents {
        let session = Session::open(&server, agent.login())?;
        terminals.push((agent.kind, Terminal::new(session, &agent.terminal_id)));
    }
    for (kind, _) in &mix {
        if !terminals.iter().any(|(agent, _)| kind.allowed_at(*agent)) {
            bail!("--mix has {} but no agent in the credentials may do it", kind.name());
        }
    }
    let mut operators: Vec<Session> = Vec::new();
    let mut unlockers = Vec::new();
    for family in &credentials.families {
        let Some(operator) = credentials.operator_for(&family.village) else {
            unlockers.push(None);
            continue;
        };
        let known = operators.iter().position(|session| *session.login() == operator.login());
        let index = match known {
            Some(index) => index,
            None => {
                operators.push(Session::open(&server, operator.login())?);
                operators.len() - 1
            }
        };
        unlockers.push(Some(index));
    }
    let catalogue: Vec<CatalogueItem> = terminals
        .first()
        .ok_or_else(|| anyhow!("the credentials list no agent"))?
        .1
        .session()
        .get("/v1/catalogue")?
        .into_result()
        .context("fetching the catalogue")?;
    let count = match (args.count, args.duration_secs) {
        (Some(count), _) => Some(count),
        (None, Some(_)) => None,
        (None, None) => Some(1_000),
    };
    let duration = Duration::from_secs(args.duration_secs.unwrap_or(DURATION_SECONDS_MAX));
    let progress = progress_bar(args, count);
    let concurrency = u32::try_from(args.concurrency).unwrap_or(1);
    let stan_range = STAN_SPACE / concurrency;
    let shared = Shared {
        terminals,
        operators,
        unlockers,
        credentials,
        catalogue,
        mix,
        wrong_pin_share: args.wrong_pin_share,
        retry_share: args.retry_share,
        count,
        tickets: AtomicU64::new(0),
        interval: args.rate.map(|rate| Duration::from_secs_f64(1.0 / rate as f64)),
        started: Instant::now(),
        deadline: Instant::now() + duration,
        stan_range,
        stan_offset: rand::random_range(0..stan_range),
        run_tag: format!("L{:06x}", rand::random_range(0..0x100_0000_u32)),
        progress,
        done: AtomicBool::new(false),
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    let started = shared.started;
    let stats = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|number| {
                let shared = &shared;
                scope.spawn(move || worker::run(number, shared, seed.wrapping_add(u64::from(number))))
            })
            .collect();
        if count.is_none() {
            scope.spawn(|| tick_duration(&shared, started, duration));
        }
        let results: Vec<_> = workers.into_iter().map(|worker| worker.join()).collect();
        shared.done.store(true, Ordering::Relaxed);
        results
    });
    let elapsed = started.elapsed();
    shared.progress.finish_and_clear();
    let mut total = worker::Stats::new()?;
    for result in stats {
        let stats = result.map_err(|_| anyhow!("a load worker panicked"))??;
        total.merge(&stats)?;
    }
    let ledger = args.database.as_ref().map(|database| report::verify_ledger(args.kks.as_deref(), database));
    let terminals_used: Vec<String> =
        shared.terminals.iter().map(|(_, terminal)| terminal.terminal_id().to_owned()).collect();
    let report = Report::new(report::RunFacts {
        server: server.base_url().to_owned(),
        terminals: terminals_used,
        families: shared.credentials.families.len(),
        concurrency: args.concurrency,
        rate: args.rate,
        mix: shared.mix.iter().map(|(kind, weight)| (kind.name().to_owned(), *weight)).collect::<BTreeMap<_, _>>(),
        elapsed,
        stats: total,
        ledger,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    Ok(report.is_clean())
}

fn progress_bar(args: &LoadArgs, count: Option<u64>) -> ProgressBar {
    if args.json || args.no_progress {
        return ProgressBar::hidden();
    }
    let (length, template) = match count {
        Some(count) => (count, "{bar:40} {pos}/{len} transaksi [transactions] {per_sec} ETA {eta}"),
        None => (args.duration_secs.unwrap_or(0), "{bar:40} {pos}/{len} s {msg}"),
    };
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// In a `--duration-secs` run the bar shows seconds gone and transactions done.
fn tick_duration(shared: &Shared, started: Instant, duration: Duration) {
    while !shared.done.load(Ordering::Relaxed) && started.elapsed() < duration + Duration::from_secs(1) {
        shared.progress.set_position(started.elapsed().as_secs().min(duration.as_secs()));
        shared.progress.set_message(format!("{} transaksi", shared.tickets.load(Ordering::Relaxed)));
        std::thread::sleep(Duration::from_millis(200));
    }
}
