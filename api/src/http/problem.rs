//! The one place where errors become HTTP: `application/problem+json` (RFC 9457) with a
//! stable machine `code`, a title in English or Bahasa Indonesia, and a detail.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::card::CardNumberError;
use crate::domain::language::Language;
use crate::service::error::card_number_code;
pub use crate::service::error::ErrorCode;
use crate::service::ServiceError;
use crate::store::StoreError;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Bahasa Indonesia when the client prefers it (`Accept-Language: id`), else English.
pub fn preferred_language(accept_language: Option<&HeaderValue>) -> Language {
    let preferred = accept_language
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(|first| first.trim().to_ascii_lowercase());
    match preferred {
        Some(tag) if tag == "id" || tag.starts_with("id-") || tag.starts_with("id;") => Language::Indonesian,
        _ => Language::English,
    }
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest
            | Self::CharacterNotAllowed
            | Self::PagingInvalid
            | Self::CardNumberMalformed
            | Self::CardNumberCheckDigit
            | Self::CardNumberUnknownBank
            | Self::CardQrMalformed
            | Self::CardQrUnsupportedVersion
            | Self::NikInvalid
            | Self::UsernameInvalid
            | Self::TerminalIdInvalid => StatusCode::BAD_REQUEST,
            Self::CardForged | Self::CardAltered | Self::FamilyRulesNotMet | Self::PasswordWeak => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::CardExists | Self::FamilyExists | Self::UsernameTaken | Self::TerminalTaken => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound | Self::AccountNotFound | Self::HoldNotFound | Self::JournalNotFound => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthenticated | Self::TokenRevoked | Self::WrongCredentials | Self::WrongCardOrPin => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden | Self::TerminalNotAllowed | Self::TerminalInactive | Self::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::WrongPin | Self::CardLost | Self::CardReplaced | Self::CardExpired => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PinLocked => StatusCode::LOCKED,
            Self::AccountClosed
            | Self::AccountNotEmpty
            | Self::HoldNotActive
            | Self::AlreadyReversed
            | Self::IdempotencyKeyReused => StatusCode::CONFLICT,
            Self::TransmissionTimeOutOfRange | Self::ReversalWindowClosed => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InsufficientFunds
            | Self::FundsHeld
            | Self::WalletBlocked
            | Self::WithdrawalLimitExceeded
            | Self::DailyWithdrawalLimitExceeded
            | Self::AgentDailyLimitExceeded
            | Self::QuotaExceeded
            | Self::ItemNotEligible
            | Self::UnknownItem => StatusCode::UNPROCESSABLE_ENTITY,
            Self::OperationNotAllowed => StatusCode::FORBIDDEN,
            Self::DuplicateStan | Self::OriginalReversed => StatusCode::CONFLICT,
            Self::IdempotencyKeyMissing | Self::IdempotencyKeyInvalid => StatusCode::BAD_REQUEST,
            Self::LiveBatchExists | Self::BatchPaysNobody | Self::BatchNotCancellable => StatusCode::CONFLICT,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self, language: Language) -> &'static str {
        let (english, indonesian) = match self {
            Self::InvalidRequest => ("The request is not valid", "Permintaan tidak valid"),
            Self::CharacterNotAllowed => (
                "Remove control characters and text-direction marks from the text",
                "Hapus karakter kontrol dan tanda arah teks dari isian",
            ),
            Self::PagingInvalid => {
                ("Ask for a page within the allowed range", "Minta halaman dalam rentang yang diizinkan")
            }
            Self::UnsupportedMediaType => {
                ("Send the body as application/json", "Kirim isi permintaan sebagai application/json")
            }
            Self::PayloadTooLarge => ("The request body is too large", "Isi permintaan terlalu besar"),
            Self::NotFound => ("Not found", "Tidak ditemukan"),
            Self::MethodNotAllowed => ("This method is not allowed here", "Metode ini tidak diizinkan di sini"),
            Self::Unauthenticated => ("Log in first", "Silakan masuk terlebih dahulu"),
            Self::TokenRevoked => ("The session has ended; log in again", "Sesi telah berakhir; silakan masuk lagi"),
            Self::WrongCredentials => ("Wrong user name or password", "Nama pengguna atau kata sandi salah"),
            Self::WrongCardOrPin => ("Wrong card number or PIN", "Nomor kartu atau PIN salah"),
            Self::Forbidden => ("You may not do this", "Anda tidak berwenang melakukan ini"),
            Self::TerminalNotAllowed => ("This terminal may not be used", "Terminal ini tidak dapat digunakan"),
            Self::TerminalInactive => ("This terminal was deactivated", "Terminal ini sudah dinonaktifkan"),
            Self::TerminalIdInvalid => ("The terminal id is not valid", "ID terminal tidak valid"),
            Self::TerminalTaken => ("This terminal is registered already", "Terminal ini sudah terdaftar"),
            Self::TooManyRequests => {
                ("Too many attempts; wait and try again", "Terlalu banyak percobaan; tunggu lalu coba lagi")
            }
            Self::WrongPin => ("Wrong PIN", "PIN salah"),
            Self::PinLocked => ("The PIN is locked; visit an operator", "PIN terblokir; hubungi petugas"),
            Self::CardLost => ("The card was reported lost", "Kartu dilaporkan hilang"),
            Self::CardReplaced => ("The card was replaced by a newer one", "Kartu sudah diganti dengan kartu baru"),
            Self::CardExpired => ("The card has expired", "Kartu sudah kedaluwarsa"),
            Self::CardNumberMalformed => ("A card number is 16 digits", "Nomor kartu harus 16 digit"),
            Self::CardNumberCheckDigit => {
                ("The card number is mistyped (check digit)", "Nomor kartu salah ketik (digit periksa)")
            }
            Self::CardNumberUnknownBank => ("The card is not from a KKS bank", "Kartu bukan dari bank penyalur KKS"),
            Self::CardQrMalformed => ("This is not a KKS card code", "Kode ini bukan kode kartu KKS"),
            Self::CardQrUnsupportedVersion => {
                ("This card code version is not supported", "Versi kode kartu ini tidak didukung")
            }
            Self::CardForged => ("The card is not genuine", "Kartu tidak asli"),
            Self::CardAltered => ("The card code was altered", "Kode kartu telah diubah"),
            Self::CardExists => ("The family already has a card", "Keluarga sudah memiliki kartu"),
            Self::NikInvalid => ("The NIK is not valid", "NIK tidak valid"),
            Self::FamilyRulesNotMet => {
                ("The family does not meet the programme rules", "Data keluarga tidak memenuhi ketentuan program")
            }
            Self::FamilyExists => {
                ("A family with this NIK is already registered", "Keluarga dengan NIK ini sudah terdaftar")
            }
            Self::UsernameInvalid => ("The user name is not valid", "Nama pengguna tidak valid"),
            Self::UsernameTaken => ("This user name is taken", "Nama pengguna sudah dipakai"),
            Self::PasswordWeak => ("The password is too weak", "Kata sandi terlalu lemah"),
            Self::PasswordChangeRequired => ("Choose a new password first", "Buat kata sandi baru terlebih dahulu"),
            Self::AccountNotFound => ("The account does not exist", "Rekening tidak ditemukan"),
            Self::AccountClosed => ("The account is closed", "Rekening sudah ditutup"),
            Self::AccountNotEmpty => ("The account still holds money", "Rekening masih memiliki saldo"),
            Self::InsufficientFunds => ("Insufficient balance", "Saldo tidak mencukupi"),
            Self::FundsHeld => ("The money is blocked", "Dana sedang diblokir"),
            Self::WalletBlocked => (
                "The e-wallet is blocked until the family meets its commitments",
                "e-Wallet diblokir sampai keluarga memenuhi komitmen",
            ),
            Self::OperationNotAllowed => {
                ("This terminal may not do this", "Transaksi ini tidak dapat dilakukan di terminal ini")
            }
            Self::WithdrawalLimitExceeded => {
                ("Above the limit for one withdrawal", "Melebihi batas sekali tarik tunai")
            }
            Self::DailyWithdrawalLimitExceeded => {
                ("Above the card's daily withdrawal limit", "Melebihi batas tarik tunai harian kartu")
            }
            Self::AgentDailyLimitExceeded => {
                ("Above the agent's daily cash-out limit", "Melebihi batas penarikan harian agen")
            }
            Self::QuotaExceeded => {
                ("Above this month's quota for the item", "Melebihi kuota bulan ini untuk barang tersebut")
            }
            Self::ItemNotEligible => {
                ("This item cannot be bought with this programme", "Barang ini tidak dapat dibeli dengan program ini")
            }
            Self::UnknownItem => ("The item is not in the catalogue", "Barang tidak ada dalam katalog"),
            Self::DuplicateStan => {
                ("This trace number (STAN) was already used today", "Nomor jejak (STAN) sudah dipakai hari ini")
            }
            Self::OriginalReversed => {
                ("The transaction was cancelled by a reversal", "Transaksi sudah dibatalkan (reversal)")
            }
            Self::IdempotencyKeyMissing => ("Send an Idempotency-Key header", "Sertakan header Idempotency-Key"),
            Self::IdempotencyKeyInvalid => (
                "The Idempotency-Key must be 1 to 128 printable ASCII characters",
                "Idempotency-Key harus 1 sampai 128 karakter ASCII yang dapat dicetak",
            ),
            Self::HoldNotFound => ("The block does not exist", "Pemblokiran tidak ditemukan"),
            Self::HoldNotActive => ("The block has already ended", "Pemblokiran sudah berakhir"),
            Self::JournalNotFound => ("The transaction does not exist", "Transaksi tidak ditemukan"),
            Self::AlreadyReversed => ("The transaction was already reversed", "Transaksi sudah dibatalkan"),
            Self::IdempotencyKeyReused => (
                "This Idempotency-Key was used for a different request",
                "Idempotency-Key ini sudah dipakai untuk permintaan lain",
            ),
            Self::LiveBatchExists => (
                "Another batch already pays this period here",
                "Sudah ada batch lain yang membayar periode ini di wilayah ini",
            ),
            Self::BatchPaysNobody => {
                ("Every family is already paid for this period", "Semua keluarga sudah dibayar untuk periode ini")
            }
            Self::BatchNotCancellable => (
                "The batch is being paid or was paid: it cannot be cancelled",
                "Batch sedang atau sudah dibayarkan: tidak dapat dibatalkan",
            ),
            Self::TransmissionTimeOutOfRange => (
                "The terminal's clock is too far from the server's",
                "Jam terminal terlalu jauh berbeda dengan jam server",
            ),
            Self::ReversalWindowClosed => {
                ("Too late to reverse this transaction", "Transaksi ini sudah terlalu lama untuk dibatalkan")
            }
            Self::ServiceUnavailable => {
                ("The service is temporarily unavailable, try again", "Layanan sedang tidak tersedia, coba lagi")
            }
            Self::InternalError => ("Internal error", "Kesalahan internal"),
        };
        match language {
            Language::English => english,
            Language::Indonesian => indonesian,
        }
    }

    fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => Self::ServiceUnavailable,
            StatusCode::UNAUTHORIZED => Self::Unauthenticated,
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests,
            status if status.is_client_error() => Self::InvalidRequest,
            _ => Self::InternalError,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:kks:problem:` and the code.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, in English.
    pub detail: String,
    pub code: ErrorCode,
}

/// The description of an operation's 4XX answer in the OpenAPI document: the codes it
/// may carry, each with its HTTP status, so a client team knows what to branch on.
pub fn refusals(codes: &[ErrorCode]) -> String {
    let listed: Vec<String> = codes
        .iter()
        .map(|code| {
            let name: &'static str = (*code).into();
            format!("`{name}` ({})", code.status().as_u16())
        })
        .collect();
    format!("Refused (problem+json); `code` is one of: {}.", listed.join(", "))
}

/// An error on its way to the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {detail}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    /// Seconds after which a retry may succeed (sent as `Retry-After`).
    pub retry_after_seconds: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), retry_after_seconds: None }
    }

    pub fn problem(&self, language: Language) -> Problem {
        let code_name: &'static str = self.code.into();
        Problem {
            problem_type: format!("urn:kks:problem:{}", code_name.to_ascii_lowercase().replace('_', "-")),
            title: self.code.title(language).to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code,
        }
    }

    fn render(&self, language: Language) -> HttpResponse {
        let mut builder = HttpResponse::build(self.code.status());
        builder.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if let Some(seconds) = self.retry_after_seconds {
            builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.code.status() == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"kks\""));
        }
        let mut response = builder.json(self.problem(language));
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.render(Language::English)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ServiceError::from(error).into()
    }
}

/// The one mapping from a use case's error to a problem: its code, and a detail that
/// never carries internal details (those go to the log).
impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        if let ServiceError::LoginThrottled { wait } = &error {
            let seconds = crate::domain::login_throttle::seconds_rounded_up(*wait);
            return Self {
                retry_after_seconds: Some(seconds),
                ..Self::new(ErrorCode::TooManyRequests, error.to_string())
            };
        }
        match error.code() {
            ErrorCode::InternalError => internal(&error),
            ErrorCode::ServiceUnavailable => Self::new(ErrorCode::ServiceUnavailable, "the database is unavailable"),
            code => Self::new(code, error.to_string()),
        }
    }
}

impl From<CardNumberError> for ApiError {
    fn from(error: CardNumberError) -> Self {
        Self::new(card_number_code(&error), error.to_string())
    }
}

/// Internal details go to the log under the request's span, never to the client.
pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(%error, "internal error");
    ApiError::new(ErrorCode::InternalError, "an internal error occurred; it has been logged")
}

/// Middleware: every error response leaves as problem+json, in the client's language.
/// Errors raised by our code are re-rendered in Bahasa Indonesia when asked; errors
/// raised by the framework (unknown route, wrong method) get a problem body here.
pub async fn localize(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let language = preferred_language(request.headers().get(header::ACCEPT_LANGUAGE));
    let response = next.call(request).await?.map_into_boxed_body();
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    let ours = response.response().extensions().get::<ApiError>().cloned();
    let error = match ours {
        Some(_) if language == Language::English => return Ok(response),
        Some(error) => error,
        None => {
            let code = ErrorCode::for_status(status);
            ApiError::new(code, status.canonical_reason().unwrap_or("error").to_lowercase())
        }
    };
    // A 405 keeps its Allow header through the re-rendering.
    let allow = response.headers().get(header::ALLOW).cloned();
    let (request, _) = response.into_parts();
    let mut rendered = error.render(language);
    if let Some(allow) = allow {
        rendered.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ServiceResponse::new(request, rendered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn every_code_has_a_status_and_titles_in_both_languages() {
        for code in ErrorCode::iter() {
            assert!(code.status().is_client_error() || code.status().is_server_error(), "{code:?}");
            assert!(!code.title(Language::English).is_empty());
            assert_ne!(code.title(Language::English), code.title(Language::Indonesian), "{code:?}");
        }
    }

    #[test]
    fn accept_language_picks_indonesian_only_when_preferred() {
        let header = |text: &'static str| HeaderValue::from_static(text);
        assert_eq!(preferred_language(Some(&header("id"))), Language::Indonesian);
        assert_eq!(preferred_language(Some(&header("id-ID,en;q=0.5"))), Language::Indonesian);
        assert_eq!(preferred_language(Some(&header("en-US,id;q=0.5"))), Language::English);
        assert_eq!(preferred_language(None), Language::English);
    }

    #[test]
    fn problem_type_is_a_stable_urn_of_the_code() {
        let problem = ApiError::new(ErrorCode::FundsHeld, "x").problem(Language::English);
        assert_eq!(problem.problem_type, "urn:kks:problem:funds-held");
        assert_eq!(serde_json::to_value(problem.code).ok(), Some(serde_json::json!("FUNDS_HELD")));
    }
}
