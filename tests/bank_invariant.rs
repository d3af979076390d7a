//! The bank invariant (the Jepsen "bank" test) on our ledger, through the real server:
//! many terminals at once on skewed traffic (one hot card takes half of it), mixing cash
//! withdrawals, PKH e-wallet to savings, e-Warong purchases, reversals (after and before
//! their original), retries with the same Idempotency-Key (one after the other and at the
//! same time), wrong PINs (and the operator unlocking a locked PIN), while another thread
//! places and releases investigation holds behind the terminals' backs.
//!
//! While the traffic runs, a checker verifies the ledger again and again; at the end:
//! the journals sum to zero, every balance equals its entries, no account is below its
//! holds, every acknowledged operation is in the journal exactly once (and its reversal
//! too), every refused one left nothing, nothing was applied that nobody acknowledged,
//! and every family pocket holds exactly what the acknowledged operations say.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use kks_api::domain::ledger::AccountKind;
use rand::Rng;
use serde_json::{json, Value};

use crate::support::api::{FamilyCredentials, Session, Terminal};
use crate::support::bank::{
    accounts_below_holds, answer, assert_books_match_ledger, balances, edc_rows, fund_family, wrong_pin, Acknowledged,
    Answer,
};
use crate::support::figures::assert_figures_match_ledger;
use crate::support::ledger::assert_ledger_clean;
use crate::support::{kks, on_both_backends, TestDatabase, TestServer};

const WORKERS: usize = 8;
const OPERATIONS_PER_WORKER: usize = 150;
/// Share of the traffic on the hot card (the first demo family), in percent.
const HOT_CARD_PERCENT: u32 = 50;
const SAVINGS_FUNDING_RUPIAH: i64 = 1_500_000;
const PKH_FUNDING_RUPIAH: i64 = 800_000;
const BPNT_FUNDING_RUPIAH: i64 = 300_000;

/// Refusals the traffic is expected to meet; any other answer fails the test.
const EXPECTED_REFUSALS: &[&str] = &[
    "INSUFFICIENT_FUNDS",
    "FUNDS_HELD",
    "WRONG_PIN",
    "PIN_LOCKED",
    "QUOTA_EXCEEDED",
    "DAILY_WITHDRAWAL_LIMIT_EXCEEDED",
    "AGENT_DAILY_LIMIT_EXCEEDED",
    "ORIGINAL_REVERSED",
];

/// The terminals: (agent, sells goods rather than paying cash).
const AGENTS: &[(&str, bool)] = &[("agen.cileunyi", false), ("ewarong.cileunyi", true), ("agen.sekayu", false)];

/// Everything the workers were told, to check against the database afterwards.
#[derive(Default)]
struct Books {
    approved: Vec<Acknowledged>,
    /// References of approved transactions that a later reversal restored.
    reversed: BTreeSet<String>,
    /// (terminal, STAN, code) of refused transactions.
    refused: Vec<(String, String, String)>,
    /// (terminal, STAN) of originals voided by a reversal that arrived first.
    voided: Vec<(String, String)>,
    codes: BTreeMap<String, usize>,
    retries: usize,
    concurrent_retries: usize,
    pin_unlocks: usize,
}

struct Worker<'a> {
    terminal: Terminal<'a>,
    sells_goods: bool,
    families: &'a [FamilyCredentials],
    operators: &'a BTreeMap<String, Session<'a>>,
    books: &'a Mutex<Books>,
    next_stan: u32,
    /// The last approved money transaction not yet reversed, which a reversal may cancel.
    last_money: Option<Acknowledged>,
}

impl Worker<'_> {
    fn new_stan(&mut self) -> String {
        self.next_stan += 1;
        format!("{:06}", self.next_stan)
    }

    fn key(&self, stan: &str) -> String {
        format!("{}-{stan}", self.terminal.terminal_id)
    }

    fn pick_family(&self, random: &mut impl Rng) -> &FamilyCredentials {
        if random.random_ratio(HOT_CARD_PERCENT, 100) {
            &self.families[0]
        } else {
            &self.families[random.random_range(1..self.families.len())]
        }
    }

    /// A request: its path and body (without PIN and STAN).
    fn pick_request(&self, random: &mut impl Rng, family: &FamilyCredentials) -> (&'static str, Value) {
        let card = json!({ "card_number": family.card_number });
        let amount = json!(random_amount(random));
        let roll = random.random_range(0..100);
        if self.sells_goods {
            match roll {
                0..=59 => {
                    let (programme, basket) = if random.random_ratio(1, 4) {
                        ("lpg", json!([{ "sku": "LPG-3KG", "quantity": 1 }]))
                    } else {
                        // One or two goods, in either order.
                        let mut skus = vec!["BERAS-1KG", "TELUR-1KG", "KACANG-1KG"];
                        skus.swap(0, random.random_range(0..3));
                        skus.truncate(random.random_range(1..=2));
                        let lines: Vec<Value> = skus
                            .iter()
                            .map(|sku| json!({ "sku": sku, "quantity": random.random_range(1..=2) }))
                            .collect();
                        ("bpnt", Value::Array(lines))
                    };
                    ("/v1/edc/purchases", json!({ "card": card, "programme": programme, "basket": basket }))
                }
                60..=89 => ("/v1/edc/wallet-to-savings", json!({ "card": card, "amount": amount })),
                _ => ("/v1/edc/balance-inquiries", json!({ "card": card })),
            }
        } else {
            match roll {
                0..=54 => ("/v1/edc/cash-withdrawals", json!({ "card": card, "amount": amount })),
                55..=89 => ("/v1/edc/wallet-to-savings", json!({ "card": card, "amount": amount })),
                _ => ("/v1/edc/balance-inquiries", json!({ "card": card })),
            }
        }
    }

    fn send(&self, path: &str, stan: &str, key: &str, body: &Value) -> Answer {
        answer(self.terminal.send_with(path, stan, key, body.clone()))
    }

    /// Sends, and sometimes sends again with the same key (after, or at the same time):
    /// every copy must get the first answer.
    fn send_with_retries(&self, random: &mut impl Rng, path: &str, stan: &str, key: &str, body: &Value) -> Answer {
        if random.random_ratio(1, 20) {
            let (first, second) = std::thread::scope(|scope| {
                let first = scope.spawn(|| self.send(path, stan, key, body));
                let second = scope.spawn(|| self.send(path, stan, key, body));
                (first.join().unwrap(), second.join().unwrap())
            });
            assert!(first == second, "concurrent copies of {key} answered {first:?} and {second:?}");
            self.books.lock().unwrap().concurrent_retries += 1;
            return first;
        }
        let first = self.send(path, stan, key, body);
        if random.random_ratio(1, 10) {
            let again = self.send(path, stan, key, body);
            assert!(first == again, "retry of {key} answered {again:?}, first {first:?}");
            self.books.lock().unwrap().retries += 1;
        }
        first
    }

    fn unlock_pin(&self, family: &FamilyCredentials) {
        let operator = if family.village.starts_with("32") { "operator.jabar" } else { "operator.jateng" };
        let response = self.operators[operator].post(
            &format!("/v1/cards/{}/pin-reset", family.card_number),
            &json!({ "reason": "bank test: locked by wrong PINs" }),
        );
        assert_eq!(response.status(), 204, "{}", response.text().unwrap_or_default());
        self.books.lock().unwrap().pin_unlocks += 1;
    }

    fn record_refusal(&self, stan: &str, code: &str) {
        assert!(EXPECTED_REFUSALS.contains(&code), "unexpected refusal {code}");
        let mut books = self.books.lock().unwrap();
        *books.codes.entry(code.to_owned()).or_default() += 1;
        books.refused.push((self.terminal.terminal_id.clone(), stan.to_owned(), code.to_owned()));
    }

    /// A late original refused PIN_LOCKED: counted, but not among the refusals whose STAN
    /// must be empty, since the void holds its slot (checked with the other voids).
    fn record_voided_original_refused_pin_locked(&self) {
        *self.books.lock().unwrap().codes.entry("VOIDED_PIN_LOCKED".to_owned()).or_default() += 1;
    }

    fn record_approval(&mut self, path: &str, family: &FamilyCredentials, receipt: &Value) {
        let approved = Acknowledged::from_receipt(path, family.family_id, receipt);
        let mut books = self.books.lock().unwrap();
        *books.codes.entry("APPROVED".to_owned()).or_default() += 1;
        books.approved.push(approved.clone());
        if approved.journal_kind.is_some() {
            self.last_money = Some(approved);
        }
    }

    fn one_operation(&mut self, random: &mut impl Rng) {
        let family = self.pick_family(random).clone();
        let (path, mut body) = self.pick_request(random, &family);
        let wrong = random.random_ratio(1, 12);
        body["pin"] = json!(if wrong { wrong_pin(&family.pin) } else { family.pin.clone() });
        let stan = self.new_stan();
        let key = self.key(&stan);

        // A reversal that overtakes its original: the late original must be refused, and
        // move nothing (the end checks prove it: its slot holds the void, no journal).
        if !wrong && path != "/v1/edc/balance-inquiries" && random.random_ratio(1, 30) {
            let voided = self.terminal.reverse(&stan, &format!("{key}-R"));
            assert_eq!(voided.status(), 200);
            assert_eq!(voided.json::<Value>().unwrap()["outcome"], "original_voided");
            self.books.lock().unwrap().voided.push((self.terminal.terminal_id.clone(), stan.clone()));
            match self.send(path, &stan, &key, &body) {
                Answer::Refused(code) if code == "ORIGINAL_REVERSED" => self.record_refusal(&stan, &code),
                // The card and its PIN are checked before the STAN's slot: another
                // terminal may have locked the shared card's PIN with wrong tries since.
                Answer::Refused(code) if code == "PIN_LOCKED" => {
                    self.record_voided_original_refused_pin_locked();
                    self.unlock_pin(&family);
                }
                other => panic!("a voided original was answered {other:?}"),
            }
            return;
        }

        match self.send_with_retries(random, path, &stan, &key, &body) {
            Answer::Approved(receipt) => {
                assert!(!wrong, "a wrong PIN was approved: {receipt}");
                self.record_approval(path, &family, &receipt);
            }
            Answer::Refused(code) => {
                if wrong {
                    assert!(code == "WRONG_PIN" || code == "PIN_LOCKED", "a wrong PIN got {code}");
                }
                if code == "PIN_LOCKED" && !wrong {
                    self.unlock_pin(&family);
                }
                self.record_refusal(&stan, &code);
            }
        }

        // Now and then the terminal cancels its last money transaction.
        if random.random_ratio(1, 10) {
            if let Some(original) = self.last_money.take() {
                let key = format!("{}-{}-R", original.terminal, original.stan);
                match answer(self.terminal.reverse(&original.stan, &key)) {
                    Answer::Approved(result) => {
                        assert_eq!(result["outcome"], "reversed", "{result}");
                        assert_eq!(result["original_reference"], original.reference.as_str());
                        let mut books = self.books.lock().unwrap();
                        books.reversed.insert(original.reference);
                        *books.codes.entry("REVERSED".to_owned()).or_default() += 1;
                    }
                    // Money moved to savings may be spent or held by now: the reversal
                    // cannot take it back, and changes nothing.
                    Answer::Refused(code) if original.journal_kind == Some("wallet_to_savings") => {
                        assert!(code == "INSUFFICIENT_FUNDS" || code == "FUNDS_HELD", "reversal refused {code}");
                        *self.books.lock().unwrap().codes.entry(format!("REVERSAL_{code}")).or_default() += 1;
                    }
                    Answer::Refused(code) => panic!("reversal of {original:?} refused {code}"),
                }
            }
        }
    }
}

/// Rp 1,000 to Rp 150,000 in thousands, now and then with sen.
fn random_amount(random: &mut impl Rng) -> String {
    let rupiah = random.random_range(1..=150) * 1_000;
    if random.random_ratio(1, 10) {
        format!("{rupiah}.{:02}", random.random_range(1..100))
    } else {
        rupiah.to_string()
    }
}

/// An operator places and releases investigation holds on the families' pockets through
/// the API while the terminals work: money that must not leave while held.
fn hold_chaos(server: &TestServer, families: &[FamilyCredentials], done: &AtomicBool) -> usize {
    let operators: BTreeMap<&str, Session> = ["32", "33"]
        .into_iter()
        .map(|province| (province, Session::operator(server, province_operator(province))))
        .collect();
    let mut random = rand::rng();
    let mut placed: Vec<(i64, &Session)> = Vec::new();
    let mut changes = 0;
    while !done.load(Ordering::Relaxed) {
        let family = &families[random.random_range(0..families.len())];
        let operator = &operators[&family.village[..2]];
        let pocket = if random.random_bool(0.5) { "savings" } else { "wallet_pkh" };
        if placed.len() < 6 && random.random_bool(0.6) {
            let pockets: Value = operator.get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
            let available = pockets.as_array().unwrap().iter().find(|shown| shown["kind"] == pocket).unwrap()
                ["available"]
                .as_str()
                .unwrap()
                .to_owned();
            let third_minor = crate::support::bank::minor_from_text(&available) / 3;
            if third_minor > 0 {
                let amount = format!("{}.{:02}", third_minor / 100, third_minor % 100);
                let body = json!({"pocket": pocket, "amount": amount, "reference": "bank test investigation"});
                let response = operator.post(&format!("/v1/families/{}/holds", family.family_id), &body);
                match response.status().as_u16() {
                    201 => {
                        placed.push((response.json::<Value>().unwrap()["id"].as_i64().unwrap(), operator));
                        changes += 1;
                    }
                    // The terminals moved the money meanwhile.
                    422 => {}
                    status => panic!("placing a hold: {status} {}", response.text().unwrap_or_default()),
                }
            }
        } else if let Some((hold, operator)) = placed.pop() {
            let response =
                operator.post(&format!("/v1/holds/{hold}/release"), &json!({"reason": "bank test: case closed"}));
            assert_eq!(response.status(), 200, "releasing a hold: {}", response.text().unwrap_or_default());
            changes += 1;
        }
        // Paced, not synchronised: an investigator works at a human pace beside the terminals.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    changes
}

fn province_operator(province: &str) -> &'static str {
    if province == "32" {
        "operator.jabar"
    } else {
        "operator.jateng"
    }
}

/// The checks that must hold at any moment, traffic or not.
fn check_invariants(store: &kks_api::store::Store) {
    assert_ledger_clean(store);
    let below = accounts_below_holds(store);
    assert!(below.is_empty(), "accounts below their holds (id, balance, held): {below:?}");
}

on_both_backends! {
    fn many_terminals_on_a_hot_card_never_create_or_lose_money(database) {
        let server = start_funded(&database, &[]);
        run_bank_traffic(&database, &server);
    }
}

/// Seeds the demo, funds every family's pockets, then starts the server with `flags`:
/// funded before it starts, as while it runs it is the only writer.
pub fn start_funded(database: &TestDatabase, flags: &[&str]) -> TestServer {
    TestServer::start_after(database, flags, |store, demo| {
        for family in &demo.families {
            fund_family(store, family.family_id, AccountKind::Savings, SAVINGS_FUNDING_RUPIAH);
            fund_family(store, family.family_id, AccountKind::WalletPkh, PKH_FUNDING_RUPIAH);
            fund_family(store, family.family_id, AccountKind::WalletBpnt, BPNT_FUNDING_RUPIAH);
        }
    })
}

/// The bank test's traffic and checks, through `server` (one `kks serve`, or a load
/// balancer in front of several) on the funded demo data of `database`.
pub fn run_bank_traffic(database: &TestDatabase, server: &TestServer) {
    let store = database.store();
    let families = server.demo().families.clone();
    let opening = balances(&store);
    let operators: BTreeMap<String, Session> = ["operator.jabar", "operator.jateng"]
        .into_iter()
        .map(|name| (name.to_owned(), Session::operator(server, name)))
        .collect();
    let books = Mutex::new(Books::default());
    let done = AtomicBool::new(false);
    let checks_while_running = AtomicUsize::new(0);

    let hold_changes = std::thread::scope(|scope| {
        let chaos = scope.spawn(|| hold_chaos(server, &families, &done));
        let checker = scope.spawn(|| loop {
            check_invariants(&store);
            checks_while_running.fetch_add(1, Ordering::Relaxed);
            if done.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|index| {
                let (agent, sells_goods) = AGENTS[index % AGENTS.len()];
                let (server, families, operators, books) = (&server, &families, &operators, &books);
                scope.spawn(move || {
                    let mut worker = Worker {
                        terminal: Terminal::of(server, agent),
                        sells_goods,
                        families,
                        operators,
                        books,
                        // Each worker draws STANs from its own slice of the terminal's day.
                        next_stan: u32::try_from(index).unwrap() * 100_000,
                        last_money: None,
                    };
                    let mut random = rand::rng();
                    for _ in 0..OPERATIONS_PER_WORKER {
                        worker.one_operation(&mut random);
                    }
                })
            })
            .collect();
        // Every thread is joined before any failure is reported, so that one failing
        // worker stops the others instead of leaving them waiting.
        let finished: Vec<_> = workers.into_iter().map(|worker| worker.join()).collect();
        done.store(true, Ordering::Relaxed);
        let (checked, chaos) = (checker.join(), chaos.join());
        for worker in finished {
            worker.expect("a worker failed");
        }
        checked.expect("an invariant check failed while the traffic ran");
        chaos.expect("the hold thread failed")
    });

    let books = books.into_inner().unwrap();
    check_invariants(&store);
    assert_figures_match_ledger(&Session::operator(server, "admin"), &store);
    let verified = kks(database, &["verify-ledger"]);
    assert!(verified.status.success(), "kks verify-ledger: {}", String::from_utf8_lossy(&verified.stdout));

    let journal_count = assert_books_match_ledger(&store, &opening, &books.approved, &books.reversed, &books.refused);
    let slots = edc_rows(&store);
    for slot in &books.voided {
        let void = ("reversed_before_arrival".to_owned(), None);
        assert_eq!(slots.get(slot), Some(&void), "the voided original {slot:?} left its slot to the void");
    }

    let money_moved = books.approved.iter().filter(|approved| approved.journal_kind.is_some()).count();
    assert!(
        money_moved > 0 && books.codes.contains_key("WRONG_PIN"),
        "the traffic moved money and met wrong PINs: {:?}",
        books.codes
    );
    println!(
        "bank test ({}): {} operations by {WORKERS} terminals ({}% on one card), {} retries with the same key \
             ({} sent twice at once), {} PIN unlocks, {} hold changes; outcomes {:?}; {} invariant checks while \
             running, all clean; {} journals, every acknowledged operation present once, balances as acknowledged",
        if database.is_postgres() { "PostgreSQL" } else { "SQLite" },
        books.approved.len() + books.refused.len(),
        HOT_CARD_PERCENT,
        books.retries + books.concurrent_retries,
        books.concurrent_retries,
        books.pin_unlocks,
        hold_changes,
        books.codes,
        checks_while_running.load(Ordering::Relaxed),
        journal_count,
    );
}
