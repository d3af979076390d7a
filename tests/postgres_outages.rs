//! PostgreSQL going away under a running API: stopped and started again (a fast shutdown,
//! then an immediate one: a crash recovered from the write-ahead log), or its primary
//! killed and a synchronous standby promoted. While it is away every request fails cleanly
//! (503 problem+json, not 500, and within the store's connection wait rather than
//! hanging); once it is back, requests succeed again without restarting the API; the
//! requests answered 503 resolve to one outcome when retried with their Idempotency-Key,
//! and the ledger is whole.
//!
//! The tests run throwaway PostgreSQL clusters of their own ([`crate::support::cluster`]),
//! so they need root, as CI has; without it, they fail and say so.

mod postgres {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use kks_api::domain::ledger::AccountKind;
    use serde_json::{json, Value};

    use crate::support::api::{assert_problem, Terminal};
    use crate::support::bank::{answer, assert_books_match_ledger, balances, fund_family, Acknowledged, Answer};
    use crate::support::cluster::Cluster;
    use crate::support::ledger::assert_ledger_clean;
    use crate::support::{kks, TestDatabase, TestServer};

    /// How long the test waits for payments to flow, or for the API to find the database
    /// again, before it gives up.
    const RECOVERY_WAIT_MAX: Duration = Duration::from_secs(60);

    /// Terminals sending payments through the outages, each one request at a time.
    const BACKGROUND_TERMINALS: usize = 3;

    struct StopOnDrop<'a>(&'a AtomicBool);

    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// What the background terminal saw.
    #[derive(Default)]
    struct Seen {
        approved: Vec<Acknowledged>,
        refused: Vec<(String, String, String)>,
        /// (STAN, key) of requests answered 503, to send again.
        unavailable: Vec<(String, String)>,
    }

    fn wallet_to_savings(terminal: &Terminal, card: &Value, stan: &str, key: &str) -> (u16, Option<Answer>) {
        let response = terminal.send_with("/v1/edc/wallet-to-savings", stan, key, card.clone());
        let status = response.status().as_u16();
        if status == 503 {
            assert_problem(response, 503, "SERVICE_UNAVAILABLE");
            return (status, None);
        }
        (status, Some(answer(response)))
    }

    fn record(seen: &Mutex<Seen>, terminal: &Terminal, family: i64, stan: &str, outcome: Answer) {
        let mut seen = seen.lock().unwrap();
        match outcome {
            Answer::Approved(receipt) => {
                seen.approved.push(Acknowledged::from_receipt("/v1/edc/wallet-to-savings", family, &receipt))
            }
            Answer::Refused(code) => {
                assert_eq!(code, "INSUFFICIENT_FUNDS", "unexpected refusal");
                seen.refused.push((terminal.terminal_id.clone(), stan.to_owned(), code));
            }
        }
    }

    /// A way the database goes away under the running API, and comes back.
    struct Outage<'a> {
        name: &'static str,
        begin: Box<dyn Fn() + Sync + 'a>,
        end: Box<dyn Fn() + Sync + 'a>,
    }

    /// What a run through outages measured.
    struct Figures {
        acknowledged: usize,
        /// Requests answered 503 (the probes' included), each sent again with its key.
        unanswered: usize,
        seconds_unavailable: Vec<f64>,
        journals: usize,
    }

    #[test]
    fn requests_fail_cleanly_with_503_while_postgresql_is_down_and_succeed_once_it_is_back() {
        let cluster = Cluster::start_new();
        let database = TestDatabase::existing(&cluster.url());
        let cluster = &cluster;
        let outages = ["fast", "immediate"].map(|mode| Outage {
            name: mode,
            begin: Box::new(move || cluster.stop(mode)),
            end: Box::new(move || cluster.start()),
        });
        let figures = payments_through_outages(&database, &outages);
        println!(
            "PostgreSQL restart test: 2 outages (fast and immediate shutdown), {:.1} s each; {} requests answered \
             503 problem+json while down, all resolved on retry with the same key; {} approved; {} journals, every \
             acknowledged one present once; verify-ledger clean",
            figures.seconds_unavailable.iter().sum::<f64>() / 2.0,
            figures.unanswered,
            figures.acknowledged,
            figures.journals,
        );
    }

    /// The primary's machine dies (SIGKILL to every PostgreSQL process) under card load and
    /// its synchronous standby is promoted; the API, on a multi-host URL, finds the new
    /// primary by itself, and nothing it acknowledged is missing there.
    #[test]
    fn when_the_primary_dies_its_synchronous_standby_takes_over_and_no_acknowledged_payment_is_lost() {
        let primary = Cluster::start_new_primary();
        let standby = Cluster::start_standby_of(&primary);
        let url = format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write",
            primary.port, standby.port
        );
        let database = TestDatabase::existing(&url);
        let outages =
            [Outage { name: "failover", begin: Box::new(|| primary.kill()), end: Box::new(|| standby.promote()) }];
        let figures = payments_through_outages(&database, &outages);
        assert_eq!(standby.query("SELECT pg_is_in_recovery()"), "f", "the books were read on the new primary");
        println!(
            "PostgreSQL failover test: primary killed (SIGKILL), synchronous standby promoted; {:.1} s without a \
             primary; {} payments acknowledged, all on the new primary; {} requests answered 503 problem+json, \
             each resolved to one outcome by a retry with its key; {} journals; verify-ledger clean",
            figures.seconds_unavailable.iter().sum::<f64>(),
            figures.acknowledged,
            figures.unanswered,
            figures.journals,
        );
    }

    /// Background terminals pay from one card through each outage in turn. While the
    /// database is away, readiness, an authenticated read and a payment are answered 503
    /// problem+json; once it is back (without restarting the API) every request answered
    /// 503 is sent again with its key and gets one outcome, twice the same; at the end
    /// every acknowledged payment is in the ledger once, and the ledger is whole.
    fn payments_through_outages(database: &TestDatabase, outages: &[Outage]) -> Figures {
        let store = database.store();
        let server = TestServer::start_after(database, &["--postgres-pool-size", "4"], |store, demo| {
            fund_family(store, demo.families[0].family_id, AccountKind::WalletPkh, 5_000_000);
        });
        let family = server.demo().families[0].clone();
        let opening = balances(&store);
        // One session shared by the background terminals: its STAN counter is atomic.
        let terminal = Terminal::of(&server, "agen.cileunyi");
        // A second session on the same terminal, probing while the first keeps working.
        let probe = Terminal::of(&server, "agen.cileunyi");
        let card = json!({ "card": { "card_number": family.card_number }, "pin": family.pin, "amount": "1000" });
        let seen = Mutex::new(Seen::default());
        let mut seconds_unavailable = Vec::new();

        for (round, outage) in outages.iter().enumerate() {
            let stop = AtomicBool::new(false);
            std::thread::scope(|scope| {
                // Stops the background terminal however this round ends, a failed check too.
                let _stop = StopOnDrop(&stop);
                // Terminals that keep working through the outage: three requests at a time.
                for _ in 0..BACKGROUND_TERMINALS {
                    scope.spawn(|| {
                        while !stop.load(Ordering::Relaxed) {
                            let stan = terminal.stan();
                            let key = format!("{}-{stan}", terminal.terminal_id);
                            match wallet_to_savings(&terminal, &card, &stan, &key) {
                                (503, None) => {
                                    seen.lock().unwrap().unavailable.push((stan, key));
                                    // A terminal's retry pace, not a synchronisation.
                                    std::thread::sleep(Duration::from_millis(100));
                                }
                                (_, Some(outcome)) => record(&seen, &terminal, family.family_id, &stan, outcome),
                                (status, None) => panic!("unexpected status {status}"),
                            }
                        }
                    });
                }
                // The outage comes while payments are being approved.
                let approved_before = seen.lock().unwrap().approved.len();
                wait_until(
                    || seen.lock().unwrap().approved.len() >= approved_before + 10,
                    "payments before the outage",
                );
                let began = Instant::now();
                (outage.begin)();

                // While the database is away, at once: readiness, an authenticated read, a
                // payment. The probe's STANs are apart from the background terminals'.
                let stan = format!("90000{round}");
                let key = format!("{}-{stan}", probe.terminal_id);
                let (ready, me, (status, outcome)) = std::thread::scope(|probes| {
                    let ready = probes.spawn(|| server.get("/readyz"));
                    let me = probes.spawn(|| probe.session.get("/v1/me"));
                    let payment = probes.spawn(|| wallet_to_savings(&probe, &card, &stan, &key));
                    (ready.join().unwrap(), me.join().unwrap(), payment.join().unwrap())
                });
                assert_problem(ready, 503, "SERVICE_UNAVAILABLE");
                assert_problem(me, 503, "SERVICE_UNAVAILABLE");
                assert_eq!((status, outcome), (503, None), "a payment while the database is away ({})", outage.name);
                seen.lock().unwrap().unavailable.push((stan, key));

                (outage.end)();
                wait_until(|| server.get("/readyz").status() == 200, "the API finding the database again");
                seconds_unavailable.push(began.elapsed().as_secs_f64());
                assert_eq!(probe.session.get("/v1/me").status(), 200);
            });
        }

        // Every request answered 503 decided nothing, or committed before the answer was
        // lost: its retry gets one outcome, and the same again.
        let unavailable = std::mem::take(&mut seen.lock().unwrap().unavailable);
        for (stan, key) in &unavailable {
            let (_, first) = wallet_to_savings(&terminal, &card, stan, key);
            let (_, again) = wallet_to_savings(&terminal, &card, stan, key);
            let first = first.expect("the database is back: a definite answer");
            assert_eq!(Some(&first), again.as_ref(), "two retries of {key}");
            record(&seen, &terminal, family.family_id, stan, first);
        }
        let seen = seen.into_inner().unwrap();
        let journals = assert_books_match_ledger(&store, &opening, &seen.approved, &BTreeSet::new(), &seen.refused);
        assert_ledger_clean(&store);
        let verified = kks(database, &["verify-ledger"]);
        assert!(verified.status.success(), "kks verify-ledger: {}", String::from_utf8_lossy(&verified.stdout));
        Figures { acknowledged: seen.approved.len(), unanswered: unavailable.len(), seconds_unavailable, journals }
    }

    /// Waits, bounded, for `condition`, asking every 100 ms.
    fn wait_until(condition: impl Fn() -> bool, what: &str) {
        let deadline = Instant::now() + RECOVERY_WAIT_MAX;
        while !condition() {
            assert!(Instant::now() < deadline, "waited {RECOVERY_WAIT_MAX:?} for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
