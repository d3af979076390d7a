//! The one place where errors become HTTP: `application/problem+json` (RFC 9457) with a
//! stable machine `code`, a title in English or Bahasa Indonesia, and a detail.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
pub use kks_wire::problem::{ErrorCode, Problem};

use crate::domain::card::CardNumberError;
use crate::domain::language::Language;
use crate::service::error::card_number_code;
use crate::service::ServiceError;

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

/// The HTTP status a code is answered with.
pub fn status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The code of an error the framework raised (unknown route, wrong method), by its status.
fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
        status if status.is_client_error() => ErrorCode::InvalidRequest,
        _ => ErrorCode::InternalError,
    }
}

/// The description of an operation's 4XX answer in the OpenAPI document: the codes it
/// may carry, each with its HTTP status, so a client team knows what to branch on.
pub fn refusals(codes: &[ErrorCode]) -> String {
    let listed: Vec<String> = codes
        .iter()
        .map(|code| {
            let name: &'static str = (*code).into();
            format!("`{name}` ({})", code.http_status())
        })
        .collect();
    format!("Refused (problem+json); `code` is one of: {}.", listed.join(", "))
}

/// An error on its way to the client. Printed (`{}`, `{:?}`) by its code only: the detail
/// may echo what the client sent (a card number, a name), and the web framework logs
/// every error it sees.
#[derive(Clone, thiserror::Error)]
#[error("{code:?}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    /// Seconds after which a retry may succeed (sent as `Retry-After`).
    pub retry_after_seconds: Option<u64>,
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ApiError")
            .field("code", &self.code)
            .field("retry_after_seconds", &self.retry_after_seconds)
            .finish_non_exhaustive()
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), retry_after_seconds: None }
    }

    pub fn problem(&self, language: Language) -> Problem {
        Problem::new(self.code, language, self.detail.clone())
    }

    fn render(&self, language: Language) -> HttpResponse {
        let mut builder = HttpResponse::build(status(self.code));
        builder.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if let Some(seconds) = self.retry_after_seconds {
            builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if status(self.code) == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"kks\""));
        }
        let mut response = builder.json(self.problem(language));
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status(self.code)
    }

    fn error_response(&self) -> HttpResponse {
        self.render(Language::English)
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
            let code = code_for_status(status);
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
    fn every_code_is_answered_with_its_own_error_status() {
        for code in ErrorCode::iter() {
            assert!(status(code).is_client_error() || status(code).is_server_error(), "{code:?}");
            assert_eq!(status(code).as_u16(), code.http_status(), "{code:?}");
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
