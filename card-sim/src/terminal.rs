//! An agent's EDC terminal on the wire: card transactions with a STAN, a transmission
//! time and an idempotency key, and reversals sent when an answer never came.

use std::time::Duration;

use kks_wire::edc::reversal::{Original, ReversalOutcome, ReversalResult};
use kks_wire::edc::transaction::{BasketLine, EdcReceipt};
use kks_wire::edc::PurchaseProgramme;
use kks_wire::transmission::TransmittedAt;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::api::{read_answer, Answer, Problem, Session, TransportError};

/// How the card reached the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardRead {
    /// The text of the card's QR code, as scanned.
    Qr(String),
    /// The 16 digits keyed in.
    Keyed(String),
}

/// What the cardholder asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    BalanceInquiry,
    CashWithdrawal { amount: Decimal },
    WalletToSavings { amount: Decimal },
    Purchase { programme: PurchaseProgramme, basket: Vec<BasketLine> },
}

impl Operation {
    pub fn path(&self) -> &'static str {
        match self {
            Self::BalanceInquiry => "/v1/edc/balance-inquiries",
            Self::CashWithdrawal { .. } => "/v1/edc/cash-withdrawals",
            Self::WalletToSavings { .. } => "/v1/edc/wallet-to-savings",
            Self::Purchase { .. } => "/v1/edc/purchases",
        }
    }

    /// Whether it moves money, so that a lost answer must be reversed.
    pub fn moves_money(&self) -> bool {
        !matches!(self, Self::BalanceInquiry)
    }

    /// The name on the terminal's screen, Indonesian first.
    pub fn title(&self) -> &'static str {
        match self {
            Self::BalanceInquiry => "INFORMASI SALDO [balance inquiry]",
            Self::CashWithdrawal { .. } => "TARIK TUNAI [cash withdrawal]",
            Self::WalletToSavings { .. } => "PKH KE TABUNGAN [PKH e-wallet to savings]",
            Self::Purchase { .. } => "PEMBELIAN E-WARONG [purchase]",
        }
    }

    fn fields(&self) -> Value {
        match self {
            Self::BalanceInquiry => json!({}),
            Self::CashWithdrawal { amount } | Self::WalletToSavings { amount } => {
                json!({ "amount": amount.to_string() })
            }
            Self::Purchase { programme, basket } => json!({ "programme": programme, "basket": basket }),
        }
    }
}

/// A card transaction as the terminal sends it, before it has a STAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardTransaction {
    pub card: CardRead,
    pub pin: String,
    pub operation: Operation,
}

impl CardTransaction {
    /// The request body with this STAN and transmission time.
    pub fn body(&self, sent: &Original) -> Value {
        let card = match &self.card {
            CardRead::Qr(text) => json!({ "qr": text }),
            CardRead::Keyed(number) => json!({ "card_number": number }),
        };
        let mut body =
            json!({ "card": card, "pin": self.pin, "stan": sent.stan.as_str(), "transmitted_at": sent.transmitted_at });
        if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), self.operation.fields()) {
            body.extend(fields);
        }
        body
    }
}

/// What became of a card transaction.
#[derive(Debug)]
pub enum Outcome {
    Approved(Box<EdcReceipt>),
    Refused(Problem),
    /// No (whole) answer: the server may or may not have done it.
    Lost(TransportError),
}

impl Outcome {
    /// `APPROVED`, the refusal's code, or `NO_ANSWER`.
    pub fn code(&self) -> &str {
        match self {
            Self::Approved(_) => "APPROVED",
            Self::Refused(problem) => &problem.code,
            Self::Lost(_) => "NO_ANSWER",
        }
    }
}

/// How a reversal for a lost answer ended.
#[derive(Debug)]
pub enum ReversalReport {
    Done(ReversalResult),
    Refused(Problem),
    /// Every attempt went unanswered; the terminal keeps it to send later.
    Pending(TransportError),
}

/// Now on this machine's clock, written in WIB as the terminal sends it.
pub fn transmitted_now() -> TransmittedAt {
    TransmittedAt::in_wib(chrono::Utc::now().naive_utc())
}

/// Pauses between reversal attempts: a real terminal waits a little longer each time.
const REVERSAL_PAUSES_MS: [u64; 4] = [200, 500, 1_000, 2_000];

/// A logged-in agent's terminal.
pub struct Terminal {
    session: Session,
    terminal_id: String,
}

impl Terminal {
    pub fn new(session: Session, terminal_id: &str) -> Self {
        Self { session, terminal_id: terminal_id.to_owned() }
    }

    pub fn terminal_id(&self) -> &str {
        &self.terminal_id
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The idempotency key of a request: terminal, business day (of its transmission
    /// time) and STAN, which together name one request of one terminal for ever.
    pub fn idempotency_key(&self, sent: &Original) -> String {
        let day = sent.transmitted_at.business_date();
        format!("{}-{}-{}", self.terminal_id, day.format("%Y%m%d"), sent.stan.as_str())
    }

    /// Sends a card transaction with this STAN, transmission time and key. With
    /// `drop_answer`, the request goes out and is done by the server, but its answer is
    /// thrown away, as if the line had dropped: the way to rehearse a reversal.
    pub fn send(&self, transaction: &CardTransaction, sent: &Original, key: &str, drop_answer: bool) -> Outcome {
        self.send_body(transaction.operation.path(), &transaction.body(sent), key, drop_answer)
    }

    /// Sends a prepared body (the load generator and scenarios resend exact bodies).
    pub fn send_body(&self, path: &str, body: &Value, key: &str, drop_answer: bool) -> Outcome {
        let url = self.session.server().url(path);
        let answer = self
            .session
            .send(|http| http.post(&url).header("Idempotency-Key", key).json(body))
            .and_then(read_answer::<EdcReceipt>);
        match answer {
            Ok(_) if drop_answer => Outcome::Lost(TransportError {
                timeout: true,
                message: "simulated: the answer was dropped on the way back".to_owned(),
            }),
            Ok(Answer::Ok(receipt)) => Outcome::Approved(Box::new(receipt)),
            Ok(Answer::Refused(problem)) => Outcome::Refused(problem),
            Err(error) => Outcome::Lost(error),
        }
    }

    /// The key of the terminal's reversal of a transaction: the original's key with `-R`,
    /// the same for every attempt, so resending it is harmless.
    pub fn reversal_key(&self, original: &Original) -> String {
        format!("{}-R", self.idempotency_key(original))
    }

    /// One reversal request for the transaction `original` (its STAN and transmission
    /// time, as ISO 8583's field 90 names it).
    pub fn reverse(&self, original: &Original, key: &str) -> Result<Answer<ReversalResult>, TransportError> {
        let url = self.session.server().url("/v1/edc/reversals");
        let body = json!({
            "original_stan": original.stan.as_str(),
            "original_transmitted_at": original.transmitted_at,
        });
        read_answer(self.session.send(|http| http.post(&url).header("Idempotency-Key", key).json(&body))?)
    }

    /// Sends the reversal (every attempt with the same key) until it is answered,
    /// `attempts` times at most.
    pub fn reverse_with_retries(&self, original: &Original, key: &str, attempts: u32) -> ReversalReport {
        let mut last_error =
            TransportError { timeout: false, message: "no reversal attempt was made (0 attempts)".to_owned() };
        for attempt in 0..attempts {
            if attempt > 0 {
                let index = usize::try_from(attempt - 1).unwrap_or(usize::MAX);
                let pause = REVERSAL_PAUSES_MS.get(index).or(REVERSAL_PAUSES_MS.last()).copied().unwrap_or(1_000);
                std::thread::sleep(Duration::from_millis(pause));
            }
            match self.reverse(original, key) {
                Ok(Answer::Ok(result)) => return ReversalReport::Done(result),
                Ok(Answer::Refused(problem)) => return ReversalReport::Refused(problem),
                Err(error) => last_error = error,
            }
        }
        ReversalReport::Pending(last_error)
    }
}

/// What a reversal outcome means, for the screen.
pub fn describe_reversal(result: &ReversalResult) -> String {
    match result.outcome {
        ReversalOutcome::Reversed => format!(
            "PEMBATALAN BERHASIL: dana dikembalikan [reversed: the money is back] (STAN {}, ref {})",
            result.original_stan,
            result.original_reference.as_deref().unwrap_or("-")
        ),
        ReversalOutcome::OriginalVoided => format!(
            "TRANSAKSI TIDAK SAMPAI, SUDAH DIBATALKAN [the original never arrived; voided] (STAN {})",
            result.original_stan
        ),
        ReversalOutcome::AlreadyReversed => {
            format!("SUDAH DIBATALKAN SEBELUMNYA [already reversed] (STAN {})", result.original_stan)
        }
    }
}

/// The short name of a reversal outcome, as in the API.
pub fn reversal_outcome_name(outcome: ReversalOutcome) -> &'static str {
    match outcome {
        ReversalOutcome::Reversed => "reversed",
        ReversalOutcome::OriginalVoided => "original_voided",
        ReversalOutcome::AlreadyReversed => "already_reversed",
    }
}
