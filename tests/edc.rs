//! The agent's EDC terminal over HTTP, on both backends: every transaction and every
//! refusal, idempotent retries, reversals, and many terminals on one card at once.

use kks_api::domain::ledger::{AccountKind, HoldReason, OwnerKind};
use kks_api::ledger::accounts;
use kks_api::ledger::holds::{self, HoldDraft};
use kks_api::store::Store;
use serde_json::{json, Value};

use crate::disbursements::{disburse, register_family};
use crate::support::api::{assert_problem, keyed, transmitted_now, with, FamilyCredentials, Session, Terminal};
use crate::support::bank::fund_family;
use crate::support::ledger::{assert_ledger_clean, rupiah};
use crate::support::{on_both_backends, TestDatabase, TestServer};

const BALANCE: &str = "/v1/edc/balance-inquiries";
const WITHDRAW: &str = "/v1/edc/cash-withdrawals";
const TO_SAVINGS: &str = "/v1/edc/wallet-to-savings";
const PURCHASE: &str = "/v1/edc/purchases";

fn pocket(store: &Store, family: &FamilyCredentials, kind: AccountKind) -> kks_api::ledger::accounts::Account {
    store
        .read(|tx| accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family.family_id.to_string(), kind))
        .unwrap()
        .unwrap()
}

/// Every pocket's balance on a receipt, by kind.
fn balance(receipt: &Value, kind: &str) -> String {
    receipt["balances"].as_array().unwrap().iter().find(|pocket| pocket["kind"] == kind).unwrap()["balance"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn approved(response: reqwest::blocking::Response) -> Value {
    assert_eq!(response.status(), 200, "expected approval: {}", response.text().unwrap_or_default());
    response.json().unwrap()
}

/// A server on the demo whose first family has `savings_rupiah` in savings, funded before the
/// server starts: while it runs, it is the only writer.
fn server_with_savings(database: &TestDatabase, flags: &[&str], savings_rupiah: i64) -> TestServer {
    TestServer::start_after(database, flags, |store, demo| {
        fund_family(store, demo.families[0].family_id, AccountKind::Savings, savings_rupiah);
    })
}

/// An operator of the family's region places an investigation hold on one of its pockets.
fn place_hold(server: &TestServer, family: &FamilyCredentials, pocket: &str, amount: &str, reference: &str) {
    let operator = Session::operator(server, "operator.jabar");
    let placed = operator.post(
        &format!("/v1/families/{}/holds", family.family_id),
        &json!({"pocket": pocket, "amount": amount, "reference": reference}),
    );
    assert_eq!(placed.status(), 201, "placing a hold: {}", placed.text().unwrap_or_default());
}

on_both_backends! {
    fn a_family_moves_pkh_to_savings_draws_cash_and_the_agent_is_owed_it(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let inquiry = approved(agent.send(BALANCE, keyed(&family)));
        assert_eq!(balance(&inquiry, "wallet_pkh"), "500000.00");
        assert_eq!(balance(&inquiry, "savings"), "0.00");

        assert_problem(agent.send(WITHDRAW, with(keyed(&family), json!({"amount": "100000"}))), 422, "INSUFFICIENT_FUNDS");
        let moved = approved(agent.send(TO_SAVINGS, with(keyed(&family), json!({"amount": "500000"}))));
        assert_eq!((balance(&moved, "wallet_pkh").as_str(), balance(&moved, "savings").as_str()), ("0.00", "500000.00"));
        let cash = approved(agent.send(WITHDRAW, with(keyed(&family), json!({"amount": "200000.00"}))));
        assert_eq!(balance(&cash, "savings"), "300000.00");
        assert_eq!(cash["amount"], "200000.00");
        assert_eq!(cash["reference"].as_str().unwrap().len(), 12);
        let lines = cash["lines"].as_array().unwrap().iter().map(|line| line.as_str().unwrap()).collect::<Vec<_>>().join("\n");
        assert!(lines.contains("TARIK TUNAI") && lines.contains("Rp 200.000") && lines.contains("T3204001"), "{lines}");

        let settlement: Value = agent.session.get("/v1/edc/settlement").json().unwrap();
        assert_eq!((settlement["cash_withdrawals"].as_u64(), settlement["cash_paid_out"].as_str()), (Some(1), Some("200000.00")));
        assert_eq!(settlement["owed_to_agent"], "200000.00");
        let settlement_account = database
            .store()
            .read(|tx| accounts::find_by_owner_and_kind(tx, OwnerKind::Agent, "1", AccountKind::AgentSettlement))
            .unwrap()
            .unwrap();
        assert_eq!(settlement_account.balance_minor, 20_000_000, "the ledger owes the agent what it paid out");

        let slip = agent.session.get(&format!("/v1/edc/transactions/{}/slip.png", cash["reference"].as_str().unwrap()));
        assert_eq!(slip.headers()["content-type"], "image/png");
        assert!(image::load_from_memory(&slip.bytes().unwrap()).is_ok());
        let history: Value = Session::family(&server, &family).get(&format!("/v1/families/{}/transactions", family.family_id)).json().unwrap();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|entry| entry["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["cash_withdrawal", "wallet_to_savings", "balance_inquiry"], "the family sees its transactions");
        assert_ledger_clean(&database.store());
    }

    fn a_logged_out_terminal_can_neither_transact_nor_replay_an_earlier_answer(database) {
        let server = TestServer::start(&database);
        let store = database.store();
        let family = server.demo().families[0].clone();
        // Sent again by a terminal logged in afresh, a request keeps the time it was first
        // sent with (part of what its key stands for), as an EDC resends it.
        let sent_at = transmitted_now();
        let move_pkh = || with(keyed(&family), json!({"amount": "100000", "transmitted_at": sent_at}));
        let agent = Terminal::of(&server, "agen.cileunyi");
        let (first_stan, refused_stan) = (agent.stan(), agent.stan());
        let key = |stan: &str| format!("{}-{stan}", agent.terminal_id);
        let first = approved(agent.send_with(TO_SAVINGS, &first_stan, &key(&first_stan), move_pkh()));
        assert_eq!(agent.session.post("/v1/auth/logout", &json!({})).status(), 204);

        // The token is checked in the transaction, before the key: no stored answer is given
        // again, nothing moves, and the refusal is not kept under its key.
        assert_problem(agent.send_with(TO_SAVINGS, &first_stan, &key(&first_stan), move_pkh()), 401, "TOKEN_REVOKED");
        assert_problem(agent.send_with(TO_SAVINGS, &refused_stan, &key(&refused_stan), move_pkh()), 401, "TOKEN_REVOKED");
        assert_problem(agent.send(BALANCE, keyed(&family)), 401, "TOKEN_REVOKED");
        assert_eq!(pocket(&store, &family, AccountKind::WalletPkh).balance_minor, 40_000_000, "one transfer, not two");

        let again = Terminal::of(&server, "agen.cileunyi");
        let replayed = approved(again.send_with(TO_SAVINGS, &first_stan, &key(&first_stan), move_pkh()));
        assert_eq!(replayed["reference"], first["reference"], "logged in again, the first key has its first answer");
        approved(again.send_with(TO_SAVINGS, &refused_stan, &key(&refused_stan), move_pkh()));
        assert_eq!(pocket(&store, &family, AccountKind::WalletPkh).balance_minor, 30_000_000);
        assert_ledger_clean(&store);
    }

    fn a_scanned_card_works_and_e_wallet_money_is_never_paid_as_cash(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[1].clone();
        let qr = Session::family(&server, &family).get(&format!("/v1/cards/{}", family.card_number)).json::<Value>().unwrap()["qr"].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let scanned = json!({"card": {"qr": qr}, "pin": family.pin});
        approved(agent.send(BALANCE, scanned.clone()));
        let problem = assert_problem(agent.send(WITHDRAW, with(scanned, json!({"amount": "1000"}))), 422, "INSUFFICIENT_FUNDS");
        assert!(problem["detail"].as_str().unwrap().contains("Savings"), "{problem}");
        assert_eq!(pocket(&database.store(), &family, AccountKind::WalletPkh).balance_minor, 50_000_000);
    }

    fn blocked_money_is_refused_with_its_reason_and_nothing_changes(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let store = database.store();
        let operator = Session::operator(&server, "operator.jabar");
        let placed = operator.post(&format!("/v1/families/{}/holds", family.family_id),
            &json!({"pocket": "wallet_pkh", "amount": "500000", "reference": "case 17/2026"}));
        assert_eq!(placed.status(), 201, "an operator places an investigation hold through the API");
        let agent = Terminal::of(&server, "agen.cileunyi");
        let problem = assert_problem(agent.send(TO_SAVINGS, with(keyed(&family), json!({"amount": "100000"}))), 422, "FUNDS_HELD");
        assert!(problem["detail"].as_str().unwrap().contains("investigation"), "the reason is given: {problem}");
        let indonesian = agent.session.authorized(server.client.post(server.url(TO_SAVINGS)))
            .header("Idempotency-Key", "T3204001-held-id").header("Accept-Language", "id")
            .json(&with(keyed(&family), json!({"amount": "100000", "stan": "000900", "transmitted_at": transmitted_now()}))).send().unwrap();
        assert_eq!(assert_problem(indonesian, 422, "FUNDS_HELD")["title"], "Dana sedang diblokir");
        assert_eq!(pocket(&store, &family, AccountKind::WalletPkh).balance_minor, 50_000_000);
        assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 0);
        let history: Value = agent.session.get("/v1/edc/transactions").json().unwrap();
        assert_eq!(history, json!([]), "a refused transaction leaves no trace but its answer");
        assert_ledger_clean(&store);
    }

    fn a_receipt_shows_every_pocket_as_the_ledger_left_it_a_hold_released_on_the_way_included(database) {
        // A stage hold whose time has come: ended before the money moves (by the debit, or
        // by the background release if it comes first). Only the stage rule places such a
        // hold, so it is written before the server starts: while it runs, it is the only writer.
        let server = TestServer::start_after(&database, &[], |store, demo| {
            let wallet = pocket(store, &demo.families[0], AccountKind::WalletPkh);
            let due = HoldDraft { account: wallet.id, amount: rupiah(200_000), reason: HoldReason::StageNotOpen,
                reference: "stage 2", placed_by: "rule:stage", release_at: Some(kks_api::store::now() - chrono::Duration::minutes(1)) };
            store.write(|tx| holds::place(tx, &due)).unwrap();
        });
        let family = server.demo().families[0].clone();
        let store = database.store();
        place_hold(&server, &family, "wallet_lpg", "10000", "case 7");

        let agent = Terminal::of(&server, "agen.cileunyi");
        let moved = approved(agent.send(TO_SAVINGS, with(keyed(&family), json!({"amount": "450000"}))));
        let printed = moved["balances"].as_array().unwrap();
        assert_eq!(printed.len(), 4, "savings and three e-wallets: {moved}");
        for line in printed {
            let kind: AccountKind = line["kind"].as_str().unwrap().parse().unwrap();
            let ledger = pocket(&store, &family, kind);
            let figures = |account: &accounts::Account| {
                [account.balance_minor, account.held_minor, account.balance_minor - account.held_minor].map(|minor| format!("{}.{:02}", minor / 100, minor % 100))
            };
            assert_eq!([line["balance"].as_str().unwrap(), line["held"].as_str().unwrap(), line["available"].as_str().unwrap()],
                figures(&ledger).each_ref().map(String::as_str), "{kind} on the receipt against the ledger");
        }
        assert_eq!((balance(&moved, "wallet_pkh").as_str(), balance(&moved, "savings").as_str()), ("50000.00", "450000.00"));
        assert_eq!(pocket(&store, &family, AccountKind::WalletPkh).held_minor, 0, "the due hold was released");
        assert_ledger_clean(&store);
    }

    fn wrong_pins_lock_the_card_and_lost_cards_are_refused(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let family = demo.families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let wrong = json!({"card": {"card_number": family.card_number}, "pin": if family.pin == "000000" { "111111" } else { "000000" }});
        assert_problem(agent.send(BALANCE, wrong.clone()), 422, "WRONG_PIN");
        assert_problem(agent.send(BALANCE, wrong.clone()), 422, "WRONG_PIN");
        assert_problem(agent.send(BALANCE, wrong), 423, "PIN_LOCKED");
        assert_problem(agent.send(BALANCE, keyed(&family)), 423, "PIN_LOCKED");

        let other = demo.families[1].clone();
        let holder = Session::family(&server, &other);
        holder.post(&format!("/v1/cards/{}/report-lost", other.card_number), &json!({"reason": "dicuri"}));
        assert_problem(agent.send(WITHDRAW, with(keyed(&other), json!({"amount": "1000"}))), 422, "CARD_LOST");
    }

    fn a_card_transaction_without_what_its_operation_needs_is_refused_invalid_request_and_changes_nothing(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        let rice = json!([{"sku": "BERAS-1KG", "quantity": 1}]);
        for (terminal, path, body, missing) in [
            (&agent, WITHDRAW, keyed(&family), "amount"),
            (&agent, TO_SAVINGS, keyed(&family), "amount"),
            (&warong, PURCHASE, with(keyed(&family), json!({"basket": rice})), "programme"),
            (&warong, PURCHASE, with(keyed(&family), json!({"programme": "bpnt"})), "basket"),
        ] {
            let problem = assert_problem(terminal.send(path, body), 400, "INVALID_REQUEST");
            assert!(problem["detail"].as_str().unwrap().contains(missing), "{path} without {missing}: {problem}");
        }
        // A field of another operation is refused, not silently ignored.
        let problem = assert_problem(agent.send(BALANCE, with(keyed(&family), json!({"amount": "1000"}))), 400, "INVALID_REQUEST");
        assert!(problem["detail"].as_str().unwrap().contains("amount"), "{problem}");

        let inquiry = approved(agent.send(BALANCE, keyed(&family)));
        assert_eq!((balance(&inquiry, "wallet_pkh").as_str(), balance(&inquiry, "wallet_bpnt").as_str()), ("500000.00", "110000.00"));
        assert_ledger_clean(&database.store());
    }

    fn an_e_warong_sells_eligible_goods_within_quota(database) {
        // Rp 100,000 more than the demo's Rp 40,500 in the LPG wallet, funded before the
        // server starts: after three tubes the money is there, the month's quota is not.
        let server = TestServer::start_after(&database, &[], |store, demo| {
            fund_family(store, demo.families[0].family_id, AccountKind::WalletLpg, 100_000);
        });
        let family = server.demo().families[0].clone();
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        let lpg = |quantity: u32| with(keyed(&family), json!({"programme": "lpg", "basket": [{"sku": "LPG-3KG", "quantity": quantity}]}));
        let bought = approved(warong.send(PURCHASE, lpg(3)));
        assert_eq!(bought["amount"], "40500.00");
        assert_eq!(balance(&bought, "wallet_lpg"), "100000.00");
        assert_eq!(bought["items"][0]["sku"], "LPG-3KG");
        assert_problem(warong.send(PURCHASE, lpg(1)), 422, "QUOTA_EXCEEDED");

        let food = approved(warong.send(PURCHASE, with(keyed(&family), json!({"programme": "bpnt",
            "basket": [{"sku": "BERAS-1KG", "quantity": 5}, {"sku": "TELUR-1KG", "quantity": 2}]}))));
        assert_eq!(food["amount"], "107000.00");
        assert_eq!(balance(&food, "wallet_bpnt"), "3000.00");
        assert_problem(warong.send(PURCHASE, with(keyed(&family), json!({"programme": "bpnt", "basket": [{"sku": "LPG-3KG", "quantity": 1}]}))), 422, "ITEM_NOT_ELIGIBLE");
        assert_problem(warong.send(PURCHASE, with(keyed(&family), json!({"programme": "bpnt", "basket": [{"sku": "ROKOK", "quantity": 1}]}))), 422, "UNKNOWN_ITEM");
        assert_problem(warong.send(PURCHASE, with(keyed(&family), json!({"programme": "bpnt", "basket": [{"sku": "BERAS-1KG", "quantity": 1}]}))), 422, "INSUFFICIENT_FUNDS");
        assert_problem(warong.send(WITHDRAW, with(keyed(&family), json!({"amount": "1000"}))), 403, "OPERATION_NOT_ALLOWED");
        let bank_agent = Terminal::of(&server, "agen.cileunyi");
        assert_problem(bank_agent.send(PURCHASE, lpg(1)), 403, "OPERATION_NOT_ALLOWED");
        let catalogue: Value = warong.session.get("/v1/catalogue").json().unwrap();
        assert!(catalogue.as_array().unwrap().iter().any(|item| item["sku"] == "LPG-3KG" && item["monthly_quota"] == 3));
        let settlement: Value = warong.session.get("/v1/edc/settlement").json().unwrap();
        assert_eq!((settlement["purchases"].as_u64(), settlement["goods_sold"].as_str()), (Some(2), Some("147500.00")));
        assert_ledger_clean(&database.store());
    }

    fn cash_limits_per_withdrawal_per_card_and_per_agent_are_enforced(database) {
        let server = TestServer::start_after(&database, &[], |store, demo| {
            for family in &demo.families {
                fund_family(store, family.family_id, AccountKind::Savings, 10_000_000);
            }
        });
        let demo = server.demo().clone();
        let store = database.store();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let first = &demo.families[0];
        let draw = |family: &FamilyCredentials, amount: &str| agent.send(WITHDRAW, with(keyed(family), json!({"amount": amount})));
        assert_problem(draw(first, "2500000.01"), 422, "WITHDRAWAL_LIMIT_EXCEEDED");
        approved(draw(first, "2500000"));
        approved(draw(first, "2500000"));
        assert_problem(draw(first, "1"), 422, "DAILY_WITHDRAWAL_LIMIT_EXCEEDED");
        // Three more families take the agent to its Rp 20,000,000 a day.
        for family in &demo.families[1..] {
            approved(draw(family, "2500000"));
            approved(draw(family, "2500000"));
        }
        // A fifth family, registered since, is paid PKH stage 1 and moves Rp 100,000 of it
        // to savings: it has the money, the agent has no cash left to pay out today.
        let (fifth, _) = register_family(&Session::operator(&server, "operator.jabar"), "3204126208920005");
        let stage1 = disburse(&server, json!({"programme": "pkh", "year": 2017, "period": 1}));
        assert_eq!(stage1["paid_lines"], 1, "{stage1}");
        approved(agent.send(TO_SAVINGS, with(keyed(&fifth), json!({"amount": "100000"}))));
        assert_problem(draw(&fifth, "50000"), 422, "AGENT_DAILY_LIMIT_EXCEEDED");
        assert_eq!(pocket(&store, &fifth, AccountKind::Savings).balance_minor, 10_000_000);
        assert_ledger_clean(&store);
    }

    fn retries_replay_the_first_answer_and_reused_keys_or_stans_are_refused(database) {
        let server = server_with_savings(&database, &[], 300_000);
        let family = server.demo().families[0].clone();
        let store = database.store();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let body = with(keyed(&family), json!({"amount": "100000"}));
        let first = approved(agent.send_with(WITHDRAW, "000100", "T3204001-000100", body.clone()));
        let retry = approved(agent.send_with(WITHDRAW, "000100", "T3204001-000100", body.clone()));
        assert_eq!(first, retry, "the retry gets the first answer");
        assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000, "and one effect");
        let other_amount = with(keyed(&family), json!({"amount": "50000"}));
        assert_problem(agent.send_with(WITHDRAW, "000100", "T3204001-000100", other_amount.clone()), 409, "IDEMPOTENCY_KEY_REUSED");
        assert_problem(agent.send_with(WITHDRAW, "000100", "T3204001-another-key", other_amount), 409, "DUPLICATE_STAN");
        // The STAN taken is the answer even when the savings could not pay either.
        let too_much = with(keyed(&family), json!({"amount": "250000"}));
        assert_problem(agent.send_with(WITHDRAW, "000100", "T3204001-third-key", too_much.clone()), 409, "DUPLICATE_STAN");
        // A refusal is replayed too, even once the money is there (the family moves
        // Rp 300,000 of its PKH money to savings).
        assert_problem(agent.send_with(WITHDRAW, "000101", "T3204001-000101", too_much.clone()), 422, "INSUFFICIENT_FUNDS");
        approved(agent.send(TO_SAVINGS, with(keyed(&family), json!({"amount": "300000"}))));
        assert_problem(agent.send_with(WITHDRAW, "000101", "T3204001-000101", too_much), 422, "INSUFFICIENT_FUNDS");
        assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 50_000_000);
        assert_ledger_clean(&store);
    }

    fn a_reversal_restores_once_and_one_that_comes_first_voids_the_original(database) {
        let server = server_with_savings(&database, &[], 300_000);
        let family = server.demo().families[0].clone();
        let store = database.store();
        let agent = Terminal::of(&server, "agen.cileunyi");
        approved(agent.send_with(WITHDRAW, "000200", "T3204001-000200", with(keyed(&family), json!({"amount": "100000"}))));
        let reversed: Value = agent.reverse("000200", "T3204001-R000200").json().unwrap();
        assert_eq!(reversed["outcome"], "reversed");
        assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 30_000_000);
        let again: Value = agent.reverse("000200", "T3204001-R000200-again").json().unwrap();
        assert_eq!(again["outcome"], "already_reversed");
        let retried: Value = agent.reverse("000200", "T3204001-R000200").json().unwrap();
        assert_eq!(retried, reversed, "the same reversal retried gets its first answer");
        assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 30_000_000, "restored exactly once");
        let settlement: Value = agent.session.get("/v1/edc/settlement").json().unwrap();
        assert_eq!((settlement["owed_to_agent"].as_str(), settlement["reversed"].as_u64()), (Some("0.00"), Some(1)));

        // The terminal timed out before its request left: the reversal arrives first.
        let voided: Value = agent.reverse("000201", "T3204001-R000201").json().unwrap();
        assert_eq!(voided["outcome"], "original_voided");
        let late = agent.send_with(WITHDRAW, "000201", "T3204001-000201", with(keyed(&family), json!({"amount": "100000"})));
        assert_problem(late, 409, "ORIGINAL_REVERSED");
        // So does a late original that the savings could not pay anyway.
        let voided: Value = agent.reverse("000202", "T3204001-R000202").json().unwrap();
        assert_eq!(voided["outcome"], "original_voided");
        let beyond = with(keyed(&family), json!({"amount": "400000"}));
        assert_problem(agent.send_with(WITHDRAW, "000202", "T3204001-000202", beyond), 409, "ORIGINAL_REVERSED");
        assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 30_000_000);
        assert_ledger_clean(&store);
    }

    fn an_agent_sees_only_its_own_transactions_and_slips(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let mine = Terminal::of(&server, "agen.cileunyi");
        let receipt = approved(mine.send(BALANCE, keyed(&family)));
        let other = Terminal::of(&server, "agen.sekayu");
        let slip_path = format!("/v1/edc/transactions/{}/slip.png", receipt["reference"].as_str().unwrap());
        assert_problem(other.session.get(&slip_path), 404, "NOT_FOUND");
        assert_eq!(other.session.get("/v1/edc/transactions").json::<Value>().unwrap(), json!([]));
        assert_eq!(mine.session.get("/v1/edc/transactions").json::<Value>().unwrap().as_array().unwrap().len(), 1);
        let operator = Session::operator(&server, "operator.jabar");
        assert_problem(operator.post(BALANCE, &keyed(&family)), 400, "IDEMPOTENCY_KEY_MISSING");
        let forbidden = operator.authorized(server.client.post(server.url(BALANCE))).header("Idempotency-Key", "x")
            .json(&with(keyed(&family), json!({"stan": "000001", "transmitted_at": transmitted_now()}))).send().unwrap();
        assert_problem(forbidden, 403, "FORBIDDEN");
    }

    fn many_terminals_on_one_card_never_overdraw_or_touch_held_money(database) {
        let server = server_with_savings(&database, &[], 1_000_000);
        let family = server.demo().families[0].clone();
        let store = database.store();
        place_hold(&server, &family, "savings", "300000", "case 7");
        let bank_agent = Terminal::of(&server, "agen.cileunyi");
        let warong = Terminal::of(&server, "ewarong.cileunyi");
        let outcomes: Vec<(u16, String)> = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            for thread in 0..8 {
                let (bank_agent, warong, family) = (&bank_agent, &warong, &family);
                handles.push(scope.spawn(move || {
                    (0..8).map(|_| {
                        let response = if thread % 4 == 3 {
                            warong.send(PURCHASE, with(keyed(family), json!({"programme": "bpnt", "basket": [{"sku": "BERAS-1KG", "quantity": 1}]})))
                        } else {
                            bank_agent.send(WITHDRAW, with(keyed(family), json!({"amount": "50000"})))
                        };
                        let status = response.status().as_u16();
                        let code = response.json::<Value>().ok().and_then(|body| body["code"].as_str().map(str::to_owned)).unwrap_or_default();
                        (status, code)
                    }).collect::<Vec<_>>()
                }));
            }
            handles.into_iter().flat_map(|handle| handle.join().unwrap()).collect()
        });
        let refusals: Vec<&String> = outcomes.iter().filter(|(status, _)| *status != 200).map(|(_, code)| code).collect();
        assert!(refusals.iter().all(|code| ["FUNDS_HELD", "INSUFFICIENT_FUNDS"].contains(&code.as_str())), "{refusals:?}");
        let after = pocket(&store, &family, AccountKind::Savings);
        // Rp 1,000,000 with Rp 300,000 held: exactly fourteen Rp 50,000 withdrawals fit.
        assert_eq!(after.balance_minor, 30_000_000, "every free rupiah drawn, none of the held");
        assert_eq!(after.held_minor, 30_000_000);
        let bpnt = pocket(&store, &family, AccountKind::WalletBpnt);
        assert_eq!(bpnt.balance_minor, 11_000_000 - 1_100_000 * 10, "ten kilos of rice fit in Rp 110,000");
        assert_ledger_clean(&store);
        let verified = crate::support::kks(&database, &["verify-ledger"]);
        assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
    }
}

/// Card transactions and reversals on either side of midnight WIB, on a server whose
/// ledger clock the test moves.
mod across_midnight {
    use chrono::{Duration, NaiveDate, NaiveDateTime};
    use kks_api::domain::edc::business_date;
    use kks_api::domain::usage::UsageScope;

    use super::*;
    use crate::support::api::wib;
    use crate::support::bank::{edc_basket, overwrite_edc_basket, usage_used};

    /// A server with a test clock whose first family has Rp 300,000 in savings, and the
    /// first midnight WIB (17:00 UTC) more than a day ahead of its clock.
    fn server_before_midnight(database: &TestDatabase) -> (TestServer, NaiveDateTime) {
        let server = server_with_savings(database, &["--test-clock"], 300_000);
        let midnight = (server.clock() + Duration::days(2)).date().and_hms_opt(17, 0, 0).unwrap();
        (server, midnight)
    }

    /// The cash counters a withdrawal by this family at this agent raises.
    fn cash_scopes(store: &Store, family: &FamilyCredentials) -> [UsageScope; 2] {
        let agent = store.read(|tx| kks_api::store::agents::find_by_username(tx, "agen.cileunyi")).unwrap().unwrap();
        [UsageScope::CardCash { family_id: family.family_id }, UsageScope::AgentCashOut { agent_id: agent.id }]
    }

    fn day_of(receipt: &Value) -> NaiveDate {
        receipt["business_date"].as_str().unwrap().parse().unwrap()
    }

    on_both_backends! {
        fn a_withdrawal_sent_before_midnight_is_reversed_by_its_reversal_after_midnight(database) {
            let (server, midnight) = server_before_midnight(&database);
            let family = server.demo().families[0].clone();
            let store = database.store();
            let agent = Terminal::of(&server, "agen.cileunyi");
            let sent = midnight - Duration::seconds(7);
            server.set_clock(sent);
            let withdrawal = with(keyed(&family), json!({"amount": "100000", "transmitted_at": wib(sent)}));
            let withdrawn = approved(agent.send_with(WITHDRAW, "000300", "T3204001-000300", withdrawal));
            let day = day_of(&withdrawn);
            assert_eq!(day.succ_opt(), Some(business_date(midnight)), "23:59:53 WIB is the day before midnight");
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000);
            for scope in cash_scopes(&store, &family) {
                assert_eq!(usage_used(&store, &scope, day), 10_000_000, "{scope:?}");
            }

            server.set_clock(midnight + Duration::seconds(5));
            let reversed: Value = agent.reverse("000300", "T3204001-R000300").json().unwrap();
            assert_eq!(reversed["outcome"], "reversed", "{reversed}");
            assert_eq!(reversed["original_reference"], withdrawn["reference"]);
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 30_000_000, "the money is back");
            for scope in cash_scopes(&store, &family) {
                assert_eq!(usage_used(&store, &scope, day), 0, "{scope:?} given back on the original's day");
            }
            let settlement: Value = agent.session.get(&format!("/v1/edc/settlement?date={day}")).json().unwrap();
            assert_eq!((settlement["reversed"].as_u64(), settlement["owed_to_agent"].as_str()), (Some(1), Some("0.00")));
            assert_ledger_clean(&store);
        }

        fn a_reversal_after_midnight_voids_its_original_sent_before_it_and_the_late_original_is_refused(database) {
            let (server, midnight) = server_before_midnight(&database);
            let family = server.demo().families[0].clone();
            let store = database.store();
            let agent = Terminal::of(&server, "agen.cileunyi");
            let sent = midnight - Duration::seconds(5);
            server.set_clock(midnight + Duration::seconds(5));
            let voided: Value = agent.reverse_sent_at("000301", &wib(sent), "T3204001-R000301").json().unwrap();
            assert_eq!(voided["outcome"], "original_voided", "{voided}");

            server.set_clock(midnight + Duration::seconds(10));
            let late = with(keyed(&family), json!({"amount": "100000", "transmitted_at": wib(sent)}));
            assert_problem(agent.send_with(WITHDRAW, "000301", "T3204001-000301", late), 409, "ORIGINAL_REVERSED");
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 30_000_000, "nothing moved");
            let day = business_date(sent);
            for scope in cash_scopes(&store, &family) {
                assert_eq!(usage_used(&store, &scope, day), 0, "{scope:?}");
            }
            let slots: Value = agent.session.get(&format!("/v1/edc/transactions?date={day}")).json().unwrap();
            let slots: Vec<(&str, &str)> = slots.as_array().unwrap().iter()
                .map(|row| (row["stan"].as_str().unwrap(), row["status"].as_str().unwrap())).collect();
            assert_eq!(slots, [("000301", "reversed_before_arrival")], "the void sits in the original's day");
            assert_ledger_clean(&store);
        }

        fn a_reversal_more_than_a_day_after_its_original_is_refused_and_changes_nothing(database) {
            let (server, midnight) = server_before_midnight(&database);
            let family = server.demo().families[0].clone();
            let store = database.store();
            let agent = Terminal::of(&server, "agen.cileunyi");
            let sent = midnight - Duration::seconds(7);
            server.set_clock(sent);
            let draw = |amount: &str| with(keyed(&family), json!({"amount": amount, "transmitted_at": wib(sent)}));
            approved(agent.send_with(WITHDRAW, "000302", "T3204001-000302", draw("100000")));
            approved(agent.send_with(WITHDRAW, "000303", "T3204001-000303", draw("50000")));
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 15_000_000);

            server.set_clock(sent + Duration::hours(24) - Duration::seconds(30));
            let in_time: Value = agent.reverse("000303", "T3204001-R000303").json().unwrap();
            assert_eq!(in_time["outcome"], "reversed", "{in_time}");
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000);

            server.set_clock(sent + Duration::hours(24) + Duration::seconds(1));
            assert_problem(agent.reverse("000302", "T3204001-R000302"), 422, "REVERSAL_WINDOW_CLOSED");
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000, "the withdrawal stands");
            let retried: Value = agent.reverse("000303", "T3204001-R000303").json().unwrap();
            assert_eq!(retried, in_time, "a reversal answered in time keeps its answer");
            assert_ledger_clean(&store);
        }

        fn the_same_stan_on_the_next_business_day_is_a_new_transaction(database) {
            let (server, midnight) = server_before_midnight(&database);
            let family = server.demo().families[0].clone();
            let store = database.store();
            let agent = Terminal::of(&server, "agen.cileunyi");
            let draw = |at: NaiveDateTime| with(keyed(&family), json!({"amount": "50000", "transmitted_at": wib(at)}));
            let before = midnight - Duration::seconds(10);
            server.set_clock(before);
            let first = approved(agent.send_with(WITHDRAW, "000304", "T3204001-D1-000304", draw(before)));
            let after = midnight + Duration::seconds(10);
            server.set_clock(after);
            let second = approved(agent.send_with(WITHDRAW, "000304", "T3204001-D2-000304", draw(after)));
            assert_ne!(first["reference"], second["reference"]);
            assert_eq!(day_of(&first).succ_opt(), Some(day_of(&second)));
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000, "two withdrawals");
            let again = agent.send_with(WITHDRAW, "000304", "T3204001-D2-000304-again", draw(after));
            assert_problem(again, 409, "DUPLICATE_STAN");
            assert_ledger_clean(&store);
        }

        fn a_transmission_time_more_than_ten_minutes_off_is_refused_and_changes_nothing(database) {
            let (server, midnight) = server_before_midnight(&database);
            let family = server.demo().families[0].clone();
            let store = database.store();
            let agent = Terminal::of(&server, "agen.cileunyi");
            let now = midnight - Duration::hours(1);
            server.set_clock(now);
            let wrong_pin = if family.pin == "000000" { "111111" } else { "000000" };
            let draw = |at: NaiveDateTime, pin: &str| json!({"card": {"card_number": family.card_number}, "pin": pin,
                "amount": "100000", "transmitted_at": wib(at)});
            for off in [now + Duration::minutes(11), now - Duration::minutes(11)] {
                for _ in 0..3 {
                    let refused = agent.send_with(WITHDRAW, "000305", "T3204001-000305", draw(off, wrong_pin));
                    assert_problem(refused, 422, "TRANSMISSION_TIME_OUT_OF_RANGE");
                }
            }
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 30_000_000);
            assert_eq!(agent.session.get("/v1/edc/transactions").json::<Value>().unwrap(), json!([]), "no STAN taken");

            // Neither the key nor the six wrong PINs were kept: sent right, it is approved.
            let first = approved(agent.send_with(WITHDRAW, "000305", "T3204001-000305", draw(now, &family.pin)));
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000);
            // A retry a quarter of an hour later still gets its first answer.
            server.set_clock(now + Duration::minutes(15));
            let retried = approved(agent.send_with(WITHDRAW, "000305", "T3204001-000305", draw(now, &family.pin)));
            assert_eq!(retried, first);
            assert_eq!(pocket(&store, &family, AccountKind::Savings).balance_minor, 20_000_000, "one withdrawal");
            assert_ledger_clean(&store);
        }

        fn a_reversal_whose_kept_basket_cannot_be_read_fails_and_changes_nothing(database) {
            let server = TestServer::start(&database);
            let family = server.demo().families[0].clone();
            let store = database.store();
            let terminal_id = server.demo().agent("ewarong.cileunyi").terminal_id.clone();
            let key = |stan: &str| format!("{terminal_id}-{stan}");
            let sent_at = transmitted_now();
            let gas = with(keyed(&family), json!({"programme": "lpg", "basket": [{"sku": "LPG-3KG", "quantity": 2}],
                "transmitted_at": sent_at}));
            let bought = approved(Terminal::of(&server, "ewarong.cileunyi").send_with(PURCHASE, "000306", &key("000306"), gas));
            let reference = bought["reference"].as_str().unwrap();
            let quota = UsageScope::ItemQuota { family_id: family.family_id, sku: "LPG-3KG".to_owned(), quota: 3 };
            let day = day_of(&bought);
            assert_eq!(usage_used(&store, &quota, day), 2);

            let kept = edc_basket(&store, reference);
            assert!(kept.is_some(), "a purchase keeps its basket");
            let server = server.restarted_after(&database, || overwrite_edc_basket(&store, reference, Some("{}")));
            let warong = Terminal::of(&server, "ewarong.cileunyi");
            assert_problem(warong.reverse_sent_at("000306", &sent_at, &key("R000306")), 500, "INTERNAL_ERROR");
            assert_eq!(pocket(&store, &family, AccountKind::WalletLpg).balance_minor, 1_350_000, "nothing given back");
            assert_eq!(usage_used(&store, &quota, day), 2, "nor the quota");
            let rows: Value = warong.session.get("/v1/edc/transactions").json().unwrap();
            assert_eq!(rows[0]["status"], "approved", "still approved");
            drop(warong);

            // Nothing was kept under the key either: with its basket readable again, the
            // same reversal goes through.
            let server = server.restarted_after(&database, || overwrite_edc_basket(&store, reference, kept.as_deref()));
            let warong = Terminal::of(&server, "ewarong.cileunyi");
            let reversed: Value = warong.reverse_sent_at("000306", &sent_at, &key("R000306")).json().unwrap();
            assert_eq!(reversed["outcome"], "reversed", "{reversed}");
            assert_eq!(pocket(&store, &family, AccountKind::WalletLpg).balance_minor, 4_050_000);
            assert_eq!(usage_used(&store, &quota, day), 0);
            assert_ledger_clean(&store);
        }
    }
}

/// The EDC record's claim, under the card transaction: a reference already taken (12
/// random digits meet about once in 1.5 million; the 30-minute soak met it twice) writes
/// nothing and tells the service, which runs the transaction again with a new one.
mod reference_taken {
    use kks_api::domain::edc::EdcKind;
    use kks_api::store::agents;
    use kks_api::store::edc::{self as edc_store, EdcInsertForm};
    use kks_api::store::StoreError;

    use super::*;

    on_both_backends! {
        fn a_claim_whose_reference_is_taken_writes_nothing(database) {
            let server = TestServer::start(&database);
            let terminal = server.demo().agent("agen.cileunyi").terminal_id.clone();
            drop(server);
            let store = database.store();
            let day = chrono::Utc::now().date_naive();
            let claimed = store
                .write(|tx| -> Result<_, StoreError> {
                    let agent = agents::find_by_username(tx, "agen.cileunyi")?.expect("the demo agent");
                    let mut first = EdcInsertForm::new(&terminal, "000701", day, EdcKind::BalanceInquiry, agent.id);
                    first.reference = "123456789012";
                    let mut second = first.clone();
                    second.stan = "000702";
                    Ok((edc_store::claim(tx, &first)?.is_some(), edc_store::claim(tx, &second)?.is_some(),
                        edc_store::find_by_stan(tx, &terminal, "000702", day)?.is_none()))
                })
                .unwrap();
            assert_eq!(claimed, (true, false, true), "the first is written; the second, its reference taken, is not");
        }
    }
}
