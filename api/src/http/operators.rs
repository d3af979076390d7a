//! People: admins add, list, change, disable and reset the operators, supervisors and
//! admins of their region; a person replaces their own password.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::sessions::password;
use super::{blocking, paging, AppState};
use crate::service::auth::password_change::{self, PasswordOwner};
use crate::service::operators::{
    self, NewOperator, OperatorChange, OperatorQuery, OperatorView, PasswordReset, OPERATORS_PER_PAGE_DEFAULT,
    OPERATORS_PER_PAGE_MAX,
};

/// A person replaces their password, proving the current one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 64)]
    pub username: String,
    /// The password in use: one's own, or the temporary one an admin set.
    #[schema(value_type = String, max_length = 128)]
    pub current_password: String,
    #[schema(value_type = String, min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// An admin adds a person inside its own region; the first password must be replaced at
/// first login.
#[utoipa::path(post, path = "/v1/operators", operation_id = "create_operator", tag = "people", security(("bearer" = [])), request_body = NewOperator,
    responses((status = 201, body = OperatorView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<NewOperator>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let new = body.into_inner();
    let created = blocking(move || operators::create(&store, &caller.0, &new)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The people of the admin's region (and below), by id.
#[utoipa::path(get, path = "/v1/operators", operation_id = "list_operators", tag = "people", security(("bearer" = [])), params(OperatorQuery),
    responses((status = 200, body = [OperatorView]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<OperatorQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let mut query = query.into_inner();
    query.after = paging::cursor("after", query.after)?;
    query.limit = Some(paging::limit(query.limit, OPERATORS_PER_PAGE_DEFAULT, OPERATORS_PER_PAGE_MAX)?);
    let page = blocking(move || operators::list(&store, &caller.0, &query)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// An admin changes a person's name, role, region or access; a change of rights revokes
/// the person's tokens at once.
#[utoipa::path(patch, path = "/v1/operators/{operator_id}", operation_id = "change_operator", tag = "people", security(("bearer" = [])),
    params(("operator_id" = i64, Path)), request_body = OperatorChange,
    responses((status = 200, body = OperatorView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<OperatorChange>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (id, change) = (path.into_inner(), body.into_inner());
    let changed = blocking(move || operators::change(&store, &caller.0, id, &change)).await?;
    Ok(HttpResponse::Ok().json(changed))
}

/// An admin sets a temporary password: the person's tokens stop, and the person must
/// choose a new password before working again.
#[utoipa::path(post, path = "/v1/operators/{operator_id}/password-reset", operation_id = "reset_operator_password", tag = "people", security(("bearer" = [])),
    params(("operator_id" = i64, Path)), request_body = PasswordReset,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<i64>,
    body: web::Json<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (id, reset) = (path.into_inner(), body.into_inner());
    blocking(move || operators::reset_password(&store, &caller.0, id, &reset)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A person replaces their password (after an admin's reset, the only thing a temporary
/// password does); every earlier token is revoked, so log in again.
#[utoipa::path(post, path = "/v1/auth/operators/password", operation_id = "change_own_operator_password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change_own_password(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    change_password_of(PasswordOwner::Operator, state, request, body).await
}

/// The body of both own-password operations (operators', agents'): throttled like a login,
/// since it proves a password too.
pub(super) async fn change_password_of(
    owner: PasswordOwner,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&request)?;
    let PasswordChange { username, current_password, new_password } = body.into_inner();
    let current = password(current_password)?;
    let store = state.store.clone();
    blocking(move || password_change::change_own_password(&store, owner, &username, &current, new_password)).await?;
    Ok(HttpResponse::NoContent().finish())
}
