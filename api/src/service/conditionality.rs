//! The conditionality cycle: operators record whether each family met its commitments;
//! closing the cycle suspends (blocks PKH money), releases, or after three failed cycles
//! in a row terminates PKH membership and returns the money to the treasury.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::ServiceError;
use crate::domain::auth::RegionScope;
use crate::domain::benefit::{decide, parse_cycle, CycleOutcome, Obligation, Programme};
use crate::domain::family::FamilyStatus;
use crate::domain::ledger::{AccountKind, HoldReason, JournalKind, OwnerKind};
use crate::domain::money::Amount;
use crate::ledger::holds::{self, HoldDraft};
use crate::ledger::{accounts, posting};
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
pub struct Verification {
    pub family_id: i64,
    /// `YEAR-STAGE`, e.g. `2017-2`.
    pub cycle: String,
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
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CycleSummary {
    pub cycle: String,
    pub suspended: u64,
    pub released: u64,
    pub terminated: u64,
    pub unchanged: u64,
    /// Families this cycle had already been applied to (closing again changes nothing).
    pub already_closed: u64,
}

fn check_cycle(cycle: &str) -> Result<(), ServiceError> {
    parse_cycle(cycle)
        .map(|_| ())
        .ok_or_else(|| ServiceError::Invalid(format!("cycle {cycle:?}: YEAR-STAGE, e.g. 2017-2")))
}

/// Records one verification, validated against the family and its members.
pub fn record(store: &Store, principal: &Principal, verification: &Verification) -> Result<(), ServiceError> {
    access::operator(principal)?;
    check_cycle(&verification.cycle)?;
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
    if store::find_latest_outcome(tx, family.id)?.is_some_and(|outcome| outcome.cycle == verification.cycle) {
        return Err(ServiceError::Invalid(format!("cycle {} is already closed for this family", verification.cycle)));
    }
    store::upsert_record(
        tx,
        &VerificationRecord {
            family_id: family.id,
            cycle: verification.cycle.clone(),
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
pub fn upload(store: &Store, principal: &Principal, cycle: &str, csv: &str) -> Result<UploadReport, ServiceError> {
    access::operator(principal)?;
    check_cycle(cycle)?;
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

fn parse_row(row: &str, cycle: &str) -> Result<Verification, ServiceError> {
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
    Ok(Verification { family_id, cycle: cycle.to_owned(), complied, member_id, obligation })
}

/// A supervisor closes the cycle for the families of its region: each family's outcome
/// is decided and applied once, page by page.
pub fn close(store: &Store, principal: &Principal, cycle: &str) -> Result<CycleSummary, ServiceError> {
    let (scope, role) = access::operator(principal)?;
    if !role.may_approve() {
        return Err(ServiceError::Forbidden("a supervisor closes a cycle".to_owned()));
    }
    check_cycle(cycle)?;
    let region = match scope {
        RegionScope::National => None,
        RegionScope::Region(code) => Some(code.as_str().to_owned()),
    };
    let mut summary = CycleSummary { cycle: cycle.to_owned(), ..CycleSummary::default() };
    let mut after = 0;
    loop {
        let page = store.write(|tx| -> Result<Option<i64>, ServiceError> {
            let payees = find_payees(tx, &["active", "suspended"], region.as_deref(), after, FAMILIES_PER_TRANSACTION)?;
            let Some(last) = payees.last().map(|payee| payee.family_id) else { return Ok(None) };
            for payee in &payees {
                let suspended = payee.status == FamilyStatus::Suspended.as_ref();
                match apply(tx, payee.family_id, suspended, cycle)? {
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
    Ok(summary)
}

/// Decides and applies the cycle to one family; `None` if it was already applied.
fn apply(tx: &mut Tx<'_>, family_id: i64, suspended: bool, cycle: &str) -> Result<Option<CycleOutcome>, ServiceError> {
    let failed_in_row = store::find_latest_outcome(tx, family_id)?.map_or(0, |outcome| outcome.failed_cycles_in_row);
    let record = store::find_record(tx, family_id, cycle)?;
    let (outcome, failed_now) = decide(failed_in_row, suspended, record.as_ref().map(|record| record.complied));
    let row = OutcomeRow {
        cycle: cycle.to_owned(),
        family_id,
        outcome: outcome.to_string(),
        failed_cycles_in_row: failed_now,
        decided_at: now(),
    };
    if !store::claim_outcome(tx, &row)? {
        return Ok(None);
    }
    let owner = family_id.to_string();
    let wallet = accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &owner, Programme::Pkh.wallet())?;
    let reason = match &record {
        Some(record) if !record.complied => format!(
            "cycle {cycle}: member {} did not meet {}",
            record.member_id.map_or_else(|| "?".to_owned(), |id| id.to_string()),
            record.obligation.as_deref().unwrap_or("a commitment")
        ),
        _ => format!("cycle {cycle}: commitments met"),
    };
    match outcome {
        CycleOutcome::Suspended => {
            if let Some(wallet) = wallet.filter(|wallet| wallet.available_minor() > 0) {
                let amount = Amount::from_minor(wallet.available_minor())
                    .map_err(|error| ServiceError::Internal(error.to_string()))?;
                let draft = HoldDraft {
                    account: wallet.id,
                    amount,
                    reason: HoldReason::CommitmentSuspension,
                    reference: &reason,
                    placed_by: "rule:conditionality",
                    release_at: None,
                };
                holds::place(tx, &draft)?;
            }
            families::set_status(tx, family_id, FamilyStatus::Suspended)?;
        }
        CycleOutcome::Released => {
            if let Some(wallet) = wallet {
                for hold in holds::find_active_by_account(tx, wallet.id)? {
                    if hold.reason == HoldReason::CommitmentSuspension {
                        holds::release(tx, hold.id, "rule:conditionality")?;
                    }
                }
            }
            families::set_status(tx, family_id, FamilyStatus::Active)?;
        }
        CycleOutcome::Terminated => {
            if let Some(wallet) = wallet {
                let treasury = accounts::find_or_open(tx, OwnerKind::System, "treasury", AccountKind::Treasury)?.id;
                let reference = format!("PKH terminated: family {} ({reason})", family_id);
                for hold in holds::find_active_by_account(tx, wallet.id)? {
                    holds::capture(
                        tx,
                        hold.id,
                        treasury,
                        JournalKind::ReturnToTreasury,
                        &reference,
                        "rule:conditionality",
                    )?;
                }
                let remaining = accounts::get(tx, wallet.id)?.balance_minor;
                if remaining > 0 {
                    let amount =
                        Amount::from_minor(remaining).map_err(|error| ServiceError::Internal(error.to_string()))?;
                    posting::transfer(tx, JournalKind::ReturnToTreasury, &reference, wallet.id, treasury, amount)?;
                }
                accounts::close(tx, wallet.id)?;
            }
            families::set_status(tx, family_id, FamilyStatus::Terminated)?;
        }
        CycleOutcome::Unchanged => return Ok(Some(outcome)),
    }
    audit::record(
        tx,
        &audit::AuditRecord {
            actor: "rule:conditionality",
            action: &format!("family.{outcome}"),
            object_kind: "family",
            object_id: &owner,
            reason: &reason,
            details: serde_json::json!({ "cycle": cycle, "failed_cycles_in_row": failed_now }),
        },
    )?;
    Ok(Some(outcome))
}
