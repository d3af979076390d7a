//! Keys that outlive a rotation (README, Going live, Key rotation). A server with the
//! keys of today (the single-key variables) issues a card, its PIN and tokens; restarted
//! with new keys put first, the old card, tokens and PIN still work and what is new uses
//! the new keys; restarted with the old keys gone, what only they could check is refused,
//! each with its code. `kks keys status` reads the PIN key versions once no server runs.

use std::process::{Command, Output};

use kks_api::domain::card::CardNumber;
use kks_api::domain::card_qr::{CardQrError, IssuerSigningKey, IssuerVerifyingKey, IssuerVerifyingKeys};
use kks_api::store::cards;
use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session, Terminal};
use crate::support::server::{set_keys, TEST_ISSUER_KEY_HEX};
use crate::support::{on_both_backends, TestDatabase, TestServer, KKS_BINARY};

/// The PIN key before the rotation, given alone as deployments do today (version 1).
const PIN_KEY_A: &str = "kks-test-pin-key-a-from-before-the-rotation";
const JWT_KEYS_B: &str = "2:kks-test-jwt-key-b-from-after-the-rotation";
const PIN_KEYS_B: &str = "2:kks-test-pin-key-b-from-after-the-rotation";
/// The new card issuer key (a 32-byte seed in hex).
const ISSUER_KEY_B_HEX: &str = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf";

/// Key variables set (`Some`) or removed (`None`) over the test server's defaults.
type KeyVariables = [(&'static str, Option<&'static str>)];

/// The keys before the rotation: the test server's token and issuer keys, and PIN key A.
const KEYS_A: &KeyVariables = &[("KKS_PIN_KEY", Some(PIN_KEY_A))];
/// After the rotation: the new keys first, the old ones (the single-key variables) kept.
const KEYS_B_THEN_A: &KeyVariables = &[
    ("KKS_PIN_KEY", Some(PIN_KEY_A)),
    ("KKS_JWT_KEYS", Some(JWT_KEYS_B)),
    ("KKS_PIN_KEYS", Some(PIN_KEYS_B)),
    ("KKS_ISSUER_KEYS", Some(ISSUER_KEY_B_HEX)),
];
/// The old keys retired.
const KEYS_B_ONLY: &KeyVariables = &[
    ("KKS_JWT_SECRET", None),
    ("KKS_ISSUER_KEY", None),
    ("KKS_PIN_KEY", None),
    ("KKS_JWT_KEYS", Some(JWT_KEYS_B)),
    ("KKS_PIN_KEYS", Some(PIN_KEYS_B)),
    ("KKS_ISSUER_KEYS", Some(ISSUER_KEY_B_HEX)),
];

fn issuer_key(hex: &str) -> IssuerVerifyingKey {
    IssuerSigningKey::from_hex(hex).unwrap().verifying_key()
}

/// `kks ARGS…` on the database with the test server's keys changed by `keys`.
fn kks_with_keys(database: &TestDatabase, keys: &[(&str, Option<&str>)], args: &[&str]) -> Output {
    let mut command = Command::new(KKS_BINARY);
    command
        .args(["--database", database.url()])
        .args(args)
        .env("KKS_JWT_SECRET", crate::support::server::TEST_JWT_SECRET)
        .env("KKS_ISSUER_KEY", TEST_ISSUER_KEY_HEX)
        .env("KKS_LOG", "warn");
    set_keys(&mut command, keys);
    command.output().expect("running kks")
}

/// Active cards by PIN key version, from `kks keys status --json`, and its exit code.
fn pin_key_usage(database: &TestDatabase, keys: &[(&str, Option<&str>)]) -> (Vec<(i64, i64, bool)>, Option<i32>) {
    let output = kks_with_keys(database, keys, &["keys", "status", "--json"]);
    let status: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("a JSON status: {}", String::from_utf8_lossy(&output.stderr)));
    let usage = status["active_cards_by_pin_key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|usage| {
            (
                usage["key_version"].as_i64().unwrap(),
                usage["active_cards"].as_i64().unwrap(),
                usage["configured"] == true,
            )
        })
        .collect();
    (usage, output.status.code())
}

/// The public keys `/.well-known/kks-card-issuer` lists, and the key id at its top.
fn published_keys(server: &TestServer) -> (IssuerVerifyingKeys, String) {
    let document: Value = server.get("/.well-known/kks-card-issuer").json().unwrap();
    let keys = document["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            let public = IssuerVerifyingKey::from_base64(key["public_key"].as_str().unwrap()).unwrap();
            assert_eq!(key["key_id"], public.key_id_hex().as_str());
            public
        })
        .collect();
    (IssuerVerifyingKeys::new(keys), document["key_id"].as_str().unwrap().to_owned())
}

fn kid(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).unwrap().kid
}

/// A fresh card for the family of `card_number`, as `(number, QR, PIN)`.
fn replace_card(operator: &Session, card_number: &str) -> (String, String, String) {
    let replaced = operator.post(&format!("/v1/cards/{card_number}/replace"), &json!({"reason": "worn out"}));
    assert_eq!(replaced.status(), 201);
    let replaced: Value = replaced.json().unwrap();
    let text = |pointer: &str| replaced.pointer(pointer).and_then(Value::as_str).unwrap().to_owned();
    (text("/card/card_number"), text("/card/qr"), text("/pin"))
}

on_both_backends! {
    fn cards_tokens_and_pins_from_before_a_key_rotation_keep_working_and_new_ones_use_the_new_keys(database) {
        // Before: one key of each kind.
        let server = TestServer::start_with_keys(&database, KEYS_A);
        let demo = server.demo().clone();
        let jabar = demo.families_in("32");
        let (first, untouched, third) = (jabar[0].clone(), jabar[1].clone(), jabar[2].clone());
        let operator = Session::operator(&server, "operator.jabar");
        let (card_a, qr_a, pin_a) = replace_card(&operator, &first.card_number);
        let family = Session::from_card(&server, &card_a, &pin_a);
        assert_eq!(kid(&family.access_token).as_deref(), Some("1"), "the single-key variable is version 1");
        let (old_family_token, old_operator_token) = (family.access_token.clone(), operator.access_token.clone());
        drop(server);

        // After the rotation: the new keys first, the old ones kept.
        let mut server = TestServer::start_with_keys(&database, KEYS_B_THEN_A);
        server.credentials = Some(demo.clone());
        let (published, newest_id) = published_keys(&server);
        assert_eq!(newest_id, issuer_key(ISSUER_KEY_B_HEX).key_id_hex(), "the top of the document is the newest key");
        assert_eq!(published.keys(), [issuer_key(ISSUER_KEY_B_HEX), issuer_key(TEST_ISSUER_KEY_HEX)]);
        assert!(published.verify(&qr_a).is_ok(), "the old card checks offline with the published keys");
        let old_family = Session { server: &server, access_token: old_family_token.clone(), refresh_token: String::new() };
        let old_operator = Session { server: &server, access_token: old_operator_token, refresh_token: String::new() };
        assert_eq!(old_family.get(&format!("/v1/families/{}/balances", first.family_id)).status(), 200, "a live token of the old key");
        let agent = Terminal::of(&server, "agen.cileunyi");
        let checked: Value = agent.session.post("/v1/cards/check-qr", &json!({ "qr": qr_a })).json().unwrap();
        assert_eq!(checked["card_number"], card_a.as_str(), "the old card scans: {checked}");
        // The old PIN works with the scanned old card, and is re-keyed on the way.
        let inquiry = agent.send("/v1/edc/balance-inquiries", json!({"card": {"qr": qr_a}, "pin": pin_a}));
        assert_eq!(inquiry.status(), 200, "{}", inquiry.text().unwrap_or_default());
        let (card_b, qr_b, _) = replace_card(&old_operator, &third.card_number);
        assert_eq!(IssuerVerifyingKeys::new(vec![issuer_key(ISSUER_KEY_B_HEX)]).verify(&qr_b).map(|(_, key)| key), Ok(issuer_key(ISSUER_KEY_B_HEX)), "a new card is signed with the new key");
        assert_eq!(issuer_key(TEST_ISSUER_KEY_HEX).verify(&qr_b), Err(CardQrError::UnknownIssuer));
        let new_family = Session::from_card(&server, &card_a, &pin_a);
        assert_eq!(kid(&new_family.access_token).as_deref(), Some("2"), "a new token is signed with the new key");
        drop(server);

        // The server is stopped: the re-keyed PIN is read back, no writer behind its back.
        let stored = |number: &str| database.store().read(|tx| cards::find_by_number(tx, &CardNumber::parse(number).unwrap())).unwrap().unwrap();
        assert_eq!(stored(&card_a).pin.key_version.get(), 2, "the old card's PIN was re-keyed at its right PIN");
        assert_eq!(stored(&card_b).pin.key_version.get(), 2, "a new card's PIN is kept under the new key");
        assert_eq!(stored(&untouched.card_number).pin.key_version.get(), 1, "a PIN not typed since stays under the old key");
        let (usage, exit) = pin_key_usage(&database, KEYS_B_THEN_A);
        assert_eq!(exit, Some(0));
        let under = |version: i64| usage.iter().find(|(key, _, _)| *key == version).map(|(_, cards, configured)| (*cards, *configured));
        assert_eq!(under(2), Some((2, true)), "{usage:?}");
        assert!(under(1).is_some_and(|(cards, configured)| cards >= 1 && configured), "{usage:?}");

        // The old keys retired: what only they could check is refused, each with its code.
        let mut server = TestServer::start_with_keys(&database, KEYS_B_ONLY);
        server.credentials = Some(demo.clone());
        let old_family = Session { server: &server, access_token: old_family_token, refresh_token: String::new() };
        let refused = assert_problem(old_family.get(&format!("/v1/families/{}/balances", first.family_id)), 401, "TOKEN_KEY_RETIRED");
        assert!(refused["detail"].as_str().unwrap().contains("log in again"), "{refused}");
        assert_eq!(published_keys(&server).0.keys(), [issuer_key(ISSUER_KEY_B_HEX)]);
        let agent = Session::agent(&server, "agen.cileunyi");
        assert_problem(agent.post("/v1/cards/check-qr", &json!({ "qr": qr_a })), 422, "CARD_FORGED");
        let rekeyed = Session::from_card(&server, &card_a, &pin_a);
        assert_eq!(kid(&rekeyed.access_token).as_deref(), Some("2"), "the re-keyed PIN needs only the new key");
        let login = json!({"card_number": untouched.card_number, "pin": untouched.pin});
        assert_problem(server.post("/v1/auth/families/login", &login), 423, "PIN_KEY_RETIRED");
        drop(server);
        let (usage, exit) = pin_key_usage(&database, KEYS_B_ONLY);
        assert_eq!(exit, Some(1), "status fails while a card's PIN is under a retired key: {usage:?}");
        assert!(usage.iter().any(|(version, cards, configured)| *version == 1 && *cards >= 1 && !configured), "{usage:?}");

        // An operator gives the card a new PIN, under the new key.
        let mut server = TestServer::start_with_keys(&database, KEYS_B_ONLY);
        server.credentials = Some(demo.clone());
        let reset = json!({"reason": "PIN key retired; cardholder identified at the office", "new_pin": "135790"});
        let operator = Session::operator(&server, "operator.jabar");
        assert_eq!(operator.post(&format!("/v1/cards/{}/pin-reset", untouched.card_number), &reset).status(), 204);
        assert_eq!(Session::from_card(&server, &untouched.card_number, "135790").get(&format!("/v1/families/{}/balances", untouched.family_id)).status(), 200);
    }

    fn kks_keys_generate_prints_the_entry_to_put_first_in_its_list(database) {
        let generated = |kind: &str| {
            let output = kks_with_keys(&database, KEYS_B_THEN_A, &["keys", "generate", kind]);
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            (String::from_utf8(output.stdout).unwrap().trim_end().to_owned(), stderr)
        };
        let (pin, guidance) = generated("pin");
        let (version, secret) = pin.split_once(':').unwrap();
        assert_eq!((version, secret.len()), ("3", 64), "the version after the highest configured: {pin}");
        assert!(guidance.contains("put it first in KKS_PIN_KEYS"), "{guidance}");
        assert!(generated("jwt").0.starts_with("3:"));
        let (issuer, guidance) = generated("issuer");
        let key_id = IssuerSigningKey::from_hex(&issuer).unwrap().verifying_key().key_id_hex();
        assert!(guidance.contains(&format!("new key {key_id}: put it first in KKS_ISSUER_KEYS")), "{guidance}");
        let rotated = format!("{pin},{PIN_KEYS_B}");
        let output = kks_with_keys(&database, &[("KKS_PIN_KEYS", Some(&rotated))], &["keys", "status"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success() && stdout.contains("PIN keys (the first keeps new PINs): 3, 2"), "{stdout}");
    }

    fn a_key_list_that_cannot_be_read_is_refused_with_a_clear_message(database) {
        let cases: [(&KeyVariables, &str); 4] = [
            (&[("KKS_JWT_KEYS", Some("two:kks-test-jwt-key-b-from-after-the-rotation"))], "KKS_JWT_KEYS entry 1: a key version is a whole number"),
            (&[("KKS_PIN_KEYS", Some("2:short"))], "KKS_PIN_KEYS entry 1 must be at least 32 bytes"),
            (&[("KKS_JWT_KEYS", Some("1:kks-test-jwt-key-b-from-after-the-rotation"))], "KKS_JWT_KEYS: key id 1 is given twice (KKS_JWT_SECRET counts as the oldest key"),
            (&[("KKS_ISSUER_KEYS", Some("b0b1"))], "KKS_ISSUER_KEYS entry 1: issuer key must be 32 bytes"),
        ];
        for (keys, message) in cases {
            let output = kks_with_keys(&database, keys, &["keys", "generate", "jwt"]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success() && stderr.contains(message), "{keys:?}: {stderr}");
            assert!(!stderr.contains("kks-test-jwt-key-b"), "a secret is never printed: {stderr}");
            assert!(output.stdout.is_empty(), "no key is made from a configuration that cannot be read");
        }
    }
}
