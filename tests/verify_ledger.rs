//! `kks verify-ledger` passes on a whole ledger and reports a broken one.

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::support::ledger::{fund, rupiah, savings};
use crate::support::{kks, on_both_backends, TestDatabase};

/// Changes a stored balance behind the ledger's back, as a bug or a hand edit would.
fn tamper(database: &TestDatabase, statement: &str) {
    if database.is_postgres() {
        diesel::PgConnection::establish(database.url()).unwrap().batch_execute(statement).unwrap();
    } else {
        let path = database.url().trim_start_matches("sqlite://");
        diesel::SqliteConnection::establish(path).unwrap().batch_execute(statement).unwrap();
    }
}

on_both_backends! {
    fn verify_ledger_passes_on_a_whole_ledger(database) {
        let store = database.store();
        fund(&store, savings(&store, "ani"), rupiah(500_000));
        let output = kks(&database, &["verify-ledger"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        assert!(stdout.contains("checked 2 accounts, 1 journals, 2 postings"), "{stdout}");
    }

    fn verify_ledger_reports_a_balance_that_differs_from_its_postings(database) {
        let store = database.store();
        let ani = savings(&store, "ani");
        fund(&store, ani, rupiah(500_000));
        tamper(&database, &format!("UPDATE accounts SET balance_minor = balance_minor + 1 WHERE id = {ani}"));
        let output = kks(&database, &["verify-ledger", "--json"]);
        assert_eq!(output.status.code(), Some(1));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let problems: Vec<&str> = report["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|discrepancy| discrepancy["problem"].as_str().unwrap())
            .collect();
        assert_eq!(problems, ["balance_differs_from_postings", "ledger_does_not_sum_to_zero"]);
        assert_eq!(report["discrepancies"][0]["account"], ani.0);
    }

    fn verify_ledger_reports_a_batch_whose_counts_differ_from_its_lines(database) {
        tamper(&database, "INSERT INTO disbursement_batches (programme, year, period, status, prepared_by, prepared_at, paid_lines)
                           VALUES ('pkh', 2017, 1, 'completed', 'operator:1', '2017-01-02 03:04:05', 1)");
        let output = kks(&database, &["verify-ledger", "--json"]);
        assert_eq!(output.status.code(), Some(1));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["discrepancies"][0]["problem"], "batch_counts_differ_from_lines", "{report}");
        assert_eq!(report["discrepancies"][0]["stored"]["paid_lines"], 1);
        assert_eq!(report["discrepancies"][0]["lines"]["paid_lines"], 0);
    }

    fn verify_ledger_reports_a_held_total_without_its_holds(database) {
        let store = database.store();
        let ani = savings(&store, "ani");
        fund(&store, ani, rupiah(500_000));
        tamper(&database, &format!("UPDATE accounts SET held_minor = 100 WHERE id = {ani}"));
        let output = kks(&database, &["verify-ledger"]);
        assert_eq!(output.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("held_differs_from_holds") && stdout.contains("ledger BROKEN: 1 discrepancies"), "{stdout}");
    }
}
