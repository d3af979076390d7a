//! Data updates on a family: typed changes with their reason, and the family's history.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::family_change::FamilyChange;
use crate::service::family_changes::{self, ChangeView};

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
/// ended), a school level change, a corrected recipient name. Audited; in the history.
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
    let store = state.store.clone();
    let family_id = path.into_inner();
    let recorded =
        blocking(move || family_changes::record_change(&store, &caller.0, family_id, &change, reason.trim())).await?;
    Ok(HttpResponse::Created().json(recorded))
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
