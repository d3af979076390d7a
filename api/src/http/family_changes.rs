//! Data updates on a family: typed changes with their reason, a second person's decision
//! on a sensitive one, and the family's history.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::family_change::{ChangeDecision, FamilyChange};
use crate::service::family_changes::{self, CardKeys, ChangeView};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"change": {"kind": "member_leaves", "member_id": 7, "reason": "left_school"},
    "reason": "laporan pendamping: anak berhenti sekolah"}))]
pub struct RecordChange {
    pub change: FamilyChange,
    /// Why the data changes (the audit trail's reason).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// An operator of the family's region records a data update: a member added (birth,
/// joins), a member's component ending (death, moving out, leaving school, a pregnancy
/// ended), a school level change, a corrected recipient name, NIK, family card number
/// or health facility, a move to another village, a new recipient. Audited; in the
/// history. A new recipient, and a move to another regency, are answered `pending`: they
/// apply when a second person approves them.
#[utoipa::path(post, path = "/v1/families/{family_id}/changes", tag = "families", operation_id = "record_family_change",
    security(("bearer" = [])), params(("family_id" = i64, Path)), request_body = RecordChange,
    responses((status = 201, body = ChangeView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_change(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<RecordChange>,
) -> Result<HttpResponse, ApiError> {
    let RecordChange { change, reason } = body.into_inner();
    let (store, auth, issuer) = (state.store.clone(), state.auth.clone(), state.card_issuer.clone());
    let family_id = path.into_inner();
    let recorded = blocking(move || {
        let keys = CardKeys { pin_keys: &auth.pin_keys, issuer: &issuer };
        family_changes::record_change(&store, keys, &caller.0, family_id, &change, reason.trim())
    })
    .await?;
    Ok(HttpResponse::Created().json(recorded))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "surat kematian ibu diperiksa"}))]
pub struct DecideChange {
    /// Why the change is approved or rejected (the audit trail's reason).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// A supervisor or an admin of the family's region, other than the person who entered
/// it, approves a pending change: it applies now. A new recipient's card and PIN are in
/// this answer only. Approving again answers the change as it is.
#[utoipa::path(post, path = "/v1/families/{family_id}/changes/{change_id}/approve", tag = "families",
    operation_id = "approve_family_change", security(("bearer" = [])),
    params(("family_id" = i64, Path), ("change_id" = i64, Path)), request_body = DecideChange,
    responses((status = 200, body = ChangeView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(i64, i64)>,
    body: web::Json<DecideChange>,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, path.into_inner(), ChangeDecision::Approve, body.into_inner().reason).await
}

/// A supervisor or an admin of the family's region rejects a pending change, with the
/// reason: the family stays as it is. An applied change is not rejected (409).
#[utoipa::path(post, path = "/v1/families/{family_id}/changes/{change_id}/reject", tag = "families",
    operation_id = "reject_family_change", security(("bearer" = [])),
    params(("family_id" = i64, Path), ("change_id" = i64, Path)), request_body = DecideChange,
    responses((status = 200, body = ChangeView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reject(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(i64, i64)>,
    body: web::Json<DecideChange>,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, path.into_inner(), ChangeDecision::Reject, body.into_inner().reason).await
}

async fn decide(
    state: web::Data<AppState>,
    caller: Authenticated,
    (family_id, change_id): (i64, i64),
    decision: ChangeDecision,
    reason: String,
) -> Result<HttpResponse, ApiError> {
    let (store, auth, issuer) = (state.store.clone(), state.auth.clone(), state.card_issuer.clone());
    let decided = blocking(move || {
        let keys = CardKeys { pin_keys: &auth.pin_keys, issuer: &issuer };
        family_changes::decide_pending(&store, keys, &caller.0, family_id, change_id, decision, reason.trim())
    })
    .await?;
    Ok(HttpResponse::Ok().json(decided))
}

/// The family's data updates, oldest first (the family itself, or its region's operators).
#[utoipa::path(get, path = "/v1/families/{family_id}/changes", tag = "families", operation_id = "family_changes",
    security(("bearer" = [])), params(("family_id" = i64, Path)),
    responses((status = 200, body = [ChangeView]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn history(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let family_id = path.into_inner();
    let changes = blocking(move || family_changes::history(&store, &caller.0, family_id)).await?;
    Ok(HttpResponse::Ok().json(changes))
}
