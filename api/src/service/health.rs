//! Whether this process can serve requests.

use crate::store::{Store, StoreError};

/// Ready when the database answers a query.
pub fn readiness(store: &Store) -> Result<(), StoreError> {
    store.ping()
}
