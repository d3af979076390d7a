//! The conditionality cycle: operators record whether each family met its commitments;
//! closing the cycle applies the rule of `domain::conditionality` to each family: suspend
//! (block the PKH wallet), release (unblock it), or after three failed cycles in a row
//! terminate PKH membership and return the wallet's money to the treasury. Then each
//! family a data update left without a PKH component exits PKH (natural exit).

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Principal;
use super::{access, graduation, ServiceError};
use crate::domain::auth::{RegionCode, RegionScope};
use crate::domain::benefit::{Obligation, Programme};
use crate::domain::conditionality::{close_cycle, Cycle, CycleOutcome, Standing, WalletPlan};
use crate::domain::family::FamilyStatus;
use crate::domain::graduation::{ExitKind, ExitReason, ExitTerms};
use crate::domain::ledger::{AccountKind, AccountStatus, HoldReason, JournalKind, OwnerKind};
use crate::domain::money::Amount;
use crate::ledger::accounts::{self, Account};
use crate::ledger::{holds, posting};
use crate::store::conditionality::{self as store, OutcomeRow, VerificationRecord};
use crate::store::disbursements::find_payees;
use crate::store::families;
use crate::store::{audit, now, Store, Tx};

/// Families decided per transaction when a cycle closes.
pub const FAMILIES_PER_TRANSACTION: i64 = 1_000;
/// Rows accepted in one CSV upload.
pub const CSV_ROWS_MAX: usize = 100_000;

/// One family's verification for a cycle.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"family_id": 1, "cycle": "2017-2", "complied": false, "member_id": 2, "obligation": "school_attendance"}))]
pub struct Verification {
    pub family_id: i64,
    /// `YEAR-STAGE`, e.g. `2017-2`.
    #[schema(value_type = String, pattern = "^[0-9]{4}-[1-4]$", example = "2017-2")]
    pub cycle: Cycle,
    pub complied: bool,
    /// For a failure: the member who missed a commitment.
    pub member_id: Option<i64>,
    /// For a failure: which commitment.
    pub obligation: Option<Obligation>,
}

/// A CSV upload's result: good rows are kept, bad rows reported by line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadReport {
    pub accepted: usize,
    pub rejected: Vec<RejectedRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectedRow {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub error: String,
}

/// What closing a cycle did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleSummary {
    #[schema(value_type = String, example = "2017-2")]
    pub cycle: Cycle,
    /// The region closed (absent: the supervisor's whole scope, national for a national one).
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    pub suspended: u64,
    pub released: u64,
    pub terminated: u64,
    pub unchanged: u64,
    /// Families this cycle had already been applied to (closing again changes nothing).
    pub already_closed: u64,
    /// Families left without a PKH component that exited PKH at this close (natural
    /// exit, "sudah tidak ada komponen PKH").
    pub natural_exits: u64,
    /// Families due a natural exit that are suspended: the exit rule waits until they
    /// comply again (or their membership ends); they stay flagged for a later close.
    pub natural_exits_waiting: u64,
}

/// Records one verification, validated against the family and its members.
pub fn record(store: &Store, principal: &Principal, verification: &Verification) -> Result<(), ServiceError> {
    access::operator(principal)?;
    store.write(|tx| record_in(tx, principal, verification))
}

fn record_in(tx: &mut Tx<'_>, principal: &Principal, verification: &Verification) -> Result<(), ServiceError> {
    let family = access::visible_family(tx, principal, verification.family_id)?;
    if !verification.complied && (verification.member_id.is_none() || verification.obligation.is_none()) {
        return Err(ServiceError::Invalid("a failure names the member and the obligation".to_owned()));
    }
    if let Some(member_id) = verification.member_id {
        if !families::find_members_by_family(tx, family.id)?.iter().any(|member| member.id == member_id) {
            return Err(ServiceError::Invalid(format!("member {member_id} is not in family {}", family.id)));
        }
    }
    let cycle = verification.cycle.to_string();
    if store::find_latest_outcome(tx, family.id)?.is_some_and(|outcome| outcome.cycle == cycle) {
        return Err(ServiceError::Invalid(format!("cycle {} is already closed for this family", verification.cycle)));
    }
    store::upsert_record(
        tx,
        &VerificationRecord {
            family_id: family.id,
            cycle,
            complied: verification.complied,
            member_id: verification.member_id,
            obligation: verification.obligation.map(|obligation| obligation.to_string()),
            recorded_by: principal.subject(),
            recorded_at: now(),
        },
    )?;
    Ok(())
}

/// The header line of a verification CSV.
const CSV_HEADER: [&str; 4] = ["family_id", "complied", "member_id", "obligation"];

/// Records a CSV of verifications for one cycle: `family_id,complied,member_id,obligation`
/// with a header line; `complied` is `yes`/`no`. Each row is checked on its own.
pub fn upload(store: &Store, principal: &Principal, cycle: Cycle, csv: &str) -> Result<UploadReport, ServiceError> {
    access::operator(principal)?;
    let mut report = UploadReport { accepted: 0, rejected: Vec::new() };
    let rows: Vec<&str> = csv.lines().collect();
    if rows.len() > CSV_ROWS_MAX + 1 {
        return Err(ServiceError::Invalid(format!("at most {CSV_ROWS_MAX} rows per upload")));
    }
    // Anything but this header is another file (schemathesis found any text accepted as
    // an empty upload): refused whole rather than read as zero rows.
    let header: Vec<String> = rows
        .first()
        .map(|line| {
            line.trim_start_matches('\u{feff}').split(',').map(|field| field.trim().to_ascii_lowercase()).collect()
        })
        .unwrap_or_default();
    if header != CSV_HEADER {
        return Err(ServiceError::Invalid(format!("the first line must be the header {}", CSV_HEADER.join(","))));
    }
    store.write(|tx| -> Result<(), ServiceError> {
        for (index, row) in rows.iter().enumerate().skip(1).filter(|(_, row)| !row.trim().is_empty()) {
            let line = index + 1;
            let outcome = parse_row(row, cycle).and_then(|verification| {
                // Each row in its own savepoint: a bad row is reported, good ones stay.
                tx.savepoint(|tx| record_in(tx, principal, &verification))
            });
            match outcome {
                Ok(()) => report.accepted += 1,
                Err(error @ (ServiceError::Store(_) | ServiceError::Internal(_))) => return Err(error),
                Err(error) => report.rejected.push(RejectedRow { line, error: error.to_string() }),
            }
        }
        Ok(())
    })?;
    Ok(report)
}

fn parse_row(row: &str, cycle: Cycle) -> Result<Verification, ServiceError> {
    let fields: Vec<&str> = row.split(',').map(str::trim).collect();
    let [family_id, complied, member_id, obligation] = fields.as_slice() else {
        return Err(ServiceError::Invalid("expected 4 fields: family_id,complied,member_id,obligation".to_owned()));
    };
    let family_id = family_id.parse().map_err(|_| ServiceError::Invalid(format!("family_id {family_id:?}")))?;
    let complied = match complied.to_ascii_lowercase().as_str() {
        "yes" | "ya" | "true" | "1" => true,
        "no" | "tidak" | "false" | "0" => false,
        other => return Err(ServiceError::Invalid(format!("complied {other:?}: yes or no"))),
    };
    let member_id = (!member_id.is_empty())
        .then(|| member_id.parse().map_err(|_| ServiceError::Invalid(format!("member_id {member_id:?}"))))
        .transpose()?;
    let obligation = (!obligation.is_empty())
        .then(|| obligation.parse().map_err(|_| ServiceError::Invalid(format!("obligation {obligation:?}"))))
        .transpose()?;
    Ok(Verification { family_id, cycle, complied, member_id, obligation })
}

/// A supervisor closes the cycle for the families of a region within its scope (its whole
/// scope when `region` is absent): each family's plan is decided and applied once, page
/// by page.
pub fn close(
    store: &Store,
    principal: &Principal,
    cycle: Cycle,
    region: Option<RegionCode>,
) -> Result<CycleSummary, ServiceError> {
    let (scope, role) = access::operator(principal)?;
    if !role.may_approve() {
        return Err(ServiceError::Forbidden("a supervisor closes a cycle".to_owned()));
    }
    let closing = match (region, scope) {
        (Some(region), scope) if scope.covers(&region) => Some(region),
        (Some(region), _) => return Err(ServiceError::Forbidden(format!("region {region} is outside your region"))),
        (None, RegionScope::Region(own)) => Some(own.clone()),
        (None, RegionScope::National) => None,
    };
    let mut summary = CycleSummary {
        cycle,
        region: closing.clone(),
        suspended: 0,
        released: 0,
        terminated: 0,
        unchanged: 0,
        already_closed: 0,
        natural_exits: 0,
        natural_exits_waiting: 0,
    };
    let mut after = 0;
    loop {
        let page = store.write(|tx| -> Result<Option<i64>, ServiceError> {
            let payees = find_payees(
                tx,
                &[FamilyStatus::Active, FamilyStatus::Suspended],
                closing.as_ref().map(RegionCode::as_str),
                after,
                FAMILIES_PER_TRANSACTION,
            )?;
            let Some(last) = payees.last().map(|payee| payee.family_id) else { return Ok(None) };
            for payee in &payees {
                match apply(tx, payee.family_id, payee.status, cycle)? {
                    Some(CycleOutcome::Suspended) => summary.suspended += 1,
                    Some(CycleOutcome::Released) => summary.released += 1,
                    Some(CycleOutcome::Terminated) => summary.terminated += 1,
                    Some(CycleOutcome::Unchanged) => summary.unchanged += 1,
                    None => summary.already_closed += 1,
                }
            }
            Ok(Some(last))
        })?;
        match page {
            Some(last) => after = last,
            None => break,
        }
    }
    record_natural_exits(store, closing.as_ref(), &mut summary)?;
    Ok(summary)
}

/// Records, through the graduation rule, the natural exit of every family of the region
/// flagged for one. The rule refuses a suspended family (leaving must not free money a
/// suspension keeps): it keeps its flag and exits at a later close.
fn record_natural_exits(
    store: &Store,
    region: Option<&RegionCode>,
    summary: &mut CycleSummary,
) -> Result<(), ServiceError> {
    let terms = ExitTerms {
        kind: ExitKind::NaturalExit,
        reason: ExitReason::SudahTidakAdaKomponenPkh,
        year_out: now().year(),
        non_cash_continues: true,
        note: format!("cycle {} closed", summary.cycle),
    };
    let mut after = 0;
    loop {
        let page = store.write(|tx| -> Result<Option<i64>, ServiceError> {
            let due = families::find_natural_exit_due(
                tx,
                region,
                &[FamilyStatus::Active, FamilyStatus::Suspended],
                after,
                FAMILIES_PER_TRANSACTION,
            )?;
            let Some(last) = due.last().map(|family| family.id) else { return Ok(None) };
            for family in &due {
                match tx.savepoint(|tx| graduation::record_exit_in(tx, RULE, family, &terms)) {
                    Ok(_) => summary.natural_exits += 1,
                    Err(ServiceError::FamilyNotActive(_)) => summary.natural_exits_waiting += 1,
                    Err(other) => return Err(other),
                }
            }
            Ok(Some(last))
        })?;
        match page {
            Some(last) => after = last,
            None => return Ok(()),
        }
    }
}

/// Who applies the rule's plans, in the audit trail and on holds and blocks.
const RULE: &str = "rule:conditionality";

/// Decides and applies the cycle to one family; `None` if it was already applied.
fn apply(
    tx: &mut Tx<'_>,
    family_id: i64,
    status: FamilyStatus,
    cycle: Cycle,
) -> Result<Option<CycleOutcome>, ServiceError> {
    let failed_cycles_in_row =
        store::find_latest_outcome(tx, family_id)?.map_or(0, |outcome| outcome.failed_cycles_in_row);
    let record = store::find_record(tx, family_id, &cycle.to_string())?;
    let plan = close_cycle(Standing { status, failed_cycles_in_row }, record.as_ref().map(|record| record.complied));
    let row = OutcomeRow {
        cycle: cycle.to_string(),
        family_id,
        outcome: plan.outcome.to_string(),
        failed_cycles_in_row: plan.failed_cycles_in_row,
        decided_at: now(),
    };
    if !store::claim_outcome(tx, &row)? {
        return Ok(None);
    }
    let reason = match &record {
        Some(record) if !record.complied => format!(
            "cycle {cycle}: member {} did not meet {}",
            record.member_id.map_or_else(|| "?".to_owned(), |id| id.to_string()),
            record.obligation.as_deref().unwrap_or("a commitment")
        ),
        _ => format!("cycle {cycle}: commitments met"),
    };
    let owner = family_id.to_string();
    let wallet = accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &owner, Programme::Pkh.wallet())?
        .filter(|wallet| wallet.status == AccountStatus::Open);
    if let Some(wallet) = wallet {
        match plan.wallet {
            WalletPlan::Unchanged => {}
            WalletPlan::Block => accounts::block(tx, wallet.id, HoldReason::CommitmentSuspension, &reason, RULE)?,
            WalletPlan::Unblock => accounts::unblock(tx, wallet.id)?,
            WalletPlan::ReturnToTreasuryAndClose => return_to_treasury(tx, &wallet, family_id, &reason)?,
        }
    }
    if plan.status != status {
        families::set_status(tx, family_id, plan.status)?;
    }
    if plan.outcome != CycleOutcome::Unchanged {
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: RULE,
                action: &format!("family.{}", plan.outcome),
                object_kind: "family",
                object_id: &owner,
                reason: &reason,
                details: serde_json::json!({ "cycle": cycle, "failed_cycles_in_row": plan.failed_cycles_in_row }),
            },
        )?;
    }
    Ok(Some(plan.outcome))
}

/// Everything in a terminated family's PKH wallet goes back to the treasury, held money
/// (a stage paid early) included, and the wallet closes.
fn return_to_treasury(tx: &mut Tx<'_>, wallet: &Account, family_id: i64, reason: &str) -> Result<(), ServiceError> {
    let treasury = accounts::find_or_open(tx, OwnerKind::System, "treasury", AccountKind::Treasury)?.id;
    let reference = format!("PKH terminated: family {family_id} ({reason})");
    for hold in holds::find_active_by_account(tx, wallet.id)? {
        holds::capture(tx, hold.id, treasury, JournalKind::ReturnToTreasury, &reference, RULE)?;
    }
    let remaining = accounts::get(tx, wallet.id)?.balance_minor;
    if remaining > 0 {
        let amount = Amount::from_minor(remaining).map_err(|error| ServiceError::Internal(error.to_string()))?;
        posting::transfer(tx, JournalKind::ReturnToTreasury, &reference, wallet.id, treasury, amount)?;
    }
    accounts::unblock(tx, wallet.id)?;
    accounts::close(tx, wallet.id)?;
    Ok(())
}
