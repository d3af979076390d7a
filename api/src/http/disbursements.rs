//! Stage disbursements and the conditionality cycle.

use actix_web::{web, HttpResponse};

use super::auth::Authenticated;
use super::binary::CsvFile;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::auth::RegionCode;
use crate::domain::benefit::Programme;
use crate::domain::conditionality::Cycle;
use crate::service::conditionality::{self, CycleSummary, UploadReport, Verification};
use crate::service::disbursements::{self, BatchRequest, BatchView, CancelRequest, ScheduleRow};
use crate::service::reconciliation::{self, Reconciliation};

/// An operator prepares a batch: one line per eligible family, amounts from the schedule.
#[utoipa::path(post, path = "/v1/disbursements", tag = "disbursements", security(("bearer" = [])), request_body = BatchRequest,
    responses((status = 201, body = BatchView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn prepare(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let request = body.into_inner();
    let view = blocking(move || disbursements::prepare(&store, &caller.0, &request)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// A batch and its progress: lines paid, failed (with reasons) and pending.
#[utoipa::path(get, path = "/v1/disbursements/{batch_id}", tag = "disbursements", security(("bearer" = [])),
    params(("batch_id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn view(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let batch_id = path.into_inner();
    let view = blocking(move || disbursements::view(&store, &caller.0, batch_id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A supervisor who did not prepare the batch approves it (maker–checker).
#[utoipa::path(post, path = "/v1/disbursements/{batch_id}/approve", tag = "disbursements", security(("bearer" = [])),
    params(("batch_id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let batch_id = path.into_inner();
    let view = blocking(move || disbursements::approve(&store, &caller.0, batch_id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Starts paying an approved batch in the background; follow it with GET.
#[utoipa::path(post, path = "/v1/disbursements/{batch_id}/execute", tag = "disbursements", security(("bearer" = [])),
    params(("batch_id" = i64, Path)),
    responses((status = 202, body = BatchView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn execute(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let batch_id = path.into_inner();
    let view = blocking(move || disbursements::start(&store, &caller.0, batch_id)).await?;
    disbursements::run_in_background(state.store.clone(), batch_id, state.disbursement_chunk_lines);
    Ok(HttpResponse::Accepted().json(view))
}

/// Its maker, or a supervisor of its region, cancels a batch not executing yet; its lines
/// are freed for another batch.
#[utoipa::path(post, path = "/v1/disbursements/{batch_id}/cancel", tag = "disbursements", security(("bearer" = [])),
    params(("batch_id" = i64, Path)), request_body = CancelRequest,
    responses((status = 200, body = BatchView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let batch_id = path.into_inner();
    let request = body.into_inner();
    let view = blocking(move || disbursements::cancel(&store, &caller.0, batch_id, &request)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Records one family's commitment verification for a cycle.
#[utoipa::path(post, path = "/v1/verifications", tag = "disbursements", security(("bearer" = [])), request_body = Verification,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<Verification>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let verification = body.into_inner();
    blocking(move || conditionality::record(&store, &caller.0, &verification)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Records a CSV of verifications (`family_id,complied,member_id,obligation`, a header
/// line first): good rows are kept, bad rows reported by line.
#[utoipa::path(post, path = "/v1/verifications/{cycle}/csv", tag = "disbursements", security(("bearer" = [])),
    params(("cycle" = String, Path, pattern = "^[0-9]{4}-[1-4]$", example = "2017-2")), request_body(content = CsvFile, content_type = "text/csv"),
    responses((status = 200, body = UploadReport), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<Cycle>,
    body: String,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let cycle = path.into_inner();
    let report = blocking(move || conditionality::upload(&store, &caller.0, cycle, &body)).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CloseQuery {
    /// Close only this region (within the supervisor's own); absent: the whole scope.
    #[param(value_type = Option<String>)]
    pub region: Option<RegionCode>,
}

/// A supervisor closes a cycle: suspend, release or terminate each family, once.
#[utoipa::path(post, path = "/v1/cycles/{cycle}/close", tag = "disbursements", security(("bearer" = [])),
    params(("cycle" = String, Path, pattern = "^[0-9]{4}-[1-4]$", example = "2017-2"), CloseQuery),
    responses((status = 200, body = CycleSummary), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn close_cycle(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<Cycle>,
    query: web::Query<CloseQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (cycle, region) = (path.into_inner(), query.into_inner().region);
    let summary = blocking(move || conditionality::close(&store, &caller.0, cycle, region)).await?;
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    pub year: i32,
}

/// The benefit schedules of a year: amount per programme, category and period.
#[utoipa::path(get, path = "/v1/benefit-schedules", tag = "disbursements", security(("bearer" = [])), params(YearQuery),
    responses((status = 200, body = [ScheduleRow]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn schedules(
    state: web::Data<AppState>,
    _caller: Authenticated,
    query: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let year = query.year;
    let rows = blocking(move || disbursements::schedules(&store, year)).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// An admin adds a new year's schedule (amounts in sen, `amount_minor`).
#[utoipa::path(post, path = "/v1/benefit-schedules", tag = "disbursements", security(("bearer" = [])), request_body = [ScheduleRow],
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn add_schedule(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<Vec<ScheduleRow>>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let rows = body.into_inner();
    blocking(move || disbursements::add_schedule(&store, &caller.0, &rows)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reconciliation with the paying banks for a programme, per province and bank.
#[utoipa::path(get, path = "/v1/reconciliation/{programme}", tag = "disbursements", security(("bearer" = [])),
    params(("programme" = Programme, Path)),
    responses((status = 200, body = Reconciliation), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reconciliation(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<Programme>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let programme = path.into_inner();
    let report = blocking(move || reconciliation::reconcile(&store, &caller.0, programme)).await?;
    Ok(HttpResponse::Ok().json(report))
}
