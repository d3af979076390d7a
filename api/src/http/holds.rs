//! Holds placed and ended by operators: an investigation of one of a family's pockets.

use actix_web::{web, HttpResponse};

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::ids::HoldId;
use crate::service::holds::{self, HoldEnding, HoldRecord, NewHold};

/// An operator of the family's region blocks an amount of one of its pockets while a case
/// is looked into (audited; the family sees the hold and its reason).
#[utoipa::path(post, path = "/v1/families/{family_id}/holds", tag = "families", security(("bearer" = [])),
    params(("family_id" = i64, Path)), request_body = NewHold,
    responses((status = 201, body = HoldRecord), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn place(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<NewHold>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (family_id, new) = (path.into_inner(), body.into_inner());
    let hold = blocking(move || holds::place(&store, &caller.0, family_id, &new)).await?;
    Ok(HttpResponse::Created().json(hold))
}

/// An operator of the family's region ends an investigation hold, saying why (audited).
#[utoipa::path(post, path = "/v1/holds/{hold_id}/release", tag = "families", security(("bearer" = [])),
    params(("hold_id" = i64, Path)), request_body = HoldEnding,
    responses((status = 200, body = HoldRecord), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn release(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<HoldEnding>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (hold_id, ending) = (HoldId(path.into_inner()), body.into_inner());
    let hold = blocking(move || holds::release(&store, &caller.0, hold_id, &ending)).await?;
    Ok(HttpResponse::Ok().json(hold))
}
