//! `GET`/`PUT /test-clock`: reads and moves the ledger's clock forward, on a server started
//! with `--test-clock` only (refused in production). For tests that cross stage openings
//! and midnight WIB; not part of the API that clients use, so not in the OpenAPI document.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::problem::{ApiError, ErrorCode};
use crate::service::clock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSetting {
    /// The UTC moment the clock should read; never earlier than it reads now.
    pub now: NaiveDateTime,
}

#[derive(Serialize)]
pub struct ClockReading {
    pub now: NaiveDateTime,
}

pub async fn read() -> HttpResponse {
    HttpResponse::Ok().json(ClockReading { now: clock::now() })
}

pub async fn move_forward(setting: web::Json<ClockSetting>) -> Result<HttpResponse, ApiError> {
    let now = clock::move_forward_to(setting.now)
        .map_err(|error| ApiError::new(ErrorCode::InvalidRequest, error.to_string()))?;
    Ok(HttpResponse::Ok().json(ClockReading { now }))
}
