//! The bank's books read straight from the database, for the invariant checks of the
//! concurrency and crash tests: family balances, journals by reference, EDC rows by STAN.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use kks_api::domain::ledger::{AccountKind, OwnerKind};
use kks_api::domain::usage::UsageScope;
use kks_api::ledger::accounts;
use kks_api::store::schema::{accounts as accounts_table, edc_transactions, journals, usage_counters};
use kks_api::store::{Store, StoreError, Tx};

use super::ledger::{fund, rupiah};

/// A family pocket: (family id, account kind as stored, e.g. `savings`).
pub type Pocket = (i64, String);

/// Every family account's balance and held total, by pocket.
pub fn family_pockets(store: &Store) -> BTreeMap<Pocket, (i64, i64)> {
    let rows: Vec<(String, String, i64, i64)> = store
        .read(|tx| -> Result<_, StoreError> {
            let query = accounts_table::table.filter(accounts_table::owner_kind.eq("family")).select((
                accounts_table::owner_id,
                accounts_table::kind,
                accounts_table::balance_minor,
                accounts_table::held_minor,
            ));
            Ok(match tx {
                Tx::Sqlite(connection) => query.load(*connection)?,
                Tx::Postgres(connection) => query.load(*connection)?,
            })
        })
        .expect("reading family accounts");
    rows.into_iter()
        .map(|(owner, kind, balance, held)| ((owner.parse().expect("a family id"), kind), (balance, held)))
        .collect()
}

/// Accounts other than the treasury whose balance is below their holds, or whose held
/// total is negative: must be none.
pub fn accounts_below_holds(store: &Store) -> Vec<(i64, i64, i64)> {
    store
        .read(|tx| -> Result<Vec<(i64, i64, i64)>, StoreError> {
            let query = accounts_table::table
                .filter(accounts_table::kind.ne("treasury"))
                .filter(
                    accounts_table::balance_minor.lt(accounts_table::held_minor).or(accounts_table::held_minor.lt(0)),
                )
                .select((accounts_table::id, accounts_table::balance_minor, accounts_table::held_minor));
            Ok(match tx {
                Tx::Sqlite(connection) => query.load(*connection)?,
                Tx::Postgres(connection) => query.load(*connection)?,
            })
        })
        .expect("reading accounts")
}

/// A journal as the checks need it.
#[derive(Debug, Clone)]
pub struct JournalRow {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub reverses: Option<i64>,
}

pub fn journals(store: &Store) -> Vec<JournalRow> {
    let rows: Vec<(i64, String, String, Option<i64>)> = store
        .read(|tx| -> Result<_, StoreError> {
            let query = journals::table.order(journals::id).select((
                journals::id,
                journals::kind,
                journals::reference,
                journals::reverses_journal_id,
            ));
            Ok(match tx {
                Tx::Sqlite(connection) => query.load(*connection)?,
                Tx::Postgres(connection) => query.load(*connection)?,
            })
        })
        .expect("reading journals");
    rows.into_iter().map(|(id, kind, reference, reverses)| JournalRow { id, kind, reference, reverses }).collect()
}

/// An EDC row: (terminal, STAN) → (status, journal id).
pub fn edc_rows(store: &Store) -> BTreeMap<(String, String), (String, Option<i64>)> {
    let rows: Vec<(String, String, String, Option<i64>)> = store
        .read(|tx| -> Result<_, StoreError> {
            let query = edc_transactions::table.select((
                edc_transactions::terminal_id,
                edc_transactions::stan,
                edc_transactions::status,
                edc_transactions::journal_id,
            ));
            Ok(match tx {
                Tx::Sqlite(connection) => query.load(*connection)?,
                Tx::Postgres(connection) => query.load(*connection)?,
            })
        })
        .expect("reading EDC transactions");
    rows.into_iter().map(|(terminal, stan, status, journal)| ((terminal, stan), (status, journal))).collect()
}

/// How much of a limit or quota is used in the period `business_day` counts in (0 when
/// the counter was never raised).
pub fn usage_used(store: &Store, scope: &UsageScope, business_day: NaiveDate) -> i64 {
    let (key, period) = (scope.key(), scope.period(business_day));
    let used: Option<i64> = store
        .read(|tx| -> Result<_, StoreError> {
            let query = usage_counters::table.find((key.as_str(), period.as_str())).select(usage_counters::used);
            Ok(match tx {
                Tx::Sqlite(connection) => query.first(*connection).optional()?,
                Tx::Postgres(connection) => query.first(*connection).optional()?,
            })
        })
        .expect("reading a usage counter");
    used.unwrap_or(0)
}

/// A purchase's basket as its EDC row keeps it.
pub fn edc_basket(store: &Store, reference: &str) -> Option<String> {
    store
        .read(|tx| -> Result<Option<String>, StoreError> {
            let query = edc_transactions::table
                .filter(edc_transactions::reference.eq(reference))
                .select(edc_transactions::basket);
            Ok(match tx {
                Tx::Sqlite(connection) => query.first(*connection)?,
                Tx::Postgres(connection) => query.first(*connection)?,
            })
        })
        .expect("reading an EDC basket")
}

/// Overwrites a purchase's basket in its EDC row, as a bug or a hand edit might.
pub fn overwrite_edc_basket(store: &Store, reference: &str, basket: Option<&str>) {
    let changed = store
        .write(|tx| -> Result<usize, StoreError> {
            let update = diesel::update(edc_transactions::table.filter(edc_transactions::reference.eq(reference)))
                .set(edc_transactions::basket.eq(basket));
            Ok(match tx {
                Tx::Sqlite(connection) => update.execute(*connection)?,
                Tx::Postgres(connection) => update.execute(*connection)?,
            })
        })
        .expect("overwriting an EDC basket");
    assert_eq!(changed, 1, "one row has reference {reference}");
}

/// Credits a family pocket from the treasury (an adjustment journal).
pub fn fund_family(store: &Store, family_id: i64, kind: AccountKind, rupiah_amount: i64) {
    let account = store
        .read(|tx| accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family_id.to_string(), kind))
        .expect("reading a family account")
        .expect("the family has this pocket");
    fund(store, account.id, rupiah(rupiah_amount));
}

/// `"150000"`, `"150000.5"` or `"150000.00"` rupiah → sen.
pub fn minor_from_text(text: &str) -> i64 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = format!("{fraction:0<2}");
    whole.parse::<i64>().expect("rupiah") * 100 + fraction[..2].parse::<i64>().expect("sen")
}

/// A PIN that is not `pin`: its last digit changed.
pub fn wrong_pin(pin: &str) -> String {
    let last = pin.chars().last().and_then(|digit| digit.to_digit(10)).expect("a digit");
    format!("{}{}", &pin[..pin.len() - 1], (last + 1) % 10)
}

/// One answer of the API to a card transaction: 200 with its body, or a 4xx
/// problem+json's code. Anything else (a 5xx) fails the test.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Approved(serde_json::Value),
    Refused(String),
}

pub fn answer(response: reqwest::blocking::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let body: serde_json::Value = response.json().expect("a JSON answer");
    match status {
        200 => Answer::Approved(body),
        400..=499 => {
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{body}");
            Answer::Refused(body["code"].as_str().expect("a problem code").to_owned())
        }
        other => panic!("unexpected answer {other}: {body}"),
    }
}

/// An approved card transaction as its terminal was told.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub terminal: String,
    pub stan: String,
    pub reference: String,
    /// The journal kind it must have posted; `None` for a balance inquiry.
    pub journal_kind: Option<&'static str>,
    pub family: i64,
    /// What it did to the family's pockets, in sen: (account kind, change).
    pub legs: Vec<(&'static str, i64)>,
}

impl Acknowledged {
    /// Reads the receipt of an approved request to `path`.
    pub fn from_receipt(path: &str, family: i64, receipt: &serde_json::Value) -> Self {
        let amount = receipt["amount"].as_str().map(minor_from_text).unwrap_or(0);
        let (journal_kind, legs): (Option<&'static str>, Vec<(&'static str, i64)>) = match path {
            "/v1/edc/cash-withdrawals" => (Some("cash_withdrawal"), vec![("savings", -amount)]),
            "/v1/edc/wallet-to-savings" => {
                (Some("wallet_to_savings"), vec![("wallet_pkh", -amount), ("savings", amount)])
            }
            "/v1/edc/purchases" => {
                let pocket = if receipt["items"][0]["sku"] == "LPG-3KG" { "wallet_lpg" } else { "wallet_bpnt" };
                (Some("purchase"), vec![(pocket, -amount)])
            }
            _ => (None, Vec::new()),
        };
        Self {
            terminal: receipt["terminal_id"].as_str().expect("a terminal").to_owned(),
            stan: receipt["stan"].as_str().expect("a STAN").to_owned(),
            reference: receipt["reference"].as_str().expect("a reference").to_owned(),
            journal_kind,
            family,
            legs,
        }
    }
}

/// What the terminals were told, checked against the database: every acknowledged
/// transaction is in the journal exactly once with its kind (and its reversal exactly
/// once when a reversal was acknowledged), no card journal exists that nobody was told
/// about, every refused request left nothing in its STAN's slot, and every family pocket
/// holds its opening balance plus the acknowledged effects. Returns the journal count.
pub fn assert_books_match_ledger(
    store: &Store,
    opening: &BTreeMap<Pocket, i64>,
    approved: &[Acknowledged],
    reversed: &std::collections::BTreeSet<String>,
    refused: &[(String, String, String)],
) -> usize {
    let journals = journals(store);
    let mut by_reference: BTreeMap<&str, Vec<&JournalRow>> = BTreeMap::new();
    for journal in &journals {
        by_reference.entry(journal.reference.as_str()).or_default().push(journal);
    }
    for acknowledged in approved {
        let found = by_reference.get(acknowledged.reference.as_str()).map_or(&[][..], Vec::as_slice);
        match acknowledged.journal_kind {
            Some(kind) => {
                assert_eq!(found.len(), 1, "acknowledged {acknowledged:?} has {} journals", found.len());
                assert_eq!(found[0].kind, kind, "{acknowledged:?}");
                let reversals = journals.iter().filter(|other| other.reverses == Some(found[0].id)).count();
                let expected = usize::from(reversed.contains(&acknowledged.reference));
                assert_eq!(reversals, expected, "reversals of {}", acknowledged.reference);
            }
            None => assert!(found.is_empty(), "a balance inquiry posted a journal: {acknowledged:?}"),
        }
    }
    let told: std::collections::BTreeSet<&str> = approved.iter().map(|item| item.reference.as_str()).collect();
    let untold: Vec<&str> = journals
        .iter()
        .filter(|journal| ["cash_withdrawal", "wallet_to_savings", "purchase"].contains(&journal.kind.as_str()))
        .map(|journal| journal.reference.as_str())
        .filter(|reference| !told.contains(reference))
        .collect();
    assert!(untold.is_empty(), "card journals nobody was told about: {untold:?}");
    let reversal_journals = journals.iter().filter(|journal| journal.kind == "reversal").count();
    assert_eq!(reversal_journals, reversed.len(), "one reversal journal per acknowledged reversal");

    let rows = edc_rows(store);
    for (terminal, stan, code) in refused {
        match rows.get(&(terminal.clone(), stan.clone())) {
            None => {}
            Some((status, None)) if code == "ORIGINAL_REVERSED" && status == "reversed_before_arrival" => {}
            Some(other) => panic!("refused {terminal}/{stan} ({code}) left {other:?}"),
        }
    }

    let mut expected = opening.clone();
    for acknowledged in approved.iter().filter(|item| !reversed.contains(&item.reference)) {
        for (pocket, change) in &acknowledged.legs {
            *expected.get_mut(&(acknowledged.family, (*pocket).to_owned())).expect("a known pocket") += change;
        }
    }
    let closing: BTreeMap<Pocket, i64> =
        family_pockets(store).into_iter().map(|(pocket, (balance, _))| (pocket, balance)).collect();
    assert_eq!(closing, expected, "family balances differ from what the terminals were told");
    journals.len()
}

/// Opening balances of every family pocket.
pub fn balances(store: &Store) -> BTreeMap<Pocket, i64> {
    family_pockets(store).into_iter().map(|(pocket, (balance, _))| (pocket, balance)).collect()
}
