//! Card PIN checks on every card transaction and family login; PIN changes and resets.
//!
//! A wrong PIN must be counted even though the answer is a refusal, so these functions
//! return `Result<Result<_, ServiceError>, StoreError>`: the outer error rolls the
//! transaction back (nothing was decided), the inner refusal commits its count.

use crate::domain::auth::Pin;
use crate::domain::card::CardNumber;
use crate::domain::family::CardStatus;
use crate::domain::pin_attempts::{decide_pin, PinDecision};
use crate::domain::pin_keys::{PinKeys, PinMatch};
use crate::service::cards::refusal_for_status;
use crate::service::ServiceError;
use crate::store::cards::{self, Card};
use crate::store::{audit, families, StoreError, Tx};

use super::principal::Principal;

/// A refusal to commit, or the value.
pub type Answer<T> = Result<Result<T, ServiceError>, StoreError>;

/// The card, if it exists and may transact today.
pub fn find_usable_card(tx: &mut Tx<'_>, card_number: &CardNumber) -> Result<Result<Card, ServiceError>, StoreError> {
    let Some(card) = cards::find_by_number(tx, card_number)? else {
        return Ok(Err(ServiceError::NotFound("card")));
    };
    Ok(match card.status {
        CardStatus::Active if card.expires_on < chrono::Utc::now().date_naive() => Err(ServiceError::CardExpired),
        CardStatus::Active => Ok(card),
        other => Err(refusal_for_status(other)),
    })
}

/// Whether `pin` is the card's PIN, checked with the key its value was made under; a right
/// PIN kept under an older key is re-keyed to the newest in this transaction. A value
/// under a key no longer configured cannot be checked: refused until an operator resets it.
pub fn pin_matches(tx: &mut Tx<'_>, pin_keys: &PinKeys, card: &Card, pin: &Pin) -> Answer<bool> {
    Ok(match pin_keys.check(card.card_number.as_str(), pin, &card.pin) {
        PinMatch::Right { rekeyed } => {
            if let Some(rekeyed) = rekeyed {
                cards::rekey_pin(tx, &card.card_number, &card.pin, &rekeyed)?;
            }
            Ok(true)
        }
        PinMatch::Wrong => Ok(false),
        PinMatch::KeyRetired(version) => Err(ServiceError::PinKeyRetired(version)),
    })
}

/// Checks the PIN typed for `card` by the lock rule ([`decide_pin`]): a right PIN clears
/// earlier wrong ones; a wrong one is counted, and the third in a row locks the PIN.
pub fn check_pin(tx: &mut Tx<'_>, pin_keys: &PinKeys, card: &Card, pin: &Pin) -> Answer<()> {
    if card.pin_locked_at.is_some() {
        return Ok(Err(ServiceError::PinLocked));
    }
    let pin_is_right = match pin_matches(tx, pin_keys, card, pin)? {
        Ok(right) => right,
        Err(refusal) => return Ok(Err(refusal)),
    };
    // A wrong PIN is counted before the rule decides, by one conditional update: of
    // parallel wrong PINs each sees the attempts before it, so the third still locks.
    let wrong_attempts_before = if pin_is_right {
        card.pin_failed_attempts
    } else {
        match cards::count_wrong_pin(tx, &card.card_number)? {
            Some(before) => before,
            None => return Ok(Err(ServiceError::PinLocked)),
        }
    };
    Ok(match decide_pin(wrong_attempts_before, pin_is_right) {
        PinDecision::Accept { forget_wrong_attempts } => {
            // Parallel wrong PINs may have locked it since the card was read.
            if forget_wrong_attempts && !cards::clear_wrong_pins(tx, &card.card_number)? {
                Err(ServiceError::PinLocked)
            } else {
                Ok(())
            }
        }
        PinDecision::Refuse { attempts_left } => Err(ServiceError::WrongPin { attempts_left }),
        PinDecision::Lock => {
            cards::lock_pin(tx, &card.card_number)?;
            // Recorded in the transaction that counts the attempt, which commits although
            // the answer is a refusal.
            audit::record(
                tx,
                &audit::AuditRecord {
                    actor: "rule:pin-attempts",
                    action: "card.pin_locked",
                    object_kind: "card",
                    object_id: card.card_number.as_str(),
                    reason: "three wrong PINs in a row",
                    details: serde_json::json!({}),
                },
            )?;
            Err(ServiceError::PinLocked)
        }
    })
}

/// A usable card whose PIN was typed right.
pub fn verify_card_and_pin(tx: &mut Tx<'_>, pin_keys: &PinKeys, card_number: &CardNumber, pin: &Pin) -> Answer<Card> {
    let card = match find_usable_card(tx, card_number)? {
        Ok(card) => card,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(check_pin(tx, pin_keys, &card, pin)?.map(|()| card))
}

/// A family changes its own card's PIN (old PIN first).
pub fn change_pin(
    tx: &mut Tx<'_>,
    pin_keys: &PinKeys,
    principal: &Principal,
    card_number: &CardNumber,
    old_pin: &Pin,
    new_pin: &Pin,
) -> Answer<()> {
    let Principal::Family { id: family_id } = principal else {
        return Ok(Err(ServiceError::Forbidden("only the cardholder changes a PIN".to_owned())));
    };
    // Another family's card is answered as missing: its existence is not ours to tell.
    match cards::find_by_number(tx, card_number)? {
        Some(card) if card.family_id == *family_id => {}
        _ => return Ok(Err(ServiceError::NotFound("card"))),
    }
    let card = match verify_card_and_pin(tx, pin_keys, card_number, old_pin)? {
        Ok(card) => card,
        Err(refusal) => return Ok(Err(refusal)),
    };
    cards::set_pin(tx, &card.card_number, &pin_keys.verification_value(card.card_number.as_str(), new_pin))?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor: &principal.subject(),
            action: "card.pin_changed",
            object_kind: "card",
            object_id: card.card_number.as_str(),
            reason: "changed by the cardholder",
            details: serde_json::json!({}),
        },
    )?;
    Ok(Ok(()))
}

/// An operator in the card's region unlocks its PIN, and sets a new one if given.
pub fn reset_pin(
    tx: &mut Tx<'_>,
    pin_keys: &PinKeys,
    principal: &Principal,
    card_number: &CardNumber,
    new_pin: Option<&Pin>,
    reason: &str,
) -> Answer<()> {
    let Principal::Operator { scope, .. } = principal else {
        return Ok(Err(ServiceError::Forbidden("only an operator resets a PIN".to_owned())));
    };
    let Some(card) = cards::find_by_number(tx, card_number)? else { return Ok(Err(ServiceError::NotFound("card"))) };
    let in_scope = families::find_by_id(tx, card.family_id)?.is_some_and(|family| scope.covers(&family.village));
    if !in_scope {
        return Ok(Err(ServiceError::NotFound("card")));
    }
    let pin_value = match new_pin {
        Some(pin) => pin_keys.verification_value(card.card_number.as_str(), pin),
        None => card.pin.clone(),
    };
    cards::set_pin(tx, &card.card_number, &pin_value)?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor: &principal.subject(),
            action: "card.pin_reset",
            object_kind: "card",
            object_id: card.card_number.as_str(),
            reason,
            details: serde_json::json!({ "new_pin_set": new_pin.is_some() }),
        },
    )?;
    Ok(Ok(()))
}
