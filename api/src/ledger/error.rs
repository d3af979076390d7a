//! What the ledger answers when it will not do something (a [`Refusal`], a business
//! answer that can be stored and replayed) or cannot (a [`StoreError`]).

use serde::{Deserialize, Serialize};

use crate::domain::ids::{AccountId, HoldId, JournalId};
use crate::domain::ledger::{AccountKind, HoldReason, HoldStatus, OwnerKind};
use crate::store::StoreError;

/// A refusal: the request was understood and the ledger said no. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    #[error("account {account} does not exist")]
    AccountNotFound { account: AccountId },
    #[error("account {account} is closed")]
    AccountClosed { account: AccountId },
    #[error("account {account} cannot close: it still holds {balance_minor} sen ({held_minor} sen held)")]
    AccountNotEmpty { account: AccountId, balance_minor: i64, held_minor: i64 },
    #[error("{owner_kind} {owner_id} already has a {kind} account")]
    AccountExists { owner_kind: OwnerKind, owner_id: String, kind: AccountKind },
    #[error("account {account} has {available_minor} sen available, {requested_minor} sen requested")]
    InsufficientFunds { account: AccountId, available_minor: i64, requested_minor: i64 },
    /// The balance would cover the debit, but part of it is blocked by holds.
    #[error("account {account}: {requested_minor} sen requested, but only {available_minor} sen is not blocked ({reasons:?})")]
    FundsHeld { account: AccountId, available_minor: i64, requested_minor: i64, reasons: Vec<HoldReason> },
    /// The account is blocked for debits (a suspended family's PKH wallet).
    #[error("account {account} is blocked ({reason}: {reference})")]
    DebitBlocked { account: AccountId, reason: HoldReason, reference: String },
    #[error("hold {hold} does not exist")]
    HoldNotFound { hold: HoldId },
    #[error("hold {hold} is already {status}")]
    HoldNotActive { hold: HoldId, status: HoldStatus },
    #[error("journal {journal} does not exist")]
    JournalNotFound { journal: JournalId },
    #[error("journal {journal} has already been reversed")]
    AlreadyReversed { journal: JournalId },
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyKeyReused { key: String },
    #[error("malformed ledger request: {problem}")]
    Malformed { problem: String },
}

/// Everything the ledger can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for LedgerError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(StoreError::from(error))
    }
}

impl LedgerError {
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(refusal) => Some(refusal),
            Self::Store(_) => None,
        }
    }
}
