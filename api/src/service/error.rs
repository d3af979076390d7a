//! What a use case answers when it does not succeed. The HTTP layer maps each variant
//! to one stable problem code.

pub use kks_wire::problem::ErrorCode;

use crate::domain::auth::{UsernameError, WeakPassword};
use crate::domain::card::CardNumberError;
use crate::domain::card_qr::CardQrError;
use crate::domain::disbursement::BatchStatus;
use crate::domain::family::FamilyRuleError;
use crate::domain::nik::NikError;
use crate::domain::terminal::TerminalIdError;
use crate::domain::transmission::TransmissionTimeError;
use crate::ledger::idempotency::Replayable;
use crate::ledger::{LedgerError, Refusal};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is not acceptable; the message says which field and why.
    #[error("{0}")]
    Invalid(String),
    /// The object does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No valid token: missing, malformed, expired, badly signed or for another audience.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token was valid once but has been revoked (logout, password change).
    #[error("the token has been revoked; log in again")]
    TokenRevoked,
    /// The token names a signing key that is no longer configured (retired after a
    /// rotation, or never ours).
    #[error("the token was signed with a key this server no longer holds; log in again")]
    TokenKeyRetired,
    /// Wrong user name or password (which one is not said).
    #[error("wrong user name or password")]
    WrongCredentials,
    /// A family's login with a card number no card has, or a wrong PIN: one answer for
    /// both, so that the login does not tell which card numbers exist.
    #[error("the card number or the PIN is wrong")]
    WrongCardOrPin,
    /// Too many failed logins for this card or from this client: wait before trying again.
    #[error("too many failed logins for this card or from this address; try again in {} seconds", crate::domain::login_throttle::seconds_rounded_up(*wait))]
    LoginThrottled { wait: std::time::Duration },
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("wrong PIN; {attempts_left} attempts left before the PIN locks")]
    WrongPin { attempts_left: i32 },
    #[error("the PIN is locked after too many wrong attempts; an operator must reset it")]
    PinLocked,
    /// The card's PIN verification value is under a PIN key version no longer configured.
    #[error("the card's PIN was kept under PIN key version {0}, which is retired; an operator must reset the PIN")]
    PinKeyRetired(crate::domain::key_ring::KeyVersion),
    #[error("the card was reported lost or stolen")]
    CardLost,
    #[error("the card was replaced by a newer card")]
    CardReplaced,
    #[error("the card has expired")]
    CardExpired,
    #[error("this terminal does not belong to the agent, or is disabled")]
    TerminalNotAllowed,
    /// An admin deactivated the terminal: it makes no more card transactions.
    #[error("terminal {0} was deactivated by an admin; it makes no transactions")]
    TerminalInactive(String),
    #[error(transparent)]
    TerminalIdInvalid(#[from] TerminalIdError),
    /// A terminal id or a device serial number that is registered already.
    #[error("{0}")]
    TerminalTaken(String),
    #[error("NIK: {0}")]
    NikInvalid(#[from] NikError),
    #[error(transparent)]
    FamilyRules(#[from] FamilyRuleError),
    #[error("a family with this NIK is already registered")]
    FamilyExists,
    /// The family is terminated or suspended: it cannot graduate or exit now.
    #[error("{0}")]
    FamilyNotActive(String),
    #[error("the family already left PKH with another exit")]
    AlreadyExited,
    /// A complaint status change the rule does not allow.
    #[error("{0}")]
    ComplaintTransitionInvalid(String),
    /// A second resolution (or rejection) of a complaint answered already.
    #[error("the complaint has its resolution already: it is answered once")]
    ComplaintAlreadyResolved,
    /// The person who entered a change that needs a second person approves it.
    #[error("the person who entered a change may not approve it: a second person does")]
    ChangeSelfApproval,
    /// A change approved or rejected already, asked the other way.
    #[error("{0}")]
    ChangeAlreadyDecided(String),
    #[error(transparent)]
    UsernameInvalid(#[from] UsernameError),
    #[error("this user name is taken")]
    UsernameTaken,
    #[error(transparent)]
    PasswordWeak(#[from] WeakPassword),
    /// The password was set by an admin: the person chooses their own before working.
    #[error("choose a new password first: POST {0} with the one you were given")]
    PasswordChangeRequired(&'static str),
    #[error("the family already has a card; replace it instead")]
    CardExists,
    #[error("the card QR is not a KKS card code")]
    CardQrMalformed,
    #[error("the card QR has version {0}, which this server does not read")]
    CardQrUnsupportedVersion(u8),
    #[error("the card QR was not signed by the KKS issuer (forged card)")]
    CardForged,
    #[error("the card QR does not match its signature (altered card)")]
    CardAltered,
    /// Part of the money asked for is blocked by holds (suspension, stage not open…).
    #[error("{requested} requested from {pocket}, but only {available} is free; the rest is blocked ({reasons})")]
    FundsHeld { pocket: String, requested: String, available: String, reasons: String },
    /// The pocket is blocked for debits: the family is suspended (PKH conditionality).
    #[error("{pocket} is blocked: nothing may leave it until the family meets its commitments ({reference})")]
    WalletBlocked { pocket: String, reference: String },
    #[error("{requested} requested from {pocket}, but it holds only {available}")]
    InsufficientFunds { pocket: String, requested: String, available: String },
    #[error("{0}")]
    OperationNotAllowed(String),
    #[error("one cash withdrawal is at most {0}")]
    WithdrawalLimitExceeded(String),
    #[error("a card may draw at most {0} in cash a day")]
    DailyWithdrawalLimitExceeded(String),
    #[error("an agent may pay out at most {0} in cash a day")]
    AgentDailyLimitExceeded(String),
    #[error("{sku}: at most {quota} a month for each family")]
    QuotaExceeded { sku: String, quota: i32 },
    #[error("{sku} cannot be bought from the {programme} e-wallet")]
    ItemNotEligible { sku: String, programme: String },
    #[error("{0} is not in the catalogue")]
    UnknownItem(String),
    #[error("STAN {0} was already used today on this terminal")]
    DuplicateStan(String),
    #[error("STAN {0} was reversed before it arrived: the transaction is void")]
    OriginalReversed(String),
    /// Another batch pays the same period over the same or an overlapping region.
    #[error("batch {batch_id} ({status}, {region}) already pays this programme and period over an overlapping region; cancel it or let it complete")]
    LiveBatchExists { batch_id: i64, status: BatchStatus, region: String },
    /// Every family the batch would pay is already paid, or due in another batch.
    #[error("{0}")]
    BatchPaysNobody(String),
    #[error("batch {batch_id} is {status}: only a batch not executing yet can be cancelled")]
    BatchNotCancellable { batch_id: i64, status: BatchStatus },
    /// Text with a control character or a bidirectional override (an import's field).
    #[error("{0}: text may not carry control characters or bidirectional overrides")]
    CharacterNotAllowed(String),
    /// An import file refused whole (encoding, delimiter, columns); nothing was written.
    #[error("{0}")]
    ImportFileInvalid(String),
    #[error("import {0} is still running")]
    ImportRunning(i64),
    #[error("the PIN mailer of import {0} was downloaded already and its PINs erased; reset a card's PIN instead")]
    PinMailerGone(i64),
    /// A terminal's clock too far from the ledger's, or a reversal too late.
    #[error(transparent)]
    TransmissionTime(#[from] TransmissionTimeError),
    /// A rule of the code itself was broken; logged, answered as an internal error.
    #[error("internal error: {0}")]
    Internal(String),
    /// The reference drawn for a card transaction is another's (12 random digits meet
    /// about once in 1.5 million): the transaction is rolled back and run again with a
    /// new one, and only if that keeps happening does the terminal hear of it.
    #[error("the transaction's reference was drawn twice; try again")]
    ReferenceTaken,
    /// A refusal given earlier to the same request (same idempotency key), given again.
    #[error("{detail}")]
    Replayed { code: ErrorCode, detail: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CardQrError> for ServiceError {
    fn from(error: CardQrError) -> Self {
        match error {
            CardQrError::Malformed => Self::CardQrMalformed,
            CardQrError::UnsupportedVersion(version) => Self::CardQrUnsupportedVersion(version),
            CardQrError::UnknownIssuer => Self::CardForged,
            CardQrError::BadSignature => Self::CardAltered,
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(StoreError::from(error))
    }
}

impl ServiceError {
    /// The stable code clients branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::InvalidRequest,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::TokenRevoked => ErrorCode::TokenRevoked,
            Self::TokenKeyRetired => ErrorCode::TokenKeyRetired,
            Self::WrongCredentials => ErrorCode::WrongCredentials,
            Self::WrongCardOrPin => ErrorCode::WrongCardOrPin,
            Self::LoginThrottled { .. } => ErrorCode::TooManyRequests,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::WrongPin { .. } => ErrorCode::WrongPin,
            Self::PinLocked => ErrorCode::PinLocked,
            Self::PinKeyRetired(_) => ErrorCode::PinKeyRetired,
            Self::CardLost => ErrorCode::CardLost,
            Self::CardReplaced => ErrorCode::CardReplaced,
            Self::CardExpired => ErrorCode::CardExpired,
            Self::TerminalNotAllowed => ErrorCode::TerminalNotAllowed,
            Self::TerminalInactive(_) => ErrorCode::TerminalInactive,
            Self::TerminalIdInvalid(_) => ErrorCode::TerminalIdInvalid,
            Self::TerminalTaken(_) => ErrorCode::TerminalTaken,
            Self::NikInvalid(_) => ErrorCode::NikInvalid,
            Self::FamilyRules(_) => ErrorCode::FamilyRulesNotMet,
            Self::FamilyExists => ErrorCode::FamilyExists,
            Self::FamilyNotActive(_) => ErrorCode::FamilyNotActive,
            Self::AlreadyExited => ErrorCode::AlreadyExited,
            Self::ComplaintTransitionInvalid(_) => ErrorCode::ComplaintTransitionInvalid,
            Self::ComplaintAlreadyResolved => ErrorCode::ComplaintAlreadyResolved,
            Self::ChangeSelfApproval => ErrorCode::ChangeSelfApproval,
            Self::ChangeAlreadyDecided(_) => ErrorCode::ChangeAlreadyDecided,
            Self::CardExists => ErrorCode::CardExists,
            Self::UsernameInvalid(_) => ErrorCode::UsernameInvalid,
            Self::UsernameTaken => ErrorCode::UsernameTaken,
            Self::PasswordWeak(_) => ErrorCode::PasswordWeak,
            Self::PasswordChangeRequired(_) => ErrorCode::PasswordChangeRequired,
            Self::CardQrMalformed => ErrorCode::CardQrMalformed,
            Self::CardQrUnsupportedVersion(_) => ErrorCode::CardQrUnsupportedVersion,
            Self::CardForged => ErrorCode::CardForged,
            Self::CardAltered => ErrorCode::CardAltered,
            Self::FundsHeld { .. } => ErrorCode::FundsHeld,
            Self::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            Self::WalletBlocked { .. } => ErrorCode::WalletBlocked,
            Self::OperationNotAllowed(_) => ErrorCode::OperationNotAllowed,
            Self::WithdrawalLimitExceeded(_) => ErrorCode::WithdrawalLimitExceeded,
            Self::DailyWithdrawalLimitExceeded(_) => ErrorCode::DailyWithdrawalLimitExceeded,
            Self::AgentDailyLimitExceeded(_) => ErrorCode::AgentDailyLimitExceeded,
            Self::QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
            Self::ItemNotEligible { .. } => ErrorCode::ItemNotEligible,
            Self::UnknownItem(_) => ErrorCode::UnknownItem,
            Self::DuplicateStan(_) => ErrorCode::DuplicateStan,
            Self::OriginalReversed(_) => ErrorCode::OriginalReversed,
            Self::LiveBatchExists { .. } => ErrorCode::LiveBatchExists,
            Self::BatchPaysNobody(_) => ErrorCode::BatchPaysNobody,
            Self::BatchNotCancellable { .. } => ErrorCode::BatchNotCancellable,
            Self::CharacterNotAllowed(_) => ErrorCode::CharacterNotAllowed,
            Self::ImportFileInvalid(_) => ErrorCode::ImportFileInvalid,
            Self::ImportRunning(_) => ErrorCode::ImportRunning,
            Self::PinMailerGone(_) => ErrorCode::PinMailerGone,
            Self::TransmissionTime(TransmissionTimeError::OutOfRange { .. }) => ErrorCode::TransmissionTimeOutOfRange,
            Self::TransmissionTime(TransmissionTimeError::ReversalWindowClosed { .. }) => {
                ErrorCode::ReversalWindowClosed
            }
            Self::Replayed { code, .. } => *code,
            Self::Ledger(LedgerError::Refused(refusal)) => refusal_code(refusal),
            Self::Ledger(LedgerError::Store(store)) | Self::Store(store) => store_code(store),
            Self::Internal(_) => ErrorCode::InternalError,
            Self::ReferenceTaken => ErrorCode::ServiceUnavailable,
        }
    }
}

/// The code of a ledger refusal.
pub fn refusal_code(refusal: &Refusal) -> ErrorCode {
    match refusal {
        Refusal::AccountNotFound { .. } => ErrorCode::AccountNotFound,
        Refusal::AccountClosed { .. } => ErrorCode::AccountClosed,
        Refusal::AccountNotEmpty { .. } => ErrorCode::AccountNotEmpty,
        Refusal::AccountExists { .. } | Refusal::Malformed { .. } => ErrorCode::InvalidRequest,
        Refusal::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
        Refusal::FundsHeld { .. } => ErrorCode::FundsHeld,
        Refusal::DebitBlocked { .. } => ErrorCode::WalletBlocked,
        Refusal::HoldNotFound { .. } => ErrorCode::HoldNotFound,
        Refusal::HoldNotActive { .. } => ErrorCode::HoldNotActive,
        Refusal::JournalNotFound { .. } => ErrorCode::JournalNotFound,
        Refusal::AlreadyReversed { .. } => ErrorCode::AlreadyReversed,
        Refusal::IdempotencyKeyReused { .. } => ErrorCode::IdempotencyKeyReused,
    }
}

/// The code of a mistyped card number.
pub fn card_number_code(error: &CardNumberError) -> ErrorCode {
    match error {
        CardNumberError::WrongLength | CardNumberError::NotDigits | CardNumberError::SerialTooLarge => {
            ErrorCode::CardNumberMalformed
        }
        CardNumberError::BadCheckDigit => ErrorCode::CardNumberCheckDigit,
        CardNumberError::UnknownBank => ErrorCode::CardNumberUnknownBank,
    }
}

fn store_code(error: &StoreError) -> ErrorCode {
    match error {
        StoreError::Unavailable(_) => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::InternalError,
    }
}

/// A refusal is stored with its idempotency key and given again on a retry; an outage or
/// an internal error decided nothing and is not stored. Nor is a transmission time out of
/// range: the request was refused for its terminal's clock, not for what it asks, and
/// kept under its key it would stay refused after the clock is set right.
impl Replayable for ServiceError {
    fn to_stored(&self) -> Option<serde_json::Value> {
        let code = self.code();
        if matches!(
            code,
            ErrorCode::ServiceUnavailable | ErrorCode::InternalError | ErrorCode::TransmissionTimeOutOfRange
        ) {
            return None;
        }
        Some(serde_json::json!({ "code": code, "detail": self.to_string() }))
    }

    fn from_stored(value: serde_json::Value) -> Option<Self> {
        let code = serde_json::from_value(value.get("code")?.clone()).ok()?;
        let detail = value.get("detail")?.as_str()?.to_owned();
        Some(Self::Replayed { code, detail })
    }
}
