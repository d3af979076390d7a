//! EDC transactions as recorded: one row per terminal, STAN and business day.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::schema::edc_transactions;
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::edc::{EdcKind, EdcStatus};
use crate::domain::ids::JournalId;

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
    /// What the service kept with the row (read with [`EdcTransaction::details`]); JSON
    /// text until the details have columns of their own.
    details_json: String,
    pub created_at: NaiveDateTime,
}

impl EdcTransaction {
    /// The details [`details_json`] wrote, as the type they were written from. Details that
    /// do not read back are an error, never an empty value: a reversal that took them
    /// for empty would give nothing back.
    pub fn details<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_str(&self.details_json).map_err(|error| {
            StoreError::Corrupt(format!(
                "edc_transactions {} (reference {}): details: {error}",
                self.id, self.reference
            ))
        })
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
    details: String,
    created_at: NaiveDateTime,
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
            details_json: row.details,
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
    /// What the service keeps with the row, as [`details_json`] wrote it.
    pub details: &'a str,
    pub created_at: NaiveDateTime,
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
            details: "{}",
            created_at: now(),
        }
    }
}

/// Writes the form's row in its terminal, STAN and day; `false` (and nothing written) if
/// that STAN is taken (by another transaction, or by a reversal that came first). On
/// PostgreSQL a concurrent claim of the same STAN waits here until the other commits.
pub fn claim(tx: &mut Tx<'_>, form: &EdcInsertForm<'_>) -> Result<bool, StoreError> {
    let written = on_backend!(tx, connection => diesel::insert_into(edc_transactions::table)
        .values(form)
        .on_conflict((edc_transactions::terminal_id, edc_transactions::stan, edc_transactions::business_date))
        .do_nothing()
        .execute(connection)?);
    Ok(written == 1)
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

/// The details (basket, receipt) as a row keeps them, read back by [`EdcTransaction::details`].
pub fn details_json(details: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(details)
        .map_err(|error| StoreError::Corrupt(format!("edc_transactions: writing details: {error}")))
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
