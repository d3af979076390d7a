//! HAProxy (Debian's package) in front of several `kks serve` processes, as a bank would
//! run them: round robin, each server health-checked on `/readyz`, the client's address
//! passed on in `X-Forwarded-For`, and a request whose server refused the connection
//! sent to another one.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::TestServer;

/// The HAProxy of Debian's package; `.ci/run` installs it.
const HAPROXY: &str = "/usr/sbin/haproxy";

/// How long HAProxy may take to find every server up, or one down (its checks run every
/// 500 ms; a busy machine slows them).
const STATE_WAIT_MAX: Duration = Duration::from_secs(60);

/// The backend's name in HAProxy's configuration and statistics.
const BACKEND: &str = "kks";

/// Starts HAProxy on a free loopback port in front of `servers` and waits until it sees
/// every one of them up. The answer talks to HAProxy and carries the first server's demo
/// credentials; dropping it stops HAProxy.
pub fn load_balancer(servers: &[&TestServer]) -> TestServer {
    assert!(
        std::path::Path::new(HAPROXY).exists(),
        "{HAPROXY} is missing: install Debian's haproxy package (.ci/run does)"
    );
    let folder = tempfile::tempdir().expect("a folder for HAProxy's configuration");
    let port = free_port();
    let socket = folder.path().join("stats.sock");
    let config = folder.path().join("haproxy.cfg");
    std::fs::write(&config, configuration(port, &socket, servers)).expect("writing haproxy.cfg");
    let child = Command::new(HAPROXY)
        .arg("-db") // in the foreground, as the test's child
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .spawn()
        .expect("starting haproxy");
    let credentials = servers.first().and_then(|server| server.credentials.clone());
    let front = TestServer::from_process(child, format!("http://127.0.0.1:{port}"), credentials, folder);
    wait_for_states(&front, servers.len(), "UP");
    front
}

fn configuration(port: u16, socket: &std::path::Path, servers: &[&TestServer]) -> String {
    let mut config = format!(
        "global\n\
         \tstats socket {socket} level admin\n\
         defaults\n\
         \tmode http\n\
         \ttimeout connect 5s\n\
         \ttimeout client 60s\n\
         \ttimeout server 60s\n\
         \t# A connection refused by a dead server is tried again on another one.\n\
         \tretries 3\n\
         \toption redispatch 1\n\
         frontend api\n\
         \tbind 127.0.0.1:{port}\n\
         \toption forwardfor\n\
         \tdefault_backend {BACKEND}\n\
         backend {BACKEND}\n\
         \tbalance roundrobin\n\
         \toption httpchk GET /readyz\n\
         \thttp-check expect status 200\n",
        socket = socket.display(),
    );
    for (index, server) in servers.iter().enumerate() {
        let address = server.url("").trim_start_matches("http://").to_owned();
        config.push_str(&format!("\tserver kks{index} {address} check inter 500ms fall 2 rise 2\n"));
    }
    config
}

/// A loopback port nobody listens on at this moment (HAProxy binds it right after).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// One server as HAProxy's statistics show it.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub name: String,
    /// `UP`, `DOWN`, or a transition such as `UP 1/2`.
    pub status: String,
    /// Requests it has been given since HAProxy started.
    pub sessions_total: u64,
}

/// The servers of the backend, from `show stat` on HAProxy's admin socket.
pub fn server_states(front: &TestServer) -> Vec<ServerState> {
    asked_server_states(front).expect("HAProxy's statistics")
}

fn asked_server_states(front: &TestServer) -> std::io::Result<Vec<ServerState>> {
    let mut stream = UnixStream::connect(front.folder().join("stats.sock"))?;
    stream.write_all(b"show stat\n")?;
    let mut lines = BufReader::new(stream).lines().map_while(Result::ok);
    let header = lines.next().unwrap_or_default();
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let column = |name: &str| columns.iter().position(|column| *column == name).expect("a statistics column");
    let (proxy, server, status, total) = (column("pxname"), column("svname"), column("status"), column("stot"));
    Ok(lines
        .filter(|line| !line.is_empty())
        .map(|line| line.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|fields| fields[proxy] == BACKEND && fields[server] != "BACKEND")
        .map(|fields| ServerState {
            name: fields[server].clone(),
            status: fields[status].clone(),
            sessions_total: fields[total].parse().expect("a session count"),
        })
        .collect())
}

/// Waits (bounded) until exactly `count` servers show `status`.
pub fn wait_for_states(front: &TestServer, count: usize, status: &str) -> Vec<ServerState> {
    let deadline = Instant::now() + STATE_WAIT_MAX;
    loop {
        // The socket appears a moment after HAProxy starts.
        let states = asked_server_states(front).unwrap_or_default();
        if states.iter().filter(|state| state.status == status).count() == count {
            return states;
        }
        assert!(Instant::now() < deadline, "HAProxy never saw {count} servers {status}: {states:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
