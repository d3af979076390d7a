//! The family app at `/app/`: its page, script, style sheet, service worker, manifest and
//! icons come from this server, with their types and security headers. The walk through the
//! app in a browser, offline included, is `tests/browser/family_app.py`.

use reqwest::redirect::Policy;

use crate::support::{on_both_backends, TestServer};

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Every file of the app, as embedded.
const FILES: [(&str, &str, &[u8]); 7] = [
    ("/app/", HTML, include_bytes!("../api/assets/app/index.html")),
    ("/app/app.js", JAVASCRIPT, include_bytes!("../api/assets/app/app.js")),
    ("/app/app.css", "text/css; charset=utf-8", include_bytes!("../api/assets/app/app.css")),
    ("/app/sw.js", JAVASCRIPT, include_bytes!("../api/assets/app/sw.js")),
    (
        "/app/manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../api/assets/app/manifest.webmanifest"),
    ),
    ("/app/icon-192.png", "image/png", include_bytes!("../api/assets/app/icon-192.png")),
    ("/app/icon-512.png", "image/png", include_bytes!("../api/assets/app/icon-512.png")),
];

on_both_backends! {
    fn the_family_app_comes_from_this_server_with_its_types_and_policies(database) {
        let server = TestServer::start(&database);
        for (path, content_type, body) in FILES {
            server.assert_serves_file(path, content_type, body);
        }

        // `/app` leads into the service worker's scope, `/app/`.
        let client = reqwest::blocking::Client::builder().redirect(Policy::none()).build().unwrap();
        let moved = client.get(server.url("/app")).send().unwrap();
        assert_eq!((moved.status().as_u16(), moved.headers()["location"].to_str().unwrap()), (308, "/app/"));

        let page = server.assert_serves_file("/app/", HTML, FILES[0].2);
        assert_eq!(page["x-frame-options"], "DENY");
        let policy = page["content-security-policy"].to_str().unwrap();
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
            "manifest-src 'self'", "worker-src 'self'", "form-action 'none'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{directive} in {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let html = String::from_utf8_lossy(FILES[0].2);
        assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
        for (_, _, body) in FILES.iter().filter(|(path, ..)| !path.ends_with(".png")) {
            let text = String::from_utf8_lossy(body);
            assert!(!text.contains("http://") && !text.contains("https://"), "nothing from another host");
        }

        // A worker runs under the policy its script came with: it fetches from this server only.
        let worker = server.assert_serves_file("/app/sw.js", JAVASCRIPT, FILES[3].2);
        assert_eq!(worker["content-security-policy"], "default-src 'none'; connect-src 'self'; frame-ancestors 'none'");
        assert_eq!(worker["cache-control"], "no-cache", "a new worker is found at the next visit");

        let manifest: serde_json::Value = server.get("/app/manifest.webmanifest").json().unwrap();
        assert_eq!((manifest["start_url"].as_str(), manifest["scope"].as_str()), (Some("/app/"), Some("/app/")));
        assert_eq!(manifest["lang"], "id");
        for icon in manifest["icons"].as_array().unwrap() {
            assert!(FILES.iter().any(|(path, ..)| icon["src"] == *path), "{icon} is served");
        }

        let unknown = server.get("/app/index.html");
        assert_eq!((unknown.status().as_u16(), unknown.headers()["content-type"].to_str().unwrap()), (404, "application/problem+json"));
    }
}
