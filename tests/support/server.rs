//! The real `kks` binary serving over real HTTP on a free loopback port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{TestDatabase, KKS_BINARY};

/// How long a server may take to start listening (it migrates first).
const STARTUP_WAIT_MAX: Duration = Duration::from_secs(60);

pub struct TestServer {
    child: Child,
    base_url: String,
    pub client: reqwest::blocking::Client,
}

impl TestServer {
    /// Starts `kks serve --bind 127.0.0.1:0` on the database and waits for its
    /// "listening on" line.
    pub fn start(database: &TestDatabase) -> Self {
        let mut child = Command::new(KKS_BINARY)
            .args(["--database", database.url(), "serve", "--bind", "127.0.0.1:0", "--workers", "2"])
            .env("KKS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting kks serve");
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
            Err(_) => {
                let _ = child.kill();
                panic!("kks serve did not start listening within {STARTUP_WAIT_MAX:?}");
            }
        };
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("building an HTTP client");
        Self { child, base_url, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.client.get(self.url(path)).send().expect("GET request")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
