//! The agent's EDC terminal: trace numbers, business days, transaction kinds and the
//! limits a bank sets are `kks-wire`'s (terminals speak them); the references and
//! approval codes the server hands out are made here.

pub use kks_wire::edc::{
    business_date, format_rupiah, EdcKind, EdcStatus, PurchaseProgramme, Stan, StanError, BASKET_LINES_MAX,
    BASKET_QUANTITY_MAX, WIB,
};

/// A 12-digit retrieval reference number, as printed on a slip.
pub fn new_reference() -> String {
    format!("{:012}", rand::random_range(0..1_000_000_000_000_u64))
}

/// A 6-character approval code (no letters that read like digits).
pub fn new_approval_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..6).filter_map(|_| ALPHABET.get(rand::random_range(0..ALPHABET.len())).map(|byte| char::from(*byte))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_approval_codes_have_their_printed_shape() {
        assert_eq!(new_reference().len(), 12);
        let code = new_approval_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|character| character.is_ascii_uppercase() || character.is_ascii_digit()));
    }
}
