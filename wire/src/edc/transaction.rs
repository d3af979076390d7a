//! A card transaction's body parts and its answer: the basket a purchase carries, and the
//! receipt an approved transaction returns (what an EDC prints).

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::EdcKind;
use crate::language::Words;
use crate::ledger::AccountKind;

/// One line of a basket: an item and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketLine {
    #[schema(max_length = 32)]
    pub sku: String,
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: u32,
}

/// One pocket on the receipt, after the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PocketBalance {
    pub kind: AccountKind,
    pub name: Words,
    #[schema(value_type = String)]
    pub balance: Decimal,
    /// Money kept by holds still in force.
    #[schema(value_type = String)]
    pub held: Decimal,
    /// Money kept by the pocket's block (a suspended family's PKH wallet).
    #[serde(default)]
    #[schema(value_type = String)]
    pub blocked: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// A priced basket line on the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptItem {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// The answer to an approved card transaction: what an EDC prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EdcReceipt {
    pub kind: EdcKind,
    pub terminal_id: String,
    pub stan: String,
    /// 12-digit retrieval reference number.
    pub reference: String,
    pub approval_code: String,
    pub business_date: NaiveDate,
    pub at: NaiveDateTime,
    pub masked_card: String,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub items: Vec<ReceiptItem>,
    pub balances: Vec<PocketBalance>,
    /// The slip's lines, in Bahasa Indonesia.
    pub lines: Vec<String>,
}
