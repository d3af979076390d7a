//! Reading complaints: a page of those the caller sees, or one with its timeline.

use crate::domain::complaint::{Category, ComplaintStatus};
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::complaints::{self, ComplaintFilter};
use crate::store::{now, Store};

use super::{detail, visibility, visible_complaint, ComplaintDetail, ComplaintView};

/// The most complaints one page returns.
pub const COMPLAINTS_PAGE_MAX: i64 = 200;

/// Which complaints a page holds.
#[derive(Debug, Clone)]
pub struct ComplaintQuery {
    pub status: Option<ComplaintStatus>,
    pub category: Option<Category>,
    /// Only the open complaints past their deadline.
    pub overdue: bool,
    /// Complaints with a greater id.
    pub after: i64,
    /// 1 to [`COMPLAINTS_PAGE_MAX`], checked at the door.
    pub limit: i64,
}

/// A page of the complaints the caller sees, oldest first.
pub fn list(store: &Store, principal: &Principal, query: &ComplaintQuery) -> Result<Vec<ComplaintView>, ServiceError> {
    let visibility = visibility(principal)?;
    let at = now();
    let filter = ComplaintFilter {
        visibility,
        status: query.status,
        category: query.category,
        overdue_at: query.overdue.then_some(at),
        after: query.after,
        limit: query.limit.clamp(1, COMPLAINTS_PAGE_MAX),
    };
    let page = store.read(|tx| complaints::find_page(tx, &filter))?;
    Ok(page.into_iter().map(|complaint| ComplaintView::of(complaint, at)).collect())
}

/// One complaint with its timeline, if the caller may see it.
pub fn view(store: &Store, principal: &Principal, id: i64) -> Result<ComplaintDetail, ServiceError> {
    store.read(|tx| {
        let complaint = visible_complaint(tx, principal, id)?;
        detail(tx, complaint)
    })
}
