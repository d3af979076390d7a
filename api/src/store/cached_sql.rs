//! Fixed SQL statements that stay prepared on their connection.
//!
//! Diesel re-prepares every UPDATE, every upsert and every insert with an optional column
//! on each call, and never keeps `sql_query` text prepared: measured on the withdrawal
//! path, SQLite spent more time parsing statements than running them. A [`CachedSql`] is
//! a `&'static` statement, so diesel can key its statement cache by the text and prepare
//! it once per connection. Each `?` in the text is a bound value, in order; diesel writes
//! the placeholder each backend wants (`?`, `$1`…), so the text must hold no other `?`.
//!
//! Look-ups by a unique key use `get_result`, not `first`: `first` binds `LIMIT ?`, and
//! SQLite (this build) re-prepares a statement whose LIMIT value is bound again, on every
//! execution (measured: ~15% of the writer's time on the withdrawal path).

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::QueryResult;

/// A fixed statement and its bound values: `cached_sql(SQL, (bind::<BigInt, _>(id),))`.
#[derive(Debug, Clone, Copy)]
pub struct CachedSql<Values> {
    sql: &'static str,
    values: Values,
}

pub fn cached_sql<Values>(sql: &'static str, values: Values) -> CachedSql<Values> {
    CachedSql { sql, values }
}

/// One bound value of SQL type `SqlType`.
#[derive(Debug, Clone, Copy)]
pub struct Bind<SqlType, Value> {
    value: Value,
    sql_type: std::marker::PhantomData<SqlType>,
}

pub fn bind<SqlType, Value>(value: Value) -> Bind<SqlType, Value> {
    Bind { value, sql_type: std::marker::PhantomData }
}

/// The values of a statement, pushed one by one where the text has a `?`.
pub trait BoundValues<DB: Backend> {
    fn push<'b>(&'b self, index: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

macro_rules! bound_values_for_tuples {
    ($(($($name:ident $sql_type:ident $index:tt),+))+) => {$(
        impl<DB: Backend, $($sql_type, $name),+> BoundValues<DB> for ($(Bind<$sql_type, $name>,)+)
        where
            $(DB: HasSqlType<$sql_type>, $name: ToSql<$sql_type, DB>,)+
        {
            fn push<'b>(&'b self, index: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
                match index {
                    $($index => out.push_bind_param::<$sql_type, $name>(&self.$index.value),)+
                    _ => Err(diesel::result::Error::QueryBuilderError("more `?` than bound values".into())),
                }
            }
        }
    )+};
}

bound_values_for_tuples! {
    (A SA 0)
    (A SA 0, B SB 1)
    (A SA 0, B SB 1, C SC 2)
    (A SA 0, B SB 1, C SC 2, D SD 3)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4, F SF 5)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4, F SF 5, G SG 6)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4, F SF 5, G SG 6, H SH 7)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4, F SF 5, G SG 6, H SH 7, I SI 8)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4, F SF 5, G SG 6, H SH 7, I SI 8, J SJ 9)
    (A SA 0, B SB 1, C SC 2, D SD 3, E SE 4, F SF 5, G SG 6, H SH 7, I SI 8, J SJ 9, K SK 10)
}

impl<DB: Backend, Values: BoundValues<DB>> QueryFragment<DB> for CachedSql<Values> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Not marked unsafe to cache: the text is a constant, so the cache stays bounded.
        let mut pieces = self.sql.split('?');
        if let Some(first) = pieces.next() {
            out.push_sql(first);
        }
        for (index, piece) in pieces.enumerate() {
            self.values.push(index, &mut out)?;
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<Values> QueryId for CachedSql<Values> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Values> Query for CachedSql<Values> {
    type SqlType = Untyped;
}

impl<Conn, Values> RunQueryDsl<Conn> for CachedSql<Values> {}
