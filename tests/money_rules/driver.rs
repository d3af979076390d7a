//! Runs a sequence of events against the real server and the model side by side.

use std::collections::BTreeMap;
use std::time::{Duration as WaitDuration, Instant};

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::events::{Advance, Event, FAMILIES};
use super::model::{business_day, Answer, Category, Item, Model, ModelFamily, Operation, Pocket, SentCard, POCKETS};
use crate::support::api::Session;
use crate::support::bank::minor_from_text;
use crate::support::{TestDatabase, TestServer};

/// The terminals: demo agent, its terminal id, and whether it pays cash (or sells goods).
const TERMINALS: [(&str, &str, bool); 3] =
    [("agen.cileunyi", "T3204001", true), ("ewarong.cileunyi", "T3204002", false), ("agen.sekayu", "T3374001", true)];

/// The refusal of a batch that would pay nobody.
const PAYS_NOBODY: &str = "BATCH_PAYS_NOBODY";

/// Villages a district numbers (1001 to 9999).
const VILLAGES_PER_DISTRICT: u32 = 8_999;

/// How long a disbursement may take to complete before the run fails.
const BATCH_WAIT_MAX: WaitDuration = WaitDuration::from_secs(120);

/// What a run checked.
#[derive(Debug, Default)]
pub struct Totals {
    pub sequences: u64,
    pub events: u64,
    pub answers: u64,
    pub figures: u64,
    pub outcomes: BTreeMap<String, u64>,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.sequences += other.sequences;
        self.events += other.events;
        self.answers += other.answers;
        self.figures += other.figures;
        for (outcome, count) in &other.outcomes {
            *self.outcomes.entry(outcome.clone()).or_default() += count;
        }
    }

    fn answered(&mut self, answer: &Answer) {
        self.answers += 1;
        let name = match answer {
            Answer::Approved => "approved".to_owned(),
            Answer::Refused(code) => code.clone(),
            Answer::Reversal(outcome) => format!("reversal:{outcome}"),
        };
        *self.outcomes.entry(name).or_default() += 1;
    }
}

/// The server and what stays from one sequence to the next.
pub struct World {
    server: TestServer,
    state: WorldState,
}

/// What sequences take from one another: the clock, and numbers never used twice.
struct WorldState {
    catalogue: Vec<Item>,
    now: NaiveDateTime,
    villages: u32,
    niks: u32,
    stans: [u32; 3],
    keys: u64,
}

/// One family of a sequence, as the server knows it.
struct FamilyAtServer {
    id: i64,
    member: i64,
    card_number: String,
    pin: String,
}

/// A request sent, to send again on a retry.
struct SentRequest {
    terminal: usize,
    path: &'static str,
    key: String,
    body: Value,
    answer: Answer,
    reference: Option<String>,
}

/// One sequence's world: its village, families, sessions and the model.
struct Sequence<'w> {
    server: &'w TestServer,
    world: &'w mut WorldState,
    model: Model,
    village: String,
    families: Vec<FamilyAtServer>,
    operator: Session<'w>,
    supervisor: Session<'w>,
    terminals: Vec<Session<'w>>,
    requests: Vec<SentRequest>,
    /// The server's id of each hold an operator placed, by the model's hold number.
    holds: Vec<(usize, i64)>,
    totals: Totals,
}

/// Why a sequence failed: the event and what differed.
pub type Failure = String;

fn minor_text(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn wib(at: NaiveDateTime) -> String {
    format!("{}+07:00", (at + Duration::hours(7)).format("%Y-%m-%dT%H:%M:%S%.6f"))
}

/// The answer the server gave: approved (2xx), or the problem's code.
fn answer_of(response: reqwest::blocking::Response) -> (Answer, Value) {
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    if status.is_success() {
        let answer = match body["outcome"].as_str() {
            Some("reversed") => Answer::Reversal("reversed"),
            Some("original_voided") => Answer::Reversal("original_voided"),
            Some("already_reversed") => Answer::Reversal("already_reversed"),
            _ => Answer::Approved,
        };
        (answer, body)
    } else {
        (Answer::refused(body["code"].as_str().unwrap_or("NO_CODE")), body)
    }
}

impl World {
    pub fn start(database: &TestDatabase) -> Self {
        // The model keeps every answer for retries: answers outlive the sequences (a century
        // of test-clock time), and their expiry is proven apart, in `tests/disk.rs`.
        let server = TestServer::start_with(
            database,
            &["--test-clock", "--login-attempts-per-minute", "1000000", "--idempotency-retention-hours", "876000"],
        );
        let admin = Session::operator(&server, "admin");
        let catalogue: Value = admin.get("/v1/catalogue").json().unwrap();
        let catalogue = catalogue
            .as_array()
            .unwrap()
            .iter()
            .map(|item| Item {
                sku: item["sku"].as_str().unwrap().to_owned(),
                programme: if item["programme"] == "bpnt" { Pocket::Bpnt } else { Pocket::Lpg },
                price_minor: item["price_minor"].as_i64().unwrap(),
                monthly_quota: item["monthly_quota"].as_i64(),
            })
            .collect();
        let reading: Value = server.get("/test-clock").json().unwrap();
        let now = reading["now"].as_str().unwrap().parse().unwrap();
        Self { server, state: WorldState { catalogue, now, villages: 0, niks: 0, stans: [0; 3], keys: 0 } }
    }

    /// Runs a sequence on fresh families; what it checked, or where it first disagreed.
    pub fn run(&mut self, seed: u64, events: &[Event]) -> Result<Totals, Failure> {
        let mut sequence = Sequence::begin(&self.server, &mut self.state, seed);
        for (index, event) in events.iter().enumerate() {
            sequence.step(event).map_err(|failure| format!("event {index} {event:?}: {failure}"))?;
        }
        sequence.totals.sequences = 1;
        Ok(sequence.totals)
    }

    /// Takes events out of a failing sequence while it still fails; the smallest found.
    pub fn shrink(&mut self, seed: u64, mut events: Vec<Event>, mut failure: Failure) -> (Vec<Event>, Failure) {
        // A failure at event k needs nothing after it.
        if let Some(index) = failure
            .strip_prefix("event ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|index| index.parse::<usize>().ok())
        {
            events.truncate(index + 1);
        }
        let mut changed = true;
        while changed {
            changed = false;
            let mut index = events.len();
            while index > 0 {
                index -= 1;
                let mut candidate = events.clone();
                candidate.remove(index);
                if let Err(still) = self.run(seed, &candidate) {
                    events = candidate;
                    failure = still;
                    changed = true;
                }
            }
        }
        (events, failure)
    }
}

impl WorldState {
    fn next_key(&mut self, terminal: usize) -> String {
        self.keys += 1;
        format!("{}-model-{}", TERMINALS[terminal].1, self.keys)
    }

    fn next_stan(&mut self, terminal: usize) -> u32 {
        self.stans[terminal] = self.stans[terminal] % 999_999 + 1;
        self.stans[terminal]
    }

    fn move_clock(&mut self, server: &TestServer, to: NaiveDateTime) {
        let moved = server.client.put(server.url("/test-clock")).json(&json!({ "now": to })).send().unwrap();
        assert_eq!(moved.status(), 200, "moving the test clock to {to}: {}", moved.text().unwrap_or_default());
        self.now = to;
    }
}

impl<'w> Sequence<'w> {
    /// A new business day, a new village and its families with their cards.
    fn begin(server: &'w TestServer, world: &'w mut WorldState, seed: u64) -> Self {
        // Each sequence starts at 00:05 WIB on the first of January of a year of its own:
        // limits of earlier sequences (the agents' cash) stay behind, and a replay of the
        // seed meets the same calendar (month ends, midnights) as the run that failed.
        let new_year = chrono::NaiveDate::from_ymd_opt(business_day(world.now).year() + 1, 1, 1).unwrap();
        let start = new_year.and_time(NaiveTime::from_hms_opt(0, 5, 0).unwrap()) - Duration::hours(7);
        world.move_clock(server, start);
        world.villages += 1;
        // Villages 1001 to 9999 of districts 32.04.13, 32.04.14…: a district of the demo
        // regency, added when the run reaches it.
        let district = format!("32.04.{}", 13 + (world.villages - 1) / VILLAGES_PER_DISTRICT);
        let village = format!("{district}.{}", 1001 + (world.villages - 1) % VILLAGES_PER_DISTRICT);
        let admin = Session::operator(server, "admin");
        if (world.villages - 1) % VILLAGES_PER_DISTRICT == 0 {
            let added = admin.post("/v1/regions", &json!({"code": district, "name": "Kecamatan Model"}));
            assert!(added.status().is_success(), "adding district {district}: {}", added.text().unwrap_or_default());
        }
        let added =
            admin.post("/v1/regions", &json!({"code": village, "name": format!("Desa Model {}", world.villages)}));
        assert!(added.status().is_success(), "adding village {village}: {}", added.text().unwrap_or_default());
        let operator = Session::operator(server, "operator.jabar");
        let mut random = StdRng::seed_from_u64(seed ^ 0x5eed);
        let mut model = Model::new(start, world.catalogue.clone());
        let mut families = Vec::new();
        for _ in 0..FAMILIES {
            world.niks += 1;
            let nik = format!(
                "320412{:02}{:02}{:02}{:04}",
                41 + world.niks % 28,
                1 + (world.niks / 28) % 12,
                80 + (world.niks / 336) % 20,
                1 + world.niks % 9_999
            );
            let category = if random.random_bool(0.3) { Category::Elderly } else { Category::Regular };
            let member = match category {
                Category::Elderly => json!({"name": "Nenek", "component": "elderly"}),
                Category::Regular => json!({"name": "Anak", "component": "school_child", "school_level": "sd"}),
            };
            let body = json!({"nik": nik, "recipient_name": "Ibu Model", "address": "Kp. Model", "village": village,
                "category": if category == Category::Elderly { "elderly" } else { "regular" }, "members": [member]});
            let registered = operator.post("/v1/families", &body);
            assert_eq!(registered.status(), 201, "registering a family: {}", registered.text().unwrap_or_default());
            let registered: Value = registered.json().unwrap();
            let id = registered["id"].as_i64().unwrap();
            let issued: Value =
                operator.post(&format!("/v1/families/{id}/cards"), &json!({"bank": "bri"})).json().unwrap();
            families.push(FamilyAtServer {
                id,
                member: registered["members"][0]["id"].as_i64().unwrap(),
                card_number: issued["card"]["card_number"].as_str().unwrap().to_owned(),
                pin: issued["pin"].as_str().unwrap().to_owned(),
            });
            model.families.push(ModelFamily::new(category));
        }
        let terminals = TERMINALS.iter().map(|(agent, _, _)| Session::agent(server, agent)).collect();
        Self {
            model,
            village,
            families,
            operator,
            supervisor: Session::operator(server, "supervisor.jabar"),
            terminals,
            requests: Vec::new(),
            holds: Vec::new(),
            totals: Totals::default(),
            server,
            world,
        }
    }

    fn step(&mut self, event: &Event) -> Result<(), Failure> {
        // A second between events: no two decisions share a moment.
        let now = self.model.now + Duration::seconds(1);
        self.set_time(now);
        self.apply(event)?;
        self.totals.events += 1;
        self.check_pockets()
    }

    fn set_time(&mut self, to: NaiveDateTime) {
        self.model.now = to;
        self.world.move_clock(self.server, to);
    }

    fn expect(&mut self, what: &str, expected: &Answer, got: &Answer, body: &Value) -> Result<(), Failure> {
        self.totals.answered(got);
        if expected == got {
            Ok(())
        } else {
            Err(format!("{what}: the model says {expected:?}, the server {got:?} ({body})"))
        }
    }

    fn apply(&mut self, event: &Event) -> Result<(), Failure> {
        match event {
            Event::PayStage { stage, early_days } => {
                let release_at = early_days.map(|days| self.model.now + Duration::days(i64::from(days)));
                self.pay(Pocket::Pkh, *stage, release_at)
            }
            Event::PayMonth { programme, month } => self.pay(*programme, *month, None),
            Event::Verify { family, stage, complied } => {
                let expected = self.model.verify(*family, *stage, *complied);
                let at_server = &self.families[*family];
                let mut body =
                    json!({"family_id": at_server.id, "cycle": format!("2017-{stage}"), "complied": complied});
                if !complied {
                    body["member_id"] = json!(at_server.member);
                    body["obligation"] = json!("school_attendance");
                }
                let (got, body) = answer_of(self.operator.post("/v1/verifications", &body));
                self.expect("verification", &expected, &got, &body)
            }
            Event::VerifyAll { stage, failed } => {
                let mut csv = "family_id,complied,member_id,obligation\n".to_owned();
                let mut accepted = 0;
                for (index, failed) in failed.iter().enumerate() {
                    if self.model.verify(index, *stage, !failed) == Answer::Approved {
                        accepted += 1;
                    }
                    let family = &self.families[index];
                    csv += &if *failed {
                        format!("{},no,{},school_attendance\n", family.id, family.member)
                    } else {
                        format!("{},yes,,\n", family.id)
                    };
                }
                let upload = self
                    .operator
                    .authorized(
                        self.server.client.post(self.server.url(&format!("/v1/verifications/2017-{stage}/csv"))),
                    )
                    .header("content-type", "text/csv")
                    .body(csv)
                    .send()
                    .unwrap();
                let (got, report) = answer_of(upload);
                self.expect("a verification upload", &Answer::Approved, &got, &report)?;
                if report["accepted"].as_u64() != Some(accepted) {
                    return Err(format!("the model accepts {accepted} rows, the server {report}"));
                }
                Ok(())
            }
            Event::CloseCycle { stage } => {
                let expected = self.model.close_cycle(*stage);
                let response =
                    self.supervisor.post(&format!("/v1/cycles/2017-{stage}/close?region={}", self.village), &json!({}));
                let (got, body) = answer_of(response);
                self.expect("closing a cycle", &Answer::Approved, &got, &body)?;
                let counted = ["suspended", "released", "terminated", "unchanged", "already_closed"]
                    .map(|name| body[name].as_u64().unwrap_or(u64::MAX));
                if counted != expected {
                    return Err(format!(
                        "cycle 2017-{stage} closed: the model counts {expected:?}, the server {counted:?}"
                    ));
                }
                for (name, count) in ["cycle:suspended", "cycle:released", "cycle:terminated"].iter().zip(expected) {
                    *self.totals.outcomes.entry((*name).to_owned()).or_default() += count;
                }
                for (index, family) in self.families.iter().enumerate() {
                    let profile: Value = self.operator.get(&format!("/v1/families/{}", family.id)).json().unwrap();
                    let expected = self.model.families[index].status.name();
                    if profile["status"] != expected {
                        return Err(format!(
                            "family {index}: the model says {expected}, the server {}",
                            profile["status"]
                        ));
                    }
                }
                Ok(())
            }
            Event::Advance(advance) => {
                let now = self.model.now;
                let target = match advance {
                    Advance::Seconds(seconds) => Some(now + Duration::seconds(i64::from(*seconds))),
                    Advance::Days(days) => Some(now + Duration::days(i64::from(*days))),
                    Advance::ToNextRelease { offset_seconds } => self
                        .model
                        .coming_releases()
                        .first()
                        .map(|release| *release + Duration::seconds(i64::from(*offset_seconds))),
                    Advance::ToMidnightWib { offset_seconds } => {
                        let midnight =
                            (business_day(now) + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap() - Duration::hours(7);
                        Some(midnight + Duration::seconds(i64::from(*offset_seconds)))
                    }
                };
                if let Some(target) = target.filter(|target| *target > now) {
                    self.set_time(target);
                }
                Ok(())
            }
            Event::WalletToSavings { family, rupiah } => {
                self.card(*family, 0, Operation::WalletToSavings { amount_minor: rupiah * 100 }, true)
            }
            Event::Cash { family, terminal, rupiah } => {
                self.card(*family, *terminal, Operation::CashWithdrawal { amount_minor: rupiah * 100 }, true)
            }
            Event::Purchase { family, programme, lines } => {
                let items: Vec<&Item> =
                    self.model.catalogue.iter().filter(|item| item.programme == *programme).collect();
                let mut basket: BTreeMap<String, i64> = BTreeMap::new();
                for (item, quantity) in lines {
                    *basket.entry(items[item % items.len()].sku.clone()).or_default() += quantity;
                }
                let basket = basket.into_iter().collect();
                self.card(*family, 1, Operation::Purchase { programme: *programme, basket }, true)
            }
            Event::BalanceInquiry { family, terminal } => {
                self.card(*family, *terminal, Operation::BalanceInquiry, true)
            }
            Event::WrongPin { family, times } => {
                for _ in 0..*times {
                    self.card(*family, 0, Operation::BalanceInquiry, false)?;
                }
                Ok(())
            }
            Event::Reverse { back } => {
                let Some(sent) = self.model.sent.len().checked_sub(1 + back % self.model.sent.len().max(1)) else {
                    return Ok(());
                };
                let original = self.model.sent[sent].clone();
                let expected = self.model.reverse(sent);
                let body = json!({"original_stan": format!("{:06}", original.stan), "original_transmitted_at": wib(original.transmitted_at)});
                self.send(original.terminal, "/v1/edc/reversals", body, &expected, "reversal")
            }
            Event::Retry { back } => {
                let Some(index) = self.requests.len().checked_sub(1 + back % self.requests.len().max(1)) else {
                    return Ok(());
                };
                let request = &self.requests[index];
                let (terminal, path, key, body) =
                    (request.terminal, request.path, request.key.clone(), request.body.clone());
                let (expected, reference) = (request.answer.clone(), request.reference.clone());
                let (got, answer) = answer_of(self.post_with_key(terminal, path, &key, &body));
                self.expect("retry with the same key", &expected, &got, &answer)?;
                if answer["reference"].as_str().map(str::to_owned) != reference {
                    return Err(format!("a retry got another receipt: {answer}"));
                }
                Ok(())
            }
            Event::PlaceHold { family, pocket, quarters, for_hours } => {
                let figures = self.model.figures(*family, *pocket);
                let free = figures.balance_minor - figures.held_minor;
                // Whole rupiah: a quarter of what is free, or a hundred rupiah more than it.
                let amount_minor = if *quarters > 4 { free + 10_000 } else { free * quarters / 4 / 100 * 100 };
                if amount_minor <= 0 {
                    return Ok(());
                }
                let release_at = for_hours.map(|hours| self.model.now + Duration::hours(i64::from(hours)));
                let expected = self.model.place_hold(*family, *pocket, amount_minor, release_at);
                let mut body = json!({"pocket": pocket.kind(), "amount": minor_text(amount_minor), "reference": "model test case"});
                if let Some(release_at) = release_at {
                    body["release_at"] = json!(release_at);
                }
                let (got, answer) =
                    answer_of(self.operator.post(&format!("/v1/families/{}/holds", self.families[*family].id), &body));
                let expected_answer = expected.map_or_else(Answer::refused, |_| Answer::Approved);
                self.expect("placing a hold", &expected_answer, &got, &answer)?;
                if let Ok(hold) = expected {
                    self.holds.push((hold, answer["id"].as_i64().unwrap_or_default()));
                }
                Ok(())
            }
            Event::EndHold { hold } => {
                if self.holds.is_empty() {
                    return Ok(());
                }
                let (model_hold, server_hold) = self.holds[hold % self.holds.len()];
                let expected = self.model.end_hold(model_hold);
                let (got, answer) =
                    answer_of(self.operator.post(
                        &format!("/v1/holds/{server_hold}/release"),
                        &json!({"reason": "model test: case closed"}),
                    ));
                self.expect("ending a hold", &expected, &got, &answer)
            }
            Event::ResetPin { family } => {
                self.model.reset_pin(*family);
                let at_server = &self.families[*family];
                let body = json!({"reason": "model test: the cardholder came to the office", "new_pin": at_server.pin});
                let (got, answer) =
                    answer_of(self.operator.post(&format!("/v1/cards/{}/pin-reset", at_server.card_number), &body));
                self.expect("resetting a PIN", &Answer::Approved, &got, &answer)
            }
        }
    }

    /// Pays a programme's period to the village: prepared, approved by another person,
    /// executed, waited for.
    fn pay(&mut self, programme: Pocket, period: u8, release_at: Option<NaiveDateTime>) -> Result<(), Failure> {
        let expected = self.model.pay(programme, period, release_at);
        let name = match programme {
            Pocket::Pkh => "pkh",
            Pocket::Bpnt => "bpnt",
            _ => "lpg",
        };
        let mut body = json!({"programme": name, "year": 2017, "period": period, "region": self.village});
        if let Some(release_at) = release_at {
            body["release_at"] = json!(release_at);
        }
        let (got, prepared) = answer_of(self.operator.post("/v1/disbursements", &body));
        let Some(lines) = expected else {
            return self.expect("a batch that pays nobody", &Answer::refused(PAYS_NOBODY), &got, &prepared);
        };
        self.expect("preparing a batch", &Answer::Approved, &got, &prepared)?;
        let id = prepared["batch"]["id"].as_i64().unwrap_or_default();
        let (got, approved) = answer_of(self.supervisor.post(&format!("/v1/disbursements/{id}/approve"), &json!({})));
        self.expect("approving a batch", &Answer::Approved, &got, &approved)?;
        let (got, started) = answer_of(self.operator.post(&format!("/v1/disbursements/{id}/execute"), &json!({})));
        self.expect("executing a batch", &Answer::Approved, &got, &started)?;
        let waited = Instant::now();
        loop {
            let view: Value = self.operator.get(&format!("/v1/disbursements/{id}")).json().unwrap();
            if view["batch"]["status"] == "completed" {
                let paid = view["paid_lines"].as_u64().unwrap_or_default();
                return if paid == lines as u64 {
                    Ok(())
                } else {
                    Err(format!("the model pays {lines} families, the batch {view}"))
                };
            }
            if waited.elapsed() > BATCH_WAIT_MAX {
                return Err(format!("batch {id} did not complete in {BATCH_WAIT_MAX:?}: {view}"));
            }
            std::thread::sleep(WaitDuration::from_millis(20));
        }
    }

    /// A card transaction from a terminal.
    fn card(&mut self, family: usize, terminal: usize, operation: Operation, pin_right: bool) -> Result<(), Failure> {
        let pays_cash = TERMINALS[terminal].2;
        let (expected, effect) = self.model.card(family, terminal, pays_cash, &operation, pin_right);
        let stan = self.world.next_stan(terminal);
        let at_server = &self.families[family];
        let pin = if pin_right {
            at_server.pin.clone()
        } else {
            at_server
                .pin
                .chars()
                .rev()
                .map(|digit| if digit == '9' { '0' } else { char::from(digit as u8 + 1) })
                .collect()
        };
        let mut body = json!({"card": {"card_number": at_server.card_number}, "pin": pin,
            "stan": format!("{stan:06}"), "transmitted_at": wib(self.model.now)});
        let path = match &operation {
            Operation::BalanceInquiry => "/v1/edc/balance-inquiries",
            Operation::WalletToSavings { amount_minor } => {
                body["amount"] = json!(minor_text(*amount_minor));
                "/v1/edc/wallet-to-savings"
            }
            Operation::CashWithdrawal { amount_minor } => {
                body["amount"] = json!(minor_text(*amount_minor));
                "/v1/edc/cash-withdrawals"
            }
            Operation::Purchase { programme, basket } => {
                body["programme"] = json!(if *programme == Pocket::Bpnt { "bpnt" } else { "lpg" });
                body["basket"] =
                    basket.iter().map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity})).collect();
                "/v1/edc/purchases"
            }
        };
        self.model.sent.push(SentCard {
            family,
            terminal,
            stan,
            transmitted_at: self.model.now,
            effect,
            reversed: false,
        });
        self.send(terminal, path, body, &expected, "card transaction")
    }

    fn post_with_key(&self, terminal: usize, path: &str, key: &str, body: &Value) -> reqwest::blocking::Response {
        let session = &self.terminals[terminal];
        session
            .authorized(session.server.client.post(session.server.url(path)))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .unwrap()
    }

    /// Sends a request under a new key, checks its answer and keeps it for retries.
    fn send(
        &mut self,
        terminal: usize,
        path: &'static str,
        body: Value,
        expected: &Answer,
        what: &str,
    ) -> Result<(), Failure> {
        let key = self.world.next_key(terminal);
        let (got, answer) = answer_of(self.post_with_key(terminal, path, &key, &body));
        self.expect(what, expected, &got, &answer)?;
        let reference = answer["reference"].as_str().map(str::to_owned);
        self.requests.push(SentRequest { terminal, path, key, body, answer: got, reference });
        Ok(())
    }

    /// Every pocket of every family, as the family's balances show it, equals the model's.
    fn check_pockets(&mut self) -> Result<(), Failure> {
        for (index, family) in self.families.iter().enumerate() {
            let shown: Value = self.operator.get(&format!("/v1/families/{}/balances", family.id)).json().unwrap();
            for pocket in POCKETS {
                let expected = self.model.figures(index, pocket);
                let line =
                    shown.as_array().and_then(|pockets| pockets.iter().find(|line| line["kind"] == pocket.kind()));
                let Some(line) = line else {
                    return Err(format!("family {index} has no {} pocket: {shown}", pocket.kind()));
                };
                let figure = |name: &str| line[name].as_str().map_or(i64::MIN, minor_from_text);
                let got = [figure("balance"), figure("held"), figure("blocked"), figure("available")];
                let wanted =
                    [expected.balance_minor, expected.held_minor, expected.blocked_minor, expected.available_minor];
                self.totals.figures += 4;
                if got != wanted {
                    return Err(format!(
                        "family {index} {} (balance, held, blocked, available): the model says {wanted:?}, the server {got:?} at {}",
                        pocket.kind(),
                        self.model.now
                    ));
                }
            }
        }
        Ok(())
    }
}
