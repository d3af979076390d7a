//! Where this connection's database stands in PostgreSQL streaming replication: the
//! monitoring pages may read a standby, and say how far behind it is.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use super::{StoreError, Tx};

#[derive(QueryableByName)]
struct Lag {
    #[diesel(sql_type = Nullable<BigInt>)]
    milliseconds: Option<i64>,
}

/// On a standby, how many milliseconds of the primary's transactions it has not replayed yet
/// (0 when it has replayed all it received: an idle primary sends nothing newer); `None`
/// on a primary or on SQLite.
pub fn standby_lag_ms(tx: &mut Tx<'_>) -> Result<Option<i64>, StoreError> {
    const LAG_SQL: &str = "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE GREATEST(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0) END::bigint
        AS milliseconds";
    match tx {
        Tx::Sqlite(_) => Ok(None),
        Tx::Postgres(connection) => Ok(diesel::sql_query(LAG_SQL).get_result::<Lag>(*connection)?.milliseconds),
    }
}
