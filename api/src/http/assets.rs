//! Files for browsers, embedded in the binary: the docs pages, the dashboard and the family
//! app are served by this one piece, so every such file gets the same headers.

use actix_web::http::header;
use actix_web::HttpResponse;

use super::problem::{ApiError, ErrorCode};

/// One embedded file.
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
pub const PNG: &str = "image/png";
pub const TEXT: &str = "text/plain; charset=utf-8";
/// A web app manifest (W3C Web Application Manifest).
pub const MANIFEST: &str = "application/manifest+json";

pub fn serve(asset: Asset) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(asset.content_type)
        // The Content-Security-Policy and nosniff come from `security_headers`, like every page's.
        // The files change only with the binary; a browser asks again and gets them cheaply.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(asset.body)
}

/// A file found by name among a page's files, or `404 NOT_FOUND` naming which page's.
pub fn serve_found(asset: Option<Asset>, page: &str) -> Result<HttpResponse, ApiError> {
    asset.map(serve).ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no such {page} file")))
}
