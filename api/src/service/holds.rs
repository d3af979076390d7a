//! Holds placed and ended by people (an operator's investigation of a pocket), and the
//! background release of holds whose time has come.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::cards::FAMILY_POCKETS;
use super::ServiceError;
use crate::domain::language::Words;
use crate::domain::ledger::{AccountKind, HoldReason, HoldStatus, OwnerKind};
use crate::domain::money::{rupiah_from_minor, Amount};
use crate::ledger::holds::{self, Hold, HoldDraft, HOLD_TEXT_BYTES_MAX};
use crate::ledger::{accounts, HoldId};
use crate::store::{now, Store};

/// Accounts with due holds one background pass looks up at a time.
pub const DUE_ACCOUNTS_PER_PASS: i64 = 200;

/// An operator's hold on one of a family's pockets.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"pocket": "wallet_pkh", "amount": "100000", "reference": "case 17/2026"}))]
pub struct NewHold {
    /// Which pocket: `savings`, `wallet_pkh`, `wallet_bpnt` or `wallet_lpg`.
    pub pocket: AccountKind,
    #[schema(value_type = String, example = "100000")]
    pub amount: Amount,
    /// The case it belongs to (a complaint, an audit finding), 1 to 256 bytes.
    #[schema(min_length = 1, max_length = 256, example = "case 17/2026")]
    pub reference: String,
    /// When the hold ends by itself (UTC); absent: until an operator ends it.
    pub release_at: Option<NaiveDateTime>,
}

/// Why an operator ends a hold.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "case 17/2026 closed: no irregularity"}))]
pub struct HoldEnding {
    #[schema(min_length = 1, max_length = 256, example = "case 17/2026 closed: no irregularity")]
    pub reason: String,
}

/// A hold as operators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldRecord {
    #[schema(value_type = i64)]
    pub id: HoldId,
    pub family_id: i64,
    pub pocket: AccountKind,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub reason: HoldReason,
    pub explanation: Words,
    pub reference: String,
    pub placed_by: String,
    pub placed_at: NaiveDateTime,
    pub release_at: Option<NaiveDateTime>,
    pub status: HoldStatus,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_by: Option<String>,
}

impl HoldRecord {
    fn of(family_id: i64, pocket: AccountKind, hold: Hold) -> Self {
        Self {
            id: hold.id,
            family_id,
            pocket,
            amount: rupiah_from_minor(hold.amount_minor),
            reason: hold.reason,
            explanation: hold.reason.explain(),
            reference: hold.reference,
            placed_by: hold.placed_by,
            placed_at: hold.placed_at,
            release_at: hold.release_at,
            status: hold.status,
            ended_at: hold.ended_at,
            ended_by: hold.ended_by,
        }
    }
}

fn check_text(field: &str, text: &str) -> Result<(), ServiceError> {
    if text.trim().is_empty() || text.len() > HOLD_TEXT_BYTES_MAX {
        return Err(ServiceError::Invalid(format!("{field}: 1 to {HOLD_TEXT_BYTES_MAX} bytes")));
    }
    Ok(())
}

/// An operator of the family's region places an investigation hold on one of its pockets.
pub fn place(store: &Store, principal: &Principal, family_id: i64, new: &NewHold) -> Result<HoldRecord, ServiceError> {
    access::operator(principal)?;
    check_text("reference", &new.reference)?;
    if !FAMILY_POCKETS.contains(&new.pocket) {
        return Err(ServiceError::Invalid(format!("pocket {}: a family pocket", new.pocket)));
    }
    let placed_by = principal.subject();
    store.write(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        if new.release_at.is_some_and(|release_at| release_at <= now()) {
            return Err(ServiceError::Invalid("release_at: a moment still to come".to_owned()));
        }
        let account = accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family.id.to_string(), new.pocket)?
            .ok_or(ServiceError::NotFound("pocket"))?;
        let draft = HoldDraft {
            account: account.id,
            amount: new.amount,
            reason: HoldReason::Investigation,
            reference: &new.reference,
            placed_by: &placed_by,
            release_at: new.release_at,
        };
        Ok(HoldRecord::of(family.id, new.pocket, holds::place(tx, &draft)?))
    })
}

/// An operator of the family's region ends an investigation hold (the others end by
/// their own rule: a stage opening, a card replaced).
pub fn release(
    store: &Store,
    principal: &Principal,
    hold_id: HoldId,
    ending: &HoldEnding,
) -> Result<HoldRecord, ServiceError> {
    access::operator(principal)?;
    check_text("reason", &ending.reason)?;
    let ended_by = format!("{}: {}", principal.subject(), ending.reason);
    store.write(|tx| {
        let hold = holds::find_by_id(tx, hold_id)?.ok_or(ServiceError::NotFound("hold"))?;
        let account = accounts::get(tx, hold.account)?;
        let family_id: i64 = account.owner_id.parse().map_err(|_| ServiceError::NotFound("hold"))?;
        if account.owner_kind != OwnerKind::Family {
            return Err(ServiceError::NotFound("hold"));
        }
        access::visible_family(tx, principal, family_id).map_err(|_| ServiceError::NotFound("hold"))?;
        if hold.reason != HoldReason::Investigation {
            return Err(ServiceError::Forbidden(format!(
                "a {} hold ends by its own rule, not by a person",
                hold.reason
            )));
        }
        // A hold past its release time has ended already, whatever has been written yet.
        accounts::lock(tx, account.id)?;
        holds::release_due_on(tx, account.id, now())?;
        Ok(HoldRecord::of(family_id, account.kind, holds::release(tx, hold_id, &ended_by)?))
    })
}

/// Ends every hold whose release time has passed, one account per transaction, the
/// account locked before its holds (as a card transaction does), so that several servers
/// and card transactions can do it at once. One account at a time: ending a hold also
/// updates the dashboard's aggregate rows, which many accounts share, and a pass that
/// held one account's aggregate row while waiting for the next account deadlocked on
/// PostgreSQL with a card transaction that held that account and wanted the row (found by
/// the model test of the money rules). Returns how many holds it ended.
pub fn release_due(store: &Store) -> Result<usize, ServiceError> {
    let mut released = 0;
    loop {
        // Looked for in a read, so that an idle server never takes the writer.
        let due = store.read(|tx| holds::find_accounts_with_due_holds(tx, now(), DUE_ACCOUNTS_PER_PASS))?;
        if due.is_empty() {
            return Ok(released);
        }
        for account in due {
            released += store.write(|tx| -> Result<usize, ServiceError> {
                accounts::lock(tx, account)?;
                Ok(holds::release_due_on(tx, account, now())?)
            })?;
        }
    }
}
