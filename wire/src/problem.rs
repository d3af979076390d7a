//! Refusals as they cross the wire: `application/problem+json` (RFC 9457) with a stable
//! machine `code` that clients branch on, the HTTP status each code is answered with, and
//! its title in English and Bahasa Indonesia.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::language::Language;

/// Every machine-readable error code the API answers with. Clients branch on these;
/// they never change meaning once published.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::EnumIter, strum::IntoStaticStr,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidRequest,
    /// Text with a control character or a bidirectional override (400).
    CharacterNotAllowed,
    /// A paging parameter (`limit`, a cursor) out of range (400).
    PagingInvalid,
    UnsupportedMediaType,
    PayloadTooLarge,
    NotFound,
    MethodNotAllowed,
    Unauthenticated,
    TokenRevoked,
    /// A token signed with a key this server no longer holds, retired after a key
    /// rotation (401): sign in again.
    TokenKeyRetired,
    WrongCredentials,
    /// A family login with a wrong PIN or a card number no card has (401).
    WrongCardOrPin,
    Forbidden,
    TerminalNotAllowed,
    /// A terminal an admin deactivated (403).
    TerminalInactive,
    /// A terminal id or serial that is not well formed (400).
    TerminalIdInvalid,
    /// A terminal id or serial registered already (409).
    TerminalTaken,
    TooManyRequests,
    WrongPin,
    PinLocked,
    /// The card's PIN was kept under a PIN key no longer configured, so it cannot be
    /// checked (423): an operator resets the PIN.
    PinKeyRetired,
    CardLost,
    CardReplaced,
    CardExpired,
    CardNumberMalformed,
    CardNumberCheckDigit,
    CardNumberUnknownBank,
    CardQrMalformed,
    CardQrUnsupportedVersion,
    CardForged,
    CardAltered,
    CardExists,
    NikInvalid,
    FamilyRulesNotMet,
    FamilyExists,
    /// A graduation or exit of a family that is terminated or suspended (409).
    FamilyNotActive,
    /// A second, different exit of a family that already left PKH (409).
    AlreadyExited,
    /// A complaint status change the rule does not allow (409).
    ComplaintTransitionInvalid,
    /// A second resolution of a complaint answered already (409).
    ComplaintAlreadyResolved,
    /// The person who entered a data update that needs a second person approved it
    /// (403): someone else approves.
    ChangeSelfApproval,
    /// A data update approved or rejected already, now asked the other way (409).
    ChangeAlreadyDecided,
    UsernameInvalid,
    UsernameTaken,
    PasswordWeak,
    PasswordChangeRequired,
    AccountNotFound,
    AccountClosed,
    AccountNotEmpty,
    InsufficientFunds,
    FundsHeld,
    WalletBlocked,
    OperationNotAllowed,
    WithdrawalLimitExceeded,
    DailyWithdrawalLimitExceeded,
    AgentDailyLimitExceeded,
    QuotaExceeded,
    ItemNotEligible,
    UnknownItem,
    DuplicateStan,
    OriginalReversed,
    IdempotencyKeyMissing,
    /// An `Idempotency-Key` that is empty, too long or not printable ASCII (400).
    IdempotencyKeyInvalid,
    HoldNotFound,
    HoldNotActive,
    JournalNotFound,
    AlreadyReversed,
    IdempotencyKeyReused,
    LiveBatchExists,
    BatchPaysNobody,
    BatchNotCancellable,
    /// An import file refused whole: not UTF-8, not comma-separated, a missing or unknown
    /// column, no line (400).
    ImportFileInvalid,
    /// The import or card issuance is still running (409).
    ImportRunning,
    /// A PIN mailer downloaded already: its PINs were erased (410).
    PinMailerGone,
    TransmissionTimeOutOfRange,
    ReversalWindowClosed,
    ServiceUnavailable,
    InternalError,
}

impl ErrorCode {
    /// The HTTP status a problem with this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::CharacterNotAllowed
            | Self::PagingInvalid
            | Self::CardNumberMalformed
            | Self::CardNumberCheckDigit
            | Self::CardNumberUnknownBank
            | Self::CardQrMalformed
            | Self::CardQrUnsupportedVersion
            | Self::NikInvalid
            | Self::UsernameInvalid
            | Self::TerminalIdInvalid => 400,
            Self::CardForged | Self::CardAltered | Self::FamilyRulesNotMet | Self::PasswordWeak => 422,
            Self::CardExists
            | Self::FamilyExists
            | Self::UsernameTaken
            | Self::TerminalTaken
            | Self::FamilyNotActive
            | Self::AlreadyExited
            | Self::ComplaintTransitionInvalid
            | Self::ComplaintAlreadyResolved
            | Self::ChangeAlreadyDecided => 409,
            Self::UnsupportedMediaType => 415,
            Self::PayloadTooLarge => 413,
            Self::NotFound | Self::AccountNotFound | Self::HoldNotFound | Self::JournalNotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Unauthenticated
            | Self::TokenRevoked
            | Self::TokenKeyRetired
            | Self::WrongCredentials
            | Self::WrongCardOrPin => 401,
            Self::Forbidden
            | Self::TerminalNotAllowed
            | Self::TerminalInactive
            | Self::PasswordChangeRequired
            | Self::ChangeSelfApproval => 403,
            Self::TooManyRequests => 429,
            Self::WrongPin | Self::CardLost | Self::CardReplaced | Self::CardExpired => 422,
            Self::PinLocked | Self::PinKeyRetired => 423,
            Self::AccountClosed
            | Self::AccountNotEmpty
            | Self::HoldNotActive
            | Self::AlreadyReversed
            | Self::IdempotencyKeyReused => 409,
            Self::TransmissionTimeOutOfRange | Self::ReversalWindowClosed => 422,
            Self::InsufficientFunds
            | Self::FundsHeld
            | Self::WalletBlocked
            | Self::WithdrawalLimitExceeded
            | Self::DailyWithdrawalLimitExceeded
            | Self::AgentDailyLimitExceeded
            | Self::QuotaExceeded
            | Self::ItemNotEligible
            | Self::UnknownItem => 422,
            Self::OperationNotAllowed => 403,
            Self::DuplicateStan | Self::OriginalReversed => 409,
            Self::IdempotencyKeyMissing | Self::IdempotencyKeyInvalid => 400,
            Self::LiveBatchExists | Self::BatchPaysNobody | Self::BatchNotCancellable => 409,
            Self::ImportFileInvalid => 400,
            Self::ImportRunning => 409,
            Self::PinMailerGone => 410,
            Self::ServiceUnavailable => 503,
            Self::InternalError => 500,
        }
    }

    /// The problem's title, in the client's language.
    pub fn title(self, language: Language) -> &'static str {
        let (english, indonesian) = match self {
            Self::InvalidRequest => ("The request is not valid", "Permintaan tidak valid"),
            Self::CharacterNotAllowed => (
                "Remove control characters and text-direction marks from the text",
                "Hapus karakter kontrol dan tanda arah teks dari isian",
            ),
            Self::PagingInvalid => {
                ("Ask for a page within the allowed range", "Minta halaman dalam rentang yang diizinkan")
            }
            Self::UnsupportedMediaType => {
                ("Send the body as application/json", "Kirim isi permintaan sebagai application/json")
            }
            Self::PayloadTooLarge => ("The request body is too large", "Isi permintaan terlalu besar"),
            Self::NotFound => ("Not found", "Tidak ditemukan"),
            Self::MethodNotAllowed => ("This method is not allowed here", "Metode ini tidak diizinkan di sini"),
            Self::Unauthenticated => ("Log in first", "Silakan masuk terlebih dahulu"),
            Self::TokenRevoked => ("The session has ended; log in again", "Sesi telah berakhir; silakan masuk lagi"),
            Self::TokenKeyRetired => (
                "The session was signed with a retired key; log in again",
                "Sesi ditandatangani dengan kunci yang sudah tidak berlaku; silakan masuk lagi",
            ),
            Self::WrongCredentials => ("Wrong user name or password", "Nama pengguna atau kata sandi salah"),
            Self::WrongCardOrPin => ("Wrong card number or PIN", "Nomor kartu atau PIN salah"),
            Self::Forbidden => ("You may not do this", "Anda tidak berwenang melakukan ini"),
            Self::TerminalNotAllowed => ("This terminal may not be used", "Terminal ini tidak dapat digunakan"),
            Self::TerminalInactive => ("This terminal was deactivated", "Terminal ini sudah dinonaktifkan"),
            Self::TerminalIdInvalid => ("The terminal id is not valid", "ID terminal tidak valid"),
            Self::TerminalTaken => ("This terminal is registered already", "Terminal ini sudah terdaftar"),
            Self::TooManyRequests => {
                ("Too many attempts; wait and try again", "Terlalu banyak percobaan; tunggu lalu coba lagi")
            }
            Self::WrongPin => ("Wrong PIN", "PIN salah"),
            Self::PinLocked => ("The PIN is locked; visit an operator", "PIN terblokir; hubungi petugas"),
            Self::PinKeyRetired => {
                ("The card's PIN must be reset; visit an operator", "PIN kartu harus diatur ulang; hubungi petugas")
            }
            Self::CardLost => ("The card was reported lost", "Kartu dilaporkan hilang"),
            Self::CardReplaced => ("The card was replaced by a newer one", "Kartu sudah diganti dengan kartu baru"),
            Self::CardExpired => ("The card has expired", "Kartu sudah kedaluwarsa"),
            Self::CardNumberMalformed => ("A card number is 16 digits", "Nomor kartu harus 16 digit"),
            Self::CardNumberCheckDigit => {
                ("The card number is mistyped (check digit)", "Nomor kartu salah ketik (digit periksa)")
            }
            Self::CardNumberUnknownBank => ("The card is not from a KKS bank", "Kartu bukan dari bank penyalur KKS"),
            Self::CardQrMalformed => ("This is not a KKS card code", "Kode ini bukan kode kartu KKS"),
            Self::CardQrUnsupportedVersion => {
                ("This card code version is not supported", "Versi kode kartu ini tidak didukung")
            }
            Self::CardForged => ("The card is not genuine", "Kartu tidak asli"),
            Self::CardAltered => ("The card code was altered", "Kode kartu telah diubah"),
            Self::CardExists => ("The family already has a card", "Keluarga sudah memiliki kartu"),
            Self::NikInvalid => ("The NIK is not valid", "NIK tidak valid"),
            Self::FamilyRulesNotMet => {
                ("The family does not meet the programme rules", "Data keluarga tidak memenuhi ketentuan program")
            }
            Self::FamilyExists => {
                ("A family with this NIK is already registered", "Keluarga dengan NIK ini sudah terdaftar")
            }
            Self::FamilyNotActive => {
                ("Only an active family graduates or exits", "Hanya keluarga aktif yang dapat graduasi atau keluar")
            }
            Self::AlreadyExited => ("The family already left PKH", "Keluarga sudah keluar dari PKH"),
            Self::ComplaintTransitionInvalid => {
                ("The complaint cannot move to that status", "Status pengaduan tidak dapat diubah ke status itu")
            }
            Self::ComplaintAlreadyResolved => {
                ("The complaint is answered already", "Pengaduan sudah memiliki penyelesaian")
            }
            Self::ChangeSelfApproval => {
                ("A second person approves this change", "Perubahan ini harus disetujui oleh petugas lain")
            }
            Self::ChangeAlreadyDecided => ("The change was decided already", "Perubahan data ini sudah diputuskan"),
            Self::UsernameInvalid => ("The user name is not valid", "Nama pengguna tidak valid"),
            Self::UsernameTaken => ("This user name is taken", "Nama pengguna sudah dipakai"),
            Self::PasswordWeak => ("The password is too weak", "Kata sandi terlalu lemah"),
            Self::PasswordChangeRequired => ("Choose a new password first", "Buat kata sandi baru terlebih dahulu"),
            Self::AccountNotFound => ("The account does not exist", "Rekening tidak ditemukan"),
            Self::AccountClosed => ("The account is closed", "Rekening sudah ditutup"),
            Self::AccountNotEmpty => ("The account still holds money", "Rekening masih memiliki saldo"),
            Self::InsufficientFunds => ("Insufficient balance", "Saldo tidak mencukupi"),
            Self::FundsHeld => ("The money is blocked", "Dana sedang diblokir"),
            Self::WalletBlocked => (
                "The e-wallet is blocked until the family meets its commitments",
                "e-Wallet diblokir sampai keluarga memenuhi komitmen",
            ),
            Self::OperationNotAllowed => {
                ("This terminal may not do this", "Transaksi ini tidak dapat dilakukan di terminal ini")
            }
            Self::WithdrawalLimitExceeded => {
                ("Above the limit for one withdrawal", "Melebihi batas sekali tarik tunai")
            }
            Self::DailyWithdrawalLimitExceeded => {
                ("Above the card's daily withdrawal limit", "Melebihi batas tarik tunai harian kartu")
            }
            Self::AgentDailyLimitExceeded => {
                ("Above the agent's daily cash-out limit", "Melebihi batas penarikan harian agen")
            }
            Self::QuotaExceeded => {
                ("Above this month's quota for the item", "Melebihi kuota bulan ini untuk barang tersebut")
            }
            Self::ItemNotEligible => {
                ("This item cannot be bought with this programme", "Barang ini tidak dapat dibeli dengan program ini")
            }
            Self::UnknownItem => ("The item is not in the catalogue", "Barang tidak ada dalam katalog"),
            Self::DuplicateStan => {
                ("This trace number (STAN) was already used today", "Nomor jejak (STAN) sudah dipakai hari ini")
            }
            Self::OriginalReversed => {
                ("The transaction was cancelled by a reversal", "Transaksi sudah dibatalkan (reversal)")
            }
            Self::IdempotencyKeyMissing => ("Send an Idempotency-Key header", "Sertakan header Idempotency-Key"),
            Self::IdempotencyKeyInvalid => (
                "The Idempotency-Key must be 1 to 128 printable ASCII characters",
                "Idempotency-Key harus 1 sampai 128 karakter ASCII yang dapat dicetak",
            ),
            Self::HoldNotFound => ("The block does not exist", "Pemblokiran tidak ditemukan"),
            Self::HoldNotActive => ("The block has already ended", "Pemblokiran sudah berakhir"),
            Self::JournalNotFound => ("The transaction does not exist", "Transaksi tidak ditemukan"),
            Self::AlreadyReversed => ("The transaction was already reversed", "Transaksi sudah dibatalkan"),
            Self::IdempotencyKeyReused => (
                "This Idempotency-Key was used for a different request",
                "Idempotency-Key ini sudah dipakai untuk permintaan lain",
            ),
            Self::LiveBatchExists => (
                "Another batch already pays this period here",
                "Sudah ada batch lain yang membayar periode ini di wilayah ini",
            ),
            Self::BatchPaysNobody => {
                ("Every family is already paid for this period", "Semua keluarga sudah dibayar untuk periode ini")
            }
            Self::ImportFileInvalid => ("The import file cannot be read", "Berkas impor tidak dapat dibaca"),
            Self::ImportRunning => ("The import is still running", "Impor masih berjalan"),
            Self::PinMailerGone => (
                "The PIN mailer was downloaded already; its PINs are erased",
                "Surat PIN sudah diunduh; PIN-nya sudah dihapus",
            ),
            Self::BatchNotCancellable => (
                "The batch is being paid or was paid: it cannot be cancelled",
                "Batch sedang atau sudah dibayarkan: tidak dapat dibatalkan",
            ),
            Self::TransmissionTimeOutOfRange => (
                "The terminal's clock is too far from the server's",
                "Jam terminal terlalu jauh berbeda dengan jam server",
            ),
            Self::ReversalWindowClosed => {
                ("Too late to reverse this transaction", "Transaksi ini sudah terlalu lama untuk dibatalkan")
            }
            Self::ServiceUnavailable => {
                ("The service is temporarily unavailable, try again", "Layanan sedang tidak tersedia, coba lagi")
            }
            Self::InternalError => ("Internal error", "Kesalahan internal"),
        };
        match language {
            Language::English => english,
            Language::Indonesian => indonesian,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:kks:problem:` and the code.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, in English.
    pub detail: String,
    pub code: ErrorCode,
}

impl Problem {
    /// The problem document for `code`, titled in `language`; `detail` says what went wrong
    /// with this request.
    pub fn new(code: ErrorCode, language: Language, detail: impl Into<String>) -> Self {
        let code_name: &'static str = code.into();
        Self {
            problem_type: format!("urn:kks:problem:{}", code_name.to_ascii_lowercase().replace('_', "-")),
            title: code.title(language).to_owned(),
            status: code.http_status(),
            detail: detail.into(),
            code,
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn every_code_has_an_error_status_and_titles_in_both_languages() {
        for code in ErrorCode::iter() {
            assert!((400..600).contains(&code.http_status()), "{code:?}");
            assert!(!code.title(Language::English).is_empty());
            assert_ne!(code.title(Language::English), code.title(Language::Indonesian), "{code:?}");
        }
    }

    #[test]
    fn problem_type_is_a_stable_urn_of_the_code() {
        let problem = Problem::new(ErrorCode::FundsHeld, Language::Indonesian, "x");
        assert_eq!(problem.problem_type, "urn:kks:problem:funds-held");
        assert_eq!((problem.status, problem.title.as_str()), (422, "Dana sedang diblokir"));
        assert_eq!(serde_json::to_value(problem.code).ok(), Some(serde_json::json!("FUNDS_HELD")));
    }

    #[test]
    fn a_problem_document_reads_back_as_sent() {
        let problem = Problem::new(ErrorCode::PinLocked, Language::English, "the PIN is locked");
        let sent = serde_json::to_value(&problem).unwrap();
        assert_eq!(sent["type"], "urn:kks:problem:pin-locked");
        assert_eq!(serde_json::from_value::<Problem>(sent).unwrap(), problem);
    }
}
