//! Usage counters: how much of a limit or quota is used in a period (a day, a month).

use std::sync::LazyLock;

use chrono::NaiveDate;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};

use super::cached_sql::{cached_sql, BoundValues};
use super::schema::usage_counters;
use super::{on_backend, StoreError, Tx};
use crate::domain::usage::Usage;

/// The most counters one transaction takes from: a basket's lines (the cash counters of a
/// withdrawal are two).
pub const USAGES_PER_TRANSACTION_MAX: usize = crate::domain::edc::BASKET_LINES_MAX;

/// Adds each usage to its counter for the period `business_day` counts in, all in one
/// statement, each only if its total stays within the scope's limit. Returns the index of
/// the first usage, in the order given, that would pass its limit (`None`: every counter
/// was raised); the others are raised all the same, so on a refusal the caller undoes
/// them with its savepoint. Each raise is a conditional update of the counter's row, so
/// two requests racing for the last of a limit cannot both get it; the rows are written
/// in the order given, which is the order every transaction locks them in.
pub fn consume(tx: &mut Tx<'_>, usages: &[Usage], business_day: NaiveDate) -> Result<Option<usize>, StoreError> {
    // A usage larger than its whole limit is refused without being sent: a new counter
    // starts at the amount unchecked.
    let raises: Vec<CounterRaise> = usages
        .iter()
        .filter(|usage| usage.amount <= usage.scope.limit())
        .map(|usage| CounterRaise {
            scope: usage.scope.key(),
            period: usage.scope.period(business_day),
            amount: usage.amount,
            limit: usage.scope.limit(),
        })
        .collect();
    let raised: Vec<String> = if raises.is_empty() {
        Vec::new()
    } else {
        // One statement may not upsert a row twice (PostgreSQL refuses it).
        let distinct: std::collections::HashSet<&str> = raises.iter().map(|raise| raise.scope.as_str()).collect();
        if distinct.len() != raises.len() {
            return Err(StoreError::Corrupt("a transaction takes from one usage counter twice".to_owned()));
        }
        let sql: &'static str = RAISE_SQL.get(raises.len() - 1).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} usage counters in one transaction, at most {USAGES_PER_TRANSACTION_MAX}",
                raises.len()
            ))
        })?;
        let raise = cached_sql(sql, CounterRaises(raises));
        let rows: Vec<RaisedScope> = on_backend!(tx, connection => raise.load(connection)?);
        rows.into_iter().map(|row| row.scope).collect()
    };
    Ok(usages.iter().position(|usage| !raised.contains(&usage.scope.key())))
}

/// One counter's raise, as bound into [`RAISE_SQL`].
struct CounterRaise {
    scope: String,
    period: String,
    amount: i64,
    limit: i64,
}

/// The raises of one statement: each row's `(scope, period, amount)`, then each row's
/// `(scope, limit)` for the limit's `CASE`.
struct CounterRaises(Vec<CounterRaise>);

impl<DB> BoundValues<DB> for CounterRaises
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn push<'b>(&'b self, index: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let rows = self.0.len();
        let row = |at: usize| {
            self.0.get(at).ok_or_else(|| diesel::result::Error::QueryBuilderError("more `?` than bound values".into()))
        };
        if index < rows * 3 {
            let raise = row(index / 3)?;
            match index % 3 {
                0 => out.push_bind_param::<Text, String>(&raise.scope),
                1 => out.push_bind_param::<Text, String>(&raise.period),
                _ => out.push_bind_param::<BigInt, i64>(&raise.amount),
            }
        } else {
            let raise = row((index - rows * 3) / 2)?;
            match (index - rows * 3) % 2 {
                0 => out.push_bind_param::<Text, String>(&raise.scope),
                _ => out.push_bind_param::<BigInt, i64>(&raise.limit),
            }
        }
    }
}

/// The raise of 1 to [`USAGES_PER_TRANSACTION_MAX`] counters: a new counter starts at its
/// amount; an existing one is raised only if it stays within its scope's limit (otherwise
/// its row does not change, and is not returned).
static RAISE_SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
    (1..=USAGES_PER_TRANSACTION_MAX)
        .map(|rows| {
            format!(
                "INSERT INTO usage_counters (scope, period, used) VALUES {} \
                 ON CONFLICT (scope, period) DO UPDATE SET used = usage_counters.used + excluded.used \
                 WHERE usage_counters.used + excluded.used <= CASE excluded.scope {} END \
                 RETURNING scope",
                vec!["(?, ?, ?)"; rows].join(", "),
                vec!["WHEN ? THEN ?"; rows].join(" ")
            )
        })
        .collect()
});

#[derive(QueryableByName)]
struct RaisedScope {
    #[diesel(sql_type = Text)]
    scope: String,
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
