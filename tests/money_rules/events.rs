//! The events of a sequence and their seeded generator. An event names families, earlier
//! transactions and holds by number; the runner takes each number modulo what exists when
//! the event comes, so that any subsequence (a shrunk one) is still a valid sequence.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::Pocket;

/// Families in a sequence.
pub const FAMILIES: usize = 3;
/// Events in a generated sequence.
pub const EVENTS_PER_SEQUENCE: usize = 50;

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
    /// Every family's verification for a cycle, as one CSV upload (`true`: it failed).
    VerifyAll {
        stage: u8,
        failed: [bool; FAMILIES],
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
    /// Wrong PINs in a row, one to three.
    WrongPin {
        family: usize,
        times: u8,
    },
    /// The terminal reverses a transaction it sent earlier (0: the latest, 1: the one
    /// before…).
    Reverse {
        back: usize,
    },
    /// The terminal sends an earlier request again, same key and body (0: the latest…).
    Retry {
        back: usize,
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

/// The sequence of a seed. Verifications and closes mostly follow the cycles in order (the
/// stage to close next), so that families are suspended, released and terminated; now and
/// then they name any stage.
pub fn generate(seed: u64) -> Vec<Event> {
    let mut random = StdRng::seed_from_u64(seed);
    let mut next_cycle = 1;
    let mut events = Vec::with_capacity(EVENTS_PER_SEQUENCE);
    while events.len() < EVENTS_PER_SEQUENCE {
        let event = event(&mut random, next_cycle);
        if event == (Event::CloseCycle { stage: next_cycle }) {
            // Most cycles are verified before they close, as the programme intends.
            if random.random_bool(0.7) {
                events.push(Event::VerifyAll {
                    stage: next_cycle,
                    failed: std::array::from_fn(|_| random.random_bool(0.6)),
                });
            }
            next_cycle = next_cycle % 4 + 1;
        }
        events.push(event);
    }
    events
}

fn event(random: &mut StdRng, next_cycle: u8) -> Event {
    let family = random.random_range(0..FAMILIES);
    let any_stage = random.random_range(1..=4);
    let stage = if random.random_bool(0.8) { next_cycle } else { any_stage };
    let pick = random.random_range(0..100);
    match pick {
        0..=7 => Event::PayStage {
            stage: any_stage,
            early_days: random.random_bool(0.5).then(|| random.random_range(1..=40)),
        },
        8..=10 => Event::PayMonth {
            programme: if random.random_bool(0.5) { Pocket::Bpnt } else { Pocket::Lpg },
            month: random.random_range(1..=3),
        },
        11..=14 => Event::Verify { family, stage, complied: random.random_bool(0.35) },
        15..=21 => Event::VerifyAll { stage, failed: std::array::from_fn(|_| random.random_bool(0.6)) },
        22..=30 => Event::CloseCycle { stage },
        31..=39 => Event::Advance(match random.random_range(0..4) {
            0 => Advance::Seconds(random.random_range(1..=7_200)),
            1 => Advance::ToNextRelease { offset_seconds: if random.random_bool(0.5) { -2 } else { 1 } },
            2 => Advance::ToMidnightWib { offset_seconds: random.random_range(-9..=9) },
            _ => Advance::Days(random.random_range(1..=20)),
        }),
        40..=51 => {
            Event::WalletToSavings { family, rupiah: amount(random, &[10_000, 100_000, 390_000, 500_000, 1_000_000]) }
        }
        52..=59 => Event::Cash {
            family,
            terminal: random.random_range(0..TERMINALS),
            rupiah: amount(random, &[50_000, 100_000, 500_000, 1_000_000, 2_500_000, 2_600_000]),
        },
        60..=66 => {
            let programme = if random.random_bool(0.6) { Pocket::Bpnt } else { Pocket::Lpg };
            let lines = (0..random.random_range(1..=2))
                .map(|_| (random.random_range(0..8), random.random_range(1..=4)))
                .collect();
            Event::Purchase { family, programme, lines }
        }
        67..=68 => Event::BalanceInquiry { family, terminal: random.random_range(0..TERMINALS) },
        69..=71 => Event::WrongPin { family, times: random.random_range(1..=3) },
        72..=79 => Event::Reverse { back: recent(random) },
        80..=83 => Event::Retry { back: recent(random) },
        84..=90 => Event::PlaceHold {
            family,
            pocket: [Pocket::Savings, Pocket::Pkh, Pocket::Bpnt, Pocket::Lpg][random.random_range(0..4)],
            quarters: random.random_range(1..=5),
            for_hours: random.random_bool(0.4).then(|| random.random_range(1..=72)),
        },
        91..=95 => Event::EndHold { hold: random.random_range(0..16) },
        _ => Event::ResetPin { family },
    }
}

fn amount(random: &mut StdRng, usual: &[i64]) -> i64 {
    usual[random.random_range(0..usual.len())]
}

/// Mostly one of the last few, now and then one from long ago.
fn recent(random: &mut StdRng) -> usize {
    if random.random_bool(0.8) {
        random.random_range(0..3)
    } else {
        random.random_range(0..64)
    }
}
