//! Agents (bank agents and e-Warong) and their EDC terminals.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{agents, terminals};
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::auth::{AgentKind, RegionCode};
use crate::domain::card::Bank;

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub kind: AgentKind,
    pub bank: Bank,
    pub village: RegionCode,
    pub password_hash: String,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = agents)]
struct AgentRow {
    id: i64,
    username: String,
    display_name: String,
    kind: String,
    bank: String,
    village_code: String,
    password_hash: String,
    token_version: i64,
    created_at: NaiveDateTime,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;
    fn try_from(row: AgentRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            kind: parse_stored("agents.kind", &row.kind)?,
            bank: parse_stored("agents.bank", &row.bank)?,
            village: RegionCode::parse(&row.village_code)
                .map_err(|_| StoreError::Corrupt(format!("agents.village_code {:?}", row.village_code)))?,
            password_hash: row.password_hash,
            token_version: row.token_version,
            created_at: row.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = agents)]
pub struct AgentInsertForm<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub kind: &'a str,
    pub bank: &'a str,
    pub village_code: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

impl<'a> AgentInsertForm<'a> {
    pub fn new(
        username: &'a str,
        display_name: &'a str,
        kind: AgentKind,
        bank: Bank,
        village: &'a RegionCode,
        password_hash: &'a str,
    ) -> Self {
        Self {
            username,
            display_name,
            kind: kind.into(),
            bank: bank.into(),
            village_code: village.as_str(),
            password_hash,
            created_at: now(),
        }
    }
}

pub fn insert(tx: &mut Tx<'_>, form: &AgentInsertForm<'_>) -> Result<Agent, StoreError> {
    let row: AgentRow = on_backend!(tx, connection => diesel::insert_into(agents::table)
        .values(form)
        .returning(AgentRow::as_returning())
        .get_result(connection)?);
    Agent::try_from(row)
}

pub fn find_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<Agent>, StoreError> {
    let row: Option<AgentRow> = on_backend!(tx, connection => agents::table
        .find(id)
        .select(AgentRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Agent::try_from).transpose()
}

pub fn find_by_username(tx: &mut Tx<'_>, username: &str) -> Result<Option<Agent>, StoreError> {
    let row: Option<AgentRow> = on_backend!(tx, connection => agents::table
        .filter(agents::username.eq(username))
        .select(AgentRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Agent::try_from).transpose()
}

/// Revokes every token issued to the agent so far.
pub fn bump_token_version(tx: &mut Tx<'_>, id: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(agents::table.find(id))
        .set(agents::token_version.eq(agents::token_version + 1))
        .execute(connection)?);
    Ok(())
}

/// An EDC terminal of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = terminals)]
pub struct Terminal {
    pub id: String,
    pub agent_id: i64,
    pub status: String,
    pub created_at: NaiveDateTime,
}

impl Terminal {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

#[derive(Insertable)]
#[diesel(table_name = terminals)]
struct TerminalInsertForm<'a> {
    id: &'a str,
    agent_id: i64,
    created_at: NaiveDateTime,
}

pub fn insert_terminal(tx: &mut Tx<'_>, terminal_id: &str, agent_id: i64) -> Result<Terminal, StoreError> {
    let form = TerminalInsertForm { id: terminal_id, agent_id, created_at: now() };
    on_backend!(tx, connection => Ok(diesel::insert_into(terminals::table)
        .values(&form)
        .returning(Terminal::as_returning())
        .get_result(connection)?))
}

pub fn find_terminal_by_id(tx: &mut Tx<'_>, terminal_id: &str) -> Result<Option<Terminal>, StoreError> {
    on_backend!(tx, connection => Ok(terminals::table
        .find(terminal_id)
        .select(Terminal::as_select())
        .get_result(connection)
        .optional()?))
}

pub fn find_terminals_by_agent(tx: &mut Tx<'_>, agent_id: i64) -> Result<Vec<Terminal>, StoreError> {
    on_backend!(tx, connection => Ok(terminals::table
        .filter(terminals::agent_id.eq(agent_id))
        .order(terminals::id)
        .select(Terminal::as_select())
        .load(connection)?))
}
