//! Cross-origin requests from browser apps on other origins (`--cors-origins`).
//!
//! None by default: a browser page on another site can then not read any answer. Each
//! origin listed (scheme, host and port, exactly as the browser sends it) may call the API
//! with a bearer token; preflights allow the methods and headers the API uses and expose
//! the headers a client reads. A request from any other origin is served without CORS
//! headers (so the browser keeps the answer from the page), not refused: the dashboard's
//! own same-origin requests carry an `Origin` too.

use std::str::FromStr;

use actix_cors::Cors;
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, Uri};

/// How long a browser may cache a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE_SECONDS: usize = 600;

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The CORS middleware for these origins.
    pub fn middleware(&self) -> Cors {
        let cors = self.0.iter().fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
        cors.allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allowed_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                header::WWW_AUTHENTICATE,
                header::CONTENT_DISPOSITION,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(PREFLIGHT_MAX_AGE_SECONDS)
            .block_on_origin_mismatch(false)
    }
}

impl FromStr for CorsOrigins {
    type Err = String;

    /// A comma-separated list of origins (`https://app.example.id,http://localhost:3000`);
    /// empty for none. `*` is refused: a token-bearing API names its clients.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let uri: Uri = item.parse().map_err(|_| format!("{item}: not an origin"))?;
                let is_origin = matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.authority().is_some()
                    && uri.path_and_query().is_none_or(|path| path.as_str() == "/")
                    && !item.ends_with('/');
                if is_origin {
                    Ok(item.to_ascii_lowercase())
                } else {
                    Err(format!("{item}: an origin is scheme://host[:port], e.g. https://app.example.id"))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        let origins: Result<CorsOrigins, _> = "https://app.example.id, http://localhost:3000".parse();
        assert_eq!(
            origins,
            Ok(CorsOrigins(vec!["https://app.example.id".to_owned(), "http://localhost:3000".to_owned()]))
        );
        for wrong in ["*", "app.example.id", "https://app.example.id/path", "ftp://x", "https://app.example.id/"] {
            assert!(wrong.parse::<CorsOrigins>().is_err(), "{wrong}");
        }
        assert_eq!("".parse::<CorsOrigins>(), Ok(CorsOrigins::default()));
    }
}
