//! The agent's EDC terminal as it speaks to the server: trace numbers, business days,
//! transaction kinds, the limits of a basket, rupiah as a slip prints them, and the
//! bodies of card transactions, reversals and the agent's reports.

pub mod reports;
pub mod requests;
pub mod reversal;
pub mod transaction;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::ledger::AccountKind;

/// A terminal's system trace audit number: six digits, unique per terminal and day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Stan(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a STAN is exactly 6 digits")]
pub struct StanError;

impl Stan {
    pub fn parse(text: &str) -> Result<Self, StanError> {
        if text.len() == 6 && text.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(StanError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::text_enum! {
    /// What a terminal asked for.
    pub enum EdcKind {
        BalanceInquiry,
        CashWithdrawal,
        WalletToSavings,
        Purchase,
        Reversal,
    }
}

crate::text_enum! {
    /// Where a recorded EDC transaction stands.
    pub enum EdcStatus {
        Approved,
        /// Undone by a reversal from the terminal.
        Reversed,
        /// A reversal came before the original; the original, if it ever arrives, fails.
        ReversedBeforeArrival,
    }
}

crate::text_enum! {
    /// The programme e-wallet a purchase is paid from.
    pub enum PurchaseProgramme {
        /// Food assistance (Bantuan Pangan Non Tunai): rice, eggs…
        Bpnt,
        /// 3 kg LPG cylinders.
        Lpg,
    }
}

impl PurchaseProgramme {
    pub fn wallet(self) -> AccountKind {
        match self {
            Self::Bpnt => AccountKind::WalletBpnt,
            Self::Lpg => AccountKind::WalletLpg,
        }
    }
}

/// The most lines in one basket, and the most units of one item per line.
pub const BASKET_LINES_MAX: usize = 20;
pub const BASKET_QUANTITY_MAX: u32 = 100;

/// Western Indonesia Time (WIB, UTC+7): the business day of the programme's banks.
pub const WIB: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is an offset"),
};

/// The business day a moment (UTC) falls on.
pub fn business_date(at_utc: NaiveDateTime) -> NaiveDate {
    at_utc.and_utc().with_timezone(&WIB).date_naive()
}

/// Rupiah as Indonesians write it: `Rp 1.250.000` (dots between thousands; sen only if any).
pub fn format_rupiah(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let (rupiah, sen) = ((minor / 100).unsigned_abs(), (minor % 100).unsigned_abs());
    let digits = rupiah.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    if sen == 0 {
        format!("{sign}Rp {grouped}")
    } else {
        format!("{sign}Rp {grouped},{sen:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stans_are_six_digits() {
        assert!(Stan::parse("000123").is_ok());
        for bad in ["12345", "1234567", "12345a", ""] {
            assert_eq!(Stan::parse(bad), Err(StanError), "{bad}");
        }
    }

    #[test]
    fn the_business_day_turns_at_midnight_in_jakarta() {
        let evening_utc = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(16, 59, 0).unwrap();
        assert_eq!(business_date(evening_utc), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        let later = evening_utc + chrono::Duration::minutes(1);
        assert_eq!(business_date(later), NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    }

    #[test]
    fn rupiah_are_written_with_dots_between_thousands() {
        assert_eq!(format_rupiah(50_000_000), "Rp 500.000");
        assert_eq!(format_rupiah(189_000_000), "Rp 1.890.000");
        assert_eq!(format_rupiah(4_050), "Rp 40,50");
        assert_eq!(format_rupiah(0), "Rp 0");
        assert_eq!(format_rupiah(-1_350_000), "-Rp 13.500");
    }

    #[test]
    fn kinds_and_programmes_are_sent_in_snake_case() {
        assert_eq!(serde_json::to_value(EdcKind::WalletToSavings).unwrap(), serde_json::json!("wallet_to_savings"));
        assert_eq!("bpnt".parse::<PurchaseProgramme>(), Ok(PurchaseProgramme::Bpnt));
        assert_eq!(PurchaseProgramme::Lpg.wallet(), AccountKind::WalletLpg);
    }
}
