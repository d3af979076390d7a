//! The family app's login throttle: failed logins counted per card number and per client
//! address, each failure beyond a few free ones making the next attempt wait longer.
//!
//! It stands in front of, and apart from, the card's PIN counter: the counter that locks
//! the PIN after three wrong PINs belongs to the agent's terminal, where the card is in
//! the cardholder's hand. A login from the app is anyone on the internet who knows or
//! guesses a card number, so its failures never touch that counter (a stranger cannot
//! lock a family out at the agent on pay day); they only slow the guesser down. With the
//! delay capped at [`DELAY_MAX`], a guesser gets a few dozen tries a day per card against
//! a million PINs.

use std::time::Duration;

/// What a throttle counts: one card number (whether or not a card has it) or one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    Card(String),
    Client(std::net::IpAddr),
}

impl ThrottleKey {
    /// The key as stored.
    pub fn as_text(&self) -> String {
        match self {
            Self::Card(number) => format!("card:{number}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }

    /// Failures allowed without any wait. A client address may be a carrier's NAT shared by
    /// a whole village, so it gets more than one card does.
    pub fn free_failures(&self) -> i32 {
        match self {
            Self::Card(_) => 3,
            Self::Client(_) => 10,
        }
    }
}

/// The wait after the first failure beyond the free ones; each further failure doubles it.
pub const DELAY_FIRST: Duration = Duration::from_secs(30);

/// The longest wait between two attempts.
pub const DELAY_MAX: Duration = Duration::from_secs(60 * 60);

/// Failures are forgotten this long after the last one.
pub const FAILURES_FORGOTTEN_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the next attempt must wait after `failures` failures in a row on `key`.
pub fn delay_after(key: &ThrottleKey, failures: i32) -> Duration {
    let beyond_free = failures.saturating_sub(key.free_failures());
    if beyond_free <= 0 {
        return Duration::ZERO;
    }
    // 30 s, 1 min, 2 min, … : 2^7 × 30 s already passes the cap, so the shift stays small.
    let doublings = u32::try_from(beyond_free.saturating_sub(1)).unwrap_or(0).min(8);
    DELAY_FIRST.saturating_mul(1 << doublings).min(DELAY_MAX)
}

/// Whole seconds a client must wait, rounded up and at least 1 (for `Retry-After`): a
/// client that waits what it is told is never refused again for waiting too little.
pub fn seconds_rounded_up(wait: Duration) -> u64 {
    let seconds = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0));
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_rounded_up_and_never_zero() {
        assert_eq!(seconds_rounded_up(Duration::from_millis(1)), 1);
        assert_eq!(seconds_rounded_up(Duration::ZERO), 1);
        assert_eq!(seconds_rounded_up(Duration::from_millis(1_999)), 2);
        assert_eq!(seconds_rounded_up(Duration::from_secs(2)), 2);
    }

    fn card() -> ThrottleKey {
        ThrottleKey::Card("5221843673963604".to_owned())
    }

    #[test]
    fn the_first_three_failures_on_a_card_cost_no_wait() {
        for failures in 0..=3 {
            assert_eq!(delay_after(&card(), failures), Duration::ZERO);
        }
    }

    #[test]
    fn each_further_failure_doubles_the_wait_up_to_an_hour() {
        assert_eq!(delay_after(&card(), 4), Duration::from_secs(30));
        assert_eq!(delay_after(&card(), 5), Duration::from_secs(60));
        assert_eq!(delay_after(&card(), 6), Duration::from_secs(120));
        assert_eq!(delay_after(&card(), 12), DELAY_MAX);
        assert_eq!(delay_after(&card(), i32::MAX), DELAY_MAX, "never overflows");
    }

    #[test]
    fn a_client_address_gets_more_free_failures_than_a_card() {
        let client = ThrottleKey::Client(std::net::IpAddr::from([198, 51, 100, 7]));
        assert_eq!(delay_after(&client, 10), Duration::ZERO);
        assert_eq!(delay_after(&client, 11), DELAY_FIRST);
        assert_eq!(client.as_text(), "client:198.51.100.7");
    }

    #[test]
    fn a_guesser_gets_few_tries_a_day_per_card() {
        let mut elapsed = Duration::ZERO;
        let mut tries = 0;
        while elapsed < FAILURES_FORGOTTEN_AFTER {
            tries += 1;
            elapsed += delay_after(&card(), tries);
        }
        assert!(tries < 40, "{tries} tries in a day");
    }
}
