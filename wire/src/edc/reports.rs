//! What an agent and a family see afterwards: a transaction in a history list, and the
//! agent's settlement for a day.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EdcKind, EdcStatus};

/// One transaction in a history list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// For paging: pass the last id seen as `after` (agent) or `before` (family).
    pub id: i64,
    pub kind: EdcKind,
    pub status: EdcStatus,
    pub terminal_id: String,
    pub stan: String,
    pub reference: String,
    pub business_date: NaiveDate,
    pub at: NaiveDateTime,
    pub card_number: Option<String>,
    pub family_id: Option<i64>,
    pub pocket: Option<String>,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// An agent's day: what it paid out, what it sold, and what the bank owes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    pub agent_id: i64,
    pub business_date: NaiveDate,
    pub cash_withdrawals: u64,
    #[schema(value_type = String)]
    pub cash_paid_out: Decimal,
    pub purchases: u64,
    #[schema(value_type = String)]
    pub goods_sold: Decimal,
    /// Transactions cancelled by the terminal (not owed).
    pub reversed: u64,
    /// Cash paid out plus goods sold, net of reversals.
    #[schema(value_type = String)]
    pub owed_to_agent: Decimal,
}
