//! The OpenAPI document, generated from the route annotations. `openapi/openapi.json`
//! is its committed copy; the test suite fails when the two drift apart.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::health::{self, Health};
use super::problem::{ErrorCode, Problem};
use super::refusals::ListedRefusals;
use super::{
    agents, audit, cards, complaints, disbursements, edc, families, family_changes, holds, imports, metrics,
    monitoring, operators, p2k2, pins, regions, sessions,
};
use crate::domain::card::CardNumber;
use crate::domain::transmission::TransmittedAt;
use crate::service::auth::tokens::TokenPair;
use crate::service::auth::Role;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "KKS API",
        description = "Non-cash social assistance on the Kartu Keluarga Sejahtera combo card: \
                       cards, e-wallets, a double-entry ledger with holds, agent EDC transactions \
                       and stage disbursements.\n\nEvery error is `application/problem+json` with \
                       a stable `code` (see the `ErrorCode` schema); send `Accept-Language: id` \
                       for titles in Bahasa Indonesia."
    ),
    paths(
        health::healthz,
        health::readyz,
        metrics::metrics,
        openapi_json,
        sessions::login_operator,
        sessions::login_agent,
        sessions::login_family,
        operators::change_own_password,
        agents::change_own_password,
        sessions::refresh,
        sessions::logout,
        sessions::me,
        pins::change_pin,
        pins::reset_pin,
        regions::add,
        regions::children,
        families::register,
        families::profile,
        families::balances,
        families::issue_card,
        families::record_exit,
        family_changes::record_change,
        family_changes::history,
        family_changes::approve,
        family_changes::reject,
        holds::place,
        holds::release,
        cards::find,
        cards::image,
        cards::history,
        cards::report_lost,
        cards::replace,
        cards::check_qr,
        cards::issuer_key,
        edc::balance_inquiry,
        edc::cash_withdrawal,
        edc::wallet_to_savings,
        edc::purchase,
        edc::reversal,
        edc::transactions,
        edc::settlement,
        edc::slip,
        edc::catalogue,
        edc::family_transactions,
        disbursements::prepare,
        disbursements::view,
        disbursements::approve,
        disbursements::execute,
        disbursements::cancel,
        disbursements::record,
        disbursements::upload,
        disbursements::close_cycle,
        disbursements::schedules,
        disbursements::add_schedule,
        disbursements::reconciliation,
        audit::events,
        operators::create,
        operators::list,
        operators::change,
        operators::reset_password,
        agents::create,
        agents::list,
        agents::view,
        agents::change,
        agents::add_terminal,
        agents::reset_password,
        agents::change_terminal,
        monitoring::overview,
        monitoring::families,
        monitoring::search_families,
        monitoring::family,
        monitoring::indicators,
        monitoring::graduations,
        monitoring::complaints,
        monitoring::p2k2_attendance,
        complaints::file_complaint,
        complaints::file_public_complaint,
        complaints::file_sms_complaint,
        complaints::list_complaints,
        complaints::view_complaint,
        complaints::comment_complaint,
        complaints::transition_complaint,
        p2k2::record_session,
        p2k2::list_sessions,
        monitoring::agents,
        monitoring::add_facilitator,
        imports::import_regions,
        imports::import_families,
        imports::view,
        imports::start_card_issuance,
        imports::pin_mailer,
    ),
    components(schemas(
        Problem,
        ErrorCode,
        Health,
        CardNumber,
        TransmittedAt,
        Role,
        TokenPair,
        sessions::OperatorLogin,
        sessions::AgentLogin,
        sessions::FamilyLogin,
        sessions::RefreshRequest,
        sessions::Me,
        pins::PinChange,
        pins::PinReset,
        operators::PasswordChange,
        monitoring::ExportFormat,
    )),
    modifiers(&BearerSecurity, &UtcTimestamps, &ListedRefusals),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "auth", description = "Logging in and out: operators, agents on a terminal, families with card and PIN"),
        (name = "cards", description = "KKS cards: issue, lifecycle, QR, image, PINs"),
        (name = "families", description = "Beneficiary families (KPM), their profile and balances"),
        (name = "imports", description = "Bulk imports of regions and families from CSV files, and bulk card issuance with its PIN mailer"),
        (name = "people", description = "Programme staff: admins add, change, disable and reset the people of their region"),
        (name = "agents", description = "Bank agents and e-Warong: admins register them and their EDC terminals, move and deactivate terminals, deactivate agents"),
        (name = "regions", description = "The official region hierarchy"),
        (name = "disbursements", description = "Stage disbursements (maker–checker) and the conditionality cycle"),
        (name = "edc", description = "The agent's EDC terminal: card transactions, reversal, history, settlement"),
        (name = "complaints", description = "Complaints (pengaduan) from every channel: operators, families, the public web form, the SMS gateway; timeline, status and one resolution"),
        (name = "monitoring", description = "Monitoring for operators: disbursement and absorption from national down to one family, indicators, agent activity (JSON or CSV)"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme that protected operations name.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The API writes its timestamps in UTC without an offset (`2017-03-01T08:00:00.123456`,
/// chrono's `NaiveDateTime`) and reads them so. JSON Schema's `date-time` is RFC 3339,
/// which requires an offset, so it described neither: schemathesis found the answers
/// "not a date-time". Each such field is documented as a string of this pattern instead.
struct UtcTimestamps;

/// A UTC timestamp as the API writes and reads it.
const UTC_TIMESTAMP_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?$";

impl Modify for UtcTimestamps {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut document) = serde_json::to_value(&*openapi) else { return };
        describe_timestamps(&mut document);
        if let Ok(described) = serde_json::from_value(document) {
            *openapi = described;
        }
    }
}

fn describe_timestamps(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(schema) => {
            if schema.get("format").and_then(Value::as_str) == Some("date-time") {
                schema.remove("format");
                schema.insert("pattern".to_owned(), Value::from(UTC_TIMESTAMP_PATTERN));
                schema
                    .entry("description")
                    .or_insert_with(|| Value::from("UTC date and time, ISO 8601 without an offset"));
            }
            schema.values_mut().for_each(describe_timestamps);
        }
        Value::Array(items) => items.iter_mut().for_each(describe_timestamps),
        _ => {}
    }
}

/// The document as served and committed: pretty JSON with a trailing newline.
pub fn document_json() -> Result<String, serde_json::Error> {
    Ok(format!("{}\n", ApiDoc::openapi().to_pretty_json()?))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Result<HttpResponse, super::problem::ApiError> {
    let document = document_json().map_err(|error| super::problem::internal(&error))?;
    Ok(HttpResponse::Ok().content_type("application/json").body(document))
}
