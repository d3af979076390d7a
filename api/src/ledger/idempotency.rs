//! Idempotency records: an operation key, a fingerprint of the request and the stored
//! answer, written in the same transaction as the operation itself. A retry returns the
//! first answer (approval or refusal); the same key with another request is refused.

use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{LedgerError, Refusal};
use crate::domain::idempotency::IDEMPOTENCY_TEXT_BYTES_MAX;
use crate::store::cached_sql::{bind, cached_sql};
use crate::store::schema::idempotency_records;
use crate::store::{now, on_backend, Store, StoreError, Tx};

/// An error that can be stored as the answer to a request and given again on a retry.
/// Business refusals are replayable; outages are not (nothing was decided).
pub trait Replayable: Sized {
    fn to_stored(&self) -> Option<serde_json::Value>;
    fn from_stored(value: serde_json::Value) -> Option<Self>;
}

impl Replayable for LedgerError {
    fn to_stored(&self) -> Option<serde_json::Value> {
        self.refusal().and_then(|refusal| serde_json::to_value(refusal).ok())
    }
    fn from_stored(value: serde_json::Value) -> Option<Self> {
        serde_json::from_value::<Refusal>(value).ok().map(Self::Refused)
    }
}

/// Who asked (a terminal, a user) and with which key: keys are unique per scope.
#[derive(Debug, Clone, Copy)]
pub struct IdempotentRequest<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    /// A digest of everything the request asks for ([`fingerprint`]).
    pub fingerprint: &'a str,
    /// The answer the request is expected to get, as [`presumed_done`] stores it: written
    /// with the claim, so that when the operation gives exactly that, the record needs no
    /// second write. Any other outcome overwrites it in the same transaction, and an
    /// outage rolls it back with the claim: only a final answer is ever committed.
    pub presumed: Option<&'a str>,
}

/// `response` stored as a done request's answer, for [`IdempotentRequest::presumed`].
pub fn presumed_done(response: &impl Serialize) -> Result<String, StoreError> {
    Ok(to_json(&StoredAnswer::Done { response: to_json(response)? })?.to_string())
}

/// A digest of a request's meaning, to tell a retry from another request with the same key.
pub fn fingerprint(request: &impl Serialize) -> Result<String, StoreError> {
    let canonical = serde_json::to_vec(request)
        .map_err(|error| StoreError::Corrupt(format!("fingerprinting a request: {error}")))?;
    Ok(hex::encode(Sha256::digest(canonical)))
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum StoredAnswer {
    Done { response: serde_json::Value },
    Refused { refusal: serde_json::Value },
}

/// Runs a request once for this key, in one transaction of its own.
///
/// The key is claimed first (`INSERT … ON CONFLICT DO NOTHING`): a concurrent request
/// with the same key waits for this transaction and then finds the stored answer.
/// `checks` run next and their writes stand even when they refuse (a wrong PIN is
/// counted); `operation` runs in a savepoint, so its refusal undoes its writes. Either
/// refusal is recorded and committed, and a retry gets the same answer without running
/// anything again.
pub fn run_once<T, E, C>(
    store: &Store,
    request: &IdempotentRequest<'_>,
    checks: impl FnOnce(&mut Tx<'_>) -> Result<C, E>,
    operation: impl FnOnce(&mut Tx<'_>, C) -> Result<T, E>,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: Replayable + From<LedgerError> + From<diesel::result::Error> + From<StoreError>,
{
    run_once_as(store, request, |_| Ok(()), |tx, ()| checks(tx), operation)
}

/// [`run_once`] for a caller who must still be allowed when the request arrives:
/// `caller` runs first in the same transaction, before the key is claimed or an earlier
/// answer given again, and its refusal leaves nothing behind (not even the key). What it
/// returns goes to `checks`.
pub fn run_once_as<T, E, A, C>(
    store: &Store,
    request: &IdempotentRequest<'_>,
    caller: impl FnOnce(&mut Tx<'_>) -> Result<A, E>,
    checks: impl FnOnce(&mut Tx<'_>, A) -> Result<C, E>,
    operation: impl FnOnce(&mut Tx<'_>, C) -> Result<T, E>,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: Replayable + From<LedgerError> + From<diesel::result::Error> + From<StoreError>,
{
    // The outer result commits or rolls back the transaction; the inner one is the
    // answer, which is committed either way.
    store
        .write(|tx| {
            let allowed = caller(tx)?;
            answer_once(tx, request, |tx| checks(tx, allowed), operation)
        })
        .and_then(|answer| answer)
}

fn answer_once<T, E, C>(
    tx: &mut Tx<'_>,
    request: &IdempotentRequest<'_>,
    checks: impl FnOnce(&mut Tx<'_>) -> Result<C, E>,
    operation: impl FnOnce(&mut Tx<'_>, C) -> Result<T, E>,
) -> Result<Result<T, E>, E>
where
    T: Serialize + DeserializeOwned,
    E: Replayable + From<LedgerError> + From<diesel::result::Error>,
{
    if request.scope.len() > IDEMPOTENCY_TEXT_BYTES_MAX || request.key.len() > IDEMPOTENCY_TEXT_BYTES_MAX {
        return Ok(Err(LedgerError::from(Refusal::Malformed {
            problem: format!("idempotency scope and key are at most {IDEMPOTENCY_TEXT_BYTES_MAX} bytes"),
        })
        .into()));
    }
    let claim = cached_sql(
        "INSERT INTO idempotency_records (scope, idempotency_key, request_fingerprint, response, created_at) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            bind::<Text, _>(request.scope),
            bind::<Text, _>(request.key),
            bind::<Text, _>(request.fingerprint),
            bind::<Text, _>(request.presumed.unwrap_or_default()),
            bind::<Timestamp, _>(now()),
        ),
    );
    let mut claimed = on_backend!(tx, connection => claim.execute(connection)?);
    if claimed == 0 {
        if let Some(answer) = replay(tx, request)? {
            return Ok(answer);
        }
        // The record expired and was purged between the claim and the look-up (another
        // PostgreSQL connection): the key is free again, once.
        claimed = on_backend!(tx, connection => claim.execute(connection)?);
        if claimed == 0 {
            return Err(LedgerError::from(StoreError::Unavailable(format!(
                "idempotency key {} is being purged; try again",
                request.key
            )))
            .into());
        }
    }
    let result = match checks(tx) {
        Ok(checked) => tx.savepoint(|tx| operation(tx, checked)),
        Err(refusal) => Err(refusal),
    };
    let answer = match &result {
        Ok(response) => StoredAnswer::Done { response: to_json(response).map_err(LedgerError::from)? },
        Err(error) => match error.to_stored() {
            Some(refusal) => StoredAnswer::Refused { refusal },
            // An outage decided nothing: the transaction rolls back, key and all.
            None => return result.map(Ok),
        },
    };
    let stored = to_json(&answer).map_err(LedgerError::from)?.to_string();
    if request.presumed == Some(stored.as_str()) {
        return Ok(result);
    }
    let record = cached_sql(
        "UPDATE idempotency_records SET response = ? WHERE scope = ? AND idempotency_key = ?",
        (bind::<Text, _>(&stored), bind::<Text, _>(request.scope), bind::<Text, _>(request.key)),
    );
    on_backend!(tx, connection => record.execute(connection)?);
    Ok(result)
}

/// The stored answer to the request's key, or `None` when the record is gone (purged).
fn replay<T, E>(tx: &mut Tx<'_>, request: &IdempotentRequest<'_>) -> Result<Option<Result<T, E>>, E>
where
    T: DeserializeOwned,
    E: Replayable + From<LedgerError> + From<diesel::result::Error>,
{
    let found: Option<(String, String)> = on_backend!(tx, connection => idempotency_records::table
        .find((request.scope, request.key))
        .select((idempotency_records::request_fingerprint, idempotency_records::response))
        .first(connection)
        .optional()?);
    let Some((stored_fingerprint, stored)) = found else { return Ok(None) };
    if stored_fingerprint != request.fingerprint {
        return Ok(Some(Err(LedgerError::from(Refusal::IdempotencyKeyReused { key: request.key.to_owned() }).into())));
    }
    let corrupt =
        |what: &str| LedgerError::from(StoreError::Corrupt(format!("idempotency record {}: {what}", request.key)));
    match serde_json::from_str::<StoredAnswer>(&stored).map_err(|_| corrupt("unreadable answer"))? {
        StoredAnswer::Done { response } => {
            Ok(Some(Ok(serde_json::from_value(response).map_err(|_| corrupt("answer of another shape"))?)))
        }
        StoredAnswer::Refused { refusal } => {
            Ok(Some(Err(E::from_stored(refusal).ok_or_else(|| corrupt("unknown refusal"))?)))
        }
    }
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|error| StoreError::Corrupt(format!("storing an answer: {error}")))
}

/// The most idempotency records one purge transaction deletes: bounds how long it keeps
/// the writer (SQLite) or its row locks (PostgreSQL) from card traffic.
pub const PURGE_BATCH_ROWS: usize = 1_000;

/// Deletes up to [`PURGE_BATCH_ROWS`] of the oldest records written before `cutoff`, in
/// one transaction, and says how many. Only the stored answers go: the operations they
/// answered (journals, EDC records, STAN slots) stay as they are.
pub fn purge_older_than(store: &Store, cutoff: chrono::NaiveDateTime) -> Result<usize, StoreError> {
    // The LIMIT is written out, not bound: see `cached_sql` on re-prepared LIMITs.
    const _: () = assert!(PURGE_BATCH_ROWS == 1_000, "the LIMIT below is PURGE_BATCH_ROWS");
    let purge = cached_sql(
        "DELETE FROM idempotency_records WHERE (scope, idempotency_key) IN \
         (SELECT scope, idempotency_key FROM idempotency_records WHERE created_at < ? \
          ORDER BY created_at LIMIT 1000)",
        (bind::<Timestamp, _>(cutoff),),
    );
    store.write(|tx| -> Result<usize, StoreError> { Ok(on_backend!(tx, connection => purge.execute(connection)?)) })
}
