//! The overview of a region (or the country) and its drill-down: headline figures, a
//! daily series per pocket for the chart, and the same figures for each region one level
//! down.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{area, children, journal_reach, JournalReach, RegionFigures, RegionRef, Tally};
use crate::domain::auth::RegionCode;
use crate::domain::edc::business_date;
use crate::domain::ledger::{AccountKind, JournalKind};
use crate::domain::money::rupiah_from_minor;
use crate::domain::monitoring::Flow;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::monitoring as store;
use crate::store::{now, parse_stored, regions, replication, Store, StoreError, Tx};

/// Days of history the chart shows unless asked otherwise.
pub const SERIES_DAYS_DEFAULT: u32 = 90;
/// The longest history one request may ask for.
pub const SERIES_DAYS_MAX: u32 = 366;

/// One day of one flow on one pocket, summed over the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeriesPoint {
    #[schema(value_type = String, example = "2026-11-23")]
    pub day: NaiveDate,
    pub pocket: AccountKind,
    pub flow: Flow,
    /// Outflows positive, like the headline figures.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub entries: i64,
}

/// A region one level down, with its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChildFigures {
    pub region: RegionRef,
    pub figures: RegionFigures,
}

/// The overview of a region: where it is, its figures, the chart's series and its
/// sub-regions' figures (none below a village: see the family list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Overview {
    /// Absent: the whole country.
    pub region: Option<RegionRef>,
    /// The regions above it that the operator may open, from the province down.
    pub path: Vec<RegionRef>,
    pub figures: RegionFigures,
    pub series: Vec<SeriesPoint>,
    pub children: Vec<ChildFigures>,
    pub journal: JournalReach,
    /// When the figures were read (UTC).
    #[schema(value_type = String)]
    pub as_of: NaiveDateTime,
    /// Present when the figures come from a read-only standby (`--reports-database`):
    /// how many milliseconds of the primary's transactions it had not replayed yet.
    pub standby_lag_ms: Option<i64>,
}

/// The overview of `region` (the operator's whole scope when `None`) with `days` of daily
/// series.
pub fn overview(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
    days: u32,
) -> Result<Overview, ServiceError> {
    if days == 0 || days > SERIES_DAYS_MAX {
        return Err(ServiceError::Invalid(format!("days: 1 to {SERIES_DAYS_MAX}")));
    }
    let as_of = now();
    let since = business_date(as_of) - Duration::days(i64::from(days) - 1);
    store.read(|tx| {
        let area = area(tx, principal, region)?;
        let below = children(tx, &area)?;
        // Figures are read per child (each child's rows are its own); the region's are
        // their sum. A village (or a region with nothing below) is read itself.
        let read_codes: Vec<RegionCode> = if below.is_empty() {
            area.code().cloned().into_iter().collect()
        } else {
            below.iter().map(|(code, _)| code.clone()).collect()
        };
        let tallies = tallies(tx, &read_codes, area.code(), as_of)?;
        let mut total = Tally::default();
        for tally in tallies.values() {
            total.merge(tally);
        }
        let children = below
            .into_iter()
            .map(|(code, region)| ChildFigures {
                region: RegionRef::from(region),
                figures: tallies.get(code.as_str()).cloned().unwrap_or_default().figures(),
            })
            .collect();
        Ok(Overview {
            path: path(tx, principal, area.code())?,
            region: area.reference(),
            figures: total.figures(),
            series: series(tx, &read_codes, since)?,
            children,
            journal: journal_reach(tx)?,
            as_of,
            standby_lag_ms: replication::standby_lag_ms(tx)?,
        })
    })
}

/// Each region's tally of flows, families reached, holds, blocks and statuses, at `at`.
/// `codes` are disjoint regions within `area`.
fn tallies(
    tx: &mut Tx<'_>,
    codes: &[RegionCode],
    area: Option<&RegionCode>,
    at: NaiveDateTime,
) -> Result<BTreeMap<String, Tally>, ServiceError> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for row in store::flow_totals(tx, codes)? {
        tallies.entry(row.region_code).or_default().add_flow(
            &row.pocket,
            &row.journal_kind,
            row.amount_minor,
            row.entries,
        )?;
    }
    for row in store::reach(tx, codes)? {
        tallies.entry(row.region_code).or_default().add_reach(&row.pocket, &row.journal_kind, row.families)?;
    }
    for row in store::held(tx, codes)? {
        tallies.entry(row.region_code).or_default().add_held(&row.pocket, &row.reason, row.amount_minor, row.holds)?;
    }
    for row in store::family_statuses(tx, codes)? {
        tallies.entry(row.region_code).or_default().add_status(&row.status, row.families)?;
    }
    // Read live by village, each village counted in the one region that contains it.
    let region_of = |village: &str| -> Result<Option<String>, ServiceError> {
        let village = RegionCode::parse(village).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        Ok(codes.iter().find(|code| code.contains(&village)).map(|code| code.as_str().to_owned()))
    };
    for row in store::blocked(tx, area)? {
        if let Some(code) = region_of(&row.village_code)? {
            tallies.entry(code).or_default().add_blocked(&row.pocket, row.amount_minor)?;
        }
    }
    for row in store::due_holds(tx, area, at)? {
        if let Some(code) = region_of(&row.village_code)? {
            tallies.entry(code).or_default().add_due_hold(&row)?;
        }
    }
    Ok(tallies)
}

fn series(tx: &mut Tx<'_>, codes: &[RegionCode], since: NaiveDate) -> Result<Vec<SeriesPoint>, ServiceError> {
    let mut points: BTreeMap<(NaiveDate, &'static str, &'static str), SeriesPoint> = BTreeMap::new();
    for row in store::daily_flows(tx, codes, since)? {
        let pocket: AccountKind = parse_stored("monitoring pocket", &row.pocket)?;
        let flow = Flow::of(pocket, parse_stored::<JournalKind>("monitoring journal_kind", &row.journal_kind)?);
        let point = points.entry((row.business_day, pocket.into(), flow.into())).or_insert(SeriesPoint {
            day: row.business_day,
            pocket,
            flow,
            amount: Decimal::ZERO,
            entries: 0,
        });
        point.amount += rupiah_from_minor(flow.shown_minor(row.amount_minor));
        point.entries += row.entries;
    }
    Ok(points.into_values().collect())
}

/// The regions above `code` that the operator's scope covers, from the top down.
pub(super) fn path(
    tx: &mut Tx<'_>,
    principal: &Principal,
    code: Option<&RegionCode>,
) -> Result<Vec<RegionRef>, ServiceError> {
    let mut ancestors = Vec::new();
    let mut next = code.and_then(RegionCode::parent);
    while let Some(ancestor) = next {
        if super::access::operator(principal)?.0.covers(&ancestor) {
            let region = regions::find_by_code(tx, &ancestor)?
                .ok_or_else(|| StoreError::Corrupt(format!("region {ancestor} has no row")))?;
            ancestors.push(RegionRef::from(region));
        }
        next = ancestor.parent();
    }
    ancestors.reverse();
    Ok(ancestors)
}
