//! Agents and terminals: admins register bank agents and e-Warong in their region, add,
//! move and deactivate terminals; an agent replaces its own password.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Authenticated;
use super::operators::PasswordChange;
use super::problem::{ApiError, Problem};
use super::{blocking, paging, AppState};
use crate::service::agents::{
    self, AgentChange, AgentQuery, AgentView, NewAgent, NewTerminal, TerminalChange, TerminalView,
    AGENTS_PER_PAGE_DEFAULT, AGENTS_PER_PAGE_MAX,
};
use crate::service::auth::password_change::PasswordOwner;
use crate::service::operators::PasswordReset;

/// An admin registers a bank agent or an e-Warong in a village of its region; the agent's
/// settlement account opens at once, and the first password must be replaced at first
/// login.
#[utoipa::path(post, path = "/v1/agents", operation_id = "create_agent", tag = "agents", security(("bearer" = [])), request_body = NewAgent,
    responses((status = 201, body = AgentView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<NewAgent>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let new = body.into_inner();
    let created = blocking(move || agents::create(&store, &caller.0, &new)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The agents of the admin's region (and below) with their terminals, by id; filtered by
/// region, bank, kind and name.
#[utoipa::path(get, path = "/v1/agents", operation_id = "list_agents", tag = "agents", security(("bearer" = [])), params(AgentQuery),
    responses((status = 200, body = [AgentView]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AgentQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let mut query = query.into_inner();
    query.after = paging::cursor("after", query.after)?;
    query.limit = Some(paging::limit(query.limit, AGENTS_PER_PAGE_DEFAULT, AGENTS_PER_PAGE_MAX)?);
    let page = blocking(move || agents::list(&store, &caller.0, &query)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One agent of the admin's region, with its terminals.
#[utoipa::path(get, path = "/v1/agents/{agent_id}", operation_id = "view_agent", tag = "agents", security(("bearer" = [])),
    params(("agent_id" = i64, Path)),
    responses((status = 200, body = AgentView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn view(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let id = path.into_inner();
    let agent = blocking(move || agents::view(&store, &caller.0, id)).await?;
    Ok(HttpResponse::Ok().json(agent))
}

/// An admin renames an agent or its owner, or deactivates it (its tokens stop at once; its
/// transactions and settlement account stay) or activates it again.
#[utoipa::path(patch, path = "/v1/agents/{agent_id}", operation_id = "change_agent", tag = "agents", security(("bearer" = [])),
    params(("agent_id" = i64, Path)), request_body = AgentChange,
    responses((status = 200, body = AgentView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<AgentChange>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (id, change) = (path.into_inner(), body.into_inner());
    let changed = blocking(move || agents::change(&store, &caller.0, id, &change)).await?;
    Ok(HttpResponse::Ok().json(changed))
}

/// An admin adds an EDC terminal to an agent of its region.
#[utoipa::path(post, path = "/v1/agents/{agent_id}/terminals", tag = "agents", security(("bearer" = [])),
    params(("agent_id" = i64, Path)), request_body = NewTerminal,
    responses((status = 201, body = TerminalView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn add_terminal(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<NewTerminal>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (agent_id, new) = (path.into_inner(), body.into_inner());
    let created = blocking(move || agents::create_terminal(&store, &caller.0, agent_id, &new)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// An admin moves a terminal to another agent of its region, or deactivates it (its
/// tokens stop at once, card transactions are refused with `TERMINAL_INACTIVE`) or
/// activates it again.
#[utoipa::path(patch, path = "/v1/terminals/{terminal_id}", tag = "agents", security(("bearer" = [])),
    params(("terminal_id" = String, Path)), request_body = TerminalChange,
    responses((status = 200, body = TerminalView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change_terminal(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<TerminalChange>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (terminal_id, change) = (path.into_inner(), body.into_inner());
    let changed = blocking(move || agents::change_terminal(&store, &caller.0, &terminal_id, &change)).await?;
    Ok(HttpResponse::Ok().json(changed))
}

/// An admin sets a temporary password for an agent of its region: the agent's tokens
/// stop, and the agent must choose a new password before working again.
#[utoipa::path(post, path = "/v1/agents/{agent_id}/password-reset", operation_id = "reset_agent_password", tag = "agents", security(("bearer" = [])),
    params(("agent_id" = i64, Path)), request_body = PasswordReset,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (id, reset) = (path.into_inner(), body.into_inner());
    blocking(move || agents::reset_password(&store, &caller.0, id, &reset)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An agent replaces its password (after registration, the only thing the first password
/// does); every earlier token is revoked, so log in again.
#[utoipa::path(post, path = "/v1/auth/agents/password", operation_id = "change_own_agent_password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change_own_password(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    super::operators::change_password_of(PasswordOwner::Agent, state, request, body).await
}
