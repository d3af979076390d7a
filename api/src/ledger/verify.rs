//! Proof that the ledger is whole: every balance equals the sum of its postings, every
//! held total equals its active holds, every journal sums to zero, no account but the
//! treasury is below its holds, all balances together sum to zero, and every disbursement
//! batch's counts of paid and failed lines equal its lines.
//!
//! Each check is one aggregate query, so it runs in the database and scales with it.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

use super::accounts::KINDS_THAT_MAY_GO_NEGATIVE;
use crate::domain::ids::{AccountId, JournalId};
use crate::store::{on_backend, StoreError, Tx};

/// The most discrepancies of one kind a report lists (the count is always complete).
pub const DISCREPANCIES_LISTED_MAX: i64 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Discrepancy {
    BalanceDiffersFromPostings {
        account: AccountId,
        stored_minor: i64,
        postings_minor: i64,
    },
    HeldDiffersFromHolds {
        account: AccountId,
        stored_minor: i64,
        active_holds_minor: i64,
    },
    BelowHolds {
        account: AccountId,
        balance_minor: i64,
        held_minor: i64,
    },
    JournalDoesNotBalance {
        journal: JournalId,
        sum_minor: i64,
        legs: i64,
    },
    LedgerDoesNotSumToZero {
        sum_minor: i64,
    },
    BatchCountsDifferFromLines {
        batch: i64,
        stored: LineCounts,
        lines: LineCounts,
    },
    /// A suspended family's open PKH wallet must be blocked, and only a suspended one's.
    BlockDiffersFromStatus {
        family: i64,
        suspended: bool,
        blocked: bool,
    },
}

/// A disbursement batch's paid and failed lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineCounts {
    pub paid_lines: i64,
    pub paid_amount_minor: i64,
    pub failed_lines: i64,
}

/// What `kks verify-ledger` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerReport {
    pub accounts: i64,
    pub journals: i64,
    pub postings: i64,
    pub active_holds: i64,
    /// How many problems were found in all (the list below is capped).
    pub discrepancy_count: i64,
    pub discrepancies: Vec<Discrepancy>,
}

impl LedgerReport {
    pub fn is_clean(&self) -> bool {
        self.discrepancy_count == 0
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct AccountFigures {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    stored: i64,
    #[diesel(sql_type = BigInt)]
    computed: i64,
}

#[derive(QueryableByName)]
struct JournalFigures {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    sum_minor: i64,
    #[diesel(sql_type = BigInt)]
    legs: i64,
}

#[derive(QueryableByName)]
struct BatchFigures {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    paid_lines: i64,
    #[diesel(sql_type = BigInt)]
    paid_amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    failed_lines: i64,
    #[diesel(sql_type = BigInt)]
    lines_paid: i64,
    #[diesel(sql_type = BigInt)]
    lines_paid_minor: i64,
    #[diesel(sql_type = BigInt)]
    lines_failed: i64,
}

/// Runs every check. Call it inside [`super::Store::read`] for one consistent view.
pub fn verify(tx: &mut Tx<'_>) -> Result<LedgerReport, StoreError> {
    let count = |tx: &mut Tx<'_>, sql: &str| -> Result<i64, StoreError> {
        let row: Count = on_backend!(tx, connection => diesel::sql_query(sql).get_result(connection)?);
        Ok(row.count)
    };
    let mut report = LedgerReport {
        accounts: count(tx, "SELECT COUNT(*) AS count FROM accounts")?,
        journals: count(tx, "SELECT COUNT(*) AS count FROM journals")?,
        postings: count(tx, "SELECT COUNT(*) AS count FROM postings")?,
        active_holds: count(tx, "SELECT COUNT(*) AS count FROM holds WHERE status = 'active'")?,
        discrepancy_count: 0,
        discrepancies: Vec::new(),
    };

    // Sums are cast to BIGINT: PostgreSQL widens SUM(BIGINT) to NUMERIC.
    let balance_mismatches = "SELECT a.id AS id, a.balance_minor AS stored,
               CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS computed
        FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
        GROUP BY a.id, a.balance_minor
        HAVING a.balance_minor <> CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT)";
    collect(tx, &mut report, balance_mismatches, |row: AccountFigures| Discrepancy::BalanceDiffersFromPostings {
        account: AccountId(row.id),
        stored_minor: row.stored,
        postings_minor: row.computed,
    })?;

    let held_mismatches = "SELECT a.id AS id, a.held_minor AS stored,
               CAST(COALESCE(SUM(h.amount_minor), 0) AS BIGINT) AS computed
        FROM accounts a LEFT JOIN holds h ON h.account_id = a.id AND h.status = 'active'
        GROUP BY a.id, a.held_minor
        HAVING a.held_minor <> CAST(COALESCE(SUM(h.amount_minor), 0) AS BIGINT)";
    collect(tx, &mut report, held_mismatches, |row: AccountFigures| Discrepancy::HeldDiffersFromHolds {
        account: AccountId(row.id),
        stored_minor: row.stored,
        active_holds_minor: row.computed,
    })?;

    let may_go_negative: Vec<String> = KINDS_THAT_MAY_GO_NEGATIVE.iter().map(|kind| format!("'{kind}'")).collect();
    let below_holds = format!(
        "SELECT id, balance_minor AS stored, held_minor AS computed FROM accounts
         WHERE held_minor < 0 OR (kind NOT IN ({}) AND balance_minor < held_minor)",
        may_go_negative.join(", ")
    );
    collect(tx, &mut report, &below_holds, |row: AccountFigures| Discrepancy::BelowHolds {
        account: AccountId(row.id),
        balance_minor: row.stored,
        held_minor: row.computed,
    })?;

    // Each family's PKH wallet by the accounts' (owner_kind, owner_id, kind) key; `CROSS
    // JOIN` keeps SQLite to that order (left to itself it took every family account and
    // scanned the families for each: a million families never finished).
    let block_mismatches = "SELECT f.id AS id, CASE WHEN f.status = 'suspended' THEN 1 ELSE 0 END AS stored,
            CASE WHEN a.blocked_reason IS NULL THEN 0 ELSE 1 END AS computed
         FROM families f CROSS JOIN accounts a
         WHERE a.owner_kind = 'family' AND a.owner_id = CAST(f.id AS TEXT) AND a.kind = 'wallet_pkh'
            AND a.status = 'open' AND (f.status = 'suspended') <> (a.blocked_reason IS NOT NULL)";
    collect(tx, &mut report, block_mismatches, |row: AccountFigures| Discrepancy::BlockDiffersFromStatus {
        family: row.id,
        suspended: row.stored == 1,
        blocked: row.computed == 1,
    })?;

    let unbalanced_journals = "SELECT j.id AS id, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS sum_minor,
               COUNT(p.id) AS legs
        FROM journals j LEFT JOIN postings p ON p.journal_id = j.id
        GROUP BY j.id
        HAVING COALESCE(SUM(p.amount_minor), 0) <> 0 OR COUNT(p.id) < 2";
    collect(tx, &mut report, unbalanced_journals, |row: JournalFigures| Discrepancy::JournalDoesNotBalance {
        journal: JournalId(row.id),
        sum_minor: row.sum_minor,
        legs: row.legs,
    })?;

    let batch_mismatches = "SELECT b.id AS id, b.paid_lines AS paid_lines, b.paid_amount_minor AS paid_amount_minor,
               b.failed_lines AS failed_lines, COALESCE(l.paid, 0) AS lines_paid,
               COALESCE(l.paid_minor, 0) AS lines_paid_minor, COALESCE(l.failed, 0) AS lines_failed
        FROM disbursement_batches b LEFT JOIN (
            SELECT batch_id,
                   CAST(SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) AS BIGINT) AS paid,
                   CAST(SUM(CASE WHEN status = 'paid' THEN amount_minor ELSE 0 END) AS BIGINT) AS paid_minor,
                   CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed
            FROM disbursement_lines GROUP BY batch_id) l ON l.batch_id = b.id
        WHERE b.paid_lines <> COALESCE(l.paid, 0) OR b.paid_amount_minor <> COALESCE(l.paid_minor, 0)
           OR b.failed_lines <> COALESCE(l.failed, 0)";
    collect(tx, &mut report, batch_mismatches, |row: BatchFigures| Discrepancy::BatchCountsDifferFromLines {
        batch: row.id,
        stored: LineCounts {
            paid_lines: row.paid_lines,
            paid_amount_minor: row.paid_amount_minor,
            failed_lines: row.failed_lines,
        },
        lines: LineCounts {
            paid_lines: row.lines_paid,
            paid_amount_minor: row.lines_paid_minor,
            failed_lines: row.lines_failed,
        },
    })?;

    let total = count(tx, "SELECT CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT) AS count FROM accounts")?;
    if total != 0 {
        report.discrepancy_count += 1;
        report.discrepancies.push(Discrepancy::LedgerDoesNotSumToZero { sum_minor: total });
    }
    Ok(report)
}

/// Adds the rows of one check to the report: all of them counted, the first few listed.
fn collect<Row>(
    tx: &mut Tx<'_>,
    report: &mut LedgerReport,
    sql: &str,
    describe: impl Fn(Row) -> Discrepancy,
) -> Result<(), StoreError>
where
    Row: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    let counted = format!("SELECT COUNT(*) AS count FROM ({sql}) AS found");
    let found: Count = on_backend!(tx, connection => diesel::sql_query(&counted).get_result(connection)?);
    if found.count == 0 {
        return Ok(());
    }
    report.discrepancy_count += found.count;
    let listed = format!("{sql} ORDER BY 1 LIMIT {DISCREPANCIES_LISTED_MAX}");
    let rows: Vec<Row> = on_backend!(tx, connection => diesel::sql_query(&listed).load(connection)?);
    report.discrepancies.extend(rows.into_iter().map(describe));
    Ok(())
}

/// After each posting in debug builds: the touched accounts still equal their postings
/// and holds. Returns an error rather than panicking, so a request never aborts.
#[cfg(debug_assertions)]
pub(crate) fn assert_accounts_consistent(
    tx: &mut Tx<'_>,
    accounts: impl Iterator<Item = AccountId>,
) -> Result<(), StoreError> {
    use crate::store::schema::{accounts as accounts_table, holds, postings};
    for account in accounts {
        let (balance, held): (i64, i64) = on_backend!(tx, connection => accounts_table::table
            .find(account.0)
            .select((accounts_table::balance_minor, accounts_table::held_minor))
            .first(connection)?);
        let amounts: Vec<i64> = on_backend!(tx, connection => postings::table
            .filter(postings::account_id.eq(account.0))
            .select(postings::amount_minor)
            .load(connection)?);
        let holds: Vec<i64> = on_backend!(tx, connection => holds::table
            .filter(holds::account_id.eq(account.0))
            .filter(holds::status.eq("active"))
            .select(holds::amount_minor)
            .load(connection)?);
        let (postings_minor, holds_minor): (i64, i64) = (amounts.iter().sum(), holds.iter().sum());
        if balance != postings_minor || held != holds_minor {
            return Err(StoreError::Corrupt(format!(
                "account {account}: balance {balance} vs postings {postings_minor}, held {held} vs holds {holds_minor}"
            )));
        }
    }
    Ok(())
}
