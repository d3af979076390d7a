//! Per-transaction PIN verification against a password hash, measured in one run.
//!
//!     cargo bench -p kks-api --bench pin_verification
//!
//! A card transaction checks the cardholder's PIN every time, so the check must cost
//! microseconds (a keyed HMAC), not the tens of milliseconds of argon2id that protects
//! operator and agent passwords at login. Both are measured here, on this machine, now.

use std::time::{Duration, Instant};

use kks_api::domain::auth::{Password, Pin, PinKey};
use kks_api::service::auth::passwords;

const PIN_CHECKS: usize = 50_000;
const PASSWORD_CHECKS: usize = 20;

/// Latency percentiles of a sample, in microseconds.
fn percentiles_us(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
        samples.get(index).map_or(0.0, |sample| sample.as_secs_f64() * 1e6)
    };
    (at(0.5), at(0.99), at(1.0))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pin_key = PinKey::new(b"benchmark pin verification key, 32+ bytes");
    let pin = Pin::parse("246810")?;
    let stored = pin_key.verification_value("5221840000000019", &pin);
    let mut pin_samples = Vec::with_capacity(PIN_CHECKS);
    for _ in 0..PIN_CHECKS {
        let started = Instant::now();
        let matched = pin_key.verify("5221840000000019", &pin, &stored);
        pin_samples.push(started.elapsed());
        assert!(matched);
    }

    let password = Password::parse("a demo password of decent length".to_owned()).ok_or("password")?;
    let hash = passwords::hash(&password)?;
    let mut password_samples = Vec::with_capacity(PASSWORD_CHECKS);
    for _ in 0..PASSWORD_CHECKS {
        let started = Instant::now();
        let matched = passwords::verify(&password, Some(&hash));
        password_samples.push(started.elapsed());
        assert!(matched);
    }

    let (pin_p50, pin_p99, pin_max) = percentiles_us(&mut pin_samples);
    let (password_p50, password_p99, password_max) = percentiles_us(&mut password_samples);
    println!("{:<34} {:>10} {:>12} {:>12} {:>12}", "check", "runs", "p50 µs", "p99 µs", "max µs");
    println!(
        "{:<34} {:>10} {:>12.2} {:>12.2} {:>12.2}",
        "card PIN (HMAC-SHA256, keyed)", PIN_CHECKS, pin_p50, pin_p99, pin_max
    );
    println!(
        "{:<34} {:>10} {:>12.0} {:>12.0} {:>12.0}",
        "password (argon2id, default)", PASSWORD_CHECKS, password_p50, password_p99, password_max
    );
    println!("password / PIN at p50: {:.0}×", password_p50 / pin_p50.max(f64::MIN_POSITIVE));
    println!(
        "{}",
        serde_json::json!({
            "pin_hmac_us": {"p50": pin_p50, "p99": pin_p99, "max": pin_max, "runs": PIN_CHECKS},
            "password_argon2id_us": {"p50": password_p50, "p99": password_p99, "max": password_max, "runs": PASSWORD_CHECKS},
            "ratio_p50": password_p50 / pin_p50.max(f64::MIN_POSITIVE),
        })
    );
    Ok(())
}
