//! The dashboard's money figures against the ledger. The server rolls the journal up
//! into its aggregates in the background (`service::monitoring::rollup`); here every
//! posting on a family's or an agent's account is summed again, plainly and separately
//! from the server's code, and each aggregate row must equal its sum to the sen.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use kks_api::store::{Store, StoreError, Tx};

use super::api::Session;

#[derive(QueryableByName)]
struct LedgerPosting {
    #[diesel(sql_type = Text)]
    journal_kind: String,
    #[diesel(sql_type = Text)]
    flow_kind: String,
    #[diesel(sql_type = Timestamp)]
    posted_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    owner_kind: String,
    #[diesel(sql_type = Text)]
    owner_id: String,
    #[diesel(sql_type = Text)]
    pocket: String,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
    #[diesel(sql_type = Nullable<Text>)]
    village_code: Option<String>,
}

#[derive(QueryableByName)]
struct AggregateRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    entries: i64,
}

type Sums = BTreeMap<String, (i64, i64)>;

/// Each aggregate as the server keeps it, shards summed, keyed like [`expected`].
const AGGREGATES: [(&str, &str); 6] = [
    (
        "daily flows",
        "SELECT region_code || '|' || pocket || '|' || journal_kind || '|' || CAST(business_day AS TEXT) AS key,
                CAST(SUM(amount_minor) AS BIGINT) AS amount_minor, CAST(SUM(entries) AS BIGINT) AS entries
         FROM monitoring_flows GROUP BY region_code, pocket, journal_kind, business_day",
    ),
    (
        "flow totals",
        "SELECT region_code || '|' || pocket || '|' || journal_kind AS key,
                CAST(SUM(amount_minor) AS BIGINT) AS amount_minor, CAST(SUM(entries) AS BIGINT) AS entries
         FROM monitoring_flow_totals GROUP BY region_code, pocket, journal_kind",
    ),
    (
        "family flows",
        "SELECT CAST(family_id AS TEXT) || '|' || pocket || '|' || journal_kind AS key, amount_minor, entries
         FROM monitoring_family_flows",
    ),
    (
        "agent days",
        "SELECT CAST(business_day AS TEXT) || '|' || CAST(agent_id AS TEXT) || '|' || journal_kind AS key, amount_minor, entries
         FROM monitoring_agent_days",
    ),
    (
        "reach",
        "SELECT region_code || '|' || pocket || '|' || journal_kind AS key,
                CAST(SUM(families) AS BIGINT) AS amount_minor, CAST(0 AS BIGINT) AS entries
         FROM monitoring_reach GROUP BY region_code, pocket, journal_kind",
    ),
    (
        "holds",
        "SELECT region_code || '|' || pocket || '|' || reason AS key, amount_minor, holds AS entries FROM monitoring_holds",
    ),
];

#[derive(QueryableByName)]
struct ActiveHold {
    #[diesel(sql_type = Text)]
    village_code: String,
    #[diesel(sql_type = Text)]
    pocket: String,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
}

/// Waits for the roll-up to catch up (through `session`, an operator's), then checks
/// every aggregate row against the ledger (and the held totals against the active holds),
/// each counted at the family's village now.
pub fn assert_figures_match_ledger(session: &Session, store: &Store) {
    session.figures_caught_up();
    let (postings, holds, shown) = store
        .read(|tx| -> Result<_, StoreError> {
            let owner_number = match tx {
                Tx::Sqlite(_) => "CAST(a.owner_id AS INTEGER)",
                Tx::Postgres(_) => "monitoring_owner_number(a.owner_id)",
            };
            let sql = format!(
                "SELECT j.kind AS journal_kind, COALESCE(o.kind, j.kind) AS flow_kind, j.posted_at, a.owner_kind,
                        a.owner_id, a.kind AS pocket, p.amount_minor, f.village_code
                 FROM postings p
                 JOIN accounts a ON a.id = p.account_id AND a.owner_kind IN ('family', 'agent')
                 JOIN journals j ON j.id = p.journal_id
                 LEFT JOIN journals o ON o.id = j.reverses_journal_id
                 LEFT JOIN families f ON a.owner_kind = 'family' AND f.id = {owner_number}"
            );
            let postings: Vec<LedgerPosting> = load(tx, &sql)?;
            let holds: Vec<ActiveHold> = load(
                tx,
                &format!(
                    "SELECT f.village_code, a.kind AS pocket, h.reason, h.amount_minor FROM holds h
                     JOIN accounts a ON a.id = h.account_id AND a.owner_kind = 'family'
                     JOIN families f ON f.id = {owner_number}
                     WHERE h.status = 'active'"
                ),
            )?;
            let mut shown = BTreeMap::new();
            for (name, sql) in AGGREGATES {
                let rows: Vec<AggregateRow> = load(tx, sql)?;
                let sums: Sums = rows
                    .into_iter()
                    .filter(|row| (row.amount_minor, row.entries) != (0, 0))
                    .map(|row| (row.key, (row.amount_minor, row.entries)))
                    .collect();
                shown.insert(name, sums);
            }
            Ok((postings, holds, shown))
        })
        .expect("reading the ledger and the figures");
    assert!(!postings.is_empty(), "the ledger has postings to compare");
    let expected = expected(&postings, &holds);
    for (name, _) in AGGREGATES {
        let (want, got) = (&expected[name], &shown[name]);
        for key in want.keys().chain(got.keys()) {
            assert_eq!(
                want.get(key),
                got.get(key),
                "{name} {key}: (amount, entries) by the ledger, then by the figures"
            );
        }
    }
}

fn load<Row>(tx: &mut Tx<'_>, sql: &str) -> Result<Vec<Row>, StoreError>
where
    Row: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    Ok(match tx {
        Tx::Sqlite(connection) => diesel::sql_query(sql).load(*connection)?,
        Tx::Postgres(connection) => diesel::sql_query(sql).load(*connection)?,
    })
}

/// The aggregates summed from the postings, with the rules written out again: a region
/// and each region above it (the prefixes of a village code), the business day in WIB,
/// a reversal counted under its original's kind with one entry taken back.
fn expected(postings: &[LedgerPosting], holds: &[ActiveHold]) -> BTreeMap<&'static str, Sums> {
    let mut sums: BTreeMap<&'static str, Sums> = AGGREGATES.iter().map(|(name, _)| (*name, Sums::new())).collect();
    fn add(sums: &mut BTreeMap<&'static str, Sums>, name: &'static str, key: String, amount_minor: i64, entries: i64) {
        let sum = sums.get_mut(name).unwrap().entry(key).or_default();
        sum.0 += amount_minor;
        sum.1 += entries;
    }
    let regions_of =
        |village: &str| -> Vec<String> { [2, 5, 8, 13].iter().map(|width| village[..*width].to_owned()).collect() };
    for hold in holds {
        for region in regions_of(&hold.village_code) {
            add(&mut sums, "holds", format!("{region}|{}|{}", hold.pocket, hold.reason), hold.amount_minor, 1);
        }
    }
    let mut family_regions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for posting in postings {
        let entries = if posting.journal_kind == "reversal" { -1 } else { 1 };
        let day = (posting.posted_at + Duration::hours(7)).date();
        let (pocket, kind, amount) = (&posting.pocket, &posting.flow_kind, posting.amount_minor);
        if posting.owner_kind == "agent" {
            add(&mut sums, "agent days", format!("{day}|{}|{kind}", posting.owner_id), amount, entries);
            continue;
        }
        let village = posting.village_code.as_deref().expect("a family's village");
        let regions = regions_of(village);
        for region in &regions {
            add(&mut sums, "daily flows", format!("{region}|{pocket}|{kind}|{day}"), amount, entries);
            add(&mut sums, "flow totals", format!("{region}|{pocket}|{kind}"), amount, entries);
        }
        add(&mut sums, "family flows", format!("{}|{pocket}|{kind}", posting.owner_id), amount, entries);
        family_regions.insert(posting.owner_id.clone(), regions);
    }
    let family_flows = sums["family flows"].clone();
    for (key, (amount, _)) in family_flows {
        let mut parts = key.splitn(2, '|');
        let (family, flow) = (parts.next().unwrap(), parts.next().unwrap());
        if amount != 0 {
            for region in &family_regions[family] {
                add(&mut sums, "reach", format!("{region}|{flow}"), 1, 0);
            }
        }
    }
    for table in sums.values_mut() {
        table.retain(|_, sum| *sum != (0, 0));
    }
    sums
}
