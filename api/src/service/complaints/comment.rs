//! A comment on a complaint's timeline: by an operator who sees it, or by the family whose
//! complaint it is. A comment never changes the status.

use crate::domain::complaint::EventKind;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::Store;

use super::{add_event, check_text, detail, visible_complaint, ComplaintDetail};

pub fn comment(store: &Store, principal: &Principal, id: i64, text: &str) -> Result<ComplaintDetail, ServiceError> {
    check_text("text", text, true)?;
    let actor = principal.subject();
    store.write(|tx| {
        let complaint = visible_complaint(tx, principal, id)?;
        add_event(tx, complaint.id, EventKind::Comment, complaint.status, text, &actor)?;
        detail(tx, complaint)
    })
}
