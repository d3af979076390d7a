//! A family logs in from the app with its card number and PIN.
//!
//! The answer to a wrong PIN and to a card number no card has is the same
//! (`WRONG_CARD_OR_PIN`), so the login does not tell an outsider which numbers exist.
//! Attempts are throttled per card number and per client address
//! ([`crate::domain::login_throttle`]), in the database so that every server counts them,
//! and never touch the card's PIN counter: that one is the agent terminal's. What the card
//! itself says (lost, replaced, expired, PIN locked at the terminal) is told only to the
//! one who typed its right PIN.

use std::net::IpAddr;

use chrono::NaiveDateTime;

use crate::domain::auth::Pin;
use crate::domain::card::CardNumber;
use crate::domain::family::CardStatus;
use crate::domain::login_throttle::{delay_after, ThrottleKey, FAILURES_FORGOTTEN_AFTER};
use crate::service::cards::refusal_for_status;
use crate::service::ServiceError;
use crate::store::login_throttles::{self, Attempt};
use crate::store::{cards, families, now, Store, StoreError, Tx};

use super::tokens::TokenPair;
use super::{pin, Auth, Principal};

pub fn login_family(
    store: &Store,
    auth: &Auth,
    card_number: &CardNumber,
    pin: &Pin,
    client: IpAddr,
) -> Result<TokenPair, ServiceError> {
    let family_id = store.write(|tx| check(tx, auth, card_number, pin, client))??;
    let family = store.read(|tx| families::find_by_id(tx, family_id))?.ok_or(ServiceError::NotFound("family"))?;
    auth.tokens.issue_pair(&Principal::Family { id: family.id }, family.token_version)
}

/// The family whose card and PIN these are. A refusal commits: the failures it counted
/// must stay counted.
fn check(
    tx: &mut Tx<'_>,
    auth: &Auth,
    card_number: &CardNumber,
    pin: &Pin,
    client: IpAddr,
) -> Result<Result<i64, ServiceError>, StoreError> {
    let at = now();
    let forget_before = at - chrono::Duration::from_std(FAILURES_FORGOTTEN_AFTER).unwrap_or(chrono::Duration::zero());
    let keys = [ThrottleKey::Client(client), ThrottleKey::Card(card_number.as_str().to_owned())];
    // Each attempt is counted as a failure before the PIN is looked at, so parallel
    // guesses cannot all pass one open moment; a right PIN takes its count back.
    for key in &keys {
        let subject = key.as_text();
        match login_throttles::take_attempt(tx, &subject, at, forget_before)? {
            Attempt::Blocked { until } => return Ok(Err(throttled(at, until))),
            Attempt::Taken { failures } => {
                let delay = chrono::Duration::from_std(delay_after(key, failures)).unwrap_or(chrono::Duration::zero());
                login_throttles::block_until(tx, &subject, at + delay)?;
            }
        }
    }
    let card = cards::find_by_number(tx, card_number)?;
    let matched = match &card {
        Some(card) => pin::pin_matches(tx, &auth.pin_keys, card, pin)?,
        None => Ok(false),
    };
    let card = match (card, matched) {
        (Some(card), Ok(true)) => card,
        (_, refused) => {
            login_throttles::sweep(tx, forget_before)?;
            return Ok(Err(refused.err().unwrap_or(ServiceError::WrongCardOrPin)));
        }
    };
    let [client_key, card_key] = keys;
    login_throttles::forgive_one(tx, &client_key.as_text())?;
    login_throttles::forget(tx, &card_key.as_text())?;
    Ok(match card.status {
        _ if card.pin_locked_at.is_some() => Err(ServiceError::PinLocked),
        CardStatus::Active if card.expires_on < at.date() => Err(ServiceError::CardExpired),
        CardStatus::Active => Ok(card.family_id),
        other => Err(refusal_for_status(other)),
    })
}

fn throttled(at: NaiveDateTime, until: NaiveDateTime) -> ServiceError {
    let wait = (until - at).to_std().unwrap_or_default();
    ServiceError::LoginThrottled { wait }
}
