//! Exactly once for all money that enters a wallet: the demo's money arrives through real
//! batches, a batch can be cancelled until it executes (freeing its families for the
//! next), and one batch at a time is live for a period and region.

use std::sync::Barrier;

use diesel::prelude::*;
use kks_api::store::schema::disbursement_batches;
use kks_api::store::{Store, StoreError, Tx};
use serde_json::{json, Value};

use super::{add_families, disburse, pocket, register_family, wait_completed};
use crate::support::api::{assert_problem, OperatorCredentials, Session};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

/// The batches in the database, oldest first: id and status.
fn batches(store: &Store) -> Vec<(i64, String)> {
    let query = disbursement_batches::table
        .order(disbursement_batches::id)
        .select((disbursement_batches::id, disbursement_batches::status));
    store
        .read(|tx| -> Result<Vec<(i64, String)>, StoreError> {
            Ok(match tx {
                Tx::Sqlite(connection) => query.load(*connection)?,
                Tx::Postgres(connection) => query.load(*connection)?,
            })
        })
        .unwrap()
}

/// Prepares a batch as `operator` and returns its id.
fn prepare(operator: &Session, body: Value) -> i64 {
    let prepared = operator.post("/v1/disbursements", &body);
    assert_eq!(prepared.status(), 201, "{}", prepared.text().unwrap_or_default());
    prepared.json::<Value>().unwrap()["batch"]["id"].as_i64().unwrap()
}

fn cancel(operator: &Session, batch_id: i64, reason: &str) -> reqwest::blocking::Response {
    operator.post(&format!("/v1/disbursements/{batch_id}/cancel"), &json!({ "reason": reason }))
}

/// The demo families' three wallets, as each family sees them.
fn demo_wallets(server: &TestServer) -> Vec<[String; 3]> {
    server
        .demo()
        .families
        .iter()
        .map(|family| {
            ["wallet_pkh", "wallet_bpnt", "wallet_lpg"]
                .map(|kind| pocket(server, family, kind)["balance"].as_str().unwrap().to_owned())
        })
        .collect()
}

const DEMO_WALLETS: [&str; 3] = ["500000.00", "110000.00", "40500.00"];

/// The demo's village in Jawa Tengah.
const SEKAYU: &str = "33.74.01.1001";

/// A second operator of Jawa Barat (the demo has one), written before the server starts
/// with a password of their own (one added through the API must replace its first
/// password before working; while a server runs, it is the only writer).
fn second_operator_of_jawa_barat(store: &Store) -> OperatorCredentials {
    use kks_api::domain::auth::{OperatorRole, Password, RegionCode, RegionScope};
    const USERNAME: &str = "operator2.jabar";
    let password = "kedua petugas bandung barat";
    let hash =
        kks_api::service::auth::passwords::hash(&Password::parse_new(password.to_owned(), USERNAME).unwrap()).unwrap();
    let scope = RegionScope::Region(RegionCode::parse("32").unwrap());
    let form = kks_api::store::operators::OperatorInsertForm::new(
        USERNAME,
        "Operator Dua",
        OperatorRole::Operator,
        &scope,
        &hash,
    );
    store.write(|tx| kks_api::store::operators::insert(tx, &form)).unwrap();
    OperatorCredentials { username: USERNAME.to_owned(), password: password.to_owned() }
}

on_both_backends! {
    fn the_demo_is_paid_by_batches_so_a_new_stage_one_batch_pays_only_a_family_registered_since(database) {
        let server = TestServer::start(&database);
        let store = database.store();
        let admin = Session::operator(&server, "admin");
        let operator = Session::operator(&server, "operator.jabar");
        assert_eq!(demo_wallets(&server), vec![DEMO_WALLETS.map(str::to_owned); 4]);

        // Six batches, one per programme and province, each prepared, approved by another
        // person and paid in full.
        let seeded = batches(&store);
        assert_eq!(seeded.len(), 6, "{seeded:?}");
        let mut paid: Vec<(String, i64, String, i64)> = Vec::new();
        for (id, _) in &seeded {
            let view: Value = admin.get(&format!("/v1/disbursements/{id}")).json().unwrap();
            let batch = &view["batch"];
            assert_eq!(batch["status"], "completed", "{view}");
            assert_ne!(batch["approved_by"], batch["prepared_by"], "{view}");
            assert_eq!((view["paid_lines"].as_i64(), view["failed_lines"].as_i64()), (batch["lines_total"].as_i64(), Some(0)));
            paid.push((
                batch["programme"].as_str().unwrap().to_owned(),
                batch["period"].as_i64().unwrap(),
                batch["region_code"].as_str().unwrap().to_owned(),
                view["paid_lines"].as_i64().unwrap(),
            ));
        }
        paid.sort();
        let expected: Vec<(String, i64, String, i64)> = ["bpnt", "lpg", "pkh"]
            .iter()
            .flat_map(|programme| [(programme.to_string(), 1, "32".to_owned(), 3), (programme.to_string(), 1, "33".to_owned(), 1)])
            .collect();
        assert_eq!(paid, expected);

        // A stage-1 batch for Jawa Barat pays the demo families nothing more and leaves
        // no batch behind.
        let stage1 = json!({"programme": "pkh", "year": 2017, "period": 1});
        let refused = assert_problem(operator.post("/v1/disbursements", &stage1), 409, "BATCH_PAYS_NOBODY");
        assert!(refused["detail"].as_str().unwrap().contains("32"), "{refused}");
        assert_eq!(batches(&store), seeded);

        // A family registered since is paid stage 1 once; the demo families are not.
        let (late, _) = register_family(&operator, "3204126208920021");
        let view = disburse(&server, stage1.clone());
        assert_eq!((view["paid_lines"].as_i64(), view["paid_amount"].as_str()), (Some(1), Some("500000.00")), "{view}");
        assert_eq!(pocket(&server, &late, "wallet_pkh")["balance"], "500000.00");
        assert_problem(operator.post("/v1/disbursements", &stage1), 409, "BATCH_PAYS_NOBODY");
        assert_eq!(pocket(&server, &late, "wallet_pkh")["balance"], "500000.00");
        assert_eq!(demo_wallets(&server), vec![DEMO_WALLETS.map(str::to_owned); 4]);
        assert_ledger_clean(&store);
    }

    fn kks_seed_demo_pays_the_demo_through_the_same_batches(database) {
        let folder = tempfile::tempdir().unwrap();
        let credentials = folder.path().join("demo-credentials.json");
        let seeded = crate::support::kks(&database, &["seed", "--demo", "--credentials", credentials.to_str().unwrap()]);
        assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
        let statuses: Vec<String> = batches(&database.store()).into_iter().map(|(_, status)| status).collect();
        assert_eq!(statuses, vec!["completed"; 6]);
        assert_ledger_clean(&database.store());
    }

    fn a_batch_is_cancelled_by_its_maker_or_a_supervisor_until_it_executes_and_its_families_are_paid_once_by_the_next(database) {
        // Jawa Tengah has four hundred more families, and the server pays one line per
        // transaction: a batch of theirs is still executing seconds after it starts.
        const JAWA_TENGAH_FAMILIES: usize = 400;
        let mut second_operator = None;
        let mut server = TestServer::start_after(&database, &["--disbursement-chunk-lines", "1"], |store, _| {
            second_operator = Some(second_operator_of_jawa_barat(store));
            add_families(store, SEKAYU, JAWA_TENGAH_FAMILIES);
        });
        let second_operator = second_operator.unwrap();
        let colleague = second_operator.username.clone();
        server.credentials.as_mut().unwrap().operators.push(second_operator);
        let store = database.store();
        let operator = Session::operator(&server, "operator.jabar");
        let supervisor = Session::operator(&server, "supervisor.jabar");
        let stage2 = json!({"programme": "pkh", "year": 2017, "period": 2});

        // Its maker cancels a prepared batch: not another operator of the region, and
        // nobody outside the region sees it.
        let first = prepare(&operator, stage2.clone());
        assert_problem(cancel(&Session::operator(&server, &colleague), first, "not mine"), 403, "FORBIDDEN");
        assert_problem(cancel(&Session::operator(&server, "operator.jateng"), first, "not mine"), 404, "NOT_FOUND");
        assert_problem(cancel(&Session::family(&server, &server.demo().families[0]), first, "mine"), 403, "FORBIDDEN");
        assert_problem(cancel(&operator, first, "   "), 400, "INVALID_REQUEST");
        let cancelled: Value = {
            let response = cancel(&operator, first, "wrong period chosen");
            assert_eq!(response.status(), 200);
            response.json().unwrap()
        };
        assert_eq!(cancelled["batch"]["status"], "cancelled");
        assert_eq!(cancelled["batch"]["cancellation_reason"], "wrong period chosen");
        assert_eq!(cancelled["batch"]["cancelled_by"], cancelled["batch"]["prepared_by"]);
        assert_eq!((cancelled["batch"]["lines_total"].as_i64(), cancelled["pending_lines"].as_i64()), (Some(3), Some(0)), "{cancelled}");
        assert_problem(cancel(&operator, first, "again"), 409, "BATCH_NOT_CANCELLABLE");
        assert_problem(supervisor.post(&format!("/v1/disbursements/{first}/approve"), &json!({})), 400, "INVALID_REQUEST");
        let trail: Vec<Value> = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=disbursement_batch&object_id={first}"))
            .json()
            .unwrap();
        let event = trail.iter().find(|event| event["action"] == "disbursement.cancelled").unwrap();
        let details: Value = serde_json::from_str(event["details"].as_str().unwrap()).unwrap();
        assert_eq!((event["reason"].as_str(), details["lines_freed"].as_i64()), (Some("wrong period chosen"), Some(3)));

        // Its lines were freed: the next batch has the same families. A supervisor of
        // the region cancels it once approved.
        let second = prepare(&operator, stage2.clone());
        let view: Value = operator.get(&format!("/v1/disbursements/{second}")).json().unwrap();
        assert_eq!(view["batch"]["lines_total"], 3);
        assert_eq!(supervisor.post(&format!("/v1/disbursements/{second}/approve"), &json!({})).status(), 200);
        assert_eq!(cancel(&supervisor, second, "approved too early").status(), 200);

        // An executing batch cannot be cancelled: Jawa Tengah's stage 2 (its operator
        // prepares, the national admin approves) is refused the moment it has started.
        let jateng = Session::operator(&server, "operator.jateng");
        let admin = Session::operator(&server, "admin");
        let executing = prepare(&jateng, stage2.clone());
        assert_eq!(admin.post(&format!("/v1/disbursements/{executing}/approve"), &json!({})).status(), 200);
        assert_eq!(jateng.post(&format!("/v1/disbursements/{executing}/execute"), &json!({})).status(), 202);
        let refused = assert_problem(cancel(&admin, executing, "too late"), 409, "BATCH_NOT_CANCELLABLE");
        assert!(refused["detail"].as_str().unwrap().contains("executing"), "{refused}");
        assert_problem(cancel(&jateng, executing, "too late"), 409, "BATCH_NOT_CANCELLABLE");

        // The next batch pays each family once; then it cannot be cancelled.
        let paid = disburse(&server, stage2.clone());
        let id = paid["batch"]["id"].as_i64().unwrap();
        assert_eq!((paid["paid_lines"].as_i64(), paid["paid_amount"].as_str()), (Some(3), Some("1500000.00")), "{paid}");
        assert_problem(cancel(&operator, id, "after the fact"), 409, "BATCH_NOT_CANCELLABLE");
        assert_problem(supervisor.post(&format!("/v1/disbursements/{id}/approve"), &json!({})), 400, "INVALID_REQUEST");
        for family in server.demo().families_in("32") {
            assert_eq!(pocket(&server, family, "wallet_pkh")["balance"], "1000000.00", "stages 1 and 2, once each");
        }
        assert_problem(operator.post("/v1/disbursements", &stage2), 409, "BATCH_PAYS_NOBODY");
        // The refused cancellations changed nothing: Jawa Tengah's batch pays every line.
        let paid = wait_completed(&jateng, executing);
        let lines = i64::try_from(JAWA_TENGAH_FAMILIES).unwrap() + 1;
        assert_eq!((paid["paid_lines"].as_i64(), paid["failed_lines"].as_i64()), (Some(lines), Some(0)), "{paid}");
        assert_ledger_clean(&store);
    }

    fn a_batch_for_a_period_and_region_another_live_batch_overlaps_is_refused_naming_it(database) {
        let server = TestServer::start(&database);
        let store = database.store();
        let operator = Session::operator(&server, "operator.jabar");
        let stage2 = |region: &str| json!({"programme": "pkh", "year": 2017, "period": 2, "region": region});

        let regency = prepare(&operator, stage2("32.04"));
        let before = batches(&store);
        let admin = Session::operator(&server, "admin");
        for (session, body) in [
            (&operator, stage2("32.04")),
            (&operator, stage2("32")),
            (&operator, stage2("32.04.12.2001")),
            (&admin, json!({"programme": "pkh", "year": 2017, "period": 2})),
        ] {
            let refused = assert_problem(session.post("/v1/disbursements", &body), 409, "LIVE_BATCH_EXISTS");
            assert!(refused["detail"].as_str().unwrap().starts_with(&format!("batch {regency} ")), "{refused}");
        }
        assert_eq!(batches(&store), before, "a refusal leaves no batch behind");

        // Another province, another programme or another period is not in the way.
        prepare(&Session::operator(&server, "operator.jateng"), json!({"programme": "pkh", "year": 2017, "period": 2}));
        prepare(&operator, json!({"programme": "bpnt", "year": 2017, "period": 2}));
        prepare(&operator, json!({"programme": "pkh", "year": 2017, "period": 3}));

        // Once the live batch completes, the province may be prepared: it pays nobody new.
        assert_eq!(Session::operator(&server, "supervisor.jabar").post(&format!("/v1/disbursements/{regency}/approve"), &json!({})).status(), 200);
        assert_eq!(operator.post(&format!("/v1/disbursements/{regency}/execute"), &json!({})).status(), 202);
        wait_completed(&operator, regency);
        assert_problem(operator.post("/v1/disbursements", &stage2("32")), 409, "BATCH_PAYS_NOBODY");
    }

    fn two_prepares_of_the_same_period_at_once_give_exactly_one_batch(database) {
        const PREPARERS: usize = 4;
        let server = TestServer::start(&database);
        let store = database.store();
        let operators: Vec<Session> = (0..PREPARERS).map(|_| Session::operator(&server, "operator.jabar")).collect();
        // One round per BPNT month the demo has not been paid: each a fresh race.
        for month in 2..=12 {
            let body = json!({"programme": "bpnt", "year": 2017, "period": month});
            let start = Barrier::new(PREPARERS);
            let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
                let racers: Vec<_> = operators
                    .iter()
                    .map(|operator| {
                        let (start, body) = (&start, &body);
                        scope.spawn(move || {
                            start.wait();
                            let response = operator.post("/v1/disbursements", body);
                            (response.status().as_u16(), response.json::<Value>().unwrap())
                        })
                    })
                    .collect();
                racers.into_iter().map(|racer| racer.join().unwrap()).collect()
            });
            let won: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 201).map(|(_, body)| body).collect();
            assert_eq!(won.len(), 1, "month {month}: {answers:?}");
            let winner = won[0]["batch"]["id"].as_i64().unwrap();
            for (status, problem) in answers.iter().filter(|(status, _)| *status != 201) {
                assert_eq!((*status, problem["code"].as_str()), (409, Some("LIVE_BATCH_EXISTS")), "month {month}: {problem}");
                assert!(problem["detail"].as_str().unwrap().starts_with(&format!("batch {winner} ")), "{problem}");
            }
        }
        let live = batches(&store).into_iter().filter(|(_, status)| status != "completed").count();
        assert_eq!(live, 11, "one batch a month");
    }
}
