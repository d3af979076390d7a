//! Reversal: the terminal did not hear back and cancels its request by STAN. The money
//! is restored exactly once; a reversal that arrives before its original leaves a
//! placeholder in the original's STAN slot, so the late original fails.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{agent_cash_scope, card_cash_scope, quota_period, quota_scope, EdcDetails};
use crate::domain::edc::{business_date, EdcKind, EdcStatus, Stan};
use crate::ledger::idempotency::{self, IdempotentRequest};
use crate::ledger::posting;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::edc::{self as edc_store, EdcInsertForm, EdcTransaction};
use crate::store::{now, usage, Store, Tx};

/// What a reversal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReversalOutcome {
    /// The original was approved; its money is back where it was.
    Reversed,
    /// The original never arrived; if it does, it will be refused.
    OriginalVoided,
    /// Nothing left to do: reversed before.
    AlreadyReversed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReversalResult {
    pub outcome: ReversalOutcome,
    pub original_stan: String,
    /// The original's reference, when it had arrived.
    pub original_reference: Option<String>,
}

/// Reverses the terminal's transaction with `original_stan` from today.
pub fn reverse(
    store: &Store,
    principal: &Principal,
    original_stan: &Stan,
    idempotency_key: &str,
) -> Result<ReversalResult, ServiceError> {
    let Principal::Agent { id: agent_id, terminal } = principal else {
        return Err(ServiceError::Forbidden("reversals are sent by an agent's terminal".to_owned()));
    };
    let fingerprint = idempotency::fingerprint(&("reversal", original_stan.as_str()))?;
    let key = IdempotentRequest { scope: terminal, key: idempotency_key, fingerprint: &fingerprint };
    idempotency::run_once(store, &key, |_| Ok(()), |tx, ()| reverse_in(tx, *agent_id, terminal, original_stan))
}

fn reverse_in(
    tx: &mut Tx<'_>,
    agent_id: i64,
    terminal: &str,
    original_stan: &Stan,
) -> Result<ReversalResult, ServiceError> {
    let day = business_date(now());
    let reference = crate::domain::edc::new_reference();
    let mut placeholder = EdcInsertForm::new(terminal, original_stan.as_str(), day, EdcKind::Reversal, agent_id);
    placeholder.status = EdcStatus::ReversedBeforeArrival.into();
    placeholder.reference = &reference;
    placeholder.original_stan = Some(original_stan.as_str());
    let stan = original_stan.as_str().to_owned();
    if edc_store::claim(tx, &placeholder)?.is_some() {
        return Ok(ReversalResult {
            outcome: ReversalOutcome::OriginalVoided,
            original_stan: stan,
            original_reference: None,
        });
    }
    let original = edc_store::find_by_stan(tx, terminal, original_stan.as_str(), day)?
        .ok_or_else(|| ServiceError::Internal(format!("STAN {stan} is taken but not found")))?;
    let original_reference = Some(original.reference.clone());
    if original.status != EdcStatus::Approved || !edc_store::mark_reversed(tx, original.id)? {
        return Ok(ReversalResult {
            outcome: ReversalOutcome::AlreadyReversed,
            original_stan: stan,
            original_reference,
        });
    }
    // Limits and quotas before the money, in the order a transaction takes them, so that
    // a reversal and a withdrawal on the same card never wait for each other's locks.
    give_back_usage(tx, &original)?;
    if let Some(journal) = original.journal {
        posting::reverse(tx, journal, &format!("reversal of {}", original.reference), "terminal reversal")?;
    }
    Ok(ReversalResult { outcome: ReversalOutcome::Reversed, original_stan: stan, original_reference })
}

/// Returns what the original took from limits and quotas.
fn give_back_usage(tx: &mut Tx<'_>, original: &EdcTransaction) -> Result<(), ServiceError> {
    let Some(family_id) = original.family_id else { return Ok(()) };
    match original.kind {
        EdcKind::CashWithdrawal => {
            let period = original.business_date.to_string();
            usage::give_back(tx, &card_cash_scope(family_id), &period, original.amount_minor)?;
            usage::give_back(tx, &agent_cash_scope(original.agent_id), &period, original.amount_minor)?;
        }
        EdcKind::Purchase => {
            let period = quota_period(original.business_date);
            for line in EdcDetails::parse(&original.details).basket.iter().filter(|line| line.quota.is_some()) {
                usage::give_back(tx, &quota_scope(family_id, &line.sku), &period, i64::from(line.quantity))?;
            }
        }
        EdcKind::BalanceInquiry | EdcKind::WalletToSavings | EdcKind::Reversal => {}
    }
    Ok(())
}
