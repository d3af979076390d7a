//! Reversal: the terminal did not hear back and cancels its request. Like ISO 8583's
//! field 90, the reversal names its original by STAN and transmission time, which give
//! the original's slot (terminal, STAN, business day), whenever the reversal arrives. The
//! money and the limits are restored exactly once; a reversal that arrives before its
//! original leaves a placeholder in the original's slot, so the late original fails.

pub use kks_wire::edc::reversal::{Original, ReversalOutcome, ReversalResult};

use super::EdcBasket;
use crate::domain::edc::{new_reference, EdcKind, EdcStatus};
use crate::domain::transmission::check_reversal;
use crate::domain::usage::{basket_usage, cash_withdrawal_usage, Usage};
use crate::ledger::idempotency::{self, IdempotentRequest};
use crate::ledger::posting;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::edc::{self as edc_store, EdcInsertForm, EdcTransaction};
use crate::store::usage as usage_store;
use crate::store::{now, Store, Tx};

/// Reverses the terminal's transaction `original`, once per idempotency key.
pub fn reverse(
    store: &Store,
    principal: &Principal,
    original: &Original,
    idempotency_key: &str,
) -> Result<ReversalResult, ServiceError> {
    let Principal::Agent { id: agent_id, terminal } = principal else {
        return Err(ServiceError::Forbidden("reversals are sent by an agent's terminal".to_owned()));
    };
    let fingerprint = idempotency::fingerprint(&("reversal", original.stan.as_str(), original.transmitted_at.utc()))?;
    let key = IdempotentRequest { scope: terminal, key: idempotency_key, fingerprint: &fingerprint, presumed: None };
    // Checked once the key has proved new, so that a retry gets its first answer even
    // after the window has closed. A closed window is an answer, kept under the key; an
    // original "sent" in the future is the terminal's clock, and is not kept.
    let checks = |_: &mut Tx<'_>| Ok(check_reversal(original.transmitted_at, now())?);
    super::with_fresh_references(|| {
        idempotency::run_once(store, &key, checks, |tx, ()| reverse_in(tx, *agent_id, terminal, original))
    })
}

fn reverse_in(
    tx: &mut Tx<'_>,
    agent_id: i64,
    terminal: &str,
    original: &Original,
) -> Result<ReversalResult, ServiceError> {
    let (stan, day) = (original.stan.as_str(), original.transmitted_at.business_date());
    let reference = new_reference();
    let mut placeholder = EdcInsertForm::new(terminal, stan, day, EdcKind::Reversal, agent_id);
    placeholder.status = EdcStatus::ReversedBeforeArrival.into();
    placeholder.reference = &reference;
    placeholder.original_stan = Some(stan);
    if edc_store::claim(tx, &placeholder)?.is_some() {
        return Ok(ReversalResult {
            outcome: ReversalOutcome::OriginalVoided,
            original_stan: stan.to_owned(),
            original_reference: None,
        });
    }
    // The STAN's slot is taken, or else the placeholder's reference is.
    let found = edc_store::find_by_stan(tx, terminal, stan, day)?.ok_or(ServiceError::ReferenceTaken)?;
    let original_reference = Some(found.reference.clone());
    let already_reversed = || ReversalResult {
        outcome: ReversalOutcome::AlreadyReversed,
        original_stan: stan.to_owned(),
        original_reference: original_reference.clone(),
    };
    if found.status != EdcStatus::Approved {
        return Ok(already_reversed());
    }
    // Read before anything changes: details that cannot be read fail the reversal (and
    // roll it back) rather than give back nothing.
    let usages = usage_taken(&found)?;
    if !edc_store::mark_reversed(tx, found.id)? {
        return Ok(already_reversed());
    }
    // Limits and quotas before the money, in the order a transaction takes them, so that
    // a reversal and a withdrawal on the same card never wait for each other's locks.
    // They go back to the original's day (or month), whatever day it is now.
    for usage in &usages {
        usage_store::give_back(tx, usage, found.business_date)?;
    }
    if let Some(journal) = found.journal {
        posting::reverse(tx, journal, &format!("reversal of {}", found.reference), "terminal reversal")?;
    }
    Ok(ReversalResult { outcome: ReversalOutcome::Reversed, original_stan: stan.to_owned(), original_reference })
}

/// What the original took from limits and quotas, by the rules that took it.
fn usage_taken(original: &EdcTransaction) -> Result<Vec<Usage>, ServiceError> {
    let Some(family_id) = original.family_id else { return Ok(Vec::new()) };
    Ok(match original.kind {
        EdcKind::CashWithdrawal => cash_withdrawal_usage(family_id, original.agent_id, original.amount_minor).to_vec(),
        EdcKind::Purchase => {
            let basket = original
                .basket::<EdcBasket>()?
                .ok_or_else(|| ServiceError::Internal(format!("purchase {} has no basket", original.reference)))?;
            basket_usage(family_id, &basket.usage)
        }
        EdcKind::BalanceInquiry | EdcKind::WalletToSavings | EdcKind::Reversal => Vec::new(),
    })
}
