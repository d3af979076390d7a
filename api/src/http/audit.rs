//! The audit trail, for national operators: who changed what, when and why.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, paging, AppState};
use crate::service::audit::{self, AuditEvent, AuditFilter, AUDIT_PAGE_MAX};

/// Events in a page unless the client asks for another size.
const AUDIT_PAGE_DEFAULT: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `card`, `family`, `disbursement_batch`, `benefit_schedule`…
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// `operator:7`, `rule:conditionality`, `system:seed`…
    pub actor: Option<String>,
    /// Paging: events after this id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 100).
    pub limit: Option<i64>,
}

/// Audit events, oldest first, filtered; the trail is append-only.
#[utoipa::path(get, path = "/v1/audit-events", tag = "operations", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = [AuditEvent]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let AuditQuery { object_kind, object_id, actor, after, limit } = query.into_inner();
    let filter = AuditFilter {
        object_kind,
        object_id,
        actor,
        after: paging::cursor("after", after)?.unwrap_or(0),
        limit: paging::limit(limit, AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX)?,
    };
    let events = blocking(move || audit::events(&store, &caller.0, &filter)).await?;
    Ok(HttpResponse::Ok().json(events))
}
