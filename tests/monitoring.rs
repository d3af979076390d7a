//! The monitoring endpoints over HTTP, on both backends: on a seeded scenario every
//! figure agrees with the ledger to the rupiah, from the country down to one family, and
//! an operator of one province sees nothing of another.

use std::collections::HashMap;

use chrono::Datelike;
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use kks_api::domain::edc::business_date;
use kks_api::domain::money::rupiah_from_minor;
use kks_api::store::{Store, StoreError, Tx};
use serde_json::{json, Value};

use crate::disbursements::disburse;
use crate::support::api::{assert_problem, keyed, with, Session, Terminal};
use crate::support::figures::assert_figures_match_ledger;
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

const WITHDRAW: &str = "/v1/edc/cash-withdrawals";
const TO_SAVINGS: &str = "/v1/edc/wallet-to-savings";
const PURCHASE: &str = "/v1/edc/purchases";
const POCKETS: [&str; 4] = ["wallet_pkh", "wallet_bpnt", "wallet_lpg", "savings"];

#[derive(QueryableByName)]
struct LedgerPocket {
    #[diesel(sql_type = Text)]
    pocket: String,
    #[diesel(sql_type = BigInt)]
    balance_minor: i64,
    #[diesel(sql_type = BigInt)]
    held_minor: i64,
    #[diesel(sql_type = BigInt)]
    blocked_minor: i64,
}

/// Balance, held and blocked money of the families' pockets in a region, summed straight
/// from the ledger's accounts (not from any monitoring table).
fn ledger_pockets(store: &Store, region: Option<&str>) -> HashMap<String, (i64, i64, i64)> {
    let filter = region
        .map_or_else(String::new, |code| format!("AND (f.village_code = '{code}' OR f.village_code LIKE '{code}.%')"));
    let sql = format!(
        "SELECT a.kind AS pocket, CAST(SUM(a.balance_minor) AS BIGINT) AS balance_minor,
                CAST(SUM(a.held_minor) AS BIGINT) AS held_minor,
                CAST(SUM(CASE WHEN a.blocked_reason IS NULL THEN 0 ELSE a.balance_minor - a.held_minor END) AS BIGINT)
                    AS blocked_minor
         FROM accounts a JOIN families f ON CAST(f.id AS TEXT) = a.owner_id
         WHERE a.owner_kind = 'family' {filter} GROUP BY a.kind"
    );
    let rows: Vec<LedgerPocket> = store
        .read(|tx| -> Result<_, StoreError> {
            Ok(match tx {
                Tx::Sqlite(connection) => diesel::RunQueryDsl::load(diesel::sql_query(&sql), *connection)?,
                Tx::Postgres(connection) => diesel::RunQueryDsl::load(diesel::sql_query(&sql), *connection)?,
            })
        })
        .unwrap();
    rows.into_iter().map(|row| (row.pocket, (row.balance_minor, row.held_minor, row.blocked_minor))).collect()
}

fn pocket<'a>(figures: &'a Value, kind: &str) -> &'a Value {
    figures["pockets"].as_array().unwrap().iter().find(|pocket| pocket["pocket"] == kind).unwrap()
}

fn rupiah(minor: i64) -> String {
    rupiah_from_minor(minor).to_string()
}

/// Every pocket's balance, held and blocked money in `figures` equals the ledger's for
/// the region (no hold in these tests is past its release time).
fn assert_agrees_with_ledger(store: &Store, figures: &Value, region: Option<&str>) {
    let ledger = ledger_pockets(store, region);
    for kind in POCKETS {
        let (balance, held, blocked) = ledger.get(kind).copied().unwrap_or((0, 0, 0));
        let shown = pocket(figures, kind);
        assert_eq!(shown["balance"], rupiah(balance), "{kind} balance in {region:?}: {shown}");
        assert_eq!(shown["held"], rupiah(held), "{kind} held in {region:?}: {shown}");
        assert_eq!(shown["blocked"], rupiah(blocked), "{kind} blocked in {region:?}: {shown}");
        assert_eq!(shown["available"], rupiah(balance - held - blocked), "{kind} available in {region:?}");
    }
}

fn overview(session: &Session, query: &str) -> Value {
    let response = session.get(&format!("/v1/monitoring/overview{query}"));
    assert_eq!(response.status(), 200, "{query}");
    response.json().unwrap()
}

on_both_backends! {
    fn every_figure_agrees_with_the_ledger_from_the_country_down_to_a_family(database) {
        let server = TestServer::start(&database);
        let store = database.store();
        let admin = Session::operator(&server, "admin");
        let jabar = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let demo = server.demo().clone();
        let (siti, dewi, entin) = (&demo.families[0], &demo.families[1], &demo.families[2]);
        let before = overview(&jabar, "");

        // Entin's elderly member missed care visits in cycle 2017-2: suspended, PKH blocked.
        let member: Value = jabar.get(&format!("/v1/families/{}", entin.family_id)).json().unwrap();
        let member_id = member["members"][0]["id"].as_i64().unwrap();
        let failed = json!({"family_id": entin.family_id, "cycle": "2017-2", "complied": false, "member_id": member_id, "obligation": "elderly_care"});
        assert_eq!(jabar.post("/v1/verifications", &failed).status(), 204);
        let complied = json!({"family_id": siti.family_id, "cycle": "2017-2", "complied": true});
        assert_eq!(jabar.post("/v1/verifications", &complied).status(), 204);
        assert_eq!(supervisor.post("/v1/cycles/2017-2/close", &json!({})).status(), 200);

        // PKH stage 2 of 2017 (paid now: late) and this month's BPNT (on time).
        disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 2}));
        let today = business_date(kks_api::store::now());
        let schedule = json!([{"programme": "bpnt", "year": today.year(), "category": "all", "period": today.month(), "amount_minor": 11_000_000}]);
        assert_eq!(admin.post("/v1/benefit-schedules", &schedule).status(), 204);
        disburse(&server, json!({"programme": "bpnt", "year": today.year(), "period": today.month()}));

        // Card transactions: PKH to savings, cash (one withdrawal reversed), goods.
        let agent = Terminal::of(&server, "agen.cileunyi");
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        assert_eq!(agent.send(TO_SAVINGS, with(keyed(siti), json!({"amount": "500000"}))).status(), 200);
        assert_eq!(agent.send(WITHDRAW, with(keyed(siti), json!({"amount": "200000"}))).status(), 200);
        assert_eq!(agent.send_with(WITHDRAW, "000900", "T3204001-000900", with(keyed(siti), json!({"amount": "50000"}))).status(), 200);
        assert_eq!(agent.reverse("000900", "T3204001-R000900").status(), 200);
        let rice = json!({"programme": "bpnt", "basket": [{"sku": "BERAS-1KG", "quantity": 2}]});
        assert_eq!(warong.send(PURCHASE, with(keyed(dewi), rice)).status(), 200);
        let gas = json!({"programme": "lpg", "basket": [{"sku": "LPG-3KG", "quantity": 1}]});
        assert_eq!(warong.send(PURCHASE, with(keyed(dewi), gas)).status(), 200);

        // The country, each province, and Jawa Barat down to the village, once the
        // figures hold every journal.
        admin.figures_caught_up();
        let national = overview(&admin, "");
        assert_agrees_with_ledger(&store, &national["figures"], None);
        for child in national["children"].as_array().unwrap() {
            let code = child["region"]["code"].as_str().unwrap();
            assert_agrees_with_ledger(&store, &child["figures"], Some(code));
        }
        let province = overview(&jabar, "");
        assert_eq!(province["region"]["code"], "32", "an operator's overview starts at its region");
        assert_agrees_with_ledger(&store, &province["figures"], Some("32"));
        let pkh = pocket(&province["figures"], "wallet_pkh");
        assert_eq!((pkh["credited"]["amount"].as_str(), pkh["credited"]["families"].as_i64()), (Some("3000000.00"), Some(3)));
        assert_eq!((pkh["moved_to_savings"]["amount"].as_str(), pkh["moved_to_savings"]["families"].as_i64()), (Some("500000.00"), Some(1)));
        assert_eq!(pkh["blocked"], "1000000.00", "Entin's blocked wallet: stage 1 and stage 2 paid into it");
        assert_eq!(pkh["held_by_reason"], json!([]), "a suspension is a block, not a hold");
        let savings = pocket(&province["figures"], "savings");
        assert_eq!(savings["withdrawn_in_cash"]["amount"], "200000.00", "the reversed withdrawal nets out");
        assert_eq!(savings["withdrawn_in_cash"]["entries"], 1);
        assert_eq!(savings["received_from_wallets"]["amount"], "500000.00");
        assert_eq!(pocket(&province["figures"], "wallet_bpnt")["spent_on_goods"]["amount"], "22000.00");
        assert_eq!(pocket(&province["figures"], "wallet_bpnt")["credited"]["amount"], "660000.00");
        assert_eq!(pocket(&province["figures"], "wallet_lpg")["absorbed"], "13500.00");
        assert_eq!(province["figures"]["families"]["suspended"], 1);
        assert_ne!(before["figures"], province["figures"], "the figures follow the ledger");
        let series_withdrawn: Vec<&Value> = province["series"].as_array().unwrap().iter()
            .filter(|point| point["pocket"] == "savings" && point["flow"] == "withdrawn_in_cash").collect();
        assert_eq!(series_withdrawn.len(), 1);
        assert_eq!((series_withdrawn[0]["day"].as_str(), series_withdrawn[0]["amount"].as_str()), (Some(today.to_string().as_str()), Some("200000.00")));

        let mut region = "32".to_owned();
        for expected in ["32.04", "32.04.12", "32.04.12.2001"] {
            let level = overview(&jabar, &format!("?region={region}"));
            let children = level["children"].as_array().unwrap();
            assert_eq!(children.len(), 1, "{level}");
            assert_eq!(children[0]["region"]["code"], expected);
            assert_eq!(children[0]["figures"], level["figures"], "one child holds all of {region}");
            region = expected.to_owned();
        }
        let village = overview(&jabar, &format!("?region={region}"));
        assert_eq!(village["children"], json!([]));
        assert_eq!(village["path"].as_array().unwrap().len(), 3);
        assert_agrees_with_ledger(&store, &village["figures"], Some(&region));

        // The village's families, and Siti's page with its timeline.
        let families: Value = jabar.get(&format!("/v1/monitoring/families?region={region}")).json().unwrap();
        let line = families["families"].as_array().unwrap().iter().find(|line| line["id"] == siti.family_id).unwrap();
        assert_eq!((line["withdrawn_in_cash"].as_str(), line["absorbed"].as_str()), (Some("200000.00"), Some("500000.00")));
        let page: Value = jabar.get(&format!("/v1/monitoring/families/{}", siti.family_id)).json().unwrap();
        assert_eq!(pocket(&page, "savings")["balance"], "300000.00");
        assert_eq!(pocket(&page, "savings")["balance"].as_str(), Some(rupiah(ledger_balance_of(&store, siti.family_id, "savings")).as_str()));
        let timeline = page["timeline"].as_array().unwrap();
        assert!(timeline.iter().any(|entry| entry["detail"].as_str().unwrap().starts_with("reversal of cash_withdrawal")), "{page}");
        assert!(timeline.iter().any(|entry| entry["event"] == "verification" && entry["detail"] == "cycle 2017-2: complied"));
        let found: Value = jabar.post("/v1/monitoring/families/search", &json!({"q": "aminah"})).json().unwrap();
        assert_eq!(found["families"][0]["id"], siti.family_id);
        let by_nik: Value = jabar.post("/v1/monitoring/families/search", &json!({"q": "3204125508850001"})).json().unwrap();
        assert_eq!(by_nik["families"].as_array().unwrap().len(), 1);

        // Indicators: stages on time and in the right amount, e-wallet to savings,
        // verification and outcomes, per region and per facilitator area.
        let area = jabar.post("/v1/facilitators", &json!({"name": "Pendamping Baru", "villages": ["32.04.12.2001"]}));
        assert_eq!(area.status(), 201);
        let indicators: Value = jabar.get("/v1/monitoring/indicators").json().unwrap();
        let stage = |programme: &str, year: i32, period: u32| {
            indicators["stages"].as_array().unwrap().iter()
                .find(|stage| stage["programme"] == programme && stage["year"] == year && stage["period"] == period)
                .cloned().unwrap()
        };
        let late = stage("pkh", 2017, 2);
        assert_eq!((late["families_paid"].as_i64(), late["paid_on_time"].as_i64(), late["paid_right_amount"].as_i64()), (Some(3), Some(0), Some(3)));
        assert_eq!(late["amount_paid"], "1500000.00");
        let on_time = stage("bpnt", today.year(), today.month());
        assert_eq!((on_time["paid_on_time"].as_i64(), on_time["on_time_percent"].as_str()), (Some(3), Some("100")));
        assert_eq!(indicators["savings_transfer"], json!({"families_credited": 3, "families_moved": 1, "percent": "33.3"}));
        let areas = indicators["savings_transfer_by_facilitator"].as_array().unwrap();
        assert_eq!(areas.len(), 2, "the demo's Stywan and the new one, both in Jawa Barat: {areas:?}");
        for area in areas {
            assert_eq!((area["families_credited"].as_i64(), area["families_moved"].as_i64()), (Some(3), Some(1)), "{area}");
        }
        assert_eq!(indicators["verifications"][0], json!({"cycle": "2017-2", "complied": 1, "failed": 1, "failed_by_obligation": {"elderly_care": 1}}));
        assert_eq!(indicators["cycle_outcomes"][0]["suspended"], 1);
        assert_eq!(indicators["families"]["suspended"], 1);

        // Agent activity of the day, net of the reversal.
        let agents: Value = jabar.get("/v1/monitoring/agents").json().unwrap();
        let activity = |username: &str| agents["agents"].as_array().unwrap().iter().find(|agent| agent["username"] == username).cloned().unwrap();
        let bank_agent = activity("agen.cileunyi");
        assert_eq!((bank_agent["cash_out"].as_str(), bank_agent["cash_withdrawals"].as_i64()), (Some("200000.00"), Some(1)));
        let e_warong = activity("ewarong.cileunyi");
        assert_eq!((e_warong["goods_sold"].as_str(), e_warong["purchases"].as_i64()), (Some("35500.00"), Some(2)));

        // CSV, by parameter or by Accept.
        let csv = jabar.get("/v1/monitoring/overview?format=csv");
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().unwrap();
        assert!(text.starts_with("region,name,level,pocket,"), "{text}");
        assert!(text.contains("\r\n32,Jawa Barat,province,wallet_pkh,pkh,3,3000000.00,3,"), "{text}");
        let accepted = jabar.authorized(server.client.get(server.url("/v1/monitoring/indicators")).header("accept", "text/csv")).send().unwrap();
        assert!(accepted.text().unwrap().contains("savings_transfer,total,percent,33.3"));
        assert_figures_match_ledger(&admin, &store);
        assert_ledger_clean(&store);
    }

    fn an_operator_of_one_province_sees_nothing_of_another(database) {
        let server = TestServer::start(&database);
        let jateng = Session::operator(&server, "operator.jateng");
        let siti = server.demo().families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        assert_eq!(agent.send(TO_SAVINGS, with(keyed(&siti), json!({"amount": "100000"}))).status(), 200);

        jateng.figures_caught_up();
        let own = overview(&jateng, "");
        assert_eq!(own["region"]["code"], "33");
        assert_eq!(own["figures"]["families"]["total"], 1);
        assert_eq!(pocket(&own["figures"], "savings")["received_from_wallets"]["amount"], "0.00");
        assert!(own["path"].as_array().unwrap().is_empty());
        assert_agrees_with_ledger(&database.store(), &own["figures"], Some("33"));
        for path in [
            "/v1/monitoring/overview?region=32".to_owned(),
            "/v1/monitoring/overview?region=32.04.12.2001".to_owned(),
            "/v1/monitoring/families?region=32.04.12.2001".to_owned(),
            format!("/v1/monitoring/families/{}", siti.family_id),
            "/v1/monitoring/indicators?region=32".to_owned(),
            "/v1/monitoring/agents?region=32".to_owned(),
            "/v1/monitoring/overview?region=34".to_owned(),
        ] {
            assert_problem(jateng.get(&path), 404, "NOT_FOUND");
        }
        let searched: Value = jateng.post("/v1/monitoring/families/search", &json!({"q": "siti"})).json().unwrap();
        assert_eq!(searched["families"], json!([]), "a search stays inside the region");
        let agents: Value = jateng.get("/v1/monitoring/agents").json().unwrap();
        assert_eq!(agents["agents"], json!([]), "Jawa Barat's agents are not listed");
        let indicators: Value = jateng.get("/v1/monitoring/indicators").json().unwrap();
        assert_eq!(indicators["savings_transfer"]["families_moved"], 0);
        assert_problem(jateng.post("/v1/facilitators", &json!({"name": "X", "villages": ["32.04.12.2001"]})), 404, "NOT_FOUND");

        assert_problem(Session::agent(&server, "agen.cileunyi").get("/v1/monitoring/overview"), 403, "FORBIDDEN");
        assert_problem(Session::family(&server, &siti).get(&format!("/v1/monitoring/families/{}", siti.family_id)), 403, "FORBIDDEN");
        assert_problem(server.get("/v1/monitoring/overview"), 401, "UNAUTHENTICATED");
        for bad in ["?region=3", "?days=0", "?days=400", "?format=xml", "?region=32&extra=1"] {
            assert_problem(jateng.get(&format!("/v1/monitoring/overview{bad}")), 400, "INVALID_REQUEST");
        }
        for bad in ["?limit=0", "?limit=1000", "?limit=-5", "?after=-1"] {
            assert_problem(jateng.get(&format!("/v1/monitoring/families{bad}")), 400, "PAGING_INVALID");
        }
        for bad in ["?q=3204125508850001", "?after=x"] {
            assert_problem(jateng.get(&format!("/v1/monitoring/families{bad}")), 400, "INVALID_REQUEST");
        }
        assert_problem(jateng.post("/v1/monitoring/families/search", &json!({"q": "123"})), 400, "INVALID_REQUEST");
        assert_problem(jateng.get("/v1/monitoring/agents?date=2026-13-01"), 400, "INVALID_REQUEST");
        assert_problem(jateng.post("/v1/facilitators", &json!({"name": "X", "villages": ["33.74.01"]})), 400, "INVALID_REQUEST");
        assert_problem(jateng.post("/v1/facilitators", &json!({"name": "", "villages": ["33.74.01.1001"]})), 400, "INVALID_REQUEST");
    }
}

fn ledger_balance_of(store: &Store, family_id: i64, kind: &str) -> i64 {
    use kks_api::domain::ledger::{AccountKind, OwnerKind};
    let kind: AccountKind = kind.parse().unwrap();
    store
        .read(|tx| {
            kks_api::ledger::accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family_id.to_string(), kind)
        })
        .unwrap()
        .unwrap()
        .balance_minor
}
