//! Sensitive data updates over HTTP on both backends: a new recipient and a move to
//! another regency wait for a second person's approval; a new recipient gets a new card
//! and PIN while the old card stops working and the money stays; a move counts the family
//! in its new village; a family left without a PKH component exits at the next cycle
//! close, and a suspended one waits for a later close.

use serde_json::{json, Value};

use crate::disbursements::{disburse, register_family};
use crate::family_changes::{changes_path, profile, recorded};
use crate::graduation::approved;
use crate::support::api::{assert_problem, keyed, with, FamilyCredentials, Session, Terminal};
use crate::support::figures::assert_figures_match_ledger;
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

/// A 201 answer's body.
fn approved_created(response: reqwest::blocking::Response) -> Value {
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    response.json().unwrap()
}

fn decision_path(family: &FamilyCredentials, change: &Value, decision: &str) -> String {
    format!("{}/{}/{decision}", changes_path(family), change["id"])
}

fn families_counted(session: &Session, region: &str) -> Value {
    let overview: Value = session.get(&format!("/v1/monitoring/overview?region={region}")).json().unwrap();
    overview["figures"]["families"].clone()
}

/// Adds villages to the demo's regions: Cimekar in the same regency as Cileunyi Kulon
/// (Kabupaten Bandung), and Sukajadi in another one (Kota Bandung).
fn add_villages(server: &TestServer) {
    let admin = Session::operator(server, "admin");
    for (code, name) in [
        ("32.04.13", "Rancaekek"),
        ("32.04.13.2002", "Cimekar"),
        ("32.73", "Kota Bandung"),
        ("32.73.01", "Sukajadi"),
        ("32.73.01.1001", "Sukajadi"),
    ] {
        assert_eq!(admin.post("/v1/regions", &json!({"code": code, "name": name})).status(), 201);
    }
}

on_both_backends! {
    fn a_family_that_moves_takes_its_money_figures_and_its_holds_with_it(database) {
        let server = TestServer::start(&database);
        add_villages(&server);
        let operator = Session::operator(&server, "operator.jabar");
        let siti = server.demo().families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        approved(agent.send("/v1/edc/wallet-to-savings", with(keyed(&siti), json!({"amount": "100000"}))));
        let hold = json!({"pocket": "wallet_pkh", "amount": "50000", "reference": "pengaduan 7/2026"});
        let hold_id = approved_created(operator.post(&format!("/v1/families/{}/holds", siti.family_id), &hold))["id"].clone();
        // Just before the move: the roll-up may not have counted it yet.
        approved(agent.send("/v1/edc/cash-withdrawals", with(keyed(&siti), json!({"amount": "20000"}))));
        let moved = recorded(&operator, &siti, json!({"kind": "village_moved", "village_code": "32.04.13.2002"}), "pindah rumah ke Cimekar");
        assert_eq!(moved["status"], "applied");
        // After it: money drawn, and the hold placed before the move ended.
        approved(agent.send("/v1/edc/cash-withdrawals", with(keyed(&siti), json!({"amount": "30000"}))));
        approved(operator.post(&format!("/v1/holds/{hold_id}/release"), &json!({"reason": "pengaduan selesai"})));
        assert_figures_match_ledger(&Session::operator(&server, "admin"), &database.store());
        assert_ledger_clean(&database.store());
    }

    fn a_new_recipient_waits_for_a_second_person_then_gets_a_new_card_and_the_money_stays(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let siti = server.demo().families_in("32")[0].clone();
        let old_session = Session::family(&server, &siti);

        let change = json!({"kind": "recipient_changed", "recipient_name": "Euis Sumarni", "nik": "3204125508900002"});
        let pending = recorded(&operator, &siti, change, "ibu Siti meninggal; kakak perempuan mengasuh");
        assert_eq!(pending["status"], "pending", "{pending}");
        assert!(pending.get("new_card").is_none(), "nothing is issued before the approval");
        assert_eq!(profile(&operator, &siti)["recipient_name"], "Siti Aminah", "nothing applies while it waits");

        // The person who entered it, or an operator role, does not approve; a supervisor does.
        let reason = json!({"reason": "akta kematian diperiksa"});
        assert_problem(operator.post(&decision_path(&siti, &pending, "approve"), &reason), 403, "FORBIDDEN");
        let approval = approved(supervisor.post(&decision_path(&siti, &pending, "approve"), &reason));
        assert_eq!((approval["status"].as_str(), approval["decision_reason"].as_str()), (Some("applied"), Some("akta kematian diperiksa")));
        assert!(approval["decided_by"].as_str().unwrap().starts_with("operator:"), "{approval}");
        let new_card = approval["new_card"]["card"]["card_number"].as_str().unwrap().to_owned();
        let new_pin = approval["new_card"]["pin"].as_str().unwrap().to_owned();
        assert_ne!(new_card, siti.card_number);
        let again = approved(supervisor.post(&decision_path(&siti, &pending, "approve"), &reason));
        assert_eq!(again["status"], "applied", "approving again answers the change as it is");
        assert!(again.get("new_card").is_none(), "the PIN is shown once");
        assert_problem(supervisor.post(&decision_path(&siti, &pending, "reject"), &reason), 409, "CHANGE_ALREADY_DECIDED");
        let family = profile(&operator, &siti);
        assert_eq!((family["recipient_name"].as_str(), family["nik"].as_str()), (Some("Euis Sumarni"), Some("3204125508900002")));

        // The old card is refused at login, at the EDC, and its app session has ended.
        assert_problem(server.post("/v1/auth/families/login", &json!({"card_number": siti.card_number, "pin": siti.pin})), 422, "CARD_REPLACED");
        let agent = Terminal::of(&server, "agen.cileunyi");
        assert_problem(agent.send("/v1/edc/balance-inquiries", keyed(&siti)), 422, "CARD_REPLACED");
        assert_problem(old_session.get(&format!("/v1/families/{}/balances", siti.family_id)), 401, "TOKEN_REVOKED");

        // The new card with its new PIN reaches the same money.
        let euis = FamilyCredentials { card_number: new_card, pin: new_pin, ..siti.clone() };
        let pockets: Value = Session::family(&server, &euis).get(&format!("/v1/families/{}/balances", siti.family_id)).json().unwrap();
        let pkh = pockets.as_array().unwrap().iter().find(|pocket| pocket["kind"] == "wallet_pkh").unwrap();
        assert_eq!(pkh["balance"], "500000.00", "the money belongs to the family, not to the card");
        approved(agent.send("/v1/edc/wallet-to-savings", with(keyed(&euis), json!({"amount": "500000"}))));

        // Who, when and why: in the family's history and the audit trail.
        let history: Value = Session::family(&server, &euis).get(&changes_path(&siti)).json().unwrap();
        assert_eq!(history[0]["kind"], "recipient_changed");
        assert_eq!(history[0]["reason"], "ibu Siti meninggal; kakak perempuan mengasuh");
        assert_eq!(history[0]["decided_by"], approval["decided_by"]);
        let audit: Value = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=family&object_id={}", siti.family_id)).json().unwrap();
        let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|event| event["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"family.data_change_pending") && actions.contains(&"family.data_change_approved"), "{audit}");
        assert_ledger_clean(&database.store());
    }

    fn a_move_within_the_regency_applies_at_once_and_one_across_regencies_needs_another_person(database) {
        let server = TestServer::start(&database);
        add_villages(&server);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let (family, _) = register_family(&operator, "3204126208920071");
        assert_eq!(families_counted(&operator, "32.04.13.2002")["total"], 0);

        let near = recorded(&operator, &family, json!({"kind": "village_moved", "village_code": "32.04.13.2002"}), "pindah rumah ke Cimekar");
        assert_eq!(near["status"], "applied", "a move inside Kabupaten Bandung needs no second person");
        assert_eq!(profile(&operator, &family)["village"], "32.04.13.2002");
        assert_eq!(families_counted(&operator, "32.04.13.2002")["active"], 1, "counted in the new village");

        // Entered by the supervisor: she may not approve it herself; another approver does.
        let far = recorded(&supervisor, &family, json!({"kind": "village_moved", "village_code": "32.73.01.1001"}), "pindah ke Kota Bandung");
        assert_eq!(far["status"], "pending");
        let reason = json!({"reason": "surat pindah diperiksa"});
        assert_problem(supervisor.post(&decision_path(&family, &far, "approve"), &reason), 403, "CHANGE_SELF_APPROVAL");
        let admin = Session::operator(&server, "admin");
        assert_problem(admin.post(&decision_path(&family, &far, "approve"), &json!({"reason": " "})), 400, "INVALID_REQUEST");
        assert_problem(admin.post(&decision_path(&family, &far, "reject"), &json!({})), 400, "INVALID_REQUEST");
        assert_problem(Session::operator(&server, "operator.jateng").post(&decision_path(&family, &far, "approve"), &reason), 404, "NOT_FOUND");
        assert_eq!(profile(&operator, &family)["village"], "32.04.13.2002", "nothing moved");
        approved(admin.post(&decision_path(&family, &far, "approve"), &reason));
        assert_eq!(profile(&operator, &family)["village"], "32.73.01.1001");
        assert_eq!(families_counted(&operator, "32.73.01.1001")["active"], 1);
        assert_eq!(families_counted(&operator, "32.04.13.2002")["total"], 0, "the old village no longer counts it");
        assert_eq!(families_counted(&operator, "32.04")["total"], families_counted(&operator, "32.04.12.2001")["total"]);

        // A rejected move changes nothing, and a rejection is kept with its reason.
        let back = recorded(&operator, &family, json!({"kind": "village_moved", "village_code": "32.04.12.2001"}), "kembali ke Cileunyi");
        let rejected = approved(supervisor.post(&decision_path(&family, &back, "reject"), &json!({"reason": "belum ada surat pindah"})));
        assert_eq!((rejected["status"].as_str(), rejected["decision_reason"].as_str()), (Some("rejected"), Some("belum ada surat pindah")));
        assert_problem(admin.post(&decision_path(&family, &back, "approve"), &reason), 409, "CHANGE_ALREADY_DECIDED");
        assert_eq!(profile(&operator, &family)["village"], "32.73.01.1001");
        let statuses: Vec<String> = operator.get(&changes_path(&family)).json::<Value>().unwrap().as_array().unwrap()
            .iter().map(|change| change["status"].as_str().unwrap().to_owned()).collect();
        assert_eq!(statuses, ["applied", "applied", "rejected"]);
        assert_problem(supervisor.post(&format!("{}/999999/approve", changes_path(&family)), &reason), 404, "NOT_FOUND");
    }

    fn a_family_left_without_a_pkh_component_exits_at_the_cycle_close_and_a_suspended_one_waits(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let (leaving, child) = register_family(&operator, "3204126208920081");
        let (suspended, other_child) = register_family(&operator, "3204126208920091");
        let failed = json!({"family_id": suspended.family_id, "cycle": "2017-1", "complied": false, "member_id": other_child,
            "obligation": "school_attendance"});
        assert_eq!(operator.post("/v1/verifications", &failed).status(), 204);
        for (family, member) in [(&leaving, child), (&suspended, other_child)] {
            let left = recorded(&operator, family, json!({"kind": "member_leaves", "member_id": member, "reason": "left_school"}), "lulus, bekerja");
            assert_eq!(left["natural_exit_due"], true);
            assert_eq!(profile(&operator, family)["natural_exit_due"], true);
        }

        let closed: Value = approved(supervisor.post("/v1/cycles/2017-1/close", &json!({})));
        assert_eq!((closed["natural_exits"].as_i64(), closed["natural_exits_waiting"].as_i64()), (Some(1), Some(1)), "{closed}");
        let exited = profile(&operator, &leaving);
        assert_eq!(exited["status"], "graduated");
        assert_eq!((exited["exit"]["kind"].as_str(), exited["exit"]["reason"].as_str()), (Some("natural_exit"), Some("sudah_tidak_ada_komponen_pkh")));
        let waiting = profile(&operator, &suspended);
        assert_eq!((waiting["status"].as_str(), waiting["natural_exit_due"].as_bool()), (Some("suspended"), Some(true)), "suspended: the exit waits");

        // It complies in the next cycle, is released, and then exits.
        let complied = json!({"family_id": suspended.family_id, "cycle": "2017-2", "complied": true});
        assert_eq!(operator.post("/v1/verifications", &complied).status(), 204);
        let next: Value = approved(supervisor.post("/v1/cycles/2017-2/close", &json!({})));
        assert_eq!((next["natural_exits"].as_i64(), next["natural_exits_waiting"].as_i64()), (Some(1), Some(0)), "{next}");
        assert_eq!(profile(&operator, &suspended)["status"], "graduated");

        // Neither gets a PKH stage line any more; the demo families still do.
        let stage = disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 3, "region": "32.04.12.2001"}));
        let lines = stage["lines"].to_string();
        assert!(stage["paid_lines"].as_i64().unwrap() > 0, "{stage}");
        for family in [&leaving, &suspended] {
            let pockets: Value = operator.get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
            let pkh = pockets.as_array().unwrap().iter().find(|pocket| pocket["kind"] == "wallet_pkh").unwrap();
            assert_eq!(pkh["balance"], "0.00", "no stage for a family that exited: {lines}");
        }
        let audit: Value = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=family&object_id={}", leaving.family_id)).json().unwrap();
        assert!(audit.to_string().contains("family.exited"), "{audit}");
        assert_ledger_clean(&database.store());
    }
}
