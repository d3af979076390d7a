//! A refusal names the state that refused: a card with no holds is never told its money
//! is held, however its balance races. One terminal keeps moving PKH money into savings in
//! small steps while two others keep withdrawing a little more than one step: many
//! withdrawals find too little, and each of those must say so (`INSUFFICIENT_FUNDS`), never
//! `FUNDS_HELD` worked out from a later read that saw a credit arrive (measured on
//! PostgreSQL before the fix: "Rp 1.400 requested from Savings, but only Rp 2.300 is free;
//! the rest is blocked ()").

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::json;

use crate::support::api::{keyed, with, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

/// Threads per role, each with its own slice of its terminal's STANs.
const MOVERS: u32 = 4;
const WITHDRAWERS_PER_AGENT: u32 = 3;
const REQUESTS_PER_THREAD: u32 = 120;

on_both_backends! {
    fn a_card_without_holds_is_never_refused_as_held_while_its_balance_races(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let codes: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
        let send = |agent: &str, slice: u32, path: &str, amount: &str, count: bool| {
            let terminal = Terminal::of(&server, agent);
            for index in 0..REQUESTS_PER_THREAD {
                let stan = format!("{:06}", slice * 1_000 + index + 1);
                let key = format!("{}-race-{stan}", terminal.terminal_id);
                let response = terminal.send_with(path, &stan, &key, with(keyed(&family), json!({"amount": amount})));
                let status = response.status();
                let body: serde_json::Value = response.json().unwrap();
                let code = if status == 200 { "approved".to_owned() } else { body["code"].as_str().unwrap_or("?").to_owned() };
                if count {
                    *codes.lock().unwrap().entry(code).or_default() += 1;
                } else {
                    assert_eq!(status, 200, "moving PKH money: {body}");
                }
            }
        };
        std::thread::scope(|scope| {
            for slice in 0..MOVERS {
                let send = &send;
                scope.spawn(move || send("ewarong.cileunyi", slice, "/v1/edc/wallet-to-savings", "1000", false));
            }
            for agent in ["agen.cileunyi", "agen.sekayu"] {
                for slice in 0..WITHDRAWERS_PER_AGENT {
                    let send = &send;
                    scope.spawn(move || send(agent, slice, "/v1/edc/cash-withdrawals", "1400", true));
                }
            }
        });
        let codes = codes.into_inner().unwrap();
        println!("withdrawals racing credits on a card without holds: {codes:?}");
        assert!(!codes.contains_key("FUNDS_HELD"), "a card without holds was told its money is held: {codes:?}");
        assert!(codes.get("approved").copied().unwrap_or(0) > 0 && codes.get("INSUFFICIENT_FUNDS").copied().unwrap_or(0) > 0,
            "the race was run: some withdrawals found the money and some did not: {codes:?}");
        assert_eq!(codes.len(), 2, "nothing but approvals and INSUFFICIENT_FUNDS: {codes:?}");
        assert_ledger_clean(&database.store());
    }
}
