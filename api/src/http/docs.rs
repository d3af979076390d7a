//! The API's pages for people: Swagger UI at `/docs` on this server's `/openapi.json`, and
//! `/docs/errors`, every operation and error code on one page. Every file is embedded in
//! the binary (Swagger UI is vendored from npm, see `api/assets/swagger-ui/README.md`):
//! nothing is fetched from the internet at build or at run time.

use actix_web::{web, HttpResponse};

use super::assets::{serve, serve_found, Asset, CSS, HTML, JAVASCRIPT, PNG, TEXT};
use super::problem::ApiError;

/// The files under `/docs/`, by name. Anything else is not found.
fn asset(name: &str) -> Option<Asset> {
    let (content_type, body): (&'static str, &'static [u8]) = match name {
        "errors" => (HTML, include_bytes!("../../assets/docs/errors.html")),
        "errors.js" => (JAVASCRIPT, include_bytes!("../../assets/docs/errors.js")),
        "docs.js" => (JAVASCRIPT, include_bytes!("../../assets/docs/docs.js")),
        "docs.css" => (CSS, include_bytes!("../../assets/docs/docs.css")),
        "swagger-ui/swagger-ui-bundle.js" => {
            (JAVASCRIPT, include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"))
        }
        "swagger-ui/swagger-ui.css" => (CSS, include_bytes!("../../assets/swagger-ui/swagger-ui.css")),
        "swagger-ui/favicon-32x32.png" => (PNG, include_bytes!("../../assets/swagger-ui/favicon-32x32.png")),
        "swagger-ui/LICENSE" => (TEXT, include_bytes!("../../assets/swagger-ui/LICENSE")),
        _ => return None,
    };
    Some(Asset { content_type, body })
}

/// Swagger UI on `/openapi.json`.
pub async fn index() -> HttpResponse {
    serve(Asset { content_type: HTML, body: include_bytes!("../../assets/docs/index.html") })
}

/// A file of the docs pages: `/docs/errors`, the pages' scripts and styles, Swagger UI's.
pub async fn file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve_found(asset(&path), "docs")
}
