//! P2K2/FDS family sessions: recorded by an operator acting as the facilitator.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, paging, AppState};
use crate::domain::auth::RegionCode;
use crate::domain::p2k2::Module;
use crate::service::p2k2::{self, NewSession, SessionView, SESSIONS_PAGE_MAX};

/// Sessions in a page unless the client asks for another size.
const SESSIONS_PAGE_DEFAULT: i64 = 50;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"village": "32.04.12.2001", "group_name": "Kelompok Melati", "held_on": "2026-12-01",
    "module": "health", "attended": [1, 2]}))]
pub struct RecordSession {
    #[schema(value_type = String)]
    pub village: RegionCode,
    #[schema(min_length = 1, max_length = 100)]
    pub group_name: String,
    pub held_on: NaiveDate,
    pub module: Module,
    /// The families present (ids), each once, all in the operator's region.
    #[schema(min_items = 1, max_items = 60)]
    pub attended: Vec<i64>,
}

/// A facilitator (an operator of the village's region) records a group's session and who
/// attended.
#[utoipa::path(post, path = "/v1/p2k2-sessions", tag = "families", operation_id = "record_p2k2_session",
    security(("bearer" = [])), request_body = RecordSession,
    responses((status = 201, body = SessionView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_session(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<RecordSession>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewSession {
        village: body.village,
        group_name: body.group_name,
        held_on: body.held_on,
        module: body.module,
        attended: body.attended,
    };
    let store = state.store.clone();
    let session = blocking(move || p2k2::record_session(&store, &caller.0, &new)).await?;
    Ok(HttpResponse::Created().json(session))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// Paging: sessions with a smaller id (the page is newest first).
    pub before: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// The sessions of the operator's region, newest first.
#[utoipa::path(get, path = "/v1/p2k2-sessions", tag = "families", operation_id = "list_p2k2_sessions",
    security(("bearer" = [])), params(SessionsQuery),
    responses((status = 200, body = [SessionView]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list_sessions(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SessionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let SessionsQuery { before, limit } = query.into_inner();
    let before = paging::cursor("before", before)?;
    let limit = paging::limit(limit, SESSIONS_PAGE_DEFAULT, SESSIONS_PAGE_MAX)?;
    let store = state.store.clone();
    let page = blocking(move || p2k2::sessions(&store, &caller.0, before, limit)).await?;
    Ok(HttpResponse::Ok().json(page))
}
