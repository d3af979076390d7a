//! Complaints from every channel: operators and families with a token, the public web
//! form without one (size and rate limited), and the SMS gateway's webhook, which proves
//! itself with a shared secret.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Authenticated;
use super::problem::{ApiError, ErrorCode, Problem};
use super::{blocking, paging, AppState};
use crate::domain::auth::RegionCode;
use crate::domain::card::CardNumber;
use crate::domain::complaint::{Category, Channel, ComplaintStatus, Priority};
use crate::service::complaints::file::{self, NewComplaint, PublicComplaint, SmsComplaint};
use crate::service::complaints::list::{self, ComplaintQuery, COMPLAINTS_PAGE_MAX};
use crate::service::complaints::transition::{self, Transition};
use crate::service::complaints::{comment, ComplaintDetail, ComplaintView};

/// Complaints in a page unless the client asks for another size.
const COMPLAINTS_PAGE_DEFAULT: i64 = 50;

/// The header the SMS gateway sends the shared secret in.
pub const SMS_SECRET_HEADER: &str = "X-KKS-Webhook-Secret";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel": "phone", "category": "agent_fee_or_refusal", "description": "Agen memungut Rp 20.000",
    "contact": "0812-0000-0000", "edc_reference": "000000000001", "hold_agent_settlement": true}))]
pub struct FileComplaint {
    /// How it reached the operator (`operator`, `face_to_face`, `phone`, `postcard`,
    /// `dropbox`; default `operator`); a family's complaint is always `app`.
    pub channel: Option<Channel>,
    pub category: Category,
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    /// How to answer the person (phone, address).
    #[serde(default)]
    #[schema(max_length = 120)]
    pub contact: String,
    /// The region it concerns; default: the family's village.
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    pub family_id: Option<i64>,
    pub card_number: Option<String>,
    pub agent_id: Option<i64>,
    /// The EDC transaction's reference number, as on the slip.
    pub edc_reference: Option<String>,
    /// Default: the category's.
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    /// Hold the transaction's amount on the agent's settlement account until the complaint
    /// is resolved or rejected.
    #[serde(default)]
    pub hold_agent_settlement: bool,
}

/// An operator files a complaint received face to face, by phone, postcard or dropbox, or
/// a family files one from its app (only for itself).
#[utoipa::path(post, path = "/v1/complaints", tag = "complaints", operation_id = "file_complaint", security(("bearer" = [])),
    request_body = FileComplaint,
    responses((status = 201, body = ComplaintDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_complaint(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<FileComplaint>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewComplaint {
        channel: body.channel.unwrap_or(Channel::Operator),
        category: body.category,
        description: body.description.trim().to_owned(),
        contact: body.contact.trim().to_owned(),
        region: body.region,
        family_id: body.family_id,
        card: body.card_number.as_deref().map(CardNumber::parse).transpose()?,
        agent_id: body.agent_id,
        edc_reference: body.edc_reference,
        priority: body.priority,
        assignee: body.assignee,
        hold_agent_settlement: body.hold_agent_settlement,
    };
    let store = state.store.clone();
    let filed = blocking(move || file::file(&store, &caller.0, &new)).await?;
    Ok(HttpResponse::Created().json(filed))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "stage_not_received", "description": "Tahap 2 belum masuk", "contact": "0812-0000-0000", "region": "32.04.12.2001"}))]
pub struct FilePublicComplaint {
    pub category: Category,
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    /// How to answer (phone, address): required, there is no login.
    #[schema(min_length = 1, max_length = 120)]
    pub contact: String,
    #[schema(value_type = String)]
    pub region: RegionCode,
}

/// The public web form: anyone files a complaint about a region, with a contact to answer.
/// No token; limited per client address like the logins.
#[utoipa::path(post, path = "/v1/public/complaints", tag = "complaints", operation_id = "file_public_complaint",
    request_body = FilePublicComplaint,
    responses((status = 201, body = ComplaintDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_public_complaint(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<FilePublicComplaint>,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&request)?;
    let body = body.into_inner();
    let new = PublicComplaint {
        category: body.category,
        description: body.description.trim().to_owned(),
        contact: body.contact.trim().to_owned(),
        region: body.region,
    };
    let store = state.store.clone();
    let filed = blocking(move || file::file_public(&store, &new)).await?;
    Ok(HttpResponse::Created().json(filed))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "+6281200000000", "text": "Kartu KKS saya tertelan mesin"}))]
pub struct SmsWebhook {
    /// The sender's number.
    #[schema(min_length = 1, max_length = 120)]
    pub from: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// The SMS gateway's webhook: each message becomes a complaint (category `other`, no
/// region until an operator reads it). The gateway sends the shared secret
/// (`KKS_SMS_WEBHOOK_SECRET`) in `X-KKS-Webhook-Secret`; without it, 401 and nothing stored.
#[utoipa::path(post, path = "/v1/complaints/sms", tag = "complaints", operation_id = "file_sms_complaint",
    params(("X-KKS-Webhook-Secret" = String, Header, description = "The shared secret of the SMS gateway")),
    request_body = SmsWebhook,
    responses((status = 201, body = ComplaintDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_sms_complaint(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SmsWebhook>,
) -> Result<HttpResponse, ApiError> {
    let given = request.headers().get(SMS_SECRET_HEADER).and_then(|value| value.to_str().ok());
    let authentic = match (&state.sms_webhook_secret, given) {
        (Some(secret), Some(given)) => secret.matches(given),
        _ => false,
    };
    if !authentic {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            format!("send the SMS gateway's shared secret in {SMS_SECRET_HEADER}"),
        ));
    }
    let body = body.into_inner();
    let sms = SmsComplaint { sender: body.from.trim().to_owned(), text: body.text.trim().to_owned() };
    let store = state.store.clone();
    let filed = blocking(move || file::file_sms(&store, &sms)).await?;
    Ok(HttpResponse::Created().json(filed))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ComplaintsQuery {
    pub status: Option<ComplaintStatus>,
    pub category: Option<Category>,
    /// Only the open complaints past their deadline.
    #[serde(default)]
    pub overdue: bool,
    /// Paging: complaints after this id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// The complaints the caller sees (a family its own, an operator its region's), oldest
/// first, filtered.
#[utoipa::path(get, path = "/v1/complaints", tag = "complaints", operation_id = "list_complaints", security(("bearer" = [])),
    params(ComplaintsQuery),
    responses((status = 200, body = [ComplaintView]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list_complaints(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ComplaintsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ComplaintsQuery { status, category, overdue, after, limit } = query.into_inner();
    let query = ComplaintQuery {
        status,
        category,
        overdue,
        after: paging::cursor("after", after)?.unwrap_or(0),
        limit: paging::limit(limit, COMPLAINTS_PAGE_DEFAULT, COMPLAINTS_PAGE_MAX)?,
    };
    let store = state.store.clone();
    let page = blocking(move || list::list(&store, &caller.0, &query)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One complaint with its timeline and resolution, if the caller may see it.
#[utoipa::path(get, path = "/v1/complaints/{complaint_id}", tag = "complaints", operation_id = "view_complaint",
    security(("bearer" = [])), params(("complaint_id" = i64, Path)),
    responses((status = 200, body = ComplaintDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn view_complaint(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let id = path.into_inner();
    let complaint = blocking(move || list::view(&store, &caller.0, id)).await?;
    Ok(HttpResponse::Ok().json(complaint))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Sudah dihubungi lewat telepon"}))]
pub struct CommentBody {
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// An operator who sees the complaint, or the family whose it is, adds a comment.
#[utoipa::path(post, path = "/v1/complaints/{complaint_id}/comments", tag = "complaints", operation_id = "comment_complaint",
    security(("bearer" = [])), params(("complaint_id" = i64, Path)), request_body = CommentBody,
    responses((status = 201, body = ComplaintDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn comment_complaint(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<CommentBody>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (id, text) = (path.into_inner(), body.into_inner().text.trim().to_owned());
    let complaint = blocking(move || comment::comment(&store, &caller.0, id, &text)).await?;
    Ok(HttpResponse::Created().json(complaint))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "resolved", "text": "Biaya dikembalikan oleh agen"}))]
pub struct TransitionBody {
    pub to: ComplaintStatus,
    /// The resolution, required for `resolved` and `rejected`; else an optional note.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub text: String,
    pub assignee: Option<String>,
}

/// An operator of the complaint's region changes its status; `resolved` and `rejected`
/// record its one resolution and end the investigation hold it placed.
#[utoipa::path(post, path = "/v1/complaints/{complaint_id}/transitions", tag = "complaints", operation_id = "transition_complaint",
    security(("bearer" = [])), params(("complaint_id" = i64, Path)), request_body = TransitionBody,
    responses((status = 200, body = ComplaintDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn transition_complaint(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<TransitionBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let requested = Transition {
        to: body.to,
        text: body.text.trim().to_owned(),
        assignee: body.assignee.map(|assignee| assignee.trim().to_owned()),
    };
    let store = state.store.clone();
    let id = path.into_inner();
    let complaint = blocking(move || transition::transition(&store, &caller.0, id, &requested)).await?;
    Ok(HttpResponse::Ok().json(complaint))
}
