//! The monitoring vocabulary: what a movement on a family's pocket means for the
//! programme's figures (disbursement, *penyaluran*; absorption, *penyerapan*), and when a
//! period's money is due to have reached the families.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::auth::RegionCode;
use super::benefit::Programme;
use super::ledger::{AccountKind, JournalKind};

text_enum! {
    /// What money moving on a family's pocket counts as.
    pub enum Flow {
        /// Paid in by a disbursement (penyaluran).
        Credited,
        /// Moved out of an e-wallet to the family's savings (pemindahbukuan).
        MovedToSavings,
        /// Moved into savings from an e-wallet.
        ReceivedFromWallets,
        /// Paid out in cash by a bank agent.
        WithdrawnInCash,
        /// Spent on food or LPG at an e-Warong.
        SpentOnGoods,
        /// Sent back to the treasury (termination).
        ReturnedToTreasury,
        /// Operator adjustments, net.
        Adjusted,
    }
}

impl Flow {
    /// The flow a posting on `pocket` belongs to, by the kind of its journal (for a
    /// reversal, the kind of the journal it reverses, so that the two net out).
    pub fn of(pocket: AccountKind, journal: JournalKind) -> Self {
        match journal {
            JournalKind::Disbursement => Self::Credited,
            JournalKind::WalletToSavings if pocket == AccountKind::Savings => Self::ReceivedFromWallets,
            JournalKind::WalletToSavings => Self::MovedToSavings,
            JournalKind::CashWithdrawal => Self::WithdrawnInCash,
            JournalKind::Purchase => Self::SpentOnGoods,
            JournalKind::ReturnToTreasury => Self::ReturnedToTreasury,
            JournalKind::Reversal | JournalKind::Adjustment => Self::Adjusted,
        }
    }

    /// Whether the flow takes money out of the pocket. Its figure is shown positive:
    /// "withdrawn Rp 150,000", not "−150,000".
    pub fn is_outflow(self) -> bool {
        matches!(self, Self::MovedToSavings | Self::WithdrawnInCash | Self::SpentOnGoods | Self::ReturnedToTreasury)
    }

    /// The figure shown for the signed sum of the flow's postings (credits positive).
    pub fn shown_minor(self, signed_minor: i64) -> i64 {
        if self.is_outflow() {
            -signed_minor
        } else {
            signed_minor
        }
    }

    /// Whether the flow is absorption: programme money used by the family (spent on goods,
    /// or moved to savings where it can be drawn in cash).
    pub fn is_absorption(self) -> bool {
        matches!(self, Self::MovedToSavings | Self::SpentOnGoods)
    }
}

text_enum! {
    /// What a line of a family's timeline records.
    pub enum TimelineEvent {
        /// Money moved on one of its pockets.
        Posting,
        /// Money was blocked.
        HoldPlaced,
        /// Blocked money was released, or taken (e.g. back to the treasury).
        HoldEnded,
        /// Its commitments were verified for a cycle.
        Verification,
        /// Closing a cycle decided its status.
        CycleOutcome,
    }
}

/// The last day on which a period's money is due on the families' cards: a PKH stage by
/// the end of its quarter (stage 2 by 30 June), a monthly programme by the end of its
/// month. `None` for a period the programme does not have.
pub fn period_due_date(programme: Programme, year: i32, period: i32) -> Option<NaiveDate> {
    if !(1..=programme.periods_per_year()).contains(&period) {
        return None;
    }
    let last_month = u32::try_from(period * 12 / programme.periods_per_year()).ok()?;
    let first_of_next = if last_month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, last_month + 1, 1)?
    };
    first_of_next.pred_opt()
}

/// A share in percent rounded to one decimal (exact arithmetic, no float), or `None`
/// when there is nothing to divide by.
pub fn percent(part: i64, whole: i64) -> Option<Decimal> {
    if whole <= 0 {
        return None;
    }
    let share = Decimal::from(part).checked_mul(Decimal::ONE_HUNDRED)?.checked_div(Decimal::from(whole))?;
    Some(share.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero))
}

/// Whether a settlement on `day` is on time for a period due on `due`.
pub fn on_time(day: NaiveDate, due: NaiveDate) -> bool {
    day <= due
}

/// The smallest region that holds every one of `regions` (`None` for none, or when they
/// lie in different provinces).
pub fn smallest_common_region(regions: &[RegionCode]) -> Option<RegionCode> {
    let first = regions.first()?;
    let mut candidate = Some(first.clone());
    while let Some(region) = candidate {
        if regions.iter().all(|other| region.contains(other)) {
            return Some(region);
        }
        candidate = region.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_journal_kind_lands_in_one_flow_per_pocket() {
        assert_eq!(Flow::of(AccountKind::WalletPkh, JournalKind::Disbursement), Flow::Credited);
        assert_eq!(Flow::of(AccountKind::WalletPkh, JournalKind::WalletToSavings), Flow::MovedToSavings);
        assert_eq!(Flow::of(AccountKind::Savings, JournalKind::WalletToSavings), Flow::ReceivedFromWallets);
        assert_eq!(Flow::of(AccountKind::Savings, JournalKind::CashWithdrawal), Flow::WithdrawnInCash);
        assert_eq!(Flow::of(AccountKind::WalletLpg, JournalKind::Purchase), Flow::SpentOnGoods);
        assert_eq!(Flow::of(AccountKind::WalletPkh, JournalKind::ReturnToTreasury), Flow::ReturnedToTreasury);
        assert_eq!(Flow::of(AccountKind::Savings, JournalKind::Adjustment), Flow::Adjusted);
    }

    #[test]
    fn outflows_are_shown_as_positive_amounts() {
        assert_eq!(Flow::WithdrawnInCash.shown_minor(-15_000_000), 15_000_000);
        assert_eq!(Flow::Credited.shown_minor(50_000_000), 50_000_000);
        assert_eq!(Flow::Adjusted.shown_minor(-100), -100, "adjustments keep their sign");
    }

    #[test]
    fn a_pkh_stage_is_due_by_the_end_of_its_quarter_and_a_month_by_its_last_day() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(period_due_date(Programme::Pkh, 2017, 1), date(2017, 3, 31));
        assert_eq!(period_due_date(Programme::Pkh, 2017, 4), date(2017, 12, 31));
        assert_eq!(period_due_date(Programme::Bpnt, 2016, 2), date(2016, 2, 29));
        assert_eq!(period_due_date(Programme::Lpg, 2017, 12), date(2017, 12, 31));
        assert_eq!(period_due_date(Programme::Pkh, 2017, 5), None);
        assert_eq!(period_due_date(Programme::Bpnt, 2017, 0), None);
        assert!(on_time(NaiveDate::MIN, NaiveDate::MAX));
    }

    #[test]
    fn a_facilitator_area_belongs_to_the_smallest_region_holding_its_villages() {
        let code = |text| RegionCode::parse(text).unwrap();
        let villages = [code("32.04.12.2001"), code("32.04.12.2002")];
        assert_eq!(smallest_common_region(&villages), Some(code("32.04.12")));
        assert_eq!(smallest_common_region(&[code("32.04.12.2001"), code("32.05.01.2001")]), Some(code("32")));
        assert_eq!(smallest_common_region(&[code("32.04.12.2001"), code("33.74.01.1001")]), None);
        assert_eq!(smallest_common_region(&[]), None);
    }

    #[test]
    fn shares_round_to_one_decimal_and_never_divide_by_zero() {
        assert_eq!(percent(5, 6).map(|share| share.to_string()), Some("83.3".to_owned()));
        assert_eq!(percent(2, 3).map(|share| share.to_string()), Some("66.7".to_owned()));
        assert_eq!(percent(3, 3).map(|share| share.to_string()), Some("100".to_owned()));
        assert_eq!(percent(1, 0), None);
    }
}
