//! Bulk imports: regions and families from CSV files, and card issuance for a region, each
//! a job followed through `GET /v1/imports/{id}` or run by `kks import` with a progress bar.
//!
//! A file is streamed twice and never held whole: first [`file::scan`] reads it line by
//! line (its SHA-256, UTF-8, no control character, the header's columns) and refuses it
//! whole before anything is written; then the job reads it record by record and writes
//! [`LINES_PER_CHUNK`] lines per transaction, the chunk's counts and refused lines with
//! them, so progress never runs ahead of the data and a crash loses at most a chunk that
//! the next run writes again. Lines already present (same code or NIK, same data) count
//! as such; the same file from the same person is the same job.

pub mod card_issuance;
mod families;
mod file;
mod regions;

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Principal;
use super::error::ErrorCode;
use super::writer_wait::when_the_writer_is_free;
use super::{access, ServiceError};
use crate::domain::auth::{OperatorRole, RegionCode, RegionScope};
use crate::domain::text::{forbidden_character, LineBreaks};
use crate::store::imports::{self as store, ChunkCounts, ImportInsertForm, ImportRow, Rejection};
use crate::store::{audit, now, Store, Tx};

/// Lines written per database transaction: large enough that a million families take a
/// few thousand commits, small enough that card transactions queued behind a chunk on
/// SQLite's one writer wait tens of milliseconds, not seconds.
pub const LINES_PER_CHUNK: usize = 1_000;
/// The refused lines kept per job; beyond, they are only counted.
pub const REJECTIONS_STORED_MAX: i64 = 10_000;
/// The most refused lines one look at a job shows.
pub const REJECTIONS_PAGE_MAX: i64 = 500;
/// A job whose runner wrote nothing for this long stopped (a crash, a restart): the next
/// upload of the same file carries it on from its last chunk.
pub const RUNNER_QUIET_MAX: Duration = Duration::from_secs(60);

text_enum! {
    /// What a job brings in.
    pub enum ImportKind {
        Regions,
        Families,
        /// Cards for every family of a region that has none, with a PIN mailer.
        CardIssuance,
    }
}

text_enum! {
    pub enum ImportStatus {
        Running,
        Finished,
        /// Stopped by an error of the server (the database went away); uploading the same
        /// file again carries it on.
        Failed,
    }
}

/// The two kinds of file there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Regions,
    Families,
}

impl FileKind {
    fn kind(self) -> ImportKind {
        match self {
            Self::Regions => ImportKind::Regions,
            Self::Families => ImportKind::Families,
        }
    }

    /// The header's columns, in the order the importers read them.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Regions => regions::COLUMNS,
            Self::Families => families::COLUMNS,
        }
    }
}

/// Who runs a job: a person through the API, or the command line on the server's machine.
#[derive(Debug, Clone)]
pub struct Importer {
    actor: String,
    scope: RegionScope,
}

impl Importer {
    /// An operator; regions only by an admin.
    pub fn of(principal: &Principal, kind: FileKind) -> Result<Self, ServiceError> {
        let (scope, role) = access::operator(principal)?;
        if kind == FileKind::Regions && role != OperatorRole::Admin {
            return Err(ServiceError::Forbidden("only an admin imports regions".to_owned()));
        }
        Ok(Self { actor: principal.subject(), scope: scope.clone() })
    }

    /// `kks import` on the server's machine: national, like the first admin it creates.
    pub fn command_line() -> Self {
        Self { actor: "system:cli".to_owned(), scope: RegionScope::National }
    }

    fn scope_code(&self) -> Option<&str> {
        match &self.scope {
            RegionScope::National => None,
            RegionScope::Region(code) => Some(code.as_str()),
        }
    }
}

/// A job as its importer sees it, with a page of its refused lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportView {
    pub id: i64,
    pub kind: ImportKind,
    pub status: ImportStatus,
    /// Data lines in the file (families without a card, for a card issuance).
    pub lines_total: i64,
    pub lines_done: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// Lines whose region, family or card was there already, with the same data.
    pub already_present: i64,
    /// Lines done of all, 0 to 100.
    pub progress_percent: i64,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// A card issuance: whether its PIN mailer can still be downloaded (once).
    pub pin_mailer: Option<PinMailerState>,
    /// Refused lines in line order, after the `after` line asked for.
    pub rejections: Vec<RejectionView>,
    /// The `after` for the next page of refused lines, if there is one.
    pub next_after: Option<i64>,
}

text_enum! {
    pub enum PinMailerState {
        /// Not downloaded yet (ready once the job is finished).
        Available,
        /// Downloaded once; its PINs are erased.
        Downloaded,
    }
}

/// A refused line: its number in the file, a stable code and why, never the line's data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectionView {
    pub line: i64,
    pub code: String,
    pub reason: String,
}

/// One line of a file, its fields in the order of the importer's columns.
#[derive(Debug, Clone)]
struct Line {
    number: i64,
    fields: Vec<String>,
}

impl Line {
    fn field(&self, column: usize) -> &str {
        self.fields.get(column).map_or("", |field| field.trim())
    }
}

/// A line refused, with the code and reason the single-object endpoint would answer.
#[derive(Debug, Clone)]
struct LineRefusal {
    line: i64,
    code: ErrorCode,
    reason: String,
}

impl LineRefusal {
    fn of(line: i64, error: &ServiceError) -> Self {
        Self { line, code: error.code(), reason: error.to_string() }
    }
}

/// What an importer did with a chunk of lines.
#[derive(Debug, Default)]
struct ChunkOutcome {
    accepted: i64,
    already_present: i64,
    refusals: Vec<LineRefusal>,
}

/// What a job's runner tells whoever watches it.
pub trait Progress {
    fn chunk_written(&self, job: &ImportView);
    fn waiting_for_writer(&self, reason: &str);
}

/// A job running in the server: progress is in the database, waits go to the log.
struct Logged;

impl Progress for Logged {
    fn chunk_written(&self, _job: &ImportView) {}
    fn waiting_for_writer(&self, reason: &str) {
        tracing::info!(reason, "import waiting for the database's writer");
    }
}

/// What starting a file's job found.
#[derive(Debug)]
pub struct Started {
    pub job: ImportView,
    /// Whether the caller must run it: a new job, or one whose runner stopped. A job
    /// finished or running elsewhere is only shown.
    pub to_run: bool,
}

/// Checks the file whole and finds or creates its job; writes nothing for a refused file.
pub fn start(store: &Store, importer: &Importer, kind: FileKind, path: &Path) -> Result<Started, ServiceError> {
    let scanned = file::scan(path, kind.columns())?;
    let kind_text: &str = kind.kind().into();
    store.write(|tx| {
        let form = ImportInsertForm {
            kind: kind_text,
            actor: &importer.actor,
            scope_code: importer.scope_code(),
            digest: Some(&scanned.digest),
            region_code: None,
            bank: None,
            status: ImportStatus::Running.into(),
            lines_total: scanned.data_lines,
            started_at: now(),
            updated_at: now(),
        };
        if let Some(job) = store::insert_if_new(tx, &form)? {
            return Ok(Started { job: view_of(tx, job, 0, REJECTIONS_PAGE_MAX)?, to_run: true });
        }
        let job = store::find_by_file(tx, kind_text, &importer.actor, &scanned.digest)?
            .ok_or_else(|| ServiceError::Internal("an import neither inserted nor found".to_owned()))?;
        let to_run = store::take_over(tx, job.id, quiet_since())?;
        let job = store::find_by_id(tx, job.id)?.unwrap_or(job);
        Ok(Started { job: view_of(tx, job, 0, REJECTIONS_PAGE_MAX)?, to_run })
    })
}

/// The API's upload: starts the job and runs it in the background; the file is deleted
/// when the run ends.
pub fn submit(
    store: &Store,
    principal: &Principal,
    kind: FileKind,
    file: tempfile::TempPath,
) -> Result<ImportView, ServiceError> {
    let importer = Importer::of(principal, kind)?;
    let started = start(store, &importer, kind, &file)?;
    if started.to_run {
        let store = store.clone();
        let id = started.job.id;
        std::thread::spawn(move || {
            if let Err(error) = run(&store, id, kind, &importer, &file, &Logged) {
                tracing::error!(import_id = id, %error, "import stopped; uploading the same file carries it on");
            }
            drop(file);
        });
    }
    Ok(started.job)
}

/// Reads the file from the job's last chunk on and writes it chunk by chunk, then
/// finishes the job. A failure marks the job failed, to be carried on by a next upload.
pub fn run(
    store: &Store,
    id: i64,
    kind: FileKind,
    importer: &Importer,
    path: &Path,
    progress: &dyn Progress,
) -> Result<ImportView, ServiceError> {
    let result = run_chunks(store, id, kind, importer, path, progress);
    if result.is_err() {
        if let Err(error) = store.write(|tx| store::set_status(tx, id, ImportStatus::Failed.into())) {
            tracing::warn!(import_id = id, %error, "could not mark the import failed");
        }
    }
    result
}

fn run_chunks(
    store: &Store,
    id: i64,
    kind: FileKind,
    importer: &Importer,
    path: &Path,
    progress: &dyn Progress,
) -> Result<ImportView, ServiceError> {
    let job = store.read(|tx| store::find_by_id(tx, id))?.ok_or(ServiceError::NotFound("import"))?;
    let mut lines = file::Lines::open(path, kind.columns(), job.lines_done)?;
    let mut rejected_so_far = job.rejected;
    loop {
        let (chunk, unreadable) = lines.next_chunk(LINES_PER_CHUNK)?;
        if chunk.is_empty() && unreadable.is_empty() {
            break;
        }
        let lines_read = i64::try_from(chunk.len() + unreadable.len()).unwrap_or(i64::MAX);
        let view = when_the_writer_is_free(
            || {
                store.write(|tx| {
                    let mut outcome = match kind {
                        FileKind::Regions => regions::import_chunk(tx, &chunk)?,
                        FileKind::Families => families::import_chunk(tx, importer, &chunk)?,
                    };
                    outcome.refusals.extend(unreadable.iter().cloned());
                    write_outcome(tx, id, lines_read, outcome, rejected_so_far)
                })
            },
            |reason| progress.waiting_for_writer(reason),
        )?;
        rejected_so_far = view.rejected;
        progress.chunk_written(&view);
    }
    finish(store, id, &importer.actor)
}

/// Adds a chunk's counts and refused lines to the job, in the chunk's transaction.
fn write_outcome(
    tx: &mut Tx<'_>,
    id: i64,
    lines: i64,
    outcome: ChunkOutcome,
    rejected_so_far: i64,
) -> Result<ImportView, ServiceError> {
    let rejected = i64::try_from(outcome.refusals.len()).unwrap_or(i64::MAX);
    let room = usize::try_from(REJECTIONS_STORED_MAX.saturating_sub(rejected_so_far)).unwrap_or(0);
    let kept: Vec<Rejection> = outcome
        .refusals
        .into_iter()
        .take(room)
        .map(|refusal| Rejection {
            import_id: id,
            line: refusal.line,
            code: <&str>::from(refusal.code).to_owned(),
            reason: refusal.reason,
        })
        .collect();
    store::insert_rejections(tx, &kept)?;
    let counts = ChunkCounts { lines, accepted: outcome.accepted, rejected, already_present: outcome.already_present };
    store::add_chunk(tx, id, counts)?;
    let job = store::find_by_id(tx, id)?.ok_or(ServiceError::NotFound("import"))?;
    Ok(view_without_rejections(job))
}

/// Marks the job finished, with one audit event for the whole job (not one per line).
fn finish(store: &Store, id: i64, actor: &str) -> Result<ImportView, ServiceError> {
    store.write(|tx| {
        store::set_status(tx, id, ImportStatus::Finished.into())?;
        let job = store::find_by_id(tx, id)?.ok_or(ServiceError::NotFound("import"))?;
        audit::record(
            tx,
            &audit::AuditRecord {
                actor,
                action: "import.finished",
                object_kind: "import",
                object_id: &id.to_string(),
                reason: &job.kind,
                details: serde_json::json!({
                    "accepted": job.accepted, "rejected": job.rejected, "already_present": job.already_present,
                    "lines_total": job.lines_total,
                }),
            },
        )?;
        view_of(tx, job, 0, REJECTIONS_PAGE_MAX)
    })
}

/// The job, for the person who started it or a national admin; a page of refused lines
/// after line `after`.
pub fn view(store: &Store, principal: &Principal, id: i64, after: i64, limit: i64) -> Result<ImportView, ServiceError> {
    store.read(|tx| {
        let job = visible_job(tx, principal, id)?;
        view_of(tx, job, after, limit)
    })
}

/// The job, if the caller started it or is a national admin; otherwise "not found".
fn visible_job(tx: &mut Tx<'_>, principal: &Principal, id: i64) -> Result<ImportRow, ServiceError> {
    let job = store::find_by_id(tx, id)?.ok_or(ServiceError::NotFound("import"))?;
    let national_admin =
        matches!(principal, Principal::Operator { role: OperatorRole::Admin, scope: RegionScope::National, .. });
    if job.actor == principal.subject() || national_admin {
        Ok(job)
    } else {
        Err(ServiceError::NotFound("import"))
    }
}

fn view_of(tx: &mut Tx<'_>, job: ImportRow, after: i64, limit: i64) -> Result<ImportView, ServiceError> {
    let rejections = store::find_rejections(tx, job.id, after, limit.saturating_add(1))?;
    let more = i64::try_from(rejections.len()).unwrap_or(i64::MAX) > limit;
    let page: Vec<RejectionView> = rejections
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|rejection| RejectionView { line: rejection.line, code: rejection.code, reason: rejection.reason })
        .collect();
    let next_after = if more { page.last().map(|last| last.line) } else { None };
    Ok(ImportView { rejections: page, next_after, ..view_without_rejections(job) })
}

fn view_without_rejections(job: ImportRow) -> ImportView {
    let kind: ImportKind = job.kind.parse().unwrap_or(ImportKind::Regions);
    let status: ImportStatus = job.status.parse().unwrap_or(ImportStatus::Failed);
    let progress_percent = match (status, job.lines_total) {
        (ImportStatus::Finished, _) => 100,
        (_, 0) => 0,
        (_, total) => (job.lines_done.saturating_mul(100) / total).clamp(0, 99),
    };
    let delivered =
        if job.pins_delivered_at.is_some() { PinMailerState::Downloaded } else { PinMailerState::Available };
    let pin_mailer = (kind == ImportKind::CardIssuance).then_some(delivered);
    ImportView {
        id: job.id,
        kind,
        status,
        lines_total: job.lines_total,
        lines_done: job.lines_done,
        accepted: job.accepted,
        rejected: job.rejected,
        already_present: job.already_present,
        progress_percent,
        started_at: job.started_at,
        finished_at: job.finished_at,
        pin_mailer,
        rejections: Vec::new(),
        next_after: None,
    }
}

/// Before this, a running job's runner has stopped.
fn quiet_since() -> NaiveDateTime {
    now() - chrono::Duration::from_std(RUNNER_QUIET_MAX).unwrap_or_else(|_| chrono::Duration::minutes(1))
}

/// A field's text: no control character or bidirectional override (the file's line breaks
/// were allowed by the scan; inside a field they are not).
fn check_text(column: &str, text: &str) -> Result<(), ServiceError> {
    match forbidden_character(text, LineBreaks::Refused) {
        Some(character) => Err(ServiceError::CharacterNotAllowed(format!("{column} contains {character}"))),
        None => Ok(()),
    }
}

/// A region code in a field.
fn region_code(column: &str, text: &str) -> Result<RegionCode, ServiceError> {
    RegionCode::parse(text).map_err(|error| ServiceError::Invalid(format!("{column}: {error}")))
}
