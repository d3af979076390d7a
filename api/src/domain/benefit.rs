//! The programmes' money and its conditions: which e-wallet a programme pays into and
//! the commitments a PKH family keeps.

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
