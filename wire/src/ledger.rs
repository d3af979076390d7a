//! The ledger's vocabulary that answers carry: the kinds of account (a family's pockets).

crate::text_enum! {
    /// What an account holds.
    pub enum AccountKind {
        /// The family's savings account (tabungan): the only pocket that pays out cash.
        Savings,
        /// PKH conditional cash transfer e-wallet.
        WalletPkh,
        /// BPNT food assistance e-wallet (spend only).
        WalletBpnt,
        /// LPG subsidy e-wallet (spend only).
        WalletLpg,
        /// The state treasury (Kas Negara): the source of all programme money.
        Treasury,
        /// A programme's fund at the paying bank, between treasury and families.
        ProgrammeFund,
        /// What the bank owes an agent for cash paid out and goods sold.
        AgentSettlement,
    }
}
