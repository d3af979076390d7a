//! Card transactions at an agent's EDC terminal: balance inquiry, cash withdrawal,
//! PKH e-wallet to savings, purchase at an e-Warong; reversal and the agent's reports.
//!
//! Each request runs once per idempotency key, in one transaction: the terminal's
//! transmission time, the card and its PIN are checked first (a wrong PIN is counted even
//! though the answer is a refusal), then limits and quotas are consumed, the money is
//! posted through the ledger and the EDC record is written in the terminal's STAN slot of
//! the business day on which the terminal sent the request, all or nothing.

pub mod receipt;
pub mod reports;
pub mod reversal;

use chrono::NaiveDate;
pub use kks_wire::edc::transaction::{BasketLine, EdcReceipt, PocketBalance, ReceiptItem};
use serde::{Deserialize, Serialize};

use super::access;
use super::auth::pin::{check_pin, find_usable_card};
use super::auth::{Auth, Principal};
use super::families::{family_pockets_and_settlement, pocket_name, PocketState};
use super::ServiceError;
use crate::domain::auth::{AgentKind, Pin};
use crate::domain::card::CardNumber;
use crate::domain::card_qr::IssuerVerifyingKeys;
use crate::domain::edc::{
    format_rupiah, new_approval_code, new_reference, EdcKind, EdcStatus, PurchaseProgramme, Stan, BASKET_LINES_MAX,
    BASKET_QUANTITY_MAX,
};
use crate::domain::ledger::{AccountKind, JournalKind, OwnerKind};
use crate::domain::money::{rupiah_from_minor, Amount};
use crate::domain::transmission::{check_transmission, TransmittedAt};
use crate::domain::usage::{
    basket_usage, cash_withdrawal_usage, check_withdrawal_amount, BasketUsage, Usage, UsageScope,
};
use crate::ledger::accounts;
use crate::ledger::idempotency::{self, IdempotentRequest, Replayable};
use crate::ledger::posting::{self, PostedJournal};
use crate::ledger::{AccountId, LedgerError, Refusal};
use crate::store::agents::Agent;
use crate::store::cards::Card;
use crate::store::catalogue;
pub use crate::store::catalogue::CatalogueItem;
use crate::store::edc::{self as edc_store, EdcInsertForm, SlipPocket, SlipPocketColumns};
use crate::store::usage as usage_store;
use crate::store::{now, Store, Tx};

/// How the card reached the terminal.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardInput {
    /// The text of the card's QR, as scanned.
    Qr(String),
    /// The 16 digits keyed in.
    Keyed(CardNumber),
}

/// What the cardholder asked for.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Operation {
    BalanceInquiry,
    CashWithdrawal { amount: Amount },
    WalletToSavings { amount: Amount },
    Purchase { programme: PurchaseProgramme, basket: Vec<BasketLine> },
}

impl Operation {
    fn kind(&self) -> EdcKind {
        match self {
            Self::BalanceInquiry => EdcKind::BalanceInquiry,
            Self::CashWithdrawal { .. } => EdcKind::CashWithdrawal,
            Self::WalletToSavings { .. } => EdcKind::WalletToSavings,
            Self::Purchase { .. } => EdcKind::Purchase,
        }
    }
}

/// A card transaction as the terminal sends it.
#[derive(Debug, Clone)]
pub struct CardRequest {
    pub card: CardInput,
    pub pin: Pin,
    pub stan: Stan,
    /// When the terminal sent it: names its business day.
    pub transmitted_at: TransmittedAt,
    pub idempotency_key: String,
    pub operation: Operation,
}

/// What an approved purchase keeps in its EDC record: what its basket took from the
/// monthly quotas (a reversal gives it back) and the goods its slip prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdcBasket {
    pub usage: Vec<BasketUsage>,
    pub items: Vec<ReceiptItem>,
}

/// What an approved card transaction's idempotency record keeps: its reference. A retry's
/// receipt is drawn again from the EDC record ([`receipt::draw`]), as the first one was.
/// (Records written before the EDC record had columns for its slip hold the whole
/// receipt; its `reference` is read from it and the rest ignored.)
#[derive(Debug, Serialize, Deserialize)]
struct Approved {
    reference: String,
    /// The receipt, on the request that made it; a retry draws it again.
    #[serde(skip)]
    receipt: Option<EdcReceipt>,
}

/// Runs a card transaction for an agent's terminal, once per idempotency key.
///
/// The caller's access token has been verified but not yet checked for revocation: the
/// agent and its terminal are read in the transaction anyway, so the token version and
/// the terminal (still the agent's, still active) are checked there, before the key is
/// claimed or an earlier answer given again.
pub fn transact(
    store: &Store,
    auth: &Auth,
    issuer: &IssuerVerifyingKeys,
    (principal, token_version): (&Principal, i64),
    request: &CardRequest,
) -> Result<EdcReceipt, ServiceError> {
    let Principal::Agent { id: agent_id, terminal } = principal else {
        return Err(ServiceError::Forbidden("card transactions are made on an agent's terminal".to_owned()));
    };
    // The PIN is left out: a digest of a 6-digit PIN would give it away. The moment
    // is in: it names the business day, and a retry resends the request as it was.
    let fingerprint = idempotency::fingerprint(&(
        &request.card,
        request.stan.as_str(),
        request.transmitted_at.utc(),
        &request.operation,
    ))?;
    // The agent's name heads the slip, of a retry's receipt too.
    let mut agent_name = String::new();
    let approved = with_fresh_references(|| {
        run_once_with_reference(
            store,
            auth,
            issuer,
            (*agent_id, terminal, token_version),
            request,
            &fingerprint,
            &mut agent_name,
        )
    })?;
    match approved.receipt {
        Some(receipt) => Ok(receipt),
        None => store.read(|tx| {
            let row = edc_store::find_by_reference(tx, &approved.reference)?.ok_or_else(|| {
                ServiceError::Internal(format!(
                    "the EDC record {} of an answered request is missing",
                    approved.reference
                ))
            })?;
            receipt::draw(&row, &agent_name)
        }),
    }
}

/// How many references a card transaction or a reversal draws before it gives up (each
/// draw meets another's reference about once in 1.5 million at today's volume).
const REFERENCE_DRAWS_MAX: u32 = 3;

/// Runs `run` (one idempotent run that draws its own reference) again while its reference
/// was another's: such a run is rolled back whole, key and all.
fn with_fresh_references<T>(mut run: impl FnMut() -> Result<T, ServiceError>) -> Result<T, ServiceError> {
    let mut draws = 1;
    loop {
        match run() {
            Err(ServiceError::ReferenceTaken) if draws < REFERENCE_DRAWS_MAX => draws += 1,
            answered => return answered,
        }
    }
}

/// [`transact`]'s one run, under its idempotency key, with a reference drawn for it. The
/// reference is drawn before the key is claimed, so that the claim already holds the
/// answer an approval gives (the reference) and an approval writes the record once.
fn run_once_with_reference(
    store: &Store,
    auth: &Auth,
    issuer: &IssuerVerifyingKeys,
    (agent_id, terminal, token_version): (i64, &str, i64),
    request: &CardRequest,
    fingerprint: &str,
    agent_name: &mut String,
) -> Result<Approved, ServiceError> {
    let reference = new_reference();
    let presumed = idempotency::presumed_done(&Approved { reference: reference.clone(), receipt: None })?;
    let key =
        IdempotentRequest { scope: terminal, key: &request.idempotency_key, fingerprint, presumed: Some(&presumed) };
    idempotency::run_once_as(
        store,
        &key,
        |tx| {
            let agent = super::auth::agent_on_terminal(tx, agent_id, terminal, token_version)?;
            agent_name.clone_from(&agent.display_name);
            Ok(agent)
        },
        |tx, agent| {
            // The transmission time is checked once the key has proved new, not before:
            // a retry of a request answered earlier gets its first answer however late
            // it comes. A time out of range is refused before the PIN is counted, and
            // is not kept under the key (see `Replayable for ServiceError`), so the
            // terminal may send the request again once its clock is right.
            check_transmission(request.transmitted_at, now())?;
            let card = cardholder(tx, auth, issuer, &request.card, &request.pin)?;
            Ok((agent, card))
        },
        |tx, (agent, card)| execute(tx, &agent, terminal, &card, request, reference),
    )
}

/// The card behind the input, if it may transact and the PIN is right.
fn cardholder(
    tx: &mut Tx<'_>,
    auth: &Auth,
    issuer: &IssuerVerifyingKeys,
    input: &CardInput,
    pin: &Pin,
) -> Result<Card, ServiceError> {
    let card = match input {
        CardInput::Keyed(number) => find_usable_card(tx, number)??,
        CardInput::Qr(text) => super::cards::usable_card_from_qr(tx, issuer, text)?,
    };
    check_pin(tx, &auth.pin_keys, &card, pin)??;
    Ok(card)
}

fn execute(
    tx: &mut Tx<'_>,
    agent: &Agent,
    terminal: &str,
    card: &Card,
    request: &CardRequest,
    reference: String,
) -> Result<Approved, ServiceError> {
    let operation = &request.operation;
    match (operation, agent.kind) {
        (Operation::CashWithdrawal { .. }, AgentKind::EWarong) => {
            return Err(ServiceError::OperationNotAllowed(
                "an e-Warong sells goods; cash is paid by a bank agent".to_owned(),
            ))
        }
        (Operation::Purchase { .. }, AgentKind::BankAgent) => {
            return Err(ServiceError::OperationNotAllowed("goods are sold at an e-Warong".to_owned()))
        }
        _ => {}
    }
    let at = now();
    // The day on which the terminal sent it, not the one on which it arrived: its STAN
    // slot, the period of its limits and its receipt's date (a withdrawal sent at
    // 23:59:53 WIB is that day's, and its reversal finds it there after midnight).
    let day = request.transmitted_at.business_date();
    let approval_code = new_approval_code();
    let mut form = EdcInsertForm::new(terminal, request.stan.as_str(), day, operation.kind(), agent.id);
    form.card_number = Some(card.card_number.as_str());
    form.family_id = Some(card.family_id);
    form.reference = &reference;
    form.approval_code = &approval_code;
    form.created_at = at;
    let pocket = debited_pocket(operation);
    form.pocket = pocket.map(<&str>::from);
    let priced = match operation {
        Operation::Purchase { programme, basket } => price_basket(tx, *programme, basket)?,
        _ => Vec::new(),
    };
    let usage: Vec<BasketUsage> = priced.iter().map(PricedLine::usage).collect();
    let amount_minor = match operation {
        Operation::BalanceInquiry => 0,
        Operation::CashWithdrawal { amount } | Operation::WalletToSavings { amount } => amount.minor(),
        Operation::Purchase { .. } => priced.iter().map(|item| item.total_minor).sum(),
    };
    form.amount_minor = amount_minor;

    // The limits and the money first, the STAN last: the EDC row is written once, with
    // its journal and slip, and a STAN already taken undoes the rest (the savepoint).
    // It is still the answer whatever else refuses, as when the slot was claimed first:
    // a business refusal (one kept for retries) looks the slot up before it is given.
    let stan_taken = |tx: &mut Tx<'_>| stan_taken(tx, terminal, request.stan.as_str(), day);
    let (pockets, journal) = match take_and_post(tx, agent, card, request, &reference, amount_minor, &usage) {
        Ok(moved) => moved,
        Err(refusal) if refusal.to_stored().is_some() => return Err(stan_taken(tx)?.unwrap_or(refusal)),
        Err(outage) => return Err(outage),
    };

    // Each pocket as the journal left it, at this moment: what the slip prints.
    let slip_pockets: Vec<SlipPocket> = pockets
        .iter()
        .map(|pocket| {
            let balance_minor = journal
                .as_ref()
                .and_then(|journal| journal.balance_after(pocket.account.id))
                .unwrap_or(pocket.account.balance_minor);
            SlipPocket {
                kind: pocket.account.kind,
                balance_minor,
                held_minor: pocket.figures(balance_minor, at).held_minor,
                blocked: pocket.account.block.is_some(),
            }
        })
        .collect();
    form.pockets = SlipPocketColumns::of(&slip_pockets);
    let basket =
        (!priced.is_empty()).then(|| EdcBasket { usage, items: priced.iter().map(PricedLine::receipt_item).collect() });
    let basket_json = basket.as_ref().map(edc_store::basket_json).transpose()?;
    form.basket = basket_json.as_deref();
    form.journal_id = journal.map(|journal| journal.id.0);
    let Some(row) = edc_store::claim(tx, &form)? else {
        // The STAN's slot is taken, or else the reference is.
        return Err(stan_taken(tx)?.unwrap_or(ServiceError::ReferenceTaken));
    };
    Ok(Approved { receipt: Some(receipt::draw(&row, &agent.display_name)?), reference })
}

/// The refusal for a STAN already taken on the business day, if it is.
fn stan_taken(
    tx: &mut Tx<'_>,
    terminal: &str,
    stan: &str,
    day: NaiveDate,
) -> Result<Option<ServiceError>, ServiceError> {
    Ok(edc_store::find_by_stan(tx, terminal, stan, day)?.map(|taken| {
        if taken.status == EdcStatus::ReversedBeforeArrival {
            ServiceError::OriginalReversed(stan.to_owned())
        } else {
            ServiceError::DuplicateStan(stan.to_owned())
        }
    }))
}

/// Takes the limits and quotas and posts the money: the family's pockets as read before
/// the journal, and the journal (none for a balance inquiry).
fn take_and_post(
    tx: &mut Tx<'_>,
    agent: &Agent,
    card: &Card,
    request: &CardRequest,
    reference: &str,
    amount_minor: i64,
    basket: &[BasketUsage],
) -> Result<(Vec<PocketState>, Option<PostedJournal>), ServiceError> {
    let day = request.transmitted_at.business_date();
    // The family's pockets, read once: the receipt prints them as the journal left them.
    // The agent's settlement account comes with them when the agent is paid.
    let pays_agent = matches!(request.operation, Operation::CashWithdrawal { .. } | Operation::Purchase { .. });
    let (pockets, settlement) = family_pockets_and_settlement(tx, card.family_id, pays_agent.then_some(agent.id))?;
    let settlement = |tx: &mut Tx<'_>| match &settlement {
        Some(account) => Ok(account.id),
        None => agent_settlement(tx, agent.id),
    };
    let family_account = |kind: AccountKind| {
        pockets
            .iter()
            .find(|pocket| pocket.account.kind == kind)
            .map(|pocket| pocket.account.id)
            .ok_or_else(|| ServiceError::Internal(format!("family {} has no {kind} account", card.family_id)))
    };
    let journal = match &request.operation {
        Operation::BalanceInquiry => None,
        Operation::CashWithdrawal { amount } => {
            check_withdrawal_amount(*amount)
                .map_err(|refused| ServiceError::WithdrawalLimitExceeded(format_rupiah(refused.limit_minor)))?;
            take_usage(tx, &cash_withdrawal_usage(card.family_id, agent.id, amount.minor()), day)?;
            let savings = family_account(AccountKind::Savings)?;
            let settlement = settlement(tx)?;
            Some(move_money(
                tx,
                JournalKind::CashWithdrawal,
                reference,
                savings,
                settlement,
                *amount,
                AccountKind::Savings,
            )?)
        }
        Operation::WalletToSavings { amount } => {
            let wallet = family_account(AccountKind::WalletPkh)?;
            let savings = family_account(AccountKind::Savings)?;
            Some(move_money(
                tx,
                JournalKind::WalletToSavings,
                reference,
                wallet,
                savings,
                *amount,
                AccountKind::WalletPkh,
            )?)
        }
        Operation::Purchase { programme, .. } => {
            take_usage(tx, &basket_usage(card.family_id, basket), day)?;
            let amount =
                Amount::from_minor(amount_minor).map_err(|error| ServiceError::Invalid(format!("basket: {error}")))?;
            let wallet = family_account(programme.wallet())?;
            let settlement = settlement(tx)?;
            Some(move_money(tx, JournalKind::Purchase, reference, wallet, settlement, amount, programme.wallet())?)
        }
    };
    Ok((pockets, journal))
}

/// The family pocket a transaction takes money from, if any.
fn debited_pocket(operation: &Operation) -> Option<AccountKind> {
    match operation {
        Operation::BalanceInquiry => None,
        Operation::CashWithdrawal { .. } => Some(AccountKind::Savings),
        Operation::WalletToSavings { .. } => Some(AccountKind::WalletPkh),
        Operation::Purchase { programme, .. } => Some(programme.wallet()),
    }
}

/// The agent's settlement account, opened at its first card transaction.
fn agent_settlement(tx: &mut Tx<'_>, agent_id: i64) -> Result<AccountId, ServiceError> {
    Ok(accounts::find_or_open(tx, OwnerKind::Agent, &agent_id.to_string(), AccountKind::AgentSettlement)?.id)
}

/// Posts the movement; a refusal names the pocket, what was asked and what is free.
fn move_money(
    tx: &mut Tx<'_>,
    kind: JournalKind,
    reference: &str,
    from: AccountId,
    to: AccountId,
    amount: Amount,
    pocket: AccountKind,
) -> Result<PostedJournal, ServiceError> {
    let pocket_words = || pocket_name(pocket).en;
    match posting::transfer(tx, kind, reference, from, to, amount) {
        Ok(journal) => Ok(journal),
        Err(LedgerError::Refused(Refusal::FundsHeld { available_minor, requested_minor, reasons, .. })) => {
            Err(ServiceError::FundsHeld {
                pocket: pocket_words(),
                requested: format_rupiah(requested_minor),
                available: format_rupiah(available_minor),
                reasons: reasons.iter().map(|reason| reason.as_ref()).collect::<Vec<_>>().join(", "),
            })
        }
        Err(LedgerError::Refused(Refusal::DebitBlocked { reference, .. })) => {
            Err(ServiceError::WalletBlocked { pocket: pocket_words(), reference })
        }
        Err(LedgerError::Refused(Refusal::InsufficientFunds { available_minor, requested_minor, .. })) => {
            Err(ServiceError::InsufficientFunds {
                pocket: pocket_words(),
                requested: format_rupiah(requested_minor),
                available: format_rupiah(available_minor),
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// Takes each usage from its counter, in one statement; the first counter, in the order
/// given, that would pass its limit refuses the transaction (its savepoint undoes what
/// was taken).
fn take_usage(tx: &mut Tx<'_>, usages: &[Usage], business_day: NaiveDate) -> Result<(), ServiceError> {
    match usage_store::consume(tx, usages, business_day)?.and_then(|refused| usages.get(refused)) {
        Some(usage) => Err(limit_reached(&usage.scope)),
        None => Ok(()),
    }
}

/// The refusal that names the limit a counter reached.
fn limit_reached(scope: &UsageScope) -> ServiceError {
    match scope {
        UsageScope::CardCash { .. } => ServiceError::DailyWithdrawalLimitExceeded(format_rupiah(scope.limit())),
        UsageScope::AgentCashOut { .. } => ServiceError::AgentDailyLimitExceeded(format_rupiah(scope.limit())),
        UsageScope::ItemQuota { sku, quota, .. } => ServiceError::QuotaExceeded { sku: sku.clone(), quota: *quota },
    }
}

/// A basket line with its catalogue item and price.
#[derive(Debug, Clone)]
struct PricedLine {
    item: CatalogueItem,
    quantity: u32,
    total_minor: i64,
}

impl PricedLine {
    fn receipt_item(&self) -> ReceiptItem {
        ReceiptItem {
            sku: self.item.sku.clone(),
            name: self.item.name.clone(),
            quantity: self.quantity,
            unit_price: rupiah_from_minor(self.item.price_minor),
            total: rupiah_from_minor(self.total_minor),
        }
    }

    /// What a reversal gives back to the quota.
    fn usage(&self) -> BasketUsage {
        BasketUsage { sku: self.item.sku.clone(), quantity: self.quantity, quota: self.item.monthly_quota }
    }
}

fn price_basket(
    tx: &mut Tx<'_>,
    programme: PurchaseProgramme,
    basket: &[BasketLine],
) -> Result<Vec<PricedLine>, ServiceError> {
    if basket.is_empty() || basket.len() > BASKET_LINES_MAX {
        return Err(ServiceError::Invalid(format!("a basket has 1 to {BASKET_LINES_MAX} lines")));
    }
    let catalogue = catalogue::find_active(tx)?;
    let mut priced = Vec::with_capacity(basket.len());
    for line in basket {
        if line.quantity == 0 || line.quantity > BASKET_QUANTITY_MAX {
            return Err(ServiceError::Invalid(format!("quantity: 1 to {BASKET_QUANTITY_MAX}")));
        }
        if priced.iter().any(|earlier: &PricedLine| earlier.item.sku == line.sku) {
            return Err(ServiceError::Invalid(format!("{} appears twice in the basket", line.sku)));
        }
        let item = catalogue
            .iter()
            .find(|item| item.sku == line.sku)
            .ok_or_else(|| ServiceError::UnknownItem(line.sku.chars().take(32).collect()))?;
        if item.programme != programme {
            return Err(ServiceError::ItemNotEligible { sku: item.sku.clone(), programme: programme.to_string() });
        }
        let total_minor = item
            .price_minor
            .checked_mul(i64::from(line.quantity))
            .ok_or_else(|| ServiceError::Invalid("basket total".to_owned()))?;
        priced.push(PricedLine { item: item.clone(), quantity: line.quantity, total_minor });
    }
    Ok(priced)
}

/// The catalogue an e-Warong sells from.
pub fn catalogue(store: &Store) -> Result<Vec<CatalogueItem>, ServiceError> {
    Ok(store.read(catalogue::find_active)?)
}

/// The transactions a family sees in its history (the family, or an operator of its region).
pub fn family_history(
    store: &Store,
    principal: &Principal,
    family_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<reports::HistoryEntry>, ServiceError> {
    store.read(|tx| {
        access::visible_family(tx, principal, family_id)?;
        Ok(edc_store::find_by_family(tx, family_id, before, limit)?
            .into_iter()
            .map(reports::HistoryEntry::from)
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run whose reference was another's `taken` times before it is answered.
    fn runs_after_taken(taken: u32) -> (Result<u32, ServiceError>, u32) {
        let mut runs = 0;
        let answered = with_fresh_references(|| {
            runs += 1;
            if runs <= taken {
                Err(ServiceError::ReferenceTaken)
            } else {
                Ok(runs)
            }
        });
        (answered, runs)
    }

    #[test]
    fn a_taken_reference_is_drawn_again_until_a_run_is_answered() {
        let (answered, runs) = runs_after_taken(REFERENCE_DRAWS_MAX - 1);
        assert_eq!(answered.unwrap(), REFERENCE_DRAWS_MAX);
        assert_eq!(runs, REFERENCE_DRAWS_MAX);
    }

    #[test]
    fn after_the_last_draw_a_taken_reference_is_the_answer() {
        let (answered, runs) = runs_after_taken(REFERENCE_DRAWS_MAX);
        assert!(matches!(answered, Err(ServiceError::ReferenceTaken)));
        assert_eq!(runs, REFERENCE_DRAWS_MAX);
    }

    #[test]
    fn any_other_answer_is_given_at_once() {
        let mut runs = 0;
        let answered: Result<(), ServiceError> = with_fresh_references(|| {
            runs += 1;
            Err(ServiceError::DuplicateStan("000001".to_owned()))
        });
        assert!(matches!(answered, Err(ServiceError::DuplicateStan(_))));
        assert_eq!(runs, 1);
    }
}
