//! The EDC slip in Bahasa Indonesia, as lines of text (also drawn as a PNG).

use rust_decimal::Decimal;

use super::EdcReceipt;
use crate::domain::edc::{format_rupiah, EdcKind};
use crate::domain::ledger::AccountKind;

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

/// The slip: agent, terminal, date, reference, amount, goods and every pocket's balance.
pub fn lines(receipt: &EdcReceipt, agent_name: &str) -> Vec<String> {
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
