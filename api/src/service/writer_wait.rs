//! SQLite has one writer: beside a busy `kks serve` on the same file, a command's write
//! may find the database locked for longer than the busy timeout. Rather than fail with
//! "database is locked", it tries again, saying so once, for a bounded time. Used by
//! `kks admin create` and by every chunk of an import.

use std::time::{Duration, Instant};

use super::ServiceError;
use crate::store::StoreError;

/// How long a write waits for another process that holds the SQLite write lock.
pub const WRITER_WAIT_MAX: Duration = Duration::from_secs(120);
/// The pause between tries (each try itself waits the busy timeout).
const WRITER_RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Runs `write` until it is not refused for a busy database, or [`WRITER_WAIT_MAX`] has
/// passed; `on_first_wait` hears why the first time it must wait.
pub fn when_the_writer_is_free<T>(
    mut write: impl FnMut() -> Result<T, ServiceError>,
    mut on_first_wait: impl FnMut(&str),
) -> Result<T, ServiceError> {
    let started = Instant::now();
    let mut said_waiting = false;
    loop {
        match write() {
            Err(ServiceError::Store(StoreError::Unavailable(reason))) if started.elapsed() < WRITER_WAIT_MAX => {
                if !said_waiting {
                    on_first_wait(&reason);
                    said_waiting = true;
                }
                std::thread::sleep(WRITER_RETRY_PAUSE);
            }
            result => return result,
        }
    }
}
