//! The monitoring pages on a read-only standby (`kks serve --reports-database`): they show
//! what the primary wrote once the standby has replayed it, say how far behind it is, and
//! when the standby is gone they answer 503 while card payments go on on the primary.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{TestDatabase, KKS_BINARY};

#[test]
fn a_reports_database_beside_sqlite_is_refused_at_start() {
    let database = TestDatabase::sqlite();
    let mut serve = Command::new(KKS_BINARY)
        .args(["--database", database.url(), "serve", "--bind", "127.0.0.1:0", "--no-demo"])
        .args(["--reports-database", "postgres://postgres@127.0.0.1/postgres"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = serve.kill();
            panic!("kks serve started with a reports database beside SQLite");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut printed).unwrap();
    assert!(!status.success() && printed.contains("--reports-database"), "{status}: {printed}");
}

mod postgres {
    use super::*;

    use kks_api::domain::ledger::AccountKind;
    use serde_json::{json, Value};

    use crate::support::api::{assert_problem, Session, Terminal};
    use crate::support::bank::fund_family;
    use crate::support::cluster::Cluster;
    use crate::support::{TestDatabase, TestServer};

    /// How long the standby may take to replay a payment.
    const REPLAY_WAIT_MAX: Duration = Duration::from_secs(60);

    #[test]
    fn the_monitoring_pages_read_a_standby_and_say_how_far_behind_it_is() {
        let primary = Cluster::start_new();
        let standby = Cluster::start_standby_of(&primary);
        let database = TestDatabase::existing(&primary.url());
        let server = TestServer::start_after(&database, &["--reports-database", &standby.url()], |store, demo| {
            fund_family(store, demo.families[0].family_id, AccountKind::WalletPkh, 100_000);
        });
        let admin = Session::operator(&server, "admin");
        let overview = || -> Value { admin.get("/v1/monitoring/overview").json().unwrap() };
        let deadline = Instant::now() + REPLAY_WAIT_MAX;
        let before = loop {
            // The standby replays the demo data and the funding first.
            let shown = overview();
            let caught_up = shown["journal"]["journals_behind"] == 0;
            if shown["figures"]["families"]["total"].as_i64() > Some(0)
                && caught_up
                && shown["figures"] == overview()["figures"]
            {
                break shown;
            }
            assert!(Instant::now() < deadline, "the standby never showed the demo data: {shown}");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(before["standby_lag_ms"].as_i64().is_some_and(|lag| lag >= 0), "{before}");

        let family = server.demo().families[0].clone();
        let terminal = Terminal::of(&server, "agen.cileunyi");
        let payment = json!({"card": {"card_number": family.card_number}, "pin": family.pin, "amount": "25000"});
        assert_eq!(terminal.send("/v1/edc/wallet-to-savings", payment.clone()).status(), 200);
        let deadline = Instant::now() + REPLAY_WAIT_MAX;
        while overview()["figures"] == before["figures"] {
            assert!(Instant::now() < deadline, "the payment never reached the standby's pages");
            std::thread::sleep(Duration::from_millis(100));
        }

        standby.stop("fast");
        assert_problem(admin.get("/v1/monitoring/overview"), 503, "SERVICE_UNAVAILABLE");
        assert_eq!(terminal.send("/v1/edc/wallet-to-savings", payment).status(), 200, "payments go on on the primary");
    }
}
