//! EDC transactions as recorded: one row per terminal, STAN and business day.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::schema::edc_transactions;
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::edc::{EdcKind, EdcStatus};
use crate::domain::ids::JournalId;
use crate::domain::ledger::AccountKind;

/// A family pocket as a transaction's slip printed it: its balance after the transaction,
/// what holds in force kept of it, and whether its block kept the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlipPocket {
    pub kind: AccountKind,
    pub balance_minor: i64,
    pub held_minor: i64,
    pub blocked: bool,
}

/// The family pockets a row has columns for, in the slip's order.
const SLIP_POCKETS: [AccountKind; 4] =
    [AccountKind::Savings, AccountKind::WalletPkh, AccountKind::WalletBpnt, AccountKind::WalletLpg];

/// One pocket's three columns.
type PocketColumns = (Option<i64>, Option<i64>, Option<bool>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdcTransaction {
    pub id: i64,
    pub terminal_id: String,
    pub stan: String,
    pub business_date: NaiveDate,
    pub kind: EdcKind,
    pub status: EdcStatus,
    pub agent_id: i64,
    pub card_number: Option<String>,
    pub family_id: Option<i64>,
    pub pocket: Option<String>,
    pub amount_minor: i64,
    pub journal: Option<JournalId>,
    pub reference: String,
    pub approval_code: String,
    pub original_stan: Option<String>,
    /// A purchase's basket, JSON (read with [`EdcTransaction::basket`]).
    basket_json: Option<String>,
    /// The family's pockets as the slip printed them (none for a reversal).
    pub slip_pockets: Vec<SlipPocket>,
    pub created_at: NaiveDateTime,
}

impl EdcTransaction {
    /// A purchase's basket, as [`basket_json`] wrote it; none for other kinds. A basket that
    /// does not read back is an error, never an empty one: a reversal that took it for
    /// empty would give nothing back.
    pub fn basket<T: DeserializeOwned>(&self) -> Result<Option<T>, StoreError> {
        self.basket_json
            .as_deref()
            .map(|json| {
                serde_json::from_str(json).map_err(|error| {
                    StoreError::Corrupt(format!(
                        "edc_transactions {} (reference {}): basket: {error}",
                        self.id, self.reference
                    ))
                })
            })
            .transpose()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = edc_transactions)]
struct EdcRow {
    id: i64,
    terminal_id: String,
    stan: String,
    business_date: NaiveDate,
    kind: String,
    status: String,
    agent_id: i64,
    card_number: Option<String>,
    family_id: Option<i64>,
    pocket: Option<String>,
    amount_minor: i64,
    journal_id: Option<i64>,
    reference: String,
    approval_code: String,
    original_stan: Option<String>,
    created_at: NaiveDateTime,
    basket: Option<String>,
    #[diesel(embed)]
    pockets: SlipPocketColumns,
}

/// The slip's pockets as columns: [`SLIP_POCKETS`], three columns each.
#[derive(Queryable, Selectable, Insertable, Debug, Clone, Copy, Default)]
#[diesel(table_name = edc_transactions)]
pub struct SlipPocketColumns {
    savings_minor: Option<i64>,
    savings_held_minor: Option<i64>,
    savings_blocked: Option<bool>,
    pkh_minor: Option<i64>,
    pkh_held_minor: Option<i64>,
    pkh_blocked: Option<bool>,
    bpnt_minor: Option<i64>,
    bpnt_held_minor: Option<i64>,
    bpnt_blocked: Option<bool>,
    lpg_minor: Option<i64>,
    lpg_held_minor: Option<i64>,
    lpg_blocked: Option<bool>,
}

impl SlipPocketColumns {
    /// The columns for these pockets; a pocket of another kind has none (the slip prints
    /// family pockets only).
    pub fn of(pockets: &[SlipPocket]) -> Self {
        let [savings, pkh, bpnt, lpg]: [PocketColumns; 4] = SLIP_POCKETS.map(|kind| {
            pockets.iter().find(|pocket| pocket.kind == kind).map_or((None, None, None), |pocket| {
                (Some(pocket.balance_minor), Some(pocket.held_minor), Some(pocket.blocked))
            })
        });
        Self {
            savings_minor: savings.0,
            savings_held_minor: savings.1,
            savings_blocked: savings.2,
            pkh_minor: pkh.0,
            pkh_held_minor: pkh.1,
            pkh_blocked: pkh.2,
            bpnt_minor: bpnt.0,
            bpnt_held_minor: bpnt.1,
            bpnt_blocked: bpnt.2,
            lpg_minor: lpg.0,
            lpg_held_minor: lpg.1,
            lpg_blocked: lpg.2,
        }
    }

    fn pockets(self) -> Vec<SlipPocket> {
        let columns: [PocketColumns; 4] = [
            (self.savings_minor, self.savings_held_minor, self.savings_blocked),
            (self.pkh_minor, self.pkh_held_minor, self.pkh_blocked),
            (self.bpnt_minor, self.bpnt_held_minor, self.bpnt_blocked),
            (self.lpg_minor, self.lpg_held_minor, self.lpg_blocked),
        ];
        SLIP_POCKETS
            .into_iter()
            .zip(columns)
            .filter_map(|(kind, (balance, held, blocked))| {
                Some(SlipPocket {
                    kind,
                    balance_minor: balance?,
                    held_minor: held.unwrap_or(0),
                    blocked: blocked.unwrap_or(false),
                })
            })
            .collect()
    }
}

impl TryFrom<EdcRow> for EdcTransaction {
    type Error = StoreError;
    fn try_from(row: EdcRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            kind: parse_stored("edc_transactions.kind", &row.kind)?,
            status: parse_stored("edc_transactions.status", &row.status)?,
            terminal_id: row.terminal_id,
            stan: row.stan,
            business_date: row.business_date,
            agent_id: row.agent_id,
            card_number: row.card_number,
            family_id: row.family_id,
            pocket: row.pocket,
            amount_minor: row.amount_minor,
            journal: row.journal_id.map(JournalId),
            reference: row.reference,
            approval_code: row.approval_code,
            original_stan: row.original_stan,
            basket_json: row.basket,
            slip_pockets: row.pockets.pockets(),
            created_at: row.created_at,
        })
    }
}

#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = edc_transactions)]
pub struct EdcInsertForm<'a> {
    pub terminal_id: &'a str,
    pub stan: &'a str,
    pub business_date: NaiveDate,
    pub kind: &'a str,
    pub status: &'a str,
    pub agent_id: i64,
    pub card_number: Option<&'a str>,
    pub family_id: Option<i64>,
    pub pocket: Option<&'a str>,
    pub amount_minor: i64,
    pub reference: &'a str,
    pub approval_code: &'a str,
    pub original_stan: Option<&'a str>,
    pub journal_id: Option<i64>,
    pub created_at: NaiveDateTime,
    /// A purchase's basket, as [`basket_json`] wrote it.
    pub basket: Option<&'a str>,
    #[diesel(embed)]
    pub pockets: SlipPocketColumns,
}

impl<'a> EdcInsertForm<'a> {
    /// A row for a STAN, approved unless the caller says otherwise.
    pub fn new(terminal_id: &'a str, stan: &'a str, business_date: NaiveDate, kind: EdcKind, agent_id: i64) -> Self {
        Self {
            terminal_id,
            stan,
            business_date,
            kind: kind.into(),
            status: EdcStatus::Approved.into(),
            agent_id,
            card_number: None,
            family_id: None,
            pocket: None,
            amount_minor: 0,
            reference: "",
            approval_code: "",
            original_stan: None,
            journal_id: None,
            created_at: now(),
            basket: None,
            pockets: SlipPocketColumns::default(),
        }
    }
}

/// Writes the form's row in its terminal, STAN and day and gives it back as written; none
/// (and nothing written) if that STAN is taken (by another transaction, or by a reversal
/// that came first) or, rarely, the form's reference is another row's: the caller tells
/// which by looking the STAN up. On PostgreSQL a concurrent claim of the same STAN waits
/// here until the other commits.
pub fn claim(tx: &mut Tx<'_>, form: &EdcInsertForm<'_>) -> Result<Option<EdcTransaction>, StoreError> {
    let row: Option<EdcRow> = on_backend!(tx, connection => diesel::insert_into(edc_transactions::table)
        .values(form)
        .on_conflict_do_nothing()
        .returning(EdcRow::as_returning())
        .get_result(connection)
        .optional()?);
    row.map(EdcTransaction::try_from).transpose()
}

pub fn find_by_stan(
    tx: &mut Tx<'_>,
    terminal_id: &str,
    stan: &str,
    business_date: NaiveDate,
) -> Result<Option<EdcTransaction>, StoreError> {
    let row: Option<EdcRow> = on_backend!(tx, connection => edc_transactions::table
        .filter(edc_transactions::terminal_id.eq(terminal_id))
        .filter(edc_transactions::stan.eq(stan))
        .filter(edc_transactions::business_date.eq(business_date))
        .select(EdcRow::as_select())
        .first(connection)
        .optional()?);
    row.map(EdcTransaction::try_from).transpose()
}

pub fn find_by_reference(tx: &mut Tx<'_>, reference: &str) -> Result<Option<EdcTransaction>, StoreError> {
    let row: Option<EdcRow> = on_backend!(tx, connection => edc_transactions::table
        .filter(edc_transactions::reference.eq(reference))
        .select(EdcRow::as_select())
        .first(connection)
        .optional()?);
    row.map(EdcTransaction::try_from).transpose()
}

/// A purchase's basket as a row keeps it, read back by [`EdcTransaction::basket`].
pub fn basket_json(basket: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(basket)
        .map_err(|error| StoreError::Corrupt(format!("edc_transactions: writing a basket: {error}")))
}

/// Marks an approved transaction reversed; `false` if it was not approved any more.
pub fn mark_reversed(tx: &mut Tx<'_>, id: i64) -> Result<bool, StoreError> {
    let approved: &str = EdcStatus::Approved.into();
    let reversed: &str = EdcStatus::Reversed.into();
    let changed = on_backend!(tx, connection => diesel::update(
            edc_transactions::table.find(id).filter(edc_transactions::status.eq(approved)),
        )
        .set(edc_transactions::status.eq(reversed))
        .execute(connection)?);
    Ok(changed == 1)
}

/// The most rows one history page returns.
pub const HISTORY_PAGE_MAX: i64 = 200;

/// An agent's transactions on a business day, oldest first, after the row id `after`.
pub fn find_by_agent_and_date(
    tx: &mut Tx<'_>,
    agent_id: i64,
    business_date: NaiveDate,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<EdcTransaction>, StoreError> {
    let rows: Vec<EdcRow> = on_backend!(tx, connection => {
        let mut query = edc_transactions::table
            .filter(edc_transactions::agent_id.eq(agent_id))
            .filter(edc_transactions::business_date.eq(business_date))
            .order(edc_transactions::id)
            .limit(limit.clamp(1, HISTORY_PAGE_MAX))
            .select(EdcRow::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(edc_transactions::id.gt(after));
        }
        query.load(connection)?
    });
    rows.into_iter().map(EdcTransaction::try_from).collect()
}

/// Count and amount of an agent's transactions on a day, by kind and status.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DayTotal {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub count: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub amount_minor: i64,
}

/// The day's totals for an agent, summed by the database (a busy agent has thousands).
pub fn day_totals(tx: &mut Tx<'_>, agent_id: i64, business_date: NaiveDate) -> Result<Vec<DayTotal>, StoreError> {
    // SUM(BIGINT) is NUMERIC on PostgreSQL: cast back so both backends read a BIGINT.
    // Both values are typed (an integer and an ISO date), never text from a request, and
    // the two backends spell bind placeholders differently.
    let sql = format!(
        "SELECT kind, status, COUNT(*) AS count, CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS amount_minor
         FROM edc_transactions WHERE agent_id = {agent_id} AND business_date = '{business_date}'
         GROUP BY kind, status ORDER BY kind, status"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// A family's most recent transactions, newest first, before the row id `before`.
pub fn find_by_family(
    tx: &mut Tx<'_>,
    family_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EdcTransaction>, StoreError> {
    let rows: Vec<EdcRow> = on_backend!(tx, connection => {
        let mut query = edc_transactions::table
            .filter(edc_transactions::family_id.eq(family_id))
            .order(edc_transactions::id.desc())
            .limit(limit.clamp(1, HISTORY_PAGE_MAX))
            .select(EdcRow::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(edc_transactions::id.lt(before));
        }
        query.load(connection)?
    });
    rows.into_iter().map(EdcTransaction::try_from).collect()
}
