//! Stage disbursements: a batch pays one programme for one period to every eligible
//! family, exactly once. Prepared by an operator, approved by a different supervisor
//! (maker–checker), executed in chunks of short transactions — resumable after a crash,
//! and never holding card transactions up for long. One batch at a time is live for a
//! period and region; until it executes, its maker or a supervisor may cancel it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::ServiceError;
use crate::domain::auth::{RegionCode, RegionScope};
use crate::domain::benefit::{amount_for, Payees, Programme, Rate};
use crate::domain::disbursement::{may_cancel, regions_overlap, BatchStatus, CancelReason, CancelRefusal};
use crate::domain::holds::line_hold;
use crate::domain::ledger::{AccountKind, AccountStatus, JournalKind, OwnerKind};
use crate::domain::money::{rupiah_from_minor, Amount};
use crate::ledger::holds::{self, HoldDraft};
use crate::ledger::{accounts, posting, AccountId};
pub use crate::store::disbursements::ScheduleRow;
use crate::store::disbursements::{self as store, Batch, BatchInsertForm, LineInsertForm};
use crate::store::{audit, now, Store, Tx};

/// Families read per transaction while preparing lines.
pub const PAYEES_PER_TRANSACTION: i64 = 5_000;
/// Lines paid per transaction while executing (the default of `--disbursement-chunk-lines`):
/// small enough that a card transaction waiting for the (SQLite) writer waits tens of
/// milliseconds, not hundreds.
pub const LINES_PER_CHUNK_DEFAULT: i64 = 500;

/// A pause between chunks, so that card transactions queued for the writer get it
/// before the next chunk does (the writer's queue is not first come, first served).
pub const PAUSE_BETWEEN_CHUNKS: std::time::Duration = std::time::Duration::from_millis(3);

/// What to pay.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"programme": "pkh", "year": 2017, "period": 2, "region": "32.04"}))]
pub struct BatchRequest {
    pub programme: Programme,
    pub year: i32,
    /// PKH stage (1–4) or month (1–12).
    pub period: i32,
    /// Only families in this region (absent: the operator's whole scope).
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionCode>,
    /// Credit now but hold the money until this moment (UTC): a later stage paid early.
    pub release_at: Option<NaiveDateTime>,
}

/// A batch and how far it has got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchView {
    pub batch: Batch,
    pub paid_lines: i64,
    #[schema(value_type = String)]
    pub paid_amount: rust_decimal::Decimal,
    pub failed_lines: i64,
    pub pending_lines: i64,
    pub failures: Vec<store::FailureReason>,
}

/// Why a batch is cancelled.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "prepared for the wrong region"}))]
pub struct CancelRequest {
    /// A short sentence (1 to 120 characters), kept on the batch and in the audit trail.
    #[schema(value_type = String, min_length = 1, max_length = 120)]
    pub reason: CancelReason,
}

/// An operator prepares a batch: one line per eligible family in its region not yet
/// paid (or due) for the period, with the amount from the benefit schedule. The batch is
/// live from the start, so no other batch for the period may overlap its region; lines
/// are written page by page; a batch that would pay nobody is removed and refused.
pub fn prepare(store: &Store, principal: &Principal, request: &BatchRequest) -> Result<BatchView, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let region = match (&request.region, scope) {
        (Some(region), scope) if scope.covers(region) => Some(region.clone()),
        (Some(region), _) => return Err(ServiceError::Forbidden(format!("region {region} is outside your region"))),
        (None, RegionScope::Region(own)) => Some(own.clone()),
        (None, RegionScope::National) => None,
    };
    if !(1..=request.programme.periods_per_year()).contains(&request.period) {
        return Err(ServiceError::Invalid(format!("period: 1 to {}", request.programme.periods_per_year())));
    }
    let programme: &str = request.programme.into();
    let rates = store.read(|tx| -> Result<Vec<Rate>, ServiceError> {
        let rows = store::find_schedule(tx, programme, request.year, request.period)?;
        Ok(rows.iter().map(ScheduleRow::rate).collect::<Result<_, _>>()?)
    })?;
    if rates.is_empty() {
        return Err(ServiceError::Invalid(format!(
            "no {programme} schedule for {} period {}",
            request.year, request.period
        )));
    }
    let actor = principal.subject();
    let batch = store.write(|tx| open_batch(tx, request, region.as_ref(), &actor))?;
    write_lines(store, &batch, request.programme, &rates)?;
    let pays_somebody = store.write(|tx| -> Result<bool, ServiceError> {
        let totals = store::line_totals(tx, batch.id)?;
        let (lines, amount) =
            totals.iter().fold((0, 0), |(lines, amount), total| (lines + total.lines, amount + total.amount_minor));
        if lines == 0 {
            // Nothing to pay: the batch goes, and that commits before the refusal.
            return if store::delete_empty_batch(tx, batch.id)? {
                Ok(false)
            } else {
                Err(cancelled_while_preparing(batch.id))
            };
        }
        if !store::finish_preparation(tx, batch.id, lines, amount)? {
            return Err(cancelled_while_preparing(batch.id));
        }
        record(tx, &actor, "disbursement.prepared", batch.id, "prepared", serde_json::json!({ "lines": lines }))?;
        Ok(true)
    })?;
    if !pays_somebody {
        return Err(ServiceError::BatchPaysNobody(format!(
            "every eligible family of {} is already paid, or due in another batch, for {programme} {} period {}: \
             the batch would pay nobody",
            region.as_ref().map_or("the country", RegionCode::as_str),
            request.year,
            request.period
        )));
    }
    view(store, principal, batch.id)
}

/// How many times a preparation tries to open its batch: a concurrent batch that held the
/// same period and region can be gone by the time the loser looks for it (it paid nobody,
/// or was cancelled), and then the loser may take its place.
const OPEN_ATTEMPTS_MAX: usize = 3;

/// Inserts the batch, `preparing`, unless a live batch of the same programme, year and
/// period overlaps its region. The exact same region is refused by the database itself
/// (a unique index of live batches), so two servers preparing at once cannot both
/// succeed; an overlap that races past the check only splits the families between two
/// batches, since a family's line for a period is unique whatever the batch.
fn open_batch(
    tx: &mut Tx<'_>,
    request: &BatchRequest,
    region: Option<&RegionCode>,
    actor: &str,
) -> Result<Batch, ServiceError> {
    let overlapping = |tx: &mut Tx<'_>| -> Result<Option<Batch>, ServiceError> {
        let live = store::find_live_batches(tx, request.programme, request.year, request.period)?;
        Ok(live.into_iter().find(|batch| regions_overlap(batch.region_code.as_ref(), region)))
    };
    let refusal = |live: Batch| ServiceError::LiveBatchExists {
        batch_id: live.id,
        status: live.status,
        region: live.region_code.map_or_else(|| "national".to_owned(), |code| code.to_string()),
    };
    let form = BatchInsertForm {
        programme: request.programme.into(),
        year: request.year,
        period: request.period,
        region_code: region.map(RegionCode::as_str),
        status: BatchStatus::Preparing.into(),
        release_at: request.release_at,
        prepared_by: actor,
        prepared_at: now(),
    };
    for _ in 0..OPEN_ATTEMPTS_MAX {
        if let Some(live) = overlapping(tx)? {
            return Err(refusal(live));
        }
        // In a savepoint, so that after losing the race the transaction can still look
        // for the winner (PostgreSQL aborts a transaction at a failed statement).
        match tx.savepoint(|tx| store::insert_batch(tx, &form)) {
            Err(error) if error.is_unique_violation() => {}
            inserted => return Ok(inserted?),
        }
    }
    Err(ServiceError::Internal(format!(
        "batch for {} period {} kept meeting vanishing live batches",
        form.year, form.period
    )))
}

/// Writes a preparing batch's lines page by page, each page in a transaction that holds
/// the batch, so a cancel in between leaves no line behind.
fn write_lines(store: &Store, batch: &Batch, programme: Programme, rates: &[Rate]) -> Result<(), ServiceError> {
    let mut after = 0;
    loop {
        let written = store.write(|tx| -> Result<Option<i64>, ServiceError> {
            if !store::lock_batch_in(tx, batch.id, BatchStatus::Preparing)? {
                return Err(cancelled_while_preparing(batch.id));
            }
            let payees = store::find_payees(
                tx,
                &programme.paid_statuses(),
                batch.region_code.as_ref().map(RegionCode::as_str),
                after,
                PAYEES_PER_TRANSACTION,
            )?;
            let Some(last) = payees.last().map(|payee| payee.family_id) else { return Ok(None) };
            let mut lines = Vec::with_capacity(payees.len());
            for payee in payees.iter().filter(|payee| programme.pays(payee.enrolment())) {
                let category = payee.category;
                if let Some(amount_minor) = amount_for(rates, category) {
                    lines.push(LineInsertForm {
                        batch_id: batch.id,
                        programme: programme.into(),
                        year: batch.year,
                        period: batch.period,
                        family_id: payee.family_id,
                        amount_minor,
                    });
                }
            }
            store::insert_lines(tx, &lines)?;
            Ok(Some(last))
        })?;
        match written {
            Some(last) => after = last,
            None => return Ok(()),
        }
    }
}

fn cancelled_while_preparing(batch_id: i64) -> ServiceError {
    ServiceError::Invalid(format!("batch {batch_id} was cancelled while it was being prepared"))
}

/// A supervisor who did not prepare the batch approves it.
pub fn approve(store: &Store, principal: &Principal, batch_id: i64) -> Result<BatchView, ServiceError> {
    let (_, role) = access::operator(principal)?;
    if !role.may_approve() {
        return Err(ServiceError::Forbidden("a supervisor approves what an operator prepared".to_owned()));
    }
    let actor = principal.subject();
    store.write(|tx| -> Result<(), ServiceError> {
        let batch = visible_batch(tx, principal, batch_id)?;
        if batch.prepared_by == actor {
            return Err(ServiceError::Forbidden("the person who prepared a batch may not approve it".to_owned()));
        }
        if !store::change_status(tx, batch_id, BatchStatus::Prepared, BatchStatus::Approved, Some(&actor))? {
            return Err(ServiceError::Invalid(format!("batch {batch_id} is {}, not prepared", batch.status)));
        }
        record(tx, &actor, "disbursement.approved", batch_id, "approved (maker–checker)", serde_json::json!({}))
    })?;
    view(store, principal, batch_id)
}

/// Starts paying an approved batch; the caller runs [`run`] in the background.
pub fn start(store: &Store, principal: &Principal, batch_id: i64) -> Result<BatchView, ServiceError> {
    access::operator(principal)?;
    let actor = principal.subject();
    store.write(|tx| -> Result<(), ServiceError> {
        let batch = visible_batch(tx, principal, batch_id)?;
        if !store::change_status(tx, batch_id, BatchStatus::Approved, BatchStatus::Executing, None)? {
            return Err(ServiceError::Invalid(format!("batch {batch_id} is {}, not approved", batch.status)));
        }
        record(tx, &actor, "disbursement.started", batch_id, "execution started", serde_json::json!({}))
    })?;
    view(store, principal, batch_id)
}

/// Its maker, or a supervisor of its region, cancels a batch that is not executing yet:
/// it becomes `cancelled` and its lines are deleted in the same transaction, so another
/// batch may pay those families for the period. No money had moved.
pub fn cancel(
    store: &Store,
    principal: &Principal,
    batch_id: i64,
    request: &CancelRequest,
) -> Result<BatchView, ServiceError> {
    let (_, role) = access::operator(principal)?;
    let actor = principal.subject();
    store.write(|tx| -> Result<(), ServiceError> {
        let batch = visible_batch(tx, principal, batch_id)?;
        may_cancel(batch.status, batch.prepared_by == actor, role).map_err(|refusal| match refusal {
            CancelRefusal::NotAllowed => ServiceError::Forbidden(
                "only the person who prepared a batch, or a supervisor of its region, cancels it".to_owned(),
            ),
            CancelRefusal::TooLate(status) => ServiceError::BatchNotCancellable { batch_id, status },
        })?;
        if !store::cancel_batch(tx, batch_id, &actor, request.reason.as_str())? {
            // Started since it was read: say what it is now.
            let status = store::find_batch(tx, batch_id)?.ok_or(ServiceError::NotFound("batch"))?.status;
            return Err(ServiceError::BatchNotCancellable { batch_id, status });
        }
        let freed = store::delete_lines(tx, batch_id)?;
        let details = serde_json::json!({ "was": batch.status, "lines_freed": freed });
        record(tx, &actor, "disbursement.cancelled", batch_id, request.reason.as_str(), details)
    })?;
    view(store, principal, batch_id)
}

/// Pays a batch on a thread of its own; a failure is logged and the batch stays
/// `executing`, to be resumed by the next start.
pub fn run_in_background(store: Store, batch_id: i64, lines_per_chunk: i64) {
    std::thread::spawn(move || {
        if let Err(error) = run(&store, batch_id, lines_per_chunk) {
            tracing::error!(batch_id, %error, "disbursement stopped; it resumes on the next start");
        }
    });
}

/// Pays the batch's pending lines chunk by chunk until none is left, then completes it.
/// Safe to run again after a crash, and from several servers: a chunk's lines are
/// locked, paid and marked in one transaction, and only lines still pending are locked.
pub fn run(store: &Store, batch_id: i64, lines_per_chunk: i64) -> Result<(), ServiceError> {
    let batch = store.read(|tx| store::find_batch(tx, batch_id))?.ok_or(ServiceError::NotFound("batch"))?;
    let programme = batch.programme;
    // Lines are locked in id order after the last chunk's: PostgreSQL's index of pending
    // lines keeps the settled ones until a vacuum, and a scan from the start stepped over
    // all of them for every chunk.
    let mut after = 0;
    loop {
        match store.write(|tx| pay_chunk(tx, &batch, programme, after, lines_per_chunk.max(1)))? {
            Some(last) => after = last,
            // None left after it: done, unless earlier lines are pending again (another
            // server's chunk was in the way, or rolled back): then once more from the start.
            None if store.read(|tx| store::has_pending_lines(tx, batch_id))? => after = 0,
            None => break,
        }
        std::thread::sleep(PAUSE_BETWEEN_CHUNKS);
    }
    store.write(|tx| -> Result<(), ServiceError> {
        if store::change_status(tx, batch_id, BatchStatus::Executing, BatchStatus::Completed, None)? {
            record(tx, "system", "disbursement.completed", batch_id, "every line settled", serde_json::json!({}))?;
        }
        Ok(())
    })
}

/// Locks and pays one chunk of lines in a fixed handful of statements: the chunk's
/// total from the treasury to the programme fund, then one journal from the fund to
/// every family's e-wallet ([`posting::fan_out`]), held where the line must be, and
/// each line marked once, paid or failed. Returns the last line it locked, if any.
fn pay_chunk(
    tx: &mut Tx<'_>,
    batch: &Batch,
    programme: Programme,
    after: i64,
    limit: i64,
) -> Result<Option<i64>, ServiceError> {
    let lines = store::lock_pending_lines(tx, batch.id, after, limit)?;
    let (Some(first), Some(last_locked)) = (lines.first(), lines.last().map(|line| line.id)) else { return Ok(None) };
    // The chunk's open wallets in one query.
    let owners: Vec<String> = lines.iter().map(|line| line.family_id.to_string()).collect();
    let wallets: HashMap<String, AccountId> =
        accounts::find_by_owners_and_kind(tx, OwnerKind::Family, &owners, programme.wallet())?
            .into_iter()
            .filter(|account| account.status == AccountStatus::Open)
            .map(|account| (account.owner_id, account.id))
            .collect();
    // Each payable line with its wallet, looked up once.
    let mut payable = Vec::with_capacity(lines.len());
    let mut unpayable = Vec::new();
    for line in &lines {
        match wallets.get(&line.family_id.to_string()) {
            Some(wallet) => payable.push((line, *wallet)),
            None => unpayable.push(line.id),
        }
    }
    if !unpayable.is_empty() {
        store::mark_failed(tx, batch.id, &unpayable, "the family has no open e-wallet for the programme")?;
    }
    if payable.is_empty() {
        return Ok(Some(last_locked));
    }

    let total_minor: i64 = payable.iter().map(|(line, _)| line.amount_minor).sum();
    let treasury = accounts::find_or_open(tx, OwnerKind::System, "treasury", AccountKind::Treasury)?.id;
    let fund = accounts::find_or_open(tx, OwnerKind::System, programme.as_ref(), AccountKind::ProgrammeFund)?.id;
    posting::transfer(
        tx,
        JournalKind::Disbursement,
        &format!("batch {} chunk {}", batch.id, first.id),
        treasury,
        fund,
        amount(total_minor)?,
    )?;
    let credits = payable
        .iter()
        .map(|(line, wallet)| Ok(posting::FanOutCredit { account: *wallet, amount: amount(line.amount_minor)? }))
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let last = payable.last().map_or(first.id, |(line, _)| line.id);
    let reference = format!("batch {} lines {}–{last}", batch.id, first.id);
    let Some((journal, paid)) = posting::fan_out(tx, JournalKind::Disbursement, &reference, fund, &credits)? else {
        let ids: Vec<i64> = payable.iter().map(|(line, _)| line.id).collect();
        store::mark_failed(tx, batch.id, &ids, "the family's e-wallet was closed")?;
        return Ok(Some(last_locked));
    };

    let hold = line_hold(batch.release_at, now());
    let mut paid_lines = Vec::with_capacity(payable.len());
    let mut closed_meanwhile = Vec::new();
    for (((line, _), credit), paid) in payable.iter().zip(&credits).zip(paid) {
        if !paid {
            closed_meanwhile.push(line.id);
            continue;
        }
        paid_lines.push(line.id);
        if let Some((reason, release_at)) = hold {
            holds::place(
                tx,
                &HoldDraft {
                    account: credit.account,
                    amount: credit.amount,
                    reason,
                    reference: &format!(
                        "{} {} period {} (batch {} line {})",
                        batch.programme, batch.year, batch.period, batch.id, line.id
                    ),
                    placed_by: "rule:staged-release",
                    release_at: Some(release_at),
                },
            )?;
        }
    }
    store::mark_paid(tx, batch.id, &paid_lines, journal)?;
    if !closed_meanwhile.is_empty() {
        // Their money went to the fund with the chunk and stays there.
        store::mark_failed(tx, batch.id, &closed_meanwhile, "the family's e-wallet was closed")?;
    }
    Ok(Some(last_locked))
}

fn amount(minor: i64) -> Result<Amount, ServiceError> {
    Amount::from_minor(minor).map_err(|error| ServiceError::Internal(format!("line amount: {error}")))
}

fn visible_batch(tx: &mut Tx<'_>, principal: &Principal, batch_id: i64) -> Result<Batch, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    let batch = store::find_batch(tx, batch_id)?.ok_or(ServiceError::NotFound("batch"))?;
    let visible = match (&batch.region_code, scope) {
        (_, RegionScope::National) => true,
        (Some(code), RegionScope::Region(own)) => own.contains(code),
        (None, RegionScope::Region(_)) => false,
    };
    if visible {
        Ok(batch)
    } else {
        Err(ServiceError::NotFound("batch"))
    }
}

/// The batch with its progress: lines paid, failed (with reasons) and pending.
pub fn view(store: &Store, principal: &Principal, batch_id: i64) -> Result<BatchView, ServiceError> {
    store.read(|tx| {
        let batch = visible_batch(tx, principal, batch_id)?;
        let progress = store::find_progress(tx, batch_id)?.ok_or(ServiceError::NotFound("batch"))?;
        // A cancelled batch's lines were deleted: none is waiting any more.
        let pending_lines = if batch.status == BatchStatus::Cancelled {
            0
        } else {
            batch.lines_total - progress.paid_lines - progress.failed_lines
        };
        Ok(BatchView {
            failures: store::failure_reasons(tx, batch_id)?,
            pending_lines,
            batch,
            paid_lines: progress.paid_lines,
            paid_amount: rupiah_from_minor(progress.paid_amount_minor),
            failed_lines: progress.failed_lines,
        })
    })
}

/// Batches left executing by a crash or a restart.
pub fn unfinished(store: &Store) -> Result<Vec<i64>, ServiceError> {
    Ok(store.read(store::find_batches_executing)?)
}

fn record(
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    batch_id: i64,
    reason: &str,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    audit::record(
        tx,
        &audit::AuditRecord {
            actor,
            action,
            object_kind: "disbursement_batch",
            object_id: &batch_id.to_string(),
            reason,
            details,
        },
    )?;
    Ok(())
}

/// A benefit schedule's rows for a year.
pub fn schedules(store: &Store, year: i32) -> Result<Vec<ScheduleRow>, ServiceError> {
    Ok(store.read(|tx| store::find_schedules_by_year(tx, year))?)
}

/// An admin adds a year's schedule for a programme (rows are never edited once paid from).
pub fn add_schedule(store: &Store, principal: &Principal, rows: &[ScheduleRow]) -> Result<(), ServiceError> {
    let (_, role) = access::operator(principal)?;
    if role != crate::domain::auth::OperatorRole::Admin {
        return Err(ServiceError::Forbidden("only an admin adds a benefit schedule".to_owned()));
    }
    if rows.is_empty() || rows.len() > SCHEDULE_ROWS_MAX {
        return Err(ServiceError::Invalid(format!("1 to {SCHEDULE_ROWS_MAX} rows")));
    }
    for row in rows {
        let programme: Programme =
            row.programme.parse().map_err(|_| ServiceError::Invalid(format!("programme {:?}", row.programme)))?;
        let category_ok = match Payees::parse(&row.category) {
            Some(Payees::Every) => true,
            Some(Payees::Category(_)) => programme.is_conditional(),
            None => false,
        };
        if !category_ok
            || !store::SCHEDULE_YEARS.contains(&row.year)
            || !(1..=programme.periods_per_year()).contains(&row.period)
            || row.amount_minor <= 0
        {
            return Err(ServiceError::Invalid(format!("row {row:?}: check year, category, period and amount")));
        }
    }
    let actor = principal.subject();
    store.write(|tx| -> Result<(), ServiceError> {
        if !store::insert_schedule(tx, rows)? {
            return Err(ServiceError::Invalid("a row for that programme, year, category and period exists".to_owned()));
        }
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &actor,
                action: "schedule.added",
                object_kind: "benefit_schedule",
                object_id: &rows.first().map(|row| format!("{} {}", row.programme, row.year)).unwrap_or_default(),
                reason: "new schedule",
                details: serde_json::json!({ "rows": rows.len() }),
            },
        )?;
        Ok(())
    })
}

/// The most rows one schedule upload adds (four categories × twelve periods × three).
pub const SCHEDULE_ROWS_MAX: usize = 200;
