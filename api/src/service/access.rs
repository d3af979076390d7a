//! Object-level authorization: which family and which card a caller may see. A caller
//! who may not see an object is told it does not exist (404), so existence never leaks.

use crate::domain::auth::{OperatorRole, RegionScope};
use crate::domain::card::CardNumber;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::cards::{self, Card};
use crate::store::families::{self, Family};
use crate::store::Tx;

/// The family, if the caller may see it: the family itself, or an operator whose region
/// covers the family's village.
pub fn visible_family(tx: &mut Tx<'_>, principal: &Principal, family_id: i64) -> Result<Family, ServiceError> {
    let family = families::find_by_id(tx, family_id)?.ok_or(ServiceError::NotFound("family"))?;
    let visible = match principal {
        Principal::Family { id } => *id == family.id,
        Principal::Operator { scope, .. } => scope.covers(&family.village),
        Principal::Agent { .. } => false,
    };
    if visible {
        Ok(family)
    } else {
        Err(ServiceError::NotFound("family"))
    }
}

/// The card and its family, if the caller may see the family.
pub fn visible_card(
    tx: &mut Tx<'_>,
    principal: &Principal,
    card_number: &CardNumber,
) -> Result<(Card, Family), ServiceError> {
    let card = cards::find_by_number(tx, card_number)?.ok_or(ServiceError::NotFound("card"))?;
    let family = visible_family(tx, principal, card.family_id).map_err(|_| ServiceError::NotFound("card"))?;
    Ok((card, family))
}

/// The operator's scope and role; anyone else is refused.
pub fn operator(principal: &Principal) -> Result<(&RegionScope, OperatorRole), ServiceError> {
    match principal {
        Principal::Operator { scope, role, .. } => Ok((scope, *role)),
        _ => Err(ServiceError::Forbidden("only programme operators may do this".to_owned())),
    }
}
