//! `card-sim`: the KKS card and EDC terminal simulator, for testers and agent training.
//! It speaks to a KKS server over HTTP like any client; from the server's library it
//! takes only wire types and the card QR codec.

mod api;
mod card;
mod console;
mod credentials;
mod edc;
mod load;
mod scenario;
mod stan;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::api::{Login, Server};
use crate::credentials::Credentials;

/// Exit status when a card, a transaction or an expectation is refused (not an error).
const EXIT_REFUSED: u8 = 1;

/// Exit status when the simulator could not do its work (bad input, no server…).
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "card-sim",
    version,
    about = "KKS card and EDC terminal simulator, for testers and agent training",
    long_about = "KKS card and EDC terminal simulator, for testers and agent training.\n\n\
        It plays the agent's EDC terminal and the family's card against a KKS server, over HTTP like any \
        client. Receipts are the server's, in Bahasa Indonesia. Exit status: 0 done, 1 refused (a card, a \
        transaction or a scenario expectation), 2 could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a card's front (bank, holder, masked number, QR) as PNG, as the server draws it.
    ///
    /// Who may see the card: an operator of its region (--login operator:USER:PASSWORD --card NUMBER),
    /// or the family itself (--credentials demo-credentials.json --family N, which logs in with the
    /// family's card number and PIN).
    Render(RenderArgs),
    /// Read a card picture: decode the QR from its pixels, check the issuer's signature offline.
    ///
    /// The issuer's public key comes from the server (/.well-known/kks-card-issuer); the QR is then
    /// checked without the server, as an EDC does before it asks for the PIN. Prints the masked
    /// number, bank, card sequence and expiry, or why the card is refused (CARD_FORGED,
    /// CARD_ALTERED, CARD_EXPIRED, CARD_QR_MALFORMED…). With --online an agent also asks the server
    /// (POST /v1/cards/check-qr), which knows about lost and replaced cards. Exits 1 when refused.
    Scan(ScanArgs),
    /// An interactive EDC terminal session (Indonesian prompts, English in brackets).
    ///
    /// Log in as an agent, then for each transaction read the card (the path of a card PNG to scan,
    /// or the 16 digits keyed in), type the PIN (hidden at a terminal; read as a plain line from a
    /// script), and choose: balance inquiry, cash withdrawal, PKH e-wallet to savings, purchase
    /// (goods from the catalogue), reversal of the last transaction, today's settlement. Prints the
    /// server's slip lines and, with --slip-dir, saves the slip as text and PNG. The terminal keeps
    /// its STAN counter in --stan-file. When a money transaction gets no answer (timeout, broken
    /// connection) it sends a reversal for that STAN at once, with retries, and again before the next
    /// transaction if still unanswered.
    Edc(EdcArgs),
    /// Run a scripted scenario (TOML) and stop at the first unmet expectation.
    ///
    /// Each step (`[[step]]`, its kind in `do`) says what it must give: approved (with pocket
    /// balances), or refused with a code. Kinds: balance_inquiry, cash_withdrawal,
    /// wallet_to_savings, purchase, reversal, retry (same STAN and Idempotency-Key), check_qr,
    /// report_lost, reset_pin, disburse, verify, close_cycle. The file is checked whole before
    /// anything is sent. Prints each step; exits 1 at the first step whose outcome differs, saying
    /// which step and what happened. Scenarios assume a freshly seeded server; the shipped ones
    /// are in card-sim/scenarios/, the format in card-sim/README.md.
    Scenario(ScenarioArgs),
    /// Many simulated terminals at once, then throughput, latency percentiles, errors and a ledger check.
    ///
    /// Closed loop by default: each worker sends its next request when the previous answer has
    /// arrived. With --rate, open loop: transactions are due at a fixed rate and each latency is
    /// counted from when it was due, so a server that falls behind shows its queue. Workers
    /// share the demo agents' terminals (one login each) and each has its own STAN range. The mix of
    /// transaction kinds, the share of wrong PINs and of retries (the same request and
    /// Idempotency-Key sent again, which must get the same answer) are set by flags. At the end:
    /// throughput, latency p50/p90/p99/p99.9/max, outcomes by code, and `kks verify-ledger` on the
    /// database. Only servers on this machine (127.0.0.0/8, localhost, [::1]) are accepted.
    Load(load::LoadArgs),
}

/// Where the server is and how long to wait for it.
#[derive(Args, Clone)]
pub struct ServerArgs {
    /// The KKS server's base address.
    #[arg(long, env = "CARD_SIM_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// How long to wait for an answer, in milliseconds, before the request counts as lost.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout_ms: u64,
}

impl ServerArgs {
    fn connect(&self) -> anyhow::Result<Server> {
        Server::new(&self.server, Duration::from_millis(self.timeout_ms))
    }
}

#[derive(Args)]
struct RenderArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The card number (16 digits); with --credentials and --family, the family's card by default.
    #[arg(long)]
    card: Option<String>,
    /// Who asks: operator:USER:PASSWORD (an operator of the card's region) or family:CARD:PIN.
    #[arg(long, conflicts_with_all = ["credentials", "family"])]
    login: Option<Login>,
    /// A demo credentials file (written by `kks serve` on a fresh database).
    #[arg(long, requires = "family")]
    credentials: Option<PathBuf>,
    /// Which family of the credentials file, counting from 1; logs in as that family.
    #[arg(long, requires = "credentials")]
    family: Option<usize>,
    /// The PNG file to write.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct ScanArgs {
    /// The card picture (PNG).
    file: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
    /// Also ask the server whether the card is current (lost, replaced): needs an agent or operator.
    #[arg(long)]
    online: bool,
    /// Who asks online: agent:USER:PASSWORD:TERMINAL or operator:USER:PASSWORD.
    #[arg(long, conflicts_with_all = ["credentials", "agent"])]
    login: Option<Login>,
    /// A demo credentials file, with --agent.
    #[arg(long, requires = "agent")]
    credentials: Option<PathBuf>,
    /// The agent of the credentials file who asks online.
    #[arg(long, requires = "credentials")]
    agent: Option<String>,
}

#[derive(Args)]
struct EdcArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The agent: agent:USER:PASSWORD:TERMINAL. Without it (and without --credentials), the
    /// session asks for user name, password (hidden) and terminal id.
    #[arg(long, conflicts_with_all = ["credentials", "agent"])]
    login: Option<Login>,
    /// A demo credentials file, with --agent.
    #[arg(long, requires = "agent")]
    credentials: Option<PathBuf>,
    /// The agent of the credentials file (agen.cileunyi, ewarong.cileunyi, agen.sekayu in the demo).
    #[arg(long, requires = "credentials")]
    agent: Option<String>,
    /// A folder where each approved transaction's slip is saved (text and PNG).
    #[arg(long)]
    slip_dir: Option<PathBuf>,
    /// The file that keeps the terminal's STAN counter across sessions of a business day.
    /// Without it, the counter starts from a random number.
    #[arg(long)]
    stan_file: Option<PathBuf>,
    /// How often a reversal is sent before the terminal keeps it for later.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    reversal_attempts: u32,
    /// Rehearsal: the Nth card transaction of the session (1 = the first) goes to the server but its
    /// answer is dropped, as if the line had broken, so the terminal reverses it.
    #[arg(long, hide = true)]
    simulate_timeout_on: Option<u32>,
}

#[derive(Args)]
struct ScenarioArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
    /// The demo credentials file of the server (users the steps name).
    #[arg(long)]
    credentials: PathBuf,
    /// Also print each approved transaction's slip lines.
    #[arg(long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("card-sim: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Render(args) => {
            card::render(&card::RenderRequest {
                server: args.server.connect()?,
                card: args.card,
                login: args.login,
                credentials: args.credentials,
                family: args.family,
                out: args.out,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan(args) => {
            let login = match (args.online, args.login, args.credentials, args.agent) {
                (false, _, _, _) => None,
                (true, Some(login), _, _) => Some(login),
                (true, None, Some(path), Some(agent)) => Some(Credentials::load(&path)?.agent(&agent)?.login()),
                (true, _, _, _) => {
                    anyhow::bail!("--online needs who asks: --login agent:USER:PASSWORD:TERMINAL or --credentials FILE --agent NAME")
                }
            };
            Ok(match card::scan(&args.server.connect()?, &args.file, login)? {
                card::ScanResult::Accepted => ExitCode::SUCCESS,
                card::ScanResult::Refused => ExitCode::from(EXIT_REFUSED),
            })
        }
        Command::Edc(args) => {
            let login = match (args.login, args.credentials, args.agent) {
                (Some(login), _, _) => Some(login),
                (None, Some(path), Some(agent)) => Some(Credentials::load(&path)?.agent(&agent)?.login()),
                _ => None,
            };
            let options = edc::EdcOptions {
                server: args.server.connect()?,
                login,
                slip_dir: args.slip_dir,
                stan_file: args.stan_file,
                simulate_timeout_on: args.simulate_timeout_on,
                reversal_attempts: args.reversal_attempts,
            };
            edc::run(&options, &mut console::Console::stdio())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scenario(args) => {
            let scenario = scenario::Scenario::load(&args.file)?;
            let credentials = Credentials::load(&args.credentials)?;
            let server = args.server.connect()?;
            let passed = scenario::run(&scenario, &server, &credentials, args.verbose)
                .with_context(|| format!("running the scenario {}", args.file.display()))?;
            Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REFUSED) })
        }
        Command::Load(args) => {
            let clean = load::run(&args)?;
            Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REFUSED) })
        }
    }
}
