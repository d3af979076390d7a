//! Reconciliation with the paying banks: for a programme, what was credited to the
//! families' e-wallets, absorbed (spent, moved to savings), returned to the treasury,
//! and what remains (and of it, what is held) — per province and per bank, from the
//! ledger, with the identity credited − absorbed − returned ± other = remaining checked.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::ServiceError;
use crate::domain::auth::RegionScope;
use crate::domain::benefit::Programme;
use crate::domain::ledger::JournalKind;
use crate::domain::money::rupiah_from_minor;
use crate::store::reconciliation as store;
use crate::store::Store;

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ReconciliationRow {
    /// Province code (two digits).
    pub province: String,
    /// The paying bank of the families' cards.
    pub bank: String,
    pub families: i64,
    #[schema(value_type = String)]
    pub credited: Decimal,
    /// Spent on goods or moved to savings (for PKH, then drawable in cash).
    #[schema(value_type = String)]
    pub absorbed: Decimal,
    #[schema(value_type = String)]
    pub returned_to_treasury: Decimal,
    /// Reversals and adjustments, net.
    #[schema(value_type = String)]
    pub other: Decimal,
    #[schema(value_type = String)]
    pub remaining: Decimal,
    #[schema(value_type = String)]
    pub held: Decimal,
    /// credited − absorbed − returned + other = remaining, to the sen.
    pub balanced: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reconciliation {
    pub programme: Programme,
    pub rows: Vec<ReconciliationRow>,
    pub total: ReconciliationRow,
}

#[derive(Default, Clone, Copy)]
struct Sums {
    families: i64,
    credited: i64,
    absorbed: i64,
    returned: i64,
    other: i64,
    remaining: i64,
    held: i64,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.families += other.families;
        self.credited += other.credited;
        self.absorbed += other.absorbed;
        self.returned += other.returned;
        self.other += other.other;
        self.remaining += other.remaining;
        self.held += other.held;
    }

    fn row(&self, province: &str, bank: &str) -> ReconciliationRow {
        ReconciliationRow {
            province: province.to_owned(),
            bank: bank.to_owned(),
            families: self.families,
            credited: rupiah_from_minor(self.credited),
            absorbed: rupiah_from_minor(self.absorbed),
            returned_to_treasury: rupiah_from_minor(self.returned),
            other: rupiah_from_minor(self.other),
            remaining: rupiah_from_minor(self.remaining),
            held: rupiah_from_minor(self.held),
            balanced: self.credited - self.absorbed - self.returned + self.other == self.remaining,
        }
    }
}

/// The programme's reconciliation for the operator's region.
pub fn reconcile(store: &Store, principal: &Principal, programme: Programme) -> Result<Reconciliation, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let (movements, holdings) = store.read(|tx| {
        Ok::<_, ServiceError>((store::movements(tx, programme.wallet())?, store::holdings(tx, programme.wallet())?))
    })?;
    let in_scope = |province: &str| match scope {
        RegionScope::National => true,
        RegionScope::Region(code) => code.as_str().get(..2) == Some(province),
    };
    let mut sums: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for movement in movements.iter().filter(|movement| in_scope(&movement.province)) {
        let entry = sums.entry((movement.province.clone(), movement.bank.clone())).or_default();
        match movement.journal_kind.parse::<JournalKind>() {
            Ok(JournalKind::Disbursement) => entry.credited += movement.amount_minor,
            Ok(JournalKind::Purchase | JournalKind::WalletToSavings | JournalKind::CashWithdrawal) => {
                entry.absorbed -= movement.amount_minor
            }
            Ok(JournalKind::ReturnToTreasury) => entry.returned -= movement.amount_minor,
            Ok(JournalKind::Reversal | JournalKind::Adjustment) | Err(_) => entry.other += movement.amount_minor,
        }
    }
    for holding in holdings.iter().filter(|holding| in_scope(&holding.province)) {
        let entry = sums.entry((holding.province.clone(), holding.bank.clone())).or_default();
        entry.families += holding.families;
        entry.remaining += holding.balance_minor;
        entry.held += holding.held_minor;
    }
    let mut total = Sums::default();
    let rows = sums
        .iter()
        .map(|((province, bank), sums)| {
            total.add(sums);
            sums.row(province, bank)
        })
        .collect();
    Ok(Reconciliation { programme, rows, total: total.row("all", "all") })
}
