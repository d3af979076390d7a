//! Agents and terminals: an admin registers a bank agent or an e-Warong in its region and
//! its terminals; the new agent works at once after choosing its password; a deactivated
//! terminal or agent stops at once and keeps its history.

use kks_api::domain::ledger::{AccountKind, OwnerKind};
use kks_api::ledger::accounts;
use serde_json::{json, Value};

use crate::support::api::{assert_problem, keyed, with, Session, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestDatabase, TestServer};

const FIRST_PASSWORD: &str = "tiga kambing di sawah";
const OWN_PASSWORD: &str = "empat bebek berenang pagi";
const BALANCE: &str = "/v1/edc/balance-inquiries";
const WITHDRAW: &str = "/v1/edc/cash-withdrawals";
const TO_SAVINGS: &str = "/v1/edc/wallet-to-savings";
const PURCHASE: &str = "/v1/edc/purchases";

/// A provincial admin, added by the national one, with its own password chosen.
fn provincial_admin<'a>(server: &'a TestServer, username: &str, province: &str) -> Session<'a> {
    let national = Session::operator(server, "admin");
    let created = national.post("/v1/operators", &json!({
        "username": username, "display_name": "Admin Dinsos", "role": "admin", "region": province, "password": FIRST_PASSWORD,
    }));
    assert_eq!(created.status(), 201, "{}", created.text().unwrap_or_default());
    let changed = server.post(
        "/v1/auth/operators/password",
        &json!({"username": username, "current_password": FIRST_PASSWORD, "new_password": OWN_PASSWORD}),
    );
    assert_eq!(changed.status(), 204);
    Session::operator_with(server, username, OWN_PASSWORD)
}

fn new_agent(username: &str, kind: &str, bank: &str, village: &str) -> Value {
    json!({
        "username": username, "display_name": "e-Warong KUBE Melati", "owner_name": "Yati Suryati",
        "kind": kind, "bank": bank, "village": village, "password": FIRST_PASSWORD,
    })
}

fn id_of(agent: &Value) -> i64 {
    agent["id"].as_i64().expect("an agent id")
}

/// The user names of the agents a list answers, in id order.
fn usernames(admin: &Session<'_>, query: &str) -> Vec<String> {
    let page = admin.get(&format!("/v1/agents{query}"));
    assert_eq!(page.status(), 200, "{query}");
    let page: Value = page.json().unwrap();
    page.as_array().unwrap().iter().map(|agent| agent["username"].as_str().unwrap().to_owned()).collect()
}

/// A demo agent as an admin sees it.
fn demo_agent(admin: &Session<'_>, username: &str) -> Value {
    let page: Value = admin.get("/v1/agents").json().unwrap();
    page.as_array().unwrap().iter().find(|agent| agent["username"] == username).cloned().expect("a demo agent")
}

fn settlement_balance_minor(database: &TestDatabase, agent_id: i64) -> Option<i64> {
    database
        .store()
        .read(|tx| {
            accounts::find_by_owner_and_kind(tx, OwnerKind::Agent, &agent_id.to_string(), AccountKind::AgentSettlement)
        })
        .unwrap()
        .map(|account| account.balance_minor)
}

fn approved(response: reqwest::blocking::Response) -> Value {
    assert_eq!(response.status(), 200, "expected approval: {}", response.text().unwrap_or_default());
    response.json().unwrap()
}

on_both_backends! {
    fn a_provincial_admin_registers_an_e_warong_whose_new_terminal_serves_a_family_at_once(database) {
        let server = TestServer::start(&database);
        let jabar = provincial_admin(&server, "admin.jabar", "32");
        let created = jabar.post("/v1/agents", &new_agent("ewarong.melati", "e_warong", "bri", "32.04.12.2001"));
        assert_eq!(created.status(), 201, "{}", created.text().unwrap_or_default());
        let created: Value = created.json().unwrap();
        assert_eq!((created["kind"].as_str(), created["bank"].as_str()), (Some("e_warong"), Some("bri")));
        assert_eq!((created["owner_name"].as_str(), created["village"].as_str()), (Some("Yati Suryati"), Some("32.04.12.2001")));
        assert_eq!(created["password_change_required"], true);
        assert!(created.get("password_hash").is_none() && !created.to_string().contains(FIRST_PASSWORD));
        let agent_id = id_of(&created);
        assert_eq!(settlement_balance_minor(&database, agent_id), Some(0), "the settlement account opens at registration");

        let terminal = jabar.post(&format!("/v1/agents/{agent_id}/terminals"), &json!({"terminal_id": "T3204101", "serial": "PAX-A920-0101"}));
        assert_eq!(terminal.status(), 201, "{}", terminal.text().unwrap_or_default());
        let terminal: Value = terminal.json().unwrap();
        assert_eq!((terminal["status"].as_str(), terminal["agent_id"].as_i64()), (Some("active"), Some(agent_id)));
        let viewed: Value = jabar.get(&format!("/v1/agents/{agent_id}")).json().unwrap();
        assert_eq!(viewed["terminals"][0]["serial"], "PAX-A920-0101");

        // The first password only lets the agent choose another.
        let login = json!({"username": "ewarong.melati", "password": FIRST_PASSWORD, "terminal_id": "T3204101"});
        let refused = assert_problem(server.post("/v1/auth/agents/login", &login), 403, "PASSWORD_CHANGE_REQUIRED");
        assert!(refused["detail"].as_str().unwrap().contains("/v1/auth/agents/password"), "{refused}");
        let change = |current: &str, new: &str| {
            server.post("/v1/auth/agents/password", &json!({"username": "ewarong.melati", "current_password": current, "new_password": new}))
        };
        assert_problem(change("not the password", OWN_PASSWORD), 401, "WRONG_CREDENTIALS");
        assert_problem(change(FIRST_PASSWORD, "ewarong.melati!!"), 422, "PASSWORD_WEAK");
        assert_eq!(change(FIRST_PASSWORD, OWN_PASSWORD).status(), 204);
        assert_problem(server.post("/v1/auth/agents/login", &login), 401, "WRONG_CREDENTIALS");

        // A family of the village is served on the new terminal.
        let warong = Terminal::on(Session::agent_with(&server, "ewarong.melati", OWN_PASSWORD, "T3204101"), "T3204101");
        let family = server.demo().families[0].clone();
        let inquiry = approved(warong.send(BALANCE, keyed(&family)));
        assert_eq!(inquiry["terminal_id"], "T3204101");
        let bought = approved(warong.send(PURCHASE, with(keyed(&family), json!({"programme": "bpnt", "basket": [{"sku": "BERAS-1KG", "quantity": 1}]}))));
        let lines = bought["lines"].as_array().unwrap().iter().map(|line| line.as_str().unwrap()).collect::<Vec<_>>().join("\n");
        assert!(lines.contains("e-Warong KUBE Melati") && lines.contains("T3204101"), "{lines}");
        let settlement: Value = warong.session.get("/v1/edc/settlement").json().unwrap();
        assert_eq!(settlement["purchases"].as_u64(), Some(1), "{settlement}");
        assert!(settlement_balance_minor(&database, agent_id).unwrap() > 0);

        // Every step is in the audit trail, and no password is.
        let national = Session::operator(&server, "admin");
        let events: Value = national.get(&format!("/v1/audit-events?object_kind=agent&object_id={agent_id}")).json().unwrap();
        let actions: Vec<&str> = events.as_array().unwrap().iter().map(|event| event["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["agent.registered", "agent.password_changed"]);
        assert!(!events.to_string().contains(FIRST_PASSWORD) && !events.to_string().contains(OWN_PASSWORD));
        assert_ledger_clean(&database.store());
    }

    fn an_admin_registers_nothing_outside_its_province_and_a_refused_request_writes_nothing(database) {
        let server = TestServer::start(&database);
        let jateng = provincial_admin(&server, "admin.jateng", "33");
        assert_eq!(usernames(&jateng, ""), ["agen.sekayu"], "an admin sees the agents of its province only");
        let national = Session::operator(&server, "admin");
        let cileunyi = id_of(&demo_agent(&national, "agen.cileunyi"));

        // Another province's agents and terminals do not exist for it.
        assert_problem(jateng.get(&format!("/v1/agents/{cileunyi}")), 404, "NOT_FOUND");
        assert_problem(jateng.patch(&format!("/v1/agents/{cileunyi}"), &json!({"disabled": true, "reason": "test"})), 404, "NOT_FOUND");
        assert_problem(jateng.post(&format!("/v1/agents/{cileunyi}/terminals"), &json!({"terminal_id": "T3374999", "serial": "X-1"})), 404, "NOT_FOUND");
        assert_problem(jateng.patch("/v1/terminals/T3204001", &json!({"disabled": true, "reason": "test"})), 404, "NOT_FOUND");
        assert_problem(jateng.post(&format!("/v1/agents/{cileunyi}/password-reset"), &json!({"password": FIRST_PASSWORD, "reason": "test"})), 404, "NOT_FOUND");
        assert_eq!(usernames(&jateng, "?region=32"), Vec::<String>::new());

        for (body, status, code) in [
            (new_agent("ewarong.bandung", "e_warong", "bri", "32.04.12.2001"), 403, "FORBIDDEN"),
            (new_agent("ewarong.nowhere", "e_warong", "bri", "33.74.01.9999"), 400, "INVALID_REQUEST"),
            (new_agent("ewarong.regency", "e_warong", "bri", "33.74"), 400, "INVALID_REQUEST"),
            (new_agent("agen.sekayu", "bank_agent", "bni", "33.74.01.1001"), 409, "USERNAME_TAKEN"),
            (new_agent("Agen Sekayu", "bank_agent", "bni", "33.74.01.1001"), 400, "USERNAME_INVALID"),
            (new_agent("agen.pasar", "toko", "bni", "33.74.01.1001"), 400, "INVALID_REQUEST"),
            (with(new_agent("agen.pasar", "bank_agent", "bni", "33.74.01.1001"), json!({"password": "agen.pasar 2026!"})), 422, "PASSWORD_WEAK"),
            (with(new_agent("agen.pasar", "bank_agent", "bni", "33.74.01.1001"), json!({"owner_name": " "})), 400, "INVALID_REQUEST"),
        ] {
            assert_problem(jateng.post("/v1/agents", &body), status, code);
        }
        assert_eq!(usernames(&national, "").len(), 3, "a refused registration adds nobody");
        let sekayu = id_of(&demo_agent(&national, "agen.sekayu"));
        assert_problem(jateng.patch(&format!("/v1/agents/{sekayu}"), &json!({"reason": "nothing"})), 400, "INVALID_REQUEST");
        assert_problem(jateng.patch("/v1/terminals/T3374001", &json!({"reason": "nothing"})), 400, "INVALID_REQUEST");
        let operator = Session::operator(&server, "operator.jateng");
        assert_problem(operator.post("/v1/agents", &new_agent("agen.pasar", "bank_agent", "bni", "33.74.01.1001")), 403, "FORBIDDEN");
        assert_problem(operator.get("/v1/agents"), 403, "FORBIDDEN");

        // A terminal id or a serial registered already, or a malformed one, adds nothing.
        let created = jateng.post("/v1/agents", &new_agent("agen.pasar", "bank_agent", "bni", "33.74.01.1001"));
        assert_eq!(created.status(), 201);
        let agent_id = id_of(&created.json().unwrap());
        let terminals = format!("/v1/agents/{agent_id}/terminals");
        for (body, status, code) in [
            (json!({"terminal_id": "T3204001", "serial": "PAX-A920-0201"}), 409, "TERMINAL_TAKEN"),
            (json!({"terminal_id": "T3374201", "serial": "DEMO-3374001"}), 409, "TERMINAL_TAKEN"),
            (json!({"terminal_id": "t-3374", "serial": "PAX-A920-0201"}), 400, "TERMINAL_ID_INVALID"),
            (json!({"terminal_id": "T3374201", "serial": "PAX A920"}), 400, "INVALID_REQUEST"),
        ] {
            assert_problem(jateng.post(&terminals, &body), status, code);
        }
        let viewed: Value = jateng.get(&format!("/v1/agents/{agent_id}")).json().unwrap();
        assert_eq!(viewed["terminals"], json!([]), "nothing was written");
        let events: Value = national.get("/v1/audit-events?object_kind=terminal&object_id=T3374201").json().unwrap();
        assert_eq!(events, json!([]));
        assert_eq!(jateng.post(&terminals, &json!({"terminal_id": "T3374201", "serial": "PAX-A920-0201"})).status(), 201);
    }

    fn deactivating_a_terminal_or_an_agent_stops_its_tokens_at_once_and_keeps_its_history(database) {
        let server = TestServer::start(&database);
        let admin = Session::operator(&server, "admin");
        let agent = demo_agent(&admin, "agen.cileunyi");
        let agent_id = id_of(&agent);
        let family = server.demo().families[0].clone();
        let mut cileunyi = Terminal::of(&server, "agen.cileunyi");
        approved(cileunyi.send(TO_SAVINGS, with(keyed(&family), json!({"amount": "500000"}))));
        approved(cileunyi.send(WITHDRAW, with(keyed(&family), json!({"amount": "200000"}))));
        assert_eq!(settlement_balance_minor(&database, agent_id), Some(20_000_000));

        // A deactivated terminal: card transactions refused with their code, no new login.
        let disabled = admin.patch("/v1/terminals/T3204001", &json!({"disabled": true, "reason": "reported stolen"}));
        assert_eq!(disabled.status(), 200);
        assert_eq!(disabled.json::<Value>().unwrap()["status"], "disabled");
        assert_problem(cileunyi.send(BALANCE, keyed(&family)), 403, "TERMINAL_INACTIVE");
        assert_problem(cileunyi.session.get("/v1/edc/settlement"), 403, "TERMINAL_INACTIVE");
        let password = server.demo().agent("agen.cileunyi").password.clone();
        let login = |terminal_id: &str| {
            server.post("/v1/auth/agents/login", &json!({"username": "agen.cileunyi", "password": password, "terminal_id": terminal_id}))
        };
        assert_problem(login("T3204001"), 403, "TERMINAL_NOT_ALLOWED");

        // A second terminal works; moved to another agent, its former agent's tokens stop.
        let added = admin.post(&format!("/v1/agents/{agent_id}/terminals"), &json!({"terminal_id": "T3204003", "serial": "PAX-A920-0003"}));
        assert_eq!(added.status(), 201);
        let spare = Terminal::on(Session::agent_with(&server, "agen.cileunyi", &password, "T3204003"), "T3204003");
        approved(spare.send(BALANCE, keyed(&family)));
        let warong_id = id_of(&demo_agent(&admin, "ewarong.cileunyi"));
        let moved = admin.patch("/v1/terminals/T3204003", &json!({"agent_id": warong_id, "reason": "lent to the e-Warong"}));
        assert_eq!(moved.status(), 200);
        assert_eq!(moved.json::<Value>().unwrap()["agent_id"].as_i64(), Some(warong_id));
        assert_problem(spare.send(BALANCE, keyed(&family)), 403, "TERMINAL_NOT_ALLOWED");
        assert_problem(login("T3204003"), 403, "TERMINAL_NOT_ALLOWED");
        let warong_password = server.demo().agent("ewarong.cileunyi").password.clone();
        Session::agent_with(&server, "ewarong.cileunyi", &warong_password, "T3204003");

        // A deactivated agent: its tokens stop at once, its login answers like a wrong password.
        assert_eq!(admin.patch("/v1/terminals/T3204001", &json!({"disabled": false, "reason": "found"})).status(), 200);
        // The agent logs in again; the terminal's trace numbers go on where they were.
        cileunyi.session = Session::agent(&server, "agen.cileunyi");
        approved(cileunyi.send(BALANCE, keyed(&family)));
        let deactivated = admin.patch(&format!("/v1/agents/{agent_id}"), &json!({"disabled": true, "reason": "the shop closed"}));
        assert_eq!(deactivated.status(), 200);
        assert!(deactivated.json::<Value>().unwrap()["disabled_at"].is_string());
        assert_problem(cileunyi.session.get("/v1/me"), 401, "TOKEN_REVOKED");
        assert_problem(cileunyi.send(BALANCE, keyed(&family)), 401, "TOKEN_REVOKED");
        assert_problem(cileunyi.session.post("/v1/auth/refresh", &json!({"refresh_token": cileunyi.session.refresh_token})), 401, "TOKEN_REVOKED");
        assert_problem(login("T3204001"), 401, "WRONG_CREDENTIALS");
        let change = json!({"username": "agen.cileunyi", "current_password": password, "new_password": OWN_PASSWORD});
        assert_problem(server.post("/v1/auth/agents/password", &change), 401, "WRONG_CREDENTIALS");

        // The history stays: the transactions, the settlement account, the audit trail.
        assert_eq!(settlement_balance_minor(&database, agent_id), Some(20_000_000));
        let history: Value = Session::operator(&server, "operator.jabar").get(&format!("/v1/families/{}/transactions", family.family_id)).json().unwrap();
        assert!(history.as_array().unwrap().iter().any(|entry| entry["terminal_id"] == "T3204001" && entry["kind"] == "cash_withdrawal"), "{history}");
        let events: Value = admin.get("/v1/audit-events?object_kind=terminal&object_id=T3204001").json().unwrap();
        let actions: Vec<&str> = events.as_array().unwrap().iter().map(|event| event["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["terminal.added", "terminal.changed", "terminal.changed"]);
        assert_eq!(events[1]["reason"], "reported stolen");
        let events: Value = admin.get(&format!("/v1/audit-events?object_kind=agent&object_id={agent_id}")).json().unwrap();
        let details: Value = serde_json::from_str(events.as_array().unwrap().last().unwrap()["details"].as_str().unwrap()).unwrap();
        assert_eq!((details["after"]["disabled"].as_bool(), details["tokens_revoked"].as_bool()), (Some(true), Some(true)));

        // Activated again, the agent works with the password it had.
        assert_eq!(admin.patch(&format!("/v1/agents/{agent_id}"), &json!({"disabled": false, "reason": "reopened"})).status(), 200);
        cileunyi.session = Session::agent(&server, "agen.cileunyi");
        approved(cileunyi.send(BALANCE, keyed(&family)));

        // A forgotten password: the admin's reset stops the tokens, the temporary password
        // only lets the agent choose another.
        let reset = admin.post(&format!("/v1/agents/{agent_id}/password-reset"), &json!({"password": FIRST_PASSWORD, "reason": "forgot it"}));
        assert_eq!(reset.status(), 204);
        assert_problem(cileunyi.send(BALANCE, keyed(&family)), 401, "TOKEN_REVOKED");
        assert_problem(login("T3204001"), 401, "WRONG_CREDENTIALS");
        let temporary = json!({"username": "agen.cileunyi", "password": FIRST_PASSWORD, "terminal_id": "T3204001"});
        assert_problem(server.post("/v1/auth/agents/login", &temporary), 403, "PASSWORD_CHANGE_REQUIRED");
        let change = json!({"username": "agen.cileunyi", "current_password": FIRST_PASSWORD, "new_password": OWN_PASSWORD});
        assert_eq!(server.post("/v1/auth/agents/password", &change).status(), 204);
        cileunyi.session = Session::agent_with(&server, "agen.cileunyi", OWN_PASSWORD, "T3204001");
        approved(cileunyi.send(BALANCE, keyed(&family)));
        assert_ledger_clean(&database.store());
    }

    fn agents_are_listed_by_region_bank_kind_and_name(database) {
        let server = TestServer::start(&database);
        let admin = Session::operator(&server, "admin");
        assert_eq!(usernames(&admin, ""), ["agen.cileunyi", "ewarong.cileunyi", "agen.sekayu"]);
        assert_eq!(usernames(&admin, "?region=33"), ["agen.sekayu"]);
        assert_eq!(usernames(&admin, "?region=32.04.12.2001"), ["agen.cileunyi", "ewarong.cileunyi"]);
        assert_eq!(usernames(&admin, "?bank=bni"), ["ewarong.cileunyi", "agen.sekayu"]);
        assert_eq!(usernames(&admin, "?kind=e_warong"), ["ewarong.cileunyi"]);
        assert_eq!(usernames(&admin, "?region=32&bank=bni&kind=bank_agent"), Vec::<String>::new());
        assert_eq!(usernames(&admin, "?q=MAWAR"), ["ewarong.cileunyi"]);
        assert_eq!(usernames(&admin, "?q=santoso"), ["agen.sekayu"], "the owner's name is searched too");
        assert_eq!(usernames(&admin, "?q=%25"), Vec::<String>::new(), "a % is a character, not a wildcard");
        let first = usernames(&admin, "?limit=1");
        assert_eq!(first, ["agen.cileunyi"]);
        let after = id_of(&demo_agent(&admin, "agen.cileunyi"));
        assert_eq!(usernames(&admin, &format!("?after={after}&limit=1")), ["ewarong.cileunyi"]);
        let listed: Value = admin.get("/v1/agents?region=33").json().unwrap();
        assert_eq!(listed[0]["terminals"][0]["terminal_id"], "T3374001");
        assert_eq!(listed[0]["owner_name"], "Budi Santoso");
        for query in ["?limit=0", "?limit=201", "?after=-1"] {
            assert_problem(admin.get(&format!("/v1/agents{query}")), 400, "PAGING_INVALID");
        }
        for query in ["?region=3x", "?bank=bca", "?kind=toko", "?colour=red"] {
            assert_problem(admin.get(&format!("/v1/agents{query}")), 400, "INVALID_REQUEST");
        }
        let jabar = provincial_admin(&server, "admin.jabar", "32");
        assert_eq!(usernames(&jabar, "?region=33"), Vec::<String>::new(), "a region outside its own lists nothing");
        assert_eq!(usernames(&jabar, "?bank=bni"), ["ewarong.cileunyi"]);
    }
}
