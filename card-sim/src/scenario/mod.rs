//! Scenario files: a readable TOML script of steps, each with the outcome it must have.
//!
//! ```toml
//! name = "PKH to savings, then cash"
//!
//! [[step]]
//! name = "Siti moves her PKH money to savings"
//! do = "wallet_to_savings"      # the step kind
//! agent = "agen.cileunyi"       # whose terminal
//! family = 1                    # the first family of the credentials file
//! amount = "500000"
//! expect = "approved"
//! balances = { wallet_pkh = "0", savings = "500000" }
//! ```
//!
//! A file is read whole and checked before anything is sent: unknown fields, a field
//! that does not apply to the step's kind, a missing one, or a reference to a step that
//! does not exist all stop it with the step's name. Step kinds are one enum: a new kind of
//! step is a new variant there and in [`Action`].

mod parse;
mod programme;
mod run;

use std::path::Path;

use anyhow::Context as _;
use kks_wire::edc::reversal::ReversalOutcome;
use rust_decimal::Decimal;
use serde::Deserialize;

pub use run::run;

use crate::terminal::Operation;

/// The largest scenario file read.
const SCENARIO_BYTES_MAX: u64 = 1024 * 1024;

/// What a step does. New kinds go here (and in [`Action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// EDC: every pocket's balance.
    BalanceInquiry,
    /// EDC: cash from savings (`amount`).
    CashWithdrawal,
    /// EDC: PKH e-wallet to savings (`amount`).
    WalletToSavings,
    /// EDC at an e-Warong: `programme` and `basket`.
    Purchase,
    /// EDC: cancel the transaction of step `of` by its STAN (the step may come later:
    /// a reversal that arrives before its original). Each reversal step is a new message
    /// with its own Idempotency-Key.
    Reversal,
    /// EDC: send the request of step `of` again, same STAN and Idempotency-Key; it must
    /// get the first answer.
    Retry,
    /// An agent asks the server whether a card is current (lost, replaced, expired).
    CheckQr,
    /// An operator (or, without `operator`, the family) reports the card lost.
    ReportLost,
    /// An operator unlocks the card's PIN (and sets `new_pin` if given).
    ResetPin,
    /// Pays a stage or month of a programme: `operator` prepares and executes the batch,
    /// `supervisor` (another person) approves it; waits until it is paid.
    Disburse,
    /// An operator records whether the family met its commitments in a `cycle`; a failure
    /// names the `member` (counting from 1 in the family's list) and the `obligation`.
    Verify,
    /// A `supervisor` closes a `cycle`: families that failed are suspended (their PKH money
    /// held), families that complied again are released.
    CloseCycle,
}

impl StepKind {
    fn name(self) -> &'static str {
        match self {
            Self::BalanceInquiry => "balance_inquiry",
            Self::CashWithdrawal => "cash_withdrawal",
            Self::WalletToSavings => "wallet_to_savings",
            Self::Purchase => "purchase",
            Self::Reversal => "reversal",
            Self::Retry => "retry",
            Self::CheckQr => "check_qr",
            Self::ReportLost => "report_lost",
            Self::ResetPin => "reset_pin",
            Self::Disburse => "disburse",
            Self::Verify => "verify",
            Self::CloseCycle => "close_cycle",
        }
    }

    fn is_card_transaction(self) -> bool {
        matches!(self, Self::BalanceInquiry | Self::CashWithdrawal | Self::WalletToSavings | Self::Purchase)
    }
}

/// How the card reaches the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSource {
    /// The 16 digits keyed in.
    #[default]
    Keyed,
    /// The QR text, as the card carries it.
    Qr,
    /// The card's front rendered by the server, its QR decoded from the pixels.
    Image,
}

/// The PIN a step types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinChoice {
    /// The card's PIN from the credentials file.
    Correct,
    /// A PIN that is certainly not the card's.
    Wrong,
    /// These six digits.
    Typed(String),
}

#[derive(Debug, Clone)]
pub struct CardStep {
    pub agent: String,
    pub family: usize,
    pub card: CardSource,
    pub pin: PinChoice,
    pub operation: Operation,
    /// Another step whose STAN this one reuses (a faulty terminal), with its own key.
    pub stan_of: Option<usize>,
    /// Another step whose STAN and Idempotency-Key this one reuses, with its own body.
    pub key_of: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Card(CardStep),
    Reversal { agent: String, of: usize },
    Retry { of: usize },
    CheckQr { agent: String, family: usize, card: CardSource },
    ReportLost { operator: Option<String>, family: usize, reason: String },
    ResetPin { operator: String, family: usize, reason: String, new_pin: Option<String> },
    Disburse { operator: String, supervisor: String, programme: String, year: i32, period: i32 },
    Verify { operator: String, family: usize, cycle: String, failure: Option<(usize, String)> },
    CloseCycle { supervisor: String, cycle: String },
}

/// What a step must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// `None`: approved; otherwise refused with this code.
    pub refused_with: Option<String>,
    pub outcome: Option<ReversalOutcome>,
    /// Pocket kind (`savings`, `wallet_pkh`…) and its balance after the step.
    pub balances: Vec<(String, Decimal)>,
    /// Pocket kind and what is available (balance less holds) after the step.
    pub available: Vec<(String, Decimal)>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    pub action: Action,
    pub expect: Expectation,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).with_context(|| format!("opening the scenario {}", path.display()))?;
        let mut text = String::new();
        file.take(SCENARIO_BYTES_MAX)
            .read_to_string(&mut text)
            .with_context(|| format!("reading the scenario {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the scenario {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        parse::parse(text)
    }
}
