//! KKS cards: issuing with the family's four pockets, reporting lost, replacing,
//! the signed QR and the card image, and checking a scanned QR.

use chrono::{Months, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::pin::find_usable_card;
use super::auth::Principal;
use crate::domain::auth::Pin;
use crate::domain::card::{Bank, CardNumber, CARD_SERIAL_MAX};
use crate::domain::card_qr::{CardQrPayload, IssuerKeys, IssuerVerifyingKeys};
use crate::domain::family::CardStatus;
use crate::domain::ledger::{AccountKind, OwnerKind};
use crate::domain::pin_keys::PinKeys;
use crate::ledger::accounts;
use crate::render::card_image::{render_card_front, CardFace};
use crate::service::ServiceError;
use crate::store::cards::{self, Card, CardInsertForm};
use crate::store::{audit, Store, Tx};

/// The programme name printed on every card.
pub const PROGRAMME_NAME: &str = "Kartu Keluarga Sejahtera";

/// The longest reason recorded for a card change, in characters.
pub const CARD_REASON_CHARS_MAX: usize = 500;

/// A card as shown to its family or an operator: no PIN, the QR text to print.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardDetails {
    pub card_number: CardNumber,
    pub masked_number: String,
    pub family_id: i64,
    pub bank: Bank,
    pub sequence: u16,
    pub status: CardStatus,
    pub expires_on: NaiveDate,
    pub issued_at: NaiveDateTime,
    pub pin_locked: bool,
    /// The signed QR text printed on the card: no secret, no balance.
    pub qr: String,
}

/// A new card and its PIN, shown once (as a PIN mailer would).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewCard {
    pub card: CardDetails,
    #[schema(pattern = "^[0-9]{6}$")]
    pub pin: String,
}

/// What a scanned QR says, once it is known to be genuine and current.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardCheck {
    pub card_number: CardNumber,
    pub masked_number: String,
    pub bank: Bank,
    pub sequence: u16,
    pub expires_on: NaiveDate,
    pub status: CardStatus,
}

/// How long a card is valid after issue.
pub const CARD_VALIDITY_MONTHS: u32 = 60;

/// Draws of a random card number before giving up (a clash is one in millions).
const CARD_NUMBER_DRAWS_MAX: usize = 8;

/// The pockets every family has on its card: savings and one e-wallet per programme.
pub const FAMILY_POCKETS: [AccountKind; 4] =
    [AccountKind::Savings, AccountKind::WalletPkh, AccountKind::WalletBpnt, AccountKind::WalletLpg];

/// A card just issued, with the PIN to hand over once (only its keyed hash is stored).
#[derive(Debug)]
pub struct IssuedCard {
    pub card: Card,
    pub pin: Pin,
}

/// Issues the family's first card and opens its four pockets with zero balances.
pub fn issue_first_card(
    tx: &mut Tx<'_>,
    pin_keys: &PinKeys,
    family_id: i64,
    bank: Bank,
    actor: &str,
    today: NaiveDate,
) -> Result<IssuedCard, ServiceError> {
    for kind in FAMILY_POCKETS {
        accounts::open(tx, OwnerKind::Family, &family_id.to_string(), kind)?;
    }
    let pin = Pin::random();
    let card = insert_card(tx, pin_keys, family_id, bank, 1, &pin, today)?;
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action: "card.issued",
            object_kind: "card",
            object_id: card.card_number.as_str(),
            reason: "first card for the family",
            details: serde_json::json!({ "family_id": family_id, "bank": bank, "sequence": 1 }),
        },
    )?;
    Ok(IssuedCard { card, pin })
}

/// Inserts a card under a fresh random number (card numbers are not guessable in order).
fn insert_card(
    tx: &mut Tx<'_>,
    pin_keys: &PinKeys,
    family_id: i64,
    bank: Bank,
    sequence: u16,
    pin: &Pin,
    today: NaiveDate,
) -> Result<Card, ServiceError> {
    let expires_on = today.checked_add_months(Months::new(CARD_VALIDITY_MONTHS)).unwrap_or(NaiveDate::MAX);
    for _ in 0..CARD_NUMBER_DRAWS_MAX {
        let number = CardNumber::issue(bank, rand::random_range(1..=CARD_SERIAL_MAX))
            .map_err(|error| ServiceError::Internal(format!("drawing a card number: {error}")))?;
        let pin_value = pin_keys.verification_value(number.as_str(), pin);
        let form = CardInsertForm::new(&number, family_id, sequence, expires_on, &pin_value);
        if let Some(card) = cards::insert_if_number_free(tx, &form)? {
            return Ok(card);
        }
    }
    Err(ServiceError::Internal(format!("no free card number in {CARD_NUMBER_DRAWS_MAX} draws")))
}

fn details(issuer: &IssuerKeys, card: &Card) -> CardDetails {
    let payload = CardQrPayload {
        card_number: card.card_number.clone(),
        sequence: card.sequence,
        bank: card.bank,
        expires_on: card.expires_on,
    };
    CardDetails {
        card_number: card.card_number.clone(),
        masked_number: card.card_number.masked(),
        family_id: card.family_id,
        bank: card.bank,
        sequence: card.sequence,
        status: card.status,
        expires_on: card.expires_on,
        issued_at: card.issued_at,
        pin_locked: card.pin_locked_at.is_some(),
        qr: issuer.sign(&payload),
    }
}

fn check_reason(reason: &str) -> Result<(), ServiceError> {
    if reason.trim().is_empty() || reason.chars().count() > CARD_REASON_CHARS_MAX {
        return Err(ServiceError::Invalid(format!("reason: 1 to {CARD_REASON_CHARS_MAX} characters")));
    }
    Ok(())
}

/// An operator issues a family's first card; a family that has one gets a replacement.
pub fn issue(
    store: &Store,
    pin_keys: &PinKeys,
    issuer: &IssuerKeys,
    principal: &Principal,
    family_id: i64,
    bank: Bank,
) -> Result<NewCard, ServiceError> {
    access::operator(principal)?;
    store.write(|tx| {
        access::visible_family(tx, principal, family_id)?;
        if !cards::find_by_family(tx, family_id)?.is_empty() {
            return Err(ServiceError::CardExists);
        }
        let today = chrono::Utc::now().date_naive();
        let issued = issue_first_card(tx, pin_keys, family_id, bank, &principal.subject(), today)?;
        Ok(NewCard { card: details(issuer, &issued.card), pin: issued.pin.expose().to_owned() })
    })
}

/// The card with its QR, for its family or an operator of its region.
pub fn find(
    store: &Store,
    issuer: &IssuerKeys,
    principal: &Principal,
    card_number: &CardNumber,
) -> Result<CardDetails, ServiceError> {
    store.read(|tx| access::visible_card(tx, principal, card_number).map(|(card, _)| details(issuer, &card)))
}

/// The card front as PNG.
pub fn image(
    store: &Store,
    issuer: &IssuerKeys,
    principal: &Principal,
    card_number: &CardNumber,
) -> Result<Vec<u8>, ServiceError> {
    let (card, family) = store.read(|tx| access::visible_card(tx, principal, card_number))?;
    let card_details = details(issuer, &card);
    let face = CardFace {
        bank: card.bank,
        programme_name: PROGRAMME_NAME,
        holder_name: &family.recipient_name,
        masked_number: &card_details.masked_number,
        expires_on: card.expires_on,
        qr_text: &card_details.qr,
    };
    render_card_front(&face).map_err(|error| ServiceError::Internal(format!("rendering card {card_number}: {error}")))
}

/// The family (or an operator) reports the card lost or stolen: it stops working at once.
pub fn report_lost(
    store: &Store,
    issuer: &IssuerKeys,
    principal: &Principal,
    card_number: &CardNumber,
    reason: &str,
) -> Result<CardDetails, ServiceError> {
    check_reason(reason)?;
    store.write(|tx| {
        let (card, _) = access::visible_card(tx, principal, card_number)?;
        if !cards::change_status(tx, card_number, CardStatus::Active, CardStatus::Lost)? {
            return Err(refusal_for_status(card.status));
        }
        record_card_change(tx, &principal.subject(), card_number, "card.reported_lost", reason, serde_json::json!({}))?;
        Ok(details(issuer, &Card { status: CardStatus::Lost, ..card }))
    })
}

/// An operator replaces a card (lost, damaged or expiring): a new number under the same
/// bank and a new PIN; the old card and its QR stop working; the pockets, and so the
/// balances and history, stay with the family.
pub fn replace(
    store: &Store,
    pin_keys: &PinKeys,
    issuer: &IssuerKeys,
    principal: &Principal,
    card_number: &CardNumber,
    reason: &str,
) -> Result<NewCard, ServiceError> {
    access::operator(principal)?;
    check_reason(reason)?;
    store.write(|tx| {
        let (old, _) = access::visible_card(tx, principal, card_number)?;
        replace_in(tx, pin_keys, issuer, &principal.subject(), old, reason)
    })
}

/// Replaces `old` inside the caller's transaction: the card replacement itself, and the
/// new cardholder of a recipient change.
pub fn replace_in(
    tx: &mut Tx<'_>,
    pin_keys: &PinKeys,
    issuer: &IssuerKeys,
    actor: &str,
    old: Card,
    reason: &str,
) -> Result<NewCard, ServiceError> {
    if old.status == CardStatus::Replaced {
        return Err(ServiceError::CardReplaced);
    }
    // The old card leaves the family's one active slot before the new one takes it.
    if !cards::change_status(tx, &old.card_number, old.status, CardStatus::Replaced)? {
        return Err(ServiceError::CardReplaced);
    }
    let pin = Pin::random();
    let sequence =
        old.sequence.checked_add(1).ok_or_else(|| ServiceError::Invalid("too many replacements".to_owned()))?;
    let today = chrono::Utc::now().date_naive();
    let new = insert_card(tx, pin_keys, old.family_id, old.bank, sequence, &pin, today)?;
    cards::set_replaced_by(tx, &old.card_number, &new.card_number)?;
    record_card_change(
        tx,
        actor,
        &old.card_number,
        "card.replaced",
        reason,
        serde_json::json!({ "replaced_by": new.card_number, "sequence": sequence }),
    )?;
    Ok(NewCard { card: details(issuer, &new), pin: pin.expose().to_owned() })
}

fn record_card_change(
    tx: &mut Tx<'_>,
    actor: &str,
    card_number: &CardNumber,
    action: &str,
    reason: &str,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    audit::record(
        tx,
        &audit::AuditRecord { actor, action, object_kind: "card", object_id: card_number.as_str(), reason, details },
    )?;
    Ok(())
}

/// The refusal for using or changing a card in this status.
pub fn refusal_for_status(status: CardStatus) -> ServiceError {
    match status {
        CardStatus::Lost => ServiceError::CardLost,
        CardStatus::Replaced => ServiceError::CardReplaced,
        CardStatus::Expired | CardStatus::Active => ServiceError::CardExpired,
    }
}

/// What a scanned QR says, once its signature verifies and by its own date it has not
/// expired.
fn read_qr(issuer: &IssuerVerifyingKeys, text: &str) -> Result<CardQrPayload, ServiceError> {
    let (payload, _) = issuer.verify(text)?;
    if payload.is_expired(chrono::Utc::now().date_naive()) {
        return Err(ServiceError::CardExpired);
    }
    Ok(payload)
}

/// The card a scanned QR names, if it may transact: genuine (our signature), not expired,
/// not lost, and not older than the card that replaced it.
pub fn usable_card_from_qr(tx: &mut Tx<'_>, issuer: &IssuerVerifyingKeys, text: &str) -> Result<Card, ServiceError> {
    let payload = read_qr(issuer, text)?;
    let card = find_usable_card(tx, &payload.card_number)??;
    if payload.sequence < card.sequence {
        return Err(ServiceError::CardReplaced);
    }
    Ok(card)
}

/// Checks a scanned card QR: genuine, current, not expired and not reported lost. Each
/// refusal has its own code. For agents and operators: a family has no terminal to scan with.
pub fn check_qr(
    store: &Store,
    issuer: &IssuerVerifyingKeys,
    principal: &Principal,
    text: &str,
) -> Result<CardCheck, ServiceError> {
    if matches!(principal, Principal::Family { .. }) {
        return Err(ServiceError::Forbidden("card checks are for agents and operators".to_owned()));
    }
    let card = store.read(|tx| usable_card_from_qr(tx, issuer, text))?;
    Ok(CardCheck {
        masked_number: card.card_number.masked(),
        card_number: card.card_number,
        bank: card.bank,
        sequence: card.sequence,
        expires_on: card.expires_on,
        status: card.status,
    })
}
