//! The bottom of the drill-down: the families of a region (or those matching a search),
//! and one family's page with its timeline.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::overview::path;
use super::{area, journal_reach, JournalReach, PocketFigures, RegionRef, Tally};
use crate::domain::auth::RegionCode;
use crate::domain::family::{BenefitCategory, FamilyStatus};
use crate::domain::holds::hold_is_in_force;
use crate::domain::ledger::{AccountKind, JournalKind};
use crate::domain::money::rupiah_from_minor;
use crate::domain::monitoring::{Flow, TimelineEvent};
use crate::service::access;
use crate::service::auth::Principal;
use crate::service::families::family_pockets;
use crate::service::ServiceError;
use crate::store::monitoring::{self as store, FamilyQuery, FamilySummary};
use crate::store::{conditionality, now, parse_stored, regions, Store, StoreError, Tx};

/// Families listed per page unless asked otherwise.
pub const FAMILIES_PAGE_DEFAULT: i64 = 50;
/// The most families one page lists.
pub const FAMILIES_PAGE_MAX: i64 = 200;
/// The longest search text, in characters.
pub const SEARCH_CHARS_MAX: usize = 100;
/// The most postings and holds a family's timeline shows (the latest).
pub const TIMELINE_ENTRIES_MAX: i64 = 200;

/// A family as a line of the dashboard's list: who, where, and its money in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FamilyLine {
    pub id: i64,
    pub nik: String,
    pub recipient_name: String,
    #[schema(value_type = String)]
    pub village: String,
    pub category: BenefitCategory,
    pub status: FamilyStatus,
    /// Credited to all its e-wallets.
    #[schema(value_type = String)]
    pub credited: Decimal,
    /// Spent on goods or moved to savings.
    #[schema(value_type = String)]
    pub absorbed: Decimal,
    #[schema(value_type = String)]
    pub withdrawn_in_cash: Decimal,
    /// On all its pockets now.
    #[schema(value_type = String)]
    pub balance: Decimal,
}

/// One page of families.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FamilyList {
    /// Absent: the whole country.
    pub region: Option<RegionRef>,
    pub families: Vec<FamilyLine>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<i64>,
}

/// What the search text means: a NIK (16 digits) or part of a name.
fn parse_query(text: Option<&str>) -> Result<FamilyQuery, ServiceError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(FamilyQuery::All);
    };
    if text.chars().count() > SEARCH_CHARS_MAX {
        return Err(ServiceError::Invalid(format!("q: at most {SEARCH_CHARS_MAX} characters")));
    }
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        return match text.len() {
            16 => Ok(FamilyQuery::Nik(text.to_owned())),
            _ => Err(ServiceError::Invalid("q: a 16-digit NIK, or part of a name".to_owned())),
        };
    }
    Ok(FamilyQuery::Name(text.to_owned()))
}

/// The families of `region` (the operator's scope when `None`) matching `query`, by id.
pub fn list(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
    query: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<FamilyList, ServiceError> {
    if !(1..=FAMILIES_PAGE_MAX).contains(&limit) {
        return Err(ServiceError::Invalid(format!("limit: 1 to {FAMILIES_PAGE_MAX}")));
    }
    let query = parse_query(query)?;
    store.read(|tx| {
        let area = area(tx, principal, region)?;
        let found = store::find_families(tx, area.code(), &query, after, limit)?;
        let next_after = (found.len() == usize::try_from(limit).unwrap_or(usize::MAX))
            .then(|| found.last().map(|family| family.id))
            .flatten();
        let ids: Vec<i64> = found.iter().map(|family| family.id).collect();
        let mut tallies: BTreeMap<i64, Tally> = BTreeMap::new();
        for flow in store::family_flows(tx, &ids)? {
            tallies.entry(flow.family_id).or_default().add_flow(
                &flow.pocket,
                &flow.journal_kind,
                flow.amount_minor,
                flow.entries,
            )?;
        }
        let families = found
            .into_iter()
            .map(|family| line(&family, &tallies.remove(&family.id).unwrap_or_default()))
            .collect::<Result<_, _>>()?;
        Ok(FamilyList { region: area.reference(), families, next_after })
    })
}

fn line(family: &FamilySummary, tally: &Tally) -> Result<FamilyLine, StoreError> {
    let pockets = tally.figures().pockets;
    let total = |amount: fn(&PocketFigures) -> Decimal| pockets.iter().map(amount).sum();
    Ok(FamilyLine {
        id: family.id,
        nik: family.nik.clone(),
        recipient_name: family.recipient_name.clone(),
        village: family.village_code.clone(),
        category: parse_stored("families.category", &family.category)?,
        status: parse_stored("families.status", &family.status)?,
        credited: total(|pocket| pocket.credited.amount),
        absorbed: total(|pocket| pocket.absorbed),
        withdrawn_in_cash: total(|pocket| pocket.withdrawn_in_cash.amount),
        balance: total(|pocket| pocket.balance),
    })
}

/// One event in a family's life in the programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TimelineEntry {
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    pub event: TimelineEvent,
    pub pocket: Option<AccountKind>,
    pub flow: Option<Flow>,
    /// Signed as it moved the pocket (a credit positive).
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub balance_after: Option<Decimal>,
    /// The journal kind, hold reason, cycle and result, in words for operators.
    pub detail: String,
}

/// One family's page: its line, where it lives, its pockets and its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FamilyPage {
    pub family: FamilyLine,
    /// Province down to its village.
    pub path: Vec<RegionRef>,
    pub pockets: Vec<PocketFigures>,
    /// Newest first.
    pub timeline: Vec<TimelineEntry>,
    pub journal: JournalReach,
}

/// The page of a family in the operator's region (404 otherwise).
pub fn page(store: &Store, principal: &Principal, family_id: i64) -> Result<FamilyPage, ServiceError> {
    access::operator(principal)?;
    store.read(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        let summary = FamilySummary {
            id: family.id,
            nik: family.nik.clone(),
            recipient_name: family.recipient_name.clone(),
            village_code: family.village.to_string(),
            category: family.category.to_string(),
            status: family.status.to_string(),
        };
        let mut tally = Tally::default();
        for flow in store::family_flows(tx, &[family.id])? {
            tally.add_flow(&flow.pocket, &flow.journal_kind, flow.amount_minor, flow.entries)?;
            tally.add_reach(&flow.pocket, &flow.journal_kind, i64::from(flow.amount_minor != 0))?;
        }
        let at = now();
        for pocket in family_pockets(tx, family.id)? {
            let kind = pocket.account.kind.as_ref();
            for hold in pocket.holds.iter().filter(|hold| hold_is_in_force(hold.release_at, at)) {
                tally.add_held(kind, hold.reason.as_ref(), hold.amount_minor, 1)?;
            }
            tally.add_blocked(kind, pocket.figures(pocket.account.balance_minor, at).blocked_minor)?;
        }
        let holds = store::family_holds(tx, family.id, TIMELINE_ENTRIES_MAX)?;
        let mut path = path(tx, principal, Some(&family.village))?;
        if let Some(village) = regions::find_by_code(tx, &family.village)? {
            path.push(RegionRef::from(village));
        }
        Ok(FamilyPage {
            family: line(&summary, &tally)?,
            path,
            pockets: tally.figures().pockets,
            timeline: timeline(tx, family.id, &holds)?,
            journal: journal_reach(tx)?,
        })
    })
}

fn timeline(tx: &mut Tx<'_>, family_id: i64, holds: &[store::FamilyHold]) -> Result<Vec<TimelineEntry>, ServiceError> {
    let mut entries = Vec::new();
    for posting in store::family_postings(tx, family_id, TIMELINE_ENTRIES_MAX)? {
        let pocket: AccountKind = parse_stored("accounts.kind", &posting.pocket)?;
        let kind: JournalKind = parse_stored("journals.kind", &posting.journal_kind)?;
        let counted_as = match &posting.reversed_kind {
            Some(original) => parse_stored("journals.kind", original)?,
            None => kind,
        };
        let detail = match &posting.reversed_kind {
            Some(original) => format!("reversal of {original} ({})", posting.reference),
            None => format!("{kind} ({})", posting.reference),
        };
        entries.push(TimelineEntry {
            at: posting.posted_at,
            event: TimelineEvent::Posting,
            pocket: Some(pocket),
            flow: Some(Flow::of(pocket, counted_as)),
            amount: Some(rupiah_from_minor(posting.amount_minor)),
            balance_after: Some(rupiah_from_minor(posting.balance_after_minor)),
            detail,
        });
    }
    for hold in holds {
        let pocket: AccountKind = parse_stored("accounts.kind", &hold.pocket)?;
        let hold_entry = |at, event, detail| TimelineEntry {
            at,
            event,
            pocket: Some(pocket),
            flow: None,
            amount: Some(rupiah_from_minor(hold.amount_minor)),
            balance_after: None,
            detail,
        };
        entries.push(hold_entry(
            hold.placed_at,
            TimelineEvent::HoldPlaced,
            format!("{} ({})", hold.reason, hold.reference),
        ));
        if let Some(ended_at) = hold.ended_at {
            entries.push(hold_entry(ended_at, TimelineEvent::HoldEnded, format!("{}: {}", hold.status, hold.reason)));
        }
    }
    for record in store::family_verifications(tx, family_id)? {
        let result = if record.complied {
            "complied".to_owned()
        } else {
            format!("failed: {}", record.obligation.as_deref().unwrap_or("unspecified"))
        };
        entries.push(plain_entry(
            record.recorded_at,
            TimelineEvent::Verification,
            format!("cycle {}: {result}", record.cycle),
        ));
    }
    for outcome in conditionality::find_outcomes_by_family(tx, family_id)? {
        let detail = format!("cycle {}: {}", outcome.cycle, outcome.outcome);
        entries.push(plain_entry(outcome.decided_at, TimelineEvent::CycleOutcome, detail));
    }
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.at));
    Ok(entries)
}

fn plain_entry(at: NaiveDateTime, event: TimelineEvent, detail: String) -> TimelineEntry {
    TimelineEntry { at, event, pocket: None, flow: None, amount: None, balance_after: None, detail }
}
