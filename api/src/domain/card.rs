//! Card numbers: the issuing bank (by its IIN prefix) and the 16-digit number with its
//! Luhn check digit. Defined in `kks-wire`, which terminals and card-sim share.

pub use kks_wire::card::{Bank, CardNumber, CardNumberError, CARD_NUMBER_DIGITS, CARD_SERIAL_MAX, IIN_DIGITS};
