//! An agent's EDC terminal as the bank registers it: its terminal id (what the terminal
//! sends in every transaction, ISO 8583 field 41) and the serial number printed on the
//! device.

use std::fmt;

/// The shortest and longest terminal id, in characters. ISO 8583 gives field 41 eight
/// characters; some acquirers pad or prefix theirs, so up to sixteen are accepted.
pub const TERMINAL_ID_CHARS_MIN: usize = 4;
pub const TERMINAL_ID_CHARS_MAX: usize = 16;
/// The longest device serial number, in characters.
pub const TERMINAL_SERIAL_CHARS_MAX: usize = 32;

/// Why a terminal id is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a terminal id has {TERMINAL_ID_CHARS_MIN} to {TERMINAL_ID_CHARS_MAX} characters: upper-case letters A-Z and digits, e.g. T3204001"
)]
pub struct TerminalIdError;

/// A terminal id: upper-case ASCII letters and digits, so that it reads the same on a
/// printed slip, in a log and in the idempotency key an EDC builds from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalId(String);

impl TerminalId {
    pub fn parse(text: &str) -> Result<Self, TerminalIdError> {
        let allowed = |byte: u8| byte.is_ascii_uppercase() || byte.is_ascii_digit();
        if (TERMINAL_ID_CHARS_MIN..=TERMINAL_ID_CHARS_MAX).contains(&text.len()) && text.bytes().all(allowed) {
            Ok(Self(text.to_owned()))
        } else {
            Err(TerminalIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TerminalId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Why a serial number is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a serial number has 1 to {TERMINAL_SERIAL_CHARS_MAX} characters: ASCII letters, digits and '-'")]
pub struct TerminalSerialError;

/// The serial number of the device, as printed on it (one device, one registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalSerial(String);

impl TerminalSerial {
    pub fn parse(text: &str) -> Result<Self, TerminalSerialError> {
        let allowed = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-';
        if (1..=TERMINAL_SERIAL_CHARS_MAX).contains(&text.len()) && text.bytes().all(allowed) {
            Ok(Self(text.to_owned()))
        } else {
            Err(TerminalSerialError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_id_is_upper_case_letters_and_digits() {
        for good in ["T3204001", "EDC1", "BRI0000000000001"] {
            assert_eq!(TerminalId::parse(good).map(|id| id.to_string()), Ok(good.to_owned()));
        }
        for bad in ["", "T32", "t3204001", "T3204 001", "T3204-001", "T3204\u{0}01", "BRI00000000000001", "Т3204001"] {
            assert_eq!(TerminalId::parse(bad), Err(TerminalIdError), "{bad:?}");
        }
    }

    #[test]
    fn a_serial_number_is_one_line_of_plain_ascii() {
        assert!(TerminalSerial::parse("PAX-A920-0001").is_ok());
        for bad in ["", "PAX A920", "PAX/1", &"9".repeat(TERMINAL_SERIAL_CHARS_MAX + 1)] {
            assert_eq!(TerminalSerial::parse(bad), Err(TerminalSerialError), "{bad:?}");
        }
    }
}
