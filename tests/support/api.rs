//! Speaking to the API as its users do: demo credentials, logins, bearer requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use kks_api::domain::transmission::TransmittedAt;
use reqwest::blocking::{RequestBuilder, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::TestServer;

#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    pub operators: Vec<OperatorCredentials>,
    pub agents: Vec<AgentCredentials>,
    pub families: Vec<FamilyCredentials>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OperatorCredentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AgentCredentials {
    pub username: String,
    pub password: String,
    pub terminal_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FamilyCredentials {
    pub family_id: i64,
    pub village: String,
    pub card_number: String,
    pub pin: String,
}

impl Credentials {
    pub fn operator(&self, username: &str) -> &OperatorCredentials {
        self.operators.iter().find(|operator| operator.username == username).expect("a demo operator")
    }

    pub fn agent(&self, username: &str) -> &AgentCredentials {
        self.agents.iter().find(|agent| agent.username == username).expect("a demo agent")
    }

    /// The demo families living in a province (`"32"` Jawa Barat, `"33"` Jawa Tengah).
    pub fn families_in(&self, province: &str) -> Vec<&FamilyCredentials> {
        self.families.iter().filter(|family| family.village.starts_with(province)).collect()
    }
}

/// A logged-in client: the server and an access token.
pub struct Session<'a> {
    pub server: &'a TestServer,
    pub access_token: String,
    pub refresh_token: String,
}

impl<'a> Session<'a> {
    fn from_login(server: &'a TestServer, response: Response) -> Self {
        assert_eq!(response.status(), 200, "login failed: {}", response.text().unwrap_or_default());
        let tokens: Value = response.json().expect("a token pair");
        Self {
            server,
            access_token: tokens["access_token"].as_str().expect("access_token").to_owned(),
            refresh_token: tokens["refresh_token"].as_str().expect("refresh_token").to_owned(),
        }
    }

    pub fn operator(server: &'a TestServer, username: &str) -> Self {
        Self::operator_with(server, username, &server.demo().operator(username).password)
    }

    /// An operator who is not one of the demo's.
    pub fn operator_with(server: &'a TestServer, username: &str, password: &str) -> Self {
        let response = server.post("/v1/auth/operators/login", &json!({"username": username, "password": password}));
        Self::from_login(server, response)
    }

    pub fn agent(server: &'a TestServer, username: &str) -> Self {
        let agent = server.demo().agent(username);
        Self::agent_with(server, username, &agent.password, &agent.terminal_id)
    }

    /// An agent who is not one of the demo's, on one of its terminals.
    pub fn agent_with(server: &'a TestServer, username: &str, password: &str, terminal_id: &str) -> Self {
        let body = json!({"username": username, "password": password, "terminal_id": terminal_id});
        Self::from_login(server, server.post("/v1/auth/agents/login", &body))
    }

    pub fn family(server: &'a TestServer, family: &FamilyCredentials) -> Self {
        Self::from_card(server, &family.card_number, &family.pin)
    }

    pub fn from_card(server: &'a TestServer, card_number: &str, pin: &str) -> Self {
        let body = json!({"card_number": card_number, "pin": pin});
        Self::from_login(server, server.post("/v1/auth/families/login", &body))
    }

    pub fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        request.bearer_auth(&self.access_token)
    }

    pub fn get(&self, path: &str) -> Response {
        self.authorized(self.server.client.get(self.server.url(path))).send().expect("GET")
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.authorized(self.server.client.post(self.server.url(path))).json(body).send().expect("POST")
    }

    pub fn put(&self, path: &str, body: &Value) -> Response {
        self.authorized(self.server.client.put(self.server.url(path))).json(body).send().expect("PUT")
    }

    pub fn patch(&self, path: &str, body: &Value) -> Response {
        self.authorized(self.server.client.patch(self.server.url(path))).json(body).send().expect("PATCH")
    }

    /// Waits until the dashboard's money figures hold every committed journal: the server
    /// rolls the journal up in the background (an operator's session; bounded wait).
    pub fn figures_caught_up(&self) {
        let deadline = Instant::now() + FIGURES_WAIT_MAX;
        loop {
            let overview: Value = self.get("/v1/monitoring/overview").json().expect("an overview");
            let behind = overview["journal"]["journals_behind"].as_i64().expect("journal.journals_behind");
            if behind == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "the figures stayed {behind} journals behind for {FIGURES_WAIT_MAX:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// How long the figures may take to catch up: the roll-up passes every 200 ms; a debug
/// build on a busy machine is given far more.
const FIGURES_WAIT_MAX: Duration = Duration::from_secs(60);

impl TestServer {
    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().expect("POST")
    }

    /// Moves the ledger's clock forward to `now` (UTC), on a server started with
    /// `--test-clock`.
    pub fn set_clock(&self, now: NaiveDateTime) {
        let moved = self.client.put(self.url("/test-clock")).json(&json!({ "now": now })).send().expect("PUT");
        assert_eq!(moved.status(), 200, "moving the test clock: {}", moved.text().unwrap_or_default());
    }

    /// What the ledger's clock reads (UTC), on a server started with `--test-clock`.
    pub fn clock(&self) -> NaiveDateTime {
        let reading: Value = self.get("/test-clock").json().expect("a clock reading");
        reading["now"].as_str().and_then(|now| now.parse().ok()).expect("a UTC moment")
    }
}

/// A moment written as a terminal in WIB sends it: `2026-12-04T23:59:53+07:00`.
pub fn wib(at_utc: NaiveDateTime) -> String {
    TransmittedAt::in_wib(at_utc).to_string()
}

/// Now on the real clock (the ledger's, unless a test moved it), as a terminal sends it.
pub fn transmitted_now() -> String {
    wib(chrono::Utc::now().naive_utc())
}

/// Asserts a problem+json answer with this status and code; returns the problem.
pub fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "expected {status} {code}");
    assert_eq!(
        response.headers().get("content-type").and_then(|value| value.to_str().ok()),
        Some("application/problem+json")
    );
    let problem: Value = response.json().expect("a problem document");
    assert_eq!(problem["code"], code, "{problem}");
    problem
}

/// An agent's EDC terminal in a test: a logged-in agent, its next trace number, and the
/// transmission time of each STAN it sent.
pub struct Terminal<'a> {
    pub session: Session<'a>,
    pub terminal_id: String,
    next_stan: AtomicU32,
    /// STAN → `transmitted_at`, as an EDC keeps them: a retry resends the time its request
    /// was first sent with, and a reversal names it.
    transmitted: Mutex<HashMap<String, String>>,
}

impl<'a> Terminal<'a> {
    pub fn of(server: &'a TestServer, agent: &str) -> Self {
        let terminal_id = server.demo().agent(agent).terminal_id.clone();
        Self::on(Session::agent(server, agent), &terminal_id)
    }

    /// The terminal an agent's session was opened on (an agent who is not the demo's).
    pub fn on(session: Session<'a>, terminal_id: &str) -> Self {
        let terminal_id = terminal_id.to_owned();
        Self { session, terminal_id, next_stan: AtomicU32::new(1), transmitted: Mutex::new(HashMap::new()) }
    }

    /// A fresh STAN for this terminal.
    pub fn stan(&self) -> String {
        format!("{:06}", self.next_stan.fetch_add(1, Ordering::Relaxed))
    }

    /// The transmission time of a request with `stan`: the one the test gives (kept from
    /// then on), else the one that STAN was sent or reversed with before, else now on the
    /// real clock.
    fn transmitted_at(&self, stan: &str, given: Option<&str>) -> String {
        let mut transmitted = self.transmitted.lock().expect("the terminal's transmission times");
        let at = match given {
            Some(given) => given.to_owned(),
            None => transmitted.get(stan).cloned().unwrap_or_else(transmitted_now),
        };
        transmitted.insert(stan.to_owned(), at.clone());
        at
    }

    /// Sends a card transaction with this STAN and key, as an EDC does; with the body's
    /// `transmitted_at` if it has one, else the STAN's (see [`Terminal::transmitted_at`]).
    pub fn send_with(&self, path: &str, stan: &str, key: &str, body: Value) -> Response {
        let mut body = body;
        body["stan"] = json!(stan);
        let given = body.get("transmitted_at").and_then(Value::as_str).map(str::to_owned);
        body["transmitted_at"] = json!(self.transmitted_at(stan, given.as_deref()));
        self.session
            .authorized(self.session.server.client.post(self.session.server.url(path)))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .expect("EDC request")
    }

    /// Sends a card transaction with a new STAN.
    pub fn send(&self, path: &str, body: Value) -> Response {
        let stan = self.stan();
        let key = format!("{}-{stan}", self.terminal_id);
        self.send_with(path, &stan, &key, body)
    }

    /// Reverses the transaction with `original_stan`, naming the time it was sent with
    /// (or now, for one not sent yet: the reversal overtakes it).
    pub fn reverse(&self, original_stan: &str, key: &str) -> Response {
        self.reverse_sent_at(original_stan, &self.transmitted_at(original_stan, None), key)
    }

    /// Reverses the transaction with `original_stan` sent at `original_transmitted_at`.
    pub fn reverse_sent_at(&self, original_stan: &str, original_transmitted_at: &str, key: &str) -> Response {
        let original_transmitted_at = self.transmitted_at(original_stan, Some(original_transmitted_at));
        let body = json!({ "original_stan": original_stan, "original_transmitted_at": original_transmitted_at });
        self.session
            .authorized(self.session.server.client.post(self.session.server.url("/v1/edc/reversals")))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .expect("reversal")
    }
}

/// The card fields of a request: the keyed-in number and the PIN.
pub fn keyed(family: &FamilyCredentials) -> Value {
    json!({ "card": { "card_number": family.card_number }, "pin": family.pin })
}

/// `fields` with more fields added.
pub fn with(mut fields: Value, more: Value) -> Value {
    if let (Some(fields), Some(more)) = (fields.as_object_mut(), more.as_object()) {
        fields.extend(more.clone());
    }
    fields
}

/// A valid card number of the same bank as `like`, with its own serial: a card that
/// may or may not exist.
pub fn another_card_number(like: &str, serial: u64) -> String {
    use kks_api::domain::card::{Bank, CardNumber};
    let bank = Bank::from_iin(&like[..6]).unwrap();
    CardNumber::issue(bank, serial).unwrap().as_str().to_owned()
}
