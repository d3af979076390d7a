//! The programmes' money: which e-wallet a programme pays into, what a family receives
//! for a period, and the commitments a PKH family keeps.

use super::family::{BenefitCategory, FamilyStatus};
use super::ledger::AccountKind;
use strum::IntoEnumIterator;

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

    /// Whether a period of the programme pays a family: PKH its active and suspended
    /// members (a suspended family's money arrives in its blocked wallet); the other
    /// programmes also a family whose PKH membership ended, and a graduated one unless
    /// its exit stopped them. The one rule of who is paid.
    pub fn pays(self, enrolment: Enrolment) -> bool {
        match enrolment.status {
            FamilyStatus::Active | FamilyStatus::Suspended => true,
            FamilyStatus::Terminated => !self.is_conditional(),
            FamilyStatus::Graduated => !self.is_conditional() && enrolment.non_cash_continues,
        }
    }

    /// The statuses of which [`Programme::pays`] may pay a family: the batch's first sieve.
    pub fn paid_statuses(self) -> Vec<FamilyStatus> {
        FamilyStatus::iter()
            .filter(|status| self.pays(Enrolment { status: *status, non_cash_continues: true }))
            .collect()
    }
}

/// Where a family stands for payment: its status, and whether its exit (if it left PKH)
/// kept its food and LPG assistance. A family that never left has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enrolment {
    pub status: FamilyStatus,
    pub non_cash_continues: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn pkh_stops_at_an_exit_and_food_and_lpg_go_on_unless_the_exit_stopped_them() {
        let enrolment = |status, non_cash_continues| Enrolment { status, non_cash_continues };
        assert!(Programme::Pkh.pays(enrolment(FamilyStatus::Suspended, true)));
        assert!(!Programme::Pkh.pays(enrolment(FamilyStatus::Graduated, true)));
        assert!(!Programme::Pkh.pays(enrolment(FamilyStatus::Terminated, true)));
        assert!(Programme::Bpnt.pays(enrolment(FamilyStatus::Graduated, true)));
        assert!(!Programme::Lpg.pays(enrolment(FamilyStatus::Graduated, false)));
        assert!(Programme::Lpg.pays(enrolment(FamilyStatus::Terminated, true)));
        assert_eq!(Programme::Pkh.paid_statuses(), [FamilyStatus::Active, FamilyStatus::Suspended]);
        assert_eq!(Programme::Bpnt.paid_statuses().len(), 4);
    }

    #[test]
    fn a_schedule_row_pays_every_family_or_one_category() {
        assert_eq!(Payees::parse("all"), Some(Payees::Every));
        assert_eq!(Payees::parse("severe_disability"), Some(Payees::Category(BenefitCategory::SevereDisability)));
        assert_eq!(Payees::parse("everyone"), None);
    }
}
