//! Graduation and exit (seeds: "KPM graduasi (alamiah, exit mandiri)") over HTTP on both
//! backends: a graduated family gets no further PKH stage, keeps and draws what its
//! wallets hold (nothing goes back to the treasury), keeps its food and LPG assistance
//! unless its exit stopped them, and appears on the seed's monitoring form.

use chrono::Datelike;
use serde_json::{json, Value};

use crate::disbursements::{disburse, register_terminated_family};
use crate::support::api::{assert_problem, keyed, with, FamilyCredentials, Session, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

/// This year: a family's year in is the year it was registered, and the year out is not
/// before it.
fn this_year() -> i32 {
    chrono::Utc::now().year()
}

fn exit_path(family: &FamilyCredentials) -> String {
    format!("/v1/families/{}/exit", family.family_id)
}

fn pocket(operator: &Session, family: &FamilyCredentials, kind: &str) -> Value {
    let pockets: Value = operator.get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
    pockets.as_array().unwrap().iter().find(|pocket| pocket["kind"] == kind).cloned().unwrap_or(Value::Null)
}

fn status(operator: &Session, family: &FamilyCredentials) -> String {
    let profile: Value = operator.get(&format!("/v1/families/{}", family.family_id)).json().unwrap();
    profile["status"].as_str().unwrap().to_owned()
}

pub fn approved(response: reqwest::blocking::Response) -> Value {
    assert_eq!(response.status(), 200, "{}", response.text().unwrap_or_default());
    response.json().unwrap()
}

on_both_backends! {
    fn a_family_that_graduates_sudah_mampu_gets_no_further_stage_and_keeps_and_draws_its_wallet(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let families = server.demo().families_in("32");
        let (siti, dewi, third) = (families[0].clone(), families[1].clone(), families[2].clone());
        assert_eq!(pocket(&operator, &siti, "wallet_pkh")["balance"], "500000.00", "the demo paid PKH stage 1");

        let body = json!({"kind": "self_exit", "reason": "sudah_mampu", "year_out": this_year(), "note": "usaha warung"});
        let exit = approved(operator.post(&exit_path(&siti), &body));
        assert_eq!((exit["status"].as_str(), exit["reason_wording"].as_str()), (Some("graduated"), Some("SUDAH MAMPU")));
        assert_eq!(exit["non_cash_continues"], true, "food and LPG go on unless the exit says otherwise");
        assert_eq!(status(&operator, &siti), "graduated");
        let profile: Value = Session::family(&server, &siti).get(&format!("/v1/families/{}", siti.family_id)).json().unwrap();
        assert_eq!(profile["exit"]["reason"], "sudah_mampu", "the family sees why it left: {profile}");
        let again = approved(operator.post(&exit_path(&siti), &body));
        assert_eq!(again["recorded_at"], exit["recorded_at"], "a retry answers the exit on file");
        let other = json!({"kind": "self_exit", "reason": "usaha_berkembang_pesat", "year_out": this_year()});
        assert_problem(operator.post(&exit_path(&siti), &other), 409, "ALREADY_EXITED");

        // Dewi leaves for good: no PKH component left, and her food and LPG stop too.
        let natural = json!({"kind": "natural_exit", "reason": "sudah_tidak_ada_komponen_pkh", "year_out": this_year(),
            "non_cash_continues": false});
        approved(operator.post(&exit_path(&dewi), &natural));

        // The next PKH stage pays the family still in the programme only; BPNT pays Siti
        // (her exit kept it) and not Dewi.
        let stage2 = disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 2, "region": "32.04.12.2001"}));
        assert_eq!((stage2["paid_lines"].as_i64(), stage2["failed_lines"].as_i64()), (Some(1), Some(0)), "{stage2}");
        assert_eq!(pocket(&operator, &third, "wallet_pkh")["balance"], "1000000.00");
        assert_eq!(pocket(&operator, &siti, "wallet_pkh")["balance"], "500000.00", "no stage 2 for a graduated family");
        assert_eq!(pocket(&operator, &dewi, "wallet_pkh")["balance"], "500000.00");
        let food = disburse(&server, json!({"programme": "bpnt", "year": 2017, "period": 2, "region": "32.04.12.2001"}));
        assert_eq!(food["paid_lines"], 2, "{food}");
        assert_eq!(pocket(&operator, &siti, "wallet_bpnt")["balance"], "220000.00");
        assert_eq!(pocket(&operator, &dewi, "wallet_bpnt")["balance"], "110000.00", "her exit stopped BPNT");

        // What the wallets hold is the family's: PKH to savings and cash at the agent, food
        // at the e-Warong.
        let agent = Terminal::of(&server, "agen.cileunyi");
        approved(agent.send("/v1/edc/wallet-to-savings", with(keyed(&siti), json!({"amount": "500000"}))));
        let cash = approved(agent.send("/v1/edc/cash-withdrawals", with(keyed(&siti), json!({"amount": "200000"}))));
        assert_eq!(cash["amount"], "200000.00");
        approved(agent.send("/v1/edc/wallet-to-savings", with(keyed(&dewi), json!({"amount": "500000"}))));
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        let rice = json!({"programme": "bpnt", "basket": [{"sku": "BERAS-1KG", "quantity": 5}]});
        approved(warong.send("/v1/edc/purchases", with(keyed(&dewi), rice.clone())));
        approved(warong.send("/v1/edc/purchases", with(keyed(&siti), rice)));
        assert_eq!(pocket(&operator, &siti, "savings")["balance"], "300000.00");

        // Nothing went back to the treasury.
        operator.figures_caught_up();
        let page: Value = operator.get(&format!("/v1/monitoring/families/{}", siti.family_id)).json().unwrap();
        let pkh = page["pockets"].as_array().unwrap().iter().find(|pocket| pocket["pocket"] == "wallet_pkh").unwrap();
        assert_eq!(pkh["returned_to_treasury"]["amount"], "0.00", "{pkh}");
        let reconciliation: Value = Session::operator(&server, "admin").get("/v1/reconciliation/pkh").json().unwrap();
        assert_eq!(reconciliation["total"]["returned_to_treasury"], "0.00", "{reconciliation}");

        // The monitoring form of the facilitator of Cileunyi Kulon, and the indicators.
        let indicators: Value = operator.get("/v1/monitoring/indicators").json().unwrap();
        assert_eq!(indicators["families"]["graduated"], 2, "{indicators}");
        assert_eq!(indicators["exits_by_reason"], json!({"sudah_mampu": 1, "sudah_tidak_ada_komponen_pkh": 1}));
        let stywan = indicators["savings_transfer_by_facilitator"].as_array().unwrap().iter()
            .find(|area| area["facilitator"]["name"] == "Stywan").unwrap()["facilitator"]["id"].as_i64().unwrap();
        let csv = operator.get(&format!("/v1/monitoring/graduations?facilitator={stywan}&format=csv"));
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let text = csv.text().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "no,facilitator,district,village,recipient_name,year_in,year_out,reason,note,kind,non_cash_continues,family_id");
        assert_eq!(lines.len(), 3, "{text}");
        let year = this_year();
        assert!(text.contains("1,Stywan,Cileunyi,Cileunyi Kulon,Siti Aminah,"), "{text}");
        assert!(text.contains(&format!(",{year},{year},SUDAH MAMPU,usaha warung,self_exit,true,{}", siti.family_id)), "{text}");
        assert!(text.contains(&format!(",SUDAH TIDAK ADA KOMPONEN PKH,,natural_exit,false,{}", dewi.family_id)), "{text}");
        let listed: Value = operator.get("/v1/monitoring/graduations").json().unwrap();
        assert_eq!(listed["exits"].as_array().unwrap().len(), 2, "{listed}");
        let elsewhere: Value = Session::operator(&server, "operator.jateng").get("/v1/monitoring/graduations").json().unwrap();
        assert_eq!(elsewhere["exits"], json!([]), "Jawa Tengah sees none of Jawa Barat's exits");
        assert_problem(Session::operator(&server, "operator.jateng").get(&format!("/v1/monitoring/graduations?facilitator={stywan}")), 404, "NOT_FOUND");

        // The audit trail says who, when and why.
        let audit: Value = Session::operator(&server, "admin").get(&format!("/v1/audit-events?object_kind=family&object_id={}", siti.family_id)).json().unwrap();
        let text = audit.to_string();
        assert!(text.contains("family.exited") && text.contains("SUDAH MAMPU") && text.contains("operator:"), "{audit}");
        assert_ledger_clean(&database.store());
    }

    fn an_exit_is_refused_for_a_terminated_family_another_province_and_bad_input_and_changes_nothing(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let budi = register_terminated_family(&operator, &supervisor, "3204126208920021");
        assert_eq!(status(&operator, &budi), "terminated");
        let body = json!({"kind": "self_exit", "reason": "sudah_mampu", "year_out": this_year()});
        let problem = assert_problem(operator.post(&exit_path(&budi), &body), 409, "FAMILY_NOT_ACTIVE");
        assert!(problem["detail"].as_str().unwrap().contains("terminated"), "{problem}");
        assert_eq!(status(&operator, &budi), "terminated");

        let siti = server.demo().families_in("32")[0].clone();
        assert_problem(Session::operator(&server, "operator.jateng").post(&exit_path(&siti), &body), 404, "NOT_FOUND");
        assert_problem(Session::agent(&server, "agen.cileunyi").post(&exit_path(&siti), &body), 403, "FORBIDDEN");
        assert_problem(Session::family(&server, &siti).post(&exit_path(&siti), &body), 403, "FORBIDDEN");
        for bad in [
            json!({"kind": "self_exit", "reason": "bosan", "year_out": this_year()}),
            json!({"kind": "pindah", "reason": "sudah_mampu", "year_out": this_year()}),
            json!({"kind": "natural_exit", "reason": "sudah_mampu", "year_out": this_year()}),
            json!({"kind": "self_exit", "reason": "sudah_mampu", "year_out": 2016}),
            json!({"kind": "self_exit", "reason": "sudah_mampu"}),
            json!({"kind": "self_exit", "reason": "sudah_mampu", "year_out": this_year(), "note": "x".repeat(201)}),
            json!({"kind": "self_exit", "reason": "sudah_mampu", "year_out": this_year(), "note": "a\u{0}b"}),
        ] {
            let response = operator.post(&exit_path(&siti), &bad);
            assert_eq!(response.status(), 400, "{bad}");
            assert_eq!(response.headers()["content-type"], "application/problem+json", "{bad}");
        }
        assert_problem(operator.post("/v1/families/999999/exit", &body), 404, "NOT_FOUND");
        assert_eq!(status(&operator, &siti), "active", "nothing changed");
        let listed: Value = operator.get("/v1/monitoring/graduations").json().unwrap();
        assert_eq!(listed["exits"], json!([]));
        assert_ledger_clean(&database.store());
    }
}
