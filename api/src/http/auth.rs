//! Who is calling: the bearer-token extractor, and the per-client limiter for login and
//! PIN attempts.

use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_address::TrustedProxies;
use super::problem::{internal, ApiError, ErrorCode};
use super::{blocking, AppState};
use crate::domain::login_throttle::seconds_rounded_up;
use crate::service;
use crate::service::auth::Principal;

/// A caller proven by a valid, unrevoked access token.
pub struct Authenticated(pub Principal);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The token is checked at once, so that a missing or forged one is answered 401
        // before the body, the query or other headers are looked at (extractors that fail
        // at once would otherwise answer first); only the revocation check waits.
        let verified = VerifiedToken::from_request_now(request);
        Box::pin(async move {
            let (state, VerifiedToken { principal, version }) = verified?;
            let store = state.store.clone();
            let principal = blocking(move || service::auth::check_not_revoked(&store, principal, version)).await?;
            Ok(Self(principal))
        })
    }
}

/// A caller whose access token verifies (signature, algorithm, issuer, audience, lifetime),
/// not yet checked for revocation: for a service that reads the caller's record in its own
/// transaction anyway and checks the version there (card transactions), which saves a
/// database read and a connection check-out per request. Anything else takes
/// [`Authenticated`].
pub struct VerifiedToken {
    pub principal: Principal,
    /// The token version the token carries; current unless the subject logged out since.
    pub version: i64,
}

impl VerifiedToken {
    fn from_request_now(request: &HttpRequest) -> Result<(web::Data<AppState>, Self), ApiError> {
        let state = request
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| internal(&"the application state is missing"))?;
        let (principal, version) = service::auth::verify_access_token(&state.auth, &bearer_token(request)?)?;
        Ok((state, Self { principal, version }))
    }
}

impl FromRequest for VerifiedToken {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::from_request_now(request).map(|(_, token)| token))
    }
}

fn bearer_token(request: &HttpRequest) -> Result<String, ApiError> {
    let unauthenticated = |detail: &str| ApiError::new(ErrorCode::Unauthenticated, detail);
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthenticated("send an Authorization: Bearer <token> header"))?;
    let value = value.to_str().map_err(|_| unauthenticated("the Authorization header is not text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_owned())
        }
        _ => Err(unauthenticated("the Authorization header must be: Bearer <token>")),
    }
}

/// Clients remembered by the limiter before forgetting idle ones, to bound its memory.
const LIMITED_CLIENTS_MAX: usize = 100_000;

/// Limits login and PIN attempts per client address. Per process: with several servers,
/// a client gets this many attempts on each; the PIN lock itself is in the database.
pub struct AttemptLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    proxies: TrustedProxies,
}

impl AttemptLimiter {
    pub fn per_minute(attempts: u32, proxies: TrustedProxies) -> Self {
        let attempts = NonZeroU32::new(attempts).unwrap_or(NonZeroU32::MIN);
        Self { limiter: RateLimiter::keyed(Quota::per_minute(attempts)), proxies }
    }

    /// The address the request comes from (see [`TrustedProxies`]).
    pub fn client_of(&self, request: &HttpRequest) -> IpAddr {
        self.proxies.client_of(request)
    }

    /// Counts an attempt from the request's client; 429 with `Retry-After` when over.
    pub fn check(&self, request: &HttpRequest) -> Result<(), ApiError> {
        if self.limiter.len() > LIMITED_CLIENTS_MAX {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&self.client_of(request)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError {
                retry_after_seconds: Some(seconds_rounded_up(wait)),
                ..ApiError::new(ErrorCode::TooManyRequests, "too many login or PIN attempts from this client")
            }
        })
    }
}
