//! P2K2/FDS sessions: a facilitator (an operator: there is no facilitator login) records a
//! group's monthly session, its module and which families of the region attended.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use crate::domain::auth::{RegionCode, RegionLevel, RegionScope};
use crate::domain::edc::business_date;
use crate::domain::p2k2::{Module, ATTENDEES_MAX, GROUP_NAME_CHARS_MAX};
use crate::service::ServiceError;
use crate::store::p2k2::{self, Session, SessionInsertForm};
use crate::store::{audit, now, regions, Store};

/// The most sessions one page returns.
pub const SESSIONS_PAGE_MAX: i64 = 200;

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub village: RegionCode,
    pub group_name: String,
    pub held_on: NaiveDate,
    pub module: Module,
    pub attended: Vec<i64>,
}

/// A session as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub id: i64,
    pub village: String,
    pub group_name: String,
    pub held_on: NaiveDate,
    pub module: Module,
    /// The families present.
    pub attended: Vec<i64>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

impl From<Session> for SessionView {
    fn from(session: Session) -> Self {
        Self {
            id: session.id,
            village: session.village_code,
            group_name: session.group_name,
            held_on: session.held_on,
            module: session.module,
            attended: session.attended,
            recorded_by: session.recorded_by,
            recorded_at: session.recorded_at,
        }
    }
}

/// An operator of the village's region records a session; every family present must be
/// one the operator sees, each named once.
pub fn record_session(store: &Store, principal: &Principal, new: &NewSession) -> Result<SessionView, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let group_name = new.group_name.trim();
    if group_name.is_empty() || group_name.chars().count() > GROUP_NAME_CHARS_MAX {
        return Err(ServiceError::Invalid(format!("group_name: 1 to {GROUP_NAME_CHARS_MAX} characters")));
    }
    if new.village.level() != RegionLevel::Village {
        return Err(ServiceError::Invalid("village: a village code (32.04.12.2001)".to_owned()));
    }
    if new.attended.is_empty() || new.attended.len() > ATTENDEES_MAX {
        return Err(ServiceError::Invalid(format!("attended: 1 to {ATTENDEES_MAX} families")));
    }
    let mut sorted = new.attended.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != new.attended.len() {
        return Err(ServiceError::Invalid("attended: each family once".to_owned()));
    }
    if !scope.covers(&new.village) {
        return Err(ServiceError::NotFound("region"));
    }
    let actor = principal.subject();
    store.write(|tx| {
        if new.held_on > business_date(now()) {
            return Err(ServiceError::Invalid("held_on: a session held already, not one to come".to_owned()));
        }
        regions::find_by_code(tx, &new.village)?.ok_or(ServiceError::NotFound("region"))?;
        for family in &sorted {
            access::visible_family(tx, principal, *family)?;
        }
        let form = SessionInsertForm {
            village_code: new.village.as_str(),
            group_name,
            held_on: new.held_on,
            module: new.module.as_ref(),
            recorded_by: &actor,
            recorded_at: now(),
        };
        let session = p2k2::insert(tx, &form, &sorted).map_err(|error| match error {
            error if error.is_unique_violation() => {
                ServiceError::Invalid("this group's session on this module and day is recorded already".to_owned())
            }
            other => other.into(),
        })?;
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &actor,
                action: "p2k2.session_recorded",
                object_kind: "p2k2_session",
                object_id: &session.id.to_string(),
                reason: new.module.as_ref(),
                details: serde_json::json!({
                    "village": session.village_code,
                    "group_name": session.group_name,
                    "held_on": session.held_on,
                    "attended": session.attended.len(),
                }),
            },
        )?;
        Ok(SessionView::from(session))
    })
}

/// The sessions of the operator's region, newest first, below `before` when given.
pub fn sessions(
    store: &Store,
    principal: &Principal,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SessionView>, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let region = match scope {
        RegionScope::National => None,
        RegionScope::Region(code) => Some(code.as_str()),
    };
    let page = store.read(|tx| p2k2::find_in_region(tx, region, before, limit.clamp(1, SESSIONS_PAGE_MAX)))?;
    Ok(page.into_iter().map(SessionView::from).collect())
}
