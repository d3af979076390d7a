//! Several `kks serve` processes on one PostgreSQL behind HAProxy, as production runs
//! them: card traffic through the balancer keeps every invariant of the bank test, the
//! family login throttle counts a client (by the address HAProxy saw) across servers,
//! and when one server dies the balancer takes it out and the others carry on.
//! PostgreSQL only: several processes sharing one SQLite file is not a deployment.

mod postgres {
    use std::net::IpAddr;

    use serde_json::json;

    use crate::bank_invariant::{run_bank_traffic, start_funded};
    use crate::support::api::{another_card_number, assert_problem};
    use crate::support::haproxy::{load_balancer, server_states, wait_for_states};
    use crate::support::{TestDatabase, TestServer};

    /// HAProxy connects to the servers from loopback: only from there is
    /// `X-Forwarded-For` believed.
    const BEHIND_HAPROXY: &[&str] = &["--trusted-proxies", "127.0.0.1"];

    const FAMILY_LOGIN: &str = "/v1/auth/families/login";

    /// Failed logins a client address gets free (the throttle's rule for a client).
    const CLIENT_FREE_FAILURES: u64 = 10;

    #[test]
    fn card_traffic_through_a_load_balancer_to_three_servers_keeps_the_bank_invariant() {
        let database = TestDatabase::postgres();
        let first = start_funded(&database, BEHIND_HAPROXY);
        let others: Vec<TestServer> = (0..2).map(|_| TestServer::start_with(&database, BEHIND_HAPROXY)).collect();
        let front = load_balancer(&[&first, &others[0], &others[1]]);
        run_bank_traffic(&database, &front);
        let states = server_states(&front);
        assert!(
            states.iter().all(|state| state.sessions_total > 0),
            "every server carried part of the traffic: {states:?}"
        );
        println!(
            "load balancer: requests per server {:?}",
            states.iter().map(|state| (&state.name, state.sessions_total)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_client_guessing_cards_is_throttled_by_every_server_behind_the_balancer() {
        let database = TestDatabase::postgres();
        // The per-process limiter set out of the way: the throttle under test is the one in the database.
        let flags = [BEHIND_HAPROXY, &["--login-attempts-per-minute", "100000"]].concat();
        let first = TestServer::start_with(&database, &flags);
        let second = TestServer::start_with(&database, &flags);
        let front = load_balancer(&[&first, &second]);
        let family = first.demo().families[0].clone();
        let guesser = client_from("127.0.0.2");
        let login = |client: &reqwest::blocking::Client, body: &serde_json::Value| {
            client.post(front.url(FAMILY_LOGIN)).json(body).send().unwrap()
        };
        for serial in 0..=CLIENT_FREE_FAILURES {
            let guess =
                json!({"card_number": another_card_number(&family.card_number, 600_000_000 + serial), "pin": "123456"});
            assert_problem(login(&guesser, &guess), 401, "WRONG_CARD_OR_PIN");
        }
        let states = server_states(&front);
        assert!(states.iter().all(|state| state.sessions_total > 0), "the guesses went to both servers: {states:?}");
        let right = json!({"card_number": family.card_number, "pin": family.pin});
        assert_problem(login(&guesser, &right), 429, "TOO_MANY_REQUESTS");
        assert_problem(login(&guesser, &right), 429, "TOO_MANY_REQUESTS");
        let neighbour = client_from("127.0.0.3");
        assert_eq!(login(&neighbour, &right).status(), 200, "another client behind the same balancer is not slowed");
    }

    #[test]
    fn when_a_server_dies_the_balancer_takes_it_out_and_the_others_carry_on() {
        let database = TestDatabase::postgres();
        let first = TestServer::start_with(&database, BEHIND_HAPROXY);
        let second = TestServer::start_with(&database, BEHIND_HAPROXY);
        let front = load_balancer(&[&first, &second]);
        let family = first.demo().families[0].clone();
        let login = json!({"card_number": family.card_number, "pin": family.pin});
        drop(second); // SIGKILL
                      // Before HAProxy's checks notice, a request sent to the dead server is refused
                      // its connection and sent to the living one: no request fails meanwhile.
        for _ in 0..20 {
            let response = front.post(FAMILY_LOGIN, &login);
            assert_eq!(response.status(), 200, "{}", response.text().unwrap_or_default());
        }
        wait_for_states(&front, 1, "DOWN");
        assert_eq!(front.get("/readyz").status(), 200);
        assert_eq!(front.post(FAMILY_LOGIN, &login).status(), 200);
    }

    /// An HTTP client whose connections come from `address` (any 127.x is loopback), so
    /// that HAProxy sees, and forwards, a client of its own.
    fn client_from(address: &str) -> reqwest::blocking::Client {
        let address: IpAddr = address.parse().unwrap();
        reqwest::blocking::Client::builder().local_address(address).build().unwrap()
    }
}
