//! The agent's EDC terminal: card transactions, reversal, history, settlement, slips.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDate;
pub use kks_wire::edc::requests::{
    BalanceInquiryRequest, CardField, CardPresented, CashWithdrawalRequest, PurchaseRequest, ReversalRequest,
    WalletToSavingsRequest,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::{Authenticated, VerifiedToken};
use super::binary::Png;
use super::problem::{ApiError, ErrorCode, Problem};
use super::sessions::parse_pin;
use super::{blocking, paging, AppState};
use crate::domain::card::CardNumber;
use crate::domain::edc::Stan;
use crate::domain::idempotency::{self, IDEMPOTENCY_TEXT_BYTES_MAX};
use crate::domain::transmission::TransmittedAt;
use crate::service::edc::reports::{self, HistoryEntry, Settlement, HISTORY_PAGE_MAX};
use crate::service::edc::reversal::{self, Original, ReversalResult};
use crate::service::edc::{self, CardInput, CardRequest, CatalogueItem, EdcReceipt, Operation};

/// The `Idempotency-Key` header: a retry with the same key gets the first answer.
pub struct IdempotencyKey(pub String);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A header that is present but not text (non-ASCII bytes) is malformed, not missing.
        let Some(value) = request.headers().get("idempotency-key") else {
            return std::future::ready(Err(ApiError::new(
                ErrorCode::IdempotencyKeyMissing,
                "send an Idempotency-Key header (e.g. terminal id and STAN)",
            )));
        };
        let key = value.to_str().ok().map(str::trim);
        std::future::ready(match key {
            Some(key) if idempotency::is_well_formed_key(key) => Ok(Self(key.to_owned())),
            _ => Err(ApiError::new(
                ErrorCode::IdempotencyKeyInvalid,
                format!(
                    "Idempotency-Key: 1 to {IDEMPOTENCY_TEXT_BYTES_MAX} printable ASCII characters, without spaces"
                ),
            )),
        })
    }
}

/// The original a reversal names, parsed.
fn reversal_original(request: ReversalRequest) -> Result<Original, ApiError> {
    let stan = Stan::parse(&request.original_stan).map_err(|error| invalid(format!("original_stan: {error}")))?;
    Ok(Original { stan, transmitted_at: transmitted_at("original_transmitted_at", &request.original_transmitted_at)? })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    /// The business day (WIB); today when absent.
    pub date: Option<NaiveDate>,
    /// Paging: only transactions after this id.
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// The default page size of history lists.
const HISTORY_PAGE_DEFAULT: i64 = 50;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, detail)
}

fn transmitted_at(field: &str, text: &str) -> Result<TransmittedAt, ApiError> {
    TransmittedAt::parse(text).map_err(|error| invalid(format!("{field}: {error}")))
}

/// A card transaction as sent, parsed into the request the service runs.
fn card_request(
    presented: CardPresented,
    idempotency_key: String,
    operation: Operation,
) -> Result<CardRequest, ApiError> {
    let card = match (presented.card.qr, presented.card.card_number) {
        (Some(qr), None) => CardInput::Qr(qr),
        (None, Some(number)) => CardInput::Keyed(CardNumber::parse(&number)?),
        _ => return Err(invalid("card: send either qr or card_number")),
    };
    let stan = Stan::parse(&presented.stan).map_err(|error| invalid(format!("stan: {error}")))?;
    Ok(CardRequest {
        card,
        pin: parse_pin("pin", &presented.pin)?,
        stan,
        transmitted_at: transmitted_at("transmitted_at", &presented.transmitted_at)?,
        idempotency_key,
        operation,
    })
}

async fn run(
    state: web::Data<AppState>,
    caller: VerifiedToken,
    request: CardRequest,
) -> Result<HttpResponse, ApiError> {
    let (store, auth, issuer) = (state.store.clone(), state.auth.clone(), state.card_issuer.verifying_keys());
    let receipt =
        blocking(move || edc::transact(&store, &auth, &issuer, (&caller.principal, caller.version), &request)).await?;
    Ok(HttpResponse::Ok().json(receipt))
}

/// Balance of every pocket: savings and each programme e-wallet, held and available.
#[utoipa::path(post, path = "/v1/edc/balance-inquiries", tag = "edc", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, max_length = 128, pattern = "^[!-~]{1,128}$",
        description = "Required. A retry with the same key gets the first answer; an EDC sends terminal id and STAN.")), request_body = BalanceInquiryRequest,
    responses((status = 200, body = EdcReceipt),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn balance_inquiry(
    state: web::Data<AppState>,
    caller: VerifiedToken,
    key: IdempotencyKey,
    body: web::Json<BalanceInquiryRequest>,
) -> Result<HttpResponse, ApiError> {
    let (presented, ()) = body.into_inner().into_parts();
    run(state, caller, card_request(presented, key.0, Operation::BalanceInquiry)?).await
}

/// Cash withdrawal (tarik tunai) from savings; the agent pays out and is owed the amount.
#[utoipa::path(post, path = "/v1/edc/cash-withdrawals", tag = "edc", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, max_length = 128, pattern = "^[!-~]{1,128}$",
        description = "Required. A retry with the same key gets the first answer; an EDC sends terminal id and STAN.")), request_body = CashWithdrawalRequest,
    responses((status = 200, body = EdcReceipt),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn cash_withdrawal(
    state: web::Data<AppState>,
    caller: VerifiedToken,
    key: IdempotencyKey,
    body: web::Json<CashWithdrawalRequest>,
) -> Result<HttpResponse, ApiError> {
    let (presented, (amount,)) = body.into_inner().into_parts();
    run(state, caller, card_request(presented, key.0, Operation::CashWithdrawal { amount })?).await
}

/// PKH e-wallet to savings (pemindahbukuan), so the family can draw it in cash.
#[utoipa::path(post, path = "/v1/edc/wallet-to-savings", tag = "edc", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, max_length = 128, pattern = "^[!-~]{1,128}$",
        description = "Required. A retry with the same key gets the first answer; an EDC sends terminal id and STAN.")), request_body = WalletToSavingsRequest,
    responses((status = 200, body = EdcReceipt),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn wallet_to_savings(
    state: web::Data<AppState>,
    caller: VerifiedToken,
    key: IdempotencyKey,
    body: web::Json<WalletToSavingsRequest>,
) -> Result<HttpResponse, ApiError> {
    let (presented, (amount,)) = body.into_inner().into_parts();
    run(state, caller, card_request(presented, key.0, Operation::WalletToSavings { amount })?).await
}

/// Purchase at an e-Warong from the BPNT or LPG e-wallet: eligible goods, within quota.
#[utoipa::path(post, path = "/v1/edc/purchases", tag = "edc", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, max_length = 128, pattern = "^[!-~]{1,128}$",
        description = "Required. A retry with the same key gets the first answer; an EDC sends terminal id and STAN.")), request_body = PurchaseRequest,
    responses((status = 200, body = EdcReceipt),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn purchase(
    state: web::Data<AppState>,
    caller: VerifiedToken,
    key: IdempotencyKey,
    body: web::Json<PurchaseRequest>,
) -> Result<HttpResponse, ApiError> {
    let (presented, (programme, basket)) = body.into_inner().into_parts();
    run(state, caller, card_request(presented, key.0, Operation::Purchase { programme, basket })?).await
}

/// Cancels the terminal's transaction with this STAN and transmission time (up to 24 hours
/// old): restored exactly once, limits included; if the original has not arrived, it will
/// be refused when it does; repeating it changes nothing.
#[utoipa::path(post, path = "/v1/edc/reversals", tag = "edc", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, max_length = 128, pattern = "^[!-~]{1,128}$",
        description = "Required. A retry with the same key gets the first answer; an EDC sends terminal id and STAN.")), request_body = ReversalRequest,
    responses((status = 200, body = ReversalResult),
              (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reversal(
    state: web::Data<AppState>,
    caller: Authenticated,
    key: IdempotencyKey,
    body: web::Json<ReversalRequest>,
) -> Result<HttpResponse, ApiError> {
    let original = reversal_original(body.into_inner())?;
    let store = state.store.clone();
    let result = blocking(move || reversal::reverse(&store, &caller.0, &original, &key.0)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The agent's transactions on a business day, across its terminals.
#[utoipa::path(get, path = "/v1/edc/transactions", tag = "edc", security(("bearer" = [])), params(DayQuery),
    responses((status = 200, body = [HistoryEntry]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn transactions(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<DayQuery>,
) -> Result<HttpResponse, ApiError> {
    let DayQuery { date, after, limit } = query.into_inner();
    let after = paging::cursor("after", after)?;
    let limit = paging::limit(limit, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX)?;
    let store = state.store.clone();
    let entries = blocking(move || reports::agent_history(&store, &caller.0, date, after, limit)).await?;
    Ok(HttpResponse::Ok().json(entries))
}

/// The agent's settlement for a business day: cash paid out, goods sold, amount owed.
#[utoipa::path(get, path = "/v1/edc/settlement", tag = "edc", security(("bearer" = [])), params(DayQuery),
    responses((status = 200, body = Settlement), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn settlement(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<DayQuery>,
) -> Result<HttpResponse, ApiError> {
    let day = query.date;
    let store = state.store.clone();
    let settlement = blocking(move || reports::settlement(&store, &caller.0, day)).await?;
    Ok(HttpResponse::Ok().json(settlement))
}

/// The e-wallet slip of a transaction as PNG (the agent that made it, or its family).
#[utoipa::path(get, path = "/v1/edc/transactions/{reference}/slip.png", tag = "edc", security(("bearer" = [])),
    params(("reference" = String, Path)),
    responses((status = 200, description = "The slip", content_type = "image/png", body = Png), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn slip(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = path.into_inner();
    if reference.len() != 12 || !reference.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid("reference: 12 digits"));
    }
    let store = state.store.clone();
    let png = blocking(move || reports::slip(&store, &caller.0, &reference)).await?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// Goods on sale at e-Warong, with price, programme and monthly quota.
#[utoipa::path(get, path = "/v1/catalogue", tag = "edc", security(("bearer" = [])),
    responses((status = 200, body = [CatalogueItem]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn catalogue(state: web::Data<AppState>, _caller: Authenticated) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let items = blocking(move || edc::catalogue(&store)).await?;
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Paging: only transactions before this id (newest first).
    pub before: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// The family's card transactions, newest first (the family, or an operator of its region).
#[utoipa::path(get, path = "/v1/families/{family_id}/transactions", tag = "families", security(("bearer" = [])),
    params(("family_id" = i64, Path), HistoryQuery),
    responses((status = 200, body = [HistoryEntry]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn family_transactions(
    state: web::Data<AppState>,
    caller: Authenticated,
    family_id: web::Path<i64>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let family_id = family_id.into_inner();
    let HistoryQuery { before, limit } = query.into_inner();
    let before = paging::cursor("before", before)?;
    let limit = paging::limit(limit, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX)?;
    let entries = blocking(move || edc::family_history(&store, &caller.0, family_id, before, limit)).await?;
    Ok(HttpResponse::Ok().json(entries))
}
