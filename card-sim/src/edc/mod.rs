//! `edc`: an interactive terminal session, as an agent uses one. Read the card (scan a
//! card picture or key the number), type the PIN, choose the transaction, get the slip.
//! An unanswered money transaction is reversed at once, and again before the next
//! transaction if the reversal itself went unanswered.

mod keypad;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kks_wire::card_qr::IssuerVerifyingKeys;
use kks_wire::edc::format_rupiah;
use kks_wire::edc::reversal::Original;
use kks_wire::edc::transaction::EdcReceipt;
use rust_decimal::Decimal;

use crate::api::{Answer, Login, Server, Session};
use crate::card::fetch_issuer_keys;
use crate::console::Console;
use crate::stan::StanCounter;
use crate::terminal::{
    describe_reversal, transmitted_now, CardRead, CardTransaction, Operation, Outcome, ReversalReport, Terminal,
};

use self::keypad::CatalogueItem;

/// How often the agent may retry the login before the session ends.
const LOGIN_ATTEMPTS_MAX: u32 = 3;

pub struct EdcOptions {
    pub server: Server,
    /// The agent, when given on the command line; asked for otherwise.
    pub login: Option<Login>,
    pub slip_dir: Option<PathBuf>,
    pub stan_file: Option<PathBuf>,
    /// Drop the answer of the Nth card transaction of the session (1 is the first).
    pub simulate_timeout_on: Option<u32>,
    pub reversal_attempts: u32,
}

/// The last money transaction, for "reversal of the last transaction".
struct LastTransaction {
    sent: Original,
    title: &'static str,
    amount: Option<Decimal>,
}

struct EdcSession<'a> {
    console: &'a mut Console,
    terminal: Terminal,
    issuer_keys: IssuerVerifyingKeys,
    stans: StanCounter,
    options: &'a EdcOptions,
    card: Option<CardRead>,
    last: Option<LastTransaction>,
    /// A reversal that went unanswered, with the original's STAN and transmission time
    /// (which name its business day, after midnight too); sent before the next transaction.
    pending_reversal: Option<Original>,
    transactions_sent: u32,
    catalogue: Option<Vec<CatalogueItem>>,
}

/// Runs a session until the agent quits or the input ends.
pub fn run(options: &EdcOptions, console: &mut Console) -> anyhow::Result<()> {
    console.say("=== KKS EDC — simulator terminal agen [agent terminal simulator] ===")?;
    let issuer_keys = fetch_issuer_keys(&options.server)?;
    let Some(terminal) = log_in(options, console)? else {
        return console.say("Sesi selesai [session ended].");
    };
    let stans = match &options.stan_file {
        Some(path) => StanCounter::from_state_file(path)?,
        None => StanCounter::random(),
    };
    if let Some(folder) = &options.slip_dir {
        std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    let mut session = EdcSession {
        console,
        terminal,
        issuer_keys,
        stans,
        options,
        card: None,
        last: None,
        pending_reversal: None,
        transactions_sent: 0,
        catalogue: None,
    };
    session.main_menu()
}

fn log_in(options: &EdcOptions, console: &mut Console) -> anyhow::Result<Option<Terminal>> {
    for _ in 0..LOGIN_ATTEMPTS_MAX {
        let login = match &options.login {
            Some(login) => login.clone(),
            None => {
                let Some(username) = console.ask("Nama pengguna agen [agent user name]: ")? else { return Ok(None) };
                let Some(password) = console.ask_secret("Kata sandi [password]: ")? else { return Ok(None) };
                let Some(terminal_id) = console.ask("ID terminal [terminal id]: ")? else { return Ok(None) };
                Login::Agent { username, password, terminal_id }
            }
        };
        let Login::Agent { terminal_id, .. } = &login else {
            anyhow::bail!("the EDC logs in as an agent: --login agent:USER:PASSWORD:TERMINAL");
        };
        let terminal_id = terminal_id.clone();
        match Session::open(&options.server, login) {
            Ok(session) => {
                console.say(&format!("Masuk sebagai [logged in as] {:?}", session.login()))?;
                return Ok(Some(Terminal::new(session, &terminal_id)));
            }
            Err(error) if options.login.is_none() => console.say(&format!("Gagal masuk [login failed]: {error:#}"))?,
            Err(error) => return Err(error),
        }
    }
    console.say("Terlalu banyak percobaan [too many attempts].")?;
    Ok(None)
}

impl EdcSession<'_> {
    fn main_menu(&mut self) -> anyhow::Result<()> {
        loop {
            self.console.say("")?;
            self.console.say(&format!("MENU UTAMA [main menu] — terminal {}", self.terminal.terminal_id()))?;
            self.console.say("  1. Informasi saldo [balance inquiry]")?;
            self.console.say("  2. Tarik tunai [cash withdrawal]")?;
            self.console.say("  3. PKH ke tabungan [PKH e-wallet to savings]")?;
            self.console.say("  4. Pembelian e-Warong [purchase]")?;
            self.console.say("  5. Batalkan transaksi terakhir [reverse the last transaction]")?;
            self.console.say("  6. Rekap hari ini [today's settlement]")?;
            self.console.say("  0. Keluar [quit]")?;
            let Some(choice) = self.console.ask("Pilihan [choice]: ")? else { break };
            let carry_on = match choice.as_str() {
                "1" => self.card_transaction(|_| Ok(Some(Operation::BalanceInquiry)))?,
                "2" => self.card_transaction(|session| {
                    Ok(session.ask_amount()?.map(|amount| Operation::CashWithdrawal { amount }))
                })?,
                "3" => self.card_transaction(|session| {
                    Ok(session.ask_amount()?.map(|amount| Operation::WalletToSavings { amount }))
                })?,
                "4" => self.card_transaction(Self::ask_basket)?,
                "5" => self.reverse_last()?,
                "6" => self.settlement()?,
                "0" => break,
                _ => {
                    self.console.say("Pilihan tidak dikenal [unknown choice].")?;
                    true
                }
            };
            if !carry_on {
                break;
            }
        }
        self.console.say("Terima kasih. Sesi selesai [session ended].")
    }

    /// Reads the card, the operation and the PIN, then sends the transaction. False when
    /// the input ended.
    fn card_transaction(
        &mut self,
        ask_operation: impl FnOnce(&mut Self) -> anyhow::Result<Option<Operation>>,
    ) -> anyhow::Result<bool> {
        self.send_pending_reversal()?;
        let Some(card) = self.read_card()? else { return Ok(!self.console.ended()) };
        let Some(operation) = ask_operation(self)? else { return Ok(!self.console.ended()) };
        let Some(pin) = self.console.ask_secret("PIN (6 digit): ")? else { return Ok(false) };
        let transaction = CardTransaction { card, pin, operation };
        self.send(&transaction)?;
        Ok(true)
    }

    fn send(&mut self, transaction: &CardTransaction) -> anyhow::Result<()> {
        let transmitted_at = transmitted_now();
        let sent = Original { stan: self.stans.next(transmitted_at.business_date())?, transmitted_at };
        let stan = &sent.stan;
        let key = self.terminal.idempotency_key(&sent);
        self.transactions_sent += 1;
        let drop_answer = self.options.simulate_timeout_on == Some(self.transactions_sent);
        let title = transaction.operation.title();
        self.console.say(&format!("Memproses [processing] {title}, STAN {}…", stan.as_str()))?;
        let outcome = self.terminal.send(transaction, &sent, &key, drop_answer);
        // What may have moved money can be reversed from the menu: an approval, or a
        // transaction whose answer never came.
        if transaction.operation.moves_money() && matches!(outcome, Outcome::Approved(_) | Outcome::Lost(_)) {
            let amount = match (&transaction.operation, &outcome) {
                (_, Outcome::Approved(receipt)) => receipt.amount,
                (Operation::CashWithdrawal { amount } | Operation::WalletToSavings { amount }, _) => Some(*amount),
                _ => None,
            };
            self.last = Some(LastTransaction { sent: sent.clone(), title, amount });
        }
        match outcome {
            Outcome::Approved(receipt) => self.print_receipt(&receipt),
            Outcome::Refused(problem) => {
                self.console.say("TRANSAKSI DITOLAK [DECLINED]")?;
                self.console.say(&format!("  Kode [code] : {}", problem.code))?;
                self.console.say(&format!("  Alasan      : {}", problem.title))?;
                self.console.say(&format!("  [detail]    : {}", problem.detail))
            }
            Outcome::Lost(error) => {
                self.console.say(&format!("TIDAK ADA JAWABAN DARI SERVER [no answer from the server]: {error}"))?;
                if transaction.operation.moves_money() {
                    self.console.say(&format!(
                        "Status tidak diketahui; mengirim pembatalan (reversal) STAN {} [unknown outcome: reversing]…",
                        stan.as_str()
                    ))?;
                    self.reverse(&sent)
                } else {
                    self.console.say("Silakan ulangi [please try again].")
                }
            }
        }
    }

    fn print_receipt(&mut self, receipt: &EdcReceipt) -> anyhow::Result<()> {
        let rule = "-".repeat(32);
        self.console.say(&rule)?;
        for line in &receipt.lines {
            self.console.say(line)?;
        }
        self.console.say(&rule)?;
        if let Some(folder) = self.options.slip_dir.clone() {
            self.save_slip(&folder, receipt)?;
        }
        Ok(())
    }

    /// Writes the slip's text and its PNG (as the server draws it) to the folder.
    fn save_slip(&mut self, folder: &Path, receipt: &EdcReceipt) -> anyhow::Result<()> {
        let name = format!("{}-{}-{}", receipt.terminal_id, receipt.stan, receipt.reference);
        let text_path = folder.join(format!("{name}.txt"));
        let mut text = receipt.lines.join("\n");
        text.push('\n');
        std::fs::write(&text_path, text).with_context(|| format!("writing {}", text_path.display()))?;
        let slip = self.terminal.session().get_bytes(&format!("/v1/edc/transactions/{}/slip.png", receipt.reference));
        match slip {
            Ok(Answer::Ok(png)) => {
                let png_path = folder.join(format!("{name}.png"));
                std::fs::write(&png_path, png).with_context(|| format!("writing {}", png_path.display()))?;
                self.console.say(&format!("Struk disimpan [slip saved]: {}", png_path.display()))
            }
            Ok(Answer::Refused(problem)) => {
                self.console.say(&format!("Struk PNG tidak tersedia [no slip picture]: {problem}"))
            }
            Err(error) => self.console.say(&format!("Struk PNG tidak terambil [slip picture not fetched]: {error}")),
        }
    }

    /// Sends the reversal of a transaction, with retries; keeps it for later when unanswered.
    fn reverse(&mut self, original: &Original) -> anyhow::Result<()> {
        let key = self.terminal.reversal_key(original);
        match self.terminal.reverse_with_retries(original, &key, self.options.reversal_attempts) {
            ReversalReport::Done(result) => {
                self.pending_reversal = None;
                self.console.say(&describe_reversal(&result))
            }
            ReversalReport::Refused(problem) => {
                self.pending_reversal = None;
                self.console.say(&format!("PEMBATALAN DITOLAK [reversal refused]: {problem}"))
            }
            ReversalReport::Pending(error) => {
                self.pending_reversal = Some(original.clone());
                self.console.say(&format!(
                    "Pembatalan belum terkirim [reversal not delivered]: {error}. Dikirim lagi sebelum transaksi berikutnya [it is sent again before the next transaction]."
                ))
            }
        }
    }

    fn send_pending_reversal(&mut self) -> anyhow::Result<()> {
        if let Some(original) = self.pending_reversal.clone() {
            self.console.say(&format!(
                "Mengirim pembatalan tertunda [sending the pending reversal] STAN {}…",
                original.stan.as_str()
            ))?;
            self.reverse(&original)?;
        }
        Ok(())
    }

    /// Menu 5: reverses the last money transaction, once the agent confirms.
    fn reverse_last(&mut self) -> anyhow::Result<bool> {
        self.send_pending_reversal()?;
        let Some(last) = &self.last else {
            self.console.say("Belum ada transaksi untuk dibatalkan [nothing to reverse].")?;
            return Ok(true);
        };
        let amount = last.amount.map(|amount| format!(" {}", format_rupiah(minor(amount)))).unwrap_or_default();
        let question =
            format!("Batalkan {}{amount}, STAN {}? (y/t) [reverse? y/n]: ", last.title, last.sent.stan.as_str());
        let original = last.sent.clone();
        let Some(answer) = self.console.ask(&question)? else { return Ok(false) };
        if matches!(answer.to_lowercase().as_str(), "y" | "ya" | "yes") {
            self.reverse(&original)?;
            self.last = None;
        } else {
            self.console.say("Tidak dibatalkan [not reversed].")?;
        }
        Ok(true)
    }

    /// Menu 6: what the agent paid out and sold today, and what the bank owes it.
    fn settlement(&mut self) -> anyhow::Result<bool> {
        let answer = self.terminal.session().get::<serde_json::Value>("/v1/edc/settlement");
        match answer {
            Ok(Answer::Ok(settlement)) => {
                let field = |name: &str| settlement.get(name).map(value_text).unwrap_or_default();
                let rupiah = |name: &str| {
                    field(name).parse::<Decimal>().map_or_else(|_| field(name), |amount| format_rupiah(minor(amount)))
                };
                self.console.say(&format!("REKAP [settlement] {}", field("business_date")))?;
                self.console.say(&format!(
                    "  Tarik tunai [withdrawals] : {} transaksi, {}",
                    field("cash_withdrawals"),
                    rupiah("cash_paid_out")
                ))?;
                self.console.say(&format!(
                    "  Penjualan [purchases]     : {} transaksi, {}",
                    field("purchases"),
                    rupiah("goods_sold")
                ))?;
                self.console.say(&format!("  Dibatalkan [reversed]     : {}", field("reversed")))?;
                self.console.say(&format!("  Hak agen [owed to agent]  : {}", rupiah("owed_to_agent")))?;
            }
            Ok(Answer::Refused(problem)) => self.console.say(&format!("Rekap ditolak [refused]: {problem}"))?,
            Err(error) => self.console.say(&format!("Rekap gagal [failed]: {error}"))?,
        }
        Ok(true)
    }
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Rupiah as minor units (sen) for the slip formatter.
fn minor(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive as _;
    (amount * Decimal::ONE_HUNDRED).trunc().to_i64().unwrap_or(i64::MAX)
}
