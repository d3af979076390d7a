//! Reading the audit trail: the whole trail for national operators, one card's history for
//! whoever may see the card.

use crate::domain::auth::RegionScope;
use crate::domain::card::CardNumber;
use crate::service::access;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::audit;
use crate::store::Store;

pub use crate::store::audit::{AuditEvent, AUDIT_PAGE_MAX};

/// Which events of the trail a page holds.
pub struct AuditFilter {
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub actor: Option<String>,
    /// Events after this id.
    pub after: i64,
    /// At most this many (checked against [`AUDIT_PAGE_MAX`] at the door).
    pub limit: i64,
}

/// A page of the whole trail, oldest first: for national operators only.
pub fn events(store: &Store, principal: &Principal, filter: &AuditFilter) -> Result<Vec<AuditEvent>, ServiceError> {
    if !matches!(principal, Principal::Operator { scope: RegionScope::National, .. }) {
        return Err(ServiceError::Forbidden("the whole audit trail is for national operators".to_owned()));
    }
    Ok(store.read(|tx| {
        audit::find_page(
            tx,
            filter.object_kind.as_deref(),
            filter.object_id.as_deref(),
            filter.actor.as_deref(),
            filter.after,
            filter.limit,
        )
    })?)
}

/// The card's history (issue, loss, replacement, PIN changes), if the principal may see the card.
pub fn card_history(
    store: &Store,
    principal: &Principal,
    card_number: &CardNumber,
) -> Result<Vec<AuditEvent>, ServiceError> {
    store.read(|tx| {
        access::visible_card(tx, principal, card_number)?;
        Ok(audit::find_by_object(tx, "card", card_number.as_str())?)
    })
}
