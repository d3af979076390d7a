//! Middleware: text from a client carries no control character and no bidirectional
//! override, checked once at the door for every route ([`crate::domain::text`] says why).
//!
//! It looks at the decoded path and query string, at every string (and key) of a JSON
//! body, and at any other body as text (a CSV upload keeps its line breaks). A refusal is
//! `400 CHARACTER_NOT_ALLOWED` naming where and which code point, never the text itself
//! (it may be personal data); the handler never runs, so nothing changes, on SQLite and
//! PostgreSQL alike.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::imports::STREAMED_UPLOAD_PATHS;
use super::problem::{ApiError, ErrorCode};
use super::JSON_BODY_BYTES_MAX;
use crate::domain::text::{forbidden_character, LineBreaks};

pub async fn refuse_forbidden_characters(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(refusal) = check_uri(request.path(), request.query_string()) {
        return Ok(request.error_response(refusal));
    }
    let json = is_json(&request);
    // A JSON body declared larger than the JSON limit is left to the JSON extractor, which
    // refuses it (413) without reading it.
    let oversized_json = json && declared_length(&request).is_some_and(|length| length > JSON_BODY_BYTES_MAX);
    // An import is streamed to a file and checked there line by line, never read whole here.
    let streamed = STREAMED_UPLOAD_PATHS.contains(&request.path());
    if matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH) && !oversized_json && !streamed {
        // The body is read here (decompressed, within the configured size limit) and
        // handed back to the handler's extractor unchanged. A body that cannot be read is
        // answered here, as the extractor would have (413, 400), in problem+json.
        let body = match request.extract::<web::Bytes>().await {
            Ok(body) => body,
            Err(error) => return Ok(request.error_response(error)),
        };
        let refusal = if json { check_json(&body) } else { check_other_body(&body) };
        if let Some(refusal) = refusal {
            return Ok(request.error_response(refusal));
        }
        request.headers_mut().remove(header::CONTENT_ENCODING);
        request.set_payload(Payload::from(body));
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

fn refused(place: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::CharacterNotAllowed,
        format!("{place} contains {detail}: text may not carry control characters or bidirectional overrides"),
    )
}

fn check_uri(path: &str, query: &str) -> Option<ApiError> {
    let path = percent_decode_str(path).decode_utf8_lossy();
    if let Some(character) = forbidden_character(&path, LineBreaks::Refused) {
        return Some(refused("the path", character));
    }
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode_str(name).decode_utf8_lossy();
        let value = percent_decode_str(value).decode_utf8_lossy();
        if let Some(character) =
            forbidden_character(&name, LineBreaks::Refused).or_else(|| forbidden_character(&value, LineBreaks::Refused))
        {
            return Some(refused(&format!("the query parameter `{name}`"), character));
        }
    }
    None
}

fn declared_length(request: &ServiceRequest) -> Option<usize> {
    request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn is_json(request: &ServiceRequest) -> bool {
    let Some(content_type) = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// A JSON body's strings and keys, each named by its JSON pointer. A body too large or
/// not JSON at all is left to the JSON extractor, which refuses it with its own code.
fn check_json(body: &[u8]) -> Option<ApiError> {
    if body.len() > JSON_BODY_BYTES_MAX {
        return None;
    }
    let value = serde_json::from_slice::<Value>(body).ok()?;
    check_value(&value, &mut String::new())
}

fn check_value(value: &Value, pointer: &mut String) -> Option<ApiError> {
    match value {
        Value::String(text) => forbidden_character(text, LineBreaks::Refused).map(|character| {
            let place = if pointer.is_empty() { "the body".to_owned() } else { format!("`{pointer}`") };
            refused(&place, character)
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| within(pointer, &index.to_string(), |pointer| check_value(item, pointer))),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            if let Some(character) = forbidden_character(name, LineBreaks::Refused) {
                return Some(refused(&format!("a field name in `{pointer}/`"), character));
            }
            within(pointer, name, |pointer| check_value(item, pointer))
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// Runs `check` with `step` appended to the pointer, then takes it off again.
fn within(pointer: &mut String, step: &str, check: impl FnOnce(&mut String) -> Option<ApiError>) -> Option<ApiError> {
    let length = pointer.len();
    pointer.push('/');
    pointer.push_str(&step.replace('~', "~0").replace('/', "~1"));
    let refusal = check(pointer);
    pointer.truncate(length);
    refusal
}

/// Any other body (a CSV upload) as text, line breaks allowed. Bytes that are not UTF-8
/// are left to the handler, which refuses them.
fn check_other_body(body: &[u8]) -> Option<ApiError> {
    let text = std::str::from_utf8(body).ok()?;
    forbidden_character(text, LineBreaks::Allowed).map(|character| refused("the body", character))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(refusal: Option<ApiError>) -> Option<ErrorCode> {
        refusal.map(|refusal| refusal.code)
    }

    #[test]
    fn a_nul_anywhere_in_a_json_body_is_refused_and_named_by_its_pointer() {
        let body = br#"{"basket": [{"sku": "beras"}, {"sku": "telur\u0000"}]}"#;
        let refusal = check_json(body);
        assert_eq!(code(refusal.clone()), Some(ErrorCode::CharacterNotAllowed));
        let detail = refusal.map(|refusal| refusal.detail).unwrap_or_default();
        assert!(detail.starts_with("`/basket/1/sku` contains U+0000"), "{detail}");
        assert!(!detail.contains("telur"), "the text itself is not echoed: {detail}");
    }

    #[test]
    fn keys_and_bidirectional_overrides_are_checked_too() {
        assert!(check_json("{\"na\u{202E}me\": \"x\"}".as_bytes()).is_some());
        assert!(check_json("{\"name\": \"Siti \u{2066}Aminah\"}".as_bytes()).is_some());
        assert!(check_json(br#"{"name": "Siti Aminah", "amount": "1000", "items": [1, null, true]}"#).is_none());
    }

    #[test]
    fn a_body_that_is_not_json_is_left_to_the_json_extractor() {
        assert!(check_json(b"{\"card\": ").is_none());
    }

    #[test]
    fn path_and_query_are_checked_after_percent_decoding() {
        assert!(check_uri("/v1/cards/5221%00", "").is_some());
        assert!(check_uri("/v1/monitoring/families", "q=Siti%E2%80%AEAminah").is_some());
        assert!(check_uri("/v1/monitoring/families", "q=a%0Ab").is_some());
        assert!(check_uri("/v1/monitoring/families", "region=32&q=Siti+Aminah&limit=5").is_none());
    }

    #[test]
    fn a_csv_upload_keeps_its_line_breaks() {
        assert!(check_other_body(b"family_id,attended\r\n1,yes\n").is_none());
        assert!(check_other_body(b"family_id,attended\n1,yes\0").is_some());
    }
}
