//! Reading a scenario file: TOML into typed steps, every field checked against the
//! step's kind before anything is sent.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, bail, Context as _};
use kks_wire::edc::reversal::ReversalOutcome;
use kks_wire::edc::transaction::BasketLine;
use kks_wire::edc::PurchaseProgramme;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Action, CardSource, CardStep, Expectation, PinChoice, Scenario, Step, StepKind};
use crate::terminal::Operation;

/// The most steps a scenario may have.
const STEPS_MAX: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "step", default)]
    steps: Vec<RawStep>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expected {
    Approved,
    Refused,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: String,
    #[serde(rename = "do")]
    kind: StepKind,
    agent: Option<String>,
    operator: Option<String>,
    family: Option<usize>,
    card: Option<CardSource>,
    pin: Option<String>,
    amount: Option<Decimal>,
    /// `bpnt` or `lpg` for a purchase; `pkh`, `bpnt` or `lpg` for a disbursement.
    programme: Option<String>,
    basket: Option<Vec<BasketLine>>,
    of: Option<String>,
    stan_of: Option<String>,
    key_of: Option<String>,
    reason: Option<String>,
    new_pin: Option<String>,
    supervisor: Option<String>,
    year: Option<i32>,
    period: Option<i32>,
    cycle: Option<String>,
    complied: Option<bool>,
    member: Option<usize>,
    obligation: Option<String>,
    expect: Option<Expected>,
    code: Option<String>,
    outcome: Option<ReversalOutcome>,
    balances: Option<BTreeMap<String, Decimal>>,
    available: Option<BTreeMap<String, Decimal>>,
}

pub fn parse(text: &str) -> anyhow::Result<Scenario> {
    let file: ScenarioFile = toml::from_str(text).map_err(|error| anyhow!("{error}"))?;
    if file.steps.is_empty() {
        bail!("a scenario needs at least one [[step]]");
    }
    if file.steps.len() > STEPS_MAX {
        bail!("a scenario has at most {STEPS_MAX} steps");
    }
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (index, step) in file.steps.iter().enumerate() {
        if index_of.insert(step.name.as_str(), index).is_some() {
            bail!("two steps are named \"{}\": step names must be unique", step.name);
        }
    }
    let steps = file
        .steps
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            build_step(raw, index, &file.steps, &index_of)
                .with_context(|| format!("step {} \"{}\" ({})", index + 1, raw.name, raw.kind.name()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Scenario { name: file.name, description: file.description, steps })
}

/// The fields a kind uses; any other field given is an error.
fn allowed_fields(kind: StepKind) -> &'static [&'static str] {
    match kind {
        StepKind::BalanceInquiry => &["agent", "family", "card", "pin", "stan_of", "key_of", "balances", "available"],
        StepKind::CashWithdrawal | StepKind::WalletToSavings => {
            &["agent", "family", "card", "pin", "amount", "stan_of", "key_of", "balances", "available"]
        }
        StepKind::Purchase => {
            &["agent", "family", "card", "pin", "programme", "basket", "stan_of", "key_of", "balances", "available"]
        }
        StepKind::Reversal => &["agent", "of", "outcome"],
        StepKind::Retry => &["of", "balances", "available"],
        StepKind::CheckQr => &["agent", "family", "card"],
        StepKind::ReportLost => &["operator", "family", "reason"],
        StepKind::ResetPin => &["operator", "family", "reason", "new_pin"],
        StepKind::Disburse => &["operator", "supervisor", "programme", "year", "period"],
        StepKind::Verify => &["operator", "family", "cycle", "complied", "member", "obligation"],
        StepKind::CloseCycle => &["supervisor", "cycle"],
    }
}

fn given_fields(raw: &RawStep) -> Vec<&'static str> {
    let fields: [(&'static str, bool); 24] = [
        ("agent", raw.agent.is_some()),
        ("operator", raw.operator.is_some()),
        ("family", raw.family.is_some()),
        ("card", raw.card.is_some()),
        ("pin", raw.pin.is_some()),
        ("amount", raw.amount.is_some()),
        ("programme", raw.programme.is_some()),
        ("basket", raw.basket.is_some()),
        ("of", raw.of.is_some()),
        ("stan_of", raw.stan_of.is_some()),
        ("key_of", raw.key_of.is_some()),
        ("reason", raw.reason.is_some()),
        ("new_pin", raw.new_pin.is_some()),
        ("supervisor", raw.supervisor.is_some()),
        ("year", raw.year.is_some()),
        ("period", raw.period.is_some()),
        ("cycle", raw.cycle.is_some()),
        ("complied", raw.complied.is_some()),
        ("member", raw.member.is_some()),
        ("obligation", raw.obligation.is_some()),
        ("outcome", raw.outcome.is_some()),
        ("balances", raw.balances.is_some()),
        ("available", raw.available.is_some()),
        ("code", raw.code.is_some()),
    ];
    fields.iter().filter(|(_, given)| *given).map(|(name, _)| *name).collect()
}

fn build_step(raw: &RawStep, index: usize, all: &[RawStep], index_of: &HashMap<&str, usize>) -> anyhow::Result<Step> {
    let allowed = allowed_fields(raw.kind);
    for field in given_fields(raw) {
        if field != "code" && !allowed.contains(&field) {
            bail!("`{field}` does not apply to a {} step", raw.kind.name());
        }
    }
    let expect = expectation(raw)?;
    let required = |value: &Option<String>, field: &str| {
        value.clone().ok_or_else(|| anyhow!("`{field}` is required for a {} step", raw.kind.name()))
    };
    let family = || raw.family.ok_or_else(|| anyhow!("`family` is required for a {} step", raw.kind.name()));
    // A reference to another step: earlier only, unless `forward` (a reversal may name a
    // later original), and always a card transaction.
    let reference = |name: &Option<String>, field: &str, forward: bool| -> anyhow::Result<Option<usize>> {
        let Some(name) = name else { return Ok(None) };
        let target = *index_of.get(name.as_str()).ok_or_else(|| anyhow!("`{field}`: no step is named \"{name}\""))?;
        if target == index || (!forward && target > index) {
            bail!("`{field}`: \"{name}\" must be an earlier step");
        }
        let target_kind = all.get(target).map(|step| step.kind);
        if !target_kind.is_some_and(StepKind::is_card_transaction) {
            bail!("`{field}`: \"{name}\" is not a card transaction");
        }
        Ok(Some(target))
    };
    let agent_of = |target: usize| all.get(target).and_then(|step| step.agent.clone());
    let action = match raw.kind {
        StepKind::BalanceInquiry | StepKind::CashWithdrawal | StepKind::WalletToSavings | StepKind::Purchase => {
            let operation = match raw.kind {
                StepKind::CashWithdrawal => Operation::CashWithdrawal { amount: amount(raw)? },
                StepKind::WalletToSavings => Operation::WalletToSavings { amount: amount(raw)? },
                StepKind::Purchase => Operation::Purchase {
                    programme: match raw.programme.as_deref() {
                        Some("bpnt") => PurchaseProgramme::Bpnt,
                        Some("lpg") => PurchaseProgramme::Lpg,
                        _ => bail!("`programme` is required: bpnt or lpg"),
                    },
                    basket: raw.basket.clone().ok_or_else(|| anyhow!("`basket` is required"))?,
                },
                _ => Operation::BalanceInquiry,
            };
            let agent = required(&raw.agent, "agent")?;
            let stan_of = reference(&raw.stan_of, "stan_of", false)?;
            let key_of = reference(&raw.key_of, "key_of", false)?;
            for target in stan_of.iter().chain(key_of.iter()) {
                if agent_of(*target).as_deref() != Some(agent.as_str()) {
                    bail!("a STAN belongs to one terminal: the step it reuses must have agent = \"{agent}\"");
                }
            }
            if stan_of.is_some() && key_of.is_some() {
                bail!("give `stan_of` or `key_of`, not both (`key_of` reuses the STAN too)");
            }
            Action::Card(CardStep {
                agent,
                family: family()?,
                card: raw.card.unwrap_or_default(),
                pin: pin_choice(raw.pin.as_deref())?,
                operation,
                stan_of,
                key_of,
            })
        }
        StepKind::Reversal => {
            let of = reference(&raw.of, "of", true)?.ok_or_else(|| anyhow!("`of` is required: the step to reverse"))?;
            let agent = match (&raw.agent, agent_of(of)) {
                (Some(agent), Some(original)) if *agent != original => {
                    bail!("a reversal is sent by the original's terminal ({original})")
                }
                (_, Some(original)) => original,
                (_, None) => bail!("the step to reverse has no agent"),
            };
            Action::Reversal { agent, of }
        }
        StepKind::Retry => {
            Action::Retry { of: reference(&raw.of, "of", false)?.ok_or_else(|| anyhow!("`of` is required"))? }
        }
        StepKind::CheckQr => {
            let card = raw.card.unwrap_or(CardSource::Qr);
            if card == CardSource::Keyed {
                bail!("check_qr reads a QR: card = \"qr\" or \"image\"");
            }
            Action::CheckQr { agent: required(&raw.agent, "agent")?, family: family()?, card }
        }
        StepKind::ReportLost => Action::ReportLost {
            operator: raw.operator.clone(),
            family: family()?,
            reason: raw.reason.clone().unwrap_or_else(|| "kartu hilang (skenario)".to_owned()),
        },
        StepKind::ResetPin => {
            if let Some(pin) = &raw.new_pin {
                check_pin_text(pin)?;
            }
            Action::ResetPin {
                operator: required(&raw.operator, "operator")?,
                family: family()?,
                reason: raw.reason.clone().unwrap_or_else(|| "PIN dibuka di kantor (skenario)".to_owned()),
                new_pin: raw.new_pin.clone(),
            }
        }
        StepKind::Disburse => Action::Disburse {
            operator: required(&raw.operator, "operator")?,
            supervisor: required(&raw.supervisor, "supervisor")?,
            programme: match raw.programme.as_deref() {
                Some(programme @ ("pkh" | "bpnt" | "lpg")) => programme.to_owned(),
                _ => bail!("`programme` is required: pkh, bpnt or lpg"),
            },
            year: raw.year.ok_or_else(|| anyhow!("`year` is required"))?,
            period: raw.period.ok_or_else(|| anyhow!("`period` is required: the PKH stage (1-4) or the month"))?,
        },
        StepKind::Verify => {
            let complied = raw.complied.ok_or_else(|| anyhow!("`complied` is required: true or false"))?;
            let failure = match (complied, raw.member, &raw.obligation) {
                (true, None, None) => None,
                (true, _, _) => bail!("a family that complied has no `member` or `obligation`"),
                (false, Some(member), Some(obligation)) if member >= 1 => Some((member, obligation.clone())),
                (false, _, _) => bail!("a failure names the `member` (from 1) and the `obligation`"),
            };
            Action::Verify {
                operator: required(&raw.operator, "operator")?,
                family: family()?,
                cycle: required(&raw.cycle, "cycle")?,
                failure,
            }
        }
        StepKind::CloseCycle => Action::CloseCycle {
            supervisor: required(&raw.supervisor, "supervisor")?,
            cycle: required(&raw.cycle, "cycle")?,
        },
    };
    Ok(Step { name: raw.name.clone(), kind: raw.kind, action, expect })
}

fn amount(raw: &RawStep) -> anyhow::Result<Decimal> {
    let amount = raw.amount.ok_or_else(|| anyhow!("`amount` is required (rupiah, as a string: \"150000\")"))?;
    if amount <= Decimal::ZERO {
        bail!("`amount` must be more than zero");
    }
    Ok(amount)
}

fn pin_choice(text: Option<&str>) -> anyhow::Result<PinChoice> {
    match text {
        None | Some("correct") => Ok(PinChoice::Correct),
        Some("wrong") => Ok(PinChoice::Wrong),
        Some(pin) => {
            check_pin_text(pin)?;
            Ok(PinChoice::Typed(pin.to_owned()))
        }
    }
}

fn check_pin_text(pin: &str) -> anyhow::Result<()> {
    if pin.len() == 6 && pin.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(())
    } else {
        bail!("a PIN is \"correct\", \"wrong\" or six digits")
    }
}

fn expectation(raw: &RawStep) -> anyhow::Result<Expectation> {
    let refused_with = match (raw.expect.unwrap_or(Expected::Approved), &raw.code) {
        (Expected::Approved, None) => None,
        (Expected::Approved, Some(code)) => bail!("`code = \"{code}\"` goes with expect = \"refused\""),
        (Expected::Refused, Some(code)) => Some(code.clone()),
        (Expected::Refused, None) => bail!("expect = \"refused\" needs the `code` it is refused with"),
    };
    if refused_with.is_some() && (raw.balances.is_some() || raw.available.is_some() || raw.outcome.is_some()) {
        bail!("a refused step has no balances or outcome to check: add a balance_inquiry step after it");
    }
    let pockets = |table: &Option<BTreeMap<String, Decimal>>| -> anyhow::Result<Vec<(String, Decimal)>> {
        let entries: Vec<(String, Decimal)> = table.clone().unwrap_or_default().into_iter().collect();
        for (kind, _) in &entries {
            if !matches!(kind.as_str(), "savings" | "wallet_pkh" | "wallet_bpnt" | "wallet_lpg") {
                bail!("no pocket \"{kind}\": savings, wallet_pkh, wallet_bpnt or wallet_lpg");
            }
        }
        Ok(entries)
    };
    Ok(Expectation {
        refused_with,
        outcome: raw.outcome,
        balances: pockets(&raw.balances)?,
        available: pockets(&raw.available)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        name = "example"
        [[step]]
        name = "inquiry"
        do = "balance_inquiry"
        agent = "agen.cileunyi"
        family = 1
        balances = { savings = "0" }
        [[step]]
        name = "cancel the late one"
        do = "reversal"
        of = "late"
        outcome = "original_voided"
        [[step]]
        name = "late"
        do = "cash_withdrawal"
        agent = "agen.cileunyi"
        family = 1
        amount = "10000"
        expect = "refused"
        code = "ORIGINAL_REVERSED"
    "#;

    #[test]
    fn a_scenario_reads_into_typed_steps() {
        let scenario = Scenario::parse(GOOD).unwrap();
        assert_eq!(scenario.steps.len(), 3);
        assert!(matches!(scenario.steps[1].action, Action::Reversal { of: 2, .. }));
        assert_eq!(scenario.steps[2].expect.refused_with.as_deref(), Some("ORIGINAL_REVERSED"));
    }

    #[test]
    fn mistakes_are_named_with_their_step() {
        let unknown_field = GOOD.replace("balances = {", "balance = {");
        assert!(format!("{:#}", Scenario::parse(&unknown_field).unwrap_err()).contains("balance"));
        let misplaced = GOOD.replace("outcome = \"original_voided\"", "amount = \"5\"");
        let error = format!("{:#}", Scenario::parse(&misplaced).unwrap_err());
        assert!(error.contains("step 2") && error.contains("`amount` does not apply"), "{error}");
        let no_code = GOOD.replace("code = \"ORIGINAL_REVERSED\"", "");
        assert!(format!("{:#}", Scenario::parse(&no_code).unwrap_err()).contains("needs the `code`"));
        let future_kind = GOOD.replace("do = \"balance_inquiry\"", "do = \"suspend\"");
        assert!(format!("{:#}", Scenario::parse(&future_kind).unwrap_err()).contains("suspend"));
    }
}
