//! Crash safety under card load: terminals send withdrawals, e-wallet to savings and
//! purchases while the server is killed with SIGKILL at a random moment, several times.
//! After each restart every request that got no answer is sent again with the same
//! Idempotency-Key: each resolves to one outcome (a second retry gets the same), those
//! that had committed before the kill get their stored approval, and at the end every
//! acknowledged transaction is in the journal exactly once, nothing is applied that
//! nobody was told about, the balances are what the answers said, and
//! `kks verify-ledger` is clean. (A disbursement killed mid-way is
//! `disbursements::crash::…`.)

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use kks_api::domain::ledger::AccountKind;
use rand::Rng;
use serde_json::{json, Value};

use crate::support::api::{transmitted_now, FamilyCredentials, Session};
use crate::support::bank::{answer, assert_books_match_ledger, balances, edc_rows, fund_family, Acknowledged, Answer};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{kks, on_both_backends, TestServer};

const KILL_ROUNDS: usize = 5;
const WORKERS: usize = 6;
/// A bound on one worker's requests in one round (the kill normally comes far sooner).
const REQUESTS_PER_ROUND_MAX: usize = 2_000;

const EXPECTED_REFUSALS: &[&str] =
    &["INSUFFICIENT_FUNDS", "QUOTA_EXCEEDED", "DAILY_WITHDRAWAL_LIMIT_EXCEEDED", "AGENT_DAILY_LIMIT_EXCEEDED"];

/// The terminals: (agent, sells goods rather than paying cash).
const AGENTS: &[(&str, bool)] = &[("agen.cileunyi", false), ("ewarong.cileunyi", true), ("agen.sekayu", false)];

/// A request as the terminal sent it, to send again after a crash.
#[derive(Debug, Clone)]
struct Sent {
    worker: usize,
    path: &'static str,
    stan: String,
    key: String,
    body: Value,
    family: i64,
}

#[derive(Default)]
struct Books {
    approved: Vec<Acknowledged>,
    refused: Vec<(String, String, String)>,
    unanswered: Vec<Sent>,
    sent: usize,
}

struct Agent {
    terminal_id: String,
    access_token: String,
    sells_goods: bool,
}

/// A request's path and body, sent now: a retry after the crash resends the same body.
fn request(random: &mut impl Rng, sells_goods: bool, family: &FamilyCredentials) -> (&'static str, Value) {
    let mut body = json!({ "card": { "card_number": family.card_number }, "pin": family.pin, "transmitted_at": transmitted_now() });
    let amount = json!((random.random_range(1..=100) * 1_000).to_string());
    let path = match (sells_goods, random.random_range(0..10)) {
        (true, 0..=5) => {
            body["programme"] = json!("bpnt");
            body["basket"] = json!([{ "sku": "BERAS-1KG", "quantity": random.random_range(1..=2) }]);
            "/v1/edc/purchases"
        }
        (false, 0..=5) => "/v1/edc/cash-withdrawals",
        _ => "/v1/edc/wallet-to-savings",
    };
    if path != "/v1/edc/purchases" {
        body["amount"] = amount;
    }
    (path, body)
}

fn send(client: &reqwest::blocking::Client, base: &str, agent: &Agent, sent: &Sent) -> reqwest::Result<Answer> {
    let mut body = sent.body.clone();
    body["stan"] = json!(sent.stan);
    let response = client
        .post(format!("{base}{}", sent.path))
        .bearer_auth(&agent.access_token)
        .header("Idempotency-Key", &sent.key)
        .json(&body)
        .send()?;
    Ok(answer(response))
}

fn record(books: &Mutex<Books>, agent: &Agent, sent: &Sent, outcome: Answer) {
    let mut books = books.lock().unwrap();
    match outcome {
        Answer::Approved(receipt) => books.approved.push(Acknowledged::from_receipt(sent.path, sent.family, &receipt)),
        Answer::Refused(code) => {
            assert!(EXPECTED_REFUSALS.contains(&code.as_str()), "unexpected refusal {code} for {sent:?}");
            books.refused.push((agent.terminal_id.clone(), sent.stan.clone(), code));
        }
    }
}

/// Sends requests until the server stops answering (or the bound); the request that got
/// no answer is kept to be sent again.
fn terminal_worker(
    worker: usize,
    base: &str,
    agent: &Agent,
    families: &[FamilyCredentials],
    next_stan: &mut u32,
    books: &Mutex<Books>,
) {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut random = rand::rng();
    for _ in 0..REQUESTS_PER_ROUND_MAX {
        // Half of the traffic on the first family's card.
        let family =
            if random.random_bool(0.5) { &families[0] } else { &families[random.random_range(1..families.len())] };
        let (path, body) = request(&mut random, agent.sells_goods, family);
        *next_stan += 1;
        let stan = format!("{:06}", *next_stan);
        let sent =
            Sent { worker, path, key: format!("{}-{stan}", agent.terminal_id), stan, body, family: family.family_id };
        books.lock().unwrap().sent += 1;
        match send(&client, base, agent, &sent) {
            Ok(outcome) => record(books, agent, &sent, outcome),
            Err(_) => {
                books.lock().unwrap().unanswered.push(sent);
                return;
            }
        }
    }
}

on_both_backends! {
    fn terminals_killed_mid_load_lose_nothing_and_apply_nothing_twice(database) {
        let store = database.store();
        // Funded before the server starts: while it runs, it is the only writer.
        let mut server = TestServer::start_after(&database, &[], |store, demo| {
            for family in &demo.families {
                fund_family(store, family.family_id, AccountKind::Savings, 3_000_000);
                fund_family(store, family.family_id, AccountKind::WalletPkh, 1_000_000);
                fund_family(store, family.family_id, AccountKind::WalletBpnt, 1_000_000);
            }
        });
        let demo = server.demo().clone();
        let opening = balances(&store);
        // Tokens outlive the server: same signing secret, versions in the database.
        let agents: Vec<Agent> = (0..WORKERS)
            .map(|index| {
                let (name, sells_goods) = AGENTS[index % AGENTS.len()];
                Agent {
                    terminal_id: demo.agent(name).terminal_id.clone(),
                    access_token: Session::agent(&server, name).access_token,
                    sells_goods,
                }
            })
            .collect();
        let mut next_stans: Vec<u32> = (0..WORKERS).map(|index| u32::try_from(index).unwrap() * 100_000).collect();
        let books = Mutex::new(Books::default());
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let mut random = rand::rng();
        let (mut unanswered_total, mut committed_before_kill, mut kill_delays_ms) = (0, 0, Vec::new());

        for _ in 0..KILL_ROUNDS {
            let base = server.url("");
            let delay_ms = random.random_range(300..1_500);
            kill_delays_ms.push(delay_ms);
            let mut running = Some(server);
            std::thread::scope(|scope| {
                for ((worker, agent), next_stan) in agents.iter().enumerate().zip(next_stans.iter_mut()) {
                    let (base, families, books) = (&base, &demo.families, &books);
                    scope.spawn(move || terminal_worker(worker, base, agent, families, next_stan, books));
                }
                std::thread::sleep(Duration::from_millis(delay_ms));
                drop(running.take()); // SIGKILL, mid-load: no clean stop.
            });

            server = TestServer::start(&database);
            let base = server.url("");
            let pending = std::mem::take(&mut books.lock().unwrap().unanswered);
            unanswered_total += pending.len();
            let rows = edc_rows(&store);
            for sent in &pending {
                let agent = &agents[sent.worker];
                let committed = rows.contains_key(&(agent.terminal_id.clone(), sent.stan.clone()));
                let first = send(&client, &base, agent, sent).expect("the restarted server answers");
                let again = send(&client, &base, agent, sent).expect("the restarted server answers");
                assert_eq!(first, again, "two retries of {} got different answers", sent.key);
                if committed {
                    committed_before_kill += 1;
                    assert!(matches!(first, Answer::Approved(_)), "{} committed before the kill, retry got {first:?}", sent.key);
                }
                record(&books, agent, sent, first);
            }
            assert_ledger_clean(&store);
        }

        let books = books.into_inner().unwrap();
        assert!(unanswered_total > 0, "the kills came while requests were in flight");
        let journal_count = assert_books_match_ledger(&store, &opening, &books.approved, &BTreeSet::new(), &books.refused);
        assert_ledger_clean(&store);
        let verified = kks(&database, &["verify-ledger"]);
        assert!(verified.status.success(), "kks verify-ledger: {}", String::from_utf8_lossy(&verified.stdout));
        let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, code) in &books.refused {
            *codes.entry(code.as_str()).or_default() += 1;
        }
        println!(
            "crash test ({}): {KILL_ROUNDS} SIGKILLs at {kill_delays_ms:?} ms into the load, {} requests by {WORKERS} \
             terminals; {unanswered_total} unanswered, retried after restart with the same key: \
             {committed_before_kill} had committed before the kill (stored answer returned), the rest ran once; \
             {} approved, refused {codes:?}; {journal_count} journals, every acknowledged one present once; \
             verify-ledger clean",
            if database.is_postgres() { "PostgreSQL" } else { "SQLite" },
            books.sent,
            books.approved.len(),
        );
    }
}
