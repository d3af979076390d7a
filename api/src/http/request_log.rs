//! The request log: one line per request, without personal data.
//!
//! A line names the route pattern (`/v1/cards/{card_number}`), never the URL: a URL carries
//! full card numbers and, in a query, a NIK or a name, which card schemes and Indonesia's
//! personal-data law keep out of logs. A card number in the path is logged masked, first 6
//! and last 4 digits (the bank and the card, as on a receipt). Bodies, queries, tokens and
//! PINs are never logged; an error is logged by its stable code, not its detail.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::problem::ApiError;

/// The path parameter that carries a full card number.
const CARD_NUMBER_PARAMETER: &str = "{card_number}";

pub struct RequestLog;

impl RootSpanBuilder for RequestLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let card = card_in_path(&route, request.path()).map(|number| mask_card_number(&number)).unwrap_or_default();
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            card = %card,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        match outcome {
            Ok(response) => {
                span.record("http.status_code", response.status().as_u16());
                if let Some(error) = response.response().extensions().get::<ApiError>() {
                    let code: &'static str = error.code.into();
                    span.record("code", code);
                }
            }
            Err(error) => {
                span.record("http.status_code", error.as_response_error().status_code().as_u16());
            }
        }
    }
}

/// The path segment that the route pattern names `{card_number}`, if any.
fn card_in_path(route: &str, path: &str) -> Option<String> {
    let position = route.split('/').position(|segment| segment == CARD_NUMBER_PARAMETER)?;
    let segment = path.split('/').nth(position)?;
    Some(percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned())
}

/// First 6 and last 4 characters of a card number, the rest as `*`; anything shorter than
/// 11 characters (not a card number) entirely as `*`.
pub fn mask_card_number(number: &str) -> String {
    let characters: Vec<char> = number.chars().collect();
    let count = characters.len();
    if count < 11 {
        return "*".repeat(count);
    }
    characters
        .iter()
        .enumerate()
        .map(|(index, character)| if index < 6 || index >= count - 4 { *character } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_number_is_logged_as_its_first_six_and_last_four_digits() {
        assert_eq!(mask_card_number("5221843673963604"), "522184******3604");
        assert_eq!(mask_card_number("1234"), "****");
    }

    #[test]
    fn the_card_number_is_found_where_the_route_names_it() {
        let found = card_in_path("/v1/cards/{card_number}/history", "/v1/cards/5221843673963604/history");
        assert_eq!(found.as_deref(), Some("5221843673963604"));
        assert_eq!(card_in_path("/v1/families/{family_id}", "/v1/families/7"), None);
    }
}
