//! KKS cards: details and QR, the card image, lifecycle, QR checks, and the issuer's
//! public key for terminals that check cards offline.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::binary::Png;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::card::CardNumber;
use crate::domain::card_qr::IssuerVerifyingKey;
use crate::service::audit::{self, AuditEvent};
use crate::service::cards::{self, CardCheck, CardDetails, NewCard};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "card lost at the market"}))]
pub struct CardChange {
    /// Why (recorded in the card's history).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"qr": "KKS1.AQ.c2lnbmF0dXJl"}))]
pub struct QrCheck {
    /// The text decoded from the card's QR code.
    #[schema(max_length = 256)]
    pub qr: String,
}

/// A key that signs card QR codes.
#[derive(Serialize, ToSchema)]
pub struct IssuerPublicKey {
    /// Always `Ed25519`.
    pub algorithm: String,
    /// First 4 bytes of SHA-256 of the public key, in hex; also inside every QR it signed.
    pub key_id: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
}

impl From<IssuerVerifyingKey> for IssuerPublicKey {
    fn from(key: IssuerVerifyingKey) -> Self {
        Self { algorithm: "Ed25519".to_owned(), key_id: key.key_id_hex(), public_key: key.to_base64() }
    }
}

/// The card issuer's keys: at the top the newest, which signs new cards (the fields of
/// the one key before key rotation); in `keys` every key a card may be signed with.
#[derive(Serialize, ToSchema)]
pub struct IssuerKey {
    #[serde(flatten)]
    pub newest: IssuerPublicKey,
    /// Every accepted key, newest first: a card is checked with the one whose `key_id`
    /// its QR names.
    pub keys: Vec<IssuerPublicKey>,
}

fn card_number(path: &str) -> Result<CardNumber, ApiError> {
    Ok(CardNumber::parse(path)?)
}

/// The card with its signed QR text (its family, or an operator of its region).
#[utoipa::path(get, path = "/v1/cards/{card_number}", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path)),
    responses((status = 200, body = CardDetails), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn find(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let card_number = card_number(&path)?;
    let (store, issuer) = (state.store.clone(), state.card_issuer.clone());
    let card = blocking(move || cards::find(&store, &issuer, &caller.0, &card_number)).await?;
    Ok(HttpResponse::Ok().json(card))
}

/// The card front as PNG: bank, programme, holder, masked number, expiry and QR.
#[utoipa::path(get, path = "/v1/cards/{card_number}/image.png", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path)),
    responses((status = 200, description = "The card front", content_type = "image/png", body = Png),
               (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn image(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let card_number = card_number(&path)?;
    let (store, issuer) = (state.store.clone(), state.card_issuer.clone());
    let png = blocking(move || cards::image(&store, &issuer, &caller.0, &card_number)).await?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// The card's history: issue, loss, replacement, PIN changes (who, when, why).
#[utoipa::path(get, path = "/v1/cards/{card_number}/history", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path)),
    responses((status = 200, body = [AuditEvent]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn history(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let card_number = card_number(&path)?;
    let store = state.store.clone();
    let events = blocking(move || audit::card_history(&store, &caller.0, &card_number)).await?;
    Ok(HttpResponse::Ok().json(events))
}

/// The family or an operator reports the card lost or stolen: it is blocked at once.
#[utoipa::path(post, path = "/v1/cards/{card_number}/report-lost", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path)), request_body = CardChange,
    responses((status = 200, body = CardDetails), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn report_lost(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<CardChange>,
) -> Result<HttpResponse, ApiError> {
    let card_number = card_number(&path)?;
    let (store, issuer) = (state.store.clone(), state.card_issuer.clone());
    let reason = body.into_inner().reason;
    let card = blocking(move || cards::report_lost(&store, &issuer, &caller.0, &card_number, &reason)).await?;
    Ok(HttpResponse::Ok().json(card))
}

/// An operator replaces the card: new number and PIN; balances and history stay.
#[utoipa::path(post, path = "/v1/cards/{card_number}/replace", tag = "cards", security(("bearer" = [])),
    params(("card_number" = String, Path)), request_body = CardChange,
    responses((status = 201, body = NewCard), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn replace(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<CardChange>,
) -> Result<HttpResponse, ApiError> {
    let card_number = card_number(&path)?;
    let (store, auth, issuer) = (state.store.clone(), state.auth.clone(), state.card_issuer.clone());
    let reason = body.into_inner().reason;
    let card =
        blocking(move || cards::replace(&store, &auth.pin_keys, &issuer, &caller.0, &card_number, &reason)).await?;
    Ok(HttpResponse::Created().json(card))
}

/// Checks a scanned card QR: genuine, current, not expired, not lost (agents, operators).
#[utoipa::path(post, path = "/v1/cards/check-qr", tag = "cards", security(("bearer" = [])), request_body = QrCheck,
    responses((status = 200, body = CardCheck), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn check_qr(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<QrCheck>,
) -> Result<HttpResponse, ApiError> {
    let (store, issuer) = (state.store.clone(), state.card_issuer.verifying_keys());
    let qr = body.into_inner().qr;
    let check = blocking(move || cards::check_qr(&store, &issuer, &caller.0, &qr)).await?;
    Ok(HttpResponse::Ok().json(check))
}

/// The card issuer's public keys, so a terminal can check card QR signatures offline.
#[utoipa::path(get, path = "/.well-known/kks-card-issuer", tag = "cards",
    responses((status = 200, body = IssuerKey)))]
pub async fn issuer_key(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.card_issuer.verifying_keys();
    HttpResponse::Ok().json(IssuerKey {
        newest: IssuerPublicKey::from(state.card_issuer.newest().1.verifying_key()),
        keys: keys.keys().iter().copied().map(IssuerPublicKey::from).collect(),
    })
}
