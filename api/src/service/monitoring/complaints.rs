//! The complaints indicator (seed: complaints "handled per region with a deadline, and
//! counted by the monitoring indicators") and P2K2 attendance by module.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::{area, RegionRef};
use crate::domain::auth::RegionCode;
use crate::domain::complaint::Category;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::complaints as complaint_store;
use crate::store::p2k2 as p2k2_store;
use crate::store::{now, Store, Tx};

/// Complaints of one group: all received, answered (resolved, closed or rejected), still
/// open, and open past their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ComplaintTally {
    pub received: i64,
    pub handled: i64,
    pub open: i64,
    pub overdue: i64,
}

impl ComplaintTally {
    /// The measures in the order of the CSV columns.
    pub fn measures(&self) -> [(&'static str, i64); 4] {
        [("received", self.received), ("handled", self.handled), ("open", self.open), ("overdue", self.overdue)]
    }
}

/// The complaints of one region (as filed: usually a village) and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ComplaintLine {
    /// Absent: not known yet (an SMS no operator has placed).
    pub region: Option<String>,
    pub category: Category,
    #[serde(flatten)]
    pub tally: ComplaintTally,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ComplaintFigures {
    /// The region asked about; absent for the whole country.
    pub region: Option<RegionRef>,
    /// Overdue as of this moment.
    pub as_of: NaiveDateTime,
    pub by_category: BTreeMap<String, ComplaintTally>,
    pub lines: Vec<ComplaintLine>,
}

/// P2K2 sessions and attendances of one module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ModuleAttendance {
    pub sessions: i64,
    /// Families present, summed over the sessions.
    pub attendances: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct P2k2Attendance {
    pub region: Option<RegionRef>,
    /// By module (`health`, `education`…).
    pub by_module: BTreeMap<String, ModuleAttendance>,
}

/// The complaints of `region` (the operator's scope when `None`) by category and region.
pub fn complaints(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
) -> Result<ComplaintFigures, ServiceError> {
    store.read(|tx| {
        let area = area(tx, principal, region)?;
        let as_of = now();
        let (by_category, lines) = complaint_tallies(tx, area.code(), as_of)?;
        Ok(ComplaintFigures { region: area.reference(), as_of, by_category, lines })
    })
}

/// P2K2 attendance by module in `region` (the operator's scope when `None`).
pub fn p2k2_attendance(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
) -> Result<P2k2Attendance, ServiceError> {
    store.read(|tx| {
        let area = area(tx, principal, region)?;
        Ok(P2k2Attendance { region: area.reference(), by_module: attendance_by_module(tx, area.code())? })
    })
}

/// Complaints by category, and by region and category, at `as_of`.
pub(super) fn complaint_tallies(
    tx: &mut Tx<'_>,
    region: Option<&RegionCode>,
    as_of: NaiveDateTime,
) -> Result<(BTreeMap<String, ComplaintTally>, Vec<ComplaintLine>), ServiceError> {
    let region = region.map(RegionCode::as_str);
    let mut lines: BTreeMap<(Option<String>, String), ComplaintLine> = BTreeMap::new();
    fn line(
        lines: &mut BTreeMap<(Option<String>, String), ComplaintLine>,
        region: Option<String>,
        category: Category,
    ) -> &mut ComplaintTally {
        &mut lines
            .entry((region.clone(), category.to_string()))
            .or_insert_with(|| ComplaintLine { region, category, tally: ComplaintTally::default() })
            .tally
    }
    for count in complaint_store::count_by_status(tx, region)? {
        let tally = line(&mut lines, count.region_code, count.category);
        tally.received += count.complaints;
        match count.status {
            Some(status) if status.is_open() => tally.open += count.complaints,
            _ => tally.handled += count.complaints,
        }
    }
    for count in complaint_store::count_overdue(tx, region, as_of)? {
        line(&mut lines, count.region_code, count.category).overdue += count.complaints;
    }
    let mut by_category: BTreeMap<String, ComplaintTally> = BTreeMap::new();
    for complaint_line in lines.values() {
        let total = by_category.entry(complaint_line.category.to_string()).or_default();
        total.received += complaint_line.tally.received;
        total.handled += complaint_line.tally.handled;
        total.open += complaint_line.tally.open;
        total.overdue += complaint_line.tally.overdue;
    }
    Ok((by_category, lines.into_values().collect()))
}

/// P2K2 sessions and attendances by module.
pub(super) fn attendance_by_module(
    tx: &mut Tx<'_>,
    region: Option<&RegionCode>,
) -> Result<BTreeMap<String, ModuleAttendance>, ServiceError> {
    Ok(p2k2_store::count_by_module(tx, region.map(RegionCode::as_str))?
        .into_iter()
        .map(|count| {
            (count.module.to_string(), ModuleAttendance { sessions: count.sessions, attendances: count.attendances })
        })
        .collect())
}
