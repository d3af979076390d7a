//! `card-sim`, the card and EDC terminal simulator, driven as its users drive it: the real
//! binary against the real server, on both backends. Each server is seeded with
//! `kks seed --demo`, which writes the full credentials file card-sim reads.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;

use chrono::NaiveDate;
use kks_api::domain::card::CardNumber;
use kks_api::domain::card_qr::{CardQrPayload, IssuerSigningKey};
use kks_api::domain::ledger::{AccountKind, OwnerKind};
use kks_api::ledger::accounts;
use kks_api::render::card_image::{render_card_front, CardFace};
use serde_json::{json, Value};

use crate::support::api::{Credentials, FamilyCredentials, Session};
use crate::support::ledger::assert_ledger_clean;
use crate::support::server::{TEST_ISSUER_KEY_HEX, TEST_JWT_SECRET};
use crate::support::{on_both_backends, TestDatabase, TestServer, KKS_BINARY};

/// The `card-sim` binary, built once per test run. It belongs to another package, so
/// Cargo does not build it for this test target; it lands next to `kks`.
fn card_sim_binary() -> PathBuf {
    static BUILD: Once = Once::new();
    let kks = Path::new(KKS_BINARY);
    let profile_dir = kks.parent().expect("the kks binary's folder");
    BUILD.call_once(|| {
        let target_dir = profile_dir.parent().expect("the target folder");
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
        build.args(["build", "--quiet", "-p", "card-sim", "--target-dir"]).arg(target_dir);
        if profile_dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build.current_dir(env!("CARGO_MANIFEST_DIR")).status().expect("running cargo build -p card-sim");
        assert!(status.success(), "cargo build -p card-sim failed");
    });
    profile_dir.join(format!("card-sim{}", std::env::consts::EXE_SUFFIX))
}

/// The shipped scenarios, in the order of their names.
fn shipped_scenarios() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../card-sim/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("the card-sim/scenarios folder")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    files.sort();
    files
}

/// A fresh server on the database, seeded by `kks seed --demo`; its credentials file.
struct Seeded {
    server: TestServer,
    credentials_path: PathBuf,
    folder: tempfile::TempDir,
}

fn seeded(database: &TestDatabase) -> Seeded {
    let folder = tempfile::tempdir().unwrap();
    let credentials_path = folder.path().join("demo-credentials.json");
    let seed = Command::new(KKS_BINARY)
        .args(["--database", database.url(), "seed", "--demo", "--credentials"])
        .arg(&credentials_path)
        .env("KKS_JWT_SECRET", TEST_JWT_SECRET)
        .env("KKS_ISSUER_KEY", TEST_ISSUER_KEY_HEX)
        .env("KKS_LOG", "warn")
        .output()
        .unwrap();
    assert!(seed.status.success(), "kks seed --demo: {}", String::from_utf8_lossy(&seed.stderr));
    let mut server = TestServer::start(database);
    let credentials: Credentials = serde_json::from_slice(&std::fs::read(&credentials_path).unwrap()).unwrap();
    server.credentials = Some(credentials);
    Seeded { server, credentials_path, folder }
}

impl Seeded {
    fn family(&self, number: usize) -> FamilyCredentials {
        self.server.demo().families[number - 1].clone()
    }

    /// Runs `card-sim ARGS… --server URL` (the server flag follows the subcommand).
    fn card_sim(&self, args: &[&str]) -> Output {
        self.card_sim_with_input(args, None)
    }

    fn card_sim_with_input(&self, args: &[&str], input: Option<&str>) -> Output {
        let mut child = Command::new(card_sim_binary())
            .args(args)
            .args(["--server", &self.server.url("")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting card-sim");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).unwrap();
        }
        drop(stdin);
        child.wait_with_output().unwrap()
    }

    fn path(&self, name: &str) -> String {
        self.folder.path().join(name).display().to_string()
    }

    fn credentials(&self) -> String {
        self.credentials_path.display().to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pocket_balance_minor(database: &TestDatabase, family: &FamilyCredentials, kind: AccountKind) -> i64 {
    database
        .store()
        .read(|tx| accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family.family_id.to_string(), kind))
        .unwrap()
        .unwrap()
        .balance_minor
}

/// A database of the same backend as `database`, fresh.
fn another(database: &TestDatabase) -> TestDatabase {
    if database.is_postgres() {
        TestDatabase::postgres()
    } else {
        TestDatabase::sqlite()
    }
}

on_both_backends! {
    fn the_shipped_scenarios_pass_against_a_freshly_seeded_server(database) {
        let scenarios = shipped_scenarios();
        assert!(scenarios.len() >= 5, "card-sim ships its scenarios: {scenarios:?}");
        for (index, scenario) in scenarios.iter().enumerate() {
            let fresh = if index == 0 { None } else { Some(another(&database)) };
            let database = fresh.as_ref().unwrap_or(&database);
            let seeded = seeded(database);
            let output = seeded.card_sim(&["scenario", &scenario.display().to_string(), "--credentials", &seeded.credentials()]);
            let stdout = text(&output.stdout);
            assert!(output.status.success(), "{} failed:\n{stdout}\n{}", scenario.display(), text(&output.stderr));
            assert!(stdout.contains("passed"), "{stdout}");
            assert_ledger_clean(&database.store());
        }
    }

    fn a_scenario_stops_at_its_first_unmet_expectation_and_says_which(database) {
        let seeded = seeded(&database);
        let scenario = seeded.path("wrong.toml");
        std::fs::write(&scenario, r#"
            name = "a tester's mistake"
            [[step]]
            name = "look at the money"
            do = "balance_inquiry"
            agent = "agen.cileunyi"
            family = 1
            [[step]]
            name = "cash from an empty savings account"
            do = "cash_withdrawal"
            agent = "agen.cileunyi"
            family = 1
            amount = "100000"
            expect = "approved"
            [[step]]
            name = "never reached"
            do = "balance_inquiry"
            agent = "agen.cileunyi"
            family = 1
        "#).unwrap();
        let output = seeded.card_sim(&["scenario", &scenario, "--credentials", &seeded.credentials()]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("step 2 \"cash from an empty savings account\""), "{stderr}");
        assert!(stderr.contains("expected approved, got refused INSUFFICIENT_FUNDS"), "{stderr}");
        assert!(!text(&output.stdout).contains("never reached"));

        std::fs::write(&scenario, "name = \"typo\"\n[[step]]\nname = \"x\"\ndo = \"balance_inquiry\"\nagent = \"agen.cileunyi\"\nfamily = 1\nbalance = { savings = \"0\" }\n").unwrap();
        let output = seeded.card_sim(&["scenario", &scenario, "--credentials", &seeded.credentials()]);
        assert_eq!(output.status.code(), Some(2), "a scenario that does not read is not run");
        assert!(text(&output.stderr).contains("balance"), "{}", text(&output.stderr));
    }

    fn an_agent_session_shows_refusals_and_reverses_a_transaction_whose_answer_was_lost(database) {
        let seeded = seeded(&database);
        let (siti, dewi) = (seeded.family(1), seeded.family(2));
        // Siti's PKH money is held: an operator looks into a complaint.
        let operator = Session::operator(&seeded.server, "operator.jabar");
        let held = operator.post(&format!("/v1/families/{}/holds", siti.family_id),
            &json!({"pocket": "wallet_pkh", "amount": "500000", "reference": "complaint 3/2026"}));
        assert_eq!(held.status(), 201, "{}", held.text().unwrap_or_default());
        let card_png = seeded.path("siti.png");
        let rendered = seeded.card_sim(&["render", "--credentials", &seeded.credentials(), "--family", "1", "--out", &card_png]);
        assert!(rendered.status.success(), "{}", text(&rendered.stderr));

        let wrong_pin = siti.clone().pin.chars().map(|digit| if digit == '0' { '1' } else { '0' }).collect::<String>();
        let script = [
            // 1: Siti's card scanned from its picture, a wrong PIN.
            "1", &card_png, &wrong_pin,
            // 2: cash while her savings are empty: the e-wallet is never paid out as cash.
            "2", "", "100000", &siti.pin,
            // 3: her blocked PKH money cannot move to savings.
            "3", "", "100000", &siti.pin,
            // 4: Dewi's card keyed in, PKH to savings; the answer is lost (transaction 4).
            "3", &dewi.card_number, "200000", &dewi.pin,
            // 5: Dewi's balance: nothing moved.
            "1", "", &dewi.pin,
            "0",
        ].join("\n") + "\n";
        let slips = seeded.path("slips");
        let output = seeded.card_sim_with_input(&["edc", "--credentials", &seeded.credentials(), "--agent", "agen.cileunyi",
            "--slip-dir", &slips, "--stan-file", &seeded.path("stan.json"), "--simulate-timeout-on", "4"], Some(&script));
        let screen = text(&output.stdout);
        assert!(output.status.success(), "{screen}\n{}", text(&output.stderr));
        for line in screen.lines().filter(|line| line.starts_with("PIN (6 digit): ")) {
            assert_eq!(line, "PIN (6 digit): ******", "a PIN never shows on the screen");
        }
        let after = |marker: &str| screen.split_once(marker).unwrap_or_else(|| panic!("{marker} not on the screen:\n{screen}")).1;
        assert!(after("Kartu terbaca, tanda tangan sah").contains("5221 84** ****"), "the scanned card is shown masked");
        assert!(after("Kode [code] : WRONG_PIN").contains("PIN salah"), "{screen}");
        assert!(after("Kode [code] : INSUFFICIENT_FUNDS").contains("Saldo tidak mencukupi"), "{screen}");
        assert!(screen.contains("Kode [code] : FUNDS_HELD"), "{screen}");
        let lost = after("STAN 000004");
        assert!(lost.contains("TIDAK ADA JAWABAN DARI SERVER"), "{screen}");
        assert!(lost.contains("PEMBATALAN BERHASIL: dana dikembalikan"), "{screen}");
        let inquiry = after("INFORMASI SALDO [balance inquiry], STAN 000005");
        let pkh_line = inquiry.lines().find(|line| line.contains("e-Wallet PKH")).unwrap();
        assert!(pkh_line.ends_with("Rp 500.000"), "{pkh_line}");
        let savings_line = inquiry.lines().find(|line| line.contains("Tabungan")).unwrap();
        assert!(savings_line.ends_with("Rp 0"), "{savings_line}");
        assert!(screen.trim_end().ends_with("Sesi selesai [session ended]."), "{screen}");

        assert_eq!(pocket_balance_minor(&database, &dewi, AccountKind::WalletPkh), 50_000_000, "the reversal gave it back");
        assert_eq!(pocket_balance_minor(&database, &dewi, AccountKind::Savings), 0);
        assert_eq!(pocket_balance_minor(&database, &siti, AccountKind::WalletPkh), 50_000_000);
        let slip_pngs: Vec<PathBuf> = std::fs::read_dir(&slips).unwrap().map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "png")).collect();
        assert_eq!(slip_pngs.len(), 1, "the approved inquiry's slip is saved: {slip_pngs:?}");
        assert!(image::open(&slip_pngs[0]).is_ok());
        let state: Value = serde_json::from_slice(&std::fs::read(seeded.path("stan.json")).unwrap()).unwrap();
        assert_eq!(state["next_stan"], 6, "the terminal keeps its STAN counter");
        assert_ledger_clean(&database.store());
    }

    fn a_rendered_card_scans_back_and_forged_or_lost_cards_are_refused(database) {
        let seeded = seeded(&database);
        let siti = seeded.family(1);
        let card_png = seeded.path("card.png");
        let operator = seeded.server.demo().operator("operator.jabar").clone();
        let login = format!("operator:operator.jabar:{}", operator.password);
        let rendered = seeded.card_sim(&["render", "--card", &siti.card_number, "--login", &login, "--out", &card_png]);
        assert!(rendered.status.success(), "{}", text(&rendered.stderr));

        let scanned = seeded.card_sim(&["scan", &card_png, "--online", "--credentials", &seeded.credentials(), "--agent", "agen.cileunyi"]);
        let stdout = text(&scanned.stdout);
        assert!(scanned.status.success(), "{stdout}{}", text(&scanned.stderr));
        let number = CardNumber::parse(&siti.card_number).unwrap();
        assert!(stdout.contains(&number.masked()) && !stdout.contains(&siti.card_number), "{stdout}");
        assert!(stdout.contains("Bank                       : BRI"), "{stdout}");
        assert!(stdout.contains("Urutan kartu [sequence]    : 1"), "{stdout}");
        assert!(stdout.contains("Tanda tangan penerbit sah") && stdout.contains("kartu berlaku"), "{stdout}");

        // A card drawn like the real one but signed by someone else's key.
        let forger = IssuerSigningKey::from_seed(&[7; 32]);
        let forged_qr = forger.sign(&CardQrPayload { card_number: number.clone(), sequence: 1, bank: number.bank(),
            expires_on: NaiveDate::from_ymd_opt(2099, 1, 1).unwrap() });
        let masked = number.masked();
        let face = CardFace { bank: number.bank(), programme_name: "KARTU KELUARGA SEJAHTERA", holder_name: "SITI AMINAH",
            masked_number: &masked, expires_on: NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(), qr_text: &forged_qr };
        let forged_png = seeded.path("forged.png");
        std::fs::write(&forged_png, render_card_front(&face).unwrap()).unwrap();
        let forged = seeded.card_sim(&["scan", &forged_png]);
        assert_eq!(forged.status.code(), Some(1), "{}", text(&forged.stdout));
        assert!(text(&forged.stdout).contains("DITOLAK [REFUSED] (offline): CARD_FORGED"), "{}", text(&forged.stdout));

        // Lost: genuine offline, refused by the server.
        let family = Session::family(&seeded.server, &siti);
        let reported = family.post(&format!("/v1/cards/{}/report-lost", siti.card_number), &json!({"reason": "hilang"}));
        assert!(reported.status().is_success());
        let lost = seeded.card_sim(&["scan", &card_png]);
        assert!(lost.status.success(), "offline the card is still genuine");
        let lost = seeded.card_sim(&["scan", &card_png, "--online", "--credentials", &seeded.credentials(), "--agent", "agen.cileunyi"]);
        assert_eq!(lost.status.code(), Some(1));
        assert!(text(&lost.stdout).contains("DITOLAK [REFUSED] (online): CARD_LOST"), "{}", text(&lost.stdout));
    }

    fn a_fixed_count_load_run_reports_its_figures_and_a_clean_ledger(database) {
        let seeded = seeded(&database);
        let output = seeded.card_sim(&["load", "--credentials", &seeded.credentials(), "--database", database.url(),
            "--kks", KKS_BINARY, "--count", "200", "--concurrency", "4", "--wrong-pin-share", "0.1",
            "--retry-share", "0.1", "--seed", "7", "--json"]);
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["mode"], "closed_loop");
        assert_eq!(report["transactions"], 200);
        let retries = report["retries"].as_u64().unwrap();
        assert_eq!(report["requests"].as_u64().unwrap(), 200 + retries);
        assert_eq!(report["retry_mismatches"], 0, "every retry got its first answer");
        let outcomes = report["outcomes"].as_object().unwrap();
        assert_eq!(outcomes.values().map(|count| count.as_u64().unwrap()).sum::<u64>(), 200);
        assert!(outcomes["APPROVED"].as_u64().unwrap() > 0 && outcomes.contains_key("WRONG_PIN"), "{outcomes:?}");
        let latency = &report["latency_ms"];
        for quantile in ["p50", "p90", "p99", "p99_9", "max"] {
            assert!(latency[quantile].as_f64().unwrap() > 0.0, "{quantile}: {latency}");
        }
        assert!(latency["p50"].as_f64() <= latency["p99"].as_f64() && latency["p99"].as_f64() <= latency["max"].as_f64());
        assert!(report["requests_per_second"].as_f64().unwrap() > 0.0);
        assert_eq!(report["unexpected"], json!({}));
        assert_eq!(report["ledger"]["clean"], true, "{}", report["ledger"]);
        assert_eq!(report["ledger"]["report"]["discrepancy_count"], 0);

        let text_run = seeded.card_sim(&["load", "--credentials", &seeded.credentials(), "--database", database.url(),
            "--kks", KKS_BINARY, "--count", "20", "--concurrency", "2", "--no-progress"]);
        let printed = text(&text_run.stdout);
        assert!(text_run.status.success(), "{printed}");
        for figure in ["closed loop", "latency (ms)  p50", "p99.9", "outcomes", "ledger        OK"] {
            assert!(printed.contains(figure), "{figure} missing:\n{printed}");
        }
        assert_ledger_clean(&database.store());
    }

    fn an_open_loop_run_starts_its_transactions_at_the_rate_asked_whatever_the_answers(database) {
        let seeded = seeded(&database);
        let output = seeded.card_sim(&["load", "--credentials", &seeded.credentials(), "--database", database.url(),
            "--kks", KKS_BINARY, "--count", "100", "--rate", "50", "--concurrency", "4", "--seed", "11", "--json"]);
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["mode"], "open_loop");
        assert_eq!(report["target_rate"], 50);
        assert_eq!(report["transactions"], 100);
        // The 100th transaction is due 99/50 s after the first: pacing can only make a run
        // longer than that, never shorter (a lower bound, not a timing expectation).
        assert!(report["duration_seconds"].as_f64().unwrap() >= 99.0 / 50.0, "{}", report["duration_seconds"]);
        assert_eq!(report["unexpected"], json!({}));
        assert_eq!(report["ledger"]["clean"], true, "{}", report["ledger"]);
    }
}
