//! The seed's form "Monitoring KPM graduasi (alamiah, exit mandiri)": per facilitator
//! area (or region), each family that left PKH with its district, village, recipient,
//! year in, year out and reason.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::indicators::FacilitatorArea;
use super::{area, parse_region, RegionRef};
use crate::domain::auth::RegionCode;
use crate::domain::graduation::{ExitKind, ExitReason};
use crate::service::access;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::family_exits::{self, ExitArea};
use crate::store::monitoring as store;
use crate::store::{regions, Store, Tx};

/// The most exits one answer lists; `truncated` says when there were more.
pub const GRADUATIONS_MAX: i64 = 5_000;

/// One line of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GraduationLine {
    /// Kecamatan.
    pub district: String,
    /// Kelurahan / desa.
    pub village: String,
    #[schema(value_type = String, example = "32.04.12.2001")]
    pub village_code: String,
    pub family_id: i64,
    /// Nama pengurus.
    pub recipient_name: String,
    /// Tahun masuk PKH.
    pub year_in: i32,
    /// Tahun keluar PKH.
    pub year_out: i32,
    pub kind: ExitKind,
    pub reason: ExitReason,
    /// Alasan keluar PKH, in the form's words.
    pub reason_wording: String,
    pub non_cash_continues: bool,
    /// Keterangan.
    pub note: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Graduations {
    /// The region asked about; absent for a facilitator area, or the whole country.
    pub region: Option<RegionRef>,
    /// The facilitator (pendamping) whose area this is, when asked for one.
    pub facilitator: Option<FacilitatorArea>,
    pub exits: Vec<GraduationLine>,
    /// More exits than [`GRADUATIONS_MAX`]: ask for a smaller region.
    pub truncated: bool,
}

/// The exits of a facilitator's area, or of a region (the operator's scope when neither).
pub fn graduations(
    store: &Store,
    principal: &Principal,
    region: Option<&RegionCode>,
    facilitator: Option<i64>,
) -> Result<Graduations, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    store.read(|tx| {
        let (region_ref, area_ref, mut listed) = match facilitator {
            Some(id) => {
                let found = store::find_facilitator_by_id(tx, id)?.ok_or(ServiceError::NotFound("facilitator"))?;
                if !scope.covers(&parse_region(&found.region_code)?) {
                    return Err(ServiceError::NotFound("facilitator"));
                }
                let villages: Vec<String> =
                    store::find_facilitator_villages(tx, &[id])?.into_iter().map(|(_, village)| village).collect();
                let listed = family_exits::find_in_area(tx, ExitArea::Villages(&villages), GRADUATIONS_MAX + 1)?;
                let area = FacilitatorArea { id: found.id, name: found.name, region: found.region_code, villages };
                (None, Some(area), listed)
            }
            None => {
                let area = area(tx, principal, region)?;
                let prefix = area.code().map(RegionCode::as_str);
                let listed = family_exits::find_in_area(tx, ExitArea::Region(prefix), GRADUATIONS_MAX + 1)?;
                (area.reference(), None, listed)
            }
        };
        let truncated = listed.len() as i64 > GRADUATIONS_MAX;
        listed.truncate(usize::try_from(GRADUATIONS_MAX).unwrap_or(usize::MAX));
        let mut names = RegionNames::default();
        let mut exits = Vec::with_capacity(listed.len());
        for listed in listed {
            let village_code = parse_region(&listed.village_code)?;
            let district = match village_code.parent() {
                Some(district) => names.name(tx, &district)?,
                None => String::new(),
            };
            let exit = listed.exit;
            exits.push(GraduationLine {
                district,
                village: names.name(tx, &village_code)?,
                village_code: listed.village_code,
                family_id: exit.family_id,
                recipient_name: listed.recipient_name,
                year_in: exit.year_in,
                year_out: exit.terms.year_out,
                kind: exit.terms.kind,
                reason: exit.terms.reason,
                reason_wording: exit.terms.reason.form_wording().to_owned(),
                non_cash_continues: exit.terms.non_cash_continues,
                note: exit.terms.note,
                recorded_at: exit.recorded_at,
            });
        }
        Ok(Graduations { region: region_ref, facilitator: area_ref, exits, truncated })
    })
}

/// Region names read once each.
#[derive(Default)]
struct RegionNames {
    known: BTreeMap<String, String>,
}

impl RegionNames {
    fn name(&mut self, tx: &mut Tx<'_>, code: &RegionCode) -> Result<String, ServiceError> {
        if let Some(name) = self.known.get(code.as_str()) {
            return Ok(name.clone());
        }
        let name = regions::find_by_code(tx, code)?.map(|region| region.name).unwrap_or_else(|| code.to_string());
        self.known.insert(code.to_string(), name.clone());
        Ok(name)
    }
}
