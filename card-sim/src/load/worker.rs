//! One simulated terminal user of a load run: pick a transaction, send it, wait for the
//! answer, sometimes send it again, count what came back.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use hdrhistogram::Histogram;
use kks_wire::edc::reversal::Original;
use kks_wire::edc::transaction::BasketLine;
use kks_wire::edc::{PurchaseProgramme, Stan};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use rust_decimal::Decimal;
use serde_json::json;

use super::{LoadKind, Shared};
use crate::stan::stan_from;
use crate::terminal::{transmitted_now, CardRead, CardTransaction, Operation, Outcome, ReversalReport};

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes, 3 significant digits.
const LATENCY_MICROSECONDS_MAX: u64 = 600_000_000;

/// Reversal attempts for an unanswered money transaction.
const REVERSAL_ATTEMPTS: u32 = 3;

/// Amounts drawn for withdrawals and transfers, in rupiah.
const WITHDRAW_RUPIAH: [i64; 3] = [10_000, 20_000, 50_000];
const TRANSFER_RUPIAH: [i64; 3] = [10_000, 25_000, 50_000];

/// What one worker counted.
pub struct Stats {
    pub latency_microseconds: Histogram<u64>,
    /// First answers by code (`APPROVED`, `INSUFFICIENT_FUNDS`, `NO_ANSWER`…).
    pub outcomes: BTreeMap<String, u64>,
    /// Transactions by kind.
    pub kinds: BTreeMap<&'static str, u64>,
    pub transactions: u64,
    pub retries: u64,
    /// Retries whose answer was not the first one.
    pub retry_mismatches: u64,
    pub pin_unlocks: u64,
    pub reversals: u64,
    /// Reversals that went unanswered too.
    pub reversals_pending: u64,
    pub stan_range_exhausted: bool,
}

impl Stats {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            latency_microseconds: Histogram::new_with_bounds(1, LATENCY_MICROSECONDS_MAX, 3)
                .map_err(|error| anyhow!("creating a latency histogram: {error}"))?,
            outcomes: BTreeMap::new(),
            kinds: BTreeMap::new(),
            transactions: 0,
            retries: 0,
            retry_mismatches: 0,
            pin_unlocks: 0,
            reversals: 0,
            reversals_pending: 0,
            stan_range_exhausted: false,
        })
    }

    pub fn merge(&mut self, other: &Stats) -> anyhow::Result<()> {
        self.latency_microseconds
            .add(&other.latency_microseconds)
            .map_err(|error| anyhow!("adding latency histograms: {error}"))?;
        for (code, count) in &other.outcomes {
            *self.outcomes.entry(code.clone()).or_default() += count;
        }
        for (kind, count) in &other.kinds {
            *self.kinds.entry(kind).or_default() += count;
        }
        self.transactions += other.transactions;
        self.retries += other.retries;
        self.retry_mismatches += other.retry_mismatches;
        self.pin_unlocks += other.pin_unlocks;
        self.reversals += other.reversals;
        self.reversals_pending += other.reversals_pending;
        self.stan_range_exhausted |= other.stan_range_exhausted;
        Ok(())
    }

    fn record_latency(&mut self, elapsed: Duration) {
        let microseconds = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX).max(1);
        self.latency_microseconds.saturating_record(microseconds);
    }
}

/// Runs worker `number` until the tickets or the time run out, or one of its terminals has
/// used the worker's share of that terminal's STANs.
pub fn run(number: u32, shared: &Shared, seed: u64) -> anyhow::Result<Stats> {
    let mut stats = Stats::new()?;
    let mut random = StdRng::seed_from_u64(seed);
    let stan_base = number.saturating_mul(shared.stan_range);
    // A STAN is unique per terminal and business day: each terminal counts its own.
    let mut used_per_terminal = vec![0_u32; shared.terminals.len()];
    loop {
        if Instant::now() >= shared.deadline {
            break;
        }
        let ticket = shared.tickets.fetch_add(1, Ordering::Relaxed);
        if shared.count.is_some_and(|count| ticket >= count) {
            break;
        }
        let due = due_time(shared, ticket);
        // Pacing, not synchronisation: an open-loop worker waits for its transaction's turn.
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if Instant::now() >= shared.deadline {
            break;
        }
        let kind = pick_kind(shared, &mut random);
        let eligible: Vec<usize> = (0..shared.terminals.len())
            .filter(|&index| shared.terminals.get(index).is_some_and(|(agent, _)| kind.allowed_at(*agent)))
            .collect();
        let Some(&terminal) = eligible.get(random.random_range(0..eligible.len().max(1))) else {
            continue;
        };
        let Some(used) = used_per_terminal.get_mut(terminal) else { continue };
        if *used == shared.stan_range {
            stats.stan_range_exhausted = true;
            break;
        }
        let stan = stan_from(stan_base + 1 + (shared.stan_offset + *used) % shared.stan_range)?;
        *used += 1;
        one_transaction(shared, &mut random, &mut stats, (kind, terminal), &stan, due);
        if shared.count.is_some() {
            shared.progress.inc(1);
        }
    }
    Ok(stats)
}

/// When transaction `ticket` is due: open loop, `ticket` intervals after the start;
/// closed loop, now (the previous answer is in).
fn due_time(shared: &Shared, ticket: u64) -> Instant {
    match shared.interval {
        Some(interval) => {
            let ticket = u32::try_from(ticket).unwrap_or(u32::MAX);
            shared.started + interval.saturating_mul(ticket)
        }
        None => Instant::now(),
    }
}

/// One transaction, due at `due`: its latency runs from then, so an open-loop
/// transaction that waited for a free worker counts its wait.
fn one_transaction(
    shared: &Shared,
    random: &mut StdRng,
    stats: &mut Stats,
    (kind, terminal): (LoadKind, usize),
    stan: &Stan,
    due: Instant,
) {
    let Some((_, terminal)) = shared.terminals.get(terminal) else { return };
    let family_index = random.random_range(0..shared.credentials.families.len().max(1));
    let Some(family) = shared.credentials.families.get(family_index) else {
        return;
    };
    let pin = if random.random_bool(shared.wrong_pin_share) { family.wrong_pin() } else { family.pin.clone() };
    let operation = operation(shared, random, kind);
    let transaction = CardTransaction { card: CardRead::Keyed(family.card_number.clone()), pin, operation };
    // Sent now; a retry resends the same body, and a reversal names the same moment.
    let sent = Original { stan: stan.clone(), transmitted_at: transmitted_now() };
    let key = format!("{}-{}", terminal.idempotency_key(&sent), shared.run_tag);
    let body = transaction.body(&sent);
    let path = transaction.operation.path();

    let outcome = terminal.send_body(path, &body, &key, false);
    stats.record_latency(due.elapsed());
    stats.transactions += 1;
    *stats.kinds.entry(kind.name()).or_default() += 1;
    *stats.outcomes.entry(outcome.code().to_owned()).or_default() += 1;

    if random.random_bool(shared.retry_share) {
        let started = Instant::now();
        let again = terminal.send_body(path, &body, &key, false);
        stats.record_latency(started.elapsed());
        stats.retries += 1;
        if !same_answer(&outcome, &again) {
            stats.retry_mismatches += 1;
        }
    }
    if outcome.code() == "PIN_LOCKED" {
        unlock(shared, family_index, &family.card_number, stats);
    }
    if matches!(outcome, Outcome::Lost(_)) && transaction.operation.moves_money() {
        stats.reversals += 1;
        let reversal_key = format!("{}-{}", terminal.reversal_key(&sent), shared.run_tag);
        if let ReversalReport::Pending(_) = terminal.reverse_with_retries(&sent, &reversal_key, REVERSAL_ATTEMPTS) {
            stats.reversals_pending += 1;
        }
    }
}

fn pick_kind(shared: &Shared, random: &mut StdRng) -> LoadKind {
    let total: u32 = shared.mix.iter().map(|(_, weight)| weight).sum();
    let mut draw = random.random_range(0..total.max(1));
    for (kind, weight) in &shared.mix {
        if draw < *weight {
            return *kind;
        }
        draw -= weight;
    }
    LoadKind::Inquiry
}

fn operation(shared: &Shared, random: &mut StdRng, kind: LoadKind) -> Operation {
    let mut rupiah = |choices: &[i64]| {
        Decimal::from(choices.get(random.random_range(0..choices.len().max(1))).copied().unwrap_or(10_000))
    };
    match kind {
        LoadKind::Inquiry => Operation::BalanceInquiry,
        LoadKind::Withdraw => Operation::CashWithdrawal { amount: rupiah(&WITHDRAW_RUPIAH) },
        LoadKind::Transfer => Operation::WalletToSavings { amount: rupiah(&TRANSFER_RUPIAH) },
        LoadKind::Purchase => {
            let item = shared.catalogue.get(random.random_range(0..shared.catalogue.len().max(1)));
            match item {
                Some(item) => Operation::Purchase {
                    programme: item.programme,
                    basket: vec![BasketLine { sku: item.sku.clone(), quantity: 1 }],
                },
                None => Operation::Purchase { programme: PurchaseProgramme::Bpnt, basket: Vec::new() },
            }
        }
    }
}

/// A retry must get the first answer: the same approval, or the same refusal.
fn same_answer(first: &Outcome, again: &Outcome) -> bool {
    match (first, again) {
        (Outcome::Approved(first), Outcome::Approved(again)) => first.reference == again.reference,
        (Outcome::Refused(first), Outcome::Refused(again)) => first.code == again.code,
        // An unanswered first try has no answer to compare with.
        (Outcome::Lost(_), _) => true,
        _ => false,
    }
}

/// An operator of the card's region unlocks a PIN that wrong tries locked.
fn unlock(shared: &Shared, family_index: usize, card_number: &str, stats: &mut Stats) {
    let Some(operator) =
        shared.unlockers.get(family_index).copied().flatten().and_then(|index| shared.operators.get(index))
    else {
        return;
    };
    let body = json!({ "reason": "load test: PIN locked by simulated wrong PINs" });
    if let Ok(crate::api::Answer::Ok(_)) =
        operator.post::<serde_json::Value>(&format!("/v1/cards/{card_number}/pin-reset"), &body)
    {
        stats.pin_unlocks += 1;
    }
}
