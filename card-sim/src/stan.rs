//! The terminal's trace number (STAN): six digits, never repeated by one terminal within
//! a business day. The counter is kept in a small state file, so a terminal that is
//! restarted the same day carries on where it stopped; without a file it starts from a
//! random number, which makes a repeat within the day unlikely.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::NaiveDate;
use kks_wire::edc::{business_date, Stan};
use serde::{Deserialize, Serialize};

/// The largest STAN; the counter starts again at 1 after it.
pub const STAN_MAX: u32 = 999_999;

/// Where a random counter starts at most, so a session has room before it wraps.
const RANDOM_START_MAX: u32 = 899_999;

/// Today's business day: the date in WIB (UTC+7), as the server counts it.
pub fn today() -> NaiveDate {
    business_date(chrono::Utc::now().naive_utc())
}

/// A STAN from a number (`1` → `000001`); numbers above [`STAN_MAX`] wrap.
pub fn stan_from(number: u32) -> anyhow::Result<Stan> {
    let text = format!("{:06}", number % (STAN_MAX + 1));
    Stan::parse(&text).with_context(|| format!("{text} is not a STAN"))
}

#[derive(Serialize, Deserialize)]
struct StanState {
    business_date: NaiveDate,
    next_stan: u32,
}

pub struct StanCounter {
    business_date: NaiveDate,
    next: u32,
    state_file: Option<PathBuf>,
}

impl StanCounter {
    /// A counter kept in `path` (created when missing); a new business day starts at 1.
    pub fn from_state_file(path: &Path) -> anyhow::Result<Self> {
        let today = today();
        let next = match std::fs::read_to_string(path) {
            Ok(text) => {
                let state: StanState = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a card-sim STAN state file", path.display()))?;
                if state.business_date == today {
                    state.next_stan.clamp(1, STAN_MAX)
                } else {
                    1
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 1,
            Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Self { business_date: today, next, state_file: Some(path.to_owned()) })
    }

    /// A counter that starts from a random number and is not kept.
    pub fn random() -> Self {
        Self { business_date: today(), next: rand::random_range(1..=RANDOM_START_MAX), state_file: None }
    }

    /// The next STAN of the business day `business_date` (of the request's transmission
    /// time; a new day starts again at 1), written to the state file before it is used, so
    /// a crash never lets the same number go out twice.
    pub fn next(&mut self, business_date: NaiveDate) -> anyhow::Result<Stan> {
        if business_date != self.business_date {
            self.business_date = business_date;
            self.next = 1;
        }
        let number = self.next;
        self.next = if number >= STAN_MAX { 1 } else { number + 1 };
        if let Some(path) = &self.state_file {
            let state = StanState { business_date: self.business_date, next_stan: self.next };
            let temporary = path.with_extension("tmp");
            std::fs::write(&temporary, serde_json::to_vec(&state)?)
                .with_context(|| format!("writing {}", temporary.display()))?;
            std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))?;
        }
        stan_from(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_carries_the_counter_across_restarts() {
        let folder = std::env::temp_dir().join(format!("card-sim-stan-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("T1.json");
        let _ = std::fs::remove_file(&path);
        let mut first = StanCounter::from_state_file(&path).unwrap();
        assert_eq!(first.next(today()).unwrap().as_str(), "000001");
        assert_eq!(first.next(today()).unwrap().as_str(), "000002");
        let mut again = StanCounter::from_state_file(&path).unwrap();
        assert_eq!(again.next(today()).unwrap().as_str(), "000003");
        assert_eq!(again.next(today().succ_opt().unwrap()).unwrap().as_str(), "000001", "a new business day");
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn stans_wrap_after_six_digits() {
        assert_eq!(stan_from(999_999).unwrap().as_str(), "999999");
        assert_eq!(stan_from(1_000_001).unwrap().as_str(), "000001");
    }
}
