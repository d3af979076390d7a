//! Typed row ids, so an account id is never passed where a hold id belongs.

use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "{}", self.0)
            }
        }
    )*};
}

row_id!(
    /// An account in the ledger.
    AccountId,
    /// A journal: one balanced business movement.
    JournalId,
    /// A hold on an account's money.
    HoldId,
);
