//! The posting primitive: the one place where balances change by moving money.
//!
//! A journal is a set of legs that sum to zero. Each leg is applied with one conditional
//! update that refuses to take an account below its available balance, so two debits
//! racing for the same money cannot both succeed, whatever the interleaving.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use serde::{Deserialize, Serialize};

use super::accounts::{self, Account, KINDS_THAT_MAY_GO_NEGATIVE};
use super::error::{LedgerError, Refusal};
use super::holds;
use crate::domain::holds::{movement_decision, MovementRefusal};
use crate::domain::ids::{AccountId, JournalId};
use crate::domain::ledger::{AccountStatus, HoldReason, JournalKind};
use crate::domain::money::Amount;
use crate::store::cached_sql::{bind, cached_sql};
use crate::store::schema::{journals, postings};
use crate::store::{now, on_backend, StoreError, Tx};

/// The most legs one journal posted by [`post`] may have ([`fan_out`] has its own bound).
pub const JOURNAL_LEGS_MAX: usize = 16;

/// The longest reference or memo a journal stores, in bytes.
pub const JOURNAL_TEXT_BYTES_MAX: usize = 256;

/// One side of a movement: positive credits the account, negative debits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    pub account: AccountId,
    pub amount_minor: i64,
}

impl Leg {
    pub fn debit(account: AccountId, amount: Amount) -> Self {
        Self { account, amount_minor: -amount.minor() }
    }

    pub fn credit(account: AccountId, amount: Amount) -> Self {
        Self { account, amount_minor: amount.minor() }
    }
}

/// A journal to post.
#[derive(Debug, Clone)]
pub struct JournalDraft<'a> {
    pub kind: JournalKind,
    /// The business reference (batch line, terminal and STAN…), for finding it again.
    pub reference: &'a str,
    pub memo: &'a str,
    pub legs: Vec<Leg>,
}

/// A posted journal with each account's balance and held amount after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedJournal {
    pub id: JournalId,
    pub kind: JournalKind,
    pub posted_at: NaiveDateTime,
    pub postings: Vec<Posting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: AccountId,
    pub amount_minor: i64,
    pub balance_after_minor: i64,
}

impl PostedJournal {
    /// The balance an account had after this journal, if it took part.
    pub fn balance_after(&self, account: AccountId) -> Option<i64> {
        self.postings.iter().find(|posting| posting.account == account).map(|posting| posting.balance_after_minor)
    }
}

#[derive(QueryableByName)]
struct InsertedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(Insertable)]
#[diesel(table_name = journals)]
struct JournalInsertForm<'a> {
    kind: &'a str,
    reference: &'a str,
    memo: &'a str,
    reverses_journal_id: Option<i64>,
    posted_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = postings)]
struct PostingInsertForm {
    journal_id: i64,
    account_id: i64,
    amount_minor: i64,
    balance_after_minor: i64,
}

/// Moves `amount` from one account to another in one journal.
pub fn transfer(
    tx: &mut Tx<'_>,
    kind: JournalKind,
    reference: &str,
    from: AccountId,
    to: AccountId,
    amount: Amount,
) -> Result<PostedJournal, LedgerError> {
    post(tx, &JournalDraft { kind, reference, memo: "", legs: vec![Leg::debit(from, amount), Leg::credit(to, amount)] })
}

/// Posts a balanced journal atomically (within the caller's transaction): every leg is
/// applied or the whole journal is refused, and nothing is written on refusal.
pub fn post(tx: &mut Tx<'_>, draft: &JournalDraft<'_>) -> Result<PostedJournal, LedgerError> {
    insert_journal(tx, draft, None)
}

/// Posts the exact opposite of an earlier journal. A journal is reversed at most once.
pub fn reverse(
    tx: &mut Tx<'_>,
    original: JournalId,
    reference: &str,
    memo: &str,
) -> Result<PostedJournal, LedgerError> {
    let already: Option<i64> = on_backend!(tx, connection => journals::table
        .filter(journals::reverses_journal_id.eq(original.0))
        .select(journals::id)
        .first(connection)
        .optional()?);
    if already.is_some() {
        return Err(Refusal::AlreadyReversed { journal: original }.into());
    }
    let original_legs: Vec<(i64, i64)> = on_backend!(tx, connection => postings::table
        .filter(postings::journal_id.eq(original.0))
        .select((postings::account_id, postings::amount_minor))
        .load(connection)?);
    if original_legs.is_empty() {
        return Err(Refusal::JournalNotFound { journal: original }.into());
    }
    let legs = original_legs
        .into_iter()
        .map(|(account, amount_minor)| Leg { account: AccountId(account), amount_minor: -amount_minor })
        .collect();
    insert_journal(tx, &JournalDraft { kind: JournalKind::Reversal, reference, memo, legs }, Some(original))
}

fn insert_journal(
    tx: &mut Tx<'_>,
    draft: &JournalDraft<'_>,
    reverses: Option<JournalId>,
) -> Result<PostedJournal, LedgerError> {
    let mut legs = validate(draft)?;
    // Every transaction touches accounts in ascending id order, so two journals that
    // share accounts wait for each other instead of deadlocking.
    legs.sort_by_key(|leg| leg.account);

    let mut applied = Vec::with_capacity(legs.len());
    for leg in &legs {
        let after = apply_leg(tx, leg, draft.kind)?;
        applied.push(Posting {
            account: leg.account,
            amount_minor: leg.amount_minor,
            balance_after_minor: after.balance_minor,
        });
    }

    let posted_at = now();
    // The journal's and the postings' INSERTs, named once for every statement below
    // (`concat!` takes only literals).
    macro_rules! insert_journal {
        () => {
            "INSERT INTO journals (kind, reference, memo, reverses_journal_id, posted_at) VALUES (?, ?, ?, ?, ?) \
             RETURNING id"
        };
    }
    macro_rules! insert_postings {
        () => {
            "INSERT INTO postings (journal_id, account_id, amount_minor, balance_after_minor) "
        };
    }
    let journal = (
        bind::<Text, _>(draft.kind.as_ref()),
        bind::<Text, _>(draft.reference),
        bind::<Text, _>(draft.memo),
        bind::<Nullable<BigInt>, _>(reverses.map(|id| id.0)),
        bind::<Timestamp, _>(posted_at),
    );
    // On PostgreSQL a transfer's journal and its two postings are one statement (a
    // data-modifying CTE): a round trip fewer for every card transaction. SQLite runs no
    // INSERT inside a WITH.
    if let (Tx::Postgres(connection), [first, second]) = (&mut *tx, applied.as_slice()) {
        let (kind, reference, memo, reversed, at) = journal;
        let leg = |posting: &Posting| {
            (
                bind::<BigInt, _>(posting.account.0),
                bind::<BigInt, _>(posting.amount_minor),
                bind::<BigInt, _>(posting.balance_after_minor),
            )
        };
        let ((a, b, c), (d, e, f)) = (leg(first), leg(second));
        let insert = cached_sql(
            concat!(
                "WITH journal AS (",
                insert_journal!(),
                ") ",
                insert_postings!(),
                "SELECT journal.id, leg.account_id, leg.amount_minor, leg.balance_after_minor FROM journal, \
                 (VALUES (CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)), (?, ?, ?)) \
                 AS leg (account_id, amount_minor, balance_after_minor) \
                 RETURNING journal_id AS id"
            ),
            (kind, reference, memo, reversed, at, a, b, c, d, e, f),
        );
        let written: Vec<InsertedId> = insert.load(*connection)?;
        let journal_id = written.first().map(|row| row.id).ok_or_else(|| {
            StoreError::Corrupt(format!("journal {}: its postings were not written", draft.reference))
        })?;
        return posted(tx, JournalId(journal_id), draft.kind, posted_at, applied);
    }
    let insert = cached_sql(insert_journal!(), journal);
    let journal_id = on_backend!(tx, connection => insert.get_result::<InsertedId>(connection)?).id;
    // Two postings a statement: a transfer, the common journal, is one.
    for pair in applied.chunks(2) {
        let values = |posting: &Posting| {
            (
                bind::<BigInt, _>(journal_id),
                bind::<BigInt, _>(posting.account.0),
                bind::<BigInt, _>(posting.amount_minor),
                bind::<BigInt, _>(posting.balance_after_minor),
            )
        };
        match pair {
            [first, second] => {
                let (a, b, c, d) = values(first);
                let (e, f, g, h) = values(second);
                let insert = cached_sql(
                    concat!(insert_postings!(), "VALUES (?, ?, ?, ?), (?, ?, ?, ?)"),
                    (a, b, c, d, e, f, g, h),
                );
                on_backend!(tx, connection => insert.execute(connection)?);
            }
            [only] => {
                let insert = cached_sql(concat!(insert_postings!(), "VALUES (?, ?, ?, ?)"), values(only));
                on_backend!(tx, connection => insert.execute(connection)?);
            }
            // `chunks(2)` yields one or two.
            [] | [_, _, _, ..] => {}
        }
    }

    posted(tx, JournalId(journal_id), draft.kind, posted_at, applied)
}

/// The journal as posted; a debug build checks each account it touched against its
/// postings and holds.
fn posted(
    tx: &mut Tx<'_>,
    id: JournalId,
    kind: JournalKind,
    posted_at: NaiveDateTime,
    postings: Vec<Posting>,
) -> Result<PostedJournal, LedgerError> {
    let posted = PostedJournal { id, kind, posted_at, postings };
    #[cfg(debug_assertions)]
    super::verify::assert_accounts_consistent(tx, posted.postings.iter().map(|posting| posting.account))?;
    #[cfg(not(debug_assertions))]
    let _ = tx;
    Ok(posted)
}

/// The most credits one [`fan_out`] posts (its postings stay within both backends'
/// limits on bound parameters per statement).
pub const FAN_OUT_CREDITS_MAX: usize = 2_000;

/// One credit of a [`fan_out`].
#[derive(Debug, Clone, Copy)]
pub struct FanOutCredit {
    pub account: AccountId,
    pub amount: Amount,
}

#[derive(QueryableByName)]
struct Credited {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    balance_minor: i64,
}

/// Posts one journal from one account to many (a disbursement chunk: the programme fund
/// to each family's e-wallet) in a fixed handful of statements however many there are:
/// one UPDATE credits every account, one conditional UPDATE debits the sum, one INSERT
/// writes the postings. A credit to an account that is not open is left out; the answer
/// says, per credit, whether it was paid. The debit is refused as a whole if the account
/// cannot pay. Nothing is written when no credit can be paid.
pub fn fan_out(
    tx: &mut Tx<'_>,
    kind: JournalKind,
    reference: &str,
    from: AccountId,
    credits: &[FanOutCredit],
) -> Result<Option<(JournalId, Vec<bool>)>, LedgerError> {
    validate_fan_out(reference, from, credits)?;
    // Credits first: the accounts still open say which legs the journal has.
    let values: Vec<String> =
        credits.iter().map(|credit| format!("({}, {})", credit.account.0, credit.amount.minor())).collect();
    let sql = format!(
        "WITH credit (id, amount) AS (VALUES {}) \
         UPDATE accounts SET balance_minor = accounts.balance_minor + credit.amount FROM credit \
         WHERE accounts.id = credit.id AND accounts.status = '{}' \
         RETURNING accounts.id, accounts.balance_minor",
        values.join(", "),
        AccountStatus::Open.as_ref()
    );
    let credited: Vec<Credited> = on_backend!(tx, connection => diesel::sql_query(&sql).load(connection)?);
    let balance_after: std::collections::HashMap<i64, i64> =
        credited.into_iter().map(|row| (row.id, row.balance_minor)).collect();
    let paid: Vec<bool> = credits.iter().map(|credit| balance_after.contains_key(&credit.account.0)).collect();
    let total_minor: i64 =
        credits.iter().filter(|credit| balance_after.contains_key(&credit.account.0)).map(|c| c.amount.minor()).sum();
    if total_minor == 0 {
        return Ok(None);
    }
    let from_after = apply_leg(tx, &Leg { account: from, amount_minor: -total_minor }, kind)?.balance_minor;

    let journal =
        JournalInsertForm { kind: kind.as_ref(), reference, memo: "", reverses_journal_id: None, posted_at: now() };
    let journal_id: i64 = on_backend!(tx, connection => diesel::insert_into(journals::table)
        .values(&journal)
        .returning(journals::id)
        .get_result(connection)?);
    let debit = PostingInsertForm {
        journal_id,
        account_id: from.0,
        amount_minor: -total_minor,
        balance_after_minor: from_after,
    };
    let rows: Vec<PostingInsertForm> = std::iter::once(debit)
        .chain(credits.iter().filter_map(|credit| {
            balance_after.get(&credit.account.0).map(|balance| PostingInsertForm {
                journal_id,
                account_id: credit.account.0,
                amount_minor: credit.amount.minor(),
                balance_after_minor: *balance,
            })
        }))
        .collect();
    on_backend!(tx, connection => diesel::insert_into(postings::table).values(&rows).execute(connection)?);
    #[cfg(debug_assertions)]
    super::verify::assert_accounts_consistent(tx, std::iter::once(from).chain(credits.iter().map(|c| c.account)))?;
    Ok(Some((JournalId(journal_id), paid)))
}

fn validate_fan_out(reference: &str, from: AccountId, credits: &[FanOutCredit]) -> Result<(), Refusal> {
    let invalid = |problem: String| Refusal::Malformed { problem };
    if credits.is_empty() || credits.len() > FAN_OUT_CREDITS_MAX {
        return Err(invalid(format!("a fan-out has 1 to {FAN_OUT_CREDITS_MAX} credits")));
    }
    if reference.len() > JOURNAL_TEXT_BYTES_MAX {
        return Err(invalid(format!("reference and memo are at most {JOURNAL_TEXT_BYTES_MAX} bytes")));
    }
    let mut accounts = std::collections::HashSet::with_capacity(credits.len());
    for credit in credits {
        if credit.account == from || !accounts.insert(credit.account) {
            return Err(invalid("an account appears in one journal once".to_owned()));
        }
        if credit.amount.minor() <= 0 {
            return Err(invalid("a credit moves a positive amount".to_owned()));
        }
    }
    Ok(())
}

/// Refuses a journal that does not balance or is malformed, before anything is written.
fn validate(draft: &JournalDraft<'_>) -> Result<Vec<Leg>, Refusal> {
    let invalid = |problem: &str| Refusal::Malformed { problem: problem.to_owned() };
    if draft.legs.len() < 2 || draft.legs.len() > JOURNAL_LEGS_MAX {
        return Err(invalid(&format!("a journal has 2 to {JOURNAL_LEGS_MAX} legs")));
    }
    if draft.reference.len() > JOURNAL_TEXT_BYTES_MAX || draft.memo.len() > JOURNAL_TEXT_BYTES_MAX {
        return Err(invalid(&format!("reference and memo are at most {JOURNAL_TEXT_BYTES_MAX} bytes")));
    }
    if draft.legs.iter().any(|leg| leg.amount_minor == 0) {
        return Err(invalid("a leg moves a non-zero amount"));
    }
    let mut accounts: Vec<AccountId> = draft.legs.iter().map(|leg| leg.account).collect();
    accounts.sort();
    accounts.dedup();
    if accounts.len() != draft.legs.len() {
        return Err(invalid("an account appears in one journal once"));
    }
    let sum = draft.legs.iter().try_fold(0_i64, |sum, leg| sum.checked_add(leg.amount_minor));
    if sum != Some(0) {
        return Err(invalid("the legs of a journal sum to zero"));
    }
    Ok(draft.legs.clone())
}

/// Applies one leg of a journal of `kind` with a conditional update and returns the
/// account's balance after it. Only if the update is refused does it look
/// further, at the account locked (PostgreSQL `FOR UPDATE`; SQLite has one writer), so
/// that the answer comes from the state that refuses, never from a later read: holds whose
/// release time has passed are ended, and the movement rule decides again. A credit
/// committed since the update may let the leg through after all; then it is posted.
fn apply_leg(tx: &mut Tx<'_>, leg: &Leg, kind: JournalKind) -> Result<AccountAfter, LedgerError> {
    if let Some(balance_after) = conditional_update(tx, leg, kind)? {
        return Ok(balance_after);
    }
    let mut account = accounts::lock(tx, leg.account)?;
    if leg.amount_minor < 0 && holds::release_due_on(tx, leg.account, now())? > 0 {
        account = accounts::lock(tx, leg.account)?;
    }
    match movement_decision(&account.state(), leg.amount_minor, kind) {
        Ok(()) => conditional_update(tx, leg, kind)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "account {}: a movement the rule allows was refused under its lock",
                account.id
            ))
            .into()
        }),
        Err(refusal) => Err(refused(tx, &account, -leg.amount_minor, refusal)?.into()),
    }
}

/// The conditional update of one leg, the movement rule ([`movement_decision`]) in SQL:
/// applied only if the account is open and, unless its kind may go below zero, keeps it
/// at or above its holds and, for a debit by a journal that does not pass a block, is not
/// blocked. One statement for journals that pass a block, one for the rest.
fn conditional_update_sql(passes_debit_block: bool) -> String {
    let kinds: Vec<String> = KINDS_THAT_MAY_GO_NEGATIVE.iter().map(|kind| format!("'{kind}'")).collect();
    let not_blocked = if passes_debit_block { "TRUE" } else { "(? >= 0 OR blocked_reason IS NULL)" };
    format!(
        "UPDATE accounts SET balance_minor = balance_minor + ? \
         WHERE id = ? AND status = '{}' AND (kind IN ({}) OR (balance_minor - held_minor + ? >= 0 AND {not_blocked})) \
         RETURNING balance_minor",
        AccountStatus::Open.as_ref(),
        kinds.join(", ")
    )
}

static CONDITIONAL_UPDATE_SQL: LazyLock<String> = LazyLock::new(|| conditional_update_sql(false));
static CONDITIONAL_UPDATE_PASSING_BLOCK_SQL: LazyLock<String> = LazyLock::new(|| conditional_update_sql(true));

#[derive(QueryableByName)]
struct AccountAfter {
    #[diesel(sql_type = BigInt)]
    balance_minor: i64,
}

fn conditional_update(tx: &mut Tx<'_>, leg: &Leg, kind: JournalKind) -> Result<Option<AccountAfter>, LedgerError> {
    let (amount, account) = (bind::<BigInt, _>(leg.amount_minor), bind::<BigInt, _>(leg.account.0));
    Ok(if kind.passes_debit_block() {
        let sql: &'static str = &CONDITIONAL_UPDATE_PASSING_BLOCK_SQL;
        let update = cached_sql(sql, (amount, account, bind::<BigInt, _>(leg.amount_minor)));
        on_backend!(tx, connection => update.get_result(connection).optional()?)
    } else {
        let sql: &'static str = &CONDITIONAL_UPDATE_SQL;
        let update = cached_sql(
            sql,
            (amount, account, bind::<BigInt, _>(leg.amount_minor), bind::<BigInt, _>(leg.amount_minor)),
        );
        on_backend!(tx, connection => update.get_result(connection).optional()?)
    })
}

/// The ledger's refusal for what the movement rule said of the locked account.
fn refused(
    tx: &mut Tx<'_>,
    account: &Account,
    requested_minor: i64,
    refusal: MovementRefusal,
) -> Result<Refusal, LedgerError> {
    let available_minor = account.balance_minor - account.held_minor;
    Ok(match refusal {
        MovementRefusal::Closed => Refusal::AccountClosed { account: account.id },
        MovementRefusal::Blocked => {
            let block = account.block.as_ref();
            Refusal::DebitBlocked {
                account: account.id,
                reason: block.map_or(HoldReason::CommitmentSuspension, |block| block.reason),
                reference: block.map(|block| block.reference.clone()).unwrap_or_default(),
            }
        }
        MovementRefusal::Insufficient => {
            Refusal::InsufficientFunds { account: account.id, available_minor, requested_minor }
        }
        MovementRefusal::Held => Refusal::FundsHeld {
            account: account.id,
            available_minor,
            requested_minor,
            reasons: holds::active_reasons(tx, account.id)?,
        },
    })
}
