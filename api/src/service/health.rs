//! Whether this process can serve requests.

use crate::service::ServiceError;
use crate::store::Store;

/// Ready when the database answers a query.
pub fn readiness(store: &Store) -> Result<(), ServiceError> {
    Ok(store.ping()?)
}
