//! The edge: what every answer carries and what every request may not, whatever the route.

use reqwest::blocking::RequestBuilder;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::api::{another_card_number, assert_problem, transmitted_now, Session};
use crate::support::{on_both_backends, TestServer};

/// Characters no text field accepts: NUL, another C0 control, a line break, DEL, a C1
/// control, a bidirectional override and a bidirectional isolate.
const FORBIDDEN: [char; 7] = ['\0', '\u{1b}', '\n', '\u{7f}', '\u{85}', '\u{202E}', '\u{2066}'];

/// Every JSON operation with a text field, with a body of the right shape: each string in
/// it is poisoned in turn.
fn text_operations(server: &TestServer) -> Vec<(Method, String, Value)> {
    let family = &server.demo().families[0];
    let card = &family.card_number;
    let now = transmitted_now();
    let card_fields = json!({"card": {"card_number": card, "qr": "KKS1.x.y"}, "pin": family.pin, "stan": "000001", "transmitted_at": now});
    let with = |more: Value| {
        let mut body = card_fields.clone();
        body.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
        body
    };
    vec![
        (Method::POST, "/v1/auth/operators/login".into(), json!({"username": "operator.jabar", "password": "secret"})),
        (
            Method::POST,
            "/v1/auth/agents/login".into(),
            json!({"username": "agen.cileunyi", "password": "secret", "terminal_id": "T3204001"}),
        ),
        (Method::POST, "/v1/auth/families/login".into(), json!({"card_number": card, "pin": "123456"})),
        (Method::POST, "/v1/auth/refresh".into(), json!({"refresh_token": "eyJ.x.y"})),
        (Method::POST, "/v1/regions".into(), json!({"code": "32.04.12.2999", "name": "Desa Baru"})),
        (
            Method::POST,
            "/v1/families".into(),
            json!({"nik": "3204125508850099", "recipient_name": "Siti Baru", "address": "Jl. Merdeka 5",
            "village": "32.04.12.2001", "category": "regular", "members": [{"name": "Anak", "component": "school_child", "school_level": "sd"}]}),
        ),
        (Method::POST, "/v1/families/1/cards".into(), json!({"bank": "bri"})),
        (
            Method::POST,
            "/v1/families/1/holds".into(),
            json!({"pocket": "savings", "amount": "1000", "reference": "investigation 7"}),
        ),
        (Method::POST, format!("/v1/cards/{card}/report-lost"), json!({"reason": "lost at the market"})),
        (Method::POST, format!("/v1/cards/{card}/replace"), json!({"reason": "damaged"})),
        (Method::POST, "/v1/cards/check-qr".into(), json!({"qr": "KKS1.x.y"})),
        (Method::PUT, format!("/v1/cards/{card}/pin"), json!({"old_pin": "123456", "new_pin": "654321"})),
        (Method::POST, format!("/v1/cards/{card}/pin-reset"), json!({"reason": "forgotten", "new_pin": "654321"})),
        (Method::POST, "/v1/edc/balance-inquiries".into(), card_fields.clone()),
        (Method::POST, "/v1/edc/cash-withdrawals".into(), with(json!({"amount": "1000"}))),
        (Method::POST, "/v1/edc/wallet-to-savings".into(), with(json!({"amount": "1000"}))),
        (
            Method::POST,
            "/v1/edc/purchases".into(),
            with(json!({"programme": "bpnt", "basket": [{"sku": "beras-5kg", "quantity": 1}]})),
        ),
        (Method::POST, "/v1/edc/reversals".into(), json!({"original_stan": "000001", "original_transmitted_at": now})),
        (
            Method::POST,
            "/v1/benefit-schedules".into(),
            json!({"year": 2030, "programme": "pkh", "category": "regular"}),
        ),
        (
            Method::POST,
            "/v1/disbursements".into(),
            json!({"programme": "pkh", "year": 2017, "period": 2, "region": "32"}),
        ),
        (
            Method::POST,
            "/v1/verifications".into(),
            json!({"family_id": 1, "cycle": "2017-2", "complied": true, "obligation": "school_attendance"}),
        ),
        (Method::POST, "/v1/facilitators".into(), json!({"name": "Pendamping", "villages": ["32.04.12.2001"]})),
        (Method::POST, "/v1/monitoring/families/search".into(), json!({"q": "aminah", "region": "32"})),
    ]
}

/// Every variant of `body` with one of its strings (at any depth) carrying `character`.
fn poisoned(body: &Value, character: char) -> Vec<Value> {
    fn walk(value: &Value, character: char, out: &mut Vec<Value>, rebuild: &dyn Fn(Value) -> Value) {
        match value {
            Value::String(text) => out.push(rebuild(Value::String(format!("{text}{character}x")))),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let rebuild_item = |replacement: Value| {
                        let mut items = items.clone();
                        items[index] = replacement;
                        rebuild(Value::Array(items))
                    };
                    walk(item, character, out, &rebuild_item);
                }
            }
            Value::Object(fields) => {
                for (name, item) in fields {
                    let rebuild_field = |replacement: Value| {
                        let mut fields = fields.clone();
                        fields.insert(name.clone(), replacement);
                        rebuild(Value::Object(fields))
                    };
                    walk(item, character, out, &rebuild_field);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, character, &mut out, &|value| value);
    out
}

fn counts(database: &crate::support::TestDatabase) -> (i64, usize) {
    let store = database.store();
    let journals = kks_api::service::ledger_check::verify_ledger(&store).unwrap().journals;
    let (mut audit, mut after) = (0, 0);
    loop {
        let page = store.read(|tx| kks_api::store::audit::find_page(tx, None, None, None, after, 200)).unwrap();
        let Some(last) = page.last() else { return (journals, audit) };
        after = last.id;
        audit += page.len();
    }
}

fn send(session: &Session, method: Method, path: &str) -> RequestBuilder {
    session
        .authorized(session.server.client.request(method, session.server.url(path)))
        .header("Idempotency-Key", "edge-1")
}

const FAMILY_LOGIN: &str = "/v1/auth/families/login";

on_both_backends! {
    fn control_and_bidirectional_characters_in_any_text_are_refused_and_change_nothing(database) {
        let server = TestServer::start_with(&database, &["--login-attempts-per-minute", "100000"]);
        let admin = Session::operator(&server, "admin");
        let before = counts(&database);
        let mut checked = 0;
        for (method, path, body) in text_operations(&server) {
            for character in FORBIDDEN {
                for variant in poisoned(&body, character) {
                    let response = send(&admin, method.clone(), &path).json(&variant).send().unwrap();
                    let problem = assert_problem(response, 400, "CHARACTER_NOT_ALLOWED");
                    assert!(problem["detail"].as_str().unwrap().contains(&format!("U+{:04X}", u32::from(character))), "{problem}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked} requests");
        // The query string, the path and an uploaded CSV file are text too.
        for path in ["/v1/regions?parent=32%00", "/v1/audit-events?actor=operator%E2%80%AE7", "/v1/cards/5221843673963604%00",
                     "/v1/monitoring/families?region=32%1b"] {
            assert_problem(admin.get(path), 400, "CHARACTER_NOT_ALLOWED");
        }
        let csv = admin.authorized(server.client.post(server.url("/v1/verifications/2017-2/csv")))
            .header("content-type", "text/csv").body("family_id,complied\n1,yes\u{0}\n").send().unwrap();
        assert_problem(csv, 400, "CHARACTER_NOT_ALLOWED");
        // A body over the JSON limit is still refused for its size, as problem+json.
        let huge_json = admin.authorized(server.client.post(server.url("/v1/families")))
            .header("content-type", "application/json").body(vec![b' '; 100 * 1024]).send().unwrap();
        assert_problem(huge_json, 413, "PAYLOAD_TOO_LARGE");
        // The famous one: a NUL in a user name, without a token, on PostgreSQL too.
        let login = server.post("/v1/auth/operators/login", &json!({"username": "operator\u{0}jabar", "password": "x"}));
        assert_problem(login, 400, "CHARACTER_NOT_ALLOWED");
        let indonesian = server.client.post(server.url("/v1/auth/agents/login")).header("accept-language", "id")
            .json(&json!({"username": "agen\u{202E}", "password": "x", "terminal_id": "T"})).send().unwrap();
        let problem = assert_problem(indonesian, 400, "CHARACTER_NOT_ALLOWED");
        assert!(problem["title"].as_str().unwrap().starts_with("Hapus"), "{problem}");
        assert_eq!(counts(&database), before, "nothing was posted or audited");
    }

    fn answers_carry_the_security_headers(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let login = server.post("/v1/auth/families/login", &json!({"card_number": family.card_number, "pin": family.pin}));
        assert_eq!(login.status(), 200);
        for response in [login, server.get("/v1/me"), server.get("/healthz"), server.get("/openapi.json")] {
            assert_eq!(response.headers()["x-content-type-options"], "nosniff");
            assert_eq!(response.headers()["referrer-policy"], "no-referrer");
            assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
            if response.url().path().starts_with("/v1/") {
                assert_eq!(response.headers()["cache-control"], "no-store", "{}", response.url());
            }
        }
        for page in ["/dashboard", "/docs", "/app/"] {
            let response = server.get(page);
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["x-frame-options"], "DENY");
            let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
            assert!(policy.starts_with("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
        }
        assert!(!server.get("/dashboard").headers()["content-security-policy"].to_str().unwrap().contains("unsafe-inline"));
    }

    fn token_refusals_say_what_to_do_and_paging_out_of_range_is_refused(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        // A different last character of the signature; one fixed letter would equal the real one in one token of sixteen.
        let mut forged = operator.access_token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'Q' } else { 'A' });
        for token in [forged.as_str(), "not-a-token", "a.b.c", operator.refresh_token.as_str()] {
            let response = server.client.get(server.url("/v1/me")).bearer_auth(token).send().unwrap();
            let problem = assert_problem(response, 401, "UNAUTHENTICATED");
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains("access token") && (detail.contains("sign in again") || detail.contains("send the access token")), "{detail}");
            for internal in ["InvalidSignature", "Base64", "InvalidToken", "Json", "a access"] {
                assert!(!detail.contains(internal), "{detail}");
            }
        }
        let refresh = server.post("/v1/auth/refresh", &json!({"refresh_token": operator.access_token}));
        let problem = assert_problem(refresh, 401, "UNAUTHENTICATED");
        assert!(problem["detail"].as_str().unwrap().starts_with("an access token was sent where a refresh token is needed"), "{problem}");
        let admin = Session::operator(&server, "admin");
        for path in ["/v1/audit-events?limit=-5", "/v1/audit-events?limit=0", "/v1/audit-events?limit=201", "/v1/audit-events?after=-1",
                     "/v1/monitoring/families?limit=-5", "/v1/monitoring/agents?limit=501",
                     "/v1/operators?limit=0", "/v1/operators?after=-1", "/v1/agents?limit=201", "/v1/agents?after=-1"] {
            assert_problem(admin.get(path), 400, "PAGING_INVALID");
        }
    }

    fn a_malformed_idempotency_key_is_told_apart_from_a_missing_one(database) {
        let server = TestServer::start(&database);
        let agent = Session::agent(&server, "agen.cileunyi");
        let post = |key: Option<&[u8]>| {
            let mut request = agent.authorized(server.client.post(server.url("/v1/edc/balance-inquiries")));
            if let Some(key) = key {
                request = request.header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes(key).unwrap());
            }
            request.json(&json!({"card": {"card_number": "5221843673963604"}, "pin": "123456", "stan": "000001",
                "transmitted_at": transmitted_now()})).send().unwrap()
        };
        assert_problem(post(None), 400, "IDEMPOTENCY_KEY_MISSING");
        let keys: [&[u8]; 4] = ["kunci-é".as_bytes(), b"", &[b'x'; 129], b"two words"];
        for key in keys {
            assert_problem(post(Some(key)), 400, "IDEMPOTENCY_KEY_INVALID");
        }
    }

    fn remote_guessing_neither_tells_which_cards_exist_nor_locks_the_card_at_the_agent(database) {
        let server = TestServer::start_with(&database, &["--test-clock", "--login-attempts-per-minute", "1000"]);
        let family = server.demo().families[0].clone();
        let wrong_pin = if family.pin == "000000" { "111111" } else { "000000" };
        let unknown_card = another_card_number(&family.card_number, 987_654_321);
        let wrong = json!({"card_number": family.card_number, "pin": wrong_pin});
        let right = json!({"card_number": family.card_number, "pin": family.pin});
        let as_unknown = assert_problem(server.post(FAMILY_LOGIN, &json!({"card_number": unknown_card, "pin": family.pin})), 401, "WRONG_CARD_OR_PIN");
        let as_wrong = assert_problem(server.post(FAMILY_LOGIN, &wrong), 401, "WRONG_CARD_OR_PIN");
        assert_eq!(as_unknown, as_wrong, "an unknown card and a wrong PIN get the same answer");
        // Three failures on a card are free; the fourth makes the next attempt wait 30 s,
        // the right PIN included.
        for _ in 0..3 {
            assert_problem(server.post(FAMILY_LOGIN, &wrong), 401, "WRONG_CARD_OR_PIN");
        }
        let throttled = server.post(FAMILY_LOGIN, &right);
        assert_eq!(throttled.headers()["retry-after"], "30");
        assert_problem(throttled, 429, "TOO_MANY_REQUESTS");
        // The card's PIN counter is the terminal's, untouched: the family is served at the agent.
        let terminal = crate::support::api::Terminal::of(&server, "agen.cileunyi");
        let inquiry = terminal.send("/v1/edc/balance-inquiries", json!({"card": {"card_number": family.card_number}, "pin": family.pin}));
        assert_eq!(inquiry.status(), 200, "{}", inquiry.text().unwrap());
        let card_number = kks_api::domain::card::CardNumber::parse(&family.card_number).unwrap();
        let card = database.store().read(|tx| kks_api::store::cards::find_by_number(tx, &card_number)).unwrap().unwrap();
        assert_eq!((card.pin_failed_attempts, card.pin_locked_at), (0, None));
        // After the wait, another wrong PIN doubles it; after that one, the right PIN logs in.
        server.set_clock(server.clock() + chrono::Duration::seconds(30));
        assert_problem(server.post(FAMILY_LOGIN, &wrong), 401, "WRONG_CARD_OR_PIN");
        let throttled = server.post(FAMILY_LOGIN, &right);
        assert_eq!(throttled.headers()["retry-after"], "60");
        server.set_clock(server.clock() + chrono::Duration::seconds(60));
        assert_eq!(server.post(FAMILY_LOGIN, &right).status(), 200);
        assert_problem(server.post(FAMILY_LOGIN, &wrong), 401, "WRONG_CARD_OR_PIN");
    }

    fn one_client_guessing_many_cards_is_slowed_down_too(database) {
        let server = TestServer::start_with(&database, &["--test-clock", "--login-attempts-per-minute", "1000"]);
        let family = server.demo().families[0].clone();
        for serial in 0..11 {
            let guess = json!({"card_number": another_card_number(&family.card_number, 500_000_000 + serial), "pin": "123456"});
            assert_problem(server.post(FAMILY_LOGIN, &guess), 401, "WRONG_CARD_OR_PIN");
        }
        let right = json!({"card_number": family.card_number, "pin": family.pin});
        assert_problem(server.post(FAMILY_LOGIN, &right), 429, "TOO_MANY_REQUESTS");
        server.set_clock(server.clock() + chrono::Duration::seconds(30));
        assert_eq!(server.post(FAMILY_LOGIN, &right).status(), 200);
    }

    fn forwarded_addresses_count_only_from_a_trusted_proxy(database) {
        let direct = TestServer::start_with(&database, &["--login-attempts-per-minute", "3"]);
        let body = json!({"username": "admin", "password": "wrong password"});
        let from = |server: &TestServer, address: &str| {
            server.client.post(server.url("/v1/auth/operators/login")).header("x-forwarded-for", address).json(&body).send().unwrap()
        };
        for address in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
            assert_eq!(from(&direct, address).status(), 401);
        }
        assert_problem(from(&direct, "198.51.100.4"), 429, "TOO_MANY_REQUESTS");
        drop(direct);
        let proxied = TestServer::start_with(&database, &["--login-attempts-per-minute", "3", "--trusted-proxies", "127.0.0.1,::1"]);
        for _ in 0..3 {
            assert_eq!(from(&proxied, "198.51.100.1").status(), 401);
        }
        assert_problem(from(&proxied, "198.51.100.1"), 429, "TOO_MANY_REQUESTS");
        assert_eq!(from(&proxied, "198.51.100.2").status(), 401, "another client behind the proxy has its own allowance");
        let forwarded = proxied.client.post(proxied.url("/v1/auth/operators/login"))
            .header("forwarded", "for=198.51.100.3;proto=https").json(&body).send().unwrap();
        assert_eq!(forwarded.status(), 401);
    }

    fn browsers_on_allowed_origins_get_cors_and_others_do_not(database) {
        let closed = TestServer::start(&database);
        let allowed = "https://app.example.id";
        let response = closed.client.get(closed.url("/v1/me")).header("origin", allowed).send().unwrap();
        assert!(response.headers().get("access-control-allow-origin").is_none(), "none allowed by default");
        drop(closed);
        let server = TestServer::start_with(&database, &["--cors-origins", "https://app.example.id, http://localhost:3000"]);
        let preflight = |origin: &str| {
            server.client.request(Method::OPTIONS, server.url("/v1/edc/cash-withdrawals"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, content-type, idempotency-key")
                .send().unwrap()
        };
        let answer = preflight(allowed);
        assert!(answer.status().is_success(), "{}", answer.status());
        assert_eq!(answer.headers()["access-control-allow-origin"], allowed);
        let headers = answer.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
        for header in ["authorization", "content-type", "idempotency-key"] {
            assert!(headers.contains(header), "{headers}");
        }
        assert!(answer.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
        let refused = preflight("https://evil.example");
        assert!(refused.headers().get("access-control-allow-origin").is_none());
        let login = server.client.post(server.url("/v1/auth/operators/login")).header("origin", allowed)
            .json(&json!({"username": "admin", "password": "wrong password"})).send().unwrap();
        assert_eq!(login.headers()["access-control-allow-origin"], allowed);
        let exposed = login.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
        assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"), "{exposed}");
        let foreign = server.client.get(server.url("/v1/me")).header("origin", "https://evil.example").send().unwrap();
        assert_eq!(foreign.status(), 401, "served, but without CORS headers the browser keeps it from the page");
        assert!(foreign.headers().get("access-control-allow-origin").is_none());
    }

    fn the_request_log_holds_no_card_number_nik_name_pin_or_token(database) {
        let folder = tempfile::tempdir().unwrap();
        let log = folder.path().join("kks.log");
        let server = TestServer::start_logging_to(&database, &[], &log);
        let demo = server.demo().clone();
        let family = demo.families_in("32")[0].clone();
        let operator = Session::operator(&server, "operator.jabar");
        let profile: Value = operator.get(&format!("/v1/families/{}", family.family_id)).json().unwrap();
        let (nik, name) = (profile["nik"].as_str().unwrap().to_owned(), profile["recipient_name"].as_str().unwrap().to_owned());
        let holder = Session::family(&server, &family);
        for path in [format!("/v1/cards/{}", family.card_number), format!("/v1/cards/{}/history", family.card_number), format!("/v1/cards/{}/image.png", family.card_number)] {
            assert_eq!(operator.get(&path).status(), 200, "{path}");
        }
        assert_eq!(holder.get(&format!("/v1/families/{}/balances", family.family_id)).status(), 200);
        for q in [nik.as_str(), name.as_str()] {
            assert_eq!(operator.post("/v1/monitoring/families/search", &json!({"q": q})).status(), 200);
        }
        let terminal = crate::support::api::Terminal::of(&server, "agen.cileunyi");
        terminal.send("/v1/edc/balance-inquiries", json!({"card": {"card_number": family.card_number}, "pin": family.pin}));
        server.post(FAMILY_LOGIN, &json!({"card_number": family.card_number, "pin": "000000"}));
        drop(terminal);
        let (access_token, refresh_token) = (holder.access_token.clone(), holder.refresh_token.clone());
        drop(holder);
        drop(operator);
        drop(server);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("/v1/cards/{card_number}/history"), "the route pattern is logged:\n{text}");
        let masked = format!("{}******{}", &family.card_number[..6], &family.card_number[12..]);
        assert!(text.contains(&masked), "the masked card number is logged:\n{text}");
        for secret in [family.card_number.as_str(), nik.as_str(), name.as_str(), access_token.as_str(), refresh_token.as_str()] {
            assert!(!text.contains(secret), "{secret} is in the log:\n{text}");
        }
        // A PIN as a value of its own (timestamps carry six-digit fractions: `.123456`).
        for (at, _) in text.match_indices(family.pin.as_str()) {
            assert_eq!(text[..at].chars().last(), Some('.'), "the PIN is in the log:\n{text}");
        }
    }
}
