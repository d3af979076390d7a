//! The region hierarchy: province → regency/city → district → village.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::auth::RegionCode;
use crate::service::regions::{self, Region};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "32.04.12.2099", "name": "Desa Contoh"}))]
pub struct NewRegion {
    /// Kemendagri code: `32`, `32.04`, `32.04.12` or `32.04.12.2001`.
    #[schema(value_type = String)]
    pub code: RegionCode,
    #[schema(max_length = 100)]
    pub name: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegionQuery {
    /// The parent region; absent: the provinces.
    #[param(value_type = Option<String>)]
    pub parent: Option<RegionCode>,
}

/// An admin adds a region under an existing parent.
#[utoipa::path(post, path = "/v1/regions", tag = "regions", security(("bearer" = [])), request_body = NewRegion,
    responses((status = 201, body = Region), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn add(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<NewRegion>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let NewRegion { code, name } = body.into_inner();
    let region = blocking(move || regions::add(&store, &caller.0, &code, &name)).await?;
    Ok(HttpResponse::Created().json(region))
}

/// The regions directly below a parent (the provinces without one).
#[utoipa::path(get, path = "/v1/regions", tag = "regions", security(("bearer" = [])), params(RegionQuery),
    responses((status = 200, body = [Region]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn children(
    state: web::Data<AppState>,
    _caller: Authenticated,
    query: web::Query<RegionQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let parent = query.into_inner().parent;
    let regions = blocking(move || regions::children(&store, parent.as_ref())).await?;
    Ok(HttpResponse::Ok().json(regions))
}
