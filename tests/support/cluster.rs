//! Throwaway PostgreSQL clusters of a test's own (initdb and pg_ctl as the `postgres`
//! user through runuser, so the test needs root, as CI has): one to stop and start under
//! a running API, or a primary with a synchronous streaming standby to fail over.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The `cluster_name` of a standby, which the primary names as its synchronous standby.
const STANDBY_NAME: &str = "kks_standby";

/// How long a standby may take to catch up, or a promoted one to accept writes.
const REPLICATION_WAIT_MAX: Duration = Duration::from_secs(60);

/// A PostgreSQL cluster on its own port and socket folder, stopped when dropped.
pub struct Cluster {
    folder: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn as_postgres(program: PathBuf) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--"]).arg(program);
    command
}

impl Cluster {
    /// A new cluster, started.
    pub fn start_new() -> Self {
        Self::start_new_with(&[])
    }

    /// A new cluster whose every commit waits until a standby named by
    /// [`Cluster::start_standby_of`] has it on disk (`synchronous_commit = on`).
    pub fn start_new_primary() -> Self {
        let standby = format!("synchronous_standby_names={STANDBY_NAME}");
        Self::start_new_with(&["-c", &standby, "-c", "synchronous_commit=on"])
    }

    fn start_new_with(settings: &[&str]) -> Self {
        let cluster = Self::empty();
        run(
            as_postgres(cluster.bin.join("initdb")).args(["-D", &cluster.data(), "-U", "postgres", "--auth=trust"]),
            "initdb",
        );
        std::fs::write(cluster.folder.path().join("settings"), settings.join(" ")).expect("keeping the settings");
        cluster.start();
        cluster
    }

    /// A streaming standby of `primary` (pg_basebackup), started and caught up (the
    /// primary's synchronous standby when it was made by [`Cluster::start_new_primary`]).
    pub fn start_standby_of(primary: &Cluster) -> Self {
        let standby = Self::empty();
        run(
            as_postgres(standby.bin.join("pg_basebackup")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-D",
                &standby.data(),
                "-R", // writes standby.signal and the connection to the primary
                "-X",
                "stream",
            ]),
            "pg_basebackup",
        );
        let name = format!("cluster_name={STANDBY_NAME}");
        std::fs::write(standby.folder.path().join("settings"), ["-c", &name].join(" ")).expect("keeping the settings");
        standby.start();
        let deadline = Instant::now() + REPLICATION_WAIT_MAX;
        // Streaming, and the synchronous standby when the primary asks for one.
        let caught_up = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' \
             AND (sync_state = 'sync' OR current_setting('synchronous_standby_names') = '')";
        while primary.query(caught_up) != "1" {
            assert!(Instant::now() < deadline, "the standby never caught up with the primary");
            std::thread::sleep(Duration::from_millis(100));
        }
        standby
    }

    fn empty() -> Self {
        let uid = Command::new("id").arg("-u").output().expect("running id -u");
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "this test starts and stops PostgreSQL clusters of its own as the postgres user (runuser), \
             which needs root, as CI has. Run it as root, or leave it out with --skip postgres::"
        );
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries in /usr/lib/postgresql (apt-get install postgresql)")
            .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
            .filter(|bin| bin.join("pg_ctl").is_file())
            .max()
            .expect("pg_ctl under /usr/lib/postgresql/*/bin");
        let folder = tempfile::tempdir().expect("a folder for the cluster");
        run(Command::new("chown").arg("postgres").arg(folder.path()), "chown postgres");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self { folder, bin, port }
    }

    fn data(&self) -> String {
        self.folder.path().join("data").display().to_string()
    }

    /// The `postgres` database of this cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_postgres(self.bin.join("pg_ctl"));
        command.args(["-D", &self.data()]).args(args);
        command
    }

    /// Starts the cluster (again) with the settings it was made with.
    pub fn start(&self) {
        let log = self.folder.path().join("log").display().to_string();
        let settings = std::fs::read_to_string(self.folder.path().join("settings")).unwrap_or_default();
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c max_connections=50 {settings}",
            self.port,
            self.folder.path().display()
        );
        run(&mut self.pg_ctl(&["-l", &log, "-w", "-o", &options, "start"]), "pg_ctl start");
    }

    /// Stops it with pg_ctl's shutdown `mode` (`fast`, `immediate`).
    pub fn stop(&self, mode: &str) {
        run(&mut self.pg_ctl(&["-m", mode, "-w", "stop"]), "pg_ctl stop");
    }

    /// Kills the postmaster and every process of the cluster at once with SIGKILL, as when
    /// its machine dies: nothing is flushed, nobody is told.
    pub fn kill(&self) {
        let pid_file = std::fs::read_to_string(self.folder.path().join("data/postmaster.pid")).expect("postmaster.pid");
        let postmaster = pid_file.lines().next().expect("the postmaster's pid").trim().to_owned();
        let children = Command::new("pgrep").args(["-P", &postmaster]).output().expect("pgrep");
        let mut pids = vec![postmaster];
        pids.extend(String::from_utf8_lossy(&children.stdout).split_whitespace().map(str::to_owned));
        run(Command::new("kill").arg("-KILL").args(&pids), "kill -KILL");
    }

    /// Promotes a standby to primary and waits until it accepts writes.
    pub fn promote(&self) {
        run(&mut self.pg_ctl(&["-w", "promote"]), "pg_ctl promote");
        let deadline = Instant::now() + REPLICATION_WAIT_MAX;
        while self.query("SELECT pg_is_in_recovery()") != "f" {
            assert!(Instant::now() < deadline, "the promoted standby never left recovery");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One value from psql on this cluster.
    pub fn query(&self, sql: &str) -> String {
        let output = as_postgres(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-XAtc", sql])
            .output()
            .expect("running psql");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]).output();
    }
}
