//! The audit trail: who changed what, when and why. Append-only.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::audit_events;
use super::{now, on_backend, StoreError, Tx};

/// The longest reason stored, in bytes.
pub const AUDIT_REASON_BYTES_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub at: NaiveDateTime,
    /// `operator:7`, `agent:3`, `family:12` or `system`.
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub reason: String,
    /// JSON with what changed.
    pub details: String,
}

/// What happened, to record.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub reason: &'a str,
    pub details: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct AuditEventInsertForm<'a> {
    at: NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    object_kind: &'a str,
    object_id: &'a str,
    reason: &'a str,
    details: String,
}

/// Appends an event in the caller's transaction, so it is recorded if and only if the
/// change it describes is.
pub fn record(tx: &mut Tx<'_>, record: &AuditRecord<'_>) -> Result<(), StoreError> {
    let reason = record.reason.get(..AUDIT_REASON_BYTES_MAX).unwrap_or(record.reason);
    let form = AuditEventInsertForm {
        at: now(),
        actor: record.actor,
        action: record.action,
        object_kind: record.object_kind,
        object_id: record.object_id,
        reason,
        details: record.details.to_string(),
    };
    on_backend!(tx, connection => diesel::insert_into(audit_events::table).values(&form).execute(connection)?);
    Ok(())
}

/// The events of one object, oldest first.
pub fn find_by_object(tx: &mut Tx<'_>, object_kind: &str, object_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
    on_backend!(tx, connection => Ok(audit_events::table
        .filter(audit_events::object_kind.eq(object_kind))
        .filter(audit_events::object_id.eq(object_id))
        .order(audit_events::id)
        .select(AuditEvent::as_select())
        .load(connection)?))
}

/// The most events one page returns.
pub const AUDIT_PAGE_MAX: i64 = 200;

/// Events matching the filters, oldest first, after the event id `after`.
pub fn find_page(
    tx: &mut Tx<'_>,
    object_kind: Option<&str>,
    object_id: Option<&str>,
    actor: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    on_backend!(tx, connection => {
        let mut query = audit_events::table
            .filter(audit_events::id.gt(after))
            .order(audit_events::id)
            .limit(limit.clamp(1, AUDIT_PAGE_MAX))
            .select(AuditEvent::as_select())
            .into_boxed();
        if let Some(kind) = object_kind {
            query = query.filter(audit_events::object_kind.eq(kind));
        }
        if let Some(id) = object_id {
            query = query.filter(audit_events::object_id.eq(id));
        }
        if let Some(actor) = actor {
            query = query.filter(audit_events::actor.eq(actor));
        }
        Ok(query.load(connection)?)
    })
}
