//! What an agent and a family see afterwards: transaction history and the agent's
//! settlement for a day.

use chrono::NaiveDate;
pub use kks_wire::edc::reports::{HistoryEntry, Settlement};

use crate::domain::edc::{business_date, EdcKind, EdcStatus};
use crate::domain::money::rupiah_from_minor;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::agents;
pub use crate::store::edc::HISTORY_PAGE_MAX;
use crate::store::edc::{self as edc_store, EdcTransaction};
use crate::store::{now, Store};

impl From<EdcTransaction> for HistoryEntry {
    fn from(row: EdcTransaction) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            status: row.status,
            terminal_id: row.terminal_id,
            stan: row.stan,
            reference: row.reference,
            business_date: row.business_date,
            at: row.created_at,
            card_number: row.card_number,
            family_id: row.family_id,
            pocket: row.pocket,
            amount: rupiah_from_minor(row.amount_minor),
        }
    }
}

fn agent_id(principal: &Principal) -> Result<i64, ServiceError> {
    match principal {
        Principal::Agent { id, .. } => Ok(*id),
        _ => Err(ServiceError::Forbidden("agent reports are for agents".to_owned())),
    }
}

/// The business day asked for, or today's by the ledger's clock.
fn day_or_today(day: Option<NaiveDate>) -> NaiveDate {
    day.unwrap_or_else(|| business_date(now()))
}

/// The agent's own transactions on a business day (today unless told), across all its terminals.
pub fn agent_history(
    store: &Store,
    principal: &Principal,
    day: Option<NaiveDate>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, ServiceError> {
    let agent_id = agent_id(principal)?;
    let day = day_or_today(day);
    let rows = store.read(|tx| edc_store::find_by_agent_and_date(tx, agent_id, day, after, limit))?;
    Ok(rows.into_iter().map(HistoryEntry::from).collect())
}

/// The agent's settlement for a business day (today unless told), from the database's sums.
pub fn settlement(store: &Store, principal: &Principal, day: Option<NaiveDate>) -> Result<Settlement, ServiceError> {
    let agent_id = agent_id(principal)?;
    let day = day_or_today(day);
    let totals = store.read(|tx| edc_store::day_totals(tx, agent_id, day))?;
    let approved = |kind: EdcKind| {
        totals
            .iter()
            .find(|total| total.kind == kind.as_ref() && total.status == EdcStatus::Approved.as_ref())
            .map_or((0, 0), |total| (u64::try_from(total.count).unwrap_or(0), total.amount_minor))
    };
    let (cash_withdrawals, cash_minor) = approved(EdcKind::CashWithdrawal);
    let (purchases, goods_minor) = approved(EdcKind::Purchase);
    let reversed = totals
        .iter()
        .filter(|total| total.status == EdcStatus::Reversed.as_ref())
        .map(|total| u64::try_from(total.count).unwrap_or(0))
        .sum();
    Ok(Settlement {
        agent_id,
        business_date: day,
        cash_withdrawals,
        cash_paid_out: rupiah_from_minor(cash_minor),
        purchases,
        goods_sold: rupiah_from_minor(goods_minor),
        reversed,
        owed_to_agent: rupiah_from_minor(cash_minor + goods_minor),
    })
}

/// The slip of a transaction as PNG: for the agent that made it, or the family it was for.
pub fn slip(store: &Store, principal: &Principal, reference: &str) -> Result<Vec<u8>, ServiceError> {
    let (row, agent) = store.read(|tx| -> Result<_, ServiceError> {
        let row = edc_store::find_by_reference(tx, reference)?.ok_or(ServiceError::NotFound("transaction"))?;
        let agent = agents::find_by_id(tx, row.agent_id)?;
        Ok((row, agent))
    })?;
    let mine = match principal {
        Principal::Agent { id, .. } => row.agent_id == *id,
        Principal::Family { id } => row.family_id == Some(*id),
        Principal::Operator { .. } => false,
    };
    if !mine || row.status == EdcStatus::ReversedBeforeArrival {
        return Err(ServiceError::NotFound("transaction"));
    }
    let agent = agent.ok_or_else(|| ServiceError::Internal(format!("the agent of {reference} is missing")))?;
    let lines = super::receipt::draw(&row, &agent.display_name)?.lines;
    crate::render::slip::render_slip(&lines)
        .map_err(|error| ServiceError::Internal(format!("slip {reference}: {error}")))
}
