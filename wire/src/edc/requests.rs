//! The bodies of the terminal's requests: one per card transaction, each with the fields
//! every card transaction carries and its operation's own, and the reversal. They are read
//! as sent (text the server parses into its types at the door), so a client may send
//! what it likes and learn from the refusal what was wrong.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::transaction::BasketLine;
use super::PurchaseProgramme;
use crate::card::CardNumber;
use crate::money::Amount;
use crate::transmission::TransmittedAt;

/// The card as the terminal read it: the scanned QR, or the number keyed in. Exactly one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"card_number": "5221843673963604"}))]
pub struct CardField {
    #[schema(max_length = 256)]
    pub qr: Option<String>,
    #[schema(value_type = Option<CardNumber>)]
    pub card_number: Option<String>,
}

/// Declares the body of one card transaction: what every card transaction carries (the
/// card, the cardholder's PIN, the terminal's STAN and when it sent the request) and the
/// fields of its own operation, all in one flat object that refuses unknown fields (serde
/// cannot deny unknown fields across a `flatten`). `into_parts` splits the body into the
/// common part and a tuple of the operation's fields.
macro_rules! card_transaction_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $field_type:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name {
            pub card: CardField,
            /// The cardholder's 6-digit PIN, entered on the terminal's PIN pad.
            #[schema(pattern = "^[0-9]{6}$", example = "123456")]
            pub pin: String,
            /// The terminal's trace number: 6 digits, new for every request of the business day.
            #[schema(pattern = "^[0-9]{6}$", example = "000002")]
            pub stan: String,
            /// When the terminal sent the request (ISO 8583 field 7), RFC 3339 with an offset. Its
            /// date in WIB is the transaction's business day; refused when more than 10 minutes
            /// from the server's clock. A retry sends the same value.
            #[schema(value_type = TransmittedAt)]
            pub transmitted_at: String,
            $($(#[$field_meta])* pub $field: $field_type,)*
        }

        impl $name {
            /// The common part, and a tuple of the operation's own fields.
            pub fn into_parts(self) -> (CardPresented, ($($field_type,)*)) {
                let Self { card, pin, stan, transmitted_at, $($field),* } = self;
                (CardPresented { card, pin, stan, transmitted_at }, ($($field,)*))
            }
        }
    };
}

card_transaction_body! {
    /// A balance inquiry: the card and its PIN, nothing else.
    #[schema(example = json!({"card": {"card_number": "5221843673963604"}, "pin": "123456", "stan": "000001",
        "transmitted_at": "2026-12-04T09:15:00+07:00"}))]
    BalanceInquiryRequest {}
}

card_transaction_body! {
    /// A cash withdrawal: how much to pay out from savings (at most Rp 2,500,000 a withdrawal
    /// and Rp 5,000,000 a card a day).
    #[schema(example = json!({"card": {"card_number": "5221843673963604"}, "pin": "123456", "stan": "000002",
        "transmitted_at": "2026-12-04T09:16:00+07:00", "amount": "150000"}))]
    CashWithdrawalRequest {
        /// How much cash the agent pays out, in rupiah.
        amount: Amount,
    }
}

card_transaction_body! {
    /// A move of PKH money from the e-wallet to savings: how much.
    #[schema(example = json!({"card": {"card_number": "5221843673963604"}, "pin": "123456", "stan": "000003",
        "transmitted_at": "2026-12-04T09:17:00+07:00", "amount": "500000"}))]
    WalletToSavingsRequest {
        /// How much PKH money moves to savings, in rupiah.
        amount: Amount,
    }
}

card_transaction_body! {
    /// A purchase at an e-Warong: which e-wallet pays and the goods.
    #[schema(example = json!({"card": {"card_number": "5221843673963604"}, "pin": "123456", "stan": "000004",
        "transmitted_at": "2026-12-04T09:18:00+07:00", "programme": "bpnt",
        "basket": [{"sku": "BERAS-1KG", "quantity": 5}]}))]
    PurchaseRequest {
        /// Which e-wallet pays: `bpnt` (food) or `lpg`.
        programme: PurchaseProgramme,
        /// The goods: 1 to 20 lines of the catalogue's items, all of the programme.
        #[schema(min_items = 1, max_items = 20)]
        basket: Vec<BasketLine>,
    }
}

/// What every card transaction carries, as sent, before it is parsed.
#[derive(Debug, Clone)]
pub struct CardPresented {
    pub card: CardField,
    pub pin: String,
    pub stan: String,
    pub transmitted_at: String,
}

/// The transaction to cancel, as ISO 8583's field 90 names it: its STAN and its
/// transmission time, which together give its business day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"original_stan": "000002", "original_transmitted_at": "2026-12-04T09:16:00+07:00"}))]
pub struct ReversalRequest {
    /// The STAN of the transaction to cancel.
    #[schema(pattern = "^[0-9]{6}$")]
    pub original_stan: String,
    /// The `transmitted_at` the original was sent with; at most 24 hours ago.
    #[schema(value_type = TransmittedAt)]
    pub original_transmitted_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_body_splits_into_what_every_card_transaction_carries_and_its_basket() {
        let body: PurchaseRequest = serde_json::from_value(serde_json::json!({
            "card": {"card_number": "5221843673963604"}, "pin": "123456", "stan": "000004",
            "transmitted_at": "2026-12-04T09:18:00+07:00", "programme": "bpnt",
            "basket": [{"sku": "BERAS-1KG", "quantity": 5}]
        }))
        .unwrap();
        let (presented, (programme, basket)) = body.into_parts();
        assert_eq!(
            (presented.stan.as_str(), presented.card.card_number.as_deref()),
            ("000004", Some("5221843673963604"))
        );
        assert_eq!(programme, PurchaseProgramme::Bpnt);
        assert_eq!(basket, vec![BasketLine { sku: "BERAS-1KG".to_owned(), quantity: 5 }]);
    }

    #[test]
    fn a_body_with_a_field_it_does_not_have_is_refused() {
        let with_amount = serde_json::json!({
            "card": {"qr": "KKS1.x.y"}, "pin": "123456", "stan": "000001",
            "transmitted_at": "2026-12-04T09:15:00+07:00", "amount": "1000"
        });
        assert!(serde_json::from_value::<BalanceInquiryRequest>(with_amount).is_err());
    }

    #[test]
    fn a_client_sends_a_body_that_reads_back_as_sent() {
        let reversal = ReversalRequest {
            original_stan: "000002".to_owned(),
            original_transmitted_at: "2026-12-04T09:16:00+07:00".to_owned(),
        };
        let sent = serde_json::to_value(&reversal).unwrap();
        let read: ReversalRequest = serde_json::from_value(sent).unwrap();
        assert_eq!(
            (read.original_stan, read.original_transmitted_at),
            (reversal.original_stan, reversal.original_transmitted_at)
        );
    }
}
