//! Cards for every family of a region that has none, as a job, and its PIN mailer: the
//! one-time PINs, downloadable once. Each card is issued as `POST /v1/families/{id}/cards`
//! issues it ([`issue_first_card`]: four empty pockets, a random PIN of which only the
//! keyed hash is kept for verification). Until the mailer is downloaded, each PIN is kept
//! sealed with a pad from the newest PIN key ([`crate::domain::auth::PinKey::seal_pin`]), its version beside it; the download erases them in
//! its own transaction, and a second download is `410 PIN_MAILER_GONE`: a PIN lost after
//! that is reset per card (`POST /v1/cards/{n}/pin-reset`).

use super::{view_of, visible_job, ImportKind, ImportStatus, ImportView, REJECTIONS_PAGE_MAX};
use crate::domain::auth::RegionCode;
use crate::domain::card::Bank;
use crate::domain::key_ring::KeyVersion;
use crate::domain::pin_keys::PinKeys;
use crate::service::auth::Principal;
use crate::service::cards::issue_first_card;
use crate::service::monitoring::csv;
use crate::service::{access, ServiceError};
use crate::store::imports::{self as store, ChunkCounts, ImportInsertForm, SealedPin};
use crate::store::{audit, families, now, regions, Store};

/// Cards issued per database transaction (each is a handful of statements).
pub const CARDS_PER_CHUNK: i64 = 200;
/// Families looked up per statement while the mailer is written.
const MAILER_FAMILIES_PER_READ: usize = 1_000;

/// An operator of the region starts issuing cards to its families that have none.
pub fn start(
    store: &Store,
    pin_keys: &PinKeys,
    principal: &Principal,
    region: &RegionCode,
    bank: Bank,
) -> Result<ImportView, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    if !scope.covers(region) {
        return Err(ServiceError::NotFound("region"));
    }
    let actor = principal.subject();
    let job = store.write(|tx| {
        regions::find_by_code(tx, region)?.ok_or(ServiceError::NotFound("region"))?;
        let form = ImportInsertForm {
            kind: ImportKind::CardIssuance.into(),
            actor: &actor,
            scope_code: Some(region.as_str()),
            digest: None,
            region_code: Some(region.as_str()),
            bank: Some(bank.into()),
            status: ImportStatus::Running.into(),
            lines_total: families::count_without_card(tx, region)?,
            started_at: now(),
            updated_at: now(),
        };
        let job = store::insert_if_new(tx, &form)?
            .ok_or_else(|| ServiceError::Internal("a card issuance job was not inserted".to_owned()))?;
        view_of(tx, job, 0, REJECTIONS_PAGE_MAX)
    })?;
    let (store, pin_keys, region, id) = (store.clone(), pin_keys.clone(), region.clone(), job.id);
    std::thread::spawn(move || {
        if let Err(error) = run(&store, &pin_keys, id, &region, bank, &actor) {
            tracing::error!(import_id = id, %error, "card issuance stopped; start it again for the families left");
            if let Err(error) = store.write(|tx| store::set_status(tx, id, ImportStatus::Failed.into())) {
                tracing::warn!(import_id = id, %error, "could not mark the card issuance failed");
            }
        }
    });
    Ok(job)
}

/// Issues the cards chunk by chunk, each chunk's PINs sealed in its own transaction.
fn run(
    store: &Store,
    pin_keys: &PinKeys,
    id: i64,
    region: &RegionCode,
    bank: Bank,
    actor: &str,
) -> Result<(), ServiceError> {
    let mut after = 0;
    loop {
        let last = store.write(|tx| -> Result<Option<i64>, ServiceError> {
            let family_ids = families::find_ids_without_card(tx, region, after, CARDS_PER_CHUNK)?;
            let today = chrono::Utc::now().date_naive();
            let mut pins = Vec::with_capacity(family_ids.len());
            for family_id in &family_ids {
                let issued = issue_first_card(tx, pin_keys, *family_id, bank, actor, today)?;
                let card_number = issued.card.card_number.as_str().to_owned();
                let (version, key) = pin_keys.newest();
                let pin_sealed = key.seal_pin(&mailer_context(id, &card_number), &issued.pin);
                let pin_key_version = version.get();
                pins.push(SealedPin { import_id: id, card_number, family_id: *family_id, pin_sealed, pin_key_version });
            }
            store::insert_pins(tx, &pins)?;
            let issued = i64::try_from(pins.len()).unwrap_or(i64::MAX);
            store::add_chunk(tx, id, ChunkCounts { lines: issued, accepted: issued, ..ChunkCounts::default() })?;
            Ok(family_ids.last().copied())
        })?;
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    store.write(|tx| store::set_status(tx, id, ImportStatus::Finished.into()))?;
    Ok(())
}

fn mailer_context(id: i64, card_number: &str) -> String {
    format!("{id}:{card_number}")
}

/// The PIN mailer as CSV (`card_number,family_id,recipient_name,pin`), once: the PINs are
/// erased in the same transaction, and the job remembers the download.
pub fn take_pin_mailer(
    store: &Store,
    pin_keys: &PinKeys,
    principal: &Principal,
    id: i64,
) -> Result<String, ServiceError> {
    store.write(|tx| {
        let job = visible_job(tx, principal, id)?;
        if job.kind != <&str>::from(ImportKind::CardIssuance) {
            return Err(ServiceError::NotFound("PIN mailer"));
        }
        if job.status != <&str>::from(ImportStatus::Finished) {
            return Err(ServiceError::ImportRunning(id));
        }
        if !store::mark_pins_delivered(tx, id)? {
            return Err(ServiceError::PinMailerGone(id));
        }
        let pins = store::take_pins(tx, id)?;
        let mut mailer = csv::line(["card_number", "family_id", "recipient_name", "pin"].map(String::from));
        for chunk in pins.chunks(MAILER_FAMILIES_PER_READ) {
            let ids: Vec<i64> = chunk.iter().map(|pin| pin.family_id).collect();
            let names: std::collections::HashMap<i64, String> =
                families::find_by_ids(tx, &ids)?.into_iter().map(|family| (family.id, family.recipient_name)).collect();
            for pin in chunk {
                let version = KeyVersion::from_stored(pin.pin_key_version)
                    .ok_or_else(|| ServiceError::Internal("a sealed PIN without a key version".to_owned()))?;
                // A PIN key retired before the download: nothing is erased, the PINs are reset per card.
                let key = pin_keys.find(&version).ok_or(ServiceError::PinKeyRetired(version))?;
                let opened = key
                    .unseal_pin(&mailer_context(id, &pin.card_number), &pin.pin_sealed)
                    .ok_or_else(|| ServiceError::Internal("a sealed PIN does not open with this PIN key".to_owned()))?;
                let name = names.get(&pin.family_id).cloned().unwrap_or_default();
                let fields = [pin.card_number.clone(), pin.family_id.to_string(), name, opened.expose().to_owned()];
                mailer.push_str(&csv::line(fields));
            }
        }
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &principal.subject(),
                action: "card_issuance.pin_mailer_downloaded",
                object_kind: "import",
                object_id: &id.to_string(),
                reason: "the one-time PINs were handed over and erased",
                details: serde_json::json!({ "cards": pins.len() }),
            },
        )?;
        Ok(mailer)
    })
}
