//! The family app at `/app/`: a small installable web app (PWA) for a family with its card
//! and PIN, in Bahasa Indonesia first. Plain files embedded in the binary, nothing from the
//! internet; it speaks only to the `/v1` API of this server. Its service worker is served at
//! `/app/sw.js`, so the browser gives it the scope `/app/` without any extra header.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::assets::{serve, serve_found, Asset, CSS, HTML, JAVASCRIPT, MANIFEST, PNG};
use super::problem::ApiError;

/// The app's files under `/app/`, by name. Anything else is not found.
fn asset(name: &str) -> Option<Asset> {
    let (content_type, body): (&'static str, &'static [u8]) = match name {
        "app.js" => (JAVASCRIPT, include_bytes!("../../assets/app/app.js")),
        "app.css" => (CSS, include_bytes!("../../assets/app/app.css")),
        "sw.js" => (JAVASCRIPT, include_bytes!("../../assets/app/sw.js")),
        "manifest.webmanifest" => (MANIFEST, include_bytes!("../../assets/app/manifest.webmanifest")),
        "icon-192.png" => (PNG, include_bytes!("../../assets/app/icon-192.png")),
        "icon-512.png" => (PNG, include_bytes!("../../assets/app/icon-512.png")),
        _ => return None,
    };
    Some(Asset { content_type, body })
}

/// `/app` → `/app/`: the page must sit inside its service worker's scope, `/app/`.
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/app/")).finish()
}

/// The app's one page.
pub async fn index() -> HttpResponse {
    serve(Asset { content_type: HTML, body: include_bytes!("../../assets/app/index.html") })
}

/// A file of the app: its script, style sheet, service worker, manifest and icons.
pub async fn file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve_found(asset(&path), "family app")
}
