//! Bank agents and e-Warong, and their EDC terminals: an admin registers an agent in a
//! village of its region (its settlement account opens at once), adds, moves and
//! deactivates terminals, renames and deactivates agents. A deactivation stops the
//! tokens at once and keeps the history (transactions, settlement postings).
//!
//! [`register`] and [`add_terminal`] are the one way an agent or a terminal comes into
//! being: the demo seed calls them too.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::password_change::{self, PasswordOwner};
use super::auth::{passwords, Principal};
use super::operators::{display_name, reason, PasswordReset};
use super::ServiceError;
use crate::domain::auth::{
    may_manage, AgentKind, OperatorRole, Password, RegionCode, RegionLevel, RegionScope, Username,
};
use crate::domain::card::Bank;
use crate::domain::ledger::{AccountKind, OwnerKind};
use crate::domain::terminal::{TerminalId, TerminalSerial};
use crate::ledger::accounts;
use crate::store::agents::{
    self, Agent, AgentFilter, AgentInsertForm, AgentUpdateForm, Terminal, TerminalUpdateForm, TERMINAL_ACTIVE,
    TERMINAL_DISABLED,
};
use crate::store::{audit, now, regions, Store, Tx};

/// Agents listed per page at most, and by default.
pub const AGENTS_PER_PAGE_MAX: i64 = 200;
pub const AGENTS_PER_PAGE_DEFAULT: i64 = 100;
/// The longest name search, in characters.
pub const NAME_SEARCH_CHARS_MAX: usize = 100;

/// An agent an admin registers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Lower-case letters, digits, '.', '_' or '-', starting with a letter.
    #[schema(min_length = 3, max_length = 64, example = "ewarong.melati")]
    pub username: String,
    /// The shop's name, printed on every slip.
    #[schema(min_length = 1, max_length = 100, example = "e-Warong KUBE Melati")]
    pub display_name: String,
    /// Who owns and runs the shop.
    #[schema(min_length = 1, max_length = 100, example = "Ibu Yati Suryati")]
    pub owner_name: String,
    pub kind: AgentKind,
    /// The bank the agent works for, which settles its takings.
    pub bank: Bank,
    /// The village the shop is in: a registered village inside the admin's region.
    #[schema(value_type = RegionCode)]
    pub village: String,
    /// A first password, which the agent must replace at first login.
    #[schema(value_type = String, min_length = 12, max_length = 128, example = "tiga kambing di sawah")]
    pub password: String,
}

/// What an admin changes about an agent; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentChange {
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub owner_name: Option<String>,
    /// `true` deactivates (every token stops at once; the history and the settlement
    /// account stay), `false` activates again.
    pub disabled: Option<bool>,
    /// Why, for the audit trail.
    #[schema(min_length = 1, max_length = 500, example = "the shop closed")]
    pub reason: String,
}

/// Which agents to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgentQuery {
    /// Agents whose village lies in this region (a province, regency, district or village).
    #[param(value_type = Option<String>, example = "32.04")]
    pub region: Option<String>,
    pub bank: Option<Bank>,
    pub kind: Option<AgentKind>,
    /// Text the shop's or the owner's name contains, in any case.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Paging: agents after this id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 100).
    pub limit: Option<i64>,
}

/// A terminal an admin adds to an agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerminal {
    /// What the terminal sends with every transaction: 4 to 16 upper-case letters and digits.
    #[schema(min_length = 4, max_length = 16, pattern = "^[A-Z0-9]{4,16}$", example = "T3204101")]
    pub terminal_id: String,
    /// The serial number printed on the device.
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9-]{1,32}$", example = "PAX-A920-0001")]
    pub serial: String,
}

/// What an admin changes about a terminal; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalChange {
    /// Move the terminal to this agent (inside the admin's region): the former agent's
    /// tokens on it stop at once; its transactions stay with the former agent.
    pub agent_id: Option<i64>,
    /// `true` deactivates (its tokens stop at once, card transactions are refused with
    /// `TERMINAL_INACTIVE`; its history stays), `false` activates again.
    pub disabled: Option<bool>,
    /// Why, for the audit trail.
    #[schema(min_length = 1, max_length = 500, example = "reported stolen")]
    pub reason: String,
}

/// A terminal as an admin sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TerminalView {
    pub terminal_id: String,
    pub agent_id: i64,
    /// Absent for terminals registered before serials were recorded.
    pub serial: Option<String>,
    /// `active` or `disabled`.
    pub status: String,
    pub created_at: NaiveDateTime,
}

impl From<Terminal> for TerminalView {
    fn from(terminal: Terminal) -> Self {
        Self {
            terminal_id: terminal.id,
            agent_id: terminal.agent_id,
            serial: terminal.serial,
            status: terminal.status,
            created_at: terminal.created_at,
        }
    }
}

/// An agent as an admin sees it (never the password hash), with its terminals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub owner_name: Option<String>,
    pub kind: AgentKind,
    pub bank: Bank,
    #[schema(value_type = String)]
    pub village: RegionCode,
    /// When an admin deactivated the agent; absent: active.
    pub disabled_at: Option<NaiveDateTime>,
    /// The agent must choose a new password before working.
    pub password_change_required: bool,
    pub created_at: NaiveDateTime,
    pub terminals: Vec<TerminalView>,
}

impl AgentView {
    fn new(agent: Agent, terminals: Vec<Terminal>) -> Self {
        Self {
            id: agent.id,
            username: agent.username,
            display_name: agent.display_name,
            owner_name: agent.owner_name,
            kind: agent.kind,
            bank: agent.bank,
            village: agent.village,
            disabled_at: agent.disabled_at,
            password_change_required: agent.password_change_required,
            created_at: agent.created_at,
            terminals: terminals.into_iter().map(TerminalView::from).collect(),
        }
    }
}

/// An agent to register, already parsed: the admin's endpoint and the demo seed build one.
pub struct AgentRegistration<'a> {
    pub username: &'a Username,
    pub display_name: &'a str,
    pub owner_name: &'a str,
    pub kind: AgentKind,
    pub bank: Bank,
    pub village: &'a RegionCode,
    pub password_hash: &'a str,
    /// Someone other than the agent chose the password: the agent replaces it first.
    pub password_chosen_by_another: bool,
}

/// Registers an agent in the caller's transaction: the village must be a registered
/// village, the user name free; the agent's settlement account opens with it, and the
/// audit trail records who did it and why.
pub fn register(
    tx: &mut Tx<'_>,
    registration: &AgentRegistration<'_>,
    actor: &str,
    why: &str,
) -> Result<Agent, ServiceError> {
    ensure_registered_village(tx, registration.village)?;
    if agents::find_by_username(tx, registration.username.as_str())?.is_some() {
        return Err(ServiceError::UsernameTaken);
    }
    let mut form = AgentInsertForm::new(
        registration.username.as_str(),
        registration.display_name,
        registration.owner_name,
        registration.kind,
        registration.bank,
        registration.village,
        registration.password_hash,
    );
    if registration.password_chosen_by_another {
        form = form.with_password_chosen_by_another();
    }
    let agent = agents::insert(tx, &form).map_err(|error| match error {
        // Two agents registered at once under one name: the unique index decides.
        error if error.is_unique_violation() => ServiceError::UsernameTaken,
        other => other.into(),
    })?;
    let settlement = accounts::open(tx, OwnerKind::Agent, &agent.id.to_string(), AccountKind::AgentSettlement)?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action: "agent.registered",
            object_kind: "agent",
            object_id: &agent.id.to_string(),
            reason: why,
            details: serde_json::json!({
                "username": agent.username,
                "display_name": agent.display_name,
                "owner_name": agent.owner_name,
                "kind": agent.kind,
                "bank": agent.bank,
                "village": agent.village,
                "settlement_account": settlement.id,
            }),
        },
    )?;
    Ok(agent)
}

/// Adds a terminal to an active agent in the caller's transaction: the terminal id and
/// the device's serial must be new.
pub fn add_terminal(
    tx: &mut Tx<'_>,
    agent: &Agent,
    terminal_id: &TerminalId,
    serial: Option<&TerminalSerial>,
    actor: &str,
) -> Result<Terminal, ServiceError> {
    if agent.is_disabled() {
        return Err(ServiceError::Invalid(format!("agent {} is deactivated: activate it first", agent.id)));
    }
    if agents::find_terminal_by_id(tx, terminal_id.as_str())?.is_some() {
        return Err(ServiceError::TerminalTaken(format!("terminal {terminal_id} is registered already")));
    }
    if let Some(serial) = serial {
        if agents::find_terminal_by_serial(tx, serial.as_str())?.is_some() {
            return Err(ServiceError::TerminalTaken(format!(
                "a terminal with serial {} is registered already",
                serial.as_str()
            )));
        }
    }
    let terminal = agents::insert_terminal(tx, terminal_id.as_str(), serial.map(TerminalSerial::as_str), agent.id)
        .map_err(|error| match error {
            // Two registrations of one terminal at once: the unique index decides.
            error if error.is_unique_violation() => {
                ServiceError::TerminalTaken(format!("terminal {terminal_id} is registered already"))
            }
            other => other.into(),
        })?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action: "terminal.added",
            object_kind: "terminal",
            object_id: &terminal.id,
            reason: "added to an agent",
            details: serde_json::json!({ "agent_id": agent.id, "serial": terminal.serial }),
        },
    )?;
    Ok(terminal)
}

fn ensure_registered_village(tx: &mut Tx<'_>, village: &RegionCode) -> Result<(), ServiceError> {
    if regions::find_by_code(tx, village)?.is_none() {
        return Err(ServiceError::Invalid(format!("region {village} is not registered")));
    }
    Ok(())
}

/// The caller's scope, if the caller is an admin.
fn admin(caller: &Principal) -> Result<&RegionScope, ServiceError> {
    match caller {
        Principal::Operator { role: OperatorRole::Admin, scope, .. } => Ok(scope),
        _ => Err(ServiceError::Forbidden("only admins manage agents and terminals".to_owned())),
    }
}

fn may_manage_in(own_scope: &RegionScope, village: &RegionCode) -> bool {
    may_manage(OperatorRole::Admin, own_scope, &RegionScope::Region(village.clone()))
}

fn parse_village(text: &str) -> Result<RegionCode, ServiceError> {
    RegionCode::parse(text)
        .ok()
        .filter(|code| code.level() == RegionLevel::Village)
        .ok_or_else(|| ServiceError::Invalid(format!("village: {text:?} is not a village code such as 32.04.12.2001")))
}

fn owner_name(text: &str) -> Result<&str, ServiceError> {
    display_name(text).map_err(|_| ServiceError::Invalid("owner_name: 1 to 100 characters".to_owned()))
}

/// An admin registers an agent in a village of its region, with a first password the
/// agent replaces at first login; its settlement account opens at once.
pub fn create(store: &Store, caller: &Principal, new: &NewAgent) -> Result<AgentView, ServiceError> {
    let own_scope = admin(caller)?;
    let username = Username::parse(&new.username)?;
    let display_name = display_name(&new.display_name)?;
    let owner_name = owner_name(&new.owner_name)?;
    let village = parse_village(&new.village)?;
    if !may_manage_in(own_scope, &village) {
        return Err(ServiceError::Forbidden(format!(
            "you may register agents only inside your region, not in {village}"
        )));
    }
    let password = Password::parse_new(new.password.clone(), username.as_str())?;
    let password_hash = passwords::hash(&password)?;
    let registration = AgentRegistration {
        username: &username,
        display_name,
        owner_name,
        kind: new.kind,
        bank: new.bank,
        village: &village,
        password_hash: &password_hash,
        password_chosen_by_another: true,
    };
    store.write(|tx| {
        let agent = register(tx, &registration, &caller.subject(), "registered by an admin")?;
        Ok(AgentView::new(agent, Vec::new()))
    })
}

/// The agents inside the admin's region, filtered, by id.
pub fn list(store: &Store, caller: &Principal, query: &AgentQuery) -> Result<Vec<AgentView>, ServiceError> {
    let own_scope = admin(caller)?;
    // Checked at the door (PAGING_INVALID); kept within the bound here whatever the caller.
    let limit = query.limit.unwrap_or(AGENTS_PER_PAGE_DEFAULT).clamp(1, AGENTS_PER_PAGE_MAX);
    let region = query
        .region
        .as_deref()
        .map(|text| RegionCode::parse(text).map_err(|error| ServiceError::Invalid(format!("region: {error}"))))
        .transpose()?;
    let name = query.q.as_deref().map(str::trim).filter(|text| !text.is_empty());
    if name.is_some_and(|text| text.chars().count() > NAME_SEARCH_CHARS_MAX) {
        return Err(ServiceError::Invalid(format!("q: at most {NAME_SEARCH_CHARS_MAX} characters")));
    }
    let mut filter = AgentFilter { regions: Vec::new(), bank: query.bank, kind: query.kind, name };
    if let RegionScope::Region(own) = own_scope {
        filter.regions.push(own);
    }
    filter.regions.extend(region.as_ref());
    store.read(|tx| {
        let page = agents::find_page(tx, &filter, query.after.unwrap_or(0), limit)?;
        let ids: Vec<i64> = page.iter().map(|agent| agent.id).collect();
        let mut terminals: BTreeMap<i64, Vec<Terminal>> = BTreeMap::new();
        for terminal in agents::find_terminals_by_agents(tx, &ids)? {
            terminals.entry(terminal.agent_id).or_default().push(terminal);
        }
        Ok(page
            .into_iter()
            .map(|agent| {
                let own = terminals.remove(&agent.id).unwrap_or_default();
                AgentView::new(agent, own)
            })
            .collect())
    })
}

/// An agent the admin may manage, or "not found" (an admin outside the agent's region is
/// not told that the agent exists).
fn managed(tx: &mut Tx<'_>, own_scope: &RegionScope, id: i64) -> Result<Agent, ServiceError> {
    agents::find_by_id(tx, id)?
        .filter(|agent| may_manage_in(own_scope, &agent.village))
        .ok_or(ServiceError::NotFound("agent"))
}

/// One agent of the admin's region, with its terminals.
pub fn view(store: &Store, caller: &Principal, id: i64) -> Result<AgentView, ServiceError> {
    let own_scope = admin(caller)?;
    store.read(|tx| {
        let agent = managed(tx, own_scope, id)?;
        let terminals = agents::find_terminals_by_agent(tx, agent.id)?;
        Ok(AgentView::new(agent, terminals))
    })
}

/// An admin renames an agent or its owner, or deactivates or activates it. A
/// deactivation revokes the agent's tokens at once; its history stays.
pub fn change(store: &Store, caller: &Principal, id: i64, change: &AgentChange) -> Result<AgentView, ServiceError> {
    let own_scope = admin(caller)?;
    let why = reason(&change.reason)?;
    let new_name = change.display_name.as_deref().map(display_name).transpose()?;
    let new_owner = change.owner_name.as_deref().map(owner_name).transpose()?;
    if new_name.is_none() && new_owner.is_none() && change.disabled.is_none() {
        return Err(ServiceError::Invalid("nothing to change: give display_name, owner_name or disabled".to_owned()));
    }
    store.write(|tx| {
        let before = managed(tx, own_scope, id)?;
        let access_change = change.disabled.is_some_and(|disabled| disabled != before.is_disabled());
        let form = AgentUpdateForm {
            display_name: new_name,
            owner_name: new_owner.map(Some),
            disabled_at: change.disabled.map(|disabled| disabled.then(|| before.disabled_at.unwrap_or_else(now))),
        };
        let after = agents::update(tx, id, &form)?;
        if access_change {
            agents::bump_token_version(tx, id)?;
        }
        let state = |agent: &Agent| {
            serde_json::json!({
                "display_name": agent.display_name,
                "owner_name": agent.owner_name,
                "disabled": agent.is_disabled(),
            })
        };
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &caller.subject(),
                action: "agent.changed",
                object_kind: "agent",
                object_id: &id.to_string(),
                reason: why,
                details: serde_json::json!({
                    "before": state(&before),
                    "after": state(&after),
                    "tokens_revoked": access_change,
                }),
            },
        )?;
        let terminals = agents::find_terminals_by_agent(tx, id)?;
        Ok(AgentView::new(after, terminals))
    })
}

/// An admin adds a terminal to an agent of its region.
pub fn create_terminal(
    store: &Store,
    caller: &Principal,
    agent_id: i64,
    new: &NewTerminal,
) -> Result<TerminalView, ServiceError> {
    let own_scope = admin(caller)?;
    let terminal_id = TerminalId::parse(&new.terminal_id)?;
    let serial =
        TerminalSerial::parse(&new.serial).map_err(|error| ServiceError::Invalid(format!("serial: {error}")))?;
    store.write(|tx| {
        let agent = managed(tx, own_scope, agent_id)?;
        add_terminal(tx, &agent, &terminal_id, Some(&serial), &caller.subject()).map(TerminalView::from)
    })
}

/// An admin moves a terminal to another agent of its region, or deactivates or activates
/// it. Either stops the tokens issued on the terminal at once (every agent request checks
/// that its terminal is still its own and active); the transactions made on it stay with
/// the agent that made them.
pub fn change_terminal(
    store: &Store,
    caller: &Principal,
    terminal_id: &str,
    change: &TerminalChange,
) -> Result<TerminalView, ServiceError> {
    let own_scope = admin(caller)?;
    let why = reason(&change.reason)?;
    if change.agent_id.is_none() && change.disabled.is_none() {
        return Err(ServiceError::Invalid("nothing to change: give agent_id or disabled".to_owned()));
    }
    store.write(|tx| {
        let before = agents::find_terminal_by_id(tx, terminal_id)?.ok_or(ServiceError::NotFound("terminal"))?;
        managed(tx, own_scope, before.agent_id).map_err(|_| ServiceError::NotFound("terminal"))?;
        let new_agent = match change.agent_id.filter(|agent_id| *agent_id != before.agent_id) {
            Some(agent_id) => {
                let agent = managed(tx, own_scope, agent_id)?;
                if agent.is_disabled() {
                    return Err(ServiceError::Invalid(format!("agent {agent_id} is deactivated: activate it first")));
                }
                Some(agent.id)
            }
            None => None,
        };
        let form = TerminalUpdateForm {
            agent_id: new_agent,
            status: change.disabled.map(|disabled| if disabled { TERMINAL_DISABLED } else { TERMINAL_ACTIVE }),
        };
        let after = if new_agent.is_some() || form.status.is_some() {
            agents::update_terminal(tx, terminal_id, &form)?
        } else {
            before.clone()
        };
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &caller.subject(),
                action: "terminal.changed",
                object_kind: "terminal",
                object_id: terminal_id,
                reason: why,
                details: serde_json::json!({
                    "before": { "agent_id": before.agent_id, "status": before.status },
                    "after": { "agent_id": after.agent_id, "status": after.status },
                }),
            },
        )?;
        Ok(TerminalView::from(after))
    })
}

/// An admin sets a temporary password for an agent of its region who forgot its own: the
/// agent's tokens stop, and the agent must choose a new password before working again.
pub fn reset_password(store: &Store, caller: &Principal, id: i64, reset: &PasswordReset) -> Result<(), ServiceError> {
    let own_scope = admin(caller)?;
    let why = reason(&reset.reason)?;
    let target = store.read(|tx| managed(tx, own_scope, id))?;
    let password = Password::parse_new(reset.password.clone(), &target.username)?;
    let password_hash = passwords::hash(&password)?;
    store.write(|tx| {
        managed(tx, own_scope, id)?;
        password_change::set_by_admin(tx, PasswordOwner::Agent, id, &password_hash, &caller.subject(), why)
    })
}
