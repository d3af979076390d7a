//! What a use case answers when it does not succeed. The HTTP layer maps each variant
//! to one stable problem code.

use crate::domain::family::FamilyRuleError;
use crate::domain::nik::NikError;
use crate::ledger::LedgerError;
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
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    /// The token was valid once but has been revoked (logout, password change).
    #[error("the token has been revoked; log in again")]
    TokenRevoked,
    /// Wrong user name or password (which one is not said).
    #[error("wrong user name or password")]
    WrongCredentials,
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("wrong PIN; {attempts_left} attempts left before the PIN locks")]
    WrongPin { attempts_left: i32 },
    #[error("the PIN is locked after too many wrong attempts; an operator must reset it")]
    PinLocked,
    #[error("the card was reported lost or stolen")]
    CardLost,
    #[error("the card was replaced by a newer card")]
    CardReplaced,
    #[error("the card has expired")]
    CardExpired,
    #[error("this terminal does not belong to the agent, or is disabled")]
    TerminalNotAllowed,
    #[error("NIK: {0}")]
    NikInvalid(#[from] NikError),
    #[error(transparent)]
    FamilyRules(#[from] FamilyRuleError),
    #[error("a family with this NIK is already registered")]
    FamilyExists,
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
    /// A rule of the code itself was broken; logged, answered as an internal error.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(StoreError::from(error))
    }
}
