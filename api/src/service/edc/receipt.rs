//! The EDC slip in Bahasa Indonesia, as lines of text (also drawn as a PNG).

use rust_decimal::Decimal;

use super::{EdcBasket, EdcReceipt, PocketBalance};
use crate::domain::card::CardNumber;
use crate::domain::edc::{format_rupiah, EdcKind};
use crate::domain::holds::PocketFigures;
use crate::domain::ledger::AccountKind;
use crate::domain::money::rupiah_from_minor;
use crate::service::families::pocket_name;
use crate::service::ServiceError;
use crate::store::edc::EdcTransaction;

/// The width of a slip line, in characters (a 58 mm thermal printer).
pub const SLIP_WIDTH_CHARS: usize = 32;

fn minor(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED).trunc().try_into().unwrap_or(i64::MAX)
}

/// `label` on the left and `value` on the right of one slip line (at least two spaces
/// apart, which is how the PNG slip tells the columns apart).
fn row(label: &str, value: &str) -> String {
    let padding = SLIP_WIDTH_CHARS.saturating_sub(label.chars().count() + value.chars().count()).max(2);
    format!("{label}{}{value}", " ".repeat(padding))
}

/// Pocket names short enough for a 32-character slip line.
fn slip_pocket_name(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Savings => "Tabungan",
        AccountKind::WalletPkh => "e-Wallet PKH",
        AccountKind::WalletBpnt => "e-Wallet BPNT",
        AccountKind::WalletLpg => "e-Wallet LPG",
        AccountKind::Treasury | AccountKind::ProgrammeFund | AccountKind::AgentSettlement => "Lainnya",
    }
}

fn title(kind: EdcKind) -> &'static str {
    match kind {
        EdcKind::BalanceInquiry => "INFORMASI SALDO",
        EdcKind::CashWithdrawal => "TARIK TUNAI",
        EdcKind::WalletToSavings => "PEMINDAHBUKUAN PKH KE TABUNGAN",
        EdcKind::Purchase => "PEMBELIAN E-WARONG",
        EdcKind::Reversal => "PEMBATALAN (REVERSAL)",
    }
}

/// The receipt of an approved card transaction, drawn from its EDC record: the same
/// whether it answers the request that made it, a retry, or a reprint of the slip.
pub fn draw(row: &EdcTransaction, agent_name: &str) -> Result<EdcReceipt, ServiceError> {
    let items = row.basket::<EdcBasket>()?.map(|basket| basket.items).unwrap_or_default();
    let masked_card = match row.card_number.as_deref().map(CardNumber::parse) {
        Some(Ok(card)) => card.masked(),
        _ => return Err(ServiceError::Internal(format!("EDC record {} has no card", row.reference))),
    };
    let balances = row
        .slip_pockets
        .iter()
        .map(|pocket| {
            let figures = PocketFigures::of(pocket.balance_minor, pocket.held_minor, pocket.blocked);
            PocketBalance {
                kind: pocket.kind,
                name: pocket_name(pocket.kind),
                balance: rupiah_from_minor(figures.balance_minor),
                held: rupiah_from_minor(figures.held_minor),
                blocked: rupiah_from_minor(figures.blocked_minor),
                available: rupiah_from_minor(figures.available_minor),
            }
        })
        .collect();
    let mut receipt = EdcReceipt {
        kind: row.kind,
        terminal_id: row.terminal_id.clone(),
        stan: row.stan.clone(),
        reference: row.reference.clone(),
        approval_code: row.approval_code.clone(),
        business_date: row.business_date,
        at: row.created_at,
        masked_card,
        amount: (row.amount_minor > 0).then(|| rupiah_from_minor(row.amount_minor)),
        items,
        balances,
        lines: Vec::new(),
    };
    receipt.lines = lines(&receipt, agent_name);
    Ok(receipt)
}

/// The slip: agent, terminal, date, reference, amount, goods and every pocket's balance.
fn lines(receipt: &EdcReceipt, agent_name: &str) -> Vec<String> {
    let mut lines = vec![
        "KARTU KELUARGA SEJAHTERA".to_owned(),
        agent_name.chars().take(SLIP_WIDTH_CHARS).collect(),
        row("TID", &receipt.terminal_id),
        row("STAN", &receipt.stan),
        row("TANGGAL", &format!("{} WIB", (receipt.at + chrono::Duration::hours(7)).format("%d/%m/%Y %H:%M"))),
        row("NO. REF", &receipt.reference),
        row("KODE APPROVAL", &receipt.approval_code),
        row("KARTU", &receipt.masked_card),
        String::new(),
        title(receipt.kind).to_owned(),
    ];
    for item in &receipt.items {
        lines.push(format!("{} x{}", item.name, item.quantity));
        lines.push(row(&format!("  @ {}", format_rupiah(minor(item.unit_price))), &format_rupiah(minor(item.total))));
    }
    if let Some(amount) = receipt.amount {
        lines.push(row("JUMLAH", &format_rupiah(minor(amount))));
    }
    lines.push(String::new());
    lines.push("SALDO".to_owned());
    for pocket in &receipt.balances {
        lines.push(row(&format!(" {}", slip_pocket_name(pocket.kind)), &format_rupiah(minor(pocket.balance))));
        if pocket.held > Decimal::ZERO {
            lines.push(row("   diblokir", &format_rupiah(minor(pocket.held))));
            lines.push(row("   dapat digunakan", &format_rupiah(minor(pocket.available))));
        }
    }
    lines.push(String::new());
    lines.push("TRANSAKSI BERHASIL".to_owned());
    lines.push("SIMPAN STRUK INI SEBAGAI BUKTI".to_owned());
    lines
}
