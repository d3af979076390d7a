//! Speaking to the API as its users do: demo credentials, logins, bearer requests.

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
        let operator = server.demo().operator(username);
        let response =
            server.post("/v1/auth/operators/login", &json!({"username": username, "password": operator.password}));
        Self::from_login(server, response)
    }

    pub fn agent(server: &'a TestServer, username: &str) -> Self {
        let agent = server.demo().agent(username);
        let body = json!({"username": username, "password": agent.password, "terminal_id": agent.terminal_id});
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
}

impl TestServer {
    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().expect("POST")
    }
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

/// An agent's EDC terminal in a test: a logged-in agent and its next trace number.
pub struct Terminal<'a> {
    pub session: Session<'a>,
    pub terminal_id: String,
    next_stan: std::sync::atomic::AtomicU32,
}

impl<'a> Terminal<'a> {
    pub fn of(server: &'a TestServer, agent: &str) -> Self {
        let terminal_id = server.demo().agent(agent).terminal_id.clone();
        Self { session: Session::agent(server, agent), terminal_id, next_stan: std::sync::atomic::AtomicU32::new(1) }
    }

    /// A fresh STAN for this terminal.
    pub fn stan(&self) -> String {
        format!("{:06}", self.next_stan.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// Sends a card transaction with this STAN and an idempotency key made of terminal
    /// and STAN, as an EDC does.
    pub fn send_with(&self, path: &str, stan: &str, key: &str, body: Value) -> Response {
        let mut body = body;
        body["stan"] = json!(stan);
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

    pub fn reverse(&self, original_stan: &str, key: &str) -> Response {
        self.session
            .authorized(self.session.server.client.post(self.session.server.url("/v1/edc/reversals")))
            .header("Idempotency-Key", key)
            .json(&json!({ "original_stan": original_stan }))
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
