//! Filing a complaint, from any channel: an operator on someone's behalf (face to face,
//! phone, postcard, dropbox), a family from its app, the public web form, the SMS
//! gateway. All go through one [`record`], which sets the priority and the deadline,
//! starts the timeline, writes the audit trail and, when asked, places an investigation
//! hold on the settlement account of the agent whose transaction is complained about.

use crate::domain::auth::{RegionCode, RegionScope};
use crate::domain::card::CardNumber;
use crate::domain::complaint::{
    due_at, Category, Channel, ComplaintStatus, EventKind, Priority, ASSIGNEE_CHARS_MAX, CONTACT_CHARS_MAX,
};
use crate::domain::ledger::{AccountKind, HoldReason, OwnerKind};
use crate::domain::money::Amount;
use crate::ledger::{accounts, holds};
use crate::service::access;
use crate::service::auth::Principal;
use crate::service::ServiceError;
use crate::store::complaints::{self, ComplaintInsertForm};
use crate::store::{audit, edc, now, regions, Store, Tx};

use super::{add_event, check_text, detail, ComplaintDetail};

/// The channels an operator enters a complaint from.
pub const OPERATOR_CHANNELS: [Channel; 5] =
    [Channel::Operator, Channel::FaceToFace, Channel::Phone, Channel::Postcard, Channel::Dropbox];

/// A complaint an operator enters, or a family files from its app.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    /// An operator's channel; a family's complaint is always `app`.
    pub channel: Channel,
    pub category: Category,
    pub description: String,
    pub contact: String,
    /// The region it concerns; the family's village when absent and a family is named.
    pub region: Option<RegionCode>,
    pub family_id: Option<i64>,
    pub card: Option<CardNumber>,
    pub agent_id: Option<i64>,
    pub edc_reference: Option<String>,
    /// The category's priority unless an operator sets another.
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    /// Hold the amount of the EDC transaction on the agent's settlement account until the
    /// complaint is resolved or rejected (operators only).
    pub hold_agent_settlement: bool,
}

/// What the public web form sends: no login, so a contact and a region are required.
#[derive(Debug, Clone)]
pub struct PublicComplaint {
    pub category: Category,
    pub description: String,
    pub contact: String,
    pub region: RegionCode,
}

/// What the SMS gateway posts: the sender's number and the message.
#[derive(Debug, Clone)]
pub struct SmsComplaint {
    pub sender: String,
    pub text: String,
}

/// Who files, with what, ready for [`record`].
struct Filing<'a> {
    channel: Channel,
    category: Category,
    priority: Priority,
    description: &'a str,
    contact: &'a str,
    region: Option<&'a RegionCode>,
    family_id: Option<i64>,
    card: Option<&'a CardNumber>,
    agent_id: Option<i64>,
    edc_reference: Option<&'a str>,
    assignee: Option<&'a str>,
    hold_agent_settlement: bool,
    filed_by: &'a str,
}

/// An operator (for its region) or a family (for itself) files a complaint.
pub fn file(store: &Store, principal: &Principal, new: &NewComplaint) -> Result<ComplaintDetail, ServiceError> {
    check_text("description", &new.description, true)?;
    check_contact(&new.contact, false)?;
    if new.assignee.as_ref().is_some_and(|assignee| assignee.chars().count() > ASSIGNEE_CHARS_MAX) {
        return Err(ServiceError::Invalid(format!("assignee: at most {ASSIGNEE_CHARS_MAX} characters")));
    }
    let filed_by = principal.subject();
    store.write(|tx| {
        let (family, card) = linked_family(tx, principal, new)?;
        let channel = match principal {
            Principal::Family { .. } => {
                if new.hold_agent_settlement || new.priority.is_some() || new.assignee.is_some() || new.region.is_some()
                {
                    return Err(ServiceError::Forbidden(
                        "a family files category, description and links; operators set the rest".to_owned(),
                    ));
                }
                Channel::App
            }
            Principal::Operator { .. } if OPERATOR_CHANNELS.contains(&new.channel) => new.channel,
            Principal::Operator { .. } => {
                return Err(ServiceError::Invalid(format!(
                    "channel {}: an operator enters operator, face_to_face, phone, postcard or dropbox",
                    new.channel
                )))
            }
            Principal::Agent { .. } => {
                return Err(ServiceError::Forbidden("complaints are filed by operators and families".to_owned()))
            }
        };
        let region = new.region.clone().or_else(|| family.as_ref().map(|family| family.village.clone()));
        if let (Principal::Operator { scope, .. }, Some(region)) = (principal, region.as_ref()) {
            if !scope.covers(region) {
                return Err(ServiceError::NotFound("region"));
            }
        }
        if let (Principal::Operator { scope: RegionScope::Region(_), .. }, None) = (principal, region.as_ref()) {
            return Err(ServiceError::Invalid("region: the region the complaint concerns".to_owned()));
        }
        let filing = Filing {
            channel,
            category: new.category,
            priority: new.priority.unwrap_or(new.category.priority()),
            description: &new.description,
            contact: &new.contact,
            region: region.as_ref(),
            family_id: family.as_ref().map(|family| family.id),
            card: card.as_ref(),
            agent_id: new.agent_id,
            edc_reference: new.edc_reference.as_deref(),
            assignee: new.assignee.as_deref(),
            hold_agent_settlement: new.hold_agent_settlement,
            filed_by: &filed_by,
        };
        record(tx, &filing)
    })
}

/// The public web form files a complaint for a region, with a contact to answer.
pub fn file_public(store: &Store, new: &PublicComplaint) -> Result<ComplaintDetail, ServiceError> {
    check_text("description", &new.description, true)?;
    check_contact(&new.contact, true)?;
    store.write(|tx| {
        let filing = Filing {
            channel: Channel::Web,
            category: new.category,
            priority: new.category.priority(),
            description: &new.description,
            contact: &new.contact,
            region: Some(&new.region),
            family_id: None,
            card: None,
            agent_id: None,
            edc_reference: None,
            assignee: None,
            hold_agent_settlement: false,
            filed_by: "public:web",
        };
        record(tx, &filing)
    })
}

/// The SMS gateway files a text: category `other` and no region until an operator reads
/// it (national operators see it).
pub fn file_sms(store: &Store, sms: &SmsComplaint) -> Result<ComplaintDetail, ServiceError> {
    check_text("text", &sms.text, true)?;
    check_contact(&sms.sender, true)?;
    store.write(|tx| {
        let filing = Filing {
            channel: Channel::Sms,
            category: Category::Other,
            priority: Category::Other.priority(),
            description: &sms.text,
            contact: &sms.sender,
            region: None,
            family_id: None,
            card: None,
            agent_id: None,
            edc_reference: None,
            assignee: None,
            hold_agent_settlement: false,
            filed_by: "public:sms",
        };
        record(tx, &filing)
    })
}

fn check_contact(contact: &str, required: bool) -> Result<(), ServiceError> {
    if (required && contact.trim().is_empty()) || contact.chars().count() > CONTACT_CHARS_MAX {
        return Err(ServiceError::Invalid(format!(
            "contact: {} to {CONTACT_CHARS_MAX} characters (a phone number or an address to answer)",
            u8::from(required)
        )));
    }
    Ok(())
}

/// The family a complaint names, directly, through its card or through the EDC
/// transaction, checked against the caller (a family names only itself); and the card.
fn linked_family(
    tx: &mut Tx<'_>,
    principal: &Principal,
    new: &NewComplaint,
) -> Result<(Option<crate::store::families::Family>, Option<CardNumber>), ServiceError> {
    let family_id = match principal {
        Principal::Family { id } if new.family_id.is_some_and(|named| named != *id) => {
            return Err(ServiceError::NotFound("family"))
        }
        Principal::Family { id } => Some(*id),
        _ => new.family_id,
    };
    let from_card = match &new.card {
        Some(number) => Some(access::visible_card(tx, principal, number)?.0.family_id),
        None => None,
    };
    let from_transaction = match &new.edc_reference {
        Some(reference) => {
            let transaction =
                edc::find_by_reference(tx, reference)?.ok_or(ServiceError::NotFound("edc transaction"))?;
            if new.agent_id.is_some_and(|agent| agent != transaction.agent_id) {
                return Err(ServiceError::Invalid("agent_id: not the agent of that transaction".to_owned()));
            }
            transaction.family_id
        }
        None => None,
    };
    let named: Vec<i64> = [family_id, from_card, from_transaction].into_iter().flatten().collect();
    let Some(first) = named.first().copied() else {
        return Ok((None, new.card.clone()));
    };
    if named.iter().any(|other| *other != first) {
        return Err(ServiceError::Invalid("the family, card and transaction named are not one family's".to_owned()));
    }
    let family = access::visible_family(tx, principal, first)?;
    Ok((Some(family), new.card.clone()))
}

/// Checks the region, the transaction and the agent named, then records the complaint,
/// its first timeline line, the hold if asked, and the audit event.
fn record(tx: &mut Tx<'_>, filing: &Filing<'_>) -> Result<ComplaintDetail, ServiceError> {
    if let Some(region) = filing.region {
        regions::find_by_code(tx, region)?.ok_or(ServiceError::NotFound("region"))?;
    }
    let transaction = match filing.edc_reference {
        Some(reference) => {
            Some(edc::find_by_reference(tx, reference)?.ok_or(ServiceError::NotFound("edc transaction"))?)
        }
        None => None,
    };
    let agent_id = filing.agent_id.or(transaction.as_ref().map(|transaction| transaction.agent_id));
    if let Some(agent) = agent_id {
        crate::store::agents::find_by_id(tx, agent)?.ok_or(ServiceError::NotFound("agent"))?;
    }
    let received_at = now();
    let form = ComplaintInsertForm {
        channel: filing.channel.as_ref(),
        category: filing.category.as_ref(),
        priority: filing.priority.as_ref(),
        status: ComplaintStatus::Received.as_ref(),
        region_code: filing.region.map(RegionCode::as_str),
        family_id: filing.family_id,
        card_number: filing.card.map(CardNumber::as_str),
        agent_id,
        edc_reference: filing.edc_reference,
        description: filing.description,
        contact: filing.contact,
        assignee: filing.assignee,
        filed_by: filing.filed_by,
        received_at,
        due_at: due_at(filing.priority, received_at),
    };
    let mut complaint = complaints::insert(tx, &form)?;
    add_event(tx, complaint.id, EventKind::Filed, ComplaintStatus::Received, filing.description, filing.filed_by)?;
    if filing.hold_agent_settlement {
        let (Some(transaction), Some(agent)) = (transaction.as_ref(), agent_id) else {
            return Err(ServiceError::Invalid(
                "hold_agent_settlement: name the agent's EDC transaction (edc_reference)".to_owned(),
            ));
        };
        let amount = Amount::from_minor(transaction.amount_minor)
            .map_err(|_| ServiceError::Invalid("hold_agent_settlement: the transaction moved no money".to_owned()))?;
        let account =
            accounts::find_by_owner_and_kind(tx, OwnerKind::Agent, &agent.to_string(), AccountKind::AgentSettlement)?
                .ok_or(ServiceError::NotFound("agent settlement account"))?;
        let reference = format!("complaint {}", complaint.id);
        let draft = holds::HoldDraft {
            account: account.id,
            amount,
            reason: HoldReason::Investigation,
            reference: &reference,
            placed_by: filing.filed_by,
            release_at: None,
        };
        let hold = holds::place(tx, &draft)?;
        complaints::set_hold(tx, complaint.id, hold.id.0)?;
        complaint.hold_id = Some(hold.id.0);
    }
    audit::record(
        tx,
        &audit::AuditRecord {
            actor: filing.filed_by,
            action: "complaint.filed",
            object_kind: "complaint",
            object_id: &complaint.id.to_string(),
            reason: complaint.category.as_ref(),
            details: serde_json::json!({
                "channel": complaint.channel,
                "priority": complaint.priority,
                "region": complaint.region_code,
                "family_id": complaint.family_id,
                "agent_id": complaint.agent_id,
                "edc_reference": complaint.edc_reference,
                "hold_id": complaint.hold_id,
            }),
        },
    )?;
    detail(tx, complaint)
}
