//! Middleware: the security headers of every answer, decided in one place.
//!
//! - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere: a
//!   browser never guesses a type (a JSON answer is never run as a script) and never sends
//!   a page's address, with its query, to another site.
//! - `Cache-Control: no-store` on every `/v1` answer: tokens, balances, card numbers and
//!   names must not stay in a browser's or a proxy's cache.
//! - Every HTML page gets its own Content-Security-Policy from [`PAGE_POLICIES`] (a page
//!   not listed gets [`PAGE_POLICY_DEFAULT`]) and `X-Frame-Options: DENY`; a service
//!   worker's script its worker's policy from [`WORKER_POLICIES`]; every other answer gets
//!   [`NON_PAGE_POLICY`], so nothing the API serves can run a script or be framed.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The policy of an HTML page not listed in [`PAGE_POLICIES`]: its own scripts, styles and
/// images only, no plugin, no framing, no form sent elsewhere.
pub const PAGE_POLICY_DEFAULT: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Each HTML page's Content-Security-Policy, by path prefix (the first match wins). Adjust a
/// page's policy here, and only here, when its assets change.
pub const PAGE_POLICIES: &[(&str, &str)] = &[
    // The dashboard: its script and style sheet from this server, data from the API. Its
    // script sets colours through the CSSOM (`element.style`), which CSP does not restrict.
    (
        "/dashboard",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    // The API documentation (Swagger UI, vendored): scripts from this server only; Swagger UI
    // sets inline styles and draws some icons and fonts as data: URLs.
    (
        "/docs",
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    // The family app: its own files and the API only. It links its web app manifest and
    // registers its service worker; its forms are sent by its script, never by the browser
    // (a card number and PIN never end up in an address).
    (
        "/app",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
         manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
];

/// The policy of a service worker, by its script's path: a worker runs under the policy its
/// script was served with, and the family app's caches the app's files with `fetch`.
pub const WORKER_POLICIES: &[(&str, &str)] =
    &[("/app/sw.js", "default-src 'none'; connect-src 'self'; frame-ancestors 'none'")];

/// The policy of every answer that is not an HTML page (JSON, CSV, PNG, scripts).
pub const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy for a page at `path`.
pub fn page_policy(path: &str) -> &'static str {
    PAGE_POLICIES
        .iter()
        .find(|(prefix, _)| path == *prefix || path.starts_with(&format!("{prefix}/")))
        .map_or(PAGE_POLICY_DEFAULT, |(_, policy)| *policy)
}

/// The policy of the service worker whose script is at `path`, if it is one.
pub fn worker_policy(path: &str) -> Option<&'static str> {
    WORKER_POLICIES.iter().find(|(script, _)| path == *script).map(|(_, policy)| *policy)
}

pub async fn add(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = request.path().to_owned();
    let mut response = next.call(request).await?;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if path.starts_with("/v1/") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let policy = if is_page {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        page_policy(&path)
    } else {
        worker_policy(&path).unwrap_or(NON_PAGE_POLICY)
    };
    headers.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static(policy));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_policy_forbids_framing_and_plugins() {
        let fixed = [&("", PAGE_POLICY_DEFAULT), &("", NON_PAGE_POLICY)];
        for (_, policy) in PAGE_POLICIES.iter().chain(WORKER_POLICIES).chain(fixed) {
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            assert!(policy.starts_with("default-src 'none'"), "{policy}");
            assert!(HeaderValue::from_str(policy).is_ok(), "{policy}");
        }
    }

    #[test]
    fn a_page_gets_its_own_policy_and_an_unknown_page_the_strict_default() {
        assert!(page_policy("/docs").contains("img-src 'self' data:"));
        assert!(!page_policy("/dashboard").contains("unsafe-inline"));
        assert_eq!(page_policy("/somewhere"), PAGE_POLICY_DEFAULT);
        assert!(page_policy("/app/").contains("manifest-src 'self'"));
    }

    #[test]
    fn only_a_service_worker_script_may_fetch_and_nothing_else_of_its_folder() {
        assert_eq!(worker_policy("/app/sw.js").map(|policy| policy.contains("connect-src 'self'")), Some(true));
        assert_eq!(worker_policy("/app/app.js"), None);
    }
}
