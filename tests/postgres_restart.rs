//! PostgreSQL stopping and starting again under a running API: while the database is
//! down, every request fails cleanly (503 problem+json, not 500, and within the store's
//! connection wait rather than hanging); once it is back, requests succeed again without
//! restarting the API; the requests answered 503 resolve to one outcome when retried with
//! their Idempotency-Key, and the ledger is whole. Once with a fast shutdown, once with an
//! immediate one (a crash, recovered from the write-ahead log).
//!
//! The test runs its own throwaway PostgreSQL cluster (initdb, pg_ctl as the `postgres`
//! user through runuser), so it needs root, as CI has; without it, it fails and says so.

mod postgres {
    use std::collections::BTreeSet;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use kks_api::domain::ledger::AccountKind;
    use serde_json::{json, Value};

    use crate::support::api::{assert_problem, Terminal};
    use crate::support::bank::{answer, assert_books_match_ledger, balances, fund_family, Acknowledged, Answer};
    use crate::support::ledger::assert_ledger_clean;
    use crate::support::{kks, TestDatabase, TestServer};

    /// How many times the test asks `/readyz` (every 250 ms) for the API to find the
    /// restarted database before it gives up.
    const RECOVERY_POLLS_MAX: usize = 240;

    /// Terminals sending payments through the outages, each one request at a time.
    const BACKGROUND_TERMINALS: usize = 3;

    /// A PostgreSQL cluster of this test's own, on its own port and socket folder.
    struct Cluster {
        folder: tempfile::TempDir,
        bin: PathBuf,
        port: u16,
    }

    fn run(command: &mut Command, what: &str) {
        let output = command.output().unwrap_or_else(|error| panic!("{what}: {error}"));
        assert!(
            output.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    impl Cluster {
        fn start_new() -> Self {
            let uid = Command::new("id").arg("-u").output().expect("running id -u");
            assert_eq!(
                String::from_utf8_lossy(&uid.stdout).trim(),
                "0",
                "this test starts and stops a PostgreSQL cluster of its own as the postgres user (runuser), \
                 which needs root, as CI has. Run it as root, or leave it out with --skip postgres::"
            );
            let bin = std::fs::read_dir("/usr/lib/postgresql")
                .expect("PostgreSQL's binaries in /usr/lib/postgresql (apt-get install postgresql)")
                .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
                .filter(|bin| bin.join("pg_ctl").is_file())
                .max()
                .expect("pg_ctl under /usr/lib/postgresql/*/bin");
            let folder = tempfile::tempdir().expect("a folder for the cluster");
            run(Command::new("chown").arg("postgres").arg(folder.path()), "chown postgres");
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let cluster = Self { folder, bin, port };
            run(
                Command::new("runuser").args(["-u", "postgres", "--"]).arg(cluster.bin.join("initdb")).args([
                    "-D",
                    &cluster.data(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                ]),
                "initdb",
            );
            cluster.start();
            cluster
        }

        fn data(&self) -> String {
            self.folder.path().join("data").display().to_string()
        }

        fn url(&self) -> String {
            format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
        }

        fn pg_ctl(&self, args: &[&str]) -> Command {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(self.bin.join("pg_ctl")).args(["-D", &self.data()]).args(args);
            command
        }

        fn start(&self) {
            let log = self.folder.path().join("log").display().to_string();
            let options =
                format!("-h 127.0.0.1 -p {} -k {} -c max_connections=50", self.port, self.folder.path().display());
            run(&mut self.pg_ctl(&["-l", &log, "-w", "-o", &options, "start"]), "pg_ctl start");
        }

        fn stop(&self, mode: &str) {
            run(&mut self.pg_ctl(&["-m", mode, "-w", "stop"]), "pg_ctl stop");
        }
    }

    impl Drop for Cluster {
        fn drop(&mut self) {
            let _ = self.pg_ctl(&["-m", "immediate", "stop"]).output();
        }
    }

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

    #[test]
    fn requests_fail_cleanly_with_503_while_postgresql_is_down_and_succeed_once_it_is_back() {
        let cluster = Cluster::start_new();
        let database = TestDatabase::existing(&cluster.url());
        let store = database.store();
        let server = TestServer::start_after(&database, &["--postgres-pool-size", "4"], |store, demo| {
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
        let mut probes_503 = 0;

        for (round, mode) in ["fast", "immediate"].into_iter().enumerate() {
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
                                    std::thread::sleep(Duration::from_millis(100));
                                }
                                (_, Some(outcome)) => record(&seen, &terminal, family.family_id, &stan, outcome),
                                (status, None) => panic!("unexpected status {status}"),
                            }
                        }
                    });
                }
                std::thread::sleep(Duration::from_millis(500));
                cluster.stop(mode);

                // While the database is down, at once: readiness, an authenticated read, a
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
                assert_eq!((status, outcome), (503, None), "a payment while the database is down");
                seen.lock().unwrap().unavailable.push((stan, key));
                probes_503 += 3;

                cluster.start();
                let recovered = (0..RECOVERY_POLLS_MAX).any(|_| {
                    let ready = server.get("/readyz").status() == 200;
                    if !ready {
                        std::thread::sleep(Duration::from_millis(250));
                    }
                    ready
                });
                assert!(recovered, "the API did not find PostgreSQL again after a {mode} restart");
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
        assert!(!seen.approved.is_empty());
        let journals = assert_books_match_ledger(&store, &opening, &seen.approved, &BTreeSet::new(), &seen.refused);
        assert_ledger_clean(&store);
        let verified = kks(&database, &["verify-ledger"]);
        assert!(verified.status.success(), "kks verify-ledger: {}", String::from_utf8_lossy(&verified.stdout));
        println!(
            "PostgreSQL restart test: 2 outages (fast and immediate shutdown); {probes_503} probes answered 503 \
             problem+json while down; the background terminals got {} answers 503, all resolved on retry with the \
             same key; {} approved, {} refused; {journals} journals, every acknowledged one present once; \
             verify-ledger clean",
            unavailable.len() - 2,
            seen.approved.len(),
            seen.refused.len(),
        );
    }
}
