//! Who is at the terminal: the kind of agent, which decides what it may do.

crate::text_enum! {
    /// What kind of agent: a bank agent (cash in, cash out) or an e-Warong (sells goods).
    pub enum AgentKind {
        BankAgent,
        EWarong,
    }
}
