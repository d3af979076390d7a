//! Data updates (seeds: "pemutakhiran data"): an operator of the family's region records a
//! typed change with its reason; the change is applied, kept in the family's history and
//! in the audit trail (who, when, why). A change that leaves no member with a PKH
//! component says the family is due a natural exit.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use crate::domain::family_change::{decide_change, ChangeRefusal, CurrentMember, FamilyChange};
use crate::service::ServiceError;
use crate::store::audit::AUDIT_REASON_BYTES_MAX;
use crate::store::family_changes::{self, FamilyChangeInsertForm, FamilyChangeRecord};
use crate::store::{audit, families, now, Store};

/// A change in the family's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeView {
    pub id: i64,
    pub family_id: i64,
    pub kind: String,
    /// The change as entered.
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    /// No member with a PKH component is left: the operator records the natural exit.
    pub natural_exit_due: bool,
}

impl From<FamilyChangeRecord> for ChangeView {
    fn from(record: FamilyChangeRecord) -> Self {
        Self {
            id: record.id,
            family_id: record.family_id,
            kind: record.kind,
            change: serde_json::from_str(&record.details).unwrap_or(serde_json::Value::Null),
            reason: record.reason,
            recorded_by: record.actor,
            recorded_at: record.at,
            natural_exit_due: record.natural_exit_due,
        }
    }
}

impl From<ChangeRefusal> for ServiceError {
    fn from(refusal: ChangeRefusal) -> Self {
        match refusal {
            ChangeRefusal::Terminated => Self::FamilyNotActive(refusal.to_string()),
            ChangeRefusal::UnknownMember(_) => Self::NotFound("member"),
            ChangeRefusal::SchoolLevel
            | ChangeRefusal::ReasonDoesNotFit { .. }
            | ChangeRefusal::TooManyMembers
            | ChangeRefusal::Name => Self::Invalid(refusal.to_string()),
        }
    }
}

/// An operator of the family's region records and applies a change.
pub fn record_change(
    store: &Store,
    principal: &Principal,
    family_id: i64,
    change: &FamilyChange,
    reason: &str,
) -> Result<ChangeView, ServiceError> {
    access::operator(principal)?;
    if reason.trim().is_empty() || reason.len() > AUDIT_REASON_BYTES_MAX {
        return Err(ServiceError::Invalid(format!(
            "reason: 1 to {AUDIT_REASON_BYTES_MAX} bytes: why the data changes"
        )));
    }
    let actor = principal.subject();
    store.write(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        let members: Vec<CurrentMember> = families::find_members_by_family(tx, family.id)?
            .into_iter()
            .map(|member| CurrentMember { id: member.id, component: member.component })
            .collect();
        let plan = decide_change(family.status, &members, change)?;
        match change {
            FamilyChange::MemberAdded { name, component, school_level, .. } => {
                families::insert_member(tx, family.id, name.trim(), *component, *school_level)?;
            }
            FamilyChange::MemberLeaves { member_id, reason } => {
                if !families::end_member(tx, *member_id, reason.as_ref())? {
                    return Err(ServiceError::NotFound("member"));
                }
            }
            FamilyChange::SchoolLevelChanged { member_id, school_level } => {
                families::set_school_level(tx, *member_id, *school_level)?;
            }
            FamilyChange::RecipientNameCorrected { recipient_name } => {
                families::set_recipient_name(tx, family.id, recipient_name.trim())?;
            }
        }
        let details = serde_json::to_value(change).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let form = FamilyChangeInsertForm {
            family_id: family.id,
            kind: change.kind(),
            details: details.to_string(),
            reason,
            actor: &actor,
            at: now(),
            natural_exit_due: plan.natural_exit_due,
        };
        let record = family_changes::insert(tx, &form)?;
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &actor,
                action: "family.data_changed",
                object_kind: "family",
                object_id: &family.id.to_string(),
                reason,
                details: serde_json::json!({ "change": details, "natural_exit_due": plan.natural_exit_due }),
            },
        )?;
        Ok(ChangeView::from(record))
    })
}

/// The family's changes, oldest first: for the family itself and its region's operators.
pub fn history(store: &Store, principal: &Principal, family_id: i64) -> Result<Vec<ChangeView>, ServiceError> {
    store.read(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        Ok(family_changes::find_by_family(tx, family.id)?.into_iter().map(ChangeView::from).collect())
    })
}
