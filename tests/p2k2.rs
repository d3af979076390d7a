//! P2K2/FDS family sessions over HTTP on both backends: a facilitator (an operator of the
//! region) records a group's session and who attended; other regions neither see it nor
//! record for these families; attendance counts by module in the indicators and as CSV.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session};
use crate::support::{on_both_backends, TestServer};

const VILLAGE: &str = "32.04.12.2001";

fn yesterday() -> String {
    (Utc::now().date_naive() - Duration::days(1)).to_string()
}

on_both_backends! {
    fn a_facilitator_records_a_session_and_the_attendance_counts_by_module(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let families = server.demo().families_in("32");
        let (siti, dewi) = (families[0].family_id, families[1].family_id);
        let session = json!({"village": VILLAGE, "group_name": "Kelompok Melati", "held_on": yesterday(),
            "module": "health", "attended": [siti, dewi]});
        let recorded = operator.post("/v1/p2k2-sessions", &session);
        assert_eq!(recorded.status(), 201, "{}", recorded.text().unwrap_or_default());
        let recorded: Value = recorded.json().unwrap();
        assert_eq!(recorded["attended"], json!([siti.min(dewi), siti.max(dewi)]));
        assert_eq!(recorded["module"], "health");
        let listed: Value = operator.get("/v1/p2k2-sessions").json().unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed[0]["id"], recorded["id"]);

        let economy = json!({"village": VILLAGE, "group_name": "Kelompok Melati", "held_on": yesterday(),
            "module": "economy", "attended": [siti]});
        assert_eq!(operator.post("/v1/p2k2-sessions", &economy).status(), 201);

        let indicators: Value = operator.get("/v1/monitoring/indicators").json().unwrap();
        assert_eq!(indicators["p2k2_by_module"], json!({"economy": {"sessions": 1, "attendances": 1},
            "health": {"sessions": 1, "attendances": 2}}), "{indicators}");
        let csv = operator.get("/v1/monitoring/p2k2-attendance?format=csv");
        assert_eq!(csv.status(), 200);
        let text = csv.text().unwrap();
        assert_eq!(text.lines().collect::<Vec<_>>(), ["module,sessions,attendances", "economy,1,1", "health,1,2"], "{text}");
        let audit: Value = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=p2k2_session&object_id={}", recorded["id"])).json().unwrap();
        assert_eq!(audit[0]["action"], "p2k2.session_recorded", "{audit}");

        // Jawa Tengah sees none of it and cannot record for Jawa Barat.
        let jateng = Session::operator(&server, "operator.jateng");
        let elsewhere: Value = jateng.get("/v1/p2k2-sessions").json().unwrap();
        assert_eq!(elsewhere, json!([]));
        let counted: Value = jateng.get("/v1/monitoring/p2k2-attendance").json().unwrap();
        assert_eq!(counted["by_module"], json!({}));
        assert_problem(jateng.post("/v1/p2k2-sessions", &session), 404, "NOT_FOUND");
        let jateng_family = server.demo().families_in("33")[0].family_id;
        let mixed = json!({"village": VILLAGE, "group_name": "Kelompok Mawar", "held_on": yesterday(),
            "module": "education", "attended": [siti, jateng_family]});
        assert_problem(operator.post("/v1/p2k2-sessions", &mixed), 404, "NOT_FOUND");
        assert_problem(Session::agent(&server, "agen.cileunyi").post("/v1/p2k2-sessions", &session), 403, "FORBIDDEN");
    }

    fn a_session_with_bad_input_is_refused_and_records_nothing(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let siti = server.demo().families_in("32")[0].family_id;
        let tomorrow = (Utc::now().date_naive() + Duration::days(2)).to_string();
        let base = json!({"village": VILLAGE, "group_name": "Kelompok Melati", "held_on": yesterday(),
            "module": "health", "attended": [siti]});
        let but = |field: &str, value: Value| {
            let mut body = base.clone();
            body[field] = value;
            body
        };
        for (bad, code) in [
            (but("module", json!("cooking")), "INVALID_REQUEST"),
            (but("attended", json!([siti, siti])), "INVALID_REQUEST"),
            (but("attended", json!([])), "INVALID_REQUEST"),
            (but("held_on", json!(tomorrow)), "INVALID_REQUEST"),
            (but("village", json!("32.04")), "INVALID_REQUEST"),
            (but("group_name", json!(" ")), "INVALID_REQUEST"),
            (but("group_name", json!("Kelompok\u{0}Melati")), "CHARACTER_NOT_ALLOWED"),
        ] {
            assert_problem(operator.post("/v1/p2k2-sessions", &bad), 400, code);
        }
        assert_problem(operator.post("/v1/p2k2-sessions", &but("attended", json!([999_999]))), 404, "NOT_FOUND");
        assert_eq!(operator.post("/v1/p2k2-sessions", &base).status(), 201);
        assert_problem(operator.post("/v1/p2k2-sessions", &base), 400, "INVALID_REQUEST");
        let listed: Value = operator.get("/v1/p2k2-sessions").json().unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "only the one good session: {listed}");
        assert_problem(operator.get("/v1/p2k2-sessions?limit=500"), 400, "PAGING_INVALID");
    }
}
