//! Families with their members, one line per family as in the national social-welfare
//! data set (DTKS): `nik,family_card_number,recipient_name,address,village_code,category,members`.
//! `members` lists each member as `name:component` or, for a school child,
//! `name:school_child:sd|smp|sma`, separated by `;`. Each line is checked by the same
//! rules as `POST /v1/families` ([`check_new_family`]).

use std::collections::HashMap;
use std::str::FromStr;

use super::{region_code, ChunkOutcome, Importer, Line, LineRefusal};
use crate::domain::auth::RegionCode;
use crate::domain::family::{
    is_family_card_number, BenefitCategory, MemberCommitment, MemberComponent, SchoolLevel, FAMILY_CARD_NUMBER_DIGITS,
};
use crate::domain::nik::Nik;
use crate::service::families::{check_new_family, is_registered_village, unregistered_village, NewFamily, NewMember};
use crate::service::ServiceError;
use crate::store::families::{self, Family, FamilyInsertForm, MemberInsertForm};
use crate::store::{regions, Tx};

pub const COLUMNS: &[&str] =
    &["nik", "family_card_number", "recipient_name", "address", "village_code", "category", "members"];
const NIK: usize = 0;
const FAMILY_CARD_NUMBER: usize = 1;
const RECIPIENT_NAME: usize = 2;
const ADDRESS: usize = 3;
const VILLAGE_CODE: usize = 4;
const CATEGORY: usize = 5;
const MEMBERS: usize = 6;

/// A line read into a family to register.
struct ImportedFamily {
    family: NewFamily,
    family_card_number: String,
}

/// What makes two registrations under one NIK the same family: then the second is
/// "already present", otherwise refused as `FAMILY_EXISTS`.
type FamilyData<'a> = (&'a str, &'a str, &'a RegionCode, BenefitCategory);

impl ImportedFamily {
    fn data(&self) -> FamilyData<'_> {
        let family = &self.family;
        (&family.recipient_name, &family.address, &family.village, family.category)
    }
}

fn stored_data(family: &Family) -> FamilyData<'_> {
    (&family.recipient_name, &family.address, &family.village, family.category)
}

/// Writes a chunk in a fixed handful of statements: the NIKs and villages known already,
/// then every new family at once, their ids, and every member at once.
pub(super) fn import_chunk(tx: &mut Tx<'_>, importer: &Importer, lines: &[Line]) -> Result<ChunkOutcome, ServiceError> {
    let parsed: Vec<(i64, Result<ImportedFamily, ServiceError>)> = lines
        .iter()
        .map(|line| {
            let family = parse(line).and_then(|family| {
                check_new_family(&importer.scope, &family.family)?;
                Ok(family)
            });
            (line.number, family)
        })
        .collect();
    let good = || parsed.iter().filter_map(|(_, family)| family.as_ref().ok());
    let niks: Vec<&str> = good().map(|imported| imported.family.nik.as_str()).collect();
    let stored: HashMap<String, Family> =
        families::find_by_niks(tx, &niks)?.into_iter().map(|family| (family.nik.clone(), family)).collect();
    let villages: Vec<&str> = good().map(|imported| imported.family.village.as_str()).collect();
    let regions = regions::find_by_codes(tx, &villages)?;
    let mut outcome = ChunkOutcome::default();
    let mut new: Vec<&ImportedFamily> = Vec::new();
    let mut seen: HashMap<&str, &ImportedFamily> = HashMap::new();
    for (line, imported) in &parsed {
        let imported = match imported {
            Ok(imported) => imported,
            Err(error) => {
                outcome.refusals.push(LineRefusal::of(*line, error));
                continue;
            }
        };
        let village = &imported.family.village;
        let region = regions.iter().find(|region| region.code == village.as_str());
        let nik = imported.family.nik.as_str();
        let refusal = if !is_registered_village(village, region) {
            Some(unregistered_village(village))
        } else if let Some(registered) =
            stored.get(nik).map(stored_data).or_else(|| seen.get(nik).map(|earlier| earlier.data()))
        {
            if registered == imported.data() {
                outcome.already_present += 1;
                continue;
            }
            Some(ServiceError::FamilyExists)
        } else {
            None
        };
        match refusal {
            Some(error) => outcome.refusals.push(LineRefusal::of(*line, &error)),
            None => {
                seen.insert(nik, imported);
                new.push(imported);
                outcome.accepted += 1;
            }
        }
    }
    insert(tx, &new)?;
    Ok(outcome)
}

/// The new families, then their members under the ids the database gave them.
fn insert(tx: &mut Tx<'_>, new: &[&ImportedFamily]) -> Result<(), ServiceError> {
    if new.is_empty() {
        return Ok(());
    }
    let forms: Vec<FamilyInsertForm<'_>> = new
        .iter()
        .map(|imported| {
            let family = &imported.family;
            FamilyInsertForm {
                family_card_number: Some(&imported.family_card_number),
                ..FamilyInsertForm::new(
                    family.nik.as_str(),
                    &family.recipient_name,
                    &family.address,
                    &family.village,
                    family.category,
                )
            }
        })
        .collect();
    families::insert_many(tx, &forms)?;
    let niks: Vec<&str> = new.iter().map(|imported| imported.family.nik.as_str()).collect();
    let ids: HashMap<String, i64> =
        families::find_by_niks(tx, &niks)?.into_iter().map(|family| (family.nik, family.id)).collect();
    let mut members = Vec::new();
    for imported in new {
        let id = ids
            .get(imported.family.nik.as_str())
            .ok_or_else(|| ServiceError::Internal("a family just inserted is not found".to_owned()))?;
        members.extend(imported.family.members.iter().map(|member| {
            MemberInsertForm::new(*id, &member.name, member.commitment.component, member.commitment.school_level)
        }));
    }
    families::insert_members(tx, &members)?;
    Ok(())
}

fn parse(line: &Line) -> Result<ImportedFamily, ServiceError> {
    let nik = Nik::parse(line.field(NIK))?;
    let family_card_number = line.field(FAMILY_CARD_NUMBER);
    if !is_family_card_number(family_card_number) {
        return Err(ServiceError::Invalid(format!("family_card_number: {FAMILY_CARD_NUMBER_DIGITS} digits")));
    }
    let category = BenefitCategory::from_str(line.field(CATEGORY))
        .map_err(|_| ServiceError::Invalid("category: regular, elderly, severe_disability or papua".to_owned()))?;
    let family = NewFamily {
        nik,
        recipient_name: line.field(RECIPIENT_NAME).to_owned(),
        address: line.field(ADDRESS).to_owned(),
        village: region_code("village_code", line.field(VILLAGE_CODE))?,
        category,
        members: parse_members(line.field(MEMBERS))?,
    };
    Ok(ImportedFamily { family, family_card_number: family_card_number.to_owned() })
}

/// `name:component[:school_level]` separated by `;` (an empty list is left to the rules).
fn parse_members(text: &str) -> Result<Vec<NewMember>, ServiceError> {
    let refused = |position: usize| {
        ServiceError::Invalid(format!(
            "members: member {position} is not name:component or name:school_child:sd|smp|sma"
        ))
    };
    let mut members = Vec::new();
    for (index, member) in text.split(';').map(str::trim).filter(|member| !member.is_empty()).enumerate() {
        let mut parts = member.split(':').map(str::trim);
        let (Some(name), Some(component)) = (parts.next(), parts.next()) else {
            return Err(refused(index + 1));
        };
        let component = MemberComponent::from_str(component).map_err(|_| refused(index + 1))?;
        let school_level = parts.next().map(SchoolLevel::from_str).transpose().map_err(|_| refused(index + 1))?;
        if parts.next().is_some() {
            return Err(refused(index + 1));
        }
        members.push(NewMember { name: name.to_owned(), commitment: MemberCommitment { component, school_level } });
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_read_with_their_components_and_school_levels() {
        let members = parse_members("Siti:pregnant_or_nursing; Budi:school_child:smp").unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].commitment.school_level, Some(SchoolLevel::Smp));
        for bad in ["Siti", "Siti:astronaut", "Budi:school_child:university", "Budi:school_child:sd:extra"] {
            assert!(parse_members(bad).is_err(), "{bad}");
        }
    }
}
