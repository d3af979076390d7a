//! The official region hierarchy: admins add regions, everyone signed in reads it.

use crate::domain::auth::{OperatorRole, RegionCode};
use crate::service::auth::Principal;
use crate::service::{access, ServiceError};
use crate::store::regions;
pub use crate::store::regions::Region;
use crate::store::Store;

/// The longest region name, in characters.
pub const REGION_NAME_CHARS_MAX: usize = 100;

/// An admin adds a region under an existing parent (a province needs none).
pub fn add(store: &Store, principal: &Principal, code: &RegionCode, name: &str) -> Result<Region, ServiceError> {
    let (_, role) = access::operator(principal)?;
    if role != OperatorRole::Admin {
        return Err(ServiceError::Forbidden("only an admin adds regions".to_owned()));
    }
    let name = checked_name(name)?;
    store.write(|tx| {
        if let Some(parent) = code.parent() {
            if regions::find_by_code(tx, &parent)?.is_none() {
                return Err(ServiceError::Invalid(format!("the parent region {parent} does not exist")));
            }
        }
        if regions::find_by_code(tx, code)?.is_some() {
            return Err(ServiceError::Invalid(format!("region {code} already exists")));
        }
        let region = Region::new(code, name);
        regions::insert_if_missing(tx, &region)?;
        Ok(region)
    })
}

/// A region's name, trimmed: 1 to [`REGION_NAME_CHARS_MAX`] characters.
pub fn checked_name(name: &str) -> Result<&str, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > REGION_NAME_CHARS_MAX {
        return Err(ServiceError::Invalid(format!("name: 1 to {REGION_NAME_CHARS_MAX} characters")));
    }
    Ok(name)
}

/// The regions directly below `parent` (provinces when `None`).
pub fn children(store: &Store, parent: Option<&RegionCode>) -> Result<Vec<Region>, ServiceError> {
    Ok(store.read(|tx| regions::find_children(tx, parent))?)
}
