//! The seeds' money rules, proven against a model (in the spirit of TigerBeetle's VOPR):
//! seeded random sequences of events (stages paid now or early, verifications, cycle
//! closes, time passing across stage openings and midnight WIB, terminations, e-wallet to
//! savings, cash, purchases, reversals, retries, wrong PINs, operators' holds) run against
//! the real server over HTTP, on both backends. After every event, each answer (approved,
//! refusal code, reversal outcome) and each pocket of each family (balance, held, blocked,
//! available) must equal the reference model's ([`model`]).
//!
//! The server runs on its manual test clock (`--test-clock`), moved by the test, so every
//! answer that depends on time can be predicted. Each sequence gets a village and families
//! of its own and starts on a new business day, so sequences never see each other.
//!
//! `KKS_MODEL_SEQUENCES=N` runs N sequences per backend (default [`SEQUENCES_DEFAULT`]);
//! `KKS_MODEL_SEED=S` runs the one sequence of seed S. A failing sequence is shrunk (events
//! taken out while it still fails) and printed with its seed.

mod driver;
mod events;
mod model;

use crate::support::on_both_backends;

/// Sequences per backend when `KKS_MODEL_SEQUENCES` is not set.
const SEQUENCES_DEFAULT: u64 = 100;

/// The first seed of a run; sequence `n` has seed `FIRST_SEED + n` (fixed, so that every run
/// of the suite tries the same sequences, and a failure in CI replays anywhere).
const FIRST_SEED: u64 = 0x4b4b_5300_0000;

fn seeds() -> Vec<u64> {
    if let Ok(seed) = std::env::var("KKS_MODEL_SEED") {
        return vec![seed.trim().parse().expect("KKS_MODEL_SEED is a number")];
    }
    let count = std::env::var("KKS_MODEL_SEQUENCES")
        .map(|count| count.trim().parse().expect("KKS_MODEL_SEQUENCES is a number"))
        .unwrap_or(SEQUENCES_DEFAULT);
    (0..count).map(|index| FIRST_SEED + index).collect()
}

on_both_backends! {
    fn every_answer_and_every_pocket_equals_the_model_on_random_sequences_of_events(database) {
        let mut world = driver::World::start(&database);
        let mut totals = driver::Totals::default();
        for seed in seeds() {
            let events = events::generate(seed);
            match world.run(seed, &events) {
                Ok(done) => totals.add(&done),
                Err(failure) => {
                    let (shrunk, failure) = world.shrink(seed, events, failure);
                    panic!(
                        "the server disagrees with the model ({}), seed {seed} (replay: KKS_MODEL_SEED={seed}):\n{failure}\n\
                         shrunk to {} events:\n{}",
                        if database.is_postgres() { "PostgreSQL" } else { "SQLite" },
                        shrunk.len(),
                        shrunk.iter().enumerate().map(|(index, event)| format!("  {index:>2}: {event:?}")).collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
        println!(
            "money rules against the model ({}): {} sequences, {} events, {} answers and {} pocket figures checked; \
             outcomes {:?}",
            if database.is_postgres() { "PostgreSQL" } else { "SQLite" },
            totals.sequences,
            totals.events,
            totals.answers,
            totals.figures,
            totals.outcomes,
        );
    }
}
