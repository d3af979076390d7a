//! Programme money by province and paying bank, summed from the ledger itself.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{on_backend, StoreError, Tx};
use crate::domain::ledger::AccountKind;

/// Postings into or out of a programme's wallets, by province, bank and journal kind.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct MovementTotal {
    #[diesel(sql_type = Text)]
    pub province: String,
    #[diesel(sql_type = Text)]
    pub bank: String,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
}

/// What the programme's wallets hold now, by province and bank.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct HoldingTotal {
    #[diesel(sql_type = Text)]
    pub province: String,
    #[diesel(sql_type = Text)]
    pub bank: String,
    #[diesel(sql_type = BigInt)]
    pub families: i64,
    #[diesel(sql_type = BigInt)]
    pub balance_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub held_minor: i64,
}

// The family behind a wallet, its province (first two digits of the village code) and the
// bank of its newest card. The wallet kind is one of our enum's spellings, never input.
fn wallets_sql(wallet: AccountKind) -> String {
    format!(
        "SELECT a.id AS account_id, a.balance_minor, a.held_minor,
                SUBSTR(f.village_code, 1, 2) AS province,
                COALESCE((SELECT c.bank FROM cards c WHERE c.family_id = f.id ORDER BY c.sequence DESC LIMIT 1), 'none') AS bank
         FROM accounts a JOIN families f ON CAST(f.id AS TEXT) = a.owner_id
         WHERE a.owner_kind = 'family' AND a.kind = '{}'",
        wallet.as_ref()
    )
}

pub fn movements(tx: &mut Tx<'_>, wallet: AccountKind) -> Result<Vec<MovementTotal>, StoreError> {
    let sql = format!(
        "SELECT w.province, w.bank, j.kind AS journal_kind, CAST(SUM(p.amount_minor) AS BIGINT) AS amount_minor
         FROM ({}) w JOIN postings p ON p.account_id = w.account_id JOIN journals j ON j.id = p.journal_id
         GROUP BY w.province, w.bank, j.kind ORDER BY w.province, w.bank, j.kind",
        wallets_sql(wallet)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

pub fn holdings(tx: &mut Tx<'_>, wallet: AccountKind) -> Result<Vec<HoldingTotal>, StoreError> {
    let sql = format!(
        "SELECT w.province, w.bank, COUNT(*) AS families, CAST(SUM(w.balance_minor) AS BIGINT) AS balance_minor,
                CAST(SUM(w.held_minor) AS BIGINT) AS held_minor
         FROM ({}) w GROUP BY w.province, w.bank ORDER BY w.province, w.bank",
        wallets_sql(wallet)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}
