//! Complaints (seeds: "Sistem Pengaduan Masyarakat") over HTTP on both backends: every
//! channel files into one store, each caller sees only its own (a family) or its region's
//! (an operator), a complaint moves along its path and is answered exactly once, its
//! deadline passes with the clock, and a complaint about an agent's transaction holds the
//! agent's settlement until it is answered.

use chrono::Duration;
use kks_api::domain::ids::HoldId;
use kks_api::domain::ledger::{HoldReason, HoldStatus};
use kks_api::store::StoreError;
use serde_json::{json, Value};

use crate::support::api::{assert_problem, keyed, wib, with, Session, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::server::TEST_SMS_WEBHOOK_SECRET;
use crate::support::{on_both_backends, TestServer};

const VILLAGE: &str = "32.04.12.2001";

fn created(response: reqwest::blocking::Response) -> Value {
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    response.json().unwrap()
}

fn approved(response: reqwest::blocking::Response) -> Value {
    assert_eq!(response.status(), 200, "{}", response.text().unwrap_or_default());
    response.json().unwrap()
}

fn sms(server: &TestServer, secret: Option<&str>, body: &Value) -> reqwest::blocking::Response {
    let mut request = server.client.post(server.url("/v1/complaints/sms")).json(body);
    if let Some(secret) = secret {
        request = request.header("X-KKS-Webhook-Secret", secret);
    }
    request.send().unwrap()
}

/// The ids of the complaints a session lists.
fn listed(session: &Session, query: &str) -> Vec<i64> {
    let page: Value = approved(session.get(&format!("/v1/complaints{query}")));
    page.as_array().unwrap().iter().map(|complaint| complaint["id"].as_i64().unwrap()).collect()
}

fn transition(operator: &Session, id: i64, body: Value) -> reqwest::blocking::Response {
    operator.post(&format!("/v1/complaints/{id}/transitions"), &body)
}

on_both_backends! {
    fn every_channel_files_into_one_store_and_each_caller_sees_only_its_own(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let admin = Session::operator(&server, "admin");
        let families = server.demo().families_in("32");
        let (siti, dewi) = (families[0].clone(), families[1].clone());
        let family = Session::family(&server, &siti);

        let phone = created(operator.post("/v1/complaints", &json!({"channel": "phone", "category": "wrong_amount",
            "description": "Tahap 1 kurang Rp 50.000", "contact": "0812-1111-2222", "family_id": siti.family_id})));
        assert_eq!((phone["channel"].as_str(), phone["priority"].as_str(), phone["status"].as_str()),
            (Some("phone"), Some("high"), Some("received")), "{phone}");
        assert_eq!(phone["region"], VILLAGE, "the family's village when no region is named");
        assert_eq!(phone["timeline"][0]["kind"], "filed");
        let dropbox = created(operator.post("/v1/complaints", &json!({"channel": "dropbox", "category": "eligibility",
            "description": "Tetangga mampu tapi terdaftar", "region": VILLAGE})));
        assert_eq!(dropbox["priority"], "medium");
        let app = created(family.post("/v1/complaints", &json!({"category": "card_or_pin", "description": "PIN terblokir",
            "card_number": siti.card_number})));
        assert_eq!((app["channel"].as_str(), app["priority"].as_str()), (Some("app"), Some("critical")), "{app}");
        assert_eq!(app["family_id"], siti.family_id);
        assert!(app["card"].as_str().unwrap().contains('*'), "the card is masked: {app}");
        let web = created(server.post("/v1/public/complaints", &json!({"category": "stage_not_received",
            "description": "Bantuan tahap 2 belum masuk", "contact": "Jl. Melati 3", "region": VILLAGE})));
        assert_eq!((web["channel"].as_str(), web["filed_by"].as_str()), (Some("web"), Some("public:web")));
        let text = created(sms(&server, Some(TEST_SMS_WEBHOOK_SECRET), &json!({"from": "+6281234567890",
            "text": "Agen minta uang Rp 10.000"})));
        assert_eq!((text["channel"].as_str(), text["category"].as_str()), (Some("sms"), Some("other")));
        assert_eq!(text["region"], Value::Null, "an SMS has no region until an operator places it");

        // Refused at the door or by the rule, and nothing stored.
        let everything = listed(&admin, "");
        assert_eq!(everything.len(), 5, "the national admin sees every channel");
        assert_problem(sms(&server, None, &json!({"from": "+62812", "text": "x"})), 401, "UNAUTHENTICATED");
        assert_problem(sms(&server, Some("wrong"), &json!({"from": "+62812", "text": "x"})), 401, "UNAUTHENTICATED");
        for bad in [
            json!({"category": "lainnya", "description": "x", "contact": "x", "region": VILLAGE}),
            json!({"category": "other", "description": "x", "region": VILLAGE}),
            json!({"category": "other", "description": "x", "contact": "x"}),
            json!({"category": "other", "description": "", "contact": "x", "region": VILLAGE}),
            json!({"category": "other", "description": "a\u{0}b", "contact": "x", "region": VILLAGE}),
            json!({"category": "other", "description": "x".repeat(2001), "contact": "x", "region": VILLAGE}),
        ] {
            let response = server.post("/v1/public/complaints", &bad);
            assert_eq!(response.status(), 400, "{bad}");
            assert_eq!(response.headers()["content-type"], "application/problem+json");
        }
        assert_problem(server.post("/v1/public/complaints", &json!({"category": "other", "description": "x",
            "contact": "x", "region": "99.99.99.9999"})), 404, "NOT_FOUND");
        assert_problem(operator.post("/v1/complaints", &json!({"category": "other", "description": "x\u{7}y",
            "region": VILLAGE})), 400, "CHARACTER_NOT_ALLOWED");
        assert_problem(operator.post("/v1/complaints", &json!({"channel": "sms", "category": "other", "description": "x",
            "region": VILLAGE})), 400, "INVALID_REQUEST");
        assert_problem(family.post("/v1/complaints", &json!({"category": "other", "description": "x",
            "family_id": dewi.family_id})), 404, "NOT_FOUND");
        assert_problem(family.post("/v1/complaints", &json!({"category": "other", "description": "x",
            "hold_agent_settlement": true})), 403, "FORBIDDEN");
        assert_problem(Session::operator(&server, "operator.jateng").post("/v1/complaints", &json!({"category": "other",
            "description": "x", "family_id": siti.family_id})), 404, "NOT_FOUND");
        assert_eq!(listed(&admin, ""), everything, "no refused complaint was stored");

        // Who sees what.
        let id = |complaint: &Value| complaint["id"].as_i64().unwrap();
        assert_eq!(listed(&operator, ""), vec![id(&phone), id(&dropbox), id(&app), id(&web)], "Jawa Barat's, not the SMS");
        assert_eq!(listed(&family, ""), vec![id(&phone), id(&app)], "the family sees the complaints about it");
        assert_eq!(listed(&Session::family(&server, &dewi), ""), Vec::<i64>::new());
        let jateng = Session::operator(&server, "operator.jateng");
        assert_eq!(listed(&jateng, ""), Vec::<i64>::new());
        assert_problem(jateng.get(&format!("/v1/complaints/{}", id(&phone))), 404, "NOT_FOUND");
        assert_problem(Session::family(&server, &dewi).get(&format!("/v1/complaints/{}", id(&phone))), 404, "NOT_FOUND");
        assert_problem(Session::agent(&server, "agen.cileunyi").get("/v1/complaints"), 403, "FORBIDDEN");
        assert_eq!(listed(&operator, "?category=card_or_pin"), vec![id(&app)]);
        assert_eq!(listed(&operator, &format!("?after={}&limit=1", id(&phone))), vec![id(&dropbox)]);
        assert_problem(operator.get("/v1/complaints?limit=0"), 400, "PAGING_INVALID");
        assert_problem(operator.get("/v1/complaints?category=lainnya"), 400, "INVALID_REQUEST");
    }

    fn a_complaint_moves_along_its_path_and_is_answered_exactly_once(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let siti = server.demo().families_in("32")[0].clone();
        let family = Session::family(&server, &siti);
        let complaint = created(family.post("/v1/complaints", &json!({"category": "stage_not_received",
            "description": "Tahap 2 belum masuk"})));
        let id = complaint["id"].as_i64().unwrap();

        assert_problem(transition(&operator, id, json!({"to": "closed"})), 409, "COMPLAINT_TRANSITION_INVALID");
        assert_problem(transition(&operator, id, json!({"to": "selesai"})), 400, "INVALID_REQUEST");
        assert_problem(transition(&family, id, json!({"to": "resolved", "text": "sendiri"})), 403, "FORBIDDEN");
        let taken = approved(transition(&operator, id, json!({"to": "in_progress", "assignee": "Stywan"})));
        assert_eq!((taken["status"].as_str(), taken["assignee"].as_str()), (Some("in_progress"), Some("Stywan")));
        created(family.post(&format!("/v1/complaints/{id}/comments"), &json!({"text": "Sudah tiga minggu"})));
        approved(transition(&operator, id, json!({"to": "escalated", "text": "ke bank penyalur"})));
        assert_problem(transition(&operator, id, json!({"to": "resolved"})), 400, "INVALID_REQUEST");
        let resolved = approved(transition(&operator, id, json!({"to": "resolved", "text": "Dana tahap 2 sudah dikirim ulang"})));
        assert_eq!(resolved["resolution"], "Dana tahap 2 sudah dikirim ulang");
        assert!(resolved["settled_at"].is_string());
        assert_problem(transition(&operator, id, json!({"to": "resolved", "text": "lagi"})), 409, "COMPLAINT_ALREADY_RESOLVED");
        assert_problem(transition(&operator, id, json!({"to": "rejected", "text": "lagi"})), 409, "COMPLAINT_ALREADY_RESOLVED");
        approved(transition(&operator, id, json!({"to": "closed"})));
        assert_problem(transition(&operator, id, json!({"to": "in_progress"})), 409, "COMPLAINT_TRANSITION_INVALID");
        assert_problem(transition(&operator, id, json!({"to": "resolved", "text": "lagi"})), 409, "COMPLAINT_ALREADY_RESOLVED");
        assert_problem(Session::operator(&server, "operator.jateng").post(&format!("/v1/complaints/{id}/transitions"),
            &json!({"to": "closed"})), 404, "NOT_FOUND");

        let seen: Value = approved(family.get(&format!("/v1/complaints/{id}")));
        let kinds: Vec<&str> = seen["timeline"].as_array().unwrap().iter().map(|entry| entry["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["filed", "transition", "comment", "transition", "resolution", "transition"], "{seen}");
        assert_eq!((seen["status"].as_str(), seen["resolution"].as_str()), (Some("closed"), Some("Dana tahap 2 sudah dikirim ulang")));
        let audit: Value = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=complaint&object_id={id}")).json().unwrap();
        let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|event| event["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["complaint.filed", "complaint.status_changed", "complaint.status_changed",
            "complaint.status_changed", "complaint.status_changed"], "{audit}");

        let rejected = created(operator.post("/v1/complaints", &json!({"channel": "face_to_face", "category": "eligibility",
            "description": "Minta didaftarkan", "region": VILLAGE})));
        let rejected_id = rejected["id"].as_i64().unwrap();
        let answer = approved(transition(&operator, rejected_id, json!({"to": "rejected", "text": "Bukan wewenang PKH"})));
        assert_eq!(answer["resolution"], "Bukan wewenang PKH");
        assert_problem(transition(&operator, rejected_id, json!({"to": "closed"})), 409, "COMPLAINT_TRANSITION_INVALID");
    }

    fn a_complaint_becomes_overdue_when_its_deadline_passes_and_counts_in_the_indicators(database) {
        let server = TestServer::start_with(&database, &["--test-clock"]);
        let operator = Session::operator(&server, "operator.jabar");
        let critical = created(operator.post("/v1/complaints", &json!({"channel": "phone", "category": "card_or_pin",
            "description": "Kartu tertelan mesin", "region": VILLAGE})));
        let low = created(operator.post("/v1/complaints", &json!({"category": "other", "description": "Pertanyaan umum",
            "region": VILLAGE})));
        let id = critical["id"].as_i64().unwrap();
        assert_eq!(critical["overdue"], false);
        let received: chrono::NaiveDateTime = critical["received_at"].as_str().unwrap().parse().unwrap();
        let due: chrono::NaiveDateTime = critical["due_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(due - received, Duration::hours(24), "a critical complaint is due in 24 hours");
        let low_due: chrono::NaiveDateTime = low["due_at"].as_str().unwrap().parse().unwrap();
        assert!(low_due - received >= Duration::days(18), "14 working days are at least 18 calendar days: {low}");
        assert_eq!(listed(&operator, "?overdue=true"), Vec::<i64>::new());

        server.set_clock(due + Duration::minutes(1));
        assert_eq!(listed(&operator, "?overdue=true"), vec![id], "past its deadline, the critical one only");
        assert_eq!(approved(operator.get(&format!("/v1/complaints/{id}")))["overdue"], true);
        let figures: Value = approved(operator.get("/v1/monitoring/complaints"));
        assert_eq!(figures["by_category"]["card_or_pin"], json!({"received": 1, "handled": 0, "open": 1, "overdue": 1}), "{figures}");
        assert_eq!(figures["by_category"]["other"], json!({"received": 1, "handled": 0, "open": 1, "overdue": 0}));

        approved(transition(&operator, id, json!({"to": "resolved", "text": "Kartu pengganti diterbitkan"})));
        assert_eq!(approved(operator.get(&format!("/v1/complaints/{id}")))["overdue"], false, "an answered complaint is not overdue");
        let indicators: Value = approved(operator.get("/v1/monitoring/indicators"));
        assert_eq!(indicators["complaints_by_category"]["card_or_pin"],
            json!({"received": 1, "handled": 1, "open": 0, "overdue": 0}), "{indicators}");
        let csv = operator.get("/v1/monitoring/complaints?format=csv");
        assert_eq!(csv.status(), 200);
        let text = csv.text().unwrap();
        assert_eq!(text.lines().next(), Some("region,category,received,handled,open,overdue"), "{text}");
        assert!(text.contains(&format!("{VILLAGE},card_or_pin,1,1,0,0")), "{text}");
        let elsewhere: Value = approved(Session::operator(&server, "operator.jateng").get("/v1/monitoring/complaints"));
        assert_eq!(elsewhere["lines"], json!([]), "Jawa Tengah counts none of Jawa Barat's complaints");
        assert_problem(Session::operator(&server, "operator.jateng").get("/v1/monitoring/complaints?region=32"), 404, "NOT_FOUND");
    }

    fn a_complaint_about_an_agents_transaction_holds_its_settlement_until_it_is_answered(database) {
        let server = TestServer::start_with(&database, &["--test-clock"]);
        let operator = Session::operator(&server, "operator.jabar");
        let siti = server.demo().families_in("32")[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let now = wib(server.clock());
        approved(agent.send("/v1/edc/wallet-to-savings", with(keyed(&siti), json!({"amount": "500000", "transmitted_at": now}))));
        let stan = agent.stan();
        let key = format!("{}-{stan}", agent.terminal_id);
        let cash = approved(agent.send_with("/v1/edc/cash-withdrawals", &stan, &key,
            with(keyed(&siti), json!({"amount": "200000", "transmitted_at": now}))));

        let complaint = created(operator.post("/v1/complaints", &json!({"channel": "face_to_face",
            "category": "agent_fee_or_refusal", "description": "Agen memotong Rp 20.000 dari penarikan",
            "edc_reference": cash["reference"], "hold_agent_settlement": true})));
        assert_eq!(complaint["family_id"], siti.family_id, "the transaction names the family");
        assert!(complaint["agent_id"].is_i64(), "{complaint}");
        let hold_id = HoldId(complaint["hold_id"].as_i64().unwrap());
        let hold = |store: &kks_api::store::Store| {
            store.read(|tx| kks_api::ledger::holds::find_by_id(tx, hold_id)).map_err(|error: StoreError| error).unwrap().unwrap()
        };
        let placed = hold(&database.store());
        assert_eq!((placed.reason, placed.status, placed.amount_minor), (HoldReason::Investigation, HoldStatus::Active, 20_000_000));

        // While the complaint is open, the money under dispute cannot leave the agent's
        // settlement account: even the agent's own reversal of the transaction is refused.
        assert_problem(agent.reverse(&stan, "reversal-while-held"), 422, "FUNDS_HELD");
        let id = complaint["id"].as_i64().unwrap();
        approved(transition(&operator, id, json!({"to": "in_progress"})));
        assert_eq!(hold(&database.store()).status, HoldStatus::Active, "only the answer ends the hold");
        approved(transition(&operator, id, json!({"to": "resolved", "text": "Agen mengembalikan potongan"})));
        assert_eq!(hold(&database.store()).status, HoldStatus::Released);
        let reversed = approved(agent.reverse(&stan, "reversal-after-answer"));
        assert_eq!(reversed["outcome"], "reversed", "{reversed}");

        // A hold needs the transaction, and the agent's settlement must cover it.
        assert_problem(operator.post("/v1/complaints", &json!({"category": "agent_fee_or_refusal", "description": "x",
            "region": VILLAGE, "hold_agent_settlement": true})), 400, "INVALID_REQUEST");
        assert_problem(operator.post("/v1/complaints", &json!({"category": "agent_fee_or_refusal", "description": "x",
            "edc_reference": "000000000000"})), 404, "NOT_FOUND");
        assert_ledger_clean(&database.store());
    }
}
