//! The idempotency key a client sends with every money operation (a terminal uses its id
//! and the STAN), so that a retry after a lost answer is recognised and never paid twice.

/// The longest scope or key stored, in bytes.
pub const IDEMPOTENCY_TEXT_BYTES_MAX: usize = 128;

/// A key is 1 to [`IDEMPOTENCY_TEXT_BYTES_MAX`] printable ASCII characters without spaces:
/// it travels in a header and is compared byte for byte, so nothing may be lost in transit.
pub fn is_well_formed_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= IDEMPOTENCY_TEXT_BYTES_MAX && key.bytes().all(|byte| byte.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_id_with_its_stan_is_a_key() {
        assert!(is_well_formed_key("EDC-0001:000042"));
    }

    #[test]
    fn empty_spaced_non_ascii_or_overlong_keys_are_refused() {
        for key in ["", "two words", "kunci-é", "tab\there", &"x".repeat(IDEMPOTENCY_TEXT_BYTES_MAX + 1)] {
            assert!(!is_well_formed_key(key), "{key:?}");
        }
        assert!(is_well_formed_key(&"x".repeat(IDEMPOTENCY_TEXT_BYTES_MAX)));
    }
}
