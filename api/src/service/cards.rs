//! KKS cards: issuing a family's card with its four pockets.

use chrono::{Months, NaiveDate};

use crate::domain::auth::{Pin, PinKey};
use crate::domain::card::{Bank, CardNumber, CARD_SERIAL_MAX};
use crate::domain::ledger::{AccountKind, OwnerKind};
use crate::ledger::accounts;
use crate::service::ServiceError;
use crate::store::cards::{self, Card, CardInsertForm};
use crate::store::{audit, Tx};

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
    pin_key: &PinKey,
    family_id: i64,
    bank: Bank,
    actor: &str,
    today: NaiveDate,
) -> Result<IssuedCard, ServiceError> {
    for kind in FAMILY_POCKETS {
        accounts::open(tx, OwnerKind::Family, &family_id.to_string(), kind)?;
    }
    let pin = Pin::random();
    let card = insert_card(tx, pin_key, family_id, bank, 1, &pin, today)?;
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
    pin_key: &PinKey,
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
        let pin_hash = pin_key.verification_value(number.as_str(), pin);
        let form = CardInsertForm::new(&number, family_id, sequence, expires_on, &pin_hash);
        if let Some(card) = cards::insert_if_number_free(tx, &form)? {
            return Ok(card);
        }
    }
    Err(ServiceError::Internal(format!("no free card number in {CARD_NUMBER_DRAWS_MAX} draws")))
}
