//! The audit trail records every state change with actor, time and reason, in the
//! transaction that makes the change, and nobody can rewrite it: holds placed, released
//! and captured, a PIN locked by wrong tries and unlocked by an operator, tokens revoked
//! by logging out.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use kks_api::domain::ledger::{AccountKind, HoldReason, JournalKind, OwnerKind};
use kks_api::ledger::holds::{self, HoldDraft};
use serde_json::{json, Value};

use crate::support::api::{assert_problem, keyed, with, Session, Terminal};
use crate::support::ledger::{rupiah, treasury};
use crate::support::{on_both_backends, TestDatabase, TestServer};

/// The national trail, filtered, as an admin reads it.
fn trail(server: &TestServer, query: &str) -> Vec<Value> {
    let admin = Session::operator(server, "admin");
    let response = admin.get(&format!("/v1/audit-events?{query}"));
    assert_eq!(response.status(), 200);
    response.json::<Vec<Value>>().unwrap()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().map(|event| event["action"].as_str().unwrap()).collect()
}

/// Runs a statement behind the API's back, as someone with database access would.
fn tamper(database: &TestDatabase, statement: &str) -> Result<(), diesel::result::Error> {
    if database.is_postgres() {
        diesel::PgConnection::establish(database.url()).unwrap().batch_execute(statement)
    } else {
        let path = database.url().trim_start_matches("sqlite://");
        diesel::SqliteConnection::establish(path).unwrap().batch_execute(statement)
    }
}

on_both_backends! {
    fn holds_placed_released_and_captured_are_in_the_audit_trail(database) {
        // Written through the ledger before the server starts (while it runs, it is the
        // only writer): a capture has no API of its own, and the trail must show the
        // ledger's own actor and reason for every change.
        let mut written = None;
        let server = TestServer::start_after(&database, &[], |store, demo| {
            let wallet = store
                .read(|tx| kks_api::ledger::accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &demo.families[0].family_id.to_string(), AccountKind::WalletPkh))
                .unwrap()
                .unwrap();
            let treasury = treasury(store);
            let draft = HoldDraft {
                account: wallet.id,
                amount: rupiah(100_000),
                reason: HoldReason::Investigation,
                reference: "case 17/2017",
                placed_by: "operator:1",
                release_at: None,
            };
            let (first, second) = store
                .write(|tx| -> Result<_, kks_api::ledger::LedgerError> {
                    let first = holds::place(tx, &draft)?;
                    holds::release(tx, first.id, "operator:1")?;
                    let second = holds::place(tx, &draft)?;
                    holds::capture(tx, second.id, treasury, JournalKind::ReturnToTreasury, "case 17/2017 closed", "operator:1")?;
                    Ok((first, second))
                })
                .unwrap();
            // A refused hold changes nothing, so it records nothing.
            let too_much = HoldDraft { amount: rupiah(100_000_000), ..draft.clone() };
            assert!(store.write(|tx| holds::place(tx, &too_much)).is_err());
            written = Some((wallet, first, second));
        });
        let (wallet, first, second) = written.unwrap();

        let events = trail(&server, "object_kind=hold");
        assert_eq!(actions(&events), ["hold.placed", "hold.released", "hold.placed", "hold.captured"]);
        for event in &events {
            assert_eq!(event["actor"], "operator:1");
            assert_eq!(event["reason"], "investigation: case 17/2017");
            assert!(event["at"].is_string());
        }
        assert_eq!(events[0]["object_id"], first.id.to_string());
        assert_eq!(events[3]["object_id"], second.id.to_string());
        let details: Value = serde_json::from_str(events[3]["details"].as_str().unwrap()).unwrap();
        assert_eq!((details["account"].as_i64(), details["amount_minor"].as_i64()), (Some(wallet.id.0), Some(10_000_000)));
        assert!(details["journal"].is_i64(), "{details}");
    }

    fn a_pin_locked_by_wrong_tries_its_unlock_and_a_logout_are_in_the_audit_trail(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let agent = Terminal::of(&server, "agen.cileunyi");
        let wrong = with(keyed(&family), json!({"pin": if family.pin == "000000" { "111111" } else { "000000" }}));
        for (status, code) in [(422, "WRONG_PIN"), (422, "WRONG_PIN"), (423, "PIN_LOCKED"), (423, "PIN_LOCKED")] {
            assert_problem(agent.send("/v1/edc/balance-inquiries", wrong.clone()), status, code);
        }
        let operator = Session::operator(&server, "operator.jabar");
        let reset = operator.post(&format!("/v1/cards/{}/pin-reset", family.card_number), &json!({"reason": "the cardholder came with her KTP"}));
        assert_eq!(reset.status(), 204);

        let card = trail(&server, &format!("object_kind=card&object_id={}", family.card_number));
        let card_actions = actions(&card);
        assert_eq!(card_actions.iter().filter(|action| **action == "card.pin_locked").count(), 1, "locked once: {card_actions:?}");
        let locked = card.iter().find(|event| event["action"] == "card.pin_locked").unwrap();
        assert_eq!((locked["actor"].as_str(), locked["reason"].as_str()), (Some("rule:pin-attempts"), Some("three wrong PINs in a row")));
        let unlocked = card.iter().find(|event| event["action"] == "card.pin_reset").unwrap();
        assert_eq!(unlocked["reason"], "the cardholder came with her KTP");
        assert!(unlocked["actor"].as_str().unwrap().starts_with("operator:"));
        // The family sees the same in its card's history.
        let history: Vec<Value> = operator.get(&format!("/v1/cards/{}/history", family.card_number)).json().unwrap();
        assert!(actions(&history).contains(&"card.pin_locked"));

        let me: Value = agent.session.get("/v1/me").json().unwrap();
        assert_eq!(agent.session.post("/v1/auth/logout", &json!({})).status(), 204);
        let subject = me["subject"].as_str().unwrap();
        let (kind, id) = subject.split_once(':').unwrap();
        let revoked = trail(&server, &format!("object_kind={kind}&object_id={id}"));
        // The demo seed registered the agent, as an admin does.
        assert_eq!(actions(&revoked), ["agent.registered", "tokens.revoked"]);
        assert_eq!(revoked[1]["actor"], subject);

        // Append-only, even for someone with database access. Tried with the server stopped:
        // while it runs it is the only writer, and a write refused for being locked out
        // would pass for a write refused by the trail.
        let credentials = server.credentials.clone();
        drop(server);
        for statement in ["UPDATE audit_events SET reason = 'nothing happened'", "DELETE FROM audit_events"] {
            let refused = tamper(&database, statement).expect_err(statement).to_string();
            assert!(refused.contains("append-only"), "{statement}: {refused}");
        }
        let mut server = TestServer::start(&database);
        server.credentials = credentials;
        assert_eq!(trail(&server, "object_kind=hold").len(), 0);
        assert_eq!(trail(&server, &format!("object_kind={kind}&object_id={id}")).len(), 2, "still there");
    }
}
