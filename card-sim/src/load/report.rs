//! The end of a load run: figures for people, or JSON for benchmarks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::worker::Stats;

/// Codes a load run expects to see: the refusals that its mix, its wrong PINs and the
/// demo's small balances bring about. Anything else is a finding.
const EXPECTED_CODES: [&str; 10] = [
    "APPROVED",
    "WRONG_PIN",
    "PIN_LOCKED",
    "INSUFFICIENT_FUNDS",
    "FUNDS_HELD",
    "QUOTA_EXCEEDED",
    "WITHDRAWAL_LIMIT_EXCEEDED",
    "DAILY_WITHDRAWAL_LIMIT_EXCEEDED",
    "AGENT_DAILY_LIMIT_EXCEEDED",
    "ITEM_NOT_ELIGIBLE",
];

pub struct RunFacts {
    pub server: String,
    pub terminals: Vec<String>,
    pub families: usize,
    pub concurrency: u64,
    /// Open loop at this many transactions per second; `None` for a closed loop.
    pub rate: Option<u64>,
    pub mix: BTreeMap<String, u32>,
    pub elapsed: Duration,
    pub stats: Stats,
    pub ledger: Option<LedgerCheck>,
}

/// What `kks verify-ledger` said.
#[derive(Debug, Serialize)]
pub struct LedgerCheck {
    pub clean: bool,
    /// Its JSON report (accounts, journals, postings, discrepancies), when it gave one.
    pub report: Option<serde_json::Value>,
    /// Why the check could not run, or what it printed on error.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// `closed_loop` (a worker sends its next request when the previous answer is in) or
    /// `open_loop` (transactions start at `target_rate` per second; latency from when due).
    pub mode: &'static str,
    /// Open loop: the transactions per second asked for.
    pub target_rate: Option<u64>,
    pub server: String,
    pub terminals: Vec<String>,
    pub families: usize,
    pub concurrency: u64,
    pub mix: BTreeMap<String, u32>,
    pub duration_seconds: f64,
    pub transactions: u64,
    pub retries: u64,
    /// Every request: transactions and retries.
    pub requests: u64,
    pub requests_per_second: f64,
    pub latency_ms: Latency,
    /// First answers by code.
    pub outcomes: BTreeMap<String, u64>,
    pub kinds: BTreeMap<String, u64>,
    pub retry_mismatches: u64,
    pub pin_unlocks: u64,
    pub reversals: u64,
    pub reversals_pending: u64,
    pub stan_range_exhausted: bool,
    /// Answers outside [`EXPECTED_CODES`]: server errors, no answer, STAN or key clashes.
    pub unexpected: BTreeMap<String, u64>,
    pub ledger: Option<LedgerCheck>,
}

impl Report {
    pub fn new(facts: RunFacts) -> Self {
        let stats = &facts.stats;
        let histogram = &stats.latency_microseconds;
        let milliseconds = |microseconds: u64| (microseconds as f64) / 1_000.0;
        let requests = stats.transactions + stats.retries;
        let seconds = facts.elapsed.as_secs_f64();
        let unexpected = stats
            .outcomes
            .iter()
            .filter(|(code, _)| !EXPECTED_CODES.contains(&code.as_str()))
            .map(|(code, count)| (code.clone(), *count))
            .collect();
        Self {
            mode: if facts.rate.is_some() { "open_loop" } else { "closed_loop" },
            target_rate: facts.rate,
            server: facts.server,
            terminals: facts.terminals,
            families: facts.families,
            concurrency: facts.concurrency,
            mix: facts.mix,
            duration_seconds: seconds,
            transactions: stats.transactions,
            retries: stats.retries,
            requests,
            requests_per_second: if seconds > 0.0 { requests as f64 / seconds } else { 0.0 },
            latency_ms: Latency {
                p50: milliseconds(histogram.value_at_quantile(0.50)),
                p90: milliseconds(histogram.value_at_quantile(0.90)),
                p99: milliseconds(histogram.value_at_quantile(0.99)),
                p99_9: milliseconds(histogram.value_at_quantile(0.999)),
                max: milliseconds(histogram.max()),
                mean: histogram.mean() / 1_000.0,
            },
            outcomes: stats.outcomes.clone(),
            kinds: stats.kinds.iter().map(|(kind, count)| ((*kind).to_owned(), *count)).collect(),
            retry_mismatches: stats.retry_mismatches,
            pin_unlocks: stats.pin_unlocks,
            reversals: stats.reversals,
            reversals_pending: stats.reversals_pending,
            stan_range_exhausted: stats.stan_range_exhausted,
            unexpected,
            ledger: facts.ledger,
        }
    }

    /// Nothing unexpected, every retry got its first answer, and the ledger verifies
    /// (when it was checked).
    pub fn is_clean(&self) -> bool {
        self.unexpected.is_empty()
            && self.retry_mismatches == 0
            && self.reversals_pending == 0
            && self.ledger.as_ref().is_none_or(|ledger| ledger.clean)
    }

    pub fn print(&self) {
        let list = |map: &BTreeMap<String, u64>| {
            let mut entries: Vec<(&String, &u64)> = map.iter().collect();
            entries.sort_by(|left, right| right.1.cmp(left.1).then(left.0.cmp(right.0)));
            entries.iter().map(|(name, count)| format!("{name} {count}")).collect::<Vec<_>>().join(", ")
        };
        let mix = self.mix.iter().map(|(kind, weight)| format!("{kind}={weight}")).collect::<Vec<_>>().join(",");
        match self.target_rate {
            Some(rate) => println!(
                "card-sim load: open loop — {rate} transactions/s due, {} workers; latency counted from when due",
                self.concurrency
            ),
            None => println!(
                "card-sim load: closed loop — {} workers, each sends its next request when the previous answer is in",
                self.concurrency
            ),
        }
        println!(
            "  server        {} ({} terminals: {}; {} families)",
            self.server,
            self.terminals.len(),
            self.terminals.join(", "),
            self.families
        );
        println!("  mix           {mix}");
        println!(
            "  transactions  {} in {:.2} s, {} retries → {} requests, {:.1} requests/s",
            self.transactions, self.duration_seconds, self.retries, self.requests, self.requests_per_second
        );
        let latency = &self.latency_ms;
        println!(
            "  latency (ms)  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  (mean {:.2})",
            latency.p50, latency.p90, latency.p99, latency.p99_9, latency.max, latency.mean
        );
        println!("  outcomes      {}", list(&self.outcomes));
        println!("  by kind       {}", list(&self.kinds));
        println!(
            "  retries       {} sent again with the same Idempotency-Key, {} answered differently",
            self.retries, self.retry_mismatches
        );
        println!("  PIN unlocks   {} (an operator unlocked a PIN that wrong PINs locked)", self.pin_unlocks);
        println!(
            "  reversals     {} sent for unanswered money transactions, {} still unanswered",
            self.reversals, self.reversals_pending
        );
        if self.stan_range_exhausted {
            println!("  note          a worker used up its STANs on a terminal and stopped early (more terminals last longer)");
        }
        if self.unexpected.is_empty() {
            println!("  unexpected    none");
        } else {
            println!("  unexpected    {}", list(&self.unexpected));
        }
        match &self.ledger {
            None => println!("  ledger        not checked (give --database to run kks verify-ledger)"),
            Some(ledger) => {
                let figure = |name: &str| {
                    ledger
                        .report
                        .as_ref()
                        .and_then(|report| report.get(name))
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "?".to_owned())
                };
                let verdict = if ledger.clean { "OK" } else { "BROKEN" };
                match &ledger.error {
                    Some(error) => println!("  ledger        {verdict}: {error}"),
                    None => println!(
                        "  ledger        {verdict}: kks verify-ledger checked {} accounts, {} journals, {} postings, {} active holds: {} discrepancies",
                        figure("accounts"), figure("journals"), figure("postings"), figure("active_holds"), figure("discrepancy_count")
                    ),
                }
            }
        }
        println!("  result        {}", if self.is_clean() { "clean" } else { "NOT clean: see above" });
    }
}

/// Runs `kks --database URL verify-ledger --json`.
pub fn verify_ledger(kks: Option<&Path>, database: &str) -> LedgerCheck {
    let binary = match kks {
        Some(path) => path.to_owned(),
        None => match default_kks() {
            Ok(path) => path,
            Err(error) => return LedgerCheck { clean: false, report: None, error: Some(error) },
        },
    };
    let output = std::process::Command::new(&binary)
        .args(["--database", database, "verify-ledger", "--json"])
        .env("KKS_LOG", "warn")
        .output();
    match output {
        Err(error) => LedgerCheck {
            clean: false,
            report: None,
            error: Some(format!("could not run {}: {error} (say where it is with --kks)", binary.display())),
        },
        Ok(output) => {
            let report = serde_json::from_slice::<serde_json::Value>(&output.stdout).ok();
            let error = (report.is_none()).then(|| {
                format!(
                    "{} verify-ledger exited with {}: {}",
                    binary.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )
            });
            LedgerCheck { clean: output.status.success(), report, error }
        }
    }
}

/// `kks` next to this program (both are built into the same target folder).
fn default_kks() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|error| format!("finding this program: {error}"))?;
    Ok(me.with_file_name(format!("kks{}", std::env::consts::EXE_SUFFIX)))
}
