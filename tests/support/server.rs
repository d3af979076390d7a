//! The real `kks` binary serving over real HTTP on a free loopback port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::api::Credentials;
use super::{TestDatabase, KKS_BINARY};

/// The token-signing secret of every test server, so tests can forge tokens with it.
pub const TEST_JWT_SECRET: &str = "kks-test-jwt-secret-known-to-the-test-suite";

/// The SMS gateway's shared secret the test servers start with (`KKS_SMS_WEBHOOK_SECRET`).
pub const TEST_SMS_WEBHOOK_SECRET: &str = "kks-test-sms-gateway-secret";

/// The card issuer key of every test server, so tests can sign card codes with it.
pub const TEST_ISSUER_KEY_HEX: &str = "6b6b732074657374206973737565722073656564206f66203332206279746573";

/// How long a server may take to start listening (it migrates first).
const STARTUP_WAIT_MAX: Duration = Duration::from_secs(60);

pub struct TestServer {
    child: Child,
    base_url: String,
    pub client: reqwest::blocking::Client,
    /// The demo users seeded on first start (empty when the database was not fresh).
    pub credentials: Option<Credentials>,
    folder: tempfile::TempDir,
}

impl TestServer {
    /// Starts `kks serve --bind 127.0.0.1:0` on the database (seeding the demo data if it
    /// is fresh) and waits for its "listening on" line.
    pub fn start(database: &TestDatabase) -> Self {
        Self::start_with(database, &[])
    }

    /// Stops the server, runs `write` on its database while none runs, and starts a new
    /// server on it with the same demo users. For a state no API call makes (a hand-edited
    /// row, an older schema): on SQLite the server is the only writer of its file while it
    /// runs.
    pub fn restarted_after(self, database: &TestDatabase, write: impl FnOnce()) -> Self {
        let credentials = self.credentials.clone();
        drop(self);
        write();
        let mut restarted = Self::start(database);
        restarted.credentials = credentials;
        restarted
    }

    /// Like [`TestServer::start`], with more `serve` flags.
    pub fn start_with(database: &TestDatabase, flags: &[&str]) -> Self {
        Self::spawn(database, flags, None, &[])
    }

    /// Like [`TestServer::start`], with key variables set (`Some`) or removed (`None`) over
    /// the test defaults: a server after a key rotation.
    pub fn start_with_keys(database: &TestDatabase, keys: &[(&str, Option<&str>)]) -> Self {
        Self::spawn(database, &[], None, keys)
    }

    /// Like [`TestServer::start_with`], with the server's log (`KKS_LOG=info`) written to
    /// the file `log` instead of the test's standard error.
    pub fn start_logging_to(database: &TestDatabase, flags: &[&str], log: &std::path::Path) -> Self {
        Self::spawn(database, flags, Some(log), &[])
    }

    fn spawn(
        database: &TestDatabase,
        flags: &[&str],
        log: Option<&std::path::Path>,
        keys: &[(&str, Option<&str>)],
    ) -> Self {
        let (log_filter, stderr) = match log {
            Some(path) => ("info", Stdio::from(std::fs::File::create(path).expect("creating the log file"))),
            None => ("error", Stdio::inherit()),
        };
        let folder = tempfile::tempdir().expect("a folder for the demo credentials");
        let credentials_path = folder.path().join("demo-credentials.json");
        let mut command = Command::new(KKS_BINARY);
        command
            .args(["--database", database.url(), "serve", "--bind", "127.0.0.1:0", "--workers", "2"])
            .arg("--demo-credentials")
            .arg(&credentials_path)
            .args(flags)
            .env("KKS_JWT_SECRET", TEST_JWT_SECRET)
            .env("KKS_ISSUER_KEY", TEST_ISSUER_KEY_HEX)
            .env("KKS_SMS_WEBHOOK_SECRET", TEST_SMS_WEBHOOK_SECRET)
            .env("KKS_LOG", log_filter);
        set_keys(&mut command, keys);
        let mut child = command.stdout(Stdio::piped()).stderr(stderr).spawn().expect("starting kks serve");
        let stdout = child.stdout.take().expect("the server's stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = sender.send(url.to_owned());
                }
            }
        });
        let base_url = match receiver.recv_timeout(STARTUP_WAIT_MAX) {
            Ok(url) => url,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().expect("waiting for kks serve");
                panic!("kks serve exited before listening ({status}); its error is above");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("kks serve did not start listening within {STARTUP_WAIT_MAX:?}");
            }
        };
        let client = http_client();
        let credentials = std::fs::read(&credentials_path)
            .ok()
            .map(|bytes| serde_json::from_slice(&bytes).expect("readable demo credentials"));
        Self { child, base_url, client, credentials, folder }
    }

    /// Seeds the demo (`kks seed --demo`), lets `prepare` write to the database while no
    /// server runs (funding pockets beyond what the API can do), then starts the server
    /// on it with `flags`: the server is the only writer while it runs.
    pub fn start_after(
        database: &TestDatabase,
        flags: &[&str],
        prepare: impl FnOnce(&kks_api::store::Store, &Credentials),
    ) -> Self {
        let folder = tempfile::tempdir().expect("a folder for the demo credentials");
        let path = folder.path().join("demo-credentials.json");
        let seeded = Command::new(KKS_BINARY)
            .args(["--database", database.url(), "seed", "--demo", "--credentials"])
            .arg(&path)
            .env("KKS_JWT_SECRET", TEST_JWT_SECRET)
            .env("KKS_ISSUER_KEY", TEST_ISSUER_KEY_HEX)
            .env("KKS_SMS_WEBHOOK_SECRET", TEST_SMS_WEBHOOK_SECRET)
            .env("KKS_LOG", "warn")
            .output()
            .expect("running kks seed");
        assert!(seeded.status.success(), "kks seed --demo: {}", String::from_utf8_lossy(&seeded.stderr));
        let credentials: Credentials = serde_json::from_slice(&std::fs::read(&path).expect("the demo credentials"))
            .expect("readable demo credentials");
        prepare(&database.store(), &credentials);
        let mut server = Self::start_with(database, flags);
        server.credentials = Some(credentials);
        server
    }

    /// A server process of another kind that serves the API (HAProxy in front of several
    /// `kks serve`), with the demo users it passes through and a folder it keeps.
    pub fn from_process(
        child: Child,
        base_url: String,
        credentials: Option<Credentials>,
        folder: tempfile::TempDir,
    ) -> Self {
        Self { child, base_url, client: http_client(), credentials, folder }
    }

    /// The folder that lives as long as the server (its demo credentials, its configuration).
    pub fn folder(&self) -> &std::path::Path {
        self.folder.path()
    }

    /// The demo users; panics when the database was not fresh.
    pub fn demo(&self) -> &Credentials {
        self.credentials.as_ref().expect("the server seeded demo data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.client.get(self.url(path)).send().expect("GET request")
    }

    /// Asserts that `path` is one of the files embedded for browsers: 200, its type, never
    /// sniffed, byte for byte `body`. Returns the answer's headers.
    pub fn assert_serves_file(&self, path: &str, content_type: &str, body: &[u8]) -> reqwest::header::HeaderMap {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
        let headers = response.headers().clone();
        assert!(response.bytes().expect("reading the body") == body, "{path} is the embedded file");
        headers
    }
}

fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().expect("building an HTTP client")
}

/// Sets (`Some`) or removes (`None`) each key variable of `keys` for `command`.
pub fn set_keys(command: &mut Command, keys: &[(&str, Option<&str>)]) {
    for (name, value) in keys {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
