//! The conditionality cycle (seeds, "mekanisme penangguhan"): a cycle is one PKH stage
//! period. A family whose member misses a commitment is suspended: its PKH wallet is
//! blocked until it complies in a later cycle. The third failed cycle in a row (nine
//! months) ends its membership and everything in its PKH wallet goes back to the treasury.

use std::fmt;
use std::str::FromStr;

use super::benefit::Programme;
use super::family::FamilyStatus;

/// How many failed cycles in a row end PKH membership (nine months).
pub const FAILED_CYCLES_TO_TERMINATE: i32 = 3;

/// The first and last year a cycle may name.
const CYCLE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A verification cycle: one PKH stage of a year, written `YEAR-STAGE` (e.g. `2017-2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cycle {
    pub year: i32,
    pub stage: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cycle is YEAR-STAGE, e.g. 2017-2 (stage 1 to 4)")]
pub struct CycleError;

impl Cycle {
    pub fn new(year: i32, stage: i32) -> Result<Self, CycleError> {
        if CYCLE_YEARS.contains(&year) && (1..=Programme::Pkh.periods_per_year()).contains(&stage) {
            Ok(Self { year, stage })
        } else {
            Err(CycleError)
        }
    }
}

impl FromStr for Cycle {
    type Err = CycleError;
    fn from_str(text: &str) -> Result<Self, CycleError> {
        let (year, stage) = text.split_once('-').ok_or(CycleError)?;
        Self::new(year.parse().map_err(|_| CycleError)?, stage.parse().map_err(|_| CycleError)?)
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}-{}", self.year, self.stage)
    }
}

impl serde::Serialize for Cycle {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cycle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

text_enum! {
    /// What closing a cycle does to a family.
    pub enum CycleOutcome {
        /// Failed: the PKH wallet is blocked until the family complies.
        Suspended,
        /// Complied after a suspension: the block is lifted.
        Released,
        /// Failed three cycles in a row: PKH money back to the treasury, membership ended.
        Terminated,
        /// Nothing to change (complied while active, or no verification recorded).
        Unchanged,
    }
}

/// Where a family stands when a cycle closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: FamilyStatus,
    /// Failed cycles in a row before this one.
    pub failed_cycles_in_row: i32,
}

/// What happens to the family's PKH wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletPlan {
    Unchanged,
    /// No debit leaves it, whatever is in it or arrives later, until it is unblocked.
    Block,
    Unblock,
    /// Every hold ends, all of its money goes back to the treasury, it is closed.
    ReturnToTreasuryAndClose,
}

/// What closing a cycle does to one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclePlan {
    pub outcome: CycleOutcome,
    pub failed_cycles_in_row: i32,
    pub status: FamilyStatus,
    pub wallet: WalletPlan,
}

/// The conditionality rule. `complied` is this cycle's verification (`None`: not
/// verified, nothing changes). Only active and suspended families take part in a cycle.
pub fn close_cycle(standing: Standing, complied: Option<bool>) -> CyclePlan {
    let failed = standing.failed_cycles_in_row;
    let plan =
        |outcome, failed_cycles_in_row, status, wallet| CyclePlan { outcome, failed_cycles_in_row, status, wallet };
    let unchanged = plan(CycleOutcome::Unchanged, failed, standing.status, WalletPlan::Unchanged);
    let suspended = match standing.status {
        FamilyStatus::Active => false,
        FamilyStatus::Suspended => true,
        FamilyStatus::Terminated | FamilyStatus::Graduated => return unchanged,
    };
    match complied {
        None => unchanged,
        Some(true) if suspended => plan(CycleOutcome::Released, 0, FamilyStatus::Active, WalletPlan::Unblock),
        Some(true) => plan(CycleOutcome::Unchanged, 0, FamilyStatus::Active, WalletPlan::Unchanged),
        Some(false) if failed + 1 >= FAILED_CYCLES_TO_TERMINATE => {
            plan(CycleOutcome::Terminated, failed + 1, FamilyStatus::Terminated, WalletPlan::ReturnToTreasuryAndClose)
        }
        Some(false) => plan(CycleOutcome::Suspended, failed + 1, FamilyStatus::Suspended, WalletPlan::Block),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(status: FamilyStatus, failed_cycles_in_row: i32) -> Standing {
        Standing { status, failed_cycles_in_row }
    }

    #[test]
    fn a_failed_cycle_blocks_the_wallet_and_the_third_in_a_row_returns_it_to_the_treasury() {
        let first = close_cycle(standing(FamilyStatus::Active, 0), Some(false));
        assert_eq!(
            (first.outcome, first.failed_cycles_in_row, first.wallet),
            (CycleOutcome::Suspended, 1, WalletPlan::Block)
        );
        assert_eq!(first.status, FamilyStatus::Suspended);
        let second = close_cycle(standing(FamilyStatus::Suspended, 1), Some(false));
        assert_eq!((second.outcome, second.wallet), (CycleOutcome::Suspended, WalletPlan::Block));
        let third = close_cycle(standing(FamilyStatus::Suspended, 2), Some(false));
        assert_eq!((third.outcome, third.failed_cycles_in_row), (CycleOutcome::Terminated, 3));
        assert_eq!((third.status, third.wallet), (FamilyStatus::Terminated, WalletPlan::ReturnToTreasuryAndClose));
    }

    #[test]
    fn complying_lifts_a_suspension_and_resets_the_count() {
        let released = close_cycle(standing(FamilyStatus::Suspended, 2), Some(true));
        assert_eq!((released.outcome, released.failed_cycles_in_row), (CycleOutcome::Released, 0));
        assert_eq!((released.status, released.wallet), (FamilyStatus::Active, WalletPlan::Unblock));
        let kept = close_cycle(standing(FamilyStatus::Active, 0), Some(true));
        assert_eq!((kept.outcome, kept.wallet), (CycleOutcome::Unchanged, WalletPlan::Unchanged));
    }

    #[test]
    fn a_cycle_without_a_verification_changes_nothing() {
        let plan = close_cycle(standing(FamilyStatus::Suspended, 1), None);
        assert_eq!(
            plan,
            CyclePlan {
                outcome: CycleOutcome::Unchanged,
                failed_cycles_in_row: 1,
                status: FamilyStatus::Suspended,
                wallet: WalletPlan::Unchanged,
            }
        );
    }

    #[test]
    fn families_that_left_the_programme_take_no_part_in_a_cycle() {
        for status in [FamilyStatus::Terminated, FamilyStatus::Graduated] {
            let plan = close_cycle(standing(status, 0), Some(false));
            assert_eq!(
                (plan.outcome, plan.status, plan.wallet),
                (CycleOutcome::Unchanged, status, WalletPlan::Unchanged)
            );
        }
    }

    #[test]
    fn cycles_are_a_year_and_a_pkh_stage() {
        assert_eq!("2017-2".parse(), Ok(Cycle { year: 2017, stage: 2 }));
        assert_eq!(Cycle { year: 2017, stage: 2 }.to_string(), "2017-2");
        for bad in ["2017-5", "2017-0", "17-2", "2017", "x-1", "2017-2-1", ""] {
            assert_eq!(bad.parse::<Cycle>(), Err(CycleError), "{bad}");
        }
    }
}
