//! The reference model: the seeds' money rules written again, small and plain, with no
//! database and no HTTP. It is deliberately written apart from `api/src/domain`: the test
//! holds two independent statements of the rules to each other.
//!
//! Every event is applied to the model first; the model answers what the server must
//! answer and what every pocket must then show.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

/// A family's pockets, in the order they are opened (and so in account-id order, the
/// order in which a journal's legs are applied).
pub const POCKETS: [Pocket; 4] = [Pocket::Savings, Pocket::Pkh, Pocket::Bpnt, Pocket::Lpg];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pocket {
    Savings,
    Pkh,
    Bpnt,
    Lpg,
}

impl Pocket {
    pub fn kind(self) -> &'static str {
        match self {
            Self::Savings => "savings",
            Self::Pkh => "wallet_pkh",
            Self::Bpnt => "wallet_bpnt",
            Self::Lpg => "wallet_lpg",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Savings => 0,
            Self::Pkh => 1,
            Self::Bpnt => 2,
            Self::Lpg => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Regular,
    Elderly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Suspended,
    Terminated,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Terminated => "terminated",
        }
    }
}

/// A hold as the model knows it.
#[derive(Debug, Clone)]
pub struct ModelHold {
    pub amount_minor: i64,
    pub release_at: Option<NaiveDateTime>,
    /// Ended by a person or captured on termination (a hold past its time simply stops
    /// counting).
    pub ended: bool,
}

impl ModelHold {
    fn in_force(&self, now: NaiveDateTime) -> bool {
        !self.ended && self.release_at.is_none_or(|release_at| release_at > now)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ModelPocket {
    pub balance_minor: i64,
    pub closed: bool,
    /// Indexes into [`Model::holds`].
    pub holds: Vec<usize>,
}

/// What a pocket must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub balance_minor: i64,
    pub held_minor: i64,
    pub blocked_minor: i64,
    pub available_minor: i64,
}

#[derive(Debug, Clone)]
pub struct ModelFamily {
    pub category: Category,
    pub status: Status,
    pub pockets: [ModelPocket; 4],
    /// Cycles closed for this family, in the order they were closed, with the count of
    /// failed cycles in a row after each.
    pub outcomes: Vec<(u8, i32)>,
    /// The verification recorded for each stage of 2017 (the latest one counts).
    pub verifications: BTreeMap<u8, bool>,
    /// (programme, period) paid once.
    pub paid: BTreeSet<(&'static str, u8)>,
    /// Cash drawn per business day, in sen.
    pub cash_by_day: BTreeMap<NaiveDate, i64>,
    /// Units bought per (SKU, year, month).
    pub quota_used: BTreeMap<(String, i32, u32), i64>,
    pub wrong_pins_in_row: i32,
    pub pin_locked: bool,
}

impl ModelFamily {
    pub fn new(category: Category) -> Self {
        Self {
            category,
            status: Status::Active,
            pockets: Default::default(),
            outcomes: Vec::new(),
            verifications: BTreeMap::new(),
            paid: BTreeSet::new(),
            cash_by_day: BTreeMap::new(),
            quota_used: BTreeMap::new(),
            wrong_pins_in_row: 0,
            pin_locked: false,
        }
    }

    pub fn pocket(&self, pocket: Pocket) -> &ModelPocket {
        &self.pockets[pocket.index()]
    }

    fn pocket_mut(&mut self, pocket: Pocket) -> &mut ModelPocket {
        &mut self.pockets[pocket.index()]
    }

    fn blocked(&self, pocket: Pocket) -> bool {
        pocket == Pocket::Pkh && self.status == Status::Suspended
    }
}

/// An item the e-Warong sells.
#[derive(Debug, Clone)]
pub struct Item {
    pub sku: String,
    pub programme: Pocket,
    pub price_minor: i64,
    pub monthly_quota: Option<i64>,
}

/// A card transaction the terminal sent, kept for retries and reversals.
#[derive(Debug, Clone)]
pub struct SentCard {
    pub family: usize,
    pub terminal: usize,
    pub stan: u32,
    pub transmitted_at: NaiveDateTime,
    /// For an approved money transaction: what it moved and took from limits.
    pub effect: Option<Effect>,
    pub reversed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    BalanceInquiry,
    WalletToSavings { amount_minor: i64 },
    CashWithdrawal { amount_minor: i64 },
    Purchase { programme: Pocket, basket: Vec<(String, i64)> },
}

/// What an approved transaction did, so a reversal can undo it.
#[derive(Debug, Clone)]
pub struct Effect {
    pub from: Option<Pocket>,
    pub to: Option<Pocket>,
    pub amount_minor: i64,
    pub cash_day: Option<NaiveDate>,
    pub quota: Vec<(String, i32, u32, i64)>,
}

/// What the server answers: approved, or refused with a code; reversals say what they did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Approved,
    Refused(String),
    Reversal(&'static str),
}

impl Answer {
    pub fn refused(code: &str) -> Self {
        Self::Refused(code.to_owned())
    }
}

/// Limits a bank sets on cash (sen).
const CASH_PER_TRANSACTION_MAX_MINOR: i64 = 2_500_000 * 100;
const CASH_PER_CARD_PER_DAY_MAX_MINOR: i64 = 5_000_000 * 100;
const CASH_PER_AGENT_PER_DAY_MAX_MINOR: i64 = 20_000_000 * 100;
/// How far back a reversal may reach.
pub const REVERSAL_WINDOW: Duration = Duration::hours(24);
/// Wrong PINs in a row that lock the PIN.
const WRONG_PINS_TO_LOCK: i32 = 3;
const FAILED_CYCLES_TO_TERMINATE: i32 = 3;

/// The business day (WIB, UTC+7) of a moment.
pub fn business_day(at: NaiveDateTime) -> NaiveDate {
    (at + Duration::hours(7)).date()
}

/// The 2017 benefit schedule.
pub fn pkh_amount_minor(category: Category, stage: u8) -> i64 {
    match (category, stage) {
        (Category::Regular, 4) => 390_000 * 100,
        _ => 500_000 * 100,
    }
}

pub fn monthly_amount_minor(programme: Pocket) -> i64 {
    match programme {
        Pocket::Bpnt => 110_000 * 100,
        _ => 40_500 * 100,
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    pub now: NaiveDateTime,
    pub families: Vec<ModelFamily>,
    pub holds: Vec<ModelHold>,
    pub catalogue: Vec<Item>,
    /// Cash paid out per (terminal, business day), in sen.
    pub agent_cash: BTreeMap<(usize, NaiveDate), i64>,
    pub sent: Vec<SentCard>,
    /// Stages whose cycle was closed for the village, in order.
    pub closed_cycles: Vec<u8>,
}

/// Why a movement may not leave (or enter) a pocket, as the ledger words it.
fn movement(
    family: &ModelFamily,
    pocket: Pocket,
    amount_minor: i64,
    now: NaiveDateTime,
    holds: &[ModelHold],
) -> Result<(), &'static str> {
    let state = family.pocket(pocket);
    if state.closed {
        return Err("ACCOUNT_CLOSED");
    }
    if amount_minor >= 0 {
        return Ok(());
    }
    if family.blocked(pocket) {
        return Err("WALLET_BLOCKED");
    }
    let requested = -amount_minor;
    let held: i64 = state
        .holds
        .iter()
        .map(|hold| &holds[*hold])
        .filter(|hold| hold.in_force(now))
        .map(|hold| hold.amount_minor)
        .sum();
    if requested > state.balance_minor {
        return Err("INSUFFICIENT_FUNDS");
    }
    if requested > state.balance_minor - held {
        return Err("FUNDS_HELD");
    }
    Ok(())
}

impl Model {
    pub fn new(now: NaiveDateTime, catalogue: Vec<Item>) -> Self {
        Self {
            now,
            families: Vec::new(),
            holds: Vec::new(),
            catalogue,
            agent_cash: BTreeMap::new(),
            sent: Vec::new(),
            closed_cycles: Vec::new(),
        }
    }

    /// A pocket's figures now.
    pub fn figures(&self, family: usize, pocket: Pocket) -> Figures {
        let family = &self.families[family];
        let state = family.pocket(pocket);
        let held_minor: i64 = state
            .holds
            .iter()
            .map(|hold| &self.holds[*hold])
            .filter(|hold| hold.in_force(self.now))
            .map(|hold| hold.amount_minor)
            .sum();
        let free = (state.balance_minor - held_minor).max(0);
        let blocked_minor = if family.blocked(pocket) { free } else { 0 };
        Figures { balance_minor: state.balance_minor, held_minor, blocked_minor, available_minor: free - blocked_minor }
    }

    /// Moves money between pockets of a family, or in or out of it (`None`: an account
    /// outside the family: treasury, fund, agent). Legs are applied in account-id order
    /// (the family's pockets before any account opened later, an agent's settlement
    /// account never refuses here), and the first leg refused names the refusal.
    fn transfer(
        &mut self,
        family: usize,
        from: Option<Pocket>,
        to: Option<Pocket>,
        amount_minor: i64,
    ) -> Result<(), &'static str> {
        let mut legs: Vec<(Pocket, i64)> = Vec::new();
        if let Some(from) = from {
            legs.push((from, -amount_minor));
        }
        if let Some(to) = to {
            legs.push((to, amount_minor));
        }
        legs.sort_by_key(|(pocket, _)| *pocket);
        for (pocket, leg) in &legs {
            movement(&self.families[family], *pocket, *leg, self.now, &self.holds)?;
        }
        for (pocket, leg) in legs {
            self.families[family].pocket_mut(pocket).balance_minor += leg;
        }
        Ok(())
    }

    /// A stage (PKH) or month (BPNT, LPG) of 2017 paid to every eligible family not paid
    /// for it yet, held until `release_at` if that is still to come. `None` when the batch
    /// would pay nobody (refused).
    pub fn pay(&mut self, programme: Pocket, period: u8, release_at: Option<NaiveDateTime>) -> Option<usize> {
        let key = (programme.kind(), period);
        let payees: Vec<usize> = (0..self.families.len())
            .filter(|index| {
                let family = &self.families[*index];
                let eligible = programme != Pocket::Pkh || family.status != Status::Terminated;
                eligible && !family.paid.contains(&key)
            })
            .collect();
        if payees.is_empty() {
            return None;
        }
        for index in &payees {
            let amount_minor = match programme {
                Pocket::Pkh => pkh_amount_minor(self.families[*index].category, period),
                other => monthly_amount_minor(other),
            };
            let family = &mut self.families[*index];
            family.paid.insert(key);
            family.pocket_mut(programme).balance_minor += amount_minor;
            if let Some(release_at) = release_at.filter(|release_at| *release_at > self.now) {
                self.holds.push(ModelHold { amount_minor, release_at: Some(release_at), ended: false });
                let hold = self.holds.len() - 1;
                self.families[*index].pocket_mut(programme).holds.push(hold);
            }
        }
        Some(payees.len())
    }

    /// Records a verification; refused when this stage is the family's latest closed cycle.
    pub fn verify(&mut self, family: usize, stage: u8, complied: bool) -> Answer {
        let family = &mut self.families[family];
        if family.outcomes.last().is_some_and(|(closed, _)| *closed == stage) {
            return Answer::refused("INVALID_REQUEST");
        }
        family.verifications.insert(stage, complied);
        Answer::Approved
    }

    /// Closes a cycle for the village: (suspended, released, terminated, unchanged, already closed).
    pub fn close_cycle(&mut self, stage: u8) -> [u64; 5] {
        let mut counts = [0_u64; 5];
        for index in 0..self.families.len() {
            let family = &self.families[index];
            if family.status == Status::Terminated {
                continue;
            }
            if family.outcomes.iter().any(|(closed, _)| *closed == stage) {
                counts[4] += 1;
                continue;
            }
            let failed_before = family.outcomes.last().map_or(0, |(_, failed)| *failed);
            let (outcome, failed_after) = match family.verifications.get(&stage) {
                None => (3, failed_before),
                Some(true) if family.status == Status::Suspended => (1, 0),
                Some(true) => (3, 0),
                Some(false) if failed_before + 1 >= FAILED_CYCLES_TO_TERMINATE => (2, failed_before + 1),
                Some(false) => (0, failed_before + 1),
            };
            counts[outcome] += 1;
            self.families[index].outcomes.push((stage, failed_after));
            match outcome {
                0 => self.families[index].status = Status::Suspended,
                1 => self.families[index].status = Status::Active,
                2 => self.terminate(index),
                _ => {}
            }
        }
        self.closed_cycles.push(stage);
        counts
    }

    /// Everything in the PKH wallet goes back to the treasury, its holds captured; it closes.
    fn terminate(&mut self, index: usize) {
        for hold in self.families[index].pocket(Pocket::Pkh).holds.clone() {
            self.holds[hold].ended = true;
        }
        let wallet = self.families[index].pocket_mut(Pocket::Pkh);
        wallet.balance_minor = 0;
        wallet.closed = true;
        self.families[index].status = Status::Terminated;
    }

    /// A card transaction with the right PIN (`pin_right`), from a terminal that pays cash
    /// (`pays_cash`) or sells goods.
    pub fn card(
        &mut self,
        family: usize,
        terminal: usize,
        pays_cash: bool,
        operation: &Operation,
        pin_right: bool,
    ) -> (Answer, Option<Effect>) {
        let card = &mut self.families[family];
        if card.pin_locked {
            return (Answer::refused("PIN_LOCKED"), None);
        }
        if !pin_right {
            card.wrong_pins_in_row += 1;
            if card.wrong_pins_in_row >= WRONG_PINS_TO_LOCK {
                card.pin_locked = true;
                return (Answer::refused("PIN_LOCKED"), None);
            }
            return (Answer::refused("WRONG_PIN"), None);
        }
        card.wrong_pins_in_row = 0;
        let day = business_day(self.now);
        match operation {
            Operation::CashWithdrawal { .. } if !pays_cash => (Answer::refused("OPERATION_NOT_ALLOWED"), None),
            Operation::Purchase { .. } if pays_cash => (Answer::refused("OPERATION_NOT_ALLOWED"), None),
            Operation::BalanceInquiry => (
                Answer::Approved,
                Some(Effect { from: None, to: None, amount_minor: 0, cash_day: None, quota: Vec::new() }),
            ),
            Operation::WalletToSavings { amount_minor } => {
                match self.transfer(family, Some(Pocket::Pkh), Some(Pocket::Savings), *amount_minor) {
                    Ok(()) => (
                        Answer::Approved,
                        Some(Effect {
                            from: Some(Pocket::Pkh),
                            to: Some(Pocket::Savings),
                            amount_minor: *amount_minor,
                            cash_day: None,
                            quota: Vec::new(),
                        }),
                    ),
                    Err(code) => (Answer::refused(code), None),
                }
            }
            Operation::CashWithdrawal { amount_minor } => {
                let amount_minor = *amount_minor;
                if amount_minor > CASH_PER_TRANSACTION_MAX_MINOR {
                    return (Answer::refused("WITHDRAWAL_LIMIT_EXCEEDED"), None);
                }
                let card_used = self.families[family].cash_by_day.get(&day).copied().unwrap_or(0);
                if card_used + amount_minor > CASH_PER_CARD_PER_DAY_MAX_MINOR {
                    return (Answer::refused("DAILY_WITHDRAWAL_LIMIT_EXCEEDED"), None);
                }
                let agent_used = self.agent_cash.get(&(terminal, day)).copied().unwrap_or(0);
                if agent_used + amount_minor > CASH_PER_AGENT_PER_DAY_MAX_MINOR {
                    return (Answer::refused("AGENT_DAILY_LIMIT_EXCEEDED"), None);
                }
                match self.transfer(family, Some(Pocket::Savings), None, amount_minor) {
                    Ok(()) => {
                        *self.families[family].cash_by_day.entry(day).or_default() += amount_minor;
                        *self.agent_cash.entry((terminal, day)).or_default() += amount_minor;
                        (
                            Answer::Approved,
                            Some(Effect {
                                from: Some(Pocket::Savings),
                                to: None,
                                amount_minor,
                                cash_day: Some(day),
                                quota: Vec::new(),
                            }),
                        )
                    }
                    Err(code) => (Answer::refused(code), None),
                }
            }
            Operation::Purchase { programme, basket } => {
                let (year, month) = (day.year(), day.month());
                let mut lines: Vec<(&Item, i64)> = Vec::new();
                for (sku, quantity) in basket {
                    let item = self.catalogue.iter().find(|item| &item.sku == sku).expect("a catalogue item");
                    if item.programme != *programme {
                        return (Answer::refused("ITEM_NOT_ELIGIBLE"), None);
                    }
                    lines.push((item, *quantity));
                }
                let amount_minor: i64 = lines.iter().map(|(item, quantity)| item.price_minor * quantity).sum();
                // Quotas are taken in SKU order.
                let mut by_sku = lines.clone();
                by_sku.sort_by(|left, right| left.0.sku.cmp(&right.0.sku));
                let mut quota = Vec::new();
                for (item, quantity) in &by_sku {
                    if let Some(limit) = item.monthly_quota {
                        let used = self.families[family]
                            .quota_used
                            .get(&(item.sku.clone(), year, month))
                            .copied()
                            .unwrap_or(0);
                        if used + quantity > limit {
                            return (Answer::refused("QUOTA_EXCEEDED"), None);
                        }
                        quota.push((item.sku.clone(), year, month, *quantity));
                    }
                }
                match self.transfer(family, Some(*programme), None, amount_minor) {
                    Ok(()) => {
                        for (sku, year, month, quantity) in &quota {
                            *self.families[family].quota_used.entry((sku.clone(), *year, *month)).or_default() +=
                                quantity;
                        }
                        (
                            Answer::Approved,
                            Some(Effect { from: Some(*programme), to: None, amount_minor, cash_day: None, quota }),
                        )
                    }
                    Err(code) => (Answer::refused(code), None),
                }
            }
        }
    }

    /// A reversal of a sent transaction: what the terminal is told.
    pub fn reverse(&mut self, sent: usize) -> Answer {
        let original = self.sent[sent].clone();
        if self.now - original.transmitted_at > REVERSAL_WINDOW {
            return Answer::refused("REVERSAL_WINDOW_CLOSED");
        }
        if original.reversed {
            return Answer::Reversal("already_reversed");
        }
        let Some(effect) = original.effect.clone() else {
            // A refused original left its STAN free: the reversal takes the slot and voids it.
            self.sent[sent].reversed = true;
            return Answer::Reversal("original_voided");
        };
        // The journal's opposite: what left comes back, what arrived leaves again.
        if effect.amount_minor > 0 {
            if let Err(code) = self.transfer(original.family, effect.to, effect.from, effect.amount_minor) {
                return Answer::refused(code);
            }
        }
        let family = &mut self.families[original.family];
        if let Some(day) = effect.cash_day {
            *family.cash_by_day.entry(day).or_default() -= effect.amount_minor;
            *self.agent_cash.entry((original.terminal, day)).or_default() -= effect.amount_minor;
        }
        for (sku, year, month, quantity) in &effect.quota {
            *family.quota_used.entry((sku.clone(), *year, *month)).or_default() -= quantity;
        }
        self.sent[sent].reversed = true;
        Answer::Reversal("reversed")
    }

    /// An operator's investigation hold: placed when the pocket has that much free of
    /// holds (a block does not matter), refused otherwise.
    pub fn place_hold(
        &mut self,
        family: usize,
        pocket: Pocket,
        amount_minor: i64,
        release_at: Option<NaiveDateTime>,
    ) -> Result<usize, &'static str> {
        let state = self.families[family].pocket(pocket);
        if state.closed {
            return Err("ACCOUNT_CLOSED");
        }
        let figures = self.figures(family, pocket);
        if amount_minor > figures.balance_minor - figures.held_minor {
            return Err("INSUFFICIENT_FUNDS");
        }
        self.holds.push(ModelHold { amount_minor, release_at, ended: false });
        let hold = self.holds.len() - 1;
        self.families[family].pocket_mut(pocket).holds.push(hold);
        Ok(hold)
    }

    /// An operator ends an investigation hold: only one still in force.
    pub fn end_hold(&mut self, hold: usize) -> Answer {
        if !self.holds[hold].in_force(self.now) {
            return Answer::refused("HOLD_NOT_ACTIVE");
        }
        self.holds[hold].ended = true;
        Answer::Approved
    }

    /// An operator resets a locked (or any) PIN to the same digits.
    pub fn reset_pin(&mut self, family: usize) {
        let family = &mut self.families[family];
        family.pin_locked = false;
        family.wrong_pins_in_row = 0;
    }

    /// The release times still to come, soonest first.
    pub fn coming_releases(&self) -> Vec<NaiveDateTime> {
        let mut times: Vec<NaiveDateTime> = self
            .holds
            .iter()
            .filter(|hold| !hold.ended)
            .filter_map(|hold| hold.release_at)
            .filter(|at| *at > self.now)
            .collect();
        times.sort();
        times.dedup();
        times
    }
}
