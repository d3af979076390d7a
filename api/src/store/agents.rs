//! Agents (bank agents and e-Warong) and their EDC terminals.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::monitoring::lower;
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
    /// Who owns the shop; absent for agents registered before owners were recorded.
    pub owner_name: Option<String>,
    /// Set when an admin deactivated the agent: no login, no token, history kept.
    pub disabled_at: Option<NaiveDateTime>,
    /// Set while the password is the one an admin chose: the agent replaces it first.
    pub password_change_required: bool,
}

impl Agent {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
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
    owner_name: Option<String>,
    disabled_at: Option<NaiveDateTime>,
    password_change_required: bool,
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
            owner_name: row.owner_name,
            disabled_at: row.disabled_at,
            password_change_required: row.password_change_required,
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
    pub owner_name: Option<&'a str>,
    pub password_change_required: bool,
}

impl<'a> AgentInsertForm<'a> {
    pub fn new(
        username: &'a str,
        display_name: &'a str,
        owner_name: &'a str,
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
            owner_name: Some(owner_name),
            password_change_required: false,
        }
    }

    /// The password was chosen by someone else (an admin): the agent replaces it first.
    pub fn with_password_chosen_by_another(self) -> Self {
        Self { password_change_required: true, ..self }
    }
}

/// What an admin changes about an agent; `None` leaves a field as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = agents)]
pub struct AgentUpdateForm<'a> {
    pub display_name: Option<&'a str>,
    pub owner_name: Option<Option<&'a str>>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
}

/// Which agents to list: inside a part of the country, of a bank, of a kind, with a name.
#[derive(Debug, Default)]
pub struct AgentFilter<'a> {
    /// Agents whose village lies in every one of these regions (the caller's scope and
    /// the region asked for).
    pub regions: Vec<&'a RegionCode>,
    pub bank: Option<Bank>,
    pub kind: Option<AgentKind>,
    /// Text the display name or the owner's name contains, any case.
    pub name: Option<&'a str>,
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

/// Agents matching `filter`, by id after `after`, at most `limit`.
pub fn find_page(tx: &mut Tx<'_>, filter: &AgentFilter<'_>, after: i64, limit: i64) -> Result<Vec<Agent>, StoreError> {
    let rows: Vec<AgentRow> = on_backend!(tx, connection => {
        let mut query = agents::table
            .filter(agents::id.gt(after))
            .order(agents::id)
            .limit(limit)
            .select(AgentRow::as_select())
            .into_boxed();
        for region in &filter.regions {
            query = query.filter(
                agents::village_code.eq(region.as_str()).or(agents::village_code.like(format!("{region}.%"))),
            );
        }
        if let Some(bank) = filter.bank {
            query = query.filter(agents::bank.eq(<&str>::from(bank)));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(agents::kind.eq(<&str>::from(kind)));
        }
        if let Some(name) = filter.name {
            let escaped = name.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            query = query.filter(
                lower(agents::display_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(agents::owner_name.assume_not_null()).like(pattern).escape('\\')),
            );
        }
        query.load(connection)?
    });
    rows.into_iter().map(Agent::try_from).collect()
}

/// Applies an admin's change; the caller revokes tokens where the change calls for it.
pub fn update(tx: &mut Tx<'_>, id: i64, form: &AgentUpdateForm<'_>) -> Result<Agent, StoreError> {
    let row: AgentRow = on_backend!(tx, connection => diesel::update(agents::table.find(id))
        .set(form)
        .returning(AgentRow::as_returning())
        .get_result(connection)?);
    Agent::try_from(row)
}

/// Stores a new password hash; `change_required` when someone other than its owner chose it.
pub fn set_password(tx: &mut Tx<'_>, id: i64, password_hash: &str, change_required: bool) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(agents::table.find(id))
        .set((agents::password_hash.eq(password_hash), agents::password_change_required.eq(change_required)))
        .execute(connection)?);
    Ok(())
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
    pub serial: Option<String>,
}

/// The `status` of a terminal that may transact.
pub const TERMINAL_ACTIVE: &str = "active";
/// The `status` of a terminal an admin deactivated.
pub const TERMINAL_DISABLED: &str = "disabled";

impl Terminal {
    pub fn is_active(&self) -> bool {
        self.status == TERMINAL_ACTIVE
    }
}

#[derive(Insertable)]
#[diesel(table_name = terminals)]
struct TerminalInsertForm<'a> {
    id: &'a str,
    agent_id: i64,
    created_at: NaiveDateTime,
    serial: Option<&'a str>,
}

/// What an admin changes about a terminal; `None` leaves a field as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = terminals)]
pub struct TerminalUpdateForm<'a> {
    pub agent_id: Option<i64>,
    pub status: Option<&'a str>,
}

pub fn insert_terminal(
    tx: &mut Tx<'_>,
    terminal_id: &str,
    serial: Option<&str>,
    agent_id: i64,
) -> Result<Terminal, StoreError> {
    let form = TerminalInsertForm { id: terminal_id, agent_id, created_at: now(), serial };
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

pub fn find_terminal_by_serial(tx: &mut Tx<'_>, serial: &str) -> Result<Option<Terminal>, StoreError> {
    on_backend!(tx, connection => Ok(terminals::table
        .filter(terminals::serial.eq(serial))
        .select(Terminal::as_select())
        .get_result(connection)
        .optional()?))
}

/// Applies an admin's change to a terminal.
pub fn update_terminal(
    tx: &mut Tx<'_>,
    terminal_id: &str,
    form: &TerminalUpdateForm<'_>,
) -> Result<Terminal, StoreError> {
    on_backend!(tx, connection => Ok(diesel::update(terminals::table.find(terminal_id))
        .set(form)
        .returning(Terminal::as_returning())
        .get_result(connection)?))
}

/// The agent and the terminal its token names, read in one query: what every request of
/// an agent checks (the terminal is absent if no terminal has that id).
pub fn find_with_terminal(
    tx: &mut Tx<'_>,
    agent_id: i64,
    terminal_id: &str,
) -> Result<Option<(Agent, Option<Terminal>)>, StoreError> {
    let row: Option<(AgentRow, Option<Terminal>)> = on_backend!(tx, connection => agents::table
        .find(agent_id)
        .left_join(terminals::table.on(terminals::id.eq(terminal_id)))
        .select((AgentRow::as_select(), Option::<Terminal>::as_select()))
        .get_result(connection)
        .optional()?);
    row.map(|(agent, terminal)| Ok((Agent::try_from(agent)?, terminal))).transpose()
}

/// The terminals of these agents, by terminal id.
pub fn find_terminals_by_agents(tx: &mut Tx<'_>, agent_ids: &[i64]) -> Result<Vec<Terminal>, StoreError> {
    on_backend!(tx, connection => Ok(terminals::table
        .filter(terminals::agent_id.eq_any(agent_ids))
        .order(terminals::id)
        .select(Terminal::as_select())
        .load(connection)?))
}
