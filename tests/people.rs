//! People: admins manage the staff of their own region; a change of rights takes effect
//! at once; a password set by an admin is replaced before its owner works.

use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session};
use crate::support::{on_both_backends, TestServer};

const FIRST_PASSWORD: &str = "tiga kambing di sawah";
const OWN_PASSWORD: &str = "empat bebek berenang pagi";

fn id_of(operator: &Value) -> i64 {
    operator["id"].as_i64().expect("an operator id")
}

/// The user names an admin sees, in id order.
fn usernames(admin: &Session<'_>) -> Vec<String> {
    let page: Value = admin.get("/v1/operators").json().unwrap();
    page.as_array().unwrap().iter().map(|operator| operator["username"].as_str().unwrap().to_owned()).collect()
}

fn change_password(server: &TestServer, username: &str, current: &str, new: &str) -> reqwest::blocking::Response {
    server.post(
        "/v1/auth/operators/password",
        &json!({"username": username, "current_password": current, "new_password": new}),
    )
}

on_both_backends! {
    fn a_provincial_admin_manages_the_people_of_its_province_and_no_one_else(database) {
        let server = TestServer::start(&database);
        let national = Session::operator(&server, "admin");
        let created = national.post("/v1/operators", &json!({
            "username": "admin.jabar", "display_name": "Admin Dinsos Jawa Barat",
            "role": "admin", "region": "32", "password": FIRST_PASSWORD,
        }));
        assert_eq!(created.status(), 201);
        let created: Value = created.json().unwrap();
        assert_eq!(created["password_change_required"], true);
        assert!(created.get("password_hash").is_none() && !created.to_string().contains(FIRST_PASSWORD));

        // The first password only lets its owner choose another.
        let login = json!({"username": "admin.jabar", "password": FIRST_PASSWORD});
        assert_problem(server.post("/v1/auth/operators/login", &login), 403, "PASSWORD_CHANGE_REQUIRED");
        assert_problem(change_password(&server, "admin.jabar", "not the password", OWN_PASSWORD), 401, "WRONG_CREDENTIALS");
        assert_problem(change_password(&server, "admin.jabar", FIRST_PASSWORD, "short"), 422, "PASSWORD_WEAK");
        assert_problem(change_password(&server, "admin.jabar", FIRST_PASSWORD, FIRST_PASSWORD), 422, "PASSWORD_WEAK");
        assert_eq!(change_password(&server, "admin.jabar", FIRST_PASSWORD, OWN_PASSWORD).status(), 204);
        assert_problem(server.post("/v1/auth/operators/login", &login), 401, "WRONG_CREDENTIALS");
        let jabar = Session::operator_with(&server, "admin.jabar", OWN_PASSWORD);

        // Inside its province only, and never above itself.
        let person = |username: &str, role: &str, region: &str| {
            json!({"username": username, "display_name": "Petugas", "role": role, "region": region, "password": FIRST_PASSWORD})
        };
        let before = usernames(&jabar);
        assert_eq!(before, ["operator.jabar", "supervisor.jabar", "admin.jabar"], "a provincial admin sees its province");
        for (body, status, code) in [
            (person("admin.kedua", "admin", "national"), 403, "FORBIDDEN"),
            (person("operator.semarang", "operator", "33.74"), 403, "FORBIDDEN"),
            (person("operator.nowhere", "operator", "32.99"), 400, "INVALID_REQUEST"),
            (person("operator.jabar", "operator", "32"), 409, "USERNAME_TAKEN"),
            (person("Operator Bandung", "operator", "32.04"), 400, "USERNAME_INVALID"),
            (json!({"username": "operator.bandung", "display_name": "Petugas", "role": "operator", "region": "32.04", "password": "operator.bandung!!"}), 422, "PASSWORD_WEAK"),
        ] {
            assert_problem(jabar.post("/v1/operators", &body), status, code);
        }
        assert_eq!(usernames(&jabar), before, "a refused request adds nobody");
        let bandung = jabar.post("/v1/operators", &person("operator.bandung", "operator", "32.04"));
        assert_eq!(bandung.status(), 201);
        assert!(usernames(&jabar).contains(&"operator.bandung".to_owned()));
        let everyone: Value = national.get("/v1/operators").json().unwrap();
        let jateng = everyone.as_array().unwrap().iter().find(|operator| operator["username"] == "operator.jateng");
        let jateng_id = id_of(jateng.expect("the demo's operator.jateng"));
        let renamed = jabar.patch(&format!("/v1/operators/{jateng_id}"), &json!({"display_name": "x", "reason": "test"}));
        assert_problem(renamed, 404, "NOT_FOUND");
        let self_id = id_of(&created);
        let promoted = jabar.patch(&format!("/v1/operators/{self_id}"), &json!({"region": "national", "reason": "test"}));
        assert_problem(promoted, 403, "FORBIDDEN");
        let demoted = jabar.patch(&format!("/v1/operators/{self_id}"), &json!({"role": "operator", "reason": "test"}));
        assert_problem(demoted, 403, "FORBIDDEN");
        let reset = jabar.post(&format!("/v1/operators/{self_id}/password-reset"), &json!({"password": FIRST_PASSWORD, "reason": "test"}));
        assert_problem(reset, 403, "FORBIDDEN");
        assert_eq!(jabar.get("/v1/me").status(), 200, "refusals changed nothing");

        // Non-admins manage nobody.
        let operator = Session::operator(&server, "operator.jabar");
        assert_problem(operator.post("/v1/operators", &person("operator.garut", "operator", "32")), 403, "FORBIDDEN");
        assert_problem(operator.get("/v1/operators"), 403, "FORBIDDEN");
        assert_problem(jabar.get("/v1/operators?limit=0"), 400, "PAGING_INVALID");
    }

    fn a_change_of_rights_revokes_the_persons_tokens_at_once(database) {
        let server = TestServer::start(&database);
        let admin = Session::operator(&server, "admin");
        let page: Value = admin.get("/v1/operators").json().unwrap();
        let find = |username: &str| id_of(page.as_array().unwrap().iter().find(|operator| operator["username"] == username).unwrap());
        let (operator_id, supervisor_id) = (find("operator.jabar"), find("supervisor.jabar"));

        // A change of nothing is refused, not an internal error.
        assert_problem(admin.patch(&format!("/v1/operators/{operator_id}"), &json!({"reason": "nothing"})), 400, "INVALID_REQUEST");

        // A new display name is no change of rights: the token stays good.
        let operator = Session::operator(&server, "operator.jabar");
        let renamed = admin.patch(&format!("/v1/operators/{operator_id}"), &json!({"display_name": "Operator Dinsos Jabar", "reason": "spelling"}));
        assert_eq!(renamed.status(), 200);
        assert_eq!(operator.get("/v1/me").status(), 200);

        // Promoted: the old token (role operator) stops now, not when it expires.
        let promoted = admin.patch(&format!("/v1/operators/{operator_id}"), &json!({"role": "supervisor", "reason": "promoted"}));
        assert_eq!(promoted.status(), 200);
        assert_problem(operator.get("/v1/me"), 401, "TOKEN_REVOKED");
        let me: Value = Session::operator(&server, "operator.jabar").get("/v1/me").json().unwrap();
        assert_eq!(me["role"], "supervisor");

        // Disabled: tokens stop, and the login says no more than for a wrong password.
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let disabled = admin.patch(&format!("/v1/operators/{supervisor_id}"), &json!({"disabled": true, "reason": "left the office"}));
        assert_eq!(disabled.status(), 200);
        assert!(disabled.json::<Value>().unwrap()["disabled_at"].is_string());
        assert_problem(supervisor.get("/v1/me"), 401, "TOKEN_REVOKED");
        assert_problem(supervisor.post("/v1/auth/refresh", &json!({"refresh_token": supervisor.refresh_token})), 401, "TOKEN_REVOKED");
        let password = server.demo().operator("supervisor.jabar").password.clone();
        let login = json!({"username": "supervisor.jabar", "password": password});
        assert_problem(server.post("/v1/auth/operators/login", &login), 401, "WRONG_CREDENTIALS");
        let enabled = admin.patch(&format!("/v1/operators/{supervisor_id}"), &json!({"disabled": false, "reason": "back"}));
        assert_eq!(enabled.status(), 200);
        Session::operator(&server, "supervisor.jabar");

        // Reset: the tokens stop and the temporary password only lets the owner choose another.
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let reset = admin.post(&format!("/v1/operators/{supervisor_id}/password-reset"), &json!({"password": FIRST_PASSWORD, "reason": "forgot it"}));
        assert_eq!(reset.status(), 204);
        assert_problem(supervisor.get("/v1/me"), 401, "TOKEN_REVOKED");
        assert_problem(server.post("/v1/auth/operators/login", &login), 401, "WRONG_CREDENTIALS");
        let temporary = json!({"username": "supervisor.jabar", "password": FIRST_PASSWORD});
        assert_problem(server.post("/v1/auth/operators/login", &temporary), 403, "PASSWORD_CHANGE_REQUIRED");
        assert_eq!(change_password(&server, "supervisor.jabar", FIRST_PASSWORD, OWN_PASSWORD).status(), 204);
        Session::operator_with(&server, "supervisor.jabar", OWN_PASSWORD);

        // Every step is in the audit trail, and no password is.
        let events: Value = admin.get(&format!("/v1/audit-events?object_kind=operator&object_id={supervisor_id}")).json().unwrap();
        let actions: Vec<&str> = events.as_array().unwrap().iter().map(|event| event["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["operator.changed", "operator.changed", "operator.password_reset", "operator.password_changed"]);
        let details: Value = serde_json::from_str(events[0]["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["before"]["disabled"], false);
        assert_eq!(details["after"]["disabled"], true);
        assert_eq!(events[0]["reason"], "left the office");
        for secret in [FIRST_PASSWORD, OWN_PASSWORD, &password] {
            assert!(!events.to_string().contains(secret));
        }
    }
}
