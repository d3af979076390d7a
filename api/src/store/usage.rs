//! Usage counters: how much of a limit or quota is used in a period (a day, a month).

use diesel::prelude::*;

use super::schema::usage_counters;
use super::{on_backend, StoreError, Tx};

/// Adds `amount` to the scope's counter for the period if the total stays within
/// `limit`; `false` (and nothing changed) otherwise. The raise is one conditional
/// update on the counter's row, so two requests racing for the last of a limit cannot
/// both get it.
pub fn consume(tx: &mut Tx<'_>, scope: &str, period: &str, amount: i64, limit: i64) -> Result<bool, StoreError> {
    if amount > limit {
        return Ok(false);
    }
    let changed = on_backend!(tx, connection => {
        diesel::insert_into(usage_counters::table)
            .values((usage_counters::scope.eq(scope), usage_counters::period.eq(period), usage_counters::used.eq(0)))
            .on_conflict_do_nothing()
            .execute(connection)?;
        diesel::update(
            usage_counters::table
                .find((scope, period))
                .filter((usage_counters::used + amount).le(limit)),
        )
        .set(usage_counters::used.eq(usage_counters::used + amount))
        .execute(connection)?
    });
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
