//! Data updates (seeds: "pemutakhiran data"): an operator of the family's region records a
//! typed change with its reason; the change is applied, kept in the family's history and
//! in the audit trail (who, when, why). A change that leaves no member with a PKH
//! component flags the family for a natural exit at the next cycle close. A sensitive
//! change (a new recipient, a move to another regency) waits as pending until a second
//! person approves it (then it applies) or rejects it.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::cards::{self, NewCard};
use super::families::{is_registered_village, unregistered_village};
use super::monitoring::rollup;
use crate::domain::auth::{RegionCode, RegionScope};
use crate::domain::card_qr::IssuerKeys;
use crate::domain::family::CardStatus;
use crate::domain::family_change::{
    decide_change, decide_decision, ChangeDecision, ChangePlan, ChangeRefusal, ChangeStatus, CurrentMember,
    DecisionPlan, DecisionRefusal, FamilyChange,
};
use crate::domain::pin_keys::PinKeys;
use crate::service::ServiceError;
use crate::store::audit::AUDIT_REASON_BYTES_MAX;
use crate::store::families::Family;
use crate::store::family_changes::{self, FamilyChangeDecisionForm, FamilyChangeInsertForm, FamilyChangeRecord};
use crate::store::{audit, cards as card_store, families, now, regions, Store, Tx};

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
    /// `pending`: a sensitive change waiting for a second person's approval.
    pub status: ChangeStatus,
    /// Who approved or rejected a change that waited, when, and why.
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    /// No member with a PKH component is left: the next cycle close records the
    /// family's natural exit.
    pub natural_exit_due: bool,
    /// A new recipient's card and PIN, in the answer that applied the change only (shown
    /// once, like a PIN mailer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_card: Option<NewCard>,
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
            status: record.status,
            decided_by: record.decided_by,
            decided_at: record.decided_at,
            decision_reason: record.decision_reason,
            natural_exit_due: record.natural_exit_due,
            new_card: None,
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
            | ChangeRefusal::Name
            | ChangeRefusal::NotAVillage(_)
            | ChangeRefusal::SameVillage(_)
            | ChangeRefusal::FamilyCardNumber => Self::Invalid(refusal.to_string()),
        }
    }
}

impl From<DecisionRefusal> for ServiceError {
    fn from(refusal: DecisionRefusal) -> Self {
        match refusal {
            DecisionRefusal::RoleMayNotDecide => Self::Forbidden(refusal.to_string()),
            DecisionRefusal::SamePerson => Self::ChangeSelfApproval,
            DecisionRefusal::AlreadyDecidedOtherwise(_) => Self::ChangeAlreadyDecided(refusal.to_string()),
        }
    }
}

/// The keys a new recipient's card is issued with.
#[derive(Clone, Copy)]
pub struct CardKeys<'a> {
    pub pin_keys: &'a PinKeys,
    pub issuer: &'a IssuerKeys,
}

fn check_reason(reason: &str, what: &str) -> Result<(), ServiceError> {
    if reason.trim().is_empty() || reason.len() > AUDIT_REASON_BYTES_MAX {
        return Err(ServiceError::Invalid(format!("reason: 1 to {AUDIT_REASON_BYTES_MAX} bytes: {what}")));
    }
    Ok(())
}

/// An operator of the family's region records a change: applied at once, or pending
/// when the rule wants a second person.
pub fn record_change(
    store: &Store,
    keys: CardKeys<'_>,
    principal: &Principal,
    family_id: i64,
    change: &FamilyChange,
    reason: &str,
) -> Result<ChangeView, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    check_reason(reason, "why the data changes")?;
    let actor = principal.subject();
    store.write(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        let plan = decide(tx, scope, &family, change)?;
        let details = serde_json::to_value(change).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let (status, action, new_card) = if plan.needs_approval {
            (ChangeStatus::Pending, "family.data_change_pending", None)
        } else {
            (ChangeStatus::Applied, "family.data_changed", apply(tx, keys, &actor, &family, change, reason, plan)?)
        };
        let form = FamilyChangeInsertForm {
            family_id: family.id,
            kind: change.kind(),
            details: details.to_string(),
            reason,
            actor: &actor,
            at: now(),
            natural_exit_due: plan.natural_exit_due,
            status: status.into(),
        };
        let record = family_changes::insert(tx, &form)?;
        let details = serde_json::json!({
            "change_id": record.id,
            "change": details,
            "natural_exit_due": plan.natural_exit_due,
        });
        audit_change(tx, &actor, action, family.id, reason, details)?;
        Ok(ChangeView { new_card, ..ChangeView::from(record) })
    })
}

/// A supervisor or an admin of the family's region decides on a pending change:
/// approving applies it (someone other than the person who entered it), rejecting keeps
/// the family as it is. Deciding again as before answers the change on file.
pub fn decide_pending(
    store: &Store,
    keys: CardKeys<'_>,
    principal: &Principal,
    family_id: i64,
    change_id: i64,
    decision: ChangeDecision,
    reason: &str,
) -> Result<ChangeView, ServiceError> {
    let (scope, role) = access::operator(principal)?;
    check_reason(reason, "why the change is approved or rejected")?;
    let actor = principal.subject();
    store.write(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        let record = family_changes::find_by_family_id_and_id(tx, family.id, change_id)?
            .ok_or(ServiceError::NotFound("change"))?;
        match decide_decision(record.status, &record.actor, &actor, role.may_approve(), decision)? {
            DecisionPlan::AlreadyDecided => return Ok(ChangeView::from(record)),
            DecisionPlan::Decide => {}
        }
        let change: FamilyChange = serde_json::from_str(&record.details)
            .map_err(|error| ServiceError::Internal(format!("change {change_id} on file: {error}")))?;
        // The family may have changed while the change waited: the rule decides again.
        let (status, action, plan) = match decision {
            ChangeDecision::Approve => {
                (ChangeStatus::Applied, "family.data_change_approved", Some(decide(tx, scope, &family, &change)?))
            }
            ChangeDecision::Reject => (ChangeStatus::Rejected, "family.data_change_rejected", None),
        };
        let form = FamilyChangeDecisionForm {
            status: status.into(),
            natural_exit_due: plan.map_or(record.natural_exit_due, |plan| plan.natural_exit_due),
            decided_by: &actor,
            decided_at: now(),
            decision_reason: reason,
        };
        let decided = family_changes::decide_pending(tx, record.id, &form)?.ok_or_else(|| {
            ServiceError::ChangeAlreadyDecided(format!("change {change_id} was decided by someone else meanwhile"))
        })?;
        let new_card = match plan {
            Some(plan) => apply(tx, keys, &actor, &family, &change, &record.reason, plan)?,
            None => None,
        };
        let details = serde_json::json!({ "change_id": record.id, "kind": record.kind, "entered_by": record.actor });
        audit_change(tx, &actor, action, family.id, reason, details)?;
        Ok(ChangeView { new_card, ..ChangeView::from(decided) })
    })
}

/// The rule, and what only the store knows: a family moves to a registered village
/// within the caller's region.
fn decide(
    tx: &mut Tx<'_>,
    scope: &RegionScope,
    family: &Family,
    change: &FamilyChange,
) -> Result<ChangePlan, ServiceError> {
    let members: Vec<CurrentMember> = families::find_members_by_family(tx, family.id)?
        .into_iter()
        .map(|member| CurrentMember { id: member.id, component: member.component })
        .collect();
    let plan = decide_change(family.status, &family.village, &members, change)?;
    if let FamilyChange::VillageMoved { village_code } = change {
        check_destination(tx, scope, village_code)?;
    }
    Ok(plan)
}

fn check_destination(tx: &mut Tx<'_>, scope: &RegionScope, village: &RegionCode) -> Result<(), ServiceError> {
    if !is_registered_village(village, regions::find_by_code(tx, village)?.as_ref()) {
        return Err(unregistered_village(village));
    }
    if !scope.covers(village) {
        return Err(ServiceError::Forbidden(format!("village {village} is outside your region")));
    }
    Ok(())
}

fn audit_change(
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    family_id: i64,
    reason: &str,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    let object_id = family_id.to_string();
    let record = audit::AuditRecord { actor, action, object_kind: "family", object_id: &object_id, reason, details };
    audit::record(tx, &record)?;
    Ok(())
}

/// Applies a change the rule accepted and keeps the family's natural-exit flag as the
/// plan says; a new recipient's card when it has one to replace.
fn apply(
    tx: &mut Tx<'_>,
    keys: CardKeys<'_>,
    actor: &str,
    family: &Family,
    change: &FamilyChange,
    reason: &str,
    plan: ChangePlan,
) -> Result<Option<NewCard>, ServiceError> {
    families::set_natural_exit_due(tx, family.id, plan.natural_exit_due)?;
    let nik_taken = |error: crate::store::StoreError| match error {
        error if error.is_unique_violation() => ServiceError::FamilyExists,
        other => other.into(),
    };
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
        FamilyChange::VillageMoved { village_code } => {
            rollup::move_family_figures(tx, family.id, &family.village, village_code)?;
            families::set_village(tx, family.id, village_code)?;
        }
        FamilyChange::RecipientChanged { recipient_name, nik } => {
            families::set_recipient(tx, family.id, recipient_name.trim(), nik.as_str()).map_err(nik_taken)?;
            // The old cardholder's app sessions end with her card.
            families::bump_token_version(tx, family.id)?;
            let current =
                card_store::find_by_family(tx, family.id)?.into_iter().find(|card| card.status != CardStatus::Replaced);
            return current
                .map(|card| cards::replace_in(tx, keys.pin_keys, keys.issuer, actor, card, reason))
                .transpose();
        }
        FamilyChange::NikCorrected { member_id: None, nik } => {
            families::set_nik(tx, family.id, nik.as_str()).map_err(nik_taken)?;
        }
        FamilyChange::NikCorrected { member_id: Some(member_id), nik } => {
            families::set_member_nik(tx, *member_id, nik.as_str())?;
        }
        FamilyChange::DocumentCorrected { family_card_number } => {
            families::set_family_card_number(tx, family.id, family_card_number)?;
        }
        FamilyChange::HealthFacilityChanged { health_facility } => {
            families::set_health_facility(tx, family.id, health_facility.trim())?;
        }
    }
    Ok(None)
}

/// The family's changes, oldest first: for the family itself and its region's operators.
pub fn history(store: &Store, principal: &Principal, family_id: i64) -> Result<Vec<ChangeView>, ServiceError> {
    store.read(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        Ok(family_changes::find_by_family(tx, family.id)?.into_iter().map(ChangeView::from).collect())
    })
}
