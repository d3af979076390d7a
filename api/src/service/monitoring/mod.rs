//! Monitoring and evaluation (the seeds' "Dashboard realtime"): disbursement
//! (*penyaluran*) and absorption (*penyerapan*) per programme from national down to one
//! family, the second seed's indicators, and agent activity. Every figure comes from
//! aggregates, so no request scans the journal: the money figures are rolled up from the
//! journal in the background ([`rollup`]), and agree with the ledger to the rupiah up to
//! the journal their answer says they reach; the others (holds, statuses, verifications,
//! stage payments) are kept by database triggers in the same transaction as their rows.

pub mod agents;
pub mod complaints;
pub mod csv;
pub mod families;
pub mod graduations;
pub mod indicators;
pub mod overview;
pub mod rollup;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;
use strum::IntoEnumIterator;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::cards::FAMILY_POCKETS;
use super::ServiceError;
use crate::domain::auth::{RegionCode, RegionScope};
use crate::domain::benefit::Programme;
use crate::domain::family::FamilyStatus;
use crate::domain::ledger::{AccountKind, HoldReason, JournalKind};
use crate::domain::money::rupiah_from_minor;
use crate::domain::monitoring::{percent, Flow};
use crate::store::journal_rollup;
use crate::store::regions::{self, Region};
use crate::store::{parse_stored, Store, StoreError, Tx};

/// A service's figures for a principal's region, or a region below it (absent: the
/// principal's whole region): indicators, complaints, P2K2 attendance.
pub type RegionReport<T> = fn(&Store, &Principal, Option<&RegionCode>) -> Result<T, ServiceError>;

/// How far an answer's money figures reach into the journal: every journal up to
/// `through_journal_id` is in them, and `journals_behind` committed journals are not yet
/// (the roll-up adds them within about a second; counted up to 10,000). Holds, statuses
/// and the other counts are always current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JournalReach {
    pub through_journal_id: i64,
    pub journals_behind: i64,
    /// When the roll-up last moved (UTC); absent before its first pass.
    #[schema(value_type = Option<String>)]
    pub rolled_up_at: Option<chrono::NaiveDateTime>,
}

fn journal_reach(tx: &mut Tx<'_>) -> Result<JournalReach, StoreError> {
    let mark = journal_rollup::mark(tx)?;
    Ok(JournalReach {
        through_journal_id: mark.journal_id,
        journals_behind: mark.journals_behind,
        rolled_up_at: mark.rolled_up_at,
    })
}

/// A region as the dashboard names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegionRef {
    #[schema(value_type = String, example = "32.04.12.2001")]
    pub code: String,
    pub name: String,
    /// `province`, `regency`, `district` or `village`.
    pub level: String,
}

impl From<Region> for RegionRef {
    fn from(region: Region) -> Self {
        Self { code: region.code, name: region.name, level: region.level }
    }
}

/// Where a monitoring question is asked: the whole country (`None`) or one region.
struct Area {
    region: Option<(RegionCode, Region)>,
}

impl Area {
    fn code(&self) -> Option<&RegionCode> {
        self.region.as_ref().map(|(code, _)| code)
    }

    fn reference(&self) -> Option<RegionRef> {
        self.region.as_ref().map(|(_, region)| RegionRef::from(region.clone()))
    }
}

/// The region asked about, if the operator's scope covers it (404 otherwise, as for any
/// object out of sight); without one, the operator's whole scope.
fn area(tx: &mut Tx<'_>, principal: &Principal, requested: Option<&RegionCode>) -> Result<Area, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let code = match (requested, scope) {
        (Some(code), scope) if scope.covers(code) => Some(code.clone()),
        (Some(_), _) => return Err(ServiceError::NotFound("region")),
        (None, RegionScope::National) => None,
        (None, RegionScope::Region(code)) => Some(code.clone()),
    };
    match code {
        None => Ok(Area { region: None }),
        Some(code) => {
            let region = regions::find_by_code(tx, &code)?.ok_or(ServiceError::NotFound("region"))?;
            Ok(Area { region: Some((code, region)) })
        }
    }
}

/// The regions one level below the area (provinces for the country), with their codes.
fn children(tx: &mut Tx<'_>, area: &Area) -> Result<Vec<(RegionCode, Region)>, ServiceError> {
    regions::find_children(tx, area.code())?
        .into_iter()
        .map(|region| Ok((parse_region(&region.code)?, region)))
        .collect()
}

fn parse_region(code: &str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(code).map_err(|_| StoreError::Corrupt(format!("region code {code:?}")))
}

/// One flow's figure: the amount (outflows positive), the families with a non-zero net
/// flow, and the postings (a reversal counts −1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct FlowFigure {
    #[schema(value_type = String, example = "500000.00")]
    pub amount: Decimal,
    pub families: i64,
    pub entries: i64,
}

/// Money held now on a pocket, for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HeldFigure {
    pub reason: HoldReason,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub holds: i64,
}

/// What happened on one pocket (a programme's e-wallet, or savings) of the families of a
/// region. `balance` = credited − moved − withdrawn − spent − returned + received +
/// adjusted, which is also the sum of the pockets' balances in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PocketFigures {
    pub pocket: AccountKind,
    /// The programme whose e-wallet this is; absent for savings.
    pub programme: Option<Programme>,
    pub credited: FlowFigure,
    pub moved_to_savings: FlowFigure,
    pub received_from_wallets: FlowFigure,
    pub withdrawn_in_cash: FlowFigure,
    pub spent_on_goods: FlowFigure,
    pub returned_to_treasury: FlowFigure,
    pub adjusted: FlowFigure,
    /// Absorption: spent on goods plus moved to savings.
    #[schema(value_type = String)]
    pub absorbed: Decimal,
    /// Absorbed as a share of credited, in percent.
    #[schema(value_type = Option<String>)]
    pub absorbed_percent: Option<Decimal>,
    #[schema(value_type = String)]
    pub balance: Decimal,
    /// Money kept by holds still in force (one past its release time no longer is).
    #[schema(value_type = String)]
    pub held: Decimal,
    /// Money on blocked pockets (suspended families' PKH wallets) beyond their holds.
    #[schema(value_type = String)]
    pub blocked: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
    pub held_by_reason: Vec<HeldFigure>,
}

/// Families of a region by membership status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusFigures {
    pub total: i64,
    pub active: i64,
    pub suspended: i64,
    pub terminated: i64,
    pub graduated: i64,
}

/// Everything the overview shows for one region (or the country).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegionFigures {
    pub families: StatusFigures,
    pub pockets: Vec<PocketFigures>,
}

#[derive(Debug, Clone, Copy, Default)]
struct FlowSum {
    signed_minor: i64,
    entries: i64,
    families: i64,
}

/// Sums of aggregate rows for one region, before they become figures.
#[derive(Debug, Clone, Default)]
struct Tally {
    flows: HashMap<(AccountKind, Flow), FlowSum>,
    held: HashMap<(AccountKind, HoldReason), (i64, i64)>,
    blocked: HashMap<AccountKind, i64>,
    statuses: HashMap<FamilyStatus, i64>,
}

impl Tally {
    fn add_flow(
        &mut self,
        pocket: &str,
        journal_kind: &str,
        signed_minor: i64,
        entries: i64,
    ) -> Result<(), StoreError> {
        let pocket: AccountKind = parse_stored("monitoring pocket", pocket)?;
        let kind: JournalKind = parse_stored("monitoring journal_kind", journal_kind)?;
        let sum = self.flows.entry((pocket, Flow::of(pocket, kind))).or_default();
        sum.signed_minor += signed_minor;
        sum.entries += entries;
        Ok(())
    }

    fn add_reach(&mut self, pocket: &str, journal_kind: &str, families: i64) -> Result<(), StoreError> {
        let pocket: AccountKind = parse_stored("monitoring pocket", pocket)?;
        let kind: JournalKind = parse_stored("monitoring journal_kind", journal_kind)?;
        self.flows.entry((pocket, Flow::of(pocket, kind))).or_default().families += families;
        Ok(())
    }

    fn add_held(&mut self, pocket: &str, reason: &str, amount_minor: i64, holds: i64) -> Result<(), StoreError> {
        let pocket: AccountKind = parse_stored("monitoring pocket", pocket)?;
        let reason: HoldReason = parse_stored("monitoring reason", reason)?;
        let entry = self.held.entry((pocket, reason)).or_default();
        entry.0 += amount_minor;
        entry.1 += holds;
        Ok(())
    }

    fn add_blocked(&mut self, pocket: &str, amount_minor: i64) -> Result<(), StoreError> {
        *self.blocked.entry(parse_stored("monitoring pocket", pocket)?).or_default() += amount_minor;
        Ok(())
    }

    /// A hold past its release time keeps nothing any more: its money is free, or
    /// blocked if its pocket is.
    fn add_due_hold(&mut self, due: &crate::store::monitoring::DueHoldTotal) -> Result<(), StoreError> {
        self.add_held(&due.pocket, &due.reason, -due.amount_minor, -due.holds)?;
        if due.blocked {
            self.add_blocked(&due.pocket, due.amount_minor)?;
        }
        Ok(())
    }

    fn add_status(&mut self, status: &str, families: i64) -> Result<(), StoreError> {
        *self.statuses.entry(parse_stored("monitoring status", status)?).or_default() += families;
        Ok(())
    }

    fn merge(&mut self, other: &Tally) {
        for (key, sum) in &other.flows {
            let entry = self.flows.entry(*key).or_default();
            entry.signed_minor += sum.signed_minor;
            entry.entries += sum.entries;
            entry.families += sum.families;
        }
        for (key, (amount, holds)) in &other.held {
            let entry = self.held.entry(*key).or_default();
            entry.0 += amount;
            entry.1 += holds;
        }
        for (pocket, amount) in &other.blocked {
            *self.blocked.entry(*pocket).or_default() += amount;
        }
        for (status, families) in &other.statuses {
            *self.statuses.entry(*status).or_default() += families;
        }
    }

    fn figures(&self) -> RegionFigures {
        let status = |status: FamilyStatus| self.statuses.get(&status).copied().unwrap_or(0);
        let families = StatusFigures {
            total: self.statuses.values().sum(),
            active: status(FamilyStatus::Active),
            suspended: status(FamilyStatus::Suspended),
            terminated: status(FamilyStatus::Terminated),
            graduated: status(FamilyStatus::Graduated),
        };
        RegionFigures { families, pockets: FAMILY_POCKETS_SHOWN.iter().map(|pocket| self.pocket(*pocket)).collect() }
    }

    fn pocket(&self, pocket: AccountKind) -> PocketFigures {
        let sum = |flow: Flow| self.flows.get(&(pocket, flow)).copied().unwrap_or_default();
        let figure = |flow: Flow| {
            let sum = sum(flow);
            FlowFigure {
                amount: rupiah_from_minor(flow.shown_minor(sum.signed_minor)),
                families: sum.families,
                entries: sum.entries,
            }
        };
        let balance_minor: i64 = Flow::iter().map(|flow| sum(flow).signed_minor).sum();
        let absorbed_minor: i64 =
            Flow::iter().filter(|flow| flow.is_absorption()).map(|flow| flow.shown_minor(sum(flow).signed_minor)).sum();
        let credited_minor = sum(Flow::Credited).signed_minor;
        let mut held_by_reason: Vec<HeldFigure> = HoldReason::iter()
            .filter_map(|reason| {
                let (amount, holds) = self.held.get(&(pocket, reason)).copied()?;
                (holds != 0 || amount != 0).then(|| HeldFigure { reason, amount: rupiah_from_minor(amount), holds })
            })
            .collect();
        held_by_reason.sort_by_key(|held| held.reason.as_ref().to_owned());
        let held_minor: i64 =
            HoldReason::iter().filter_map(|reason| self.held.get(&(pocket, reason))).map(|held| held.0).sum();
        let blocked_minor = self.blocked.get(&pocket).copied().unwrap_or(0);
        PocketFigures {
            pocket,
            programme: Programme::iter().find(|programme| programme.wallet() == pocket),
            credited: figure(Flow::Credited),
            moved_to_savings: figure(Flow::MovedToSavings),
            received_from_wallets: figure(Flow::ReceivedFromWallets),
            withdrawn_in_cash: figure(Flow::WithdrawnInCash),
            spent_on_goods: figure(Flow::SpentOnGoods),
            returned_to_treasury: figure(Flow::ReturnedToTreasury),
            adjusted: figure(Flow::Adjusted),
            absorbed: rupiah_from_minor(absorbed_minor),
            absorbed_percent: percent(absorbed_minor, credited_minor),
            balance: rupiah_from_minor(balance_minor),
            held: rupiah_from_minor(held_minor),
            blocked: rupiah_from_minor(blocked_minor),
            available: rupiah_from_minor(balance_minor - held_minor - blocked_minor),
            held_by_reason,
        }
    }
}

/// The programmes' e-wallets first, then savings (the order the dashboard shows them).
const FAMILY_POCKETS_SHOWN: [AccountKind; 4] = {
    let [savings, pkh, bpnt, lpg] = FAMILY_POCKETS;
    [pkh, bpnt, lpg, savings]
};
