//! The PIN lock rule: wrong PINs in a row are counted, a right one forgets them, and the
//! [`PIN_ATTEMPTS_MAX`]th wrong one in a row locks the PIN until an operator resets it.

use super::family::PIN_ATTEMPTS_MAX;

/// What one typed PIN does to the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinDecision {
    /// The PIN is right; `forget_wrong_attempts` when earlier wrong ones are to be cleared.
    Accept { forget_wrong_attempts: bool },
    /// The PIN is wrong and counted; this many tries remain before it locks.
    Refuse { attempts_left: i32 },
    /// The PIN is wrong and was the last try allowed: the PIN locks now.
    Lock,
}

/// Decides a typed PIN from the wrong attempts in a row before it and whether it is right.
pub fn decide_pin(wrong_attempts_before: i32, pin_is_right: bool) -> PinDecision {
    if pin_is_right {
        return PinDecision::Accept { forget_wrong_attempts: wrong_attempts_before > 0 };
    }
    let wrong_attempts = wrong_attempts_before.saturating_add(1);
    if wrong_attempts < PIN_ATTEMPTS_MAX {
        PinDecision::Refuse { attempts_left: PIN_ATTEMPTS_MAX - wrong_attempts }
    } else {
        PinDecision::Lock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_right_pin_is_accepted_and_forgets_earlier_wrong_ones() {
        assert_eq!(decide_pin(0, true), PinDecision::Accept { forget_wrong_attempts: false });
        assert_eq!(decide_pin(2, true), PinDecision::Accept { forget_wrong_attempts: true });
    }

    #[test]
    fn the_first_two_wrong_pins_are_refused_with_the_tries_left() {
        assert_eq!(decide_pin(0, false), PinDecision::Refuse { attempts_left: 2 });
        assert_eq!(decide_pin(1, false), PinDecision::Refuse { attempts_left: 1 });
    }

    #[test]
    fn the_third_wrong_pin_in_a_row_locks_the_pin() {
        assert_eq!(decide_pin(2, false), PinDecision::Lock);
        assert_eq!(decide_pin(i32::MAX, false), PinDecision::Lock, "never overflows");
    }
}
