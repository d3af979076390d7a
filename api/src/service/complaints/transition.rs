//! An operator moves a complaint along (received → in progress → escalated → resolved →
//! closed, or rejected). Resolving or rejecting records the one resolution and ends the
//! investigation hold the complaint placed on an agent's settlement account.

use crate::domain::complaint::{decide_transition, ComplaintStatus, EventKind, ASSIGNEE_CHARS_MAX};
use crate::domain::ids::HoldId;
use crate::domain::ledger::HoldStatus;
use crate::ledger::{accounts, holds};
use crate::service::access;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::complaints;
use crate::store::{audit, now, Store};

use super::{add_event, check_text, detail, visible_complaint, ComplaintDetail};

/// A status change asked for.
#[derive(Debug, Clone)]
pub struct Transition {
    pub to: ComplaintStatus,
    /// The resolution when resolving or rejecting; else an optional note.
    pub text: String,
    /// Who handles it from now on.
    pub assignee: Option<String>,
}

pub fn transition(
    store: &Store,
    principal: &Principal,
    id: i64,
    requested: &Transition,
) -> Result<ComplaintDetail, ServiceError> {
    access::operator(principal)?;
    check_text("text", &requested.text, false)?;
    if requested
        .assignee
        .as_ref()
        .is_some_and(|assignee| assignee.trim().is_empty() || assignee.chars().count() > ASSIGNEE_CHARS_MAX)
    {
        return Err(ServiceError::Invalid(format!("assignee: 1 to {ASSIGNEE_CHARS_MAX} characters")));
    }
    let actor = principal.subject();
    store.write(|tx| {
        let mut complaint = visible_complaint(tx, principal, id)?;
        let has_resolution = complaints::has_resolution(tx, complaint.id)?;
        let plan = decide_transition(complaint.status, has_resolution, requested.to, &requested.text)?;
        let settled_at = if plan.records_resolution { Some(now()) } else { complaint.settled_at };
        if !complaints::change_status(tx, complaint.id, plan.from, plan.to, settled_at)? {
            return Err(ServiceError::ComplaintTransitionInvalid(format!(
                "complaint {id} changed status meanwhile; read it and try again"
            )));
        }
        if let Some(assignee) = &requested.assignee {
            complaints::set_assignee(tx, complaint.id, assignee)?;
            complaint.assignee = Some(assignee.clone());
        }
        let kind = if plan.records_resolution { EventKind::Resolution } else { EventKind::Transition };
        add_event(tx, complaint.id, kind, plan.to, &requested.text, &actor)?;
        if let (true, Some(hold_id)) = (plan.releases_hold, complaint.hold_id) {
            let hold = holds::find_by_id(tx, HoldId(hold_id))?.ok_or(ServiceError::NotFound("hold"))?;
            if hold.status == HoldStatus::Active {
                accounts::lock(tx, hold.account)?;
                holds::release(tx, hold.id, &format!("{actor}: complaint {id} {}", plan.to))?;
            }
        }
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &actor,
                action: "complaint.status_changed",
                object_kind: "complaint",
                object_id: &complaint.id.to_string(),
                reason: &requested.text,
                details: serde_json::json!({ "from": plan.from, "to": plan.to, "assignee": requested.assignee }),
            },
        )?;
        complaint.status = plan.to;
        complaint.settled_at = settled_at;
        detail(tx, complaint)
    })
}
