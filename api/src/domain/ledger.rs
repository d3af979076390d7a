//! The vocabulary of the ledger: who owns an account, what kind it is, why money is held
//! and what a journal records. Stored as text; these enums are the only spellings.

pub use kks_wire::ledger::AccountKind;

use super::language::Words;

text_enum! {
    /// Who an account belongs to.
    pub enum OwnerKind {
        /// A beneficiary family (KPM).
        Family,
        /// A bank agent or e-Warong.
        Agent,
        /// The programme itself: treasury and programme funds.
        System,
    }
}

/// The treasury is the one account allowed below zero: its negative balance is the money
/// the state has put into the programme, so the journal sums to zero.
pub fn may_go_negative(kind: AccountKind) -> bool {
    kind == AccountKind::Treasury
}

text_enum! {
    /// Why money is held (blocked): shown to the family, and decides who may release it.
    pub enum HoldReason {
        /// Credited in advance for a stage that has not opened yet.
        StageNotOpen,
        /// A family member did not meet a commitment this cycle (PKH suspension).
        CommitmentSuspension,
        /// The card was reported lost or stolen.
        LostCard,
        /// An operator is investigating the account.
        Investigation,
    }
}

impl HoldReason {
    /// Why the money is blocked, in words a family understands.
    pub fn explain(self) -> Words {
        match self {
            Self::StageNotOpen => Words::new(
                "Dana untuk tahap berikutnya; bisa diambil saat tahap itu dibuka.",
                "Money for a later stage; it can be drawn when that stage opens.",
            ),
            Self::CommitmentSuspension => Words::new(
                "Diblokir sementara karena komitmen PKH belum dipenuhi; dibuka kembali bila keluarga memenuhi komitmen pada periode berikutnya.",
                "Blocked because a PKH commitment was not met; released when the family meets its commitments next period.",
            ),
            Self::LostCard => Words::new(
                "Diblokir karena kartu dilaporkan hilang; dibuka setelah kartu diganti.",
                "Blocked because the card was reported lost; released once the card is replaced.",
            ),
            Self::Investigation => Words::new(
                "Diblokir sementara untuk pemeriksaan oleh petugas.",
                "Blocked while an operator looks into the account.",
            ),
        }
    }
}

text_enum! {
    /// Where a hold is in its life.
    pub enum HoldStatus {
        Active,
        /// The money is available again.
        Released,
        /// The held money was moved elsewhere (e.g. back to the treasury).
        Captured,
    }
}

text_enum! {
    /// Whether an account can still move money.
    pub enum AccountStatus {
        Open,
        Closed,
    }
}

text_enum! {
    /// The business event a journal records.
    pub enum JournalKind {
        /// Treasury to programme fund to family e-wallet.
        Disbursement,
        /// Cash paid out by an agent from savings.
        CashWithdrawal,
        /// PKH e-wallet to savings (pemindahbukuan).
        WalletToSavings,
        /// Goods bought at an e-Warong from a programme e-wallet.
        Purchase,
        /// Money returned to the treasury (termination, unclaimed funds).
        ReturnToTreasury,
        /// The exact opposite of an earlier journal.
        Reversal,
        /// Money moved by an operator or a test, outside the card flows.
        Adjustment,
    }
}

impl JournalKind {
    /// Money returned to the treasury leaves a blocked account: a block keeps the family
    /// from drawing while it is suspended, not the state from taking back what a
    /// terminated membership leaves.
    pub fn passes_debit_block(self) -> bool {
        self == Self::ReturnToTreasury
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use strum::IntoEnumIterator;

    #[test]
    fn stored_spellings_round_trip_for_every_kind() {
        for kind in AccountKind::iter() {
            assert_eq!(AccountKind::from_str(kind.as_ref()), Ok(kind));
        }
        for reason in HoldReason::iter() {
            assert_eq!(HoldReason::from_str(reason.as_ref()), Ok(reason));
        }
        for kind in JournalKind::iter() {
            assert_eq!(JournalKind::from_str(kind.as_ref()), Ok(kind));
        }
        assert_eq!(AccountKind::WalletPkh.as_ref(), "wallet_pkh");
    }

    #[test]
    fn only_the_treasury_may_go_negative() {
        let negative: Vec<_> = AccountKind::iter().filter(|kind| may_go_negative(*kind)).collect();
        assert_eq!(negative, vec![AccountKind::Treasury]);
    }
}
