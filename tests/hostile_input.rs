//! Hostile input over HTTP: every bad request is a 4xx problem+json, and nothing changes.

use serde_json::{json, Value};

use crate::support::api::{assert_problem, keyed, transmitted_now, with, Session, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

fn journal_count(database: &crate::support::TestDatabase) -> i64 {
    kks_api::service::ledger_check::verify_ledger(&database.store()).unwrap().journals
}

on_both_backends! {
    fn malformed_oversized_and_mistyped_bodies_are_refused_and_change_nothing(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let before = journal_count(&database);
        let post_raw = |content_type: &str, body: Vec<u8>| {
            agent.session.authorized(server.client.post(server.url("/v1/edc/cash-withdrawals")))
                .header("Idempotency-Key", format!("raw-{}", rand::random::<u32>()))
                .header("content-type", content_type)
                .body(body)
                .send()
                .unwrap()
        };
        let valid = with(keyed(&family), json!({"amount": "1000", "stan": "000001", "transmitted_at": transmitted_now()})).to_string();
        assert_problem(post_raw("application/json", vec![b'{'; 100 * 1024]), 413, "PAYLOAD_TOO_LARGE");
        assert_problem(post_raw("text/plain", valid.clone().into_bytes()), 415, "UNSUPPORTED_MEDIA_TYPE");
        assert_problem(post_raw("application/json", b"{\"card\": ".to_vec()), 400, "INVALID_REQUEST");
        assert_problem(post_raw("application/json", vec![0xff, 0xfe, 0x7b, 0x7d]), 400, "INVALID_REQUEST");
        let mut unknown = serde_json::from_str::<Value>(&valid).unwrap();
        unknown["fee"] = json!("0");
        assert_problem(post_raw("application/json", unknown.to_string().into_bytes()), 400, "INVALID_REQUEST");
        for (index, amount) in [json!("-1000"), json!("0"), json!("1000.001"), json!("1e6"), json!(1000), json!("99999999999999999999999"), json!("Rp 1.000")].into_iter().enumerate() {
            let body = with(keyed(&family), json!({"amount": amount, "stan": "000002"}));
            let response = agent.send_with("/v1/edc/cash-withdrawals", "000002", &format!("amount-{index}"), body);
            assert_problem(response, 400, "INVALID_REQUEST");
        }
        for (stan, pin) in [("12345", family.pin.as_str()), ("000003", "12a456"), ("000003", "1234567")] {
            let body = json!({"card": {"card_number": family.card_number}, "pin": pin, "stan": stan, "amount": "1000",
                "transmitted_at": transmitted_now()});
            let response = agent.session.authorized(server.client.post(server.url("/v1/edc/cash-withdrawals")))
                .header("Idempotency-Key", format!("bad-{stan}-{pin}")).json(&body).send().unwrap();
            assert_problem(response, 400, "INVALID_REQUEST");
        }
        let mut untimed = serde_json::from_str::<Value>(&valid).unwrap();
        untimed.as_object_mut().unwrap().remove("transmitted_at");
        assert_problem(post_raw("application/json", untimed.to_string().into_bytes()), 400, "INVALID_REQUEST");
        for transmitted_at in [json!("2026-12-04T23:59:53"), json!("2026-12-04"), json!("now"), json!(""), json!(1_764_867_593)] {
            let mut body = serde_json::from_str::<Value>(&valid).unwrap();
            body["transmitted_at"] = transmitted_at;
            assert_problem(post_raw("application/json", body.to_string().into_bytes()), 400, "INVALID_REQUEST");
        }
        let reverse_raw = |body: Value| {
            agent.session.authorized(server.client.post(server.url("/v1/edc/reversals")))
                .header("Idempotency-Key", format!("reversal-{}", rand::random::<u32>())).json(&body).send().unwrap()
        };
        assert_problem(reverse_raw(json!({"original_stan": "000001"})), 400, "INVALID_REQUEST");
        assert_problem(reverse_raw(json!({"original_stan": "000001", "original_transmitted_at": "2026-12-04T23:59:53"})), 400, "INVALID_REQUEST");
        assert_problem(reverse_raw(json!({"original_stan": "1", "original_transmitted_at": transmitted_now()})), 400, "INVALID_REQUEST");
        let response = agent.session.authorized(server.client.post(server.url("/v1/edc/balance-inquiries")))
            .header("Idempotency-Key", "x".repeat(200))
            .json(&with(keyed(&family), json!({"stan": "000004", "transmitted_at": transmitted_now()}))).send().unwrap();
        assert_problem(response, 400, "IDEMPOTENCY_KEY_INVALID");
        assert_eq!(journal_count(&database), before, "nothing was posted");
        assert_ledger_clean(&database.store());
    }

    fn a_verification_csv_without_its_header_is_refused_whole(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let family = server.demo().families[0].family_id;
        for body in [format!("{family},yes,,\n"), "{\"family_id\": 1}".to_owned(), String::new()] {
            let response = operator
                .authorized(server.client.post(server.url("/v1/verifications/2017-2/csv")))
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .unwrap();
            assert_problem(response, 400, "INVALID_REQUEST");
        }
        let closed: Value = Session::operator(&server, "supervisor.jabar").post("/v1/cycles/2017-2/close", &json!({})).json().unwrap();
        assert_eq!(closed["suspended"], 0, "nothing was recorded: {closed}");
    }

    fn unknown_methods_are_405_with_allow_and_a_forged_token_is_401_before_the_body_is_read(database) {
        let server = TestServer::start(&database);
        for (method, path, allow) in [("DELETE", "/v1/regions", "GET, POST"), ("TRACE", "/v1/me", "GET"), ("PUT", "/healthz", "GET"), ("PATCH", "/v1/cards/check-qr", "POST")] {
            let response = server.client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), server.url(path)).send().unwrap();
            let allowed = response.headers().get("allow").and_then(|value| value.to_str().ok()).map(str::to_owned);
            assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
            assert_problem(response, 405, "METHOD_NOT_ALLOWED");
        }
        assert_problem(server.get("/v1/no-such-thing"), 404, "NOT_FOUND");
        // A bad body, a bad query and a missing Idempotency-Key are not looked at for a forged token.
        let forged = server.client.post(server.url("/v1/disbursements")).bearer_auth("not.a.token").json(&json!({})).send().unwrap();
        assert_problem(forged, 401, "UNAUTHENTICATED");
        let forged = server.client.get(server.url("/v1/benefit-schedules")).bearer_auth("not.a.token").send().unwrap();
        assert_problem(forged, 401, "UNAUTHENTICATED");
        let forged = server.client.post(server.url("/v1/edc/cash-withdrawals")).bearer_auth("not.a.token").json(&json!({})).send().unwrap();
        assert_problem(forged, 401, "UNAUTHENTICATED");
    }

    fn injection_looking_text_is_data_and_paging_is_bounded(database) {
        let server = TestServer::start(&database);
        let login = server.post("/v1/auth/operators/login", &json!({"username": "admin' OR '1'='1", "password": "' OR 1=1 --"}));
        assert_problem(login, 401, "WRONG_CREDENTIALS");
        let operator = Session::operator(&server, "operator.jabar");
        let name = "Robert'); DROP TABLE families;--";
        let family: Value = operator.post("/v1/families", &json!({"nik": "3204126208920005", "recipient_name": name,
            "address": "<script>alert(1)</script>", "village": "32.04.12.2001", "category": "regular",
            "members": [{"name": "Anak", "component": "child_under_six"}]})).json().unwrap();
        assert_eq!(family["recipient_name"], name, "stored as written, nothing executed");
        let again: Value = operator.get(&format!("/v1/families/{}", family["id"])).json().unwrap();
        assert_eq!(again["address"], "<script>alert(1)</script>");
        assert_problem(operator.get("/v1/families/not-a-number"), 400, "INVALID_REQUEST");
        assert_problem(operator.get("/v1/families/99999999999999999999999"), 400, "INVALID_REQUEST");
        let agent = Terminal::of(&server, "agen.cileunyi");
        for query in ["limit=1000000000", "limit=0", "after=-5&limit=-3"] {
            assert_problem(agent.session.get(&format!("/v1/edc/transactions?{query}")), 400, "PAGING_INVALID");
        }
        assert_eq!(agent.session.get("/v1/edc/transactions?after=9223372036854775807").status(), 200);
        assert_problem(agent.session.get("/v1/edc/transactions?date=2017-02-31"), 400, "INVALID_REQUEST");
        assert_problem(agent.session.get("/v1/edc/transactions?date=yesterday"), 400, "INVALID_REQUEST");
        assert_problem(agent.session.get("/v1/edc/transactions?unknown=1"), 400, "INVALID_REQUEST");
        assert_ledger_clean(&database.store());
    }
}
