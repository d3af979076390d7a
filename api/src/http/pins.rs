//! Card PINs: the family changes its own; an operator unlocks one after three wrong tries.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::problem::{ApiError, ErrorCode, Problem};
use super::sessions::parse_pin;
use super::{blocking, AppState};
use crate::domain::card::CardNumber;
use crate::service::auth::pin;

/// The longest reason stored with a PIN reset, in characters.
pub const RESET_REASON_CHARS_MAX: usize = 500;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"old_pin": "123456", "new_pin": "654321"}))]
pub struct PinChange {
    #[schema(pattern = "^[0-9]{6}$")]
    pub old_pin: String,
    #[schema(pattern = "^[0-9]{6}$")]
    pub new_pin: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "PIN locked after three wrong entries; cardholder identified at the office", "new_pin": "654321"}))]
pub struct PinReset {
    /// Why the PIN is reset (recorded in the audit trail).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// A new PIN typed by the cardholder at the office; without it the old PIN stays.
    #[schema(pattern = "^[0-9]{6}$")]
    pub new_pin: Option<String>,
}

/// The cardholder changes the card's PIN (the old PIN counts towards the lock).
#[utoipa::path(put, path = "/v1/cards/{card_number}/pin", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path, description = "16-digit card number")),
    request_body = PinChange,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change_pin(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    card_number: web::Path<String>,
    body: web::Json<PinChange>,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&request)?;
    let card_number = CardNumber::parse(&card_number)?;
    let (old_pin, new_pin) = (parse_pin("old_pin", &body.old_pin)?, parse_pin("new_pin", &body.new_pin)?);
    let (store, auth) = (state.store.clone(), state.auth.clone());
    blocking(move || {
        store.write(|tx| pin::change_pin(tx, &auth.pin_keys, &caller.0, &card_number, &old_pin, &new_pin))?
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An operator in the card's region unlocks its PIN (and sets a new one if given).
#[utoipa::path(post, path = "/v1/cards/{card_number}/pin-reset", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path, description = "16-digit card number")),
    request_body = PinReset,
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reset_pin(
    state: web::Data<AppState>,
    caller: Authenticated,
    card_number: web::Path<String>,
    body: web::Json<PinReset>,
) -> Result<HttpResponse, ApiError> {
    let card_number = CardNumber::parse(&card_number)?;
    let PinReset { reason, new_pin } = body.into_inner();
    if reason.trim().is_empty() || reason.chars().count() > RESET_REASON_CHARS_MAX {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "reason: 1 to 500 characters"));
    }
    let new_pin = new_pin.map(|text| parse_pin("new_pin", &text)).transpose()?;
    let (store, auth) = (state.store.clone(), state.auth.clone());
    blocking(move || {
        store.write(|tx| pin::reset_pin(tx, &auth.pin_keys, &caller.0, &card_number, new_pin.as_ref(), &reason))?
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
