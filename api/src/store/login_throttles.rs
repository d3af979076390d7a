//! Failed family-app logins per card number and per client address
//! ([`crate::domain::login_throttle`]), shared by every server on the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::cached_sql::{bind, cached_sql};
use super::schema::login_throttles;
use super::{on_backend, StoreError, Tx};

/// What taking an attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt is taken and counted as a failure until it is shown right; this is
    /// the failure count it makes.
    Taken { failures: i32 },
    /// No attempt before this moment.
    Blocked { until: NaiveDateTime },
}

/// Takes an attempt on `subject` unless it is blocked at `now`, counting it as a failure
/// in advance: one conditional statement on the subject's row, so parallel attempts are
/// counted one by one and none slips past a block. Failures older than `forget_before`
/// start again from one.
pub fn take_attempt(
    tx: &mut Tx<'_>,
    subject: &str,
    now: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> Result<Attempt, StoreError> {
    let take = cached_sql(
        "INSERT INTO login_throttles (subject, failures, last_failure_at, blocked_until) VALUES (?, 1, ?, ?) \
         ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN login_throttles.last_failure_at < ? THEN 1 ELSE login_throttles.failures + 1 END, \
         last_failure_at = excluded.last_failure_at \
         WHERE login_throttles.blocked_until <= excluded.last_failure_at",
        (
            bind::<Text, _>(subject),
            bind::<Timestamp, _>(now),
            bind::<Timestamp, _>(now),
            bind::<Timestamp, _>(forget_before),
        ),
    );
    let taken = on_backend!(tx, connection => take.execute(connection)?) == 1;
    let (failures, blocked_until): (i32, NaiveDateTime) = on_backend!(tx, connection => login_throttles::table
        .find(subject)
        .select((login_throttles::failures, login_throttles::blocked_until))
        .first(connection)?);
    Ok(if taken { Attempt::Taken { failures } } else { Attempt::Blocked { until: blocked_until } })
}

/// Blocks the subject's next attempt until `until`.
pub fn block_until(tx: &mut Tx<'_>, subject: &str, until: NaiveDateTime) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(login_throttles::table.find(subject))
        .set(login_throttles::blocked_until.eq(until))
        .execute(connection)?);
    Ok(())
}

/// Takes back the failure an attempt counted in advance, once it proved right.
pub fn forgive_one(tx: &mut Tx<'_>, subject: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(login_throttles::table.find(subject).filter(login_throttles::failures.gt(0)))
        .set(login_throttles::failures.eq(login_throttles::failures - 1))
        .execute(connection)?);
    Ok(())
}

/// Forgets the subject's failures (a card whose right PIN was typed).
pub fn forget(tx: &mut Tx<'_>, subject: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::delete(login_throttles::table.find(subject)).execute(connection)?);
    Ok(())
}

/// Removes the rows whose last failure is older than `before`, so that guessed card
/// numbers do not pile up.
pub fn sweep(tx: &mut Tx<'_>, before: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(
        on_backend!(tx, connection => diesel::delete(login_throttles::table.filter(login_throttles::last_failure_at.lt(before)))
        .execute(connection)?),
    )
}
