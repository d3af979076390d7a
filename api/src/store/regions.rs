//! The official region hierarchy.

use diesel::prelude::*;

use super::schema::regions;
use super::{on_backend, StoreError, Tx};
use crate::domain::auth::RegionCode;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = regions, treat_none_as_default_value = false)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

impl Region {
    pub fn new(code: &RegionCode, name: &str) -> Self {
        Self {
            code: code.as_str().to_owned(),
            name: name.to_owned(),
            level: code.level().to_string(),
            parent_code: code.parent().map(|parent| parent.as_str().to_owned()),
        }
    }
}

/// Adds a region (its parent must exist already); an existing code is left as it is.
pub fn insert_if_missing(tx: &mut Tx<'_>, region: &Region) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::insert_into(regions::table)
        .values(region)
        .on_conflict_do_nothing()
        .execute(connection)?);
    Ok(())
}

pub fn find_by_code(tx: &mut Tx<'_>, code: &RegionCode) -> Result<Option<Region>, StoreError> {
    on_backend!(tx, connection => Ok(regions::table
        .find(code.as_str())
        .select(Region::as_select())
        .first(connection)
        .optional()?))
}

/// The regions one level below `parent` (provinces when `None`), by code.
pub fn find_children(tx: &mut Tx<'_>, parent: Option<&RegionCode>) -> Result<Vec<Region>, StoreError> {
    on_backend!(tx, connection => {
        let query = regions::table.select(Region::as_select()).order(regions::code).into_boxed();
        let query = match parent {
            Some(parent) => query.filter(regions::parent_code.eq(parent.as_str())),
            None => query.filter(regions::parent_code.is_null()),
        };
        Ok(query.load(connection)?)
    })
}

/// The regions among these codes that exist.
pub fn find_by_codes(tx: &mut Tx<'_>, codes: &[&str]) -> Result<Vec<Region>, StoreError> {
    on_backend!(tx, connection => Ok(regions::table
        .filter(regions::code.eq_any(codes))
        .select(Region::as_select())
        .load(connection)?))
}

/// Adds many new regions in one statement (a bulk import's chunk, which looked for them
/// first; a code added meanwhile by someone else fails the chunk, to be run again).
pub fn insert_many(tx: &mut Tx<'_>, new: &[Region]) -> Result<(), StoreError> {
    if new.is_empty() {
        return Ok(());
    }
    on_backend!(tx, connection => diesel::insert_into(regions::table).values(new).execute(connection)?);
    Ok(())
}
