//! Logging in (operators, agents, families), refreshing, logging out, and `/v1/me`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::problem::{ApiError, ErrorCode, Problem};
use super::{blocking, AppState};
use crate::domain::auth::{Password, Pin};
use crate::domain::card::CardNumber;
use crate::service::auth::tokens::TokenPair;
use crate::service::auth::{self, Principal, Role};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "operator.jabar", "password": "the password given to you"}))]
pub struct OperatorLogin {
    #[schema(max_length = 64)]
    pub username: String,
    #[schema(value_type = String, max_length = 128)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "agen.cileunyi", "password": "the password given to you", "terminal_id": "T3204001"}))]
pub struct AgentLogin {
    #[schema(max_length = 64)]
    pub username: String,
    #[schema(value_type = String, max_length = 128)]
    pub password: String,
    /// The EDC terminal the agent works on today.
    #[schema(max_length = 32)]
    pub terminal_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"card_number": "5221843673963604", "pin": "123456"}))]
pub struct FamilyLogin {
    #[schema(value_type = CardNumber)]
    pub card_number: String,
    /// The card's 6-digit PIN.
    #[schema(pattern = "^[0-9]{6}$")]
    pub pin: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Who the token speaks for.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// `operator:7`, `agent:3` or `family:12`.
    pub subject: String,
    pub role: Role,
    /// An operator's region (absent: national).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// An agent's terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_id: Option<i64>,
}

/// A PIN field, or a 400 naming it.
pub fn parse_pin(field: &str, text: &str) -> Result<Pin, ApiError> {
    Pin::parse(text).map_err(|error| ApiError::new(ErrorCode::InvalidRequest, format!("{field}: {error}")))
}

/// A password field to check, or a 400.
pub fn password(text: String) -> Result<Password, ApiError> {
    Password::parse(text).ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "password: 1 to 128 bytes"))
}

/// An operator logs in.
#[utoipa::path(post, path = "/v1/auth/operators/login", tag = "auth", request_body = OperatorLogin,
    responses((status = 200, body = TokenPair), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn login_operator(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<OperatorLogin>,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&request)?;
    let OperatorLogin { username, password: text } = body.into_inner();
    let password = password(text)?;
    let (store, auth) = (state.store.clone(), state.auth.clone());
    let tokens = blocking(move || auth::login_operator(&store, &auth, &username, &password)).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// An agent logs in on one of its terminals.
#[utoipa::path(post, path = "/v1/auth/agents/login", tag = "auth", request_body = AgentLogin,
    responses((status = 200, body = TokenPair), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn login_agent(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<AgentLogin>,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&request)?;
    let AgentLogin { username, password: text, terminal_id } = body.into_inner();
    let password = password(text)?;
    let (store, auth) = (state.store.clone(), state.auth.clone());
    let tokens = blocking(move || auth::login_agent(&store, &auth, &username, &password, &terminal_id)).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// A family logs in with its card number and PIN.
///
/// A wrong PIN and an unknown card get the same answer (`WRONG_CARD_OR_PIN`); failed logins are throttled per card and per client
/// with a growing delay (429 with `Retry-After`), and never lock the card's PIN, which only
/// wrong PINs at an agent's terminal do.
#[utoipa::path(post, path = "/v1/auth/families/login", tag = "auth", request_body = FamilyLogin,
    responses((status = 200, body = TokenPair), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn login_family(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<FamilyLogin>,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&request)?;
    let client = state.login_limiter.client_of(&request);
    let FamilyLogin { card_number, pin } = body.into_inner();
    let card_number = CardNumber::parse(&card_number)?;
    let pin = parse_pin("pin", &pin)?;
    let (store, auth) = (state.store.clone(), state.auth.clone());
    let tokens = blocking(move || auth::login_family(&store, &auth, &card_number, &pin, client)).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// A new token pair for a valid refresh token.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let (store, auth) = (state.store.clone(), state.auth.clone());
    let token = body.into_inner().refresh_token;
    let tokens = blocking(move || auth::refresh(&store, &auth, &token)).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Ends every session of the caller, on every device.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn logout(state: web::Data<AppState>, caller: Authenticated) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    blocking(move || auth::logout(&store, &caller.0)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who the token speaks for.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn me(caller: Authenticated) -> HttpResponse {
    let principal = caller.0;
    let mut me =
        Me { subject: principal.subject(), role: principal.role(), region: None, terminal_id: None, family_id: None };
    match principal {
        Principal::Operator { scope, .. } => {
            if let crate::domain::auth::RegionScope::Region(code) = scope {
                me.region = Some(code.to_string());
            }
        }
        Principal::Agent { terminal, .. } => me.terminal_id = Some(terminal),
        Principal::Family { id } => me.family_id = Some(id),
    }
    HttpResponse::Ok().json(me)
}
