//! Limits and quotas counted over a period: the cash a card draws in a business day, the
//! cash an agent pays out in a business day, the goods a family buys in a month. A
//! transaction takes its amounts from the counters it uses; its reversal gives the same
//! amounts back to the same counters, in the original's period.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::edc::format_rupiah;
use super::money::{Amount, MINOR_UNITS_PER_RUPIAH};

/// Limits a bank sets on cash (whole rupiah). Refusals name the limit that was hit.
pub const CASH_WITHDRAWAL_PER_TRANSACTION_MAX_RUPIAH: i64 = 2_500_000;
pub const CASH_WITHDRAWAL_PER_CARD_PER_DAY_MAX_RUPIAH: i64 = 5_000_000;
pub const AGENT_CASH_OUT_PER_DAY_MAX_RUPIAH: i64 = 20_000_000;

/// What a usage counter counts, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageScope {
    /// Cash a family's card draws in a business day, in sen.
    CardCash { family_id: i64 },
    /// Cash an agent pays out in a business day, in sen.
    AgentCashOut { agent_id: i64 },
    /// Units of one item a family buys in a calendar month, up to the item's monthly quota.
    ItemQuota { family_id: i64, sku: String, quota: i32 },
}

impl UsageScope {
    /// The counter's key as stored. Counters already in the database carry these texts,
    /// so they never change.
    pub fn key(&self) -> String {
        match self {
            Self::CardCash { family_id } => format!("cash-withdrawal:family:{family_id}"),
            Self::AgentCashOut { agent_id } => format!("cash-out:agent:{agent_id}"),
            Self::ItemQuota { family_id, sku, .. } => format!("quota:family:{family_id}:{sku}"),
        }
    }

    /// The period a business day counts in, as stored: the day itself for cash
    /// (`2026-12-04`), its month for goods (`2026-12`).
    pub fn period(&self, business_day: NaiveDate) -> String {
        match self {
            Self::CardCash { .. } | Self::AgentCashOut { .. } => business_day.to_string(),
            Self::ItemQuota { .. } => format!("{:04}-{:02}", business_day.year(), business_day.month()),
        }
    }

    /// The most the counter may reach in one period (sen for cash, units for goods).
    pub fn limit(&self) -> i64 {
        match self {
            Self::CardCash { .. } => CASH_WITHDRAWAL_PER_CARD_PER_DAY_MAX_RUPIAH * MINOR_UNITS_PER_RUPIAH,
            Self::AgentCashOut { .. } => AGENT_CASH_OUT_PER_DAY_MAX_RUPIAH * MINOR_UNITS_PER_RUPIAH,
            Self::ItemQuota { quota, .. } => i64::from(*quota),
        }
    }
}

/// What one transaction takes from one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub scope: UsageScope,
    pub amount: i64,
}

/// Refused: one withdrawal above the bank's limit for a single withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("one cash withdrawal is at most {}", format_rupiah(self.limit_minor))]
pub struct WithdrawalTooLarge {
    pub limit_minor: i64,
}

/// A single withdrawal stays within [`CASH_WITHDRAWAL_PER_TRANSACTION_MAX_RUPIAH`].
pub fn check_withdrawal_amount(amount: Amount) -> Result<(), WithdrawalTooLarge> {
    let limit_minor = CASH_WITHDRAWAL_PER_TRANSACTION_MAX_RUPIAH * MINOR_UNITS_PER_RUPIAH;
    if amount.minor() > limit_minor {
        return Err(WithdrawalTooLarge { limit_minor });
    }
    Ok(())
}

/// The counters a cash withdrawal of `amount_minor` takes from, in the order they are
/// taken (the card's, then the agent's), so that two withdrawals, or a withdrawal and a
/// reversal, lock the counters' rows in one order and never deadlock.
pub fn cash_withdrawal_usage(family_id: i64, agent_id: i64, amount_minor: i64) -> [Usage; 2] {
    [
        Usage { scope: UsageScope::CardCash { family_id }, amount: amount_minor },
        Usage { scope: UsageScope::AgentCashOut { agent_id }, amount: amount_minor },
    ]
}

/// What one basket line took from its item's monthly quota: kept with the transaction,
/// so that its reversal gives back what it took even if the catalogue changed since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketUsage {
    pub sku: String,
    pub quantity: u32,
    /// The item's monthly quota when it was bought; none: the item is not rationed.
    pub quota: Option<i32>,
}

/// The quota counters a basket takes from, in SKU order whatever the basket's order, so
/// that two purchases (or a purchase and a reversal) of one family lock the counters'
/// rows in one order and never deadlock. Items without a quota take from no counter.
pub fn basket_usage(family_id: i64, lines: &[BasketUsage]) -> Vec<Usage> {
    let mut usage: Vec<Usage> = lines
        .iter()
        .filter_map(|line| {
            let quota = line.quota?;
            let scope = UsageScope::ItemQuota { family_id, sku: line.sku.clone(), quota };
            Some(Usage { scope, amount: i64::from(line.quantity) })
        })
        .collect();
    usage.sort_by_key(|usage| usage.scope.key());
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn line(sku: &str, quantity: u32, quota: Option<i32>) -> BasketUsage {
        BasketUsage { sku: sku.to_owned(), quantity, quota }
    }

    #[test]
    fn counters_keep_the_keys_already_stored() {
        assert_eq!(UsageScope::CardCash { family_id: 7 }.key(), "cash-withdrawal:family:7");
        assert_eq!(UsageScope::AgentCashOut { agent_id: 3 }.key(), "cash-out:agent:3");
        let quota = UsageScope::ItemQuota { family_id: 7, sku: "LPG-3KG".to_owned(), quota: 3 };
        assert_eq!(quota.key(), "quota:family:7:LPG-3KG");
    }

    #[test]
    fn cash_counts_per_business_day_and_goods_per_month() {
        let on = day("2026-12-04");
        assert_eq!(UsageScope::CardCash { family_id: 7 }.period(on), "2026-12-04");
        assert_eq!(UsageScope::AgentCashOut { agent_id: 3 }.period(on), "2026-12-04");
        let quota = UsageScope::ItemQuota { family_id: 7, sku: "LPG-3KG".to_owned(), quota: 3 };
        assert_eq!(quota.period(on), "2026-12");
        assert_eq!(quota.period(day("2027-01-01")), "2027-01");
    }

    #[test]
    fn a_card_draws_five_million_a_day_an_agent_pays_twenty_million_and_goods_their_quota() {
        assert_eq!(UsageScope::CardCash { family_id: 7 }.limit(), 500_000_000);
        assert_eq!(UsageScope::AgentCashOut { agent_id: 3 }.limit(), 2_000_000_000);
        assert_eq!(UsageScope::ItemQuota { family_id: 7, sku: "LPG-3KG".to_owned(), quota: 3 }.limit(), 3);
    }

    #[test]
    fn one_withdrawal_may_be_two_and_a_half_million_and_not_a_sen_more() {
        assert_eq!(check_withdrawal_amount(Amount::from_rupiah(2_500_000).unwrap()), Ok(()));
        let refused = check_withdrawal_amount(Amount::from_minor(250_000_001).unwrap());
        assert_eq!(refused, Err(WithdrawalTooLarge { limit_minor: 250_000_000 }));
        assert_eq!(refused.unwrap_err().to_string(), "one cash withdrawal is at most Rp 2.500.000");
    }

    #[test]
    fn a_withdrawal_takes_from_the_card_then_the_agent() {
        let [card, agent] = cash_withdrawal_usage(7, 3, 10_000_000);
        assert_eq!(card, Usage { scope: UsageScope::CardCash { family_id: 7 }, amount: 10_000_000 });
        assert_eq!(agent, Usage { scope: UsageScope::AgentCashOut { agent_id: 3 }, amount: 10_000_000 });
    }

    #[test]
    fn a_basket_takes_from_rationed_items_only_in_sku_order() {
        let basket = [line("TELUR-1KG", 2, Some(2)), line("MINYAK-1L", 1, None), line("BERAS-1KG", 5, Some(10))];
        let usage = basket_usage(7, &basket);
        let taken: Vec<(String, i64)> = usage.iter().map(|usage| (usage.scope.key(), usage.amount)).collect();
        assert_eq!(taken, [("quota:family:7:BERAS-1KG".to_owned(), 5), ("quota:family:7:TELUR-1KG".to_owned(), 2)]);
    }
}
