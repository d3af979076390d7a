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

    fn the_docs_page_is_served_without_outside_assets(database) {
        let server = TestServer::start(&database);
        let response = server.get("/docs");
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = response.text().unwrap();
        assert!(page.contains("/openapi.json"));
        assert!(!page.contains("http://") && !page.contains("https://"), "no asset from another host");
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
