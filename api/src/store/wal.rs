//! A bounded write-ahead log for the embedded SQLite database.
//!
//! SQLite appends every commit to `FILE-wal` and copies it back into the database file
//! at a checkpoint. A `PASSIVE` checkpoint copies what it can without waiting, but the
//! log only starts again from its beginning once every frame is copied *and* no reader
//! still reads an old snapshot out of it. Under steady card traffic some reader always
//! does, so with passive checkpoints alone the log never restarts: measured, 6.16 GB of
//! WAL for a 628 MB database after three minutes of 32 terminals (issue 22).
//!
//! So, every 100 ms, this module copies the log back passively (beside the traffic),
//! and once the log holds a sixteenth of its bound it runs `wal_checkpoint(RESTART)` on the writer connection itself,
//! between two group commits: it copies the few frames written meanwhile and waits, for
//! a bounded time, until the readers that started before it have finished. Readers that
//! start after it read the database file, not the log, so they never hold it up. The
//! next commit then writes the log from its beginning, and `journal_size_limit` cuts a
//! longer file back to the bound. A reader that pins the log for longer than the wait
//! (a long report) only postpones the restart to a later pass; the wait grows while the
//! log is over its bound, and the log says so.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::Integer;
use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;

use super::group_commit::GroupCommit;
use super::{StoreError, SQLITE_BUSY_TIMEOUT_MS};

/// The bound on the WAL by default, in MiB (`--sqlite-wal-max-mb`).
pub const SQLITE_WAL_MAX_MB_DEFAULT: u64 = 64;

/// How often the log is copied back passively and its length looked at. At full rate
/// the log grew by about 34 MB a second (issue 22): checked this often, it passes its
/// trigger by about 3 MB at most.
pub const WAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How long a restart waits for older readers, at first: card traffic waits behind it,
/// so it is short; most readers finish within a few milliseconds.
pub const RESTART_READER_WAIT_MIN: Duration = Duration::from_millis(20);

/// The longest a restart waits for older readers, reached by doubling the wait after
/// each restart that found a reader still in the log while the log is over its bound.
/// Card traffic can wait this long once, when a long report pins the log.
pub const RESTART_READER_WAIT_MAX: Duration = Duration::from_millis(640);

/// Passive checkpoints run one after another before a restart, at most: each copies what
/// was written during the one before, so that the restart, which card traffic waits for,
/// has little left to copy.
pub const PASSIVE_CHECKPOINTS_BEFORE_RESTART_MAX: usize = 4;

/// Frames (pages) a restart may be left to copy: about 4 MiB of 4 KiB pages.
pub const RESTART_FRAMES_LEFT_MAX: i32 = 1_024;

/// The log restarts once it holds this fraction of its bound (see `trigger_bytes`).
pub const RESTART_TRIGGER_DIVISOR: u64 = 16;

/// How often a log still over its bound is reported, at most.
const OVER_BOUND_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// The state of the WAL bound of one database file.
#[derive(Debug)]
pub struct WalBound {
    wal_path: PathBuf,
    max_bytes: u64,
    reader_wait: Duration,
    last_warning: Option<Instant>,
}

/// What `PRAGMA wal_checkpoint` answers: whether it was blocked, the frames in the log,
/// the frames copied back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct CheckpointOutcome {
    #[diesel(sql_type = Integer)]
    pub busy: i32,
    #[diesel(sql_type = Integer)]
    pub log: i32,
    #[diesel(sql_type = Integer)]
    pub checkpointed: i32,
}

impl WalBound {
    /// The bound of the log of the database file at `database_path`.
    pub fn new(database_path: &str, max_bytes: u64) -> Self {
        Self {
            wal_path: PathBuf::from(format!("{database_path}-wal")),
            max_bytes: max_bytes.max(1),
            reader_wait: RESTART_READER_WAIT_MIN,
            last_warning: None,
        }
    }

    /// The log's size now, in bytes (0 when there is none).
    pub fn wal_bytes(&self) -> u64 {
        std::fs::metadata(&self.wal_path).map(|metadata| metadata.len()).unwrap_or(0)
    }

    /// The log length at which a restart starts: a sixteenth of the bound. A short log is
    /// cheap to restart (little left to copy while card traffic waits), and the rest of
    /// the bound is room for the log to grow while a long read holds a restart up.
    fn trigger_bytes(&self) -> u64 {
        self.max_bytes / RESTART_TRIGGER_DIVISOR
    }

    /// One pass: copies the log back passively (beside the traffic), and restarts it once
    /// what it holds passes the trigger. `passive` runs a passive checkpoint on a
    /// connection of its own. The trigger counts the frames in the log, not the file's
    /// size: after a restart the file keeps its size (up to the bound) while the log in it
    /// starts again from its beginning.
    pub fn keep(&mut self, writer: &GroupCommit, mut passive: impl FnMut() -> Result<CheckpointOutcome, StoreError>) {
        let mut outcome = match passive() {
            Ok(outcome) => outcome,
            Err(error) => return tracing::warn!(%error, "checkpointing the SQLite WAL failed; will try again"),
        };
        let log_bytes = frames_bytes(outcome.log);
        if log_bytes < self.trigger_bytes() {
            return;
        }
        // The bulk is copied beside the traffic; the restart, which card traffic waits
        // for, only copies what came since the last passive checkpoint.
        for _ in 1..PASSIVE_CHECKPOINTS_BEFORE_RESTART_MAX {
            if outcome.log - outcome.checkpointed <= RESTART_FRAMES_LEFT_MAX {
                break;
            }
            match passive() {
                Ok(next) => outcome = next,
                Err(error) => return tracing::warn!(%error, "checkpointing the SQLite WAL failed; will try again"),
            }
        }
        let reader_wait = self.reader_wait;
        let started = Instant::now();
        let restarted = writer.between_transactions(|connection| restart(connection, reader_wait));
        match restarted {
            Ok(outcome) if outcome.busy == 0 => {
                self.reader_wait = RESTART_READER_WAIT_MIN;
                let writer_held_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                tracing::debug!(log_bytes, frames = outcome.log, writer_held_ms, "restarted the SQLite WAL");
            }
            Ok(outcome) => self.postponed(log_bytes, outcome),
            Err(error) => {
                tracing::warn!(%error, log_bytes, "restarting the SQLite WAL failed; will try again")
            }
        }
    }

    /// A reader still read the log after the wait: wait longer next time if the log is
    /// over its bound, and say so now and then.
    fn postponed(&mut self, log_bytes: u64, outcome: CheckpointOutcome) {
        if log_bytes <= self.max_bytes {
            return;
        }
        self.reader_wait = (self.reader_wait * 2).min(RESTART_READER_WAIT_MAX);
        let warned_lately = self.last_warning.is_some_and(|at| at.elapsed() < OVER_BOUND_WARNING_INTERVAL);
        if !warned_lately {
            self.last_warning = Some(Instant::now());
            tracing::warn!(
                log_bytes,
                wal_max_bytes = self.max_bytes,
                frames = outcome.log,
                next_reader_wait_ms = u64::try_from(self.reader_wait.as_millis()).unwrap_or(u64::MAX),
                "the SQLite WAL is over its bound: a long read keeps an old snapshot, so it cannot start again yet"
            );
        }
    }
}

/// The bytes `frames` take in the log: SQLite's default 4 KiB page (the migrations keep
/// it) and a 24-byte frame header each.
fn frames_bytes(frames: i32) -> u64 {
    const FRAME_BYTES: u64 = 4_096 + 24;
    u64::try_from(frames).unwrap_or(0) * FRAME_BYTES
}

/// `wal_checkpoint(RESTART)` on the writer, waiting at most `reader_wait` for readers of
/// older snapshots (SQLite's busy handler), then the usual busy timeout again.
fn restart(connection: &mut SqliteConnection, reader_wait: Duration) -> Result<CheckpointOutcome, StoreError> {
    connection.batch_execute(&format!("PRAGMA busy_timeout = {}", reader_wait.as_millis()))?;
    let outcome = diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result::<CheckpointOutcome>(connection);
    connection.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
    Ok(outcome?)
}

/// A passive checkpoint: copies what no reader still needs, waits for nothing.
pub fn passive(connection: &mut SqliteConnection) -> Result<CheckpointOutcome, StoreError> {
    Ok(diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<CheckpointOutcome>(connection)?)
}
