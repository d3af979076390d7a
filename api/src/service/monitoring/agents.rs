//! Agent activity per agent and business day: card transactions that moved money through
//! the agent (cash paid out, goods sold), net of reversals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{area, journal_reach, JournalReach, RegionRef};
use crate::domain::auth::RegionCode;
use crate::domain::edc::business_date;
use crate::domain::ledger::JournalKind;
use crate::domain::money::rupiah_from_minor;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::monitoring as store;
use crate::store::{now, parse_stored, Store};

/// Agents listed per page unless asked otherwise.
pub const AGENTS_PAGE_DEFAULT: i64 = 100;
/// The most agents one page lists.
pub const AGENTS_PAGE_MAX: i64 = 500;

/// One agent's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentDayFigures {
    pub agent_id: i64,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub village: String,
    /// Money transactions (withdrawals and purchases), net of reversals.
    pub transactions: i64,
    pub cash_withdrawals: i64,
    #[schema(value_type = String)]
    pub cash_out: Decimal,
    pub purchases: i64,
    #[schema(value_type = String)]
    pub goods_sold: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentActivity {
    /// Absent: the whole country.
    pub region: Option<RegionRef>,
    #[schema(value_type = String, example = "2026-11-23")]
    pub day: NaiveDate,
    pub agents: Vec<AgentDayFigures>,
    pub journal: JournalReach,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<i64>,
}

/// The agents of `region` (the operator's scope when `None`) active on `day` (today in
/// WIB when `None`), by agent id after `after`.
pub fn activity(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
    day: Option<NaiveDate>,
    after: i64,
    limit: i64,
) -> Result<AgentActivity, ServiceError> {
    if !(1..=AGENTS_PAGE_MAX).contains(&limit) {
        return Err(ServiceError::Invalid(format!("limit: 1 to {AGENTS_PAGE_MAX}")));
    }
    let day = day.unwrap_or_else(|| business_date(now()));
    store.read(|tx| {
        let area = area(tx, principal, region)?;
        let mut agents: BTreeMap<i64, AgentDayFigures> = BTreeMap::new();
        for row in store::agent_days(tx, day, area.code(), after, limit)? {
            let agent = agents.entry(row.agent_id).or_insert_with(|| AgentDayFigures {
                agent_id: row.agent_id,
                username: row.username.clone(),
                display_name: row.display_name.clone(),
                village: row.village_code.clone(),
                transactions: 0,
                cash_withdrawals: 0,
                cash_out: Decimal::ZERO,
                purchases: 0,
                goods_sold: Decimal::ZERO,
            });
            agent.transactions += row.entries;
            match parse_stored::<JournalKind>("monitoring journal_kind", &row.journal_kind)? {
                JournalKind::CashWithdrawal => {
                    agent.cash_withdrawals += row.entries;
                    agent.cash_out += rupiah_from_minor(row.amount_minor);
                }
                JournalKind::Purchase => {
                    agent.purchases += row.entries;
                    agent.goods_sold += rupiah_from_minor(row.amount_minor);
                }
                _ => {}
            }
        }
        let agents: Vec<AgentDayFigures> = agents.into_values().collect();
        let next_after = (agents.len() == usize::try_from(limit).unwrap_or(usize::MAX))
            .then(|| agents.last().map(|agent| agent.agent_id))
            .flatten();
        Ok(AgentActivity { region: area.reference(), day, agents, next_after, journal: journal_reach(tx)? })
    })
}
