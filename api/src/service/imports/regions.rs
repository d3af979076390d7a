//! Regions from a CSV of Kemendagri codes and names (`code,name`), province to village.
//! A parent comes before its children, as in the national list sorted by code.

use std::collections::HashMap;

use super::{region_code, ChunkOutcome, Line, LineRefusal};
use crate::service::regions::checked_name;
use crate::service::ServiceError;
use crate::store::regions::{self, Region};
use crate::store::Tx;

pub const COLUMNS: &[&str] = &["code", "name"];
const CODE: usize = 0;
const NAME: usize = 1;

/// Writes a chunk in three statements: the codes and parents known already, then every
/// new region at once.
pub(super) fn import_chunk(tx: &mut Tx<'_>, lines: &[Line]) -> Result<ChunkOutcome, ServiceError> {
    let mut wanted: Vec<&str> = Vec::with_capacity(lines.len() * 2);
    let parsed: Vec<(i64, Result<Region, ServiceError>)> = lines
        .iter()
        .map(|line| {
            let region = region_code("code", line.field(CODE))
                .and_then(|code| Ok(Region::new(&code, checked_name(line.field(NAME))?)));
            (line.number, region)
        })
        .collect();
    for region in parsed.iter().filter_map(|(_, region)| region.as_ref().ok()) {
        wanted.push(&region.code);
        wanted.extend(region.parent_code.as_deref());
    }
    // Known: every region stored, and each one this chunk adds, as it is added.
    let mut known: HashMap<String, String> =
        regions::find_by_codes(tx, &wanted)?.into_iter().map(|region| (region.code, region.name)).collect();
    let mut outcome = ChunkOutcome::default();
    let mut new = Vec::new();
    for (line, region) in parsed {
        let region = match region {
            Ok(region) => region,
            Err(error) => {
                outcome.refusals.push(LineRefusal::of(line, &error));
                continue;
            }
        };
        match known.get(&region.code) {
            Some(name) if *name == region.name => outcome.already_present += 1,
            Some(_) => outcome.refusals.push(LineRefusal::of(
                line,
                &ServiceError::Invalid(format!("region {} exists with another name", region.code)),
            )),
            None => match &region.parent_code {
                Some(parent) if !known.contains_key(parent) => outcome.refusals.push(LineRefusal::of(
                    line,
                    &ServiceError::Invalid(format!(
                        "the parent region {parent} does not exist (a parent comes before its children)"
                    )),
                )),
                _ => {
                    known.insert(region.code.clone(), region.name.clone());
                    outcome.accepted += 1;
                    new.push(region);
                }
            },
        }
    }
    regions::insert_many(tx, &new)?;
    Ok(outcome)
}
