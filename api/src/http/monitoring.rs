//! Monitoring for operators: the overview with drill-down, families, indicators and agent
//! activity, as JSON or CSV (`?format=csv`, or `Accept: text/csv`); and the dashboard page
//! that shows them, served from this binary (nothing from the internet at run time).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::assets::{self, Asset};
use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, paging, AppState};
use crate::domain::auth::RegionCode;
use crate::service::monitoring::agents::{self, AgentActivity, AGENTS_PAGE_DEFAULT, AGENTS_PAGE_MAX};
use crate::service::monitoring::complaints::{self, ComplaintFigures, P2k2Attendance};
use crate::service::monitoring::csv::CsvExport;
use crate::service::monitoring::families::{self, FamilyList, FamilyPage, FAMILIES_PAGE_DEFAULT, FAMILIES_PAGE_MAX};
use crate::service::monitoring::graduations::{self, Graduations};
use crate::service::monitoring::indicators::{self, FacilitatorArea, Indicators, NewFacilitator};
use crate::service::monitoring::overview::{self, Overview, SERIES_DAYS_DEFAULT};
use crate::service::monitoring::RegionReport;

/// How an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Json,
    Csv,
}

/// JSON, or CSV when asked by `format=csv` or an `Accept` naming `text/csv`.
fn answer<T: Serialize + CsvExport>(
    request: &HttpRequest,
    format: Option<ExportFormat>,
    value: &T,
    name: &str,
) -> HttpResponse {
    let accepts_csv = || {
        request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))
    };
    let csv = match format {
        Some(format) => format == ExportFormat::Csv,
        None => accepts_csv(),
    };
    if csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"kks-{name}.csv\"")))
            .body(value.to_csv())
    } else {
        HttpResponse::Ok().json(value)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// A region code; absent: the operator's whole region (or the country).
    #[param(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    /// Days of daily series for the chart (1–366, default 90).
    pub days: Option<u32>,
    pub format: Option<ExportFormat>,
}

/// A region's disbursement and absorption per pocket, families by status, the daily
/// series, and the same figures for each region one level down (drill-down).
#[utoipa::path(get, path = "/v1/monitoring/overview", tag = "monitoring", security(("bearer" = [])), params(OverviewQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((Overview = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn overview(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let OverviewQuery { region, days, format } = query.into_inner();
    let store = state.reports.clone();
    let figures =
        blocking(move || overview::overview(&store, &caller.0, region.as_ref(), days.unwrap_or(SERIES_DAYS_DEFAULT)))
            .await?;
    Ok(answer(&request, format, &figures, "overview"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FamiliesQuery {
    /// A region code (a village for its families); absent: the operator's whole region.
    #[param(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    /// Paging: only families with a larger id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
    pub format: Option<ExportFormat>,
}

/// A search for families by NIK or name. It travels in a body, never in a URL: URLs end up
/// in logs, proxies and browser histories, and a NIK or a name is personal data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilySearch {
    /// A 16-digit NIK, or part of the recipient's name.
    #[schema(max_length = 64, example = "aminah")]
    pub q: String,
    /// A region code to search in; absent: the operator's whole region.
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    /// Paging: only families with a larger id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// The families of a region with their money in short.
///
/// To search by NIK or name, use `POST /v1/monitoring/families/search`.
#[utoipa::path(get, path = "/v1/monitoring/families", tag = "monitoring", security(("bearer" = [])), params(FamiliesQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((FamilyList = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn families(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<FamiliesQuery>,
) -> Result<HttpResponse, ApiError> {
    let FamiliesQuery { region, after, limit, format } = query.into_inner();
    let after = paging::cursor("after", after)?.unwrap_or(0);
    let limit = paging::limit(limit, FAMILIES_PAGE_DEFAULT, FAMILIES_PAGE_MAX)?;
    let store = state.reports.clone();
    let list = blocking(move || families::list(&store, &caller.0, region.as_ref(), None, after, limit)).await?;
    Ok(answer(&request, format, &list, "families"))
}

/// Families found by NIK or by part of the recipient's name.
///
/// Within the operator's region; JSON, or CSV with `Accept: text/csv`.
#[utoipa::path(post, path = "/v1/monitoring/families/search", tag = "monitoring", security(("bearer" = [])), request_body = FamilySearch,
    responses((status = 200, description = "JSON, or CSV with `Accept: text/csv`", content((FamilyList = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn search_families(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<FamilySearch>,
) -> Result<HttpResponse, ApiError> {
    let FamilySearch { q, region, after, limit } = body.into_inner();
    let after = paging::cursor("after", after)?.unwrap_or(0);
    let limit = paging::limit(limit, FAMILIES_PAGE_DEFAULT, FAMILIES_PAGE_MAX)?;
    let store = state.reports.clone();
    let list =
        blocking(move || families::list(&store, &caller.0, region.as_ref(), Some(q.as_str()), after, limit)).await?;
    Ok(answer(&request, None, &list, "families"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    pub format: Option<ExportFormat>,
}

/// One family: where it lives, its pockets and its timeline (postings, holds,
/// verifications, cycle outcomes), newest first.
#[utoipa::path(get, path = "/v1/monitoring/families/{family_id}", tag = "monitoring", security(("bearer" = [])),
    params(("family_id" = i64, Path), FormatQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((FamilyPage = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn family(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    query: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let family_id = path.into_inner();
    let store = state.reports.clone();
    let page = blocking(move || families::page(&store, &caller.0, family_id)).await?;
    Ok(answer(&request, query.format, &page, &format!("family-{family_id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegionQuery {
    /// A region code; absent: the operator's whole region (or the country).
    #[param(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    pub format: Option<ExportFormat>,
}

/// A service's figures for the caller's region (or one below it), as JSON or CSV.
async fn region_figures<T: Serialize + CsvExport + Send + 'static>(
    request: &HttpRequest,
    state: &AppState,
    caller: Authenticated,
    RegionQuery { region, format }: RegionQuery,
    (name, figures): (&str, RegionReport<T>),
) -> Result<HttpResponse, ApiError> {
    let store = state.reports.clone();
    let value = blocking(move || figures(&store, &caller.0, region.as_ref())).await?;
    Ok(answer(request, format, &value, name))
}

/// The monitoring indicators: stages paid on time and in the right amount, e-wallet to
/// savings per sub-region and facilitator area, verification, suspensions, releases,
/// terminations and graduations.
#[utoipa::path(get, path = "/v1/monitoring/indicators", tag = "monitoring", security(("bearer" = [])), params(RegionQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((Indicators = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn indicators(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<RegionQuery>,
) -> Result<HttpResponse, ApiError> {
    region_figures(&request, &state, caller, query.into_inner(), ("indicators", indicators::indicators)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GraduationsQuery {
    /// A region code; absent: the operator's whole region (or the country).
    #[param(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    /// A facilitator's id: the families of their area (the seed's form per pendamping).
    pub facilitator: Option<i64>,
    pub format: Option<ExportFormat>,
}

/// The seed's "Monitoring KPM graduasi" form: each family that graduated or exited, with
/// district, village, recipient, year in, year out and reason, per facilitator area or
/// region.
#[utoipa::path(get, path = "/v1/monitoring/graduations", tag = "monitoring", security(("bearer" = [])), params(GraduationsQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((Graduations = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn graduations(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<GraduationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let GraduationsQuery { region, facilitator, format } = query.into_inner();
    let store = state.reports.clone();
    let list = blocking(move || graduations::graduations(&store, &caller.0, region.as_ref(), facilitator)).await?;
    Ok(answer(&request, format, &list, "graduations"))
}

/// Complaints received, handled, open and overdue (open past their deadline), by category
/// and by region and category.
#[utoipa::path(get, path = "/v1/monitoring/complaints", tag = "monitoring", operation_id = "complaint_figures",
    security(("bearer" = [])), params(RegionQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((ComplaintFigures = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn complaints(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<RegionQuery>,
) -> Result<HttpResponse, ApiError> {
    region_figures(&request, &state, caller, query.into_inner(), ("complaints", complaints::complaints)).await
}

/// P2K2/FDS sessions and attendances by module.
#[utoipa::path(get, path = "/v1/monitoring/p2k2-attendance", tag = "monitoring", operation_id = "p2k2_attendance",
    security(("bearer" = [])), params(RegionQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((P2k2Attendance = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn p2k2_attendance(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<RegionQuery>,
) -> Result<HttpResponse, ApiError> {
    region_figures(&request, &state, caller, query.into_inner(), ("p2k2-attendance", complaints::p2k2_attendance)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgentsQuery {
    /// A region code; absent: the operator's whole region (or the country).
    #[param(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    /// The business day (WIB); today when absent.
    pub date: Option<NaiveDate>,
    /// Paging: only agents with a larger id.
    pub after: Option<i64>,
    /// At most this many agents (1–500, default 100).
    pub limit: Option<i64>,
    pub format: Option<ExportFormat>,
}

/// Agent activity on a business day: money transactions and cash paid out per agent.
#[utoipa::path(get, path = "/v1/monitoring/agents", tag = "monitoring", security(("bearer" = [])), params(AgentsQuery),
    responses((status = 200, description = "JSON, or CSV with `format=csv` or `Accept: text/csv`", content((AgentActivity = "application/json"), (String = "text/csv"))),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn agents(
    request: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AgentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let AgentsQuery { region, date, after, limit, format } = query.into_inner();
    let after = paging::cursor("after", after)?.unwrap_or(0);
    let limit = paging::limit(limit, AGENTS_PAGE_DEFAULT, AGENTS_PAGE_MAX)?;
    let store = state.reports.clone();
    let activity = blocking(move || agents::activity(&store, &caller.0, region.as_ref(), date, after, limit)).await?;
    Ok(answer(&request, format, &activity, "agents"))
}

/// An operator registers a facilitator (pendamping) and the villages of their families.
#[utoipa::path(post, path = "/v1/facilitators", tag = "monitoring", security(("bearer" = [])), request_body = NewFacilitator,
    responses((status = 201, body = FacilitatorArea), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn add_facilitator(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<NewFacilitator>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let request = body.into_inner();
    let area = blocking(move || indicators::add_facilitator(&store, &caller.0, &request)).await?;
    Ok(HttpResponse::Created().json(area))
}

/// The dashboard page: it logs in with `POST /v1/auth/operators/login` and polls the
/// endpoints above.
pub async fn dashboard() -> HttpResponse {
    assets::serve(Asset { content_type: assets::HTML, body: include_bytes!("../../assets/dashboard/index.html") })
}

/// The dashboard's script and style sheet; any other name is not found.
pub async fn dashboard_asset(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let asset = match path.as_str() {
        "dashboard.js" => Some(Asset {
            content_type: assets::JAVASCRIPT,
            body: include_bytes!("../../assets/dashboard/dashboard.js"),
        }),
        "dashboard.css" => {
            Some(Asset { content_type: assets::CSS, body: include_bytes!("../../assets/dashboard/dashboard.css") })
        }
        _ => None,
    };
    assets::serve_found(asset, "dashboard")
}
