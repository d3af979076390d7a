//! The monitoring aggregates (migration 000005; the money flows rolled up from the journal
//! by [`super::journal_rollup`], the rest kept by triggers), summed for a
//! set of regions, and the reads behind one family's page. Each aggregate has a row per
//! region level, so a region's figure is an index look-up on its own code: no query here
//! scans the journal.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamp};

use super::schema::{facilitator_villages, facilitators, families};
use super::{on_backend, StoreError, Tx};
use crate::domain::auth::{RegionCode, RegionLevel};

/// `'32','33'` for an SQL `IN (…)`. Region codes are digits and dots by construction
/// ([`RegionCode::parse`]), so they are safe to inline; no list matches nothing.
fn in_list(regions: &[RegionCode]) -> String {
    if regions.is_empty() {
        return "NULL".to_owned();
    }
    regions.iter().map(|code| format!("'{}'", code.as_str())).collect::<Vec<_>>().join(",")
}

/// Money on families' pockets in a region, all days and shards together.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FlowTotal {
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

pub fn flow_totals(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<FlowTotal>, StoreError> {
    let sql = format!(
        "SELECT region_code, pocket, journal_kind, CAST(SUM(amount_minor) AS BIGINT) AS amount_minor,
                CAST(SUM(entries) AS BIGINT) AS entries
         FROM monitoring_flow_totals WHERE region_code IN ({})
         GROUP BY region_code, pocket, journal_kind ORDER BY region_code, pocket, journal_kind",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Money on families' pockets per business day, summed over a set of regions.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DayFlow {
    #[diesel(sql_type = Date)]
    pub business_day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

pub fn daily_flows(tx: &mut Tx<'_>, regions: &[RegionCode], since: NaiveDate) -> Result<Vec<DayFlow>, StoreError> {
    // A date prints as YYYY-MM-DD: safe to inline, and compared as a date on both backends.
    let sql = format!(
        "SELECT business_day, pocket, journal_kind, CAST(SUM(amount_minor) AS BIGINT) AS amount_minor,
                CAST(SUM(entries) AS BIGINT) AS entries
         FROM monitoring_flows WHERE region_code IN ({}) AND business_day >= '{since}'
         GROUP BY business_day, pocket, journal_kind ORDER BY business_day, pocket, journal_kind",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// How many families have a non-zero net flow of a journal kind on a pocket (its shards
/// summed).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ReachTotal {
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    #[diesel(sql_type = BigInt)]
    pub families: i64,
}

pub fn reach(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<ReachTotal>, StoreError> {
    let sql = format!(
        "SELECT region_code, pocket, journal_kind, CAST(SUM(families) AS BIGINT) AS families FROM monitoring_reach
         WHERE region_code IN ({}) GROUP BY region_code, pocket, journal_kind ORDER BY region_code, pocket, journal_kind",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Money held now on families' pockets, by reason.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct HeldTotal {
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub holds: i64,
}

pub fn held(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<HeldTotal>, StoreError> {
    let sql = format!(
        "SELECT region_code, pocket, reason, amount_minor, holds FROM monitoring_holds
         WHERE region_code IN ({}) ORDER BY region_code, pocket, reason",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Figures that depend on the moment, read live by village (each from a partial index):
/// blocked pockets, and active holds whose release time has passed but that nothing has
/// ended yet (they no longer keep their money).
fn in_area(area: Option<&RegionCode>) -> String {
    // A region code is digits and dots, parsed before it gets here.
    area.map_or_else(String::new, |code| {
        format!("AND (f.village_code = '{0}' OR f.village_code LIKE '{0}.%')", code.as_str())
    })
}

/// The money on blocked pockets beyond their stored holds, by village.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct BlockedTotal {
    #[diesel(sql_type = Text)]
    pub village_code: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
}

pub fn blocked(tx: &mut Tx<'_>, area: Option<&RegionCode>) -> Result<Vec<BlockedTotal>, StoreError> {
    let sql = format!(
        "SELECT f.village_code, a.kind AS pocket, CAST(SUM(a.balance_minor - a.held_minor) AS BIGINT) AS amount_minor
         FROM accounts a JOIN families f ON a.owner_id = CAST(f.id AS TEXT)
         WHERE a.blocked_reason IS NOT NULL AND a.owner_kind = 'family' {}
         GROUP BY f.village_code, a.kind",
        in_area(area)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Active holds past their release time at a moment, by village, pocket, reason and
/// whether the pocket is blocked.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DueHoldTotal {
    #[diesel(sql_type = Text)]
    pub village_code: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub blocked: bool,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub holds: i64,
}

pub fn due_holds(
    tx: &mut Tx<'_>,
    area: Option<&RegionCode>,
    at: NaiveDateTime,
) -> Result<Vec<DueHoldTotal>, StoreError> {
    let placeholder = match tx.backend() {
        super::Backend::Sqlite => "?",
        super::Backend::Postgres => "$1",
    };
    let sql = format!(
        "SELECT f.village_code, a.kind AS pocket, h.reason, a.blocked_reason IS NOT NULL AS blocked,
                CAST(SUM(h.amount_minor) AS BIGINT) AS amount_minor, COUNT(*) AS holds
         FROM holds h JOIN accounts a ON a.id = h.account_id JOIN families f ON a.owner_id = CAST(f.id AS TEXT)
         WHERE h.status = 'active' AND h.release_at <= {placeholder} AND a.owner_kind = 'family' {}
         GROUP BY f.village_code, a.kind, h.reason, a.blocked_reason IS NOT NULL",
        in_area(area)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).bind::<Timestamp, _>(at).load(connection)?))
}

/// Families per status in each region.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct StatusCount {
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub families: i64,
}

pub fn family_statuses(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<StatusCount>, StoreError> {
    let sql = format!(
        "SELECT region_code, status, families FROM monitoring_family_statuses
         WHERE region_code IN ({}) ORDER BY region_code, status",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Families per cycle and result (verification) or outcome (closing), over a set of regions.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CycleCount {
    #[diesel(sql_type = Text)]
    pub cycle: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub families: i64,
}

/// Commitment verification results (`complied` or the failed obligation) per cycle.
pub fn verifications(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<CycleCount>, StoreError> {
    cycle_counts(tx, "monitoring_verifications", "result", regions)
}

/// What closing each cycle decided (suspended, released, terminated, unchanged).
pub fn cycle_outcomes(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<CycleCount>, StoreError> {
    cycle_counts(tx, "monitoring_cycle_outcomes", "outcome", regions)
}

// `table` and `column` are the two constants above, never input.
fn cycle_counts(
    tx: &mut Tx<'_>,
    table: &str,
    column: &str,
    regions: &[RegionCode],
) -> Result<Vec<CycleCount>, StoreError> {
    let sql = format!(
        "SELECT cycle, {column} AS key, CAST(SUM(families) AS BIGINT) AS families FROM {table}
         WHERE region_code IN ({}) GROUP BY cycle, {column} ORDER BY cycle, {column}",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Settled disbursement lines per stage, over a set of regions.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct StagePayment {
    #[diesel(sql_type = Text)]
    pub programme: String,
    #[diesel(sql_type = Integer)]
    pub year: i32,
    #[diesel(sql_type = Integer)]
    pub period: i32,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Date)]
    pub settled_day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub line_amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub families: i64,
}

pub fn stage_payments(tx: &mut Tx<'_>, regions: &[RegionCode]) -> Result<Vec<StagePayment>, StoreError> {
    let sql = format!(
        "SELECT programme, year, period, category, status, settled_day, line_amount_minor,
                CAST(SUM(families) AS BIGINT) AS families
         FROM monitoring_stage_payments WHERE region_code IN ({})
         GROUP BY programme, year, period, category, status, settled_day, line_amount_minor
         ORDER BY programme, year, period, category, status, settled_day, line_amount_minor",
        in_list(regions)
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// Money through one agent's settlement account on a business day, by journal kind.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AgentDay {
    #[diesel(sql_type = BigInt)]
    pub agent_id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub display_name: String,
    #[diesel(sql_type = Text)]
    pub village_code: String,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

/// The agents of a region (all when `None`) with activity on `day`, by agent id after
/// `after`, at most `agents_max` agents. The day, ids and the region code are typed values,
/// safe to inline.
pub fn agent_days(
    tx: &mut Tx<'_>,
    day: NaiveDate,
    region: Option<&RegionCode>,
    after: i64,
    agents_max: i64,
) -> Result<Vec<AgentDay>, StoreError> {
    let in_region = region.map_or_else(String::new, |code| {
        format!("AND (g.village_code = '{0}' OR g.village_code LIKE '{0}.%')", code.as_str())
    });
    let sql = format!(
        "SELECT d.agent_id, g.username, g.display_name, g.village_code, d.journal_kind, d.amount_minor, d.entries
         FROM monitoring_agent_days d JOIN agents g ON g.id = d.agent_id
         WHERE d.business_day = '{day}' AND d.agent_id IN (
             SELECT DISTINCT d.agent_id FROM monitoring_agent_days d JOIN agents g ON g.id = d.agent_id
             WHERE d.business_day = '{day}' AND d.agent_id > {after} {in_region}
             ORDER BY d.agent_id LIMIT {agents_max})
         ORDER BY d.agent_id, d.journal_kind"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// One family's net flows per pocket and journal kind.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FamilyFlow {
    #[diesel(sql_type = BigInt)]
    pub family_id: i64,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

pub fn family_flows(tx: &mut Tx<'_>, family_ids: &[i64]) -> Result<Vec<FamilyFlow>, StoreError> {
    if family_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = family_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT family_id, pocket, journal_kind, amount_minor, entries FROM monitoring_family_flows
         WHERE family_id IN ({ids}) ORDER BY family_id, pocket, journal_kind"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// A family as a row of the dashboard's lists.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct FamilySummary {
    pub id: i64,
    pub nik: String,
    pub recipient_name: String,
    pub village_code: String,
    pub category: String,
    pub status: String,
}

/// What to look for among families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyQuery {
    /// Every family of the region, by id.
    All,
    /// The family with this NIK.
    Nik(String),
    /// Families whose recipient's name contains this text, in any case.
    Name(String),
}

/// Families living in `region` (everywhere when `None`) that match, by id after `after`.
pub fn find_families(
    tx: &mut Tx<'_>,
    region: Option<&RegionCode>,
    query: &FamilyQuery,
    after: i64,
    limit: i64,
) -> Result<Vec<FamilySummary>, StoreError> {
    on_backend!(tx, connection => {
        let mut select = families::table
            .filter(families::id.gt(after))
            .order(families::id)
            .limit(limit)
            .select((
                families::id,
                families::nik,
                families::recipient_name,
                families::village_code,
                families::category,
                families::status,
            ))
            .into_boxed();
        // A village by equality, so its families come from the village index in id order.
        select = match region {
            Some(village) if village.level() == RegionLevel::Village => {
                select.filter(families::village_code.eq(village.as_str()))
            }
            Some(region) => select.filter(
                families::village_code.eq(region.as_str()).or(families::village_code.like(format!("{region}.%"))),
            ),
            None => select,
        };
        select = match query {
            FamilyQuery::All => select,
            FamilyQuery::Nik(nik) => select.filter(families::nik.eq(nik.clone())),
            FamilyQuery::Name(text) => {
                let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                select.filter(lower(families::recipient_name).like(format!("%{escaped}%")).escape('\\'))
            }
        };
        Ok(select.load(connection)?)
    })
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, on both backends.
    fn lower(text: Text) -> Text;
}

/// One posting on one of a family's pockets, with its journal.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FamilyPosting {
    #[diesel(sql_type = BigInt)]
    pub posting_id: i64,
    #[diesel(sql_type = Timestamp)]
    pub posted_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    pub journal_kind: String,
    /// For a reversal, the kind of the journal it reverses.
    #[diesel(sql_type = Nullable<Text>)]
    pub reversed_kind: Option<String>,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub balance_after_minor: i64,
}

/// The family's latest postings, newest first.
pub fn family_postings(tx: &mut Tx<'_>, family_id: i64, limit: i64) -> Result<Vec<FamilyPosting>, StoreError> {
    let sql = format!(
        "SELECT p.id AS posting_id, j.posted_at, j.kind AS journal_kind, o.kind AS reversed_kind, j.reference,
                a.kind AS pocket, p.amount_minor, p.balance_after_minor
         FROM accounts a JOIN postings p ON p.account_id = a.id JOIN journals j ON j.id = p.journal_id
         LEFT JOIN journals o ON o.id = j.reverses_journal_id
         WHERE a.owner_kind = 'family' AND a.owner_id = '{family_id}'
         ORDER BY p.id DESC LIMIT {limit}"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// A hold on one of a family's pockets.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FamilyHold {
    #[diesel(sql_type = BigInt)]
    pub hold_id: i64,
    #[diesel(sql_type = Text)]
    pub pocket: String,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamp)]
    pub placed_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub ended_at: Option<NaiveDateTime>,
}

/// The family's latest holds, newest first.
pub fn family_holds(tx: &mut Tx<'_>, family_id: i64, limit: i64) -> Result<Vec<FamilyHold>, StoreError> {
    let sql = format!(
        "SELECT h.id AS hold_id, a.kind AS pocket, h.reason, h.reference, h.amount_minor, h.status, h.placed_at, h.ended_at
         FROM accounts a JOIN holds h ON h.account_id = a.id
         WHERE a.owner_kind = 'family' AND a.owner_id = '{family_id}'
         ORDER BY h.id DESC LIMIT {limit}"
    );
    on_backend!(tx, connection => Ok(diesel::sql_query(&sql).load(connection)?))
}

/// A facilitator (pendamping) and the smallest region holding their villages.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Facilitator {
    pub id: i64,
    pub name: String,
    pub region_code: String,
}

#[derive(Insertable)]
#[diesel(table_name = facilitators)]
pub struct FacilitatorInsertForm<'a> {
    pub name: &'a str,
    pub region_code: &'a str,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
}

/// Adds a facilitator with the villages of their area.
pub fn insert_facilitator(
    tx: &mut Tx<'_>,
    form: &FacilitatorInsertForm<'_>,
    villages: &[RegionCode],
) -> Result<Facilitator, StoreError> {
    let facilitator: Facilitator = on_backend!(tx, connection => diesel::insert_into(facilitators::table)
        .values(form)
        .returning((facilitators::id, facilitators::name, facilitators::region_code))
        .get_result(connection)?);
    let rows: Vec<_> = villages
        .iter()
        .map(|village| {
            (
                facilitator_villages::facilitator_id.eq(facilitator.id),
                facilitator_villages::village_code.eq(village.as_str()),
            )
        })
        .collect();
    on_backend!(tx, connection => diesel::insert_into(facilitator_villages::table).values(&rows).execute(connection)?);
    Ok(facilitator)
}

/// The facilitators whose area lies in `region` (all when `None`), by id.
pub fn find_facilitators(
    tx: &mut Tx<'_>,
    region: Option<&RegionCode>,
    limit: i64,
) -> Result<Vec<Facilitator>, StoreError> {
    on_backend!(tx, connection => {
        let mut select = facilitators::table
            .order(facilitators::id)
            .limit(limit)
            .select((facilitators::id, facilitators::name, facilitators::region_code))
            .into_boxed();
        if let Some(region) = region {
            select = select.filter(
                facilitators::region_code.eq(region.as_str()).or(facilitators::region_code.like(format!("{region}.%"))),
            );
        }
        Ok(select.load(connection)?)
    })
}

pub fn find_facilitator_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<Facilitator>, StoreError> {
    on_backend!(tx, connection => Ok(facilitators::table
        .find(id)
        .select((facilitators::id, facilitators::name, facilitators::region_code))
        .get_result(connection)
        .optional()?))
}

/// The villages of each facilitator's area.
pub fn find_facilitator_villages(tx: &mut Tx<'_>, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    on_backend!(tx, connection => Ok(facilitator_villages::table
        .filter(facilitator_villages::facilitator_id.eq_any(ids))
        .order((facilitator_villages::facilitator_id, facilitator_villages::village_code))
        .select((facilitator_villages::facilitator_id, facilitator_villages::village_code))
        .load(connection)?))
}

/// The family's commitment verifications, by cycle.
pub fn family_verifications(
    tx: &mut Tx<'_>,
    family_id: i64,
) -> Result<Vec<super::conditionality::VerificationRecord>, StoreError> {
    use super::conditionality::VerificationRecord;
    use super::schema::verification_records;
    on_backend!(tx, connection => Ok(verification_records::table
        .filter(verification_records::family_id.eq(family_id))
        .order(verification_records::cycle)
        .select(VerificationRecord::as_select())
        .load(connection)?))
}
