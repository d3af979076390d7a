//! Usage counters: how much of a limit or quota is used in a period (a day, a month).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::cached_sql::{bind, cached_sql};
use super::schema::usage_counters;
use super::{on_backend, StoreError, Tx};
use crate::domain::usage::Usage;

/// Adds the usage to its counter for the period `business_day` counts in, if the total
/// stays within the scope's limit; `false` (and nothing changed) otherwise. The raise is
/// one conditional update on the counter's row, so two requests racing for the last of a
/// limit cannot both get it.
pub fn consume(tx: &mut Tx<'_>, usage: &Usage, business_day: NaiveDate) -> Result<bool, StoreError> {
    let (scope, period, limit) = (usage.scope.key(), usage.scope.period(business_day), usage.scope.limit());
    if usage.amount > limit {
        return Ok(false);
    }
    // One statement: a new counter starts at `amount`; an existing one is raised only
    // if it stays within the limit (otherwise no row changes).
    let raise = cached_sql(
        "INSERT INTO usage_counters (scope, period, used) VALUES (?, ?, ?) \
         ON CONFLICT (scope, period) DO UPDATE SET used = usage_counters.used + excluded.used \
         WHERE usage_counters.used + excluded.used <= ?",
        (
            bind::<Text, _>(scope.as_str()),
            bind::<Text, _>(period.as_str()),
            bind::<BigInt, _>(usage.amount),
            bind::<BigInt, _>(limit),
        ),
    );
    let changed = on_backend!(tx, connection => raise.execute(connection)?);
    Ok(changed == 1)
}

/// Gives back what a reversed transaction used, to the period of its business day.
pub fn give_back(tx: &mut Tx<'_>, usage: &Usage, business_day: NaiveDate) -> Result<(), StoreError> {
    let (scope, period, amount) = (usage.scope.key(), usage.scope.period(business_day), usage.amount);
    on_backend!(tx, connection => diesel::update(
            usage_counters::table.find((scope.as_str(), period.as_str())).filter(usage_counters::used.ge(amount)),
        )
        .set(usage_counters::used.eq(usage_counters::used - amount))
        .execute(connection)?);
    Ok(())
}
