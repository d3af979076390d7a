//! The two stories that broke the programme's central promise (a suspended family draws
//! nothing of its PKH money until it complies again), told over HTTP on both backends,
//! with the server's clock moved across the stage's opening:
//! A. a family suspended while its wallet is empty, then paid a stage early;
//! B. a family paid a stage early, then suspended before the stage opens;
//! and a termination after an early payment, which takes back all of it.

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};

use crate::support::api::{assert_problem, keyed, wib, with, FamilyCredentials, Session, Terminal};
use crate::support::ledger::assert_ledger_clean;
use crate::support::{on_both_backends, TestServer};

const TO_SAVINGS: &str = "/v1/edc/wallet-to-savings";

/// A village of its own, so that batches and cycle closes reach these families only.
const VILLAGE: &str = "32.04.12.2002";

struct Office<'a> {
    server: &'a TestServer,
    operator: Session<'a>,
    supervisor: Session<'a>,
}

impl<'a> Office<'a> {
    fn open(server: &'a TestServer) -> Self {
        let added =
            Session::operator(server, "admin").post("/v1/regions", &json!({"code": VILLAGE, "name": "Cinunuk"}));
        assert!(added.status().is_success(), "{}", added.text().unwrap_or_default());
        Self {
            server,
            operator: Session::operator(server, "operator.jabar"),
            supervisor: Session::operator(server, "supervisor.jabar"),
        }
    }

    /// A regular family with a school child, and its card.
    fn register(&self, nik: &str) -> (FamilyCredentials, i64) {
        let family: Value = self
            .operator
            .post(
                "/v1/families",
                &json!({"nik": nik, "recipient_name": "Ibu Cerita", "address": "Kp. Cerita",
                "village": VILLAGE, "category": "regular",
                "members": [{"name": "Anak", "component": "school_child", "school_level": "sd"}]}),
            )
            .json()
            .unwrap();
        let id = family["id"].as_i64().unwrap();
        let issued: Value =
            self.operator.post(&format!("/v1/families/{id}/cards"), &json!({"bank": "bri"})).json().unwrap();
        let credentials = FamilyCredentials {
            family_id: id,
            village: VILLAGE.to_owned(),
            card_number: issued["card"]["card_number"].as_str().unwrap().to_owned(),
            pin: issued["pin"].as_str().unwrap().to_owned(),
        };
        (credentials, family["members"][0]["id"].as_i64().unwrap())
    }

    fn fails(&self, family: &(FamilyCredentials, i64), cycle: &str) {
        let body = json!({"family_id": family.0.family_id, "cycle": cycle, "complied": false, "member_id": family.1,
            "obligation": "school_attendance"});
        assert_eq!(self.operator.post("/v1/verifications", &body).status(), 204);
    }

    fn close(&self, cycle: &str) -> Value {
        let response = self.supervisor.post(&format!("/v1/cycles/{cycle}/close?region={VILLAGE}"), &json!({}));
        assert_eq!(response.status(), 200);
        response.json().unwrap()
    }

    /// Pays a PKH stage of 2017 to the village, held until `release_at`.
    fn pay_early(&self, stage: i32, release_at: NaiveDateTime) {
        let body =
            json!({"programme": "pkh", "year": 2017, "period": stage, "region": VILLAGE, "release_at": release_at});
        let prepared = self.operator.post("/v1/disbursements", &body);
        assert_eq!(prepared.status(), 201, "{}", prepared.text().unwrap_or_default());
        let id = prepared.json::<Value>().unwrap()["batch"]["id"].as_i64().unwrap();
        assert_eq!(self.supervisor.post(&format!("/v1/disbursements/{id}/approve"), &json!({})).status(), 200);
        assert_eq!(self.operator.post(&format!("/v1/disbursements/{id}/execute"), &json!({})).status(), 202);
        crate::disbursements::wait_completed(&self.operator, id);
    }

    fn pocket(&self, family: &FamilyCredentials, kind: &str) -> Value {
        let pockets: Value = self.operator.get(&format!("/v1/families/{}/balances", family.family_id)).json().unwrap();
        pockets.as_array().unwrap().iter().find(|pocket| pocket["kind"] == kind).cloned().unwrap()
    }

    /// (balance, held, blocked, available) of the family's PKH wallet.
    fn pkh(&self, family: &FamilyCredentials) -> [String; 4] {
        let pocket = self.pocket(family, "wallet_pkh");
        ["balance", "held", "blocked", "available"].map(|figure| pocket[figure].as_str().unwrap().to_owned())
    }

    fn status(&self, family: &FamilyCredentials) -> String {
        let profile: Value = self.operator.get(&format!("/v1/families/{}", family.family_id)).json().unwrap();
        profile["status"].as_str().unwrap().to_owned()
    }

    /// Moves PKH money to savings, sent at the server's clock.
    fn draw(&self, terminal: &Terminal<'_>, family: &FamilyCredentials, amount: &str) -> reqwest::blocking::Response {
        terminal.send(
            TO_SAVINGS,
            with(keyed(family), json!({"amount": amount, "transmitted_at": wib(self.server.clock())})),
        )
    }
}

fn figures(balance: &str, held: &str, blocked: &str, available: &str) -> [String; 4] {
    [balance, held, blocked, available].map(str::to_owned)
}

on_both_backends! {
    fn a_family_suspended_with_an_empty_wallet_cannot_draw_a_stage_paid_early_once_it_opens(database) {
        let server = TestServer::start_with(&database, &["--test-clock"]);
        let office = Office::open(&server);
        let agent = Terminal::of(&server, "agen.cileunyi");
        let ani = office.register("3204126208920021");
        office.fails(&ani, "2017-1");
        assert_eq!(office.close("2017-1")["suspended"], 1);
        assert_eq!(office.pkh(&ani.0), figures("0.00", "0.00", "0.00", "0.00"), "suspended with nothing in the wallet");

        let opens = server.clock() + Duration::hours(6);
        office.pay_early(2, opens);
        assert_eq!(office.pkh(&ani.0), figures("500000.00", "500000.00", "0.00", "0.00"), "stage 2 held until it opens");
        server.set_clock(opens + Duration::seconds(1));
        let blocked = office.pocket(&ani.0, "wallet_pkh");
        assert_eq!(office.pkh(&ani.0), figures("500000.00", "0.00", "500000.00", "0.00"), "open, but blocked: {blocked}");
        assert_eq!(blocked["block"]["reason"], "commitment_suspension");

        let problem = assert_problem(office.draw(&agent, &ani.0, "100000"), 422, "WALLET_BLOCKED");
        assert!(problem["detail"].as_str().unwrap().contains("2017-1"), "the refusal names the cycle: {problem}");
        assert_eq!(office.pkh(&ani.0), figures("500000.00", "0.00", "500000.00", "0.00"), "nothing moved");
        assert_eq!(office.pocket(&ani.0, "savings")["balance"], "0.00");
        assert_eq!(office.status(&ani.0), "suspended");
        assert_ledger_clean(&database.store());
    }

    fn a_stage_paid_early_stays_blocked_when_the_family_is_suspended_before_it_opens_and_goes_back_on_termination(database) {
        let server = TestServer::start_with(&database, &["--test-clock"]);
        let office = Office::open(&server);
        let agent = Terminal::of(&server, "agen.cileunyi");
        let budi = office.register("3204126208920039");

        let opens = server.clock() + Duration::days(2);
        office.pay_early(2, opens);
        assert_eq!(office.pkh(&budi.0), figures("500000.00", "500000.00", "0.00", "0.00"), "held until stage 2 opens");
        office.fails(&budi, "2017-2");
        assert_eq!(office.close("2017-2")["suspended"], 1);
        server.set_clock(opens + Duration::seconds(1));
        assert_eq!(office.pkh(&budi.0), figures("500000.00", "0.00", "500000.00", "0.00"), "the opening frees nothing");
        assert_problem(office.draw(&agent, &budi.0, "500000"), 422, "WALLET_BLOCKED");
        assert_eq!(office.pkh(&budi.0), figures("500000.00", "0.00", "500000.00", "0.00"), "nothing moved");

        // Stage 3 paid early too; two more failed cycles end the membership: both stages,
        // the one still held included, go back to the treasury.
        office.pay_early(3, server.clock() + Duration::days(30));
        assert_eq!(office.pkh(&budi.0), figures("1000000.00", "500000.00", "500000.00", "0.00"));
        office.fails(&budi, "2017-3");
        assert_eq!(office.close("2017-3")["suspended"], 1);
        office.fails(&budi, "2017-4");
        assert_eq!(office.close("2017-4")["terminated"], 1);
        assert_eq!(office.status(&budi.0), "terminated");
        assert_eq!(office.pkh(&budi.0), figures("0.00", "0.00", "0.00", "0.00"), "all of it went back");
        office.operator.figures_caught_up();
        let returned: Value = office.operator.get(&format!("/v1/monitoring/families/{}", budi.0.family_id)).json().unwrap();
        let pkh = returned["pockets"].as_array().unwrap().iter().find(|pocket| pocket["pocket"] == "wallet_pkh").unwrap();
        assert_eq!(pkh["returned_to_treasury"]["amount"], "1000000.00", "{pkh}");
        assert_problem(office.draw(&agent, &budi.0, "1000"), 409, "ACCOUNT_CLOSED");
        assert_ledger_clean(&database.store());
    }
}
