//! The events of a sequence and their seeded generator. An event names families, earlier
//! transactions and holds by number; the runner takes each number modulo what exists when
//! the event comes, so that any subsequence (a shrunk one) is still a valid sequence.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::Pocket;

/// Families in a sequence.
pub const FAMILIES: usize = 3;
/// Events in a generated sequence.
pub const EVENTS_PER_SEQUENCE: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A PKH stage of 2017 paid to the village, early (held until some days from now) or not.
    PayStage {
        stage: u8,
        early_days: Option<u8>,
    },
    /// A month of BPNT or LPG.
    PayMonth {
        programme: Pocket,
        month: u8,
    },
    Verify {
        family: usize,
        stage: u8,
        complied: bool,
    },
    CloseCycle {
        stage: u8,
    },
    /// Time passes.
    Advance(Advance),
    WalletToSavings {
        family: usize,
        rupiah: i64,
    },
    Cash {
        family: usize,
        terminal: usize,
        rupiah: i64,
    },
    Purchase {
        family: usize,
        programme: Pocket,
        lines: Vec<(usize, i64)>,
    },
    BalanceInquiry {
        family: usize,
        terminal: usize,
    },
    WrongPin {
        family: usize,
    },
    /// The terminal reverses a transaction it sent earlier.
    Reverse {
        sent: usize,
    },
    /// The terminal sends an earlier request again, same key and body.
    Retry {
        sent: usize,
    },
    /// An operator blocks a share of a pocket (quarters: 1 to 4; 5 is more than there is).
    PlaceHold {
        family: usize,
        pocket: Pocket,
        quarters: i64,
        for_hours: Option<u16>,
    },
    EndHold {
        hold: usize,
    },
    ResetPin {
        family: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    Seconds(u32),
    /// To a second or so before or after the next release time to come.
    ToNextRelease {
        offset_seconds: i8,
    },
    /// To a few seconds before or after the next midnight in WIB.
    ToMidnightWib {
        offset_seconds: i8,
    },
    Days(u8),
}

const TERMINALS: usize = 3;

/// The sequence of a seed.
pub fn generate(seed: u64) -> Vec<Event> {
    let mut random = StdRng::seed_from_u64(seed);
    (0..EVENTS_PER_SEQUENCE).map(|_| event(&mut random)).collect()
}

fn event(random: &mut StdRng) -> Event {
    let family = random.random_range(0..FAMILIES);
    let stage = random.random_range(1..=4);
    let pick = random.random_range(0..100);
    match pick {
        0..=9 => Event::PayStage { stage, early_days: random.random_bool(0.5).then(|| random.random_range(1..=40)) },
        10..=13 => Event::PayMonth {
            programme: if random.random_bool(0.5) { Pocket::Bpnt } else { Pocket::Lpg },
            month: random.random_range(1..=3),
        },
        14..=23 => Event::Verify { family, stage, complied: random.random_bool(0.5) },
        24..=30 => Event::CloseCycle { stage },
        31..=40 => Event::Advance(match random.random_range(0..4) {
            0 => Advance::Seconds(random.random_range(1..=7_200)),
            1 => Advance::ToNextRelease { offset_seconds: if random.random_bool(0.5) { -2 } else { 1 } },
            2 => Advance::ToMidnightWib { offset_seconds: random.random_range(-9..=9) },
            _ => Advance::Days(random.random_range(1..=20)),
        }),
        41..=53 => {
            Event::WalletToSavings { family, rupiah: amount(random, &[10_000, 100_000, 390_000, 500_000, 1_000_000]) }
        }
        54..=62 => Event::Cash {
            family,
            terminal: random.random_range(0..TERMINALS),
            rupiah: amount(random, &[50_000, 100_000, 500_000, 1_000_000, 2_500_000, 2_600_000]),
        },
        63..=69 => {
            let programme = if random.random_bool(0.6) { Pocket::Bpnt } else { Pocket::Lpg };
            let lines = (0..random.random_range(1..=2))
                .map(|_| (random.random_range(0..8), random.random_range(1..=4)))
                .collect();
            Event::Purchase { family, programme, lines }
        }
        70..=72 => Event::BalanceInquiry { family, terminal: random.random_range(0..TERMINALS) },
        73..=75 => Event::WrongPin { family },
        76..=83 => Event::Reverse { sent: random.random_range(0..64) },
        84..=87 => Event::Retry { sent: random.random_range(0..64) },
        88..=93 => Event::PlaceHold {
            family,
            pocket: [Pocket::Savings, Pocket::Pkh, Pocket::Bpnt, Pocket::Lpg][random.random_range(0..4)],
            quarters: random.random_range(1..=5),
            for_hours: random.random_bool(0.4).then(|| random.random_range(1..=72)),
        },
        94..=97 => Event::EndHold { hold: random.random_range(0..16) },
        _ => Event::ResetPin { family },
    }
}

/// One of the usual amounts, or now and then one with sen.
fn amount(random: &mut StdRng, usual: &[i64]) -> i64 {
    usual[random.random_range(0..usual.len())]
}
