//! An operator records a family's graduation or exit from PKH (seeds: "KPM graduasi").
//! The family becomes `graduated`: no further PKH stage pays it, its food and LPG
//! assistance go on unless the exit stops them, and what its wallets hold stays its own
//! (nothing returns to the treasury, no hold or block is placed).

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use crate::domain::family::FamilyStatus;
use crate::domain::graduation::{decide_exit, ExitKind, ExitPlan, ExitReason, ExitRefusal, ExitTerms};
use crate::service::ServiceError;
use crate::store::families::{self, Family};
use crate::store::family_exits::{self, FamilyExit};
use crate::store::{audit, now, Store, Tx};

/// A recorded exit, as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExitView {
    pub family_id: i64,
    pub status: FamilyStatus,
    pub kind: ExitKind,
    pub reason: ExitReason,
    /// The reason in the seed form's words ("SUDAH MAMPU").
    pub reason_wording: String,
    pub year_in: i32,
    pub year_out: i32,
    /// Whether BPNT and LPG keep paying the family.
    pub non_cash_continues: bool,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

impl ExitView {
    pub(crate) fn of(exit: FamilyExit) -> Self {
        Self {
            family_id: exit.family_id,
            status: FamilyStatus::Graduated,
            kind: exit.terms.kind,
            reason: exit.terms.reason,
            reason_wording: exit.terms.reason.form_wording().to_owned(),
            year_in: exit.year_in,
            year_out: exit.terms.year_out,
            non_cash_continues: exit.terms.non_cash_continues,
            note: exit.terms.note,
            recorded_by: exit.recorded_by,
            recorded_at: exit.recorded_at,
        }
    }
}

impl From<ExitRefusal> for ServiceError {
    fn from(refusal: ExitRefusal) -> Self {
        match refusal {
            ExitRefusal::NotActive(_) => Self::FamilyNotActive(refusal.to_string()),
            ExitRefusal::AlreadyExited => Self::AlreadyExited,
            ExitRefusal::ReasonDoesNotFitKind { .. } | ExitRefusal::YearOut { .. } | ExitRefusal::NoteTooLong => {
                Self::Invalid(refusal.to_string())
            }
        }
    }
}

/// An operator of the family's region records its exit. A retry with the same terms
/// answers the exit on file and changes nothing; other terms are refused.
pub fn record_exit(
    store: &Store,
    principal: &Principal,
    family_id: i64,
    requested: &ExitTerms,
) -> Result<ExitView, ServiceError> {
    access::operator(principal)?;
    let actor = principal.subject();
    store.write(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        record_exit_in(tx, &actor, &family, requested)
    })
}

/// Records the family's exit inside the caller's transaction: an operator's exit, and
/// the natural exit a cycle close records for a family left without a PKH component.
pub fn record_exit_in(
    tx: &mut Tx<'_>,
    actor: &str,
    family: &Family,
    requested: &ExitTerms,
) -> Result<ExitView, ServiceError> {
    let year_in = family.created_at.year();
    let recorded = family_exits::find_by_family(tx, family.id)?;
    let plan = decide_exit(family.status, year_in, recorded.as_ref().map(|exit| &exit.terms), requested)?;
    let status = match (plan, recorded) {
        (ExitPlan::AlreadyRecorded, Some(recorded)) => return Ok(ExitView::of(recorded)),
        (ExitPlan::AlreadyRecorded, None) => {
            return Err(ServiceError::Internal(format!("family {} graduated without an exit on file", family.id)))
        }
        (ExitPlan::Record { status }, _) => status,
    };
    if !families::change_status(tx, family.id, family.status, status)? {
        return Err(ServiceError::FamilyNotActive(format!(
            "family {} changed status while its exit was recorded; try again",
            family.id
        )));
    }
    let exit = FamilyExit {
        family_id: family.id,
        terms: requested.clone(),
        year_in,
        recorded_by: actor.to_owned(),
        recorded_at: now(),
    };
    family_exits::insert(tx, &exit).map_err(|error| match error {
        error if error.is_unique_violation() => ServiceError::AlreadyExited,
        other => other.into(),
    })?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action: "family.exited",
            object_kind: "family",
            object_id: &family.id.to_string(),
            reason: requested.reason.form_wording(),
            details: serde_json::json!({
                "kind": requested.kind,
                "reason": requested.reason,
                "year_in": year_in,
                "year_out": requested.year_out,
                "non_cash_continues": requested.non_cash_continues,
                "note": requested.note,
                "was": family.status,
            }),
        },
    )?;
    Ok(ExitView::of(exit))
}
