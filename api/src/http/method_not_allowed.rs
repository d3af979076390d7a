//! 405 Method Not Allowed, with an `Allow` header, for a known path asked with a method it
//! does not have. A route added with `route(path, web::get()…)` matches on its method, so
//! without these an unknown method would be answered 404 as if the path did not exist.
//! The methods come from the OpenAPI document, which a test keeps equal to the routes.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use super::openapi::ApiDoc;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Each documented path and its methods (`GET, POST`).
fn documented() -> Vec<(String, String)> {
    let document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let Some(paths) = document.get("paths").and_then(|paths| paths.as_object()) else { return Vec::new() };
    paths
        .iter()
        .filter_map(|(path, item)| {
            let methods: Vec<String> = item
                .as_object()?
                .keys()
                .filter(|key| METHODS.contains(&key.as_str()))
                .map(|method| method.to_ascii_uppercase())
                .collect();
            Some((path.clone(), methods.join(", ")))
        })
        .collect()
}

/// Registers the 405 answers for the documented paths under `scope` (`"/v1"`, given
/// without it), or, with `None`, for those outside any scope. Register after the routes.
pub fn register(scope: Option<&'static str>) -> impl Fn(&mut web::ServiceConfig) {
    move |config| {
        for (path, allow) in documented() {
            let local = match scope {
                Some(prefix) => path.strip_prefix(prefix).filter(|rest| rest.starts_with('/')).map(str::to_owned),
                None => Some(path.clone()).filter(|path| !path.starts_with("/v1/")),
            };
            if let Some(local) = local {
                config.service(web::resource(local).to(move || std::future::ready(answer(allow.clone()))));
            }
        }
    }
}

/// The 405 answer of a literal path whose sibling has a parameter in the same place
/// (`/families/search` beside `/families/{family_id}`): registered on the literal path's
/// own resource, so that `GET /families/search` is not taken for family "search".
pub fn only(allow: &'static str) -> actix_web::Route {
    web::to(move || std::future::ready(answer(allow)))
}

/// The resource of a literal path that only takes POST, beside a sibling with a parameter
/// in the same place: any other method is 405 with `Allow: POST`.
pub fn post_only(path: &str, post: actix_web::Route) -> actix_web::Resource {
    web::resource(path).route(post).default_service(only("POST"))
}

fn answer(allow: impl Into<String>) -> HttpResponse {
    HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow.into())).finish()
}
