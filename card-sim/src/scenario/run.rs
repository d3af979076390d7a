//! Runs a scenario's steps in order against a server and stops at the first step whose
//! outcome is not the expected one.

use std::collections::HashMap;

use anyhow::{anyhow, Context as _};
use kks_wire::edc::reversal::{Original, ReversalResult};
use kks_wire::edc::transaction::EdcReceipt;
use kks_wire::edc::Stan;
use kks_wire::transmission::TransmittedAt;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::programme;
use super::{Action, CardSource, CardStep, Expectation, PinChoice, Scenario, Step};
use crate::api::{Answer, Server, Session, TransportError};
use crate::card::decode_qr_bytes;
use crate::credentials::{Credentials, FamilyCredentials};
use crate::stan::{today, StanCounter};
use crate::terminal::{reversal_outcome_name, transmitted_now, CardRead, CardTransaction, Outcome, Terminal};

/// A card request as it went out, so a retry can send exactly it again.
#[derive(Clone)]
struct Sent {
    agent: String,
    path: &'static str,
    body: Value,
    key: String,
}

/// What a card transaction was answered, for comparing a retry with it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answered {
    Approved { reference: String },
    Refused { code: String },
    Lost,
}

struct Runner<'a> {
    server: &'a Server,
    credentials: &'a Credentials,
    verbose: bool,
    terminals: HashMap<String, Terminal>,
    sessions: HashMap<String, Session>,
    /// The STAN of each card transaction step, given before the run starts, so a reversal
    /// can name an original that comes later.
    stans: Vec<Option<Stan>>,
    /// The transmission time of each card transaction step, fixed when it is first
    /// needed: when the step is sent, or earlier by a reversal that overtakes it.
    transmitted: Vec<Option<TransmittedAt>>,
    sent: Vec<Option<Sent>>,
    answered: Vec<Option<Answered>>,
    /// PINs set by a `reset_pin` step, by family number.
    new_pins: HashMap<usize, String>,
}

/// Runs the scenario; true when every step had its expected outcome.
pub fn run(scenario: &Scenario, server: &Server, credentials: &Credentials, verbose: bool) -> anyhow::Result<bool> {
    println!("scenario \"{}\": {} steps against {}", scenario.name, scenario.steps.len(), server.base_url());
    for line in scenario.description.lines().filter(|line| !line.trim().is_empty()) {
        println!("  {}", line.trim());
    }
    let mut runner = Runner {
        server,
        credentials,
        verbose,
        terminals: HashMap::new(),
        sessions: HashMap::new(),
        stans: assign_stans(scenario)?,
        transmitted: vec![None; scenario.steps.len()],
        sent: vec![None; scenario.steps.len()],
        answered: vec![None; scenario.steps.len()],
        new_pins: HashMap::new(),
    };
    for (index, step) in scenario.steps.iter().enumerate() {
        let number = index + 1;
        let result = runner.run_step(index, step).with_context(|| format!("step {number} \"{}\"", step.name))?;
        match result {
            Ok(summary) => println!("  ok   {number:>2}. {} — {}: {summary}", step.name, step.kind.name()),
            Err(failure) => {
                println!("  FAIL {number:>2}. {} — {}: {failure}", step.name, step.kind.name());
                eprintln!(
                    "scenario \"{}\" failed at step {number} \"{}\" ({}): {failure}",
                    scenario.name,
                    step.name,
                    step.kind.name()
                );
                return Ok(false);
            }
        }
    }
    println!("scenario \"{}\" passed: {} steps", scenario.name, scenario.steps.len());
    Ok(true)
}

/// A STAN for every card transaction step: a new one from its terminal's counter, or the
/// one of the step it reuses.
fn assign_stans(scenario: &Scenario) -> anyhow::Result<Vec<Option<Stan>>> {
    let mut counters: HashMap<&str, StanCounter> = HashMap::new();
    let mut stans: Vec<Option<Stan>> = Vec::with_capacity(scenario.steps.len());
    for step in &scenario.steps {
        let stan = match &step.action {
            Action::Card(CardStep { stan_of: Some(target), .. } | CardStep { key_of: Some(target), .. }) => {
                Some(stans.get(*target).cloned().flatten().ok_or_else(|| anyhow!("step {} has no STAN", target + 1))?)
            }
            Action::Card(card) => {
                Some(counters.entry(card.agent.as_str()).or_insert_with(StanCounter::random).next(today())?)
            }
            _ => None,
        };
        stans.push(stan);
    }
    Ok(stans)
}

/// A step's result: what happened when as expected, or how it differed.
type StepResult = Result<String, String>;

impl Runner<'_> {
    fn run_step(&mut self, index: usize, step: &Step) -> anyhow::Result<StepResult> {
        match &step.action {
            Action::Card(card) => self.card_step(index, card, &step.expect),
            Action::Retry { of } => self.retry(index, *of, &step.expect),
            Action::Reversal { agent, of } => {
                let original = self.original(*of)?;
                let stan = original.stan.clone();
                let terminal = self.terminal(agent)?;
                // Each reversal step is a message of its own, with its own key.
                let key = format!("{}-{}", terminal.reversal_key(&original), index + 1);
                let answer = terminal.reverse(&original, &key);
                Ok(check_answer(&step.expect, answer, |result: &ReversalResult| {
                    let outcome = reversal_outcome_name(result.outcome);
                    match step.expect.outcome {
                        Some(expected) if expected != result.outcome => {
                            Err(format!("expected outcome {}, got {outcome}", reversal_outcome_name(expected)))
                        }
                        _ => Ok(format!("STAN {} {outcome}", stan.as_str())),
                    }
                }))
            }
            Action::CheckQr { agent, family, card } => {
                let qr = self.qr_text(*family, *card)?;
                let answer = self.terminal(agent)?.session().post::<Value>("/v1/cards/check-qr", &json!({ "qr": qr }));
                Ok(check_answer(&step.expect, answer, |card| {
                    Ok(format!("card current ({})", card.get("status").and_then(Value::as_str).unwrap_or("?")))
                }))
            }
            Action::ReportLost { operator, family, reason } => {
                let card_number = self.family(*family)?.card_number.clone();
                let session = match operator {
                    Some(operator) => self.operator(operator)?,
                    None => self.family_session(*family)?,
                };
                let answer = session
                    .post::<Value>(&format!("/v1/cards/{card_number}/report-lost"), &json!({ "reason": reason }));
                Ok(check_answer(&step.expect, answer, |_| Ok("card blocked".to_owned())))
            }
            Action::ResetPin { operator, family, reason, new_pin } => {
                let card_number = self.family(*family)?.card_number.clone();
                let mut body = json!({ "reason": reason });
                if let (Some(pin), Some(fields)) = (new_pin, body.as_object_mut()) {
                    fields.insert("new_pin".to_owned(), json!(pin));
                }
                let answer =
                    self.operator(operator)?.post::<Value>(&format!("/v1/cards/{card_number}/pin-reset"), &body);
                let result = check_answer(&step.expect, answer, |_| Ok("PIN unlocked".to_owned()));
                if let (Ok(_), Some(pin)) = (&result, new_pin) {
                    self.new_pins.insert(*family, pin.clone());
                }
                Ok(result)
            }
            Action::Disburse { operator, supervisor, programme, year, period } => {
                let body = json!({ "programme": programme, "year": year, "period": period });
                self.operator(operator)?;
                self.operator(supervisor)?;
                let answer = programme::disburse(self.logged_in(operator)?, self.logged_in(supervisor)?, &body);
                Ok(check_answer(&step.expect, answer, |view| Ok(programme::describe_batch(view))))
            }
            Action::Verify { operator, family, cycle, failure } => {
                let family_id = self.family(*family)?.family_id;
                let answer = programme::verify(self.operator(operator)?, family_id, cycle, failure.as_ref());
                let recorded = if failure.is_some() { "failed" } else { "complied" };
                Ok(check_answer(&step.expect, answer, |_| Ok(format!("family {family} {recorded} in cycle {cycle}"))))
            }
            Action::CloseCycle { supervisor, cycle } => {
                let answer = programme::close_cycle(self.operator(supervisor)?, cycle);
                Ok(check_answer(&step.expect, answer, |summary| Ok(programme::describe_closing(summary))))
            }
        }
    }

    fn card_step(&mut self, index: usize, card: &CardStep, expect: &Expectation) -> anyhow::Result<StepResult> {
        let original = self.original(index)?;
        let stan = original.stan.clone();
        let family = self.family(card.family)?.clone();
        let pin = match &card.pin {
            PinChoice::Correct => self.new_pins.get(&card.family).cloned().unwrap_or_else(|| family.pin.clone()),
            PinChoice::Wrong => family.wrong_pin(),
            PinChoice::Typed(pin) => pin.clone(),
        };
        let card_read = match card.card {
            CardSource::Keyed => CardRead::Keyed(family.card_number.clone()),
            source => CardRead::Qr(self.qr_text(card.family, source)?),
        };
        let transaction = CardTransaction { card: card_read, pin, operation: card.operation.clone() };
        let earlier_key = card.key_of.and_then(|target| self.sent.get(target).cloned().flatten()).map(|sent| sent.key);
        let terminal = self.terminal(&card.agent)?;
        let key = match (card.stan_of, earlier_key) {
            (_, Some(key)) => key,
            (Some(_), None) => format!("{}-dup{}", terminal.idempotency_key(&original), index + 1),
            (None, None) => terminal.idempotency_key(&original),
        };
        let body = transaction.body(&original);
        let outcome = terminal.send_body(card.operation.path(), &body, &key, false);
        let detail = format!("{} STAN {}", terminal.terminal_id(), stan.as_str());
        let sent = Sent { agent: card.agent.clone(), path: card.operation.path(), body, key };
        self.record(index, sent, &outcome);
        Ok(self.check_outcome(expect, &outcome).map(|summary| format!("{detail}, {summary}")))
    }

    fn retry(&mut self, index: usize, of: usize, expect: &Expectation) -> anyhow::Result<StepResult> {
        let sent = self.sent.get(of).cloned().flatten().ok_or_else(|| anyhow!("step {} was not sent", of + 1))?;
        let outcome = self.terminal(&sent.agent)?.send_body(sent.path, &sent.body, &sent.key, false);
        let first = self.answered.get(of).cloned().flatten();
        self.record(index, sent, &outcome);
        let again = answered(&outcome);
        if first.as_ref() != Some(&again) {
            return Ok(Err(format!("a retry must get the first answer: first {first:?}, now {again:?}")));
        }
        Ok(self.check_outcome(expect, &outcome).map(|summary| format!("same answer as step {}: {summary}", of + 1)))
    }

    fn record(&mut self, index: usize, sent: Sent, outcome: &Outcome) {
        if let Some(slot) = self.sent.get_mut(index) {
            *slot = Some(sent);
        }
        if let Some(slot) = self.answered.get_mut(index) {
            *slot = Some(answered(outcome));
        }
    }

    fn check_outcome(&self, expect: &Expectation, outcome: &Outcome) -> StepResult {
        match (outcome, &expect.refused_with) {
            (Outcome::Lost(error), _) => Err(format!("no answer: {error}")),
            (Outcome::Approved(receipt), None) => {
                check_pockets(expect, receipt)?;
                if self.verbose {
                    for line in &receipt.lines {
                        println!("         | {line}");
                    }
                }
                Ok(format!("approved, ref {}", receipt.reference))
            }
            (Outcome::Approved(receipt), Some(code)) => {
                Err(format!("expected refused {code}, got approved (ref {})", receipt.reference))
            }
            (Outcome::Refused(problem), None) => {
                Err(format!("expected approved, got refused {}: {} [{}]", problem.code, problem.title, problem.detail))
            }
            (Outcome::Refused(problem), Some(code)) if problem.code == *code => {
                Ok(format!("refused {} ({})", problem.code, problem.title))
            }
            (Outcome::Refused(problem), Some(code)) => Err(format!(
                "expected refused {code}, got refused {}: {} [{}]",
                problem.code, problem.title, problem.detail
            )),
        }
    }

    /// A card transaction step as a reversal names it: its STAN, and its transmission
    /// time, fixed now if the step has not been sent yet.
    fn original(&mut self, index: usize) -> anyhow::Result<Original> {
        let stan = self.stans.get(index).cloned().flatten().ok_or_else(|| anyhow!("step {} has no STAN", index + 1))?;
        let slot = self.transmitted.get_mut(index).ok_or_else(|| anyhow!("step {} does not exist", index + 1))?;
        Ok(Original { stan, transmitted_at: *slot.get_or_insert_with(transmitted_now) })
    }

    fn family(&self, number: usize) -> anyhow::Result<&FamilyCredentials> {
        self.credentials.family(number)
    }

    fn terminal(&mut self, agent: &str) -> anyhow::Result<&Terminal> {
        if !self.terminals.contains_key(agent) {
            let credentials = self.credentials.agent(agent)?;
            let session = Session::open(self.server, credentials.login())?;
            self.terminals.insert(agent.to_owned(), Terminal::new(session, &credentials.terminal_id));
        }
        self.terminals.get(agent).ok_or_else(|| anyhow!("no terminal for {agent}"))
    }

    fn operator(&mut self, username: &str) -> anyhow::Result<&Session> {
        let key = format!("operator:{username}");
        if !self.sessions.contains_key(&key) {
            let session = Session::open(self.server, self.credentials.operator(username)?.login())?;
            self.sessions.insert(key.clone(), session);
        }
        self.sessions.get(&key).ok_or_else(|| anyhow!("no session for {username}"))
    }

    /// An operator who has logged in already (see [`Runner::operator`]).
    fn logged_in(&self, username: &str) -> anyhow::Result<&Session> {
        self.sessions.get(&format!("operator:{username}")).ok_or_else(|| anyhow!("{username} has not logged in"))
    }

    fn family_session(&mut self, number: usize) -> anyhow::Result<&Session> {
        let key = format!("family:{number}");
        if !self.sessions.contains_key(&key) {
            let mut login = self.family(number)?.clone();
            if let Some(pin) = self.new_pins.get(&number) {
                login.pin = pin.clone();
            }
            self.sessions.insert(key.clone(), Session::open(self.server, login.login())?);
        }
        self.sessions.get(&key).ok_or_else(|| anyhow!("no session for family {number}"))
    }

    /// The card's QR text: from the card's record (`qr`), or decoded from the pixels of
    /// the card front the server draws (`image`). An operator of the card's region asks.
    fn qr_text(&mut self, number: usize, source: CardSource) -> anyhow::Result<String> {
        let family = self.family(number)?.clone();
        let operator = self
            .credentials
            .operator_for(&family.village)
            .ok_or_else(|| anyhow!("no operator in the credentials may see the card of family {number}"))?
            .username
            .clone();
        let session = self.operator(&operator)?;
        let card_number = &family.card_number;
        match source {
            CardSource::Image => {
                let png = session
                    .get_bytes(&format!("/v1/cards/{card_number}/image.png"))?
                    .into_result()
                    .context("fetching the card image")?;
                decode_qr_bytes(&png)
            }
            CardSource::Qr | CardSource::Keyed => {
                let card: Value =
                    session.get(&format!("/v1/cards/{card_number}"))?.into_result().context("fetching the card")?;
                card.get("qr").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| anyhow!("the card has no qr"))
            }
        }
    }
}

fn answered(outcome: &Outcome) -> Answered {
    match outcome {
        Outcome::Approved(receipt) => Answered::Approved { reference: receipt.reference.clone() },
        Outcome::Refused(problem) => Answered::Refused { code: problem.code.clone() },
        Outcome::Lost(_) => Answered::Lost,
    }
}

/// The expected pockets against the receipt.
fn check_pockets(expect: &Expectation, receipt: &EdcReceipt) -> Result<(), String> {
    let find = |kind: &str| receipt.balances.iter().find(|pocket| pocket.kind.as_ref() == kind);
    let checks = expect.balances.iter().map(|(kind, amount)| (kind, amount, "balance"));
    let checks = checks.chain(expect.available.iter().map(|(kind, amount)| (kind, amount, "available")));
    for (kind, expected, what) in checks {
        let pocket = find(kind).ok_or_else(|| format!("the receipt has no pocket {kind}"))?;
        let actual: Decimal = if what == "balance" { pocket.balance } else { pocket.available };
        if actual != *expected {
            return Err(format!("{kind} {what}: expected {expected}, got {actual}"));
        }
    }
    Ok(())
}

/// An answer to a non-card step against the expectation.
fn check_answer<T>(
    expect: &Expectation,
    answer: Result<Answer<T>, TransportError>,
    approved: impl FnOnce(&T) -> StepResult,
) -> StepResult {
    match (answer, &expect.refused_with) {
        (Err(error), _) => Err(format!("no answer: {error}")),
        (Ok(Answer::Ok(value)), None) => approved(&value),
        (Ok(Answer::Ok(_)), Some(code)) => Err(format!("expected refused {code}, got approved")),
        (Ok(Answer::Refused(problem)), None) => {
            Err(format!("expected approved, got refused {}: {} [{}]", problem.code, problem.title, problem.detail))
        }
        (Ok(Answer::Refused(problem)), Some(code)) if problem.code == *code => {
            Ok(format!("refused {} ({})", problem.code, problem.title))
        }
        (Ok(Answer::Refused(problem)), Some(code)) => Err(format!(
            "expected refused {code}, got refused {}: {} [{}]",
            problem.code, problem.title, problem.detail
        )),
    }
}
