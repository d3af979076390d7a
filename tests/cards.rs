//! KKS cards over HTTP: issue with four pockets, the signed QR read back from the
//! rendered pixels, every refusal of a bad card, loss and replacement.

use chrono::NaiveDate;
use kks_api::domain::card::CardNumber;
use kks_api::domain::card_qr::{CardQrPayload, IssuerSigningKey};
use kks_api::domain::ledger::OwnerKind;
use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session};
use crate::support::ledger::{fund, rupiah};
use crate::support::server::TEST_ISSUER_KEY_HEX;
use crate::support::{on_both_backends, TestServer};

/// The text in the QR of a PNG, decoded from its pixels.
fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the card");
    grids[0].decode().unwrap().1
}

fn check(session: &Session, qr: &str) -> reqwest::blocking::Response {
    session.post("/v1/cards/check-qr", &json!({ "qr": qr }))
}

fn family_accounts(database: &crate::support::TestDatabase, family_id: i64) -> Vec<(String, i64)> {
    use kks_api::domain::ledger::AccountKind;
    let store = database.store();
    [
        AccountKind::Savings,
        AccountKind::WalletPkh,
        AccountKind::WalletBpnt,
        AccountKind::WalletLpg,
        AccountKind::AgentSettlement,
    ]
    .into_iter()
    .filter_map(|kind| {
        store
            .read(|tx| {
                kks_api::ledger::accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &family_id.to_string(), kind)
            })
            .unwrap()
            .map(|account| (kind.to_string(), account.balance_minor))
    })
    .collect()
}

on_both_backends! {
    fn issuing_a_card_opens_exactly_four_empty_pockets(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let family: Value = operator
            .post("/v1/families", &json!({"nik": "3204126208920005", "recipient_name": "Yayah", "address": "Kp. Sukamaju",
                "village": "32.04.12.2001", "category": "regular", "members": [{"name": "Ujang", "component": "child_under_six"}]}))
            .json()
            .unwrap();
        let family_id = family["id"].as_i64().unwrap();
        let issued = operator.post(&format!("/v1/families/{family_id}/cards"), &json!({"bank": "mandiri"}));
        assert_eq!(issued.status(), 201);
        let issued: Value = issued.json().unwrap();
        let number = issued["card"]["card_number"].as_str().unwrap();
        assert!(CardNumber::parse(number).is_ok(), "a valid number: {number}");
        assert!(number.starts_with(kks_api::domain::card::Bank::Mandiri.iin()));
        assert_eq!(issued["pin"].as_str().unwrap().len(), 6);
        assert_eq!(
            family_accounts(&database, family_id),
            [("savings".to_owned(), 0), ("wallet_pkh".to_owned(), 0), ("wallet_bpnt".to_owned(), 0), ("wallet_lpg".to_owned(), 0)]
        );
        assert_problem(operator.post(&format!("/v1/families/{family_id}/cards"), &json!({"bank": "bri"})), 409, "CARD_EXISTS");
        let login = server.post("/v1/auth/families/login", &json!({"card_number": number, "pin": issued["pin"]}));
        assert_eq!(login.status(), 200, "the new card and PIN log in");
    }

    fn the_qr_read_back_from_the_card_image_verifies(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let holder = Session::family(&server, &family);
        let png = holder.get(&format!("/v1/cards/{}/image.png", family.card_number));
        assert_eq!(png.headers()["content-type"], "image/png");
        let qr = decode_qr(&png.bytes().unwrap());
        let agent = Session::agent(&server, "agen.cileunyi");
        let checked: Value = check(&agent, &qr).json().unwrap();
        assert_eq!(checked["card_number"], family.card_number.as_str());
        assert_eq!(checked["status"], "active");
        let card: Value = holder.get(&format!("/v1/cards/{}", family.card_number)).json().unwrap();
        assert_eq!(card["qr"], qr.as_str(), "the image carries the card's QR");
        assert!(!qr.contains(&family.pin) || qr.len() > 100, "no PIN in the code");
        let key: Value = server.get("/.well-known/kks-card-issuer").json().unwrap();
        let verifying = IssuerSigningKey::from_hex(TEST_ISSUER_KEY_HEX).unwrap().verifying_key();
        assert_eq!(key["public_key"], verifying.to_base64());
        assert!(verifying.verify(&qr).is_ok(), "a terminal can check the card offline with the published key");
    }

    fn forged_altered_outdated_expired_and_lost_cards_are_refused_each_with_its_code(database) {
        let server = TestServer::start(&database);
        let demo = server.demo().clone();
        let operator = Session::operator(&server, "operator.jabar");
        let agent = Session::agent(&server, "agen.cileunyi");
        let card_qr = |number: &str| operator.get(&format!("/v1/cards/{number}")).json::<Value>().unwrap()["qr"].as_str().unwrap().to_owned();
        let genuine = card_qr(&demo.families[0].card_number);
        let number = CardNumber::parse(&demo.families[0].card_number).unwrap();

        let forger = IssuerSigningKey::from_seed(&[7; 32]);
        let payload = CardQrPayload { card_number: number.clone(), sequence: 1, bank: number.bank(), expires_on: NaiveDate::from_ymd_opt(2099, 1, 1).unwrap() };
        let forged = forger.sign(&payload);
        let issuer = IssuerSigningKey::from_hex(TEST_ISSUER_KEY_HEX).unwrap();
        let expired = issuer.sign(&CardQrPayload { expires_on: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(), ..payload.clone() });
        let (head, signature) = genuine.rsplit_once('.').unwrap();
        let mut altered_head: Vec<char> = head.chars().collect();
        // A character inside the card number (the prefix "KKS1." is 5 characters, the
        // version byte the next one or two): same issuer, changed content.
        let position = 12;
        altered_head[position] = if altered_head[position] == 'A' { 'B' } else { 'A' };
        let altered = format!("{}.{signature}", altered_head.into_iter().collect::<String>());

        assert_eq!(check(&agent, &genuine).status(), 200);
        assert_problem(check(&agent, &forged), 422, "CARD_FORGED");
        assert_problem(check(&agent, &altered), 422, "CARD_ALTERED");
        assert_problem(check(&agent, &expired), 422, "CARD_EXPIRED");
        assert_problem(check(&agent, "hello"), 400, "CARD_QR_MALFORMED");
        assert_problem(check(&agent, &genuine.replacen("KKS1.", "KKS9.", 1)), 400, "CARD_QR_UNSUPPORTED_VERSION");

        // Lost: reported by the family itself, refused at once.
        let second = &demo.families[1];
        let second_qr = card_qr(&second.card_number);
        let holder = Session::family(&server, second);
        assert_eq!(holder.post(&format!("/v1/cards/{}/report-lost", second.card_number), &json!({"reason": "dompet hilang di pasar"})).status(), 200);
        assert_problem(check(&agent, &second_qr), 422, "CARD_LOST");
        assert_problem(server.post("/v1/auth/families/login", &json!({"card_number": second.card_number, "pin": second.pin})), 422, "CARD_LOST");

        // Outdated: the card was replaced, its QR no longer works.
        assert_eq!(operator.post(&format!("/v1/cards/{}/replace", second.card_number), &json!({"reason": "lost card"})).status(), 201);
        assert_problem(check(&agent, &second_qr), 422, "CARD_REPLACED");
        let family_token = Session::family(&server, &demo.families[0]);
        assert_problem(check(&family_token, &genuine), 403, "FORBIDDEN");
    }

    fn a_replacement_keeps_balances_and_history_and_retires_the_old_card(database) {
        let server = TestServer::start_after(&database, &[], |store, demo| {
            let savings = store
                .read(|tx| kks_api::ledger::accounts::find_by_owner_and_kind(tx, OwnerKind::Family, &demo.families[0].family_id.to_string(), kks_api::domain::ledger::AccountKind::Savings))
                .unwrap()
                .unwrap();
            fund(store, savings.id, rupiah(250_000));
        });
        let family = server.demo().families[0].clone();
        let operator = Session::operator(&server, "operator.jabar");
        let replaced: Value = operator.post(&format!("/v1/cards/{}/replace", family.card_number), &json!({"reason": "chip damaged"})).json().unwrap();
        let new_number = replaced["card"]["card_number"].as_str().unwrap().to_owned();
        assert_ne!(new_number, family.card_number);
        assert_eq!(replaced["card"]["sequence"], 2);
        assert_problem(server.post("/v1/auth/families/login", &json!({"card_number": family.card_number, "pin": family.pin})), 422, "CARD_REPLACED");
        let holder = Session::from_card(&server, &new_number, replaced["pin"].as_str().unwrap());
        let pockets: Value = holder.get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
        assert_eq!(pockets[0]["balance"], "250000.00", "the balance stayed with the family");
        let history: Value = operator.get(&format!("/v1/cards/{}/history", family.card_number)).json().unwrap();
        let actions: Vec<&str> = history.as_array().unwrap().iter().map(|event| event["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["card.issued", "card.replaced"]);
        assert_eq!(history[1]["reason"], "chip damaged");
        let profile: Value = holder.get(&format!("/v1/families/{}", family.family_id)).json().unwrap();
        assert_eq!(profile["cards"].as_array().unwrap().len(), 2, "both cards stay in the family's history");
        assert_problem(operator.post(&format!("/v1/cards/{}/replace", family.card_number), &json!({"reason": "again"})), 422, "CARD_REPLACED");
        let trail: Value = Session::operator(&server, "admin")
            .get(&format!("/v1/audit-events?object_kind=card&object_id={}", family.card_number))
            .json()
            .unwrap();
        assert_eq!(trail, history, "the national audit trail holds the same events");
        assert_problem(operator.get("/v1/audit-events"), 403, "FORBIDDEN");
    }

    fn another_regions_operator_cannot_see_or_change_a_card(database) {
        let server = TestServer::start(&database);
        let family = server.demo().families[0].clone();
        let jateng = Session::operator(&server, "operator.jateng");
        for path in [format!("/v1/cards/{}", family.card_number), format!("/v1/cards/{}/image.png", family.card_number)] {
            assert_problem(jateng.get(&path), 404, "NOT_FOUND");
        }
        assert_problem(jateng.post(&format!("/v1/cards/{}/report-lost", family.card_number), &json!({"reason": "x"})), 404, "NOT_FOUND");
        assert_eq!(Session::family(&server, &family).get("/v1/me").status(), 200, "the card still works");
    }
}
