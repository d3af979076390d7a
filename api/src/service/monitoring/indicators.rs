//! The second seed's monitoring indicators for a region: families paid on time and in
//! the right amount per stage, the share of families who moved PKH money from e-wallet
//! to savings (per sub-region and per facilitator area), commitment verification
//! results, suspensions, releases, terminations and graduations.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::complaints::{attendance_by_module, complaint_tallies, ComplaintTally, ModuleAttendance};
use super::{area, children, journal_reach, parse_region, JournalReach, RegionRef, StatusFigures, Tally};
use crate::domain::auth::{RegionCode, RegionLevel};
use crate::domain::benefit::{amount_for, Programme};
use crate::domain::conditionality::CycleOutcome;
use crate::domain::ledger::{AccountKind, JournalKind};
use crate::domain::money::rupiah_from_minor;
use crate::domain::monitoring::{on_time, percent, period_due_date, smallest_common_region};
use crate::service::access;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::disbursements::{find_schedules_by_year, ScheduleRow};
use crate::store::family_exits;
use crate::store::monitoring::{self as store, FacilitatorInsertForm};
use crate::store::{audit, now, parse_stored, regions, Store, Tx};

/// The most facilitator areas the indicators list.
pub const FACILITATORS_MAX: i64 = 500;
/// The most villages in one facilitator's area.
pub const FACILITATOR_VILLAGES_MAX: usize = 100;
/// The longest facilitator name, in characters.
pub const FACILITATOR_NAME_CHARS_MAX: usize = 200;

/// One stage (or month) of a programme: how many families were paid, on time and in the
/// right amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StageIndicator {
    pub programme: Programme,
    pub year: i32,
    /// PKH stage (1–4) or month (1–12).
    pub period: i32,
    /// The last day the money was due on the cards.
    #[schema(value_type = Option<String>)]
    pub due_on: Option<NaiveDate>,
    pub families_paid: i64,
    pub families_failed: i64,
    /// Paid by the due day.
    pub paid_on_time: i64,
    /// Paid the schedule's amount for the family's benefit category.
    pub paid_right_amount: i64,
    #[schema(value_type = String)]
    pub amount_paid: Decimal,
    #[schema(value_type = Option<String>)]
    pub on_time_percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub right_amount_percent: Option<Decimal>,
}

/// Families who moved PKH money from the e-wallet to savings, of those credited PKH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SavingsTransfer {
    pub families_credited: i64,
    pub families_moved: i64,
    /// `families_moved / families_credited` in percent, as on the seed's form.
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
}

impl SavingsTransfer {
    fn of(tally: &HashMap<&'static str, i64>) -> Self {
        let families_credited = tally.get(JournalKind::Disbursement.as_ref()).copied().unwrap_or(0);
        let families_moved = tally.get(JournalKind::WalletToSavings.as_ref()).copied().unwrap_or(0);
        Self { families_credited, families_moved, percent: percent(families_moved, families_credited) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegionSavingsTransfer {
    pub region: RegionRef,
    #[serde(flatten)]
    pub transfer: SavingsTransfer,
}

/// A facilitator (pendamping) and the villages of the families they accompany.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FacilitatorArea {
    pub id: i64,
    pub name: String,
    /// The smallest region holding all its villages.
    #[schema(value_type = String)]
    pub region: String,
    #[schema(value_type = Vec<String>)]
    pub villages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FacilitatorSavingsTransfer {
    pub facilitator: FacilitatorArea,
    #[serde(flatten)]
    pub transfer: SavingsTransfer,
}

/// Commitment verification of one cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerificationIndicator {
    pub cycle: String,
    pub complied: i64,
    pub failed: i64,
    /// Failed families by the obligation missed.
    pub failed_by_obligation: BTreeMap<String, i64>,
}

/// What closing one cycle decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct OutcomeIndicator {
    pub cycle: String,
    pub suspended: i64,
    pub released: i64,
    pub terminated: i64,
    pub unchanged: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Indicators {
    /// Absent: the whole country.
    pub region: Option<RegionRef>,
    pub stages: Vec<StageIndicator>,
    pub savings_transfer: SavingsTransfer,
    pub savings_transfer_by_region: Vec<RegionSavingsTransfer>,
    pub savings_transfer_by_facilitator: Vec<FacilitatorSavingsTransfer>,
    pub verifications: Vec<VerificationIndicator>,
    pub cycle_outcomes: Vec<OutcomeIndicator>,
    /// Graduations and terminations are the families in those statuses now.
    pub families: StatusFigures,
    /// Families that left PKH, by the seed form's reason.
    pub exits_by_reason: BTreeMap<String, i64>,
    /// Complaints received, handled, open and overdue, by category.
    pub complaints_by_category: BTreeMap<String, ComplaintTally>,
    /// P2K2 sessions and attendances, by module.
    pub p2k2_by_module: BTreeMap<String, ModuleAttendance>,
    pub journal: JournalReach,
}

/// The indicators of `region` (the operator's scope when `None`).
pub fn indicators(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
) -> Result<Indicators, ServiceError> {
    store.read(|tx| {
        let area = area(tx, principal, region)?;
        let below = children(tx, &area)?;
        let read_codes: Vec<RegionCode> = if below.is_empty() {
            area.code().cloned().into_iter().collect()
        } else {
            below.iter().map(|(code, _)| code.clone()).collect()
        };
        let pkh_reach = pkh_reach(tx, &read_codes)?;
        let mut total: HashMap<&'static str, i64> = HashMap::new();
        for counts in pkh_reach.values() {
            for (kind, families) in counts {
                *total.entry(kind).or_default() += families;
            }
        }
        let savings_transfer_by_region = below
            .into_iter()
            .map(|(code, region)| RegionSavingsTransfer {
                region: RegionRef::from(region),
                transfer: pkh_reach.get(code.as_str()).map(SavingsTransfer::of).unwrap_or_default(),
            })
            .collect();
        let mut statuses = Tally::default();
        for row in store::family_statuses(tx, &read_codes)? {
            statuses.add_status(&row.status, row.families)?;
        }
        Ok(Indicators {
            region: area.reference(),
            stages: stages(tx, &read_codes)?,
            savings_transfer: SavingsTransfer::of(&total),
            savings_transfer_by_region,
            savings_transfer_by_facilitator: facilitators(tx, area.code())?,
            verifications: verifications(tx, &read_codes)?,
            cycle_outcomes: outcomes(tx, &read_codes)?,
            families: statuses.figures().families,
            exits_by_reason: family_exits::count_by_reason(tx, area.code().map(RegionCode::as_str))?
                .into_iter()
                .map(|(reason, families)| (reason.to_string(), families))
                .collect(),
            complaints_by_category: complaint_tallies(tx, area.code(), now())?.0,
            p2k2_by_module: attendance_by_module(tx, area.code())?,
            journal: journal_reach(tx)?,
        })
    })
}

/// Per region: families credited PKH and families who moved PKH money to savings.
fn pkh_reach(
    tx: &mut Tx<'_>,
    codes: &[RegionCode],
) -> Result<BTreeMap<String, HashMap<&'static str, i64>>, ServiceError> {
    let mut reach: BTreeMap<String, HashMap<&'static str, i64>> = BTreeMap::new();
    for row in store::reach(tx, codes)? {
        if row.pocket != AccountKind::WalletPkh.as_ref() {
            continue;
        }
        let kind: JournalKind = parse_stored("monitoring journal_kind", &row.journal_kind)?;
        *reach.entry(row.region_code).or_default().entry(kind.into()).or_default() += row.families;
    }
    Ok(reach)
}

fn stages(tx: &mut Tx<'_>, codes: &[RegionCode]) -> Result<Vec<StageIndicator>, ServiceError> {
    let mut schedules: HashMap<i32, Vec<ScheduleRow>> = HashMap::new();
    let mut stages: BTreeMap<(String, i32, i32), StageIndicator> = BTreeMap::new();
    let mut amounts: BTreeMap<(String, i32, i32), i64> = BTreeMap::new();
    for row in store::stage_payments(tx, codes)? {
        let programme: Programme = parse_stored("monitoring programme", &row.programme)?;
        let schedule = match schedules.entry(row.year) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(missing) => missing.insert(find_schedules_by_year(tx, row.year)?),
        };
        let schedule: Vec<ScheduleRow> = schedule
            .iter()
            .filter(|schedule| schedule.programme == row.programme && schedule.period == row.period)
            .cloned()
            .collect();
        let due_on = period_due_date(programme, row.year, row.period);
        let key = (row.programme.clone(), row.year, row.period);
        let stage = stages.entry(key.clone()).or_insert_with(|| StageIndicator {
            programme,
            year: row.year,
            period: row.period,
            due_on,
            families_paid: 0,
            families_failed: 0,
            paid_on_time: 0,
            paid_right_amount: 0,
            amount_paid: Decimal::ZERO,
            on_time_percent: None,
            right_amount_percent: None,
        });
        if row.status != "paid" {
            stage.families_failed += row.families;
            continue;
        }
        stage.families_paid += row.families;
        if due_on.is_some_and(|due| on_time(row.settled_day, due)) {
            stage.paid_on_time += row.families;
        }
        let rates = schedule.iter().map(ScheduleRow::rate).collect::<Result<Vec<_>, _>>()?;
        let category = parse_stored("monitoring category", &row.category)?;
        if amount_for(&rates, category) == Some(row.line_amount_minor) {
            stage.paid_right_amount += row.families;
        }
        *amounts.entry(key).or_default() += row.line_amount_minor.saturating_mul(row.families);
    }
    Ok(stages
        .into_iter()
        .map(|(key, mut stage)| {
            stage.amount_paid = rupiah_from_minor(amounts.get(&key).copied().unwrap_or(0));
            stage.on_time_percent = percent(stage.paid_on_time, stage.families_paid);
            stage.right_amount_percent = percent(stage.paid_right_amount, stage.families_paid);
            stage
        })
        .collect())
}

fn verifications(tx: &mut Tx<'_>, codes: &[RegionCode]) -> Result<Vec<VerificationIndicator>, ServiceError> {
    let mut cycles: BTreeMap<String, VerificationIndicator> = BTreeMap::new();
    for row in store::verifications(tx, codes)? {
        let cycle = cycles
            .entry(row.cycle.clone())
            .or_insert_with(|| VerificationIndicator { cycle: row.cycle.clone(), ..VerificationIndicator::default() });
        if row.key == "complied" {
            cycle.complied += row.families;
        } else {
            cycle.failed += row.families;
            *cycle.failed_by_obligation.entry(row.key).or_default() += row.families;
        }
    }
    Ok(cycles.into_values().collect())
}

fn outcomes(tx: &mut Tx<'_>, codes: &[RegionCode]) -> Result<Vec<OutcomeIndicator>, ServiceError> {
    let mut cycles: BTreeMap<String, OutcomeIndicator> = BTreeMap::new();
    for row in store::cycle_outcomes(tx, codes)? {
        let cycle = cycles
            .entry(row.cycle.clone())
            .or_insert_with(|| OutcomeIndicator { cycle: row.cycle.clone(), ..OutcomeIndicator::default() });
        let count = match parse_stored::<CycleOutcome>("monitoring outcome", &row.key)? {
            CycleOutcome::Suspended => &mut cycle.suspended,
            CycleOutcome::Released => &mut cycle.released,
            CycleOutcome::Terminated => &mut cycle.terminated,
            CycleOutcome::Unchanged => &mut cycle.unchanged,
        };
        *count += row.families;
    }
    Ok(cycles.into_values().collect())
}

/// The savings transfer of each facilitator area in the region.
fn facilitators(tx: &mut Tx<'_>, region: Option<&RegionCode>) -> Result<Vec<FacilitatorSavingsTransfer>, ServiceError> {
    let found = store::find_facilitators(tx, region, FACILITATORS_MAX)?;
    let ids: Vec<i64> = found.iter().map(|facilitator| facilitator.id).collect();
    let mut villages: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (id, village) in store::find_facilitator_villages(tx, &ids)? {
        villages.entry(id).or_default().push(village);
    }
    let codes = villages.values().flatten().map(|code| parse_region(code)).collect::<Result<Vec<_>, _>>()?;
    let reach = pkh_reach(tx, &codes)?;
    Ok(found
        .into_iter()
        .map(|facilitator| {
            let villages = villages.remove(&facilitator.id).unwrap_or_default();
            let mut counts: HashMap<&'static str, i64> = HashMap::new();
            for village in &villages {
                for (kind, families) in reach.get(village).into_iter().flatten() {
                    *counts.entry(kind).or_default() += families;
                }
            }
            FacilitatorSavingsTransfer {
                facilitator: FacilitatorArea {
                    id: facilitator.id,
                    name: facilitator.name,
                    region: facilitator.region_code,
                    villages,
                },
                transfer: SavingsTransfer::of(&counts),
            }
        })
        .collect())
}

/// A facilitator to add: a name and the villages of the families they accompany.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Dewi Lestari", "villages": ["32.04.12.2001"]}))]
pub struct NewFacilitator {
    pub name: String,
    #[schema(value_type = Vec<String>, example = json!(["32.04.12.2001"]))]
    pub villages: Vec<RegionCode>,
}

/// An operator adds a facilitator whose villages all lie in the operator's region.
pub fn add_facilitator(
    store: &Store,
    principal: &Principal,
    request: &NewFacilitator,
) -> Result<FacilitatorArea, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > FACILITATOR_NAME_CHARS_MAX {
        return Err(ServiceError::Invalid(format!("name: 1 to {FACILITATOR_NAME_CHARS_MAX} characters")));
    }
    let mut villages = request.villages.clone();
    villages.sort();
    villages.dedup();
    if villages.is_empty() || villages.len() > FACILITATOR_VILLAGES_MAX {
        return Err(ServiceError::Invalid(format!("villages: 1 to {FACILITATOR_VILLAGES_MAX} village codes")));
    }
    if let Some(other) = villages.iter().find(|code| code.level() != RegionLevel::Village) {
        return Err(ServiceError::Invalid(format!("villages: {other} is not a village code")));
    }
    let region = smallest_common_region(&villages)
        .ok_or_else(|| ServiceError::Invalid("villages: an area lies within one province".to_owned()))?;
    store.write(|tx| {
        for village in &villages {
            if !scope.covers(village) || regions::find_by_code(tx, village)?.is_none() {
                return Err(ServiceError::NotFound("region"));
            }
        }
        let form = FacilitatorInsertForm {
            name,
            region_code: region.as_str(),
            created_by: &principal.subject(),
            created_at: now(),
        };
        let facilitator = store::insert_facilitator(tx, &form, &villages)?;
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &principal.subject(),
                action: "facilitator.add",
                object_kind: "facilitator",
                object_id: &facilitator.id.to_string(),
                reason: "facilitator area registered",
                details: serde_json::json!({ "villages": villages }),
            },
        )?;
        Ok(FacilitatorArea {
            id: facilitator.id,
            name: facilitator.name,
            region: facilitator.region_code,
            villages: villages.iter().map(ToString::to_string).collect(),
        })
    })
}
