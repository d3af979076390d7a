//! KKS cards and their PIN state.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::cards;
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::card::{Bank, CardNumber};
use crate::domain::family::CardStatus;
use crate::domain::key_ring::KeyVersion;
use crate::domain::pin_keys::PinVerificationValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub card_number: CardNumber,
    pub family_id: i64,
    pub bank: Bank,
    pub sequence: u16,
    pub status: CardStatus,
    pub expires_on: NaiveDate,
    pub issued_at: NaiveDateTime,
    pub pin: PinVerificationValue,
    pub pin_failed_attempts: i32,
    pub pin_locked_at: Option<NaiveDateTime>,
    pub replaced_by: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = cards)]
struct CardRow {
    card_number: String,
    family_id: i64,
    bank: String,
    sequence: i32,
    status: String,
    expires_on: NaiveDate,
    issued_at: NaiveDateTime,
    pin_hash: String,
    pin_key_version: i32,
    pin_failed_attempts: i32,
    pin_locked_at: Option<NaiveDateTime>,
    replaced_by: Option<String>,
}

impl TryFrom<CardRow> for Card {
    type Error = StoreError;
    fn try_from(row: CardRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("card {}: {what}", row.card_number));
        Ok(Self {
            card_number: CardNumber::parse(&row.card_number).map_err(|_| corrupt("card_number"))?,
            family_id: row.family_id,
            bank: parse_stored("cards.bank", &row.bank)?,
            sequence: u16::try_from(row.sequence).map_err(|_| corrupt("sequence"))?,
            status: parse_stored("cards.status", &row.status)?,
            expires_on: row.expires_on,
            issued_at: row.issued_at,
            pin: PinVerificationValue {
                key_version: KeyVersion::from_stored(row.pin_key_version).ok_or_else(|| corrupt("pin_key_version"))?,
                value: row.pin_hash,
            },
            pin_failed_attempts: row.pin_failed_attempts,
            pin_locked_at: row.pin_locked_at,
            replaced_by: row.replaced_by,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = cards)]
pub struct CardInsertForm<'a> {
    pub card_number: &'a str,
    pub family_id: i64,
    pub bank: &'a str,
    pub sequence: i32,
    pub status: &'a str,
    pub expires_on: NaiveDate,
    pub issued_at: NaiveDateTime,
    pub pin_hash: &'a str,
    pub pin_key_version: i32,
}

impl<'a> CardInsertForm<'a> {
    pub fn new(
        card_number: &'a CardNumber,
        family_id: i64,
        sequence: u16,
        expires_on: NaiveDate,
        pin: &'a PinVerificationValue,
    ) -> Self {
        Self {
            card_number: card_number.as_str(),
            family_id,
            bank: card_number.bank().into(),
            sequence: i32::from(sequence),
            status: CardStatus::Active.into(),
            expires_on,
            issued_at: now(),
            pin_hash: &pin.value,
            pin_key_version: pin.key_version.get(),
        }
    }
}

/// Inserts a card; `Ok(None)` when the number is taken (the caller draws another).
pub fn insert_if_number_free(tx: &mut Tx<'_>, form: &CardInsertForm<'_>) -> Result<Option<Card>, StoreError> {
    let row: Option<CardRow> = on_backend!(tx, connection => diesel::insert_into(cards::table)
        .values(form)
        .on_conflict(cards::card_number)
        .do_nothing()
        .returning(CardRow::as_returning())
        .get_result(connection)
        .optional()?);
    row.map(Card::try_from).transpose()
}

pub fn find_by_number(tx: &mut Tx<'_>, card_number: &CardNumber) -> Result<Option<Card>, StoreError> {
    let row: Option<CardRow> = on_backend!(tx, connection => cards::table
        .find(card_number.as_str())
        .select(CardRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Card::try_from).transpose()
}

/// Every card the family has had, newest first.
pub fn find_by_family(tx: &mut Tx<'_>, family_id: i64) -> Result<Vec<Card>, StoreError> {
    let rows: Vec<CardRow> = on_backend!(tx, connection => cards::table
        .filter(cards::family_id.eq(family_id))
        .order(cards::sequence.desc())
        .select(CardRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Card::try_from).collect()
}

/// Moves a card from one status to another; `false` if it was no longer in `from`.
pub fn change_status(
    tx: &mut Tx<'_>,
    card_number: &CardNumber,
    from: CardStatus,
    to: CardStatus,
) -> Result<bool, StoreError> {
    let from: &str = from.into();
    let to: &str = to.into();
    let changed = on_backend!(tx, connection => diesel::update(
            cards::table.find(card_number.as_str()).filter(cards::status.eq(from)),
        )
        .set(cards::status.eq(to))
        .execute(connection)?);
    Ok(changed == 1)
}

/// Records which card took this one's place.
pub fn set_replaced_by(tx: &mut Tx<'_>, card_number: &CardNumber, replaced_by: &CardNumber) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(cards::table.find(card_number.as_str()))
        .set(cards::replaced_by.eq(Some(replaced_by.as_str())))
        .execute(connection)?);
    Ok(())
}

/// Counts a wrong PIN: one conditional update on the card's row, so parallel wrong
/// attempts are counted one by one and none is counted once the PIN is locked. Returns
/// the wrong attempts in a row before this one, or `None` if the PIN was locked already.
pub fn count_wrong_pin(tx: &mut Tx<'_>, card_number: &CardNumber) -> Result<Option<i32>, StoreError> {
    let attempts: Option<i32> = on_backend!(tx, connection => diesel::update(
            cards::table.find(card_number.as_str()).filter(cards::pin_locked_at.is_null()),
        )
        .set(cards::pin_failed_attempts.eq(cards::pin_failed_attempts + 1))
        .returning(cards::pin_failed_attempts)
        .get_result(connection)
        .optional()?);
    Ok(attempts.map(|attempts| attempts - 1))
}

/// Locks the card's PIN until an operator resets it.
pub fn lock_pin(tx: &mut Tx<'_>, card_number: &CardNumber) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(cards::table.find(card_number.as_str()))
        .set(cards::pin_locked_at.eq(Some(now())))
        .execute(connection)?);
    Ok(())
}

/// After a right PIN: forgets earlier wrong ones. `false` if the PIN was locked meanwhile.
pub fn clear_wrong_pins(tx: &mut Tx<'_>, card_number: &CardNumber) -> Result<bool, StoreError> {
    let unlocked = on_backend!(tx, connection => diesel::update(
            cards::table.find(card_number.as_str()).filter(cards::pin_locked_at.is_null()),
        )
        .set(cards::pin_failed_attempts.eq(0))
        .execute(connection)?);
    Ok(unlocked == 1)
}

/// Sets a new PIN verification value and unlocks the PIN.
pub fn set_pin(tx: &mut Tx<'_>, card_number: &CardNumber, pin: &PinVerificationValue) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(cards::table.find(card_number.as_str()))
        .set((
            cards::pin_hash.eq(&pin.value),
            cards::pin_key_version.eq(pin.key_version.get()),
            cards::pin_failed_attempts.eq(0),
            cards::pin_locked_at.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)?);
    Ok(())
}

/// Replaces the PIN verification value `old` with the same PIN under a newer key; leaves
/// the attempts and the lock alone. Does nothing when the value changed meanwhile (a PIN
/// change or reset in parallel wins).
pub fn rekey_pin(
    tx: &mut Tx<'_>,
    card_number: &CardNumber,
    old: &PinVerificationValue,
    new: &PinVerificationValue,
) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(
            cards::table
                .find(card_number.as_str())
                .filter(cards::pin_hash.eq(&old.value))
                .filter(cards::pin_key_version.eq(old.key_version.get())),
        )
        .set((cards::pin_hash.eq(&new.value), cards::pin_key_version.eq(new.key_version.get())))
        .execute(connection)?);
    Ok(())
}

/// Active cards by the PIN key version their PIN is kept under, lowest version first.
pub fn count_active_by_pin_key_version(tx: &mut Tx<'_>) -> Result<Vec<(i32, i64)>, StoreError> {
    let active: &str = CardStatus::Active.into();
    Ok(on_backend!(tx, connection => cards::table
        .filter(cards::status.eq(active))
        .group_by(cards::pin_key_version)
        .select((cards::pin_key_version, diesel::dsl::count_star()))
        .order(cards::pin_key_version)
        .load::<(i32, i64)>(connection)?))
}
