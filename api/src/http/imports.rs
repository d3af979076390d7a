//! Bulk imports and card issuance: the upload is streamed to a temporary file (never held
//! in memory), checked whole, and imported in the background; the job is followed by
//! `GET /v1/imports/{id}`.

use std::io::Write;

use actix_web::{http::header, web, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Authenticated;
use super::binary::CsvFile;
use super::paging;
use super::problem::{internal, ApiError, ErrorCode, Problem};
use super::{blocking, AppState};
use crate::domain::auth::RegionCode;
use crate::domain::card::Bank;
use crate::service::imports::{self, card_issuance, FileKind, ImportView, REJECTIONS_PAGE_MAX};

/// The largest import file accepted, in bytes: the national region list is about 5 MB,
/// a million families about 200 MB.
pub const IMPORT_BODY_BYTES_MAX: usize = 1024 * 1024 * 1024;

/// Uploads streamed to a file, which the text guard leaves to the import's own line by
/// line check instead of reading them whole.
pub const STREAMED_UPLOAD_PATHS: [&str; 2] = ["/v1/imports/regions", "/v1/imports/families"];

/// Refused lines shown per look unless asked otherwise.
const REJECTIONS_PAGE_DEFAULT: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RejectionsQuery {
    /// The refused lines after this line number.
    pub after: Option<i64>,
    /// Refused lines per page (1–500, default 100).
    pub limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bank": "bri"}))]
pub struct StartCardIssuance {
    /// The paying bank whose cards are issued.
    pub bank: Bank,
}

/// An admin imports regions from a CSV of Kemendagri codes and names (`code,name`).
#[utoipa::path(post, path = "/v1/imports/regions", tag = "imports", operation_id = "import_regions", security(("bearer" = [])),
    request_body(content = CsvFile, content_type = "text/csv"),
    responses((status = 202, body = ImportView, description = "The job, running or (the same file again) as it stands; `Location` names it"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn import_regions(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    upload(state, caller, body, FileKind::Regions).await
}

/// An operator imports families with their members (one line per family, as in DTKS).
#[utoipa::path(post, path = "/v1/imports/families", tag = "imports", operation_id = "import_families", security(("bearer" = [])),
    request_body(content = CsvFile, content_type = "text/csv"),
    responses((status = 202, body = ImportView, description = "The job, running or (the same file again) as it stands; `Location` names it"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn import_families(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    upload(state, caller, body, FileKind::Families).await
}

async fn upload(
    state: web::Data<AppState>,
    caller: Authenticated,
    mut body: web::Payload,
    kind: FileKind,
) -> Result<HttpResponse, ApiError> {
    let mut file = tempfile::NamedTempFile::new().map_err(|error| internal(&error))?;
    let mut received: usize = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| ApiError::new(ErrorCode::InvalidRequest, error.to_string()))?;
        received = received.saturating_add(chunk.len());
        if received > IMPORT_BODY_BYTES_MAX {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("an import file is at most {IMPORT_BODY_BYTES_MAX} bytes"),
            ));
        }
        // Into the page cache: short enough not to need a blocking thread.
        file.write_all(&chunk).map_err(|error| internal(&error))?;
    }
    let store = state.store.clone();
    let path = file.into_temp_path();
    let job = blocking(move || imports::submit(&store, &caller.0, kind, path)).await?;
    Ok(accepted(&job))
}

/// 202 with the job and where to follow it.
fn accepted(job: &ImportView) -> HttpResponse {
    HttpResponse::Accepted().insert_header((header::LOCATION, format!("/v1/imports/{}", job.id))).json(job)
}

/// The job: counts, progress and a page of refused lines (line number, code, reason).
#[utoipa::path(get, path = "/v1/imports/{id}", tag = "imports", operation_id = "view_import", security(("bearer" = [])),
    params(("id" = i64, Path), RejectionsQuery),
    responses((status = 200, body = ImportView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn view(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
    query: web::Query<RejectionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let after = paging::cursor("after", query.after)?.unwrap_or(0);
    let limit = paging::limit(query.limit, REJECTIONS_PAGE_DEFAULT, REJECTIONS_PAGE_MAX)?;
    let store = state.store.clone();
    let id = id.into_inner();
    let job = blocking(move || imports::view(&store, &caller.0, id, after, limit)).await?;
    Ok(HttpResponse::Ok().json(job))
}

/// An operator of the region issues cards to every family of it that has none, as a job;
/// the one-time PINs come once, from the job's PIN mailer.
#[utoipa::path(post, path = "/v1/regions/{code}/card-issuance", tag = "imports", operation_id = "start_card_issuance", security(("bearer" = [])),
    params(("code" = String, Path, example = "32.04.12.2001")), request_body = StartCardIssuance,
    responses((status = 202, body = ImportView, description = "The job; `Location` names it"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn start_card_issuance(
    state: web::Data<AppState>,
    caller: Authenticated,
    code: web::Path<RegionCode>,
    body: web::Json<StartCardIssuance>,
) -> Result<HttpResponse, ApiError> {
    let (store, auth) = (state.store.clone(), state.auth.clone());
    let (region, bank) = (code.into_inner(), body.bank);
    let job = blocking(move || card_issuance::start(&store, &auth.pin_keys, &caller.0, &region, bank)).await?;
    Ok(accepted(&job))
}

/// The card issuance's PIN mailer (`card_number,family_id,recipient_name,pin`), once:
/// its PINs are erased as it is handed over; again, `410 PIN_MAILER_GONE`.
#[utoipa::path(get, path = "/v1/imports/{id}/pin-mailer", tag = "imports", operation_id = "take_pin_mailer", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CsvFile, content_type = "text/csv"), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn pin_mailer(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (store, auth) = (state.store.clone(), state.auth.clone());
    let id = id.into_inner();
    let mailer = blocking(move || card_issuance::take_pin_mailer(&store, &auth.pin_keys, &caller.0, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"pin-mailer-{id}.csv\"")))
        .body(mailer))
}
