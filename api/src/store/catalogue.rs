//! The goods an e-Warong sells from programme e-wallets.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::catalogue_items;
use super::{on_backend, parse_stored, StoreError, Tx};
use crate::domain::edc::PurchaseProgramme;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CatalogueItem {
    pub sku: String,
    pub name: String,
    /// The e-wallet that pays for it.
    pub programme: PurchaseProgramme,
    pub unit: String,
    pub price_minor: i64,
    /// Units a family may buy per calendar month, if limited.
    pub monthly_quota: Option<i32>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = catalogue_items)]
struct CatalogueRow {
    sku: String,
    name: String,
    programme: String,
    unit: String,
    price_minor: i64,
    monthly_quota: Option<i32>,
}

impl TryFrom<CatalogueRow> for CatalogueItem {
    type Error = StoreError;
    fn try_from(row: CatalogueRow) -> Result<Self, StoreError> {
        Ok(Self {
            programme: parse_stored("catalogue_items.programme", &row.programme)?,
            sku: row.sku,
            name: row.name,
            unit: row.unit,
            price_minor: row.price_minor,
            monthly_quota: row.monthly_quota,
        })
    }
}

/// Every item on sale, by SKU.
pub fn find_active(tx: &mut Tx<'_>) -> Result<Vec<CatalogueItem>, StoreError> {
    let rows: Vec<CatalogueRow> = on_backend!(tx, connection => catalogue_items::table
        .filter(catalogue_items::active.eq(true))
        .order(catalogue_items::sku)
        .select(CatalogueRow::as_select())
        .load(connection)?);
    rows.into_iter().map(CatalogueItem::try_from).collect()
}
