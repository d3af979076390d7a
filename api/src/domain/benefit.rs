//! The programmes' money and its conditions: which e-wallet a programme pays into, what a
//! family receives for a period, the commitments a PKH family keeps, and what a
//! verification cycle decides.

use super::family::BenefitCategory;
use super::ledger::AccountKind;

text_enum! {
    /// A social assistance programme on the KKS card.
    pub enum Programme {
        /// Program Keluarga Harapan: conditional cash, four stages a year.
        Pkh,
        /// Bantuan Pangan Non Tunai: food, monthly.
        Bpnt,
        /// LPG subsidy, monthly.
        Lpg,
    }
}

impl Programme {
    pub fn wallet(self) -> AccountKind {
        match self {
            Self::Pkh => AccountKind::WalletPkh,
            Self::Bpnt => AccountKind::WalletBpnt,
            Self::Lpg => AccountKind::WalletLpg,
        }
    }

    /// PKH pays in 4 stages a year; the others monthly.
    pub fn periods_per_year(self) -> i32 {
        match self {
            Self::Pkh => 4,
            Self::Bpnt | Self::Lpg => 12,
        }
    }

    /// Only PKH is conditional: a terminated family keeps its food and LPG assistance.
    pub fn is_conditional(self) -> bool {
        self == Self::Pkh
    }
}

/// Whom one amount of a benefit schedule pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payees {
    /// Every family of the programme (stored as `all`): BPNT and LPG pay one amount.
    Every,
    /// The PKH families of one benefit category.
    Category(BenefitCategory),
}

impl Payees {
    /// A schedule row's `category`: `all`, or a benefit category.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "all" => Some(Self::Every),
            category => category.parse().ok().map(Self::Category),
        }
    }
}

/// One amount of a period's benefit schedule, and whom it pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub payees: Payees,
    pub amount_minor: i64,
}

/// The benefit of a family of `category` for one programme and period, from that
/// period's rates: its category's amount, else the amount for every family; none when
/// the schedule pays neither (the family gets no line).
pub fn amount_for(rates: &[Rate], category: BenefitCategory) -> Option<i64> {
    let paying = |payees: Payees| rates.iter().find(|rate| rate.payees == payees).map(|rate| rate.amount_minor);
    paying(Payees::Category(category)).or_else(|| paying(Payees::Every))
}

text_enum! {
    /// A commitment a PKH family keeps for a member.
    pub enum Obligation {
        PregnancyCheckups,
        ImmunisationAndWeighing,
        /// At least 85% attendance.
        SchoolAttendance,
        ElderlyCare,
        DisabilityCare,
    }
}

/// How many failed cycles in a row end PKH membership (nine months).
pub const FAILED_CYCLES_TO_TERMINATE: i32 = 3;

text_enum! {
    /// What closing a cycle does to a family.
    pub enum CycleOutcome {
        /// Failed: PKH money blocked until the family complies.
        Suspended,
        /// Complied after a suspension: blocked money released.
        Released,
        /// Failed three cycles in a row: PKH money back to the treasury, membership ended.
        Terminated,
        /// Nothing to change (complied while active, or no verification recorded).
        Unchanged,
    }
}

/// The conditionality rule. `failed_in_row` counts earlier consecutive failed cycles;
/// `complied` is this cycle's verification (`None`: not verified, nothing changes).
pub fn decide(failed_in_row: i32, suspended: bool, complied: Option<bool>) -> (CycleOutcome, i32) {
    match complied {
        None => (CycleOutcome::Unchanged, failed_in_row),
        Some(true) if suspended => (CycleOutcome::Released, 0),
        Some(true) => (CycleOutcome::Unchanged, 0),
        Some(false) if failed_in_row + 1 >= FAILED_CYCLES_TO_TERMINATE => (CycleOutcome::Terminated, failed_in_row + 1),
        Some(false) => (CycleOutcome::Suspended, failed_in_row + 1),
    }
}

/// A verification cycle is one disbursement period: `YEAR-STAGE`, e.g. `2017-2`.
pub fn parse_cycle(text: &str) -> Option<(i32, i32)> {
    let (year, stage) = text.split_once('-')?;
    let (year, stage): (i32, i32) = (year.parse().ok()?, stage.parse().ok()?);
    ((2000..=2100).contains(&year) && (1..=Programme::Pkh.periods_per_year()).contains(&stage)).then_some((year, stage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_cycle_suspends_and_the_third_in_a_row_terminates() {
        assert_eq!(decide(0, false, Some(false)), (CycleOutcome::Suspended, 1));
        assert_eq!(decide(1, true, Some(false)), (CycleOutcome::Suspended, 2));
        assert_eq!(decide(2, true, Some(false)), (CycleOutcome::Terminated, 3));
    }

    #[test]
    fn complying_releases_a_suspension_and_resets_the_count() {
        assert_eq!(decide(2, true, Some(true)), (CycleOutcome::Released, 0));
        assert_eq!(decide(0, false, Some(true)), (CycleOutcome::Unchanged, 0));
        assert_eq!(decide(1, true, None), (CycleOutcome::Unchanged, 1), "no verification changes nothing");
    }

    const STAGE_ONE_2017: [Rate; 2] = [
        Rate { payees: Payees::Category(BenefitCategory::Regular), amount_minor: 50_000_000 },
        Rate { payees: Payees::Category(BenefitCategory::Elderly), amount_minor: 60_000_000 },
    ];

    #[test]
    fn a_family_receives_the_amount_of_its_benefit_category() {
        assert_eq!(amount_for(&STAGE_ONE_2017, BenefitCategory::Regular), Some(50_000_000));
        assert_eq!(amount_for(&STAGE_ONE_2017, BenefitCategory::Elderly), Some(60_000_000));
    }

    #[test]
    fn a_category_the_schedule_does_not_pay_gets_nothing() {
        assert_eq!(amount_for(&STAGE_ONE_2017, BenefitCategory::Papua), None);
        assert_eq!(amount_for(&[], BenefitCategory::Regular), None, "no schedule, no line");
    }

    #[test]
    fn a_programme_that_pays_every_family_pays_each_category_the_same() {
        let month = [Rate { payees: Payees::Every, amount_minor: 11_000_000 }];
        assert_eq!(amount_for(&month, BenefitCategory::Regular), Some(11_000_000));
        assert_eq!(amount_for(&month, BenefitCategory::SevereDisability), Some(11_000_000));
    }

    #[test]
    fn a_category_amount_comes_before_the_amount_for_every_family() {
        let both = [
            Rate { payees: Payees::Every, amount_minor: 11_000_000 },
            Rate { payees: Payees::Category(BenefitCategory::Papua), amount_minor: 12_000_000 },
        ];
        assert_eq!(amount_for(&both, BenefitCategory::Papua), Some(12_000_000));
        assert_eq!(amount_for(&both, BenefitCategory::Regular), Some(11_000_000));
    }

    #[test]
    fn a_schedule_row_pays_every_family_or_one_category() {
        assert_eq!(Payees::parse("all"), Some(Payees::Every));
        assert_eq!(Payees::parse("severe_disability"), Some(Payees::Category(BenefitCategory::SevereDisability)));
        assert_eq!(Payees::parse("everyone"), None);
    }

    #[test]
    fn cycles_are_a_year_and_a_pkh_stage() {
        assert_eq!(parse_cycle("2017-2"), Some((2017, 2)));
        for bad in ["2017-5", "2017-0", "17-2", "2017", "x-1", "2017-2-1"] {
            assert_eq!(parse_cycle(bad), None, "{bad}");
        }
    }
}
