//! actix-web routes. Handlers are thin: extract, authorize, call one service function,
//! map the result.

pub mod agents;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod binary;
pub mod cards;
pub mod client_address;
pub mod complaints;
pub mod cors;
pub mod disbursements;
pub mod docs;
pub mod edc;
pub mod families;
pub mod family_app;
pub mod family_changes;
pub mod health;
pub mod holds;
pub mod imports;
pub mod method_not_allowed;
pub mod metrics;
pub mod monitoring;
pub mod openapi;
pub mod operators;
pub mod p2k2;
pub mod paging;
pub mod pins;
pub mod problem;
pub mod refusals;
pub mod regions;
pub mod request_log;
pub mod security_headers;
pub mod sessions;
pub mod test_clock;
pub mod text_guard;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App};
use tracing_actix_web::TracingLogger;

use std::sync::Arc;

use crate::domain::card_qr::IssuerKeys;
use crate::service::auth::Auth;
use crate::service::Store;
use auth::AttemptLimiter;
use metrics::Metrics;
use problem::{internal, ApiError, ErrorCode};

/// The largest JSON body accepted, in bytes. The biggest legitimate request (a purchase
/// basket) is a few kilobytes.
pub const JSON_BODY_BYTES_MAX: usize = 64 * 1024;

/// The largest CSV upload accepted, in bytes (100,000 verification rows fit).
pub const CSV_BODY_BYTES_MAX: usize = 8 * 1024 * 1024;

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    /// Where the monitoring pages read: a standby (`--reports-database`), or `store`.
    pub reports: Store,
    pub metrics: Metrics,
    pub auth: Auth,
    pub login_limiter: AttemptLimiter,
    /// Signs the QR printed on every card.
    pub card_issuer: Arc<IssuerKeys>,
    /// Lines paid per transaction when a disbursement runs.
    pub disbursement_chunk_lines: i64,
    /// Browser origins allowed to call the API (CORS); none by default.
    pub cors_origins: cors::CorsOrigins,
    /// Whether `/test-clock` may move the ledger's clock (`kks serve --test-clock`).
    pub test_clock: bool,
    /// The SMS gateway's shared secret; none: the SMS webhook refuses every message.
    pub sms_webhook_secret: Option<crate::config::Secret>,
}

/// The whole application, for the server and for tests.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let test_clock = state.test_clock;
    let cors = state.cors_origins.middleware();
    App::new()
        .app_data(state)
        .app_data(json_config())
        .app_data(web::PayloadConfig::default().limit(CSV_BODY_BYTES_MAX))
        .app_data(web::PathConfig::default().error_handler(|error, _| invalid(error.to_string())))
        .app_data(web::QueryConfig::default().error_handler(|error, _| invalid(error.to_string())))
        // Outermost last: the request id is set first, and every answer, errors included,
        // is counted, localised and carries the security headers; text is checked before
        // any handler runs, and its refusals are localised too.
        .wrap(from_fn(text_guard::refuse_forbidden_characters))
        .wrap(from_fn(problem::localize))
        .wrap(from_fn(metrics::observe))
        .wrap(from_fn(security_headers::add))
        .wrap(cors)
        .wrap(Compress::default())
        .wrap(TracingLogger::<request_log::RequestLog>::new())
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::metrics))
        .route("/openapi.json", web::get().to(openapi::openapi_json))
        .route("/docs", web::get().to(docs::index))
        .route("/docs/{file:.+}", web::get().to(docs::file))
        .route("/dashboard", web::get().to(monitoring::dashboard))
        .route("/dashboard/{file}", web::get().to(monitoring::dashboard_asset))
        .route("/app", web::get().to(family_app::redirect))
        .route("/app/", web::get().to(family_app::index))
        .route("/app/{file}", web::get().to(family_app::file))
        .route("/.well-known/kks-card-issuer", web::get().to(cards::issuer_key))
        .configure(|config| {
            if test_clock {
                config
                    .route("/test-clock", web::get().to(test_clock::read))
                    .route("/test-clock", web::put().to(test_clock::move_forward));
            }
        })
        .service(
            web::scope("/v1")
                .route("/auth/operators/login", web::post().to(sessions::login_operator))
                .route("/auth/agents/login", web::post().to(sessions::login_agent))
                .route("/auth/families/login", web::post().to(sessions::login_family))
                .route("/auth/operators/password", web::post().to(operators::change_own_password))
                .route("/auth/agents/password", web::post().to(agents::change_own_password))
                .route("/auth/refresh", web::post().to(sessions::refresh))
                .route("/auth/logout", web::post().to(sessions::logout))
                .route("/me", web::get().to(sessions::me))
                .route("/audit-events", web::get().to(audit::events))
                .route("/operators", web::post().to(operators::create))
                .route("/operators", web::get().to(operators::list))
                .route("/operators/{operator_id}", web::patch().to(operators::change))
                .route("/operators/{operator_id}/password-reset", web::post().to(operators::reset_password))
                .route("/agents", web::post().to(agents::create))
                .route("/agents", web::get().to(agents::list))
                .route("/agents/{agent_id}", web::get().to(agents::view))
                .route("/agents/{agent_id}", web::patch().to(agents::change))
                .route("/agents/{agent_id}/terminals", web::post().to(agents::add_terminal))
                .route("/agents/{agent_id}/password-reset", web::post().to(agents::reset_password))
                .route("/terminals/{terminal_id}", web::patch().to(agents::change_terminal))
                .route("/regions", web::post().to(regions::add))
                .route("/regions", web::get().to(regions::children))
                .route("/regions/{code}/card-issuance", web::post().to(imports::start_card_issuance))
                .service(method_not_allowed::post_only("/imports/regions", web::post().to(imports::import_regions)))
                .service(method_not_allowed::post_only("/imports/families", web::post().to(imports::import_families)))
                .route("/imports/{id}", web::get().to(imports::view))
                .route("/imports/{id}/pin-mailer", web::get().to(imports::pin_mailer))
                .route("/families", web::post().to(families::register))
                .route("/families/{family_id}", web::get().to(families::profile))
                .route("/families/{family_id}/balances", web::get().to(families::balances))
                .route("/families/{family_id}/cards", web::post().to(families::issue_card))
                .route("/families/{family_id}/exit", web::post().to(families::record_exit))
                .route("/families/{family_id}/changes", web::post().to(family_changes::record_change))
                .route("/families/{family_id}/changes", web::get().to(family_changes::history))
                .route("/families/{family_id}/changes/{change_id}/approve", web::post().to(family_changes::approve))
                .route("/families/{family_id}/changes/{change_id}/reject", web::post().to(family_changes::reject))
                .route("/families/{family_id}/holds", web::post().to(holds::place))
                .route("/holds/{hold_id}/release", web::post().to(holds::release))
                .route("/families/{family_id}/transactions", web::get().to(edc::family_transactions))
                .route("/catalogue", web::get().to(edc::catalogue))
                .route("/edc/balance-inquiries", web::post().to(edc::balance_inquiry))
                .route("/edc/cash-withdrawals", web::post().to(edc::cash_withdrawal))
                .route("/edc/wallet-to-savings", web::post().to(edc::wallet_to_savings))
                .route("/edc/purchases", web::post().to(edc::purchase))
                .route("/edc/reversals", web::post().to(edc::reversal))
                .route("/edc/transactions", web::get().to(edc::transactions))
                .route("/edc/transactions/{reference}/slip.png", web::get().to(edc::slip))
                .route("/edc/settlement", web::get().to(edc::settlement))
                .route("/benefit-schedules", web::get().to(disbursements::schedules))
                .route("/benefit-schedules", web::post().to(disbursements::add_schedule))
                .route("/reconciliation/{programme}", web::get().to(disbursements::reconciliation))
                .route("/disbursements", web::post().to(disbursements::prepare))
                .route("/disbursements/{batch_id}", web::get().to(disbursements::view))
                .route("/disbursements/{batch_id}/approve", web::post().to(disbursements::approve))
                .route("/disbursements/{batch_id}/execute", web::post().to(disbursements::execute))
                .route("/disbursements/{batch_id}/cancel", web::post().to(disbursements::cancel))
                .route("/verifications", web::post().to(disbursements::record))
                .route("/verifications/{cycle}/csv", web::post().to(disbursements::upload))
                .route("/cycles/{cycle}/close", web::post().to(disbursements::close_cycle))
                .route("/monitoring/overview", web::get().to(monitoring::overview))
                .route("/monitoring/families", web::get().to(monitoring::families))
                .service(method_not_allowed::post_only(
                    "/monitoring/families/search",
                    web::post().to(monitoring::search_families),
                ))
                .route("/monitoring/families/{family_id}", web::get().to(monitoring::family))
                .route("/monitoring/indicators", web::get().to(monitoring::indicators))
                .route("/monitoring/graduations", web::get().to(monitoring::graduations))
                .route("/monitoring/complaints", web::get().to(monitoring::complaints))
                .route("/monitoring/p2k2-attendance", web::get().to(monitoring::p2k2_attendance))
                .route("/monitoring/agents", web::get().to(monitoring::agents))
                .route("/facilitators", web::post().to(monitoring::add_facilitator))
                .route("/complaints", web::post().to(complaints::file_complaint))
                .route("/complaints", web::get().to(complaints::list_complaints))
                .service(method_not_allowed::post_only(
                    "/complaints/sms",
                    web::post().to(complaints::file_sms_complaint),
                ))
                .route("/complaints/{complaint_id}", web::get().to(complaints::view_complaint))
                .route("/complaints/{complaint_id}/comments", web::post().to(complaints::comment_complaint))
                .route("/complaints/{complaint_id}/transitions", web::post().to(complaints::transition_complaint))
                .route("/public/complaints", web::post().to(complaints::file_public_complaint))
                .route("/p2k2-sessions", web::post().to(p2k2::record_session))
                .route("/p2k2-sessions", web::get().to(p2k2::list_sessions))
                .route("/cards/check-qr", web::post().to(cards::check_qr))
                .route("/cards/{card_number}", web::get().to(cards::find))
                .route("/cards/{card_number}/image.png", web::get().to(cards::image))
                .route("/cards/{card_number}/history", web::get().to(cards::history))
                .route("/cards/{card_number}/report-lost", web::post().to(cards::report_lost))
                .route("/cards/{card_number}/replace", web::post().to(cards::replace))
                .route("/cards/{card_number}/pin", web::put().to(pins::change_pin))
                .route("/cards/{card_number}/pin-reset", web::post().to(pins::reset_pin))
                .configure(method_not_allowed::register(Some("/v1"))),
        )
        .configure(method_not_allowed::register(None))
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(JSON_BODY_BYTES_MAX).error_handler(|error, _| {
        use actix_web::error::JsonPayloadError;
        let api_error = match &error {
            JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType, error.to_string()),
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                ApiError::new(ErrorCode::PayloadTooLarge, format!("the body exceeds {JSON_BODY_BYTES_MAX} bytes"))
            }
            _ => ApiError::new(ErrorCode::InvalidRequest, error.to_string()),
        };
        api_error.into()
    })
}

fn invalid(detail: String) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidRequest, detail).into()
}

/// Runs blocking database work off the async workers.
pub async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    match web::block(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(error) => Err(internal(&error)),
    }
}
