//! Complaints (seeds: "Sistem Pengaduan Masyarakat"): one store for every channel. One
//! module per use case: filing ([`file`]), a comment ([`comment`]), a status change with
//! the one resolution ([`transition`]) and reading ([`list`]).

pub mod comment;
pub mod file;
pub mod list;
pub mod transition;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::auth::{RegionCode, RegionScope};
use crate::domain::card::CardNumber;
use crate::domain::complaint::{
    is_overdue, Category, Channel, ComplaintStatus, EventKind, Priority, TransitionRefusal, COMPLAINT_TEXT_CHARS_MAX,
};
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::complaints::{self, Complaint, ComplaintEvent, EventInsertForm, Visibility};
use crate::store::{now, Tx};

/// A complaint as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplaintView {
    pub id: i64,
    pub channel: Channel,
    pub category: Category,
    pub priority: Priority,
    pub status: ComplaintStatus,
    /// The village or region it concerns; absent until an operator knows it (an SMS).
    pub region: Option<String>,
    pub family_id: Option<i64>,
    /// Masked, as on a slip.
    pub card: Option<String>,
    pub agent_id: Option<i64>,
    /// The EDC transaction's reference number (on the slip).
    pub edc_reference: Option<String>,
    /// The investigation hold on the agent's settlement account, while it lasts and after.
    pub hold_id: Option<i64>,
    pub description: String,
    pub contact: String,
    pub assignee: Option<String>,
    pub filed_by: String,
    pub received_at: NaiveDateTime,
    /// The deadline (SLA) of its priority.
    pub due_at: NaiveDateTime,
    /// Still open past its deadline.
    pub overdue: bool,
    pub settled_at: Option<NaiveDateTime>,
}

impl ComplaintView {
    fn of(complaint: Complaint, now: NaiveDateTime) -> Self {
        Self {
            overdue: is_overdue(complaint.status, complaint.due_at, now),
            id: complaint.id,
            channel: complaint.channel,
            category: complaint.category,
            priority: complaint.priority,
            status: complaint.status,
            region: complaint.region_code,
            family_id: complaint.family_id,
            card: complaint
                .card_number
                .as_deref()
                .and_then(|number| CardNumber::parse(number).ok())
                .map(|card| card.masked()),
            agent_id: complaint.agent_id,
            edc_reference: complaint.edc_reference,
            hold_id: complaint.hold_id,
            description: complaint.description,
            contact: complaint.contact,
            assignee: complaint.assignee,
            filed_by: complaint.filed_by,
            received_at: complaint.received_at,
            due_at: complaint.due_at,
            settled_at: complaint.settled_at,
        }
    }
}

/// A line of the timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplaintTimelineEntry {
    pub kind: EventKind,
    /// The complaint's status after it.
    pub status: ComplaintStatus,
    pub text: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

impl From<ComplaintEvent> for ComplaintTimelineEntry {
    fn from(event: ComplaintEvent) -> Self {
        Self { kind: event.kind, status: event.status, text: event.text, actor: event.actor, at: event.at }
    }
}

/// A complaint with its timeline and its resolution.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplaintDetail {
    #[serde(flatten)]
    pub complaint: ComplaintView,
    /// The one answer, once resolved or rejected.
    pub resolution: Option<String>,
    pub timeline: Vec<ComplaintTimelineEntry>,
}

impl From<TransitionRefusal> for ServiceError {
    fn from(refusal: TransitionRefusal) -> Self {
        match refusal {
            TransitionRefusal::AlreadyResolved => Self::ComplaintAlreadyResolved,
            TransitionRefusal::NotAllowed { .. } => Self::ComplaintTransitionInvalid(refusal.to_string()),
            TransitionRefusal::ResolutionMissing(_) => Self::Invalid(refusal.to_string()),
        }
    }
}

/// Which complaints the caller sees: a family its own, an operator its region's (a
/// national one also those without a region); an agent none.
fn visibility(principal: &Principal) -> Result<Visibility<'_>, ServiceError> {
    match principal {
        Principal::Family { id } => Ok(Visibility::Family(*id)),
        Principal::Operator { scope: RegionScope::National, .. } => Ok(Visibility::All),
        Principal::Operator { scope: RegionScope::Region(code), .. } => Ok(Visibility::Region(code.as_str())),
        Principal::Agent { .. } => Err(ServiceError::Forbidden("complaints are for operators and families".to_owned())),
    }
}

/// The complaint, if the caller may see it (else "not found": existence never leaks).
fn visible_complaint(tx: &mut Tx<'_>, principal: &Principal, id: i64) -> Result<Complaint, ServiceError> {
    let visibility = visibility(principal)?;
    let complaint = complaints::find_by_id(tx, id)?.ok_or(ServiceError::NotFound("complaint"))?;
    let visible = match (principal, visibility) {
        (_, Visibility::All) => true,
        (_, Visibility::Family(family)) => complaint.family_id == Some(family),
        (Principal::Operator { scope, .. }, Visibility::Region(_)) => complaint
            .region_code
            .as_deref()
            .and_then(|region| RegionCode::parse(region).ok())
            .is_some_and(|region| scope.covers(&region)),
        (_, Visibility::Region(_)) => false,
    };
    if visible {
        Ok(complaint)
    } else {
        Err(ServiceError::NotFound("complaint"))
    }
}

/// The complaint with its timeline, as the caller sees it.
fn detail(tx: &mut Tx<'_>, complaint: Complaint) -> Result<ComplaintDetail, ServiceError> {
    let events = complaints::find_events(tx, complaint.id)?;
    let resolution = events.iter().find(|event| event.kind == EventKind::Resolution).map(|event| event.text.clone());
    Ok(ComplaintDetail {
        complaint: ComplaintView::of(complaint, now()),
        resolution,
        timeline: events.into_iter().map(ComplaintTimelineEntry::from).collect(),
    })
}

/// Adds a line to the complaint's timeline.
fn add_event(
    tx: &mut Tx<'_>,
    complaint_id: i64,
    kind: EventKind,
    status: ComplaintStatus,
    text: &str,
    actor: &str,
) -> Result<(), ServiceError> {
    let form = EventInsertForm { complaint_id, kind: kind.as_ref(), status: status.as_ref(), text, actor, at: now() };
    complaints::insert_event(tx, &form).map_err(|error| match error {
        error if error.is_unique_violation() => ServiceError::ComplaintAlreadyResolved,
        other => other.into(),
    })
}

/// A text of the complaint (description, comment, resolution): 1 to the limit in characters.
fn check_text(field: &str, text: &str, required: bool) -> Result<(), ServiceError> {
    let characters = text.chars().count();
    if (required && text.trim().is_empty()) || characters > COMPLAINT_TEXT_CHARS_MAX {
        let least = if required { 1 } else { 0 };
        return Err(ServiceError::Invalid(format!("{field}: {least} to {COMPLAINT_TEXT_CHARS_MAX} characters")));
    }
    Ok(())
}
