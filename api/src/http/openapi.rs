//! The OpenAPI document, generated from the route annotations. `openapi/openapi.json`
//! is its committed copy; the test suite fails when the two drift apart.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::health::{self, Health};
use super::metrics;
use super::problem::{ErrorCode, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "KKS API",
        description = "Non-cash social assistance on the Kartu Keluarga Sejahtera combo card: \
                       cards, e-wallets, a double-entry ledger with holds, agent EDC transactions \
                       and stage disbursements.\n\nEvery error is `application/problem+json` with \
                       a stable `code` (see the `ErrorCode` schema); send `Accept-Language: id` \
                       for titles in Bahasa Indonesia."
    ),
    paths(health::healthz, health::readyz, metrics::metrics, openapi_json),
    components(schemas(Problem, ErrorCode, Health)),
    tags((name = "operations", description = "Health, readiness, metrics and this document"))
)]
pub struct ApiDoc;

/// The document as served and committed: pretty JSON with a trailing newline.
pub fn document_json() -> Result<String, serde_json::Error> {
    Ok(format!("{}\n", ApiDoc::openapi().to_pretty_json()?))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Result<HttpResponse, super::problem::ApiError> {
    let document = document_json().map_err(|error| super::problem::internal(&error))?;
    Ok(HttpResponse::Ok().content_type("application/json").body(document))
}
