//! Stage disbursements and the conditionality cycle over HTTP, on both backends,
//! following the programme's rules (DESIGN.md section 2).

use std::time::{Duration, Instant};

use kks_api::domain::ledger::{AccountKind, OwnerKind};
use serde_json::{json, Value};

use crate::support::api::{assert_problem, keyed, wib, with, FamilyCredentials, Session, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

mod exactly_once;

/// Registers a regular family with a school child in Cileunyi and issues its card.
pub fn register_family(operator: &Session, nik: &str) -> (FamilyCredentials, i64) {
    let family: Value = operator
        .post(
            "/v1/families",
            &json!({"nik": nik, "recipient_name": "Ibu Uji", "address": "Kp. Uji",
            "village": "32.04.12.2001", "category": "regular",
            "members": [{"name": "Anak Uji", "component": "school_child", "school_level": "sd"}]}),
        )
        .json()
        .unwrap();
    let id = family["id"].as_i64().unwrap();
    let member = family["members"][0]["id"].as_i64().unwrap();
    let issued: Value = operator.post(&format!("/v1/families/{id}/cards"), &json!({"bank": "bri"})).json().unwrap();
    let credentials = FamilyCredentials {
        family_id: id,
        village: "32.04.12.2001".to_owned(),
        card_number: issued["card"]["card_number"].as_str().unwrap().to_owned(),
        pin: issued["pin"].as_str().unwrap().to_owned(),
    };
    (credentials, member)
}

/// Registers a family whose school child misses school for three cycles, closed by a
/// supervisor, so that its membership ends (terminated).
pub fn register_terminated_family(operator: &Session, supervisor: &Session, nik: &str) -> FamilyCredentials {
    let (family, child) = register_family(operator, nik);
    for cycle in ["2017-1", "2017-2", "2017-3"] {
        let failed = json!({"family_id": family.family_id, "cycle": cycle, "complied": false, "member_id": child,
            "obligation": "school_attendance"});
        assert_eq!(operator.post("/v1/verifications", &failed).status(), 204);
        assert_eq!(supervisor.post(&format!("/v1/cycles/{cycle}/close"), &json!({})).status(), 200);
    }
    family
}

/// Prepares, approves (another person) and executes a batch, and waits for it.
pub fn disburse(server: &TestServer, body: Value) -> Value {
    let operator = Session::operator(server, "operator.jabar");
    let supervisor = Session::operator(server, "supervisor.jabar");
    let prepared = operator.post("/v1/disbursements", &body);
    assert_eq!(prepared.status(), 201, "{}", prepared.text().unwrap_or_default());
    let id = prepared.json::<Value>().unwrap()["batch"]["id"].as_i64().unwrap();
    assert_eq!(supervisor.post(&format!("/v1/disbursements/{id}/approve"), &json!({})).status(), 200);
    assert_eq!(operator.post(&format!("/v1/disbursements/{id}/execute"), &json!({})).status(), 202);
    wait_completed(&operator, id)
}

pub fn wait_completed(operator: &Session, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let view: Value = operator.get(&format!("/v1/disbursements/{id}")).json().unwrap();
        if view["batch"]["status"] == "completed" {
            return view;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "batch {id} did not complete: {view}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One of a family's pockets (`wallet_pkh`, `savings`…), as the family sees it.
fn pocket(server: &TestServer, family: &FamilyCredentials, kind: &str) -> Value {
    let pockets: Value =
        Session::family(server, family).get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
    pockets.as_array().unwrap().iter().find(|pocket| pocket["kind"] == kind).cloned().unwrap_or(Value::Null)
}

fn pkh(server: &TestServer, family: &FamilyCredentials) -> Value {
    pocket(server, family, "wallet_pkh")
}

fn verify(operator: &Session, family_id: i64, cycle: &str, failed_member: Option<i64>) {
    let body = match failed_member {
        None => json!({"family_id": family_id, "cycle": cycle, "complied": true}),
        Some(member) => {
            json!({"family_id": family_id, "cycle": cycle, "complied": false, "member_id": member, "obligation": "school_attendance"})
        }
    };
    assert_eq!(operator.post("/v1/verifications", &body).status(), 204);
}

fn close(supervisor: &Session, cycle: &str) -> Value {
    let response = supervisor.post(&format!("/v1/cycles/{cycle}/close"), &json!({}));
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

on_both_backends! {
    fn the_seeds_story_stage_payment_suspension_release_and_termination(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let agent = Terminal::of(&server, "agen.cileunyi");
        let (ani, ani_child) = register_family(&operator, "3204126208920005");
        let (budi, budi_child) = register_family(&operator, "3204126208920013");

        // Stage 1: a regular family receives Rp 500,000 and withdraws it.
        let stage1 = disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 1}));
        assert_eq!(stage1["failed_lines"], 0);
        assert_eq!(pkh(&server, &ani)["balance"], "500000.00");
        let moved = agent.send("/v1/edc/wallet-to-savings", with(keyed(&ani), json!({"amount": "500000"})));
        assert_eq!(moved.status(), 200);
        assert_eq!(agent.send("/v1/edc/cash-withdrawals", with(keyed(&ani), json!({"amount": "500000"}))).status(), 200);

        // Cycle 2: both fail. Stage 2 is credited but blocked; a withdrawal of it is refused.
        verify(&operator, ani.family_id, "2017-2", Some(ani_child));
        verify(&operator, budi.family_id, "2017-2", Some(budi_child));
        let closed = close(&supervisor, "2017-2");
        assert_eq!(closed["suspended"], 2);
        disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 2}));
        let blocked = pkh(&server, &ani);
        assert_eq!((blocked["balance"].as_str(), blocked["blocked"].as_str(), blocked["available"].as_str()), (Some("500000.00"), Some("500000.00"), Some("0.00")));
        assert_eq!(blocked["block"]["reason"], "commitment_suspension");
        assert_eq!(blocked["holds"], json!([]), "a suspension is a block on the wallet, not a hold");
        assert_problem(agent.send("/v1/edc/wallet-to-savings", with(keyed(&ani), json!({"amount": "500000"}))), 422, "WALLET_BLOCKED");
        let profile: Value = Session::family(&server, &ani).get(&format!("/v1/families/{}", ani.family_id)).json().unwrap();
        assert_eq!(profile["status"], "suspended");

        // Cycle 3: Ani complies and draws both stages; Budi fails again.
        verify(&operator, ani.family_id, "2017-3", None);
        verify(&operator, budi.family_id, "2017-3", Some(budi_child));
        let closed = close(&supervisor, "2017-3");
        assert_eq!((closed["released"].as_u64(), closed["suspended"].as_u64()), (Some(1), Some(1)));
        disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 3}));
        assert_eq!(pkh(&server, &ani)["available"], "1000000.00");
        assert_eq!(agent.send("/v1/edc/wallet-to-savings", with(keyed(&ani), json!({"amount": "1000000"}))).status(), 200);
        assert_eq!(agent.send("/v1/edc/cash-withdrawals", with(keyed(&ani), json!({"amount": "1000000"}))).status(), 200);

        // Cycle 4: Budi's third failure in a row ends his PKH membership; his blocked
        // stages 2 and 3 go back to the treasury.
        verify(&operator, budi.family_id, "2017-4", Some(budi_child));
        let closed = close(&supervisor, "2017-4");
        assert_eq!(closed["terminated"], 1);
        let store = database.store();
        let wallet = store
            .read(|tx| kks_api::ledger::accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &budi.family_id.to_string(), AccountKind::WalletPkh))
            .unwrap()
            .unwrap();
        assert_eq!((wallet.balance_minor, wallet.status.to_string().as_str()), (0, "closed"));
        let profile: Value = Session::family(&server, &budi).get(&format!("/v1/families/{}", budi.family_id)).json().unwrap();
        assert_eq!(profile["status"], "terminated");
        // A terminated family gets no PKH line; its food assistance continues.
        let stage4 = disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 4}));
        assert_eq!(stage4["failed_lines"], 0);
        let bpnt = disburse(&server, json!({"programme": "bpnt", "year": 2017, "period": 3}));
        assert!(bpnt["paid_lines"].as_i64().unwrap() >= 5, "{bpnt}");
        assert_eq!(pkh(&server, &ani)["balance"], "390000.00", "stage 4 is Rp 390,000 for a regular family");

        // Reconciliation adds up, per province and bank and in total, with the ledger.
        // The national view, to compare with every wallet in the ledger.
        let reconciliation: Value = Session::operator(&server, "admin").get("/v1/reconciliation/pkh").json().unwrap();
        assert!(reconciliation["rows"].as_array().unwrap().iter().all(|row| row["balanced"] == true), "{reconciliation}");
        let total = &reconciliation["total"];
        assert_eq!(total["returned_to_treasury"], "1500000.00", "Budi never drew stage 1: stages 1, 2 and 3 go back");
        let wallets_in_region: i64 = crate::support::ledger::sum_balances(&store, "wallet_pkh");
        assert_eq!(total["remaining"], kks_api::domain::money::rupiah_from_minor(wallets_in_region).to_string());
        assert_problem(Session::agent(&server, "agen.cileunyi").get("/v1/reconciliation/pkh"), 403, "FORBIDDEN");

        let again = close(&supervisor, "2017-4");
        assert_eq!((again["terminated"].as_u64(), again["suspended"].as_u64()), (Some(0), Some(0)), "closing twice changes nothing");
        assert_ledger_clean(&store);
        let verified = crate::support::kks(&database, &["verify-ledger"]);
        assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
    }

    fn maker_and_checker_are_different_people(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let batch: Value = supervisor.post("/v1/disbursements", &json!({"programme": "bpnt", "year": 2017, "period": 2})).json().unwrap();
        let id = batch["batch"]["id"].as_i64().unwrap();
        assert_eq!(batch["batch"]["lines_total"], 3, "the three demo families of Jawa Barat");
        assert_problem(supervisor.post(&format!("/v1/disbursements/{id}/approve"), &json!({})), 403, "FORBIDDEN");
        assert_problem(operator.post(&format!("/v1/disbursements/{id}/approve"), &json!({})), 403, "FORBIDDEN");
        assert_problem(operator.post(&format!("/v1/disbursements/{id}/execute"), &json!({})), 400, "INVALID_REQUEST");
        let jateng = Session::operator(&server, "operator.jateng");
        assert_problem(jateng.get(&format!("/v1/disbursements/{id}")), 404, "NOT_FOUND");
        assert_problem(operator.post("/v1/disbursements", &json!({"programme": "pkh", "year": 2030, "period": 1})), 400, "INVALID_REQUEST");
        assert_problem(operator.post("/v1/disbursements", &json!({"programme": "pkh", "year": 2017, "period": 5})), 400, "INVALID_REQUEST");
    }

    fn a_new_years_schedule_is_data_that_an_admin_adds(database) {
        let server = TestServer::start(&database);
        let admin = Session::operator(&server, "admin");
        let rows = json!([
            {"programme": "bpnt", "year": 2018, "category": "all", "period": 1, "amount_minor": 11000000},
            {"programme": "bpnt", "year": 2018, "category": "all", "period": 2, "amount_minor": 11000000}
        ]);
        assert_problem(Session::operator(&server, "operator.jabar").post("/v1/benefit-schedules", &rows), 403, "FORBIDDEN");
        assert_eq!(admin.post("/v1/benefit-schedules", &rows).status(), 204);
        assert_problem(admin.post("/v1/benefit-schedules", &rows), 400, "INVALID_REQUEST");
        let bad = json!([{"programme": "bpnt", "year": 2018, "category": "elderly", "period": 13, "amount_minor": 1}]);
        assert_problem(admin.post("/v1/benefit-schedules", &bad), 400, "INVALID_REQUEST");
        // A year the table cannot hold is invalid input, not an internal error (found by schemathesis).
        let too_late = json!([{"programme": "bpnt", "year": 2101, "category": "all", "period": 1, "amount_minor": 1}]);
        assert_problem(admin.post("/v1/benefit-schedules", &too_late), 400, "INVALID_REQUEST");
        let listed: Value = admin.get("/v1/benefit-schedules?year=2018").json().unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 2);
        let paid = disburse(&server, json!({"programme": "bpnt", "year": 2018, "period": 2}));
        assert_eq!(paid["paid_amount"], "330000.00", "three Jawa Barat families at Rp 110,000");
    }

    fn a_stage_paid_early_is_held_until_it_opens(database) {
        let server = TestServer::start_with(&database, &["--test-clock"]);
        let family = server.demo().families[0].clone();
        let opens = server.clock() + chrono::Duration::hours(1);
        disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 2, "release_at": opens}));
        let pocket = pkh(&server, &family);
        assert_eq!((pocket["balance"].as_str(), pocket["held"].as_str()), (Some("1000000.00"), Some("500000.00")));
        assert_eq!(pocket["holds"][0]["reason"], "stage_not_open");
        let agent = Terminal::of(&server, "agen.cileunyi");
        let everything = |at| with(keyed(&family), json!({"amount": "1000000", "transmitted_at": wib(at)}));
        assert_problem(agent.send("/v1/edc/wallet-to-savings", everything(server.clock())), 422, "FUNDS_HELD");
        server.set_clock(opens + chrono::Duration::seconds(1));
        let moved = agent.send("/v1/edc/wallet-to-savings", everything(server.clock()));
        assert_eq!(moved.status(), 200, "the hold ended by itself when its stage opened");
        assert_ledger_clean(&database.store());
    }

    fn a_family_without_an_open_wallet_gets_a_failed_line_and_the_batch_counts_both(database) {
        // A demo family's PKH wallet emptied and closed, so the stage cannot pay it: no API
        // closes a wallet by itself, so it is done before the server starts (while it runs,
        // it is the only writer).
        let server = TestServer::start_after(&database, &[], |store, demo| {
            let wallet = store
                .read(|tx| kks_api::ledger::accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &demo.families[1].family_id.to_string(), AccountKind::WalletPkh))
                .unwrap()
                .unwrap();
            let treasury = crate::support::ledger::treasury(store);
            store.write(|tx| kks_api::ledger::posting::transfer(tx, kks_api::domain::ledger::JournalKind::Adjustment,
                "emptied for the test", wallet.id, treasury, kks_api::domain::money::Amount::from_minor(wallet.balance_minor).unwrap())).unwrap();
            store.write(|tx| kks_api::ledger::accounts::close(tx, wallet.id)).unwrap();
        });
        let store = database.store();

        let view = disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 2}));
        let total = view["batch"]["lines_total"].as_i64().unwrap();
        assert_eq!(view["failed_lines"], 1, "{view}");
        assert_eq!(view["paid_lines"].as_i64().unwrap(), total - 1, "{view}");
        assert_eq!(view["pending_lines"], 0);
        assert_eq!(view["failures"][0]["reason"], "the family has no open e-wallet for the programme");
        assert_eq!(view["failures"][0]["lines"], 1);
        // verify-ledger also holds the batch's counts and paid amount against its lines.
        assert_ledger_clean(&store);
    }

    fn a_verification_csv_keeps_good_rows_and_reports_bad_ones(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let operator = Session::operator(&server, "operator.jabar");
        let first = demo.families[0].family_id;
        let profile: Value = operator.get(&format!("/v1/families/{first}")).json().unwrap();
        let member = profile["members"][0]["id"].as_i64().unwrap();
        let semarang = demo.families_in("33")[0].family_id;
        let csv = format!(
            "family_id,complied,member_id,obligation\n{first},no,{member},school_attendance\n{},yes,,\nabc,yes,,\n{},no,,\n{semarang},yes,,\n{first},maybe,,\n",
            demo.families[1].family_id, demo.families[2].family_id
        );
        let response = operator
            .authorized(server.client.post(server.url("/v1/verifications/2017-2/csv")))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        let report: Value = response.json().unwrap();
        assert_eq!(report["accepted"], 2);
        let lines: Vec<i64> = report["rejected"].as_array().unwrap().iter().map(|row| row["line"].as_i64().unwrap()).collect();
        assert_eq!(lines, [4, 5, 6, 7], "{report}");
        let closed = close(&Session::operator(&server, "supervisor.jabar"), "2017-2");
        assert_eq!((closed["suspended"].as_u64(), closed["unchanged"].as_u64()), (Some(1), Some(2)));
    }
}

/// Registers `count` families with PKH wallets in a demo village straight in the
/// database (fast set-up for large batches), before a server starts: while one runs, it
/// is the only writer.
fn add_families(store: &kks_api::store::Store, village: &str, count: usize) {
    use kks_api::domain::auth::RegionCode;
    use kks_api::domain::family::BenefitCategory;
    use kks_api::store::families::{self, FamilyInsertForm};
    // NIKs begin with the family's regency and district, as real ones do.
    let district: String = village.chars().filter(char::is_ascii_digit).take(6).collect();
    let village = RegionCode::parse(village).unwrap();
    store
        .write(|tx| -> Result<(), kks_api::ledger::LedgerError> {
            for index in 0..count {
                let nik = format!("{district}6208{:06}", 900_000 + index);
                let family = families::insert(
                    tx,
                    &FamilyInsertForm::new(&nik, "Keluarga Uji", "Kp. Uji", &village, BenefitCategory::Regular),
                )?;
                kks_api::ledger::accounts::open(tx, OwnerKind::Family, &family.id.to_string(), AccountKind::WalletPkh)?;
            }
            Ok(())
        })
        .unwrap();
}

/// Prepares and approves PKH stage 2 of 2017 for the Jawa Barat families: the operator,
/// the batch id and its lines.
fn approved_stage(server: &TestServer) -> (Session<'_>, i64, i64) {
    let operator = Session::operator(server, "operator.jabar");
    let supervisor = Session::operator(server, "supervisor.jabar");
    let batch: Value =
        operator.post("/v1/disbursements", &json!({"programme": "pkh", "year": 2017, "period": 2})).json().unwrap();
    let id = batch["batch"]["id"].as_i64().unwrap();
    let lines = batch["batch"]["lines_total"].as_i64().unwrap();
    assert_eq!(supervisor.post(&format!("/v1/disbursements/{id}/approve"), &json!({})).status(), 200);
    (operator, id, lines)
}

/// Every family's wallet got stage 2 exactly once (Rp 500,000), one credit per line, and
/// the ledger balances.
fn assert_each_line_paid_once(store: &kks_api::store::Store, lines: i64) {
    use diesel::prelude::*;
    use kks_api::store::schema::{accounts, postings};
    let wrong: i64 = store
        .read(|tx| -> Result<i64, kks_api::store::StoreError> {
            let query = accounts::table
                .filter(accounts::kind.eq("wallet_pkh"))
                .filter(accounts::owner_kind.eq("family"))
                .filter(accounts::balance_minor.ne(50_000_000).and(accounts::balance_minor.ne(100_000_000)))
                .count();
            Ok(match tx {
                kks_api::store::Tx::Sqlite(connection) => query.get_result(*connection)?,
                kks_api::store::Tx::Postgres(connection) => query.get_result(*connection)?,
            })
        })
        .unwrap();
    assert_eq!(wrong, 0, "no wallet paid twice or skipped (demo families also hold their demo stage)");
    let credited: i64 = store
        .read(|tx| -> Result<i64, kks_api::store::StoreError> {
            let query = postings::table
                .inner_join(accounts::table)
                .filter(accounts::kind.eq("wallet_pkh"))
                .filter(postings::amount_minor.eq(50_000_000))
                .count();
            Ok(match tx {
                kks_api::store::Tx::Sqlite(connection) => query.get_result(*connection)?,
                kks_api::store::Tx::Postgres(connection) => query.get_result(*connection)?,
            })
        })
        .unwrap();
    assert_eq!(credited, lines + 4, "one credit per line, plus the demo seed's four");
    assert_ledger_clean(store);
}

/// The demo's village in Jawa Barat, where the large batches' families live.
const CILEUNYI_KULON: &str = "32.04.12.2001";

mod crash {
    use super::*;

    on_both_backends! {
        fn a_disbursement_killed_mid_way_and_restarted_pays_every_line_exactly_once(database) {
            const FAMILIES: usize = 3_000;
            let store = database.store();
            let server = TestServer::start_after(&database, &["--disbursement-chunk-lines", "10"], |store, _| {
                add_families(store, CILEUNYI_KULON, FAMILIES);
            });
            let (operator, id, lines) = approved_stage(&server);
            assert_eq!(lines, FAMILIES as i64 + 3, "the new families and the three demo families of Jawa Barat");
            operator.post(&format!("/v1/disbursements/{id}/execute"), &json!({}));
            let started = Instant::now();
            loop {
                let view: Value = operator.get(&format!("/v1/disbursements/{id}")).json().unwrap();
                if view["paid_lines"].as_i64().unwrap() >= 100 {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(60), "no progress: {view}");
                std::thread::sleep(Duration::from_millis(5));
            }
            let credentials = server.credentials.clone();
            drop(server); // SIGKILL: no clean stop.
            let (paid_at_kill, pending_at_kill) = {
                let view = store.read(|tx| kks_api::store::disbursements::line_totals(tx, id)).unwrap();
                let of = |status: &str| view.iter().find(|total| total.status == status).map_or(0, |total| total.lines);
                (of("paid"), of("pending"))
            };
            assert!(pending_at_kill > 0, "the kill came mid-way ({paid_at_kill} paid)");

            let mut restarted = TestServer::start_with(&database, &["--disbursement-chunk-lines", "200"]);
            restarted.credentials = credentials;
            let view = wait_completed(&Session::operator(&restarted, "operator.jabar"), id);
            assert_eq!((view["paid_lines"].as_i64(), view["failed_lines"].as_i64()), (Some(lines), Some(0)));
            assert_each_line_paid_once(&store, lines);
        }

        fn a_batch_started_by_the_server_and_run_by_three_runners_at_once_pays_every_line_exactly_once(database) {
            const FAMILIES: usize = 2_000;
            const RUNNERS: usize = 3;
            let store = database.store();
            let server = TestServer::start_after(&database, &["--disbursement-chunk-lines", "10"], |store, _| {
                add_families(store, CILEUNYI_KULON, FAMILIES);
            });
            let (operator, id, lines) = approved_stage(&server);
            assert_eq!(operator.post(&format!("/v1/disbursements/{id}/execute"), &json!({})).status(), 202);
            let credentials = server.credentials.clone();
            drop(operator);
            // Stopped (SIGKILL) wherever its runner is. Three runners then pay the batch at
            // once, as three servers would: in this process, because on SQLite a server is
            // the only writer of its file while it runs.
            drop(server);
            let runners: Vec<_> = (0..RUNNERS)
                .map(|_| {
                    let store = store.clone();
                    std::thread::spawn(move || kks_api::service::disbursements::run(&store, id, 7))
                })
                .collect();
            for runner in runners {
                runner.join().unwrap().unwrap();
            }
            let mut restarted = TestServer::start(&database);
            restarted.credentials = credentials;
            let view = wait_completed(&Session::operator(&restarted, "operator.jabar"), id);
            assert_eq!((view["paid_lines"].as_i64(), view["failed_lines"].as_i64()), (Some(lines), Some(0)));
            assert_each_line_paid_once(&store, lines);
        }
    }
}
