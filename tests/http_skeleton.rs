//! The server binary over real HTTP: health, readiness, metrics, problem+json errors
//! and the OpenAPI document.

use crate::support::{kks, on_both_backends, TestServer};

const COMMITTED_OPENAPI: &str = include_str!("../openapi/openapi.json");

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = kks_api::http::openapi::document_json().unwrap();
    assert!(
        generated == COMMITTED_OPENAPI,
        "openapi/openapi.json is out of date: regenerate it with `cargo run -p kks-api -- openapi --output openapi/openapi.json`"
    );
}

#[test]
fn every_operation_has_an_operation_id_of_its_own() {
    // Generated clients name their functions after operationIds: two alike collide.
    let document: serde_json::Value = serde_json::from_str(COMMITTED_OPENAPI).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            if let Some(first) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} is on both {first} and {method} {path}");
            }
        }
    }
}

#[test]
fn no_two_schemas_share_a_name() {
    // utoipa names a component after its type and keeps the last one registered under a
    // name: two types of one name (a complaint's timeline line and a family page's) would
    // silently give one of them the other's schema. So each type deriving ToSchema in the
    // server and the wire crate has a name of its own.
    let mut seen: std::collections::BTreeMap<String, std::path::PathBuf> = std::collections::BTreeMap::new();
    let mut folders = vec![
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../wire/src")),
    ];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            let mut deriving = false;
            for line in source.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    deriving = true;
                } else if deriving {
                    // The item the derive is on: `pub struct Name`, `enum Name<…> {`.
                    let mut words = line.split_whitespace().skip_while(|word| word.starts_with("pub"));
                    if let (Some("struct" | "enum"), Some(name)) = (words.next(), words.next()) {
                        deriving = false;
                        if name.starts_with('$') {
                            continue; // a macro's template: its types are named where it is called
                        }
                        let name = name.split(['<', '{', '(', ';']).next().unwrap().to_owned();
                        if let Some(first) = seen.insert(name.clone(), path.clone()) {
                            panic!("two schemas named {name}: in {} and {}", first.display(), path.display());
                        }
                    }
                }
            }
        }
    }
    assert!(seen.contains_key("TimelineEntry") && seen.len() > 50, "the scan found the schemas: {}", seen.len());
}

on_both_backends! {
    fn a_fresh_server_is_healthy_and_ready(database) {
        let server = TestServer::start(&database);
        for path in ["/healthz", "/readyz"] {
            let response = server.get(path);
            assert_eq!(response.status(), 200, "{path}");
            assert!(response.headers().contains_key("x-request-id"), "{path} carries a request id");
            assert_eq!(response.json::<serde_json::Value>().unwrap(), serde_json::json!({"status": "ok"}));
        }
    }

    fn the_server_serves_the_committed_openapi_document(database) {
        let server = TestServer::start(&database);
        let response = server.get("/openapi.json");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().unwrap(), COMMITTED_OPENAPI);
        let printed = kks(&database, &["openapi"]);
        assert_eq!(String::from_utf8_lossy(&printed.stdout), COMMITTED_OPENAPI);
    }

    fn the_docs_page_is_swagger_ui_on_this_servers_document_with_every_file_from_this_server(database) {
        let server = TestServer::start(&database);
        let response = server.get("/docs");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        for directive in ["default-src 'none'", "script-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{directive} in {policy}");
        }
        let page = response.text().unwrap();
        assert!(page.contains("/docs/swagger-ui/swagger-ui-bundle.js") && page.contains("/docs/errors"), "{page}");
        assert!(!page.contains("http://") && !page.contains("https://"), "no asset from another host");
        assert!(server.get("/docs/docs.js").text().unwrap().contains("url: '/openapi.json'"));

        let vendored: [(&str, &str, &[u8]); 5] = [
            ("/docs/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8",
                include_bytes!("../api/assets/swagger-ui/swagger-ui-bundle.js")),
            ("/docs/swagger-ui/swagger-ui.css", "text/css; charset=utf-8", include_bytes!("../api/assets/swagger-ui/swagger-ui.css")),
            ("/docs/swagger-ui/favicon-32x32.png", "image/png", include_bytes!("../api/assets/swagger-ui/favicon-32x32.png")),
            ("/docs/swagger-ui/LICENSE", "text/plain; charset=utf-8", include_bytes!("../api/assets/swagger-ui/LICENSE")),
            ("/docs/errors", "text/html; charset=utf-8", include_bytes!("../api/assets/docs/errors.html")),
        ];
        for (path, content_type, body) in vendored {
            server.assert_serves_file(path, content_type, body);
        }
        let errors_page = server.get("/docs/errors").text().unwrap();
        assert!(errors_page.contains("/docs/errors.js") && !errors_page.contains("<script>"), "no inline script");

        let unknown = server.get("/docs/swagger-ui/index.html");
        assert_eq!((unknown.status().as_u16(), unknown.headers()["content-type"].to_str().unwrap()), (404, "application/problem+json"));
    }

    fn an_unknown_route_answers_problem_json_in_the_clients_language(database) {
        let server = TestServer::start(&database);
        let response = server.get("/no/such/thing");
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = response.json().unwrap();
        assert_eq!(problem["code"], "NOT_FOUND");
        assert_eq!(problem["status"], 404);
        assert_eq!(problem["title"], "Not found");

        let response = server.client.get(server.url("/no/such/thing")).header("Accept-Language", "id-ID").send().unwrap();
        let problem: serde_json::Value = response.json().unwrap();
        assert_eq!((problem["code"].as_str(), problem["title"].as_str()), (Some("NOT_FOUND"), Some("Tidak ditemukan")));
    }

    fn metrics_count_requests_by_route(database) {
        let server = TestServer::start(&database);
        server.get("/healthz");
        let metrics = server.get("/metrics").text().unwrap();
        assert!(
            metrics.contains(r#"kks_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
            "{metrics}"
        );
    }

    fn production_mode_refuses_to_start_without_secrets_or_with_demo_data(database) {
        let output = std::process::Command::new(crate::support::KKS_BINARY)
            .args(["--database", database.url(), "--production", "serve", "--bind", "127.0.0.1:0"])
            .env_remove("KKS_JWT_SECRET")
            .env_remove("KKS_PIN_KEY")
            .env_remove("KKS_ISSUER_KEY")
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("production mode needs KKS_JWT_SECRET"));
        let seeded = kks(&database, &["--production", "seed", "--demo"]);
        assert!(!seeded.status.success(), "no demo data in production mode");
        let short = std::process::Command::new(crate::support::KKS_BINARY)
            .args(["--database", database.url(), "--production", "--jwt-secret", "short", "--pin-key", &"k".repeat(40), "--issuer-key", &"ab".repeat(32), "serve"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&short.stderr).contains("KKS_JWT_SECRET must be at least 32 bytes"));
    }

    fn migrate_is_idempotent(database) {
        for _ in 0..2 {
            let output = kks(&database, &["migrate"]);
            assert!(output.status.success(), "{:?} {}", output.status, String::from_utf8_lossy(&output.stderr));
        }
    }
}

mod test_clock {
    use super::*;

    on_both_backends! {
        fn the_test_clock_moves_only_forward_and_only_when_asked_for(database) {
            let plain = TestServer::start(&database);
            assert_eq!(plain.get("/test-clock").status(), 404, "no test clock without --test-clock");
            drop(plain);

            let server = TestServer::start_with(&database, &["--test-clock"]);
            let read = |server: &TestServer| -> chrono::NaiveDateTime {
                let reading: serde_json::Value = server.get("/test-clock").json().unwrap();
                reading["now"].as_str().unwrap().parse().unwrap()
            };
            let before = read(&server);
            let midnight_wib = (before + chrono::Duration::days(2)).date().and_hms_opt(17, 0, 0).unwrap();
            let moved = server.client.put(server.url("/test-clock")).json(&serde_json::json!({"now": midnight_wib})).send().unwrap();
            assert_eq!(moved.status(), 200);
            assert!(read(&server) >= midnight_wib);
            let back = server.client.put(server.url("/test-clock")).json(&serde_json::json!({"now": before})).send().unwrap();
            crate::support::api::assert_problem(back, 400, "INVALID_REQUEST");
            assert!(read(&server) >= midnight_wib, "a refused move changes nothing");
        }
    }
}

#[test]
fn production_mode_refuses_the_test_clock() {
    let database = crate::support::TestDatabase::sqlite();
    let output = kks(&database, &["--production", "serve", "--test-clock", "--bind", "127.0.0.1:0"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--test-clock is for tests"), "{output:?}");
}
