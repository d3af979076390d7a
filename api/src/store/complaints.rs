//! Complaints and their timelines.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{complaint_events, complaints};
use super::{on_backend, parse_stored, StoreError, Tx};
use crate::domain::complaint::{Category, Channel, ComplaintStatus, EventKind, Priority};

/// A complaint on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub id: i64,
    pub channel: Channel,
    pub category: Category,
    pub priority: Priority,
    pub status: ComplaintStatus,
    pub region_code: Option<String>,
    pub family_id: Option<i64>,
    pub card_number: Option<String>,
    pub agent_id: Option<i64>,
    pub edc_reference: Option<String>,
    pub hold_id: Option<i64>,
    pub description: String,
    pub contact: String,
    pub assignee: Option<String>,
    pub filed_by: String,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = complaints)]
struct ComplaintRow {
    id: i64,
    channel: String,
    category: String,
    priority: String,
    status: String,
    region_code: Option<String>,
    family_id: Option<i64>,
    card_number: Option<String>,
    agent_id: Option<i64>,
    edc_reference: Option<String>,
    hold_id: Option<i64>,
    description: String,
    contact: String,
    assignee: Option<String>,
    filed_by: String,
    received_at: NaiveDateTime,
    due_at: NaiveDateTime,
    settled_at: Option<NaiveDateTime>,
}

impl TryFrom<ComplaintRow> for Complaint {
    type Error = StoreError;
    fn try_from(row: ComplaintRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            channel: parse_stored("complaints.channel", &row.channel)?,
            category: parse_stored("complaints.category", &row.category)?,
            priority: parse_stored("complaints.priority", &row.priority)?,
            status: parse_stored("complaints.status", &row.status)?,
            region_code: row.region_code,
            family_id: row.family_id,
            card_number: row.card_number,
            agent_id: row.agent_id,
            edc_reference: row.edc_reference,
            hold_id: row.hold_id,
            description: row.description,
            contact: row.contact,
            assignee: row.assignee,
            filed_by: row.filed_by,
            received_at: row.received_at,
            due_at: row.due_at,
            settled_at: row.settled_at,
        })
    }
}

/// A complaint to file.
#[derive(Insertable)]
#[diesel(table_name = complaints)]
pub struct ComplaintInsertForm<'a> {
    pub channel: &'a str,
    pub category: &'a str,
    pub priority: &'a str,
    pub status: &'a str,
    pub region_code: Option<&'a str>,
    pub family_id: Option<i64>,
    pub card_number: Option<&'a str>,
    pub agent_id: Option<i64>,
    pub edc_reference: Option<&'a str>,
    pub description: &'a str,
    pub contact: &'a str,
    pub assignee: Option<&'a str>,
    pub filed_by: &'a str,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
}

pub fn insert(tx: &mut Tx<'_>, form: &ComplaintInsertForm<'_>) -> Result<Complaint, StoreError> {
    let row: ComplaintRow = on_backend!(tx, connection => diesel::insert_into(complaints::table)
        .values(form)
        .returning(ComplaintRow::as_returning())
        .get_result(connection)?);
    Complaint::try_from(row)
}

pub fn find_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<Complaint>, StoreError> {
    let row: Option<ComplaintRow> = on_backend!(tx, connection => complaints::table
        .find(id)
        .select(ComplaintRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Complaint::try_from).transpose()
}

/// Records the investigation hold the complaint placed.
pub fn set_hold(tx: &mut Tx<'_>, id: i64, hold_id: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(complaints::table.find(id))
        .set(complaints::hold_id.eq(hold_id))
        .execute(connection)?);
    Ok(())
}

/// Moves the complaint from `from` to `to` if it is still `from`; `false` if another
/// request moved it first.
pub fn change_status(
    tx: &mut Tx<'_>,
    id: i64,
    from: ComplaintStatus,
    to: ComplaintStatus,
    settled_at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    let changed = on_backend!(tx, connection => diesel::update(
        complaints::table.find(id).filter(complaints::status.eq(from.as_ref())),
    )
    .set((complaints::status.eq(to.as_ref()), complaints::settled_at.eq(settled_at)))
    .execute(connection)?);
    Ok(changed == 1)
}

pub fn set_assignee(tx: &mut Tx<'_>, id: i64, assignee: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(complaints::table.find(id))
        .set(complaints::assignee.eq(assignee))
        .execute(connection)?);
    Ok(())
}

/// Whose complaints a list may hold.
#[derive(Debug, Clone, Copy)]
pub enum Visibility<'a> {
    /// A national operator: every complaint, those without a region too.
    All,
    /// An operator of a region: the complaints filed in it.
    Region(&'a str),
    /// A family: its own.
    Family(i64),
}

/// What a page of complaints holds.
#[derive(Debug, Clone)]
pub struct ComplaintFilter<'a> {
    pub visibility: Visibility<'a>,
    pub status: Option<ComplaintStatus>,
    pub category: Option<Category>,
    /// Only the open complaints due before this moment.
    pub overdue_at: Option<NaiveDateTime>,
    /// Complaints with a greater id.
    pub after: i64,
    pub limit: i64,
}

const OPEN_STATUSES: [&str; 3] = ["received", "in_progress", "escalated"];

/// A page of complaints, oldest first.
pub fn find_page(tx: &mut Tx<'_>, filter: &ComplaintFilter<'_>) -> Result<Vec<Complaint>, StoreError> {
    let rows: Vec<ComplaintRow> = on_backend!(tx, connection => {
        let mut query = complaints::table
            .filter(complaints::id.gt(filter.after))
            .order(complaints::id)
            .limit(filter.limit)
            .select(ComplaintRow::as_select())
            .into_boxed();
        match filter.visibility {
            Visibility::All => {}
            Visibility::Region(prefix) => {
                query = query.filter(
                    complaints::region_code.eq(prefix).or(complaints::region_code.like(format!("{prefix}.%"))),
                );
            }
            Visibility::Family(family_id) => query = query.filter(complaints::family_id.eq(family_id)),
        }
        if let Some(status) = filter.status {
            query = query.filter(complaints::status.eq(<&'static str>::from(status)));
        }
        if let Some(category) = filter.category {
            query = query.filter(complaints::category.eq(<&'static str>::from(category)));
        }
        if let Some(now) = filter.overdue_at {
            query = query.filter(complaints::status.eq_any(OPEN_STATUSES)).filter(complaints::due_at.lt(now));
        }
        query.load(connection)?
    });
    rows.into_iter().map(Complaint::try_from).collect()
}

/// Complaints of a region (all when `None`) counted by region, category and status.
pub fn count_by_status(tx: &mut Tx<'_>, region: Option<&str>) -> Result<Vec<ComplaintCount>, StoreError> {
    let rows: Vec<(Option<String>, String, String, i64)> = on_backend!(tx, connection => {
        let mut query = complaints::table
            .group_by((complaints::region_code, complaints::category, complaints::status))
            .select((complaints::region_code, complaints::category, complaints::status, diesel::dsl::count_star()))
            .into_boxed();
        if let Some(prefix) = region {
            query = query.filter(complaints::region_code.eq(prefix).or(complaints::region_code.like(format!("{prefix}.%"))));
        }
        query.load(connection)?
    });
    rows.into_iter()
        .map(|(region_code, category, status, complaints)| {
            Ok(ComplaintCount {
                region_code,
                category: parse_stored("complaints.category", &category)?,
                status: Some(parse_stored("complaints.status", &status)?),
                complaints,
            })
        })
        .collect()
}

/// Open complaints of a region (all when `None`) past their deadline at `now`, counted by
/// region and category (`status` is `None`).
pub fn count_overdue(
    tx: &mut Tx<'_>,
    region: Option<&str>,
    now: NaiveDateTime,
) -> Result<Vec<ComplaintCount>, StoreError> {
    let rows: Vec<(Option<String>, String, i64)> = on_backend!(tx, connection => {
        let mut query = complaints::table
            .filter(complaints::status.eq_any(OPEN_STATUSES))
            .filter(complaints::due_at.lt(now))
            .group_by((complaints::region_code, complaints::category))
            .select((complaints::region_code, complaints::category, diesel::dsl::count_star()))
            .into_boxed();
        if let Some(prefix) = region {
            query = query.filter(complaints::region_code.eq(prefix).or(complaints::region_code.like(format!("{prefix}.%"))));
        }
        query.load(connection)?
    });
    rows.into_iter()
        .map(|(region_code, category, complaints)| {
            Ok(ComplaintCount {
                region_code,
                category: parse_stored("complaints.category", &category)?,
                status: None,
                complaints,
            })
        })
        .collect()
}

/// One group of [`count_by_status`] or [`count_overdue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintCount {
    pub region_code: Option<String>,
    pub category: Category,
    pub status: Option<ComplaintStatus>,
    pub complaints: i64,
}

/// A line of a complaint's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintEvent {
    pub id: i64,
    pub kind: EventKind,
    /// The complaint's status after the event.
    pub status: ComplaintStatus,
    pub text: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = complaint_events)]
pub struct EventInsertForm<'a> {
    pub complaint_id: i64,
    pub kind: &'a str,
    pub status: &'a str,
    pub text: &'a str,
    pub actor: &'a str,
    pub at: NaiveDateTime,
}

pub fn insert_event(tx: &mut Tx<'_>, form: &EventInsertForm<'_>) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::insert_into(complaint_events::table).values(form).execute(connection)?);
    Ok(())
}

/// The complaint's timeline, oldest first.
pub fn find_events(tx: &mut Tx<'_>, complaint_id: i64) -> Result<Vec<ComplaintEvent>, StoreError> {
    let rows: Vec<(i64, String, String, String, String, NaiveDateTime)> = on_backend!(tx, connection => complaint_events::table
        .filter(complaint_events::complaint_id.eq(complaint_id))
        .order(complaint_events::id)
        .select((
            complaint_events::id,
            complaint_events::kind,
            complaint_events::status,
            complaint_events::text,
            complaint_events::actor,
            complaint_events::at,
        ))
        .load(connection)?);
    rows.into_iter()
        .map(|(id, kind, status, text, actor, at)| {
            Ok(ComplaintEvent {
                id,
                kind: parse_stored("complaint_events.kind", &kind)?,
                status: parse_stored("complaint_events.status", &status)?,
                text,
                actor,
                at,
            })
        })
        .collect()
}

/// Whether the complaint has its resolution already.
pub fn has_resolution(tx: &mut Tx<'_>, complaint_id: i64) -> Result<bool, StoreError> {
    let count: i64 = on_backend!(tx, connection => complaint_events::table
        .filter(complaint_events::complaint_id.eq(complaint_id))
        .filter(complaint_events::kind.eq(EventKind::Resolution.as_ref()))
        .count()
        .get_result(connection)?);
    Ok(count > 0)
}
