//! Speaking to the KKS server over HTTP, as any client does: logins, bearer requests,
//! and problem+json refusals read into [`Problem`].

use std::fmt;
use std::str::FromStr;
use std::sync::RwLock;
use std::time::Duration;

use anyhow::{bail, Context as _};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// The longest answer body read from the server (a card image is about 60 KiB).
const RESPONSE_BYTES_MAX: usize = 4 * 1024 * 1024;

/// A KKS server: its base address and an HTTP client with a request timeout.
#[derive(Clone)]
pub struct Server {
    base_url: String,
    http: Client,
}

impl Server {
    /// A client for the server at `base_url` (`http://127.0.0.1:8080`), with a timeout
    /// for every request and `Accept-Language: id`, so refusals come with Indonesian titles.
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("the server address must start with http:// (got {base_url})");
        }
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static("id"));
        let http = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("card-sim/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .context("building the HTTP client")?;
        Ok(Self { base_url, http })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn http(&self) -> &Client {
        &self.http
    }

    /// An unauthenticated GET (the issuer key, the catalogue of a public endpoint).
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Answer<T>, TransportError> {
        read_answer(self.http.get(self.url(path)).send()?)
    }
}

/// A refusal from the server: its HTTP status and stable code, the title (Indonesian, as
/// asked for) and the English detail.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub status: u16,
    pub code: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({}): {} [{}]", self.code, self.status, self.title, self.detail)
    }
}

impl std::error::Error for Problem {}

/// What the server answered: what was asked for, or a refusal.
#[derive(Debug)]
pub enum Answer<T> {
    Ok(T),
    Refused(Problem),
}

impl<T> Answer<T> {
    /// The value, or the refusal as an error (for commands where a refusal ends the run).
    pub fn into_result(self) -> Result<T, Problem> {
        match self {
            Self::Ok(value) => Ok(value),
            Self::Refused(problem) => Err(problem),
        }
    }
}

/// Reads a JSON answer or a problem document; a body that is neither is a refusal
/// with a code made from the status, so a proxy's error page is still reported.
pub fn read_answer<T: DeserializeOwned>(response: Response) -> Result<Answer<T>, TransportError> {
    let status = response.status();
    let bytes = read_body(response)?;
    if status.is_success() {
        // "204 No Content" reads as JSON null.
        let bytes = if bytes.is_empty() { b"null".to_vec() } else { bytes };
        return Ok(match serde_json::from_slice(&bytes) {
            Ok(value) => Answer::Ok(value),
            Err(error) => Answer::Refused(Problem {
                status: status.as_u16(),
                code: "UNREADABLE_ANSWER".to_owned(),
                title: "the answer is not what was expected".to_owned(),
                detail: error.to_string(),
            }),
        });
    }
    Ok(Answer::Refused(problem_from(status.as_u16(), &bytes)))
}

/// Reads a binary answer (a PNG) or a problem document.
pub fn read_bytes(response: Response) -> Result<Answer<Vec<u8>>, TransportError> {
    let status = response.status();
    let bytes = read_body(response)?;
    if status.is_success() {
        Ok(Answer::Ok(bytes))
    } else {
        Ok(Answer::Refused(problem_from(status.as_u16(), &bytes)))
    }
}

/// The body, cut at [`RESPONSE_BYTES_MAX`] (a body that long is not a KKS answer and
/// fails to parse, which reports it).
fn read_body(response: Response) -> Result<Vec<u8>, TransportError> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    response.take(RESPONSE_BYTES_MAX as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The answer never arrived (whole): no connection, a timeout, a connection cut while
/// the answer was read. For a money transaction the outcome is unknown.
#[derive(Debug, Clone)]
pub struct TransportError {
    pub timeout: bool,
    pub message: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.timeout { "no answer in time" } else { "connection failed" };
        write!(formatter, "{what}: {}", self.message)
    }
}

impl std::error::Error for TransportError {}

impl From<reqwest::Error> for TransportError {
    fn from(error: reqwest::Error) -> Self {
        Self { timeout: error.is_timeout(), message: error_chain(&error) }
    }
}

impl From<std::io::Error> for TransportError {
    fn from(error: std::io::Error) -> Self {
        let timeout = error.kind() == std::io::ErrorKind::TimedOut
            || error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                .is_some_and(|inner| inner.is_timeout());
        Self { timeout, message: error_chain(&error) }
    }
}

/// An error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn problem_from(status: u16, bytes: &[u8]) -> Problem {
    match serde_json::from_slice::<Problem>(bytes) {
        Ok(mut problem) => {
            problem.status = status;
            problem
        }
        Err(_) => Problem {
            status,
            code: format!("HTTP_{status}"),
            title: "the server answered without a problem document".to_owned(),
            detail: String::from_utf8_lossy(bytes.get(..200.min(bytes.len())).unwrap_or_default()).into_owned(),
        },
    }
}

/// Who logs in, written on the command line as `operator:USER:PASSWORD`,
/// `agent:USER:PASSWORD:TERMINAL` or `family:CARD_NUMBER:PIN`.
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    Operator { username: String, password: String },
    Agent { username: String, password: String, terminal_id: String },
    Family { card_number: String, pin: String },
}

impl Login {
    fn path(&self) -> &'static str {
        match self {
            Self::Operator { .. } => "/v1/auth/operators/login",
            Self::Agent { .. } => "/v1/auth/agents/login",
            Self::Family { .. } => "/v1/auth/families/login",
        }
    }

    fn body(&self) -> Value {
        match self {
            Self::Operator { username, password } => json!({"username": username, "password": password}),
            Self::Agent { username, password, terminal_id } => {
                json!({"username": username, "password": password, "terminal_id": terminal_id})
            }
            Self::Family { card_number, pin } => json!({"card_number": card_number, "pin": pin}),
        }
    }

    /// Who this is, without the secret.
    pub fn who(&self) -> String {
        match self {
            Self::Operator { username, .. } => format!("operator {username}"),
            Self::Agent { username, terminal_id, .. } => format!("agent {username} on {terminal_id}"),
            Self::Family { card_number, .. } => format!("family of card {card_number}"),
        }
    }
}

/// Never prints a password or a PIN.
impl fmt::Debug for Login {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.who())
    }
}

impl FromStr for Login {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["operator", username, password] => {
                Ok(Self::Operator { username: (*username).to_owned(), password: (*password).to_owned() })
            }
            ["agent", username, password, terminal_id] => Ok(Self::Agent {
                username: (*username).to_owned(),
                password: (*password).to_owned(),
                terminal_id: (*terminal_id).to_owned(),
            }),
            ["family", card_number, pin] => {
                Ok(Self::Family { card_number: (*card_number).to_owned(), pin: (*pin).to_owned() })
            }
            _ => Err("write operator:USER:PASSWORD, agent:USER:PASSWORD:TERMINAL or family:CARD_NUMBER:PIN".to_owned()),
        }
    }
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

/// A logged-in client. An expired access token is renewed once with the refresh token
/// (or a new login), so a long session or load run keeps working.
pub struct Session {
    server: Server,
    login: Login,
    tokens: RwLock<Tokens>,
}

impl Session {
    pub fn open(server: &Server, login: Login) -> anyhow::Result<Self> {
        let tokens = log_in(server, &login)?;
        Ok(Self { server: server.clone(), login, tokens: RwLock::new(tokens) })
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn login(&self) -> &Login {
        &self.login
    }

    fn access_token(&self) -> String {
        self.tokens.read().map(|tokens| tokens.access_token.clone()).unwrap_or_default()
    }

    /// Sends a request built by `build` with the bearer token; on 401 renews the tokens
    /// and sends it once more (a 401 means the server did nothing).
    pub fn send(&self, build: impl Fn(&Client) -> RequestBuilder) -> Result<Response, TransportError> {
        let response = build(self.server.http()).bearer_auth(self.access_token()).send()?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED || !self.renew() {
            return Ok(response);
        }
        Ok(build(self.server.http()).bearer_auth(self.access_token()).send()?)
    }

    /// Renews the tokens: refresh first, a new login if that fails. True when renewed.
    fn renew(&self) -> bool {
        let refresh_token = match self.tokens.read() {
            Ok(tokens) => tokens.refresh_token.clone(),
            Err(_) => return false,
        };
        let refreshed = self
            .server
            .http()
            .post(self.server.url("/v1/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .ok()
            .and_then(|response| read_answer::<Tokens>(response).ok())
            .and_then(|answer| answer.into_result().ok());
        let Some(tokens) = refreshed.or_else(|| log_in(&self.server, &self.login).ok()) else {
            return false;
        };
        match self.tokens.write() {
            Ok(mut slot) => {
                *slot = tokens;
                true
            }
            Err(_) => false,
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Answer<T>, TransportError> {
        let url = self.server.url(path);
        read_answer(self.send(|http| http.get(&url))?)
    }

    pub fn get_bytes(&self, path: &str) -> Result<Answer<Vec<u8>>, TransportError> {
        let url = self.server.url(path);
        read_bytes(self.send(|http| http.get(&url))?)
    }

    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<Answer<T>, TransportError> {
        let url = self.server.url(path);
        read_answer(self.send(|http| http.post(&url).json(body))?)
    }
}

fn log_in(server: &Server, login: &Login) -> anyhow::Result<Tokens> {
    let response = server
        .http()
        .post(server.url(login.path()))
        .json(&login.body())
        .send()
        .with_context(|| format!("logging in as {} at {}", login.who(), server.base_url()))?;
    read_answer::<Tokens>(response)
        .context("reading the login answer")?
        .into_result()
        .with_context(|| format!("the server refused the login of {}", login.who()))
}

/// Whether `base_url` names this machine (127.0.0.0/8, `localhost` or `[::1]`): the only
/// servers the load generator will send traffic to.
pub fn is_loopback(base_url: &str) -> bool {
    let rest = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(address) => address.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_loopback() {
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(is_loopback("http://127.3.2.1/"));
        assert!(is_loopback("http://localhost:1234/v1"));
        assert!(is_loopback("http://[::1]:80"));
        assert!(!is_loopback("http://10.0.0.1:8080"));
        assert!(!is_loopback("http://example.org"));
        assert!(!is_loopback("http://127.0.0.1.example.org"));
    }

    #[test]
    fn logins_parse_from_the_command_line_and_never_print_secrets() {
        let login: Login = "agent:agen.cileunyi:s3cret:T3204001".parse().unwrap();
        assert_eq!(format!("{login:?}"), "agent agen.cileunyi on T3204001");
        assert!("operator:only-a-name".parse::<Login>().is_err());
    }
}
