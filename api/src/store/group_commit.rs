//! Group commit for the embedded SQLite database.
//!
//! A durable SQLite commit waits for the disk (`synchronous=FULL`), about a millisecond or
//! more, and only one transaction writes at a time, so one commit per request caps the
//! whole server at one disk flush per request. Here concurrent requests share a
//! transaction instead: each runs its work in its own savepoint (its own atomicity: a
//! failed request's writes are undone, the others' stay), and the last request in line
//! commits them all with one flush. Nobody is answered before that commit: a request
//! whose batch fails to commit gets an error, as if its own transaction had failed.
//!
//! There is no waiting for company: a request alone commits at once. Batches form by
//! themselves from the requests that queued while the previous commit was on disk.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::{checkout, StoreError, Tx};

/// The most requests one commit makes durable: bounds how long the first of them waits.
pub const BATCH_REQUESTS_MAX: usize = 256;

type Writer = PooledConnection<ConnectionManager<SqliteConnection>>;

/// How a batch ended: committed, or why not.
type BatchOutcome = Arc<OnceLock<Result<(), String>>>;

/// The one writer connection of a SQLite store, shared by group commit.
pub struct GroupCommit {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    open: Mutex<OpenBatch>,
    committed: Condvar,
    /// Requests waiting for the writer: while there are any, the last to run commits.
    queued: AtomicUsize,
    /// Off: every request commits on its own.
    grouping: bool,
}

/// The transaction being filled, if any.
struct OpenBatch {
    writer: Option<Writer>,
    requests: usize,
    outcome: BatchOutcome,
}

impl GroupCommit {
    /// `pool` holds the single writer connection.
    pub fn new(pool: Pool<ConnectionManager<SqliteConnection>>, grouping: bool) -> Self {
        Self {
            pool,
            open: Mutex::new(OpenBatch { writer: None, requests: 0, outcome: BatchOutcome::default() }),
            committed: Condvar::new(),
            queued: AtomicUsize::new(0),
            grouping,
        }
    }

    /// The writer connection outside any batch (for migrations at start-up).
    pub fn connection(&self) -> Result<Writer, StoreError> {
        checkout(&self.pool)
    }

    /// Runs `operation` in its own savepoint of the shared transaction and returns once
    /// the transaction holding its writes has committed. `Err` from `operation` undoes its
    /// writes only, and is returned at once.
    pub fn write<T, E>(&self, operation: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<StoreError>,
    {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut open = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);

        let writer = match open.writer.take() {
            Some(writer) => writer,
            None => begin(&self.pool)?,
        };
        let writer = open.writer.insert(writer);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            writer.transaction(|savepoint| operation(&mut Tx::Sqlite(savepoint)))
        }));
        let result = match result {
            Ok(result) => result,
            Err(panic) => {
                // Whatever the request left half-done goes with its batch, and the other
                // requests in it are told, before the panic goes on.
                self.finish(&mut open, Err("a request failed half-way".to_owned()));
                drop(open);
                std::panic::resume_unwind(panic);
            }
        };
        if open.writer.as_mut().is_some_and(|writer| !transaction_intact(writer)) {
            // The savepoint could not be undone cleanly (an I/O error, a full disk): the
            // whole transaction goes, and every request in it is told so.
            self.finish(&mut open, Err("the shared transaction failed".to_owned()));
            return Err(StoreError::Unavailable("the database failed during the transaction".to_owned()).into());
        }
        let value = match result {
            Ok(value) => value,
            Err(error) => {
                self.commit_if_last(&mut open);
                return Err(error);
            }
        };
        open.requests += 1;
        let outcome = Arc::clone(&open.outcome);
        self.commit_if_last(&mut open);
        while outcome.get().is_none() {
            open = self.committed.wait(open).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        drop(open);
        match outcome.get() {
            Some(Ok(())) => Ok(value),
            Some(Err(reason)) => Err(StoreError::Unavailable(format!("commit failed: {reason}")).into()),
            None => Err(StoreError::Unavailable("commit outcome lost".to_owned()).into()),
        }
    }

    /// Runs `task` on the writer connection outside any transaction (a WAL checkpoint):
    /// the open batch, whose requests have all done their work and only wait for its
    /// commit, is committed first, and new requests wait until `task` returns.
    pub fn between_transactions<T>(
        &self,
        task: impl FnOnce(&mut SqliteConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut open = self.lock();
        self.finish(&mut open, Ok(()));
        let mut writer = checkout(&self.pool)?;
        let result = task(&mut writer);
        drop(writer);
        drop(open);
        result
    }

    /// The batch. A request that panics ends its batch before letting go of the lock
    /// (see [`Self::write`]), so the state behind a poisoned lock is sound.
    fn lock(&self) -> MutexGuard<'_, OpenBatch> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn commit_if_last(&self, open: &mut OpenBatch) {
        if !self.grouping || self.queued.load(Ordering::SeqCst) == 0 || open.requests >= BATCH_REQUESTS_MAX {
            self.finish(open, Ok(()));
        }
    }

    /// Ends the open transaction: commits it when `outcome` is `Ok`, rolls it back
    /// otherwise (or when the commit fails), and wakes its requests.
    fn finish(&self, open: &mut OpenBatch, outcome: Result<(), String>) {
        let Some(mut writer) = open.writer.take() else { return };
        let outcome = match outcome {
            Ok(()) => AnsiTransactionManager::commit_transaction(&mut *writer).map_err(|error| error.to_string()),
            Err(reason) => {
                // A rollback that fails leaves the connection broken; the pool drops it.
                let _ = AnsiTransactionManager::rollback_transaction(&mut *writer);
                Err(reason)
            }
        };
        let _ = open.outcome.set(outcome);
        open.outcome = BatchOutcome::default();
        open.requests = 0;
        self.committed.notify_all();
    }
}

/// Checks out the writer and opens a transaction that takes the write lock at once.
fn begin(pool: &Pool<ConnectionManager<SqliteConnection>>) -> Result<Writer, StoreError> {
    let mut writer = checkout(pool)?;
    AnsiTransactionManager::begin_transaction_sql(&mut *writer, "BEGIN IMMEDIATE")?;
    Ok(writer)
}

/// Whether the shared transaction is still open and sound after a request's savepoint.
fn transaction_intact(writer: &mut Writer) -> bool {
    let status = AnsiTransactionManager::transaction_manager_status_mut(&mut **writer);
    matches!(status.transaction_depth(), Ok(Some(depth)) if depth.get() == 1)
}
