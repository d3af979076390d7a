//! The programme's side of a scenario: stage disbursements (prepared, approved by another
//! person, paid in the background) and the conditionality cycle (verification, closing).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::api::{Answer, Session, TransportError};

/// How long a disbursement may take to be paid before the step fails.
const BATCH_WAIT_MAX: Duration = Duration::from_secs(60);

/// How often the batch's progress is asked for.
const BATCH_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Prepares (operator), approves (supervisor) and executes (operator) a batch, then waits
/// until it is paid. The answer is the batch's final view.
pub fn disburse(operator: &Session, supervisor: &Session, body: &Value) -> Result<Answer<Value>, TransportError> {
    let prepared = match operator.post::<Value>("/v1/disbursements", body)? {
        Answer::Ok(prepared) => prepared,
        refused => return Ok(refused),
    };
    let Some(id) = prepared.pointer("/batch/id").and_then(Value::as_i64) else {
        return Err(TransportError { timeout: false, message: format!("the prepared batch has no id: {prepared}") });
    };
    if let Answer::Refused(problem) =
        supervisor.post::<Value>(&format!("/v1/disbursements/{id}/approve"), &json!({}))?
    {
        return Ok(Answer::Refused(problem));
    }
    if let Answer::Refused(problem) = operator.post::<Value>(&format!("/v1/disbursements/{id}/execute"), &json!({}))? {
        return Ok(Answer::Refused(problem));
    }
    let started = Instant::now();
    loop {
        let view = match operator.get::<Value>(&format!("/v1/disbursements/{id}"))? {
            Answer::Ok(view) => view,
            refused => return Ok(refused),
        };
        if view.pointer("/batch/status").and_then(Value::as_str) == Some("completed") {
            return Ok(Answer::Ok(view));
        }
        if started.elapsed() > BATCH_WAIT_MAX {
            return Err(TransportError {
                timeout: true,
                message: format!("batch {id} was not paid within {} s: {view}", BATCH_WAIT_MAX.as_secs()),
            });
        }
        std::thread::sleep(BATCH_POLL_INTERVAL);
    }
}

/// What a paid batch says, for the step's line.
pub fn describe_batch(view: &Value) -> String {
    let field = |name: &str| view.get(name).map(ToString::to_string).unwrap_or_else(|| "?".to_owned());
    format!(
        "batch {} paid {} lines, Rp {} in all ({} failed)",
        view.pointer("/batch/id").map(ToString::to_string).unwrap_or_else(|| "?".to_owned()),
        field("paid_lines"),
        view.get("paid_amount")
            .and_then(Value::as_str)
            .and_then(|amount| amount.parse::<rust_decimal::Decimal>().ok())
            .map_or_else(|| "?".to_owned(), |amount| amount.normalize().to_string()),
        field("failed_lines")
    )
}

/// Records one family's verification for a cycle; a failure names the family's
/// `member`-th member (from 1) and the obligation it missed.
pub fn verify(
    operator: &Session,
    family_id: i64,
    cycle: &str,
    failure: Option<&(usize, String)>,
) -> Result<Answer<Value>, TransportError> {
    let mut body = json!({ "family_id": family_id, "cycle": cycle, "complied": failure.is_none() });
    if let Some((member, obligation)) = failure {
        let profile = match operator.get::<Value>(&format!("/v1/families/{family_id}"))? {
            Answer::Ok(profile) => profile,
            refused => return Ok(refused),
        };
        let member_id = profile
            .get("members")
            .and_then(Value::as_array)
            .and_then(|members| members.get(member.saturating_sub(1)))
            .and_then(|member| member.get("id"))
            .cloned()
            .ok_or_else(|| TransportError {
                timeout: false,
                message: format!("family {family_id} has no member {member}"),
            })?;
        if let Some(fields) = body.as_object_mut() {
            fields.insert("member_id".to_owned(), member_id);
            fields.insert("obligation".to_owned(), json!(obligation));
        }
    }
    operator.post::<Value>("/v1/verifications", &body)
}

/// Closes a cycle; the answer counts the families suspended, released and terminated.
pub fn close_cycle(supervisor: &Session, cycle: &str) -> Result<Answer<Value>, TransportError> {
    supervisor.post::<Value>(&format!("/v1/cycles/{cycle}/close"), &json!({}))
}

/// What closing a cycle did, for the step's line.
pub fn describe_closing(summary: &Value) -> String {
    let count = |name: &str| summary.get(name).and_then(Value::as_u64).unwrap_or(0);
    format!(
        "{} suspended, {} released, {} terminated, {} unchanged",
        count("suspended"),
        count("released"),
        count("terminated"),
        count("unchanged")
    )
}
