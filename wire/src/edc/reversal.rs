//! Reversal: the terminal did not hear back and cancels its request, naming the original
//! by STAN and transmission time as ISO 8583's field 90 does; the answer says what the
//! reversal did.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Stan;
use crate::transmission::TransmittedAt;

/// The transaction a reversal cancels, as the terminal names it.
#[derive(Debug, Clone)]
pub struct Original {
    pub stan: Stan,
    /// When the terminal sent the original: its business day is the original's slot.
    pub transmitted_at: TransmittedAt,
}

/// What a reversal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReversalOutcome {
    /// The original was approved; its money is back where it was.
    Reversed,
    /// The original never arrived; if it does, it will be refused.
    OriginalVoided,
    /// Nothing left to do: reversed before.
    AlreadyReversed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReversalResult {
    pub outcome: ReversalOutcome,
    pub original_stan: String,
    /// The original's reference, when it had arrived.
    pub original_reference: Option<String>,
}
