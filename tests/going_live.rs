//! Going live from an empty database: the first admin comes from the command line, in
//! production mode, and can log in; nothing else is there.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::disbursements::wait_completed;
use crate::imports::{finished, import};
use crate::support::api::{assert_problem, keyed, Session, Terminal};
use crate::support::{on_both_backends, TestDatabase, TestServer, KKS_BINARY};

/// A PIN key for production-mode servers (production mode has no built-in secrets).
const PIN_KEY: &str = "kks-test-pin-key-for-production-mode-tests";
const GOOD_PASSWORD: &str = "lima ayam goreng di pasar";

/// `kks --production admin create --username NAME`, typing `stdin` into it.
fn admin_create(database: &TestDatabase, username: &str, stdin: &str) -> Output {
    let mut child = Command::new(KKS_BINARY)
        .args(["--database", database.url(), "--production", "admin", "create", "--username", username])
        .args(["--display-name", "Admin Kemensos Pusat"])
        .env("KKS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting kks admin create");
    child.stdin.take().expect("its stdin").write_all(stdin.as_bytes()).expect("typing the password");
    child.wait_with_output().expect("waiting for kks admin create")
}

fn printed(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn typed_twice(password: &str) -> String {
    format!("{password}\n{password}\n")
}

/// `kks --production ARGS…` on the database, as the machine's operator runs it.
fn kks_production(database: &TestDatabase, args: &[&str]) -> Output {
    Command::new(KKS_BINARY)
        .args(["--database", database.url(), "--production"])
        .args(args)
        .env("KKS_LOG", "warn")
        .output()
        .expect("running kks")
}

/// Someone an admin created: replaces the first password, then logs in with their own.
fn first_login<'a>(server: &'a TestServer, username: &str, own: &str) -> Session<'a> {
    let body = json!({"username": username, "current_password": GOOD_PASSWORD, "new_password": own});
    assert_eq!(
        server.post("/v1/auth/operators/password", &body).status(),
        204,
        "{username} replaces the first password"
    );
    Session::operator_with(server, username, own)
}

on_both_backends! {
    fn the_first_admin_of_an_empty_production_database_comes_from_the_command_line(database) {
        let refusals = [
            ("admin.pusat", typed_twice("too short"), "at least 12 characters"),
            ("admin.pusat", typed_twice("MyPassword2026!"), "among the first guesses"),
            ("admin.pusat", typed_twice("admin.pusat is me!"), "must not contain the user name"),
            ("admin.pusat", format!("{GOOD_PASSWORD}\n{GOOD_PASSWORD}!\n"), "the two passwords differ"),
            ("admin.pusat", format!("{GOOD_PASSWORD}\n"), "send the password on two lines"),
            ("Admin Pusat", typed_twice(GOOD_PASSWORD), "lower-case letters"),
            ("operator\u{202e}jabar", typed_twice(GOOD_PASSWORD), "lower-case letters"),
        ];
        for (username, stdin, reason) in &refusals {
            let refused = admin_create(&database, username, stdin);
            assert!(!refused.status.success(), "{username:?} {stdin:?} was accepted");
            assert!(printed(&refused).contains(reason), "{username:?} {stdin:?}: {}", printed(&refused));
        }

        let created = admin_create(&database, "admin.pusat", &typed_twice(GOOD_PASSWORD));
        assert!(created.status.success(), "{}", printed(&created));
        assert!(printed(&created).contains("national admin \"admin.pusat\" created"), "{}", printed(&created));
        assert!(!printed(&created).contains(GOOD_PASSWORD), "the password is never printed");
        let again = admin_create(&database, "admin.pusat", &typed_twice("another long secret phrase"));
        assert!(!again.status.success());
        assert!(printed(&again).contains("this user name is taken"), "{}", printed(&again));

        let server = TestServer::start_with(&database, &["--production", "--pin-key", PIN_KEY]);
        assert!(server.credentials.is_none(), "production mode seeds nothing");
        let wrong = server.post("/v1/auth/operators/login", &json!({"username": "admin.pusat", "password": "too short"}));
        assert_problem(wrong, 401, "WRONG_CREDENTIALS");
        let admin = Session::operator_with(&server, "admin.pusat", GOOD_PASSWORD);
        let events: serde_json::Value = admin.get("/v1/audit-events?object_kind=operator").json().unwrap();
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 1, "only the one admin was created: {events:?}");
        assert_eq!(events[0]["action"], "operator.created");
        assert_eq!(events[0]["actor"], "system:cli");
        assert!(!events[0].to_string().contains(GOOD_PASSWORD));
        let families: serde_json::Value = admin.get("/v1/monitoring/overview").json().unwrap();
        assert!(!families.to_string().contains("Jawa Barat"), "no demo region: {families}");

        // An agent with a terminal, from nothing: its village first, then the agent, which
        // replaces its first password and logs in on its terminal.
        for (code, name) in [("32", "Jawa Barat"), ("32.04", "Kabupaten Bandung"), ("32.04.12", "Cileunyi"), ("32.04.12.2001", "Cileunyi Kulon")] {
            assert_eq!(admin.post("/v1/regions", &json!({"code": code, "name": name})).status(), 201);
        }
        let agent = admin.post("/v1/agents", &json!({"username": "agen.kulon", "display_name": "BRILink Kulon", "owner_name": "Asep Saepudin",
            "kind": "bank_agent", "bank": "bri", "village": "32.04.12.2001", "password": GOOD_PASSWORD}));
        assert_eq!(agent.status(), 201, "{}", agent.text().unwrap_or_default());
        let agent_id = agent.json::<serde_json::Value>().unwrap()["id"].as_i64().unwrap();
        let terminal = admin.post(&format!("/v1/agents/{agent_id}/terminals"), &json!({"terminal_id": "T3204901", "serial": "PAX-A920-0901"}));
        assert_eq!(terminal.status(), 201);
        let own = "enam itik pulang petang";
        let changed = server.post("/v1/auth/agents/password", &json!({"username": "agen.kulon", "current_password": GOOD_PASSWORD, "new_password": own}));
        assert_eq!(changed.status(), 204);
        let me: serde_json::Value = Session::agent_with(&server, "agen.kulon", own, "T3204901").get("/v1/me").json().unwrap();
        assert_eq!(me["terminal_id"], "T3204901");
    }

    /// README, Going live, walked as a ministry would: nothing but migrations in the
    /// database, and at the end a family draws its first PKH stage at an agent with the
    /// PIN from the mailer.
    fn a_ministry_goes_live_from_an_empty_database_to_a_family_drawing_its_first_stage(database) {
        // The first admin and the region list, from the command line.
        assert!(admin_create(&database, "admin.pusat", &typed_twice(GOOD_PASSWORD)).status.success());
        let folder = tempfile::tempdir().unwrap();
        let regions = folder.path().join("kemendagri.csv");
        std::fs::write(&regions, "code,name\n32,Jawa Barat\n32.04,Kabupaten Bandung\n32.04.12,Cileunyi\n32.04.12.2001,Cileunyi Kulon\n").unwrap();
        let imported = kks_production(&database, &["import", "regions", regions.to_str().unwrap()]);
        assert!(imported.status.success(), "{}", printed(&imported));
        assert!(printed(&imported).contains("4 accepted"), "{}", printed(&imported));

        let server = TestServer::start_with(&database, &["--production", "--pin-key", PIN_KEY]);
        let admin = Session::operator_with(&server, "admin.pusat", GOOD_PASSWORD);
        // A provincial admin, who adds the province's operator and supervisor.
        let person = |by: &Session, username: &str, role: &str, region: &str| {
            let body = json!({"username": username, "display_name": username, "role": role, "region": region, "password": GOOD_PASSWORD});
            let created = by.post("/v1/operators", &body);
            assert_eq!(created.status(), 201, "{username}: {}", created.text().unwrap_or_default());
        };
        person(&admin, "admin.jabar", "admin", "32");
        let jabar = first_login(&server, "admin.jabar", "pohon mangga berbuah lebat");
        person(&jabar, "operator.jabar", "operator", "32");
        person(&jabar, "supervisor.jabar", "supervisor", "32");
        let operator = first_login(&server, "operator.jabar", "kereta api lewat sawah hijau");
        let supervisor = first_login(&server, "supervisor.jabar", "gunung tinggi awan putih sekali");

        // A bank agent of the village with its terminal.
        let agent = jabar.post("/v1/agents", &json!({"username": "agen.kulon", "display_name": "BRILink Kulon", "owner_name": "Asep Saepudin",
            "kind": "bank_agent", "bank": "bri", "village": "32.04.12.2001", "password": GOOD_PASSWORD}));
        assert_eq!(agent.status(), 201, "{}", agent.text().unwrap_or_default());
        let agent_id = agent.json::<serde_json::Value>().unwrap()["id"].as_i64().unwrap();
        let terminal = jabar.post(&format!("/v1/agents/{agent_id}/terminals"), &json!({"terminal_id": "T3204901", "serial": "PAX-A920-0901"}));
        assert_eq!(terminal.status(), 201);
        let own = "enam itik pulang petang";
        let changed = server.post("/v1/auth/agents/password", &json!({"username": "agen.kulon", "current_password": GOOD_PASSWORD, "new_password": own}));
        assert_eq!(changed.status(), 204);

        // The village's families from the national data set, then their cards in bulk.
        let families = "nik,family_card_number,recipient_name,address,village_code,category,members\n\
            3204125508850901,3204120101080901,Siti Aminah,Kp. Cileunyi RT 01/02,32.04.12.2001,regular,Siti Aminah:pregnant_or_nursing;Budi:school_child:sd\n\
            3204125508850902,3204120101080902,Dewi Lestari,Jl. Merdeka 5,32.04.12.2001,regular,Dewi Lestari:child_under_six\n";
        let job = import(&operator, &server, "families", families);
        assert_eq!((job["accepted"].as_i64(), job["rejected"].as_i64()), (Some(2), Some(0)), "{job}");
        let started = operator.post("/v1/regions/32.04.12.2001/card-issuance", &json!({"bank": "bri"}));
        assert_eq!(started.status(), 202, "{}", started.text().unwrap_or_default());
        let location = started.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(finished(&operator, &location)["accepted"], 2);
        let mailer = operator.get(&format!("{location}/pin-mailer")).text().unwrap();
        let siti: Vec<&str> = mailer.lines().find(|line| line.contains(",Siti Aminah,")).expect("Siti's card in the mailer").split(',').collect();
        let (card_number, pin) = (siti[0].to_owned(), siti[3].to_owned());

        // The first PKH stage, prepared by the operator and approved by the supervisor.
        let prepared = operator.post("/v1/disbursements", &json!({"programme": "pkh", "year": 2017, "period": 1}));
        assert_eq!(prepared.status(), 201, "{}", prepared.text().unwrap_or_default());
        let batch = prepared.json::<serde_json::Value>().unwrap()["batch"]["id"].as_i64().unwrap();
        assert_eq!(supervisor.post(&format!("/v1/disbursements/{batch}/approve"), &json!({})).status(), 200);
        assert_eq!(operator.post(&format!("/v1/disbursements/{batch}/execute"), &json!({})).status(), 202);
        assert_eq!(wait_completed(&operator, batch)["failed_lines"], 0);

        // At the agent: the PKH money to savings, then cash, with the mailer's PIN.
        let till = Terminal::on(Session::agent_with(&server, "agen.kulon", own, "T3204901"), "T3204901");
        let card = json!({"card": {"card_number": card_number}, "pin": pin, "amount": "500000"});
        let moved = till.send("/v1/edc/wallet-to-savings", card.clone());
        assert_eq!(moved.status(), 200, "{}", moved.text().unwrap_or_default());
        let cash = till.send("/v1/edc/cash-withdrawals", card);
        assert_eq!(cash.status(), 200, "{}", cash.text().unwrap_or_default());
        let verified = crate::support::kks(&database, &["verify-ledger"]);
        assert!(verified.status.success(), "{}", printed(&verified));
    }
}

#[test]
fn an_admin_is_created_beside_a_server_running_on_the_same_sqlite_file() {
    let database = TestDatabase::sqlite();
    let server = TestServer::start(&database);
    let family = server.demo().families_in("32")[0].clone();
    let terminal = Terminal::of(&server, "agen.cileunyi");
    let command_done = AtomicBool::new(false);
    let answered = std::thread::scope(|scope| {
        // The server keeps writing (each inquiry is recorded) while the command runs.
        let traffic = scope.spawn(|| {
            let mut statuses = Vec::new();
            while !command_done.load(Ordering::Acquire) || statuses.is_empty() {
                statuses.push(terminal.send("/v1/edc/balance-inquiries", keyed(&family)).status().as_u16());
            }
            statuses
        });
        let created = admin_create(&database, "admin.kedua", &typed_twice(GOOD_PASSWORD));
        command_done.store(true, Ordering::Release);
        assert!(created.status.success(), "{}", printed(&created));
        traffic.join().expect("the card traffic")
    });
    assert!(
        answered.iter().all(|status| *status == 200),
        "every inquiry beside the command was answered: {answered:?}"
    );
    Session::operator_with(&server, "admin.kedua", GOOD_PASSWORD);
    Session::operator(&server, "admin");
}
