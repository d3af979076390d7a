//! Data updates (seeds: "pemutakhiran data") over HTTP on both backends: typed changes to
//! a family, applied, in its history and the audit trail with who, when and why; a family
//! left without a PKH component is due a natural exit; a terminated family and bad input
//! are refused and change nothing.

use serde_json::{json, Value};

use crate::disbursements::{register_family, register_terminated_family};
use crate::support::api::{assert_problem, FamilyCredentials, Session};
use crate::support::{on_both_backends, TestServer};

pub fn changes_path(family: &FamilyCredentials) -> String {
    format!("/v1/families/{}/changes", family.family_id)
}

pub fn recorded(operator: &Session, family: &FamilyCredentials, change: Value, reason: &str) -> Value {
    let response = operator.post(&changes_path(family), &json!({"change": change, "reason": reason}));
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    response.json().unwrap()
}

pub fn profile(operator: &Session, family: &FamilyCredentials) -> Value {
    operator.get(&format!("/v1/families/{}", family.family_id)).json().unwrap()
}

on_both_backends! {
    fn a_familys_data_changes_are_applied_and_kept_in_its_history(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let (family, child) = register_family(&operator, "3204126208920031");

        let born = recorded(&operator, &family, json!({"kind": "member_added", "name": "Bayi Uji",
            "component": "child_under_six", "reason": "birth"}), "akta kelahiran");
        assert_eq!(born["natural_exit_due"], false);
        recorded(&operator, &family, json!({"kind": "school_level_changed", "member_id": child, "school_level": "smp"}),
            "lulus SD");
        let members = profile(&operator, &family)["members"].clone();
        assert_eq!(members.as_array().unwrap().len(), 2, "{members}");
        assert_eq!(members[0]["school_level"], "smp");
        let baby = members[1]["id"].as_i64().unwrap();
        recorded(&operator, &family, json!({"kind": "recipient_name_corrected", "recipient_name": "Ibu Uji Lestari"}),
            "salah ketik di KTP");
        assert_eq!(profile(&operator, &family)["recipient_name"], "Ibu Uji Lestari");

        let left = recorded(&operator, &family, json!({"kind": "member_leaves", "member_id": child, "reason": "left_school"}),
            "berhenti sekolah");
        assert_eq!(left["natural_exit_due"], false, "the baby still has a PKH component");
        let last = recorded(&operator, &family, json!({"kind": "member_leaves", "member_id": baby, "reason": "moves_out"}),
            "ikut nenek ke Garut");
        assert_eq!(last["natural_exit_due"], true, "no PKH component left: due a natural exit");
        assert_eq!(profile(&operator, &family)["members"], json!([]));

        // The family sees its history; another province does not.
        let history: Value = Session::family(&server, &family).get(&changes_path(&family)).json().unwrap();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|change| change["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["member_added", "school_level_changed", "recipient_name_corrected", "member_leaves", "member_leaves"]);
        assert_eq!(history[3]["reason"], "berhenti sekolah");
        assert!(history[3]["recorded_by"].as_str().unwrap().starts_with("operator:"), "{history}");
        assert_problem(Session::operator(&server, "operator.jateng").get(&changes_path(&family)), 404, "NOT_FOUND");
        let audit: Value = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=family&object_id={}", family.family_id)).json().unwrap();
        let changed = audit.as_array().unwrap().iter().filter(|event| event["action"] == "family.data_changed").count();
        assert_eq!(changed, 5, "{audit}");
    }

    fn a_change_to_a_terminated_family_or_with_bad_input_is_refused_and_changes_nothing(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let terminated = register_terminated_family(&operator, &supervisor, "3204126208920041");
        let rename = json!({"change": {"kind": "recipient_name_corrected", "recipient_name": "Nama Baru"}, "reason": "koreksi"});
        assert_problem(operator.post(&changes_path(&terminated), &rename), 409, "FAMILY_NOT_ACTIVE");
        assert_eq!(profile(&operator, &terminated)["recipient_name"], "Ibu Uji");

        let (family, child) = register_family(&operator, "3204126208920051");
        let (other, other_child) = register_family(&operator, "3204126208920061");
        for (bad, status, code) in [
            (json!({"change": {"kind": "pindah_planet"}, "reason": "x"}), 400, "INVALID_REQUEST"),
            (json!({"change": {"kind": "member_leaves", "member_id": child, "reason": "pregnancy_ended"}, "reason": "x"}), 400, "INVALID_REQUEST"),
            (json!({"change": {"kind": "member_added", "name": "Anak", "component": "school_child", "reason": "joins"}, "reason": "x"}), 400, "INVALID_REQUEST"),
            (json!({"change": {"kind": "member_leaves", "member_id": other_child, "reason": "death"}, "reason": "x"}), 404, "NOT_FOUND"),
            (json!({"change": {"kind": "recipient_name_corrected", "recipient_name": "Nama"}, "reason": " "}), 400, "INVALID_REQUEST"),
            (json!({"change": {"kind": "recipient_name_corrected", "recipient_name": "Na\u{0}ma"}, "reason": "x"}), 400, "CHARACTER_NOT_ALLOWED"),
        ] {
            assert_problem(operator.post(&changes_path(&family), &bad), status, code);
        }
        assert_problem(Session::operator(&server, "operator.jateng").post(&changes_path(&family), &rename), 404, "NOT_FOUND");
        assert_problem(Session::family(&server, &family).post(&changes_path(&family), &rename), 403, "FORBIDDEN");
        for unchanged in [&family, &other, &terminated] {
            let history: Value = operator.get(&changes_path(unchanged)).json().unwrap();
            assert_eq!(history, json!([]), "nothing recorded");
            assert_eq!(profile(&operator, unchanged)["members"].as_array().unwrap().len(), 1);
        }
    }

    fn corrections_of_a_nik_the_family_card_number_and_the_health_facility_apply_at_once(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let (family, child) = register_family(&operator, "3204126208920101");
        let (other, _) = register_family(&operator, "3204126208920111");
        for (change, reason) in [
            (json!({"kind": "nik_corrected", "nik": "3204126208920102"}), "NIK ibu salah ketik"),
            (json!({"kind": "nik_corrected", "member_id": child, "nik": "3204120101100003"}), "NIK anak dari KK"),
            (json!({"kind": "document_corrected", "family_card_number": "3204120101170001"}), "KK baru"),
            (json!({"kind": "health_facility_changed", "health_facility": "Puskesmas Cileunyi"}), "pindah puskesmas"),
        ] {
            let applied = recorded(&operator, &family, change, reason);
            assert_eq!(applied["status"], "applied", "a correction needs no second person: {applied}");
        }
        let corrected = profile(&operator, &family);
        assert_eq!(corrected["nik"], "3204126208920102");
        assert_eq!(corrected["members"][0]["nik"], "3204120101100003");
        assert_eq!(corrected["family_card_number"], "3204120101170001");
        assert_eq!(corrected["health_facility"], "Puskesmas Cileunyi");

        // Bad input is refused and changes nothing.
        let before = profile(&operator, &family);
        for (bad, status, code) in [
            (json!({"kind": "nik_corrected", "nik": "3204126208920000"}), 400, "INVALID_REQUEST"),
            (json!({"kind": "nik_corrected", "nik": "12345"}), 400, "INVALID_REQUEST"),
            (json!({"kind": "nik_corrected", "member_id": 999999, "nik": "3204120101100003"}), 404, "NOT_FOUND"),
            (json!({"kind": "document_corrected", "family_card_number": "32041201011700AB"}), 400, "INVALID_REQUEST"),
            (json!({"kind": "health_facility_changed", "health_facility": "Pusk\u{7}esmas"}), 400, "CHARACTER_NOT_ALLOWED"),
            (json!({"kind": "village_moved", "village_code": "32.04.12.2999"}), 400, "INVALID_REQUEST"),
            (json!({"kind": "village_moved", "village_code": "32.04.12"}), 400, "INVALID_REQUEST"),
            (json!({"kind": "village_moved", "village_code": "33.74.01.1001"}), 403, "FORBIDDEN"),
            (json!({"kind": "recipient_changed", "recipient_name": "Euis", "nik": "12"}), 400, "INVALID_REQUEST"),
        ] {
            assert_problem(operator.post(&changes_path(&family), &json!({"change": bad, "reason": "x"})), status, code);
        }
        let taken = json!({"change": {"kind": "nik_corrected", "nik": "3204126208920111"}, "reason": "x"});
        assert_problem(operator.post(&changes_path(&family), &taken), 409, "FAMILY_EXISTS");
        assert_eq!(profile(&operator, &family), before, "nothing changed");
        assert_eq!(profile(&operator, &other)["nik"], "3204126208920111");
        let history: Value = operator.get(&changes_path(&family)).json().unwrap();
        assert_eq!(history.as_array().unwrap().len(), 4, "refusals are not in the history");
    }
}
