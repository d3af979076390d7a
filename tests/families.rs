//! Families over HTTP: registration rules, and who may see a family and its balances.

use kks_api::domain::ledger::{AccountKind, OwnerKind};
use kks_api::ledger::accounts;
use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session};
use crate::support::ledger::{fund, rupiah};
use crate::support::{on_both_backends, TestDatabase, TestServer};

fn new_family(nik: &str) -> Value {
    json!({
        "nik": nik,
        "recipient_name": "Yayah Rokayah",
        "address": "Kp. Sukamaju RT 03/01",
        "village": "32.04.12.2001",
        "category": "regular",
        "members": [
            {"name": "Asep", "component": "school_child", "school_level": "smp"},
            {"name": "Yayah Rokayah", "component": "pregnant_or_nursing"}
        ]
    })
}

fn family_count(database: &TestDatabase) -> usize {
    use diesel::prelude::*;
    use kks_api::store::schema::families;
    let counted: i64 = database
        .store()
        .read(|tx| -> Result<i64, kks_api::store::StoreError> {
            Ok(match tx {
                kks_api::store::Tx::Sqlite(connection) => families::table.count().get_result(*connection)?,
                kks_api::store::Tx::Postgres(connection) => families::table.count().get_result(*connection)?,
            })
        })
        .unwrap();
    usize::try_from(counted).unwrap()
}

on_both_backends! {
    fn an_operator_registers_a_family_in_its_region(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let response = operator.post("/v1/families", &new_family("3204126208920005"));
        assert_eq!(response.status(), 201);
        let profile: Value = response.json().unwrap();
        assert_eq!(profile["status"], "active");
        assert_eq!(profile["members"].as_array().unwrap().len(), 2);
        assert_eq!(profile["cards"], json!([]));
        let id = profile["id"].as_i64().unwrap();
        assert_eq!(operator.get(&format!("/v1/families/{id}")).json::<Value>().unwrap()["nik"], "3204126208920005");
    }

    fn registrations_that_break_the_rules_are_refused_and_change_nothing(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let before = family_count(&database);
        let mut elderly_without_elderly = new_family("3204126208920005");
        elderly_without_elderly["category"] = json!("elderly");
        let mut outside_region = new_family("3374016208920005");
        outside_region["village"] = json!("33.74.01.1001");
        let mut unknown_village = new_family("3204126208920005");
        unknown_village["village"] = json!("32.04.12.2999");
        let mut no_school_level = new_family("3204126208920005");
        no_school_level["members"][0]["school_level"] = json!(null);
        let cases = [
            (new_family("1234"), 400, "NIK_INVALID"),
            (new_family("3204123208920005"), 400, "NIK_INVALID"),
            (new_family("0004126208920005"), 400, "NIK_INVALID"),
            (elderly_without_elderly, 422, "FAMILY_RULES_NOT_MET"),
            (no_school_level, 422, "FAMILY_RULES_NOT_MET"),
            (new_family("3204125508850001"), 409, "FAMILY_EXISTS"),
            (outside_region, 403, "FORBIDDEN"),
            (unknown_village, 400, "INVALID_REQUEST"),
        ];
        for (body, status, code) in cases {
            assert_problem(operator.post("/v1/families", &body), status, code);
        }
        let agent = Session::agent(&server, "agen.cileunyi");
        assert_problem(agent.post("/v1/families", &new_family("3204126208920005")), 403, "FORBIDDEN");
        assert_eq!(family_count(&database), before, "no refused registration wrote anything");
    }

    fn a_family_sees_only_itself_and_an_operator_only_its_region(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let (mine, neighbour) = (&demo.families[0], &demo.families[1]);
        let semarang = demo.families_in("33")[0];
        let family = Session::family(&server, mine);
        assert_eq!(family.get(&format!("/v1/families/{}", mine.family_id)).status(), 200);
        for path in [format!("/v1/families/{}", neighbour.family_id), format!("/v1/families/{}/balances", neighbour.family_id)] {
            assert_problem(family.get(&path), 404, "NOT_FOUND");
        }
        let jateng = Session::operator(&server, "operator.jateng");
        assert_problem(jateng.get(&format!("/v1/families/{}", mine.family_id)), 404, "NOT_FOUND");
        assert_eq!(jateng.get(&format!("/v1/families/{}", semarang.family_id)).status(), 200);
        assert_eq!(Session::operator(&server, "admin").get(&format!("/v1/families/{}", semarang.family_id)).status(), 200);
        let agent = Session::agent(&server, "agen.cileunyi");
        assert_problem(agent.get(&format!("/v1/families/{}", mine.family_id)), 404, "NOT_FOUND");
        assert_problem(family.get("/v1/families/999999"), 404, "NOT_FOUND");
    }

    fn balances_show_each_pocket_and_explain_every_block(database) {
        let server = TestServer::start_after(&database, &[], |store, demo| {
            let pkh = store
                .read(|tx| accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &demo.families[0].family_id.to_string(), AccountKind::WalletPkh))
                .unwrap()
                .unwrap();
            fund(store, pkh.id, rupiah(500_000));
        });
        let family = server.demo().families[0].clone();
        let operator = Session::operator(&server, "operator.jabar");
        let placed = operator.post(&format!("/v1/families/{}/holds", family.family_id),
            &json!({"pocket": "wallet_pkh", "amount": "390000", "reference": "case 17/2026"}));
        assert_eq!(placed.status(), 201, "{}", placed.text().unwrap_or_default());

        let pockets: Value = Session::family(&server, &family).get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
        let kinds: Vec<&str> = pockets.as_array().unwrap().iter().map(|pocket| pocket["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["savings", "wallet_pkh", "wallet_bpnt", "wallet_lpg"]);
        let pkh = &pockets[1];
        // The demo's stage 1 (Rp 500,000) plus the Rp 500,000 funded above.
        assert_eq!((pkh["balance"].as_str(), pkh["held"].as_str(), pkh["available"].as_str()), (Some("1000000.00"), Some("390000.00"), Some("610000.00")));
        let hold = &pkh["holds"][0];
        assert_eq!((hold["reason"].as_str(), hold["reference"].as_str()), (Some("investigation"), Some("case 17/2026")));
        assert!(hold["explanation"]["id"].as_str().unwrap().contains("pemeriksaan"));
        assert!(hold["explanation"]["en"].as_str().unwrap().contains("operator"));
        assert_eq!(pockets[0]["balance"], "0.00");
    }
}
