//! Usage counters: how much of a limit or quota is used in a period (a day, a month).

use diesel::prelude::*;

use super::cached_sql::{bind, cached_sql};
use super::schema::usage_counters;
use super::{on_backend, StoreError, Tx};
use diesel::sql_types::{BigInt, Text};

/// Adds `amount` to the scope's counter for the period if the total stays within
/// `limit`; `false` (and nothing changed) otherwise. The raise is one conditional
/// update on the counter's row, so two requests racing for the last of a limit cannot
/// both get it.
pub fn consume(tx: &mut Tx<'_>, scope: &str, period: &str, amount: i64, limit: i64) -> Result<bool, StoreError> {
    if amount > limit {
        return Ok(false);
    }
    // One statement: a new counter starts at `amount`; an existing one is raised only
    // if it stays within the limit (otherwise no row changes).
    let raise = cached_sql(
        "INSERT INTO usage_counters (scope, period, used) VALUES (?, ?, ?) \
         ON CONFLICT (scope, period) DO UPDATE SET used = usage_counters.used + excluded.used \
         WHERE usage_counters.used + excluded.used <= ?",
        (bind::<Text, _>(scope), bind::<Text, _>(period), bind::<BigInt, _>(amount), bind::<BigInt, _>(limit)),
    );
    let changed = on_backend!(tx, connection => raise.execute(connection)?);
    Ok(changed == 1)
}

/// Gives back what a reversed transaction used.
pub fn give_back(tx: &mut Tx<'_>, scope: &str, period: &str, amount: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(
            usage_counters::table.find((scope, period)).filter(usage_counters::used.ge(amount)),
        )
        .set(usage_counters::used.eq(usage_counters::used - amount))
        .execute(connection)?);
    Ok(())
}
