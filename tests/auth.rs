//! Authentication and access control over HTTP: who can log in, which tokens are
//! refused, PIN lockout, and what each role may do.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session, Terminal};
use crate::support::server::TEST_JWT_SECRET;
use crate::support::{on_both_backends, TestServer};

/// Claims like a real operator token's, to be bent by the attacks below.
fn operator_claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": "operator:1", "role": "admin", "iss": "kks", "aud": "kks-api", "exp": now + 600, "iat": now,
           "jti": "forged", "ver": 0, "typ": "access"})
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn me_with(server: &TestServer, authorization: &str) -> reqwest::blocking::Response {
    server.client.get(server.url("/v1/me")).header("Authorization", authorization).send().unwrap()
}

on_both_backends! {
    fn every_role_logs_in_and_is_told_who_it_is(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let me: Value = Session::operator(&server, "operator.jabar").get("/v1/me").json().unwrap();
        assert_eq!((me["role"].as_str(), me["region"].as_str()), (Some("operator"), Some("32")));
        let me: Value = Session::operator(&server, "admin").get("/v1/me").json().unwrap();
        assert_eq!((me["role"].as_str(), me.get("region")), (Some("admin"), None));
        let me: Value = Session::agent(&server, "agen.cileunyi").get("/v1/me").json().unwrap();
        assert_eq!((me["role"].as_str(), me["terminal_id"].as_str()), (Some("agent"), Some("T3204001")));
        let family = &demo.families[0];
        let me: Value = Session::family(&server, family).get("/v1/me").json().unwrap();
        assert_eq!((me["role"].as_str(), me["family_id"].as_i64()), (Some("family"), Some(family.family_id)));
    }

    fn wrong_passwords_and_unknown_users_are_refused_alike(database) {
        let server = TestServer::start(&database);
        let wrong = server.post("/v1/auth/operators/login", &json!({"username": "admin", "password": "not the password"}));
        let unknown = server.post("/v1/auth/operators/login", &json!({"username": "nobody", "password": "whatever"}));
        let wrong = assert_problem(wrong, 401, "WRONG_CREDENTIALS");
        let unknown = assert_problem(unknown, 401, "WRONG_CREDENTIALS");
        assert_eq!(wrong["detail"], unknown["detail"], "the answer does not tell which users exist");
        let unknown_field = server.post("/v1/auth/operators/login", &json!({"username": "admin", "password": "x", "role": "admin"}));
        assert_problem(unknown_field, 400, "INVALID_REQUEST");
    }

    fn an_agent_logs_in_only_on_its_own_terminal(database) {
        let server = TestServer::start(&database);
        let agent = server.demo().agent("agen.cileunyi").clone();
        let other_terminal = server.demo().agent("agen.sekayu").terminal_id.clone();
        let body = json!({"username": agent.username, "password": agent.password, "terminal_id": other_terminal});
        assert_problem(server.post("/v1/auth/agents/login", &body), 403, "TERMINAL_NOT_ALLOWED");
    }

    fn forged_expired_and_misaddressed_tokens_are_refused(database) {
        let server = TestServer::start(&database);
        // Sanity: a token we sign with the server's secret for a real operator works,
        // so every refusal below is the attack's doing.
        assert_eq!(me_with(&server, &format!("Bearer {}", sign(&operator_claims(), Algorithm::HS256, TEST_JWT_SECRET))).status(), 200);

        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = engine.encode(operator_claims().to_string());
        let alg_none = format!("{}.{payload}.", engine.encode(r#"{"alg":"none","typ":"JWT"}"#));
        let mut expired = operator_claims();
        expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
        let mut wrong_audience = operator_claims();
        wrong_audience["aud"] = json!("another-api");
        let mut wrong_issuer = operator_claims();
        wrong_issuer["iss"] = json!("someone-else");
        let mut refresh_as_access = operator_claims();
        refresh_as_access["typ"] = json!("refresh");
        let genuine = sign(&operator_claims(), Algorithm::HS256, TEST_JWT_SECRET);
        let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
        let mut tampered_claims = operator_claims();
        tampered_claims["sub"] = json!("operator:2");
        parts[1] = engine.encode(tampered_claims.to_string());
        let tampered = parts.join(".");

        let attacks = [
            ("alg none", format!("Bearer {alg_none}")),
            ("another key", format!("Bearer {}", sign(&operator_claims(), Algorithm::HS256, "an attacker's secret of some length"))),
            ("another algorithm", format!("Bearer {}", sign(&operator_claims(), Algorithm::HS512, TEST_JWT_SECRET))),
            ("expired", format!("Bearer {}", sign(&expired, Algorithm::HS256, TEST_JWT_SECRET))),
            ("wrong audience", format!("Bearer {}", sign(&wrong_audience, Algorithm::HS256, TEST_JWT_SECRET))),
            ("wrong issuer", format!("Bearer {}", sign(&wrong_issuer, Algorithm::HS256, TEST_JWT_SECRET))),
            ("refresh token", format!("Bearer {}", sign(&refresh_as_access, Algorithm::HS256, TEST_JWT_SECRET))),
            ("tampered payload", format!("Bearer {tampered}")),
            ("not a token", "Bearer not.a.token".to_owned()),
            ("basic scheme", "Basic YWRtaW46YWRtaW4=".to_owned()),
            ("empty bearer", "Bearer ".to_owned()),
        ];
        for (attack, header) in attacks {
            let response = me_with(&server, &header);
            assert_eq!(response.status(), 401, "{attack}");
            assert!(response.headers().contains_key("www-authenticate"), "{attack}");
            assert_problem(response, 401, "UNAUTHENTICATED");
        }
        assert_problem(server.get("/v1/me"), 401, "UNAUTHENTICATED");
    }

    fn refresh_gives_new_tokens_and_logout_revokes_every_token(database) {
        let server = TestServer::start(&database);
        let session = Session::operator(&server, "supervisor.jabar");
        let refreshed: Value = server.post("/v1/auth/refresh", &json!({"refresh_token": session.refresh_token})).json().unwrap();
        let new_access = refreshed["access_token"].as_str().unwrap().to_owned();
        assert_eq!(me_with(&server, &format!("Bearer {new_access}")).status(), 200);
        assert_problem(
            server.post("/v1/auth/refresh", &json!({"refresh_token": session.access_token})),
            401,
            "UNAUTHENTICATED",
        );

        assert_eq!(session.post("/v1/auth/logout", &json!({})).status(), 204);
        assert_problem(me_with(&server, &format!("Bearer {}", session.access_token)), 401, "TOKEN_REVOKED");
        assert_problem(me_with(&server, &format!("Bearer {new_access}")), 401, "TOKEN_REVOKED");
        assert_problem(
            server.post("/v1/auth/refresh", &json!({"refresh_token": session.refresh_token})),
            401,
            "TOKEN_REVOKED",
        );
        // A new login works again.
        assert_eq!(Session::operator(&server, "supervisor.jabar").get("/v1/me").status(), 200);
    }

    fn twenty_parallel_wrong_pins_at_a_terminal_count_exactly_three_and_the_lock_survives_a_restart(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let wrong_pin = if family.pin == "000000" { "111111" } else { "000000" };
        let terminal = Terminal::of(&server, "agen.cileunyi");
        let body = json!({"card": {"card_number": family.card_number}, "pin": wrong_pin});
        let codes: Vec<String> = std::thread::scope(|scope| {
            let attempts: Vec<_> = (0..20)
                .map(|_| scope.spawn(|| terminal.send("/v1/edc/balance-inquiries", body.clone()).json::<Value>().unwrap()["code"].as_str().unwrap().to_owned()))
                .collect();
            attempts.into_iter().map(|attempt| attempt.join().unwrap()).collect()
        });
        assert_eq!(codes.iter().filter(|code| *code == "WRONG_PIN").count(), 2, "{codes:?}");
        assert_eq!(codes.iter().filter(|code| *code == "PIN_LOCKED").count(), 18, "{codes:?}");
        let card_number = kks_api::domain::card::CardNumber::parse(&family.card_number).unwrap();
        let card = database.store().read(|tx| kks_api::store::cards::find_by_number(tx, &card_number)).unwrap().unwrap();
        assert_eq!(card.pin_failed_attempts, 3, "exactly three wrong PINs were counted");
        assert!(card.pin_locked_at.is_some());

        drop(terminal);
        drop(server);
        let restarted = TestServer::start(&database);
        let right_pin = json!({"card_number": family.card_number, "pin": family.pin});
        assert_problem(restarted.post("/v1/auth/families/login", &right_pin), 423, "PIN_LOCKED");
        let wrong = json!({"card_number": family.card_number, "pin": wrong_pin});
        assert_problem(restarted.post("/v1/auth/families/login", &wrong), 401, "WRONG_CARD_OR_PIN");
    }

    fn an_operator_unlocks_a_pin_only_in_its_own_region(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let family = demo.families_in("32")[0].clone();
        let terminal = Terminal::of(&server, "agen.cileunyi");
        let wrong = json!({"card": {"card_number": family.card_number}, "pin": if family.pin == "000000" { "111111" } else { "000000" }});
        for _ in 0..3 {
            terminal.send("/v1/edc/balance-inquiries", wrong.clone());
        }
        let right = json!({"card_number": family.card_number, "pin": family.pin});
        assert_problem(server.post("/v1/auth/families/login", &right), 423, "PIN_LOCKED");
        let reset_path = format!("/v1/cards/{}/pin-reset", family.card_number);
        let reset = json!({"reason": "the cardholder came to the office with her KTP"});
        assert_problem(Session::operator(&server, "operator.jateng").post(&reset_path, &reset), 404, "NOT_FOUND");
        assert_problem(Session::agent(&server, "agen.cileunyi").post(&reset_path, &reset), 403, "FORBIDDEN");
        assert_eq!(Session::operator(&server, "operator.jabar").post(&reset_path, &reset).status(), 204);
        assert_eq!(Session::family(&server, &family).get("/v1/me").status(), 200, "the old PIN works again");
    }

    fn a_family_changes_its_own_pin_and_cannot_touch_anothers(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let (mine, theirs) = (&demo.families[0], &demo.families[1]);
        let session = Session::family(&server, mine);
        let change = json!({"old_pin": theirs.pin, "new_pin": "135790"});
        assert_problem(session.put(&format!("/v1/cards/{}/pin", theirs.card_number), &change), 404, "NOT_FOUND");
        let change = json!({"old_pin": mine.pin, "new_pin": "135790"});
        assert_eq!(session.put(&format!("/v1/cards/{}/pin", mine.card_number), &change).status(), 204);
        let old = json!({"card_number": mine.card_number, "pin": mine.pin});
        assert_problem(server.post("/v1/auth/families/login", &old), 401, "WRONG_CARD_OR_PIN");
        let new = json!({"card_number": mine.card_number, "pin": "135790"});
        assert_eq!(server.post("/v1/auth/families/login", &new).status(), 200);
        let malformed = json!({"old_pin": "135790", "new_pin": "12ab56"});
        assert_problem(session.put(&format!("/v1/cards/{}/pin", mine.card_number), &malformed), 400, "INVALID_REQUEST");
    }

    fn bad_card_numbers_get_distinct_codes(database) {
        let server = TestServer::start(&database);
        let card = server.demo().families[0].card_number.clone();
        let mut bad_check_digit = card.clone();
        let last = bad_check_digit.pop().unwrap();
        bad_check_digit.push(if last == '9' { '0' } else { char::from(last as u8 + 1) });
        for (number, code) in [
            ("12345", "CARD_NUMBER_MALFORMED"),
            (bad_check_digit.as_str(), "CARD_NUMBER_CHECK_DIGIT"),
            ("4111111111111111", "CARD_NUMBER_UNKNOWN_BANK"),
        ] {
            let response = server.post("/v1/auth/families/login", &json!({"card_number": number, "pin": "123456"}));
            assert_problem(response, 400, code);
        }
    }

    fn login_attempts_beyond_the_limit_are_answered_429_with_retry_after(database) {
        let server = TestServer::start_with(&database, &["--login-attempts-per-minute", "3"]);
        let body = json!({"username": "admin", "password": "wrong password"});
        for _ in 0..3 {
            assert_eq!(server.post("/v1/auth/operators/login", &body).status(), 401);
        }
        let limited = server.post("/v1/auth/operators/login", &body);
        let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after >= 1);
        assert_problem(limited, 429, "TOO_MANY_REQUESTS");
    }
}
