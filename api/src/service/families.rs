//! Families (KPM): registration by an operator, the profile, and the balances per
//! pocket that the family app shows, with every block explained.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::auth::Principal;
use super::cards::FAMILY_POCKETS;
use crate::domain::auth::{RegionCode, RegionLevel, RegionScope};
use crate::domain::card::{Bank, CardNumber};
use crate::domain::family::{
    check_family, BenefitCategory, CardStatus, FamilyStatus, MemberCommitment, MemberComponent, SchoolLevel,
};
use crate::domain::holds::{hold_is_in_force, pocket_figures, ActiveHold, PocketFigures};
use crate::domain::language::Words;
use crate::domain::ledger::{AccountKind, HoldReason, OwnerKind};
use crate::domain::money::rupiah_from_minor;
use crate::domain::nik::Nik;
use crate::ledger::accounts::Account;
use crate::ledger::holds::{self, Hold};
use crate::service::graduation::ExitView;
use crate::service::ServiceError;
use crate::store::families::{self, Family, FamilyInsertForm};
use crate::store::family_exits;
use crate::store::regions::Region;
use crate::store::{audit, cards, now, regions, Store, Tx};

/// The longest name or address stored, in characters.
pub const FAMILY_TEXT_CHARS_MAX: usize = 200;

/// A family to register, already parsed at the door.
#[derive(Debug, Clone)]
pub struct NewFamily {
    pub nik: Nik,
    pub recipient_name: String,
    pub address: String,
    pub village: RegionCode,
    pub category: BenefitCategory,
    pub members: Vec<NewMember>,
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub name: String,
    pub commitment: MemberCommitment,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FamilyProfile {
    pub id: i64,
    pub nik: String,
    pub recipient_name: String,
    pub address: String,
    #[schema(value_type = String)]
    pub village: RegionCode,
    pub category: BenefitCategory,
    pub status: FamilyStatus,
    /// The nomor Kartu Keluarga (16 digits), once registered or corrected.
    pub family_card_number: Option<String>,
    /// Where the members' health commitments are checked (puskesmas, posyandu).
    pub health_facility: Option<String>,
    /// No member has a PKH component left: the next cycle close records the natural exit.
    pub natural_exit_due: bool,
    pub members: Vec<MemberView>,
    pub cards: Vec<CardSummary>,
    /// Why and when the family left PKH, once it graduated or exited.
    pub exit: Option<ExitView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub component: MemberComponent,
    pub school_level: Option<SchoolLevel>,
    /// The member's NIK, once a data update recorded it.
    pub nik: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardSummary {
    pub card_number: CardNumber,
    pub masked_number: String,
    pub bank: Bank,
    pub sequence: u16,
    pub status: CardStatus,
    pub expires_on: NaiveDate,
}

/// One pocket of the card: its balance, what is blocked and why, and what may be used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pocket {
    pub kind: AccountKind,
    pub name: Words,
    #[schema(value_type = String, example = "500000.00")]
    pub balance: Decimal,
    /// Money kept by holds still in force (a hold past its release time no longer is).
    #[schema(value_type = String, example = "0.00")]
    pub held: Decimal,
    /// Money kept by the pocket's block, beyond what holds keep.
    #[schema(value_type = String, example = "0.00")]
    pub blocked: Decimal,
    #[schema(value_type = String, example = "500000.00")]
    pub available: Decimal,
    pub holds: Vec<HoldView>,
    /// Why nothing may leave the pocket, while it is blocked.
    pub block: Option<BlockView>,
}

/// A pocket's debit block (a suspended family's PKH wallet), as the family sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BlockView {
    pub reason: HoldReason,
    pub explanation: Words,
    /// What it is about: the cycle, the member and the commitment missed.
    pub reference: String,
    pub since: NaiveDateTime,
}

/// A family pocket with its active holds, read together in one transaction.
#[derive(Debug, Clone)]
pub struct PocketState {
    pub account: Account,
    pub holds: Vec<Hold>,
}

impl PocketState {
    /// The pocket's figures at `at` for a balance of `balance_minor` (the stored one, or
    /// the one a journal just left).
    pub fn figures(&self, balance_minor: i64, at: NaiveDateTime) -> PocketFigures {
        let holds: Vec<ActiveHold> = self
            .holds
            .iter()
            .map(|hold| ActiveHold { amount_minor: hold.amount_minor, release_at: hold.release_at })
            .collect();
        pocket_figures(balance_minor, &holds, self.account.block.is_some(), at)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldView {
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub reason: HoldReason,
    pub explanation: Words,
    pub reference: String,
    pub placed_at: NaiveDateTime,
    /// When the block ends by itself, if it does.
    pub release_at: Option<NaiveDateTime>,
}

/// An operator registers a family in a village of its region.
pub fn register(store: &Store, principal: &Principal, new: &NewFamily) -> Result<FamilyProfile, ServiceError> {
    let (scope, _) = access::operator(principal)?;
    check_new_family(scope, new)?;
    store.write(|tx| {
        if !is_registered_village(&new.village, regions::find_by_code(tx, &new.village)?.as_ref()) {
            return Err(unregistered_village(&new.village));
        }
        if families::find_by_nik(tx, new.nik.as_str())?.is_some() {
            return Err(ServiceError::FamilyExists);
        }
        let form =
            FamilyInsertForm::new(new.nik.as_str(), &new.recipient_name, &new.address, &new.village, new.category);
        let family = families::insert(tx, &form).map_err(|error| match error {
            // Two operators registering the same NIK at once: the unique index decides.
            error if error.is_unique_violation() => ServiceError::FamilyExists,
            other => other.into(),
        })?;
        for member in &new.members {
            families::insert_member(
                tx,
                family.id,
                &member.name,
                member.commitment.component,
                member.commitment.school_level,
            )?;
        }
        audit::record(
            tx,
            &audit::AuditRecord {
                actor: &principal.subject(),
                action: "family.registered",
                object_kind: "family",
                object_id: &family.id.to_string(),
                reason: "registered by an operator",
                details: serde_json::json!({ "village": new.village, "category": new.category }),
            },
        )?;
        profile_of(tx, family)
    })
}

/// The rules a family's registration meets before the database is asked anything: the
/// village within the operator's region, names and addresses, the programme's rules.
/// A bulk import checks each line with the same function.
pub fn check_new_family(scope: &RegionScope, new: &NewFamily) -> Result<(), ServiceError> {
    if !scope.covers(&new.village) {
        return Err(ServiceError::Forbidden(format!("village {} is outside your region", new.village)));
    }
    for text in [&new.recipient_name, &new.address].into_iter().chain(new.members.iter().map(|member| &member.name)) {
        if text.trim().is_empty() || text.chars().count() > FAMILY_TEXT_CHARS_MAX {
            return Err(ServiceError::Invalid(format!(
                "names and addresses are 1 to {FAMILY_TEXT_CHARS_MAX} characters"
            )));
        }
    }
    let commitments: Vec<MemberCommitment> = new.members.iter().map(|member| member.commitment).collect();
    check_family(new.category, &commitments, &new.village)?;
    Ok(())
}

/// Whether a village code names a registered village (the region read, or none).
pub fn is_registered_village(village: &RegionCode, region: Option<&Region>) -> bool {
    village.level() == RegionLevel::Village && region.is_some()
}

pub fn unregistered_village(village: &RegionCode) -> ServiceError {
    ServiceError::Invalid(format!("village {village} is not a registered village"))
}

/// The family's profile, members and cards, for the family itself or an operator.
pub fn profile(store: &Store, principal: &Principal, family_id: i64) -> Result<FamilyProfile, ServiceError> {
    store.read(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        profile_of(tx, family)
    })
}

fn profile_of(tx: &mut Tx<'_>, family: Family) -> Result<FamilyProfile, ServiceError> {
    let members = families::find_members_by_family(tx, family.id)?
        .into_iter()
        .map(|member| MemberView {
            id: member.id,
            name: member.name,
            component: member.component,
            school_level: member.school_level,
            nik: member.nik,
        })
        .collect();
    let cards = cards::find_by_family(tx, family.id)?
        .into_iter()
        .map(|card| CardSummary {
            masked_number: card.card_number.masked(),
            card_number: card.card_number,
            bank: card.bank,
            sequence: card.sequence,
            status: card.status,
            expires_on: card.expires_on,
        })
        .collect();
    Ok(FamilyProfile {
        id: family.id,
        nik: family.nik,
        recipient_name: family.recipient_name,
        address: family.address,
        village: family.village,
        category: family.category,
        status: family.status,
        family_card_number: family.family_card_number,
        health_facility: family.health_facility,
        natural_exit_due: family.natural_exit_due,
        exit: family_exits::find_by_family(tx, family.id)?.map(ExitView::of),
        members,
        cards,
    })
}

/// What the family app shows: each pocket's balance, blocks with reasons, and what is free.
pub fn balances(store: &Store, principal: &Principal, family_id: i64) -> Result<Vec<Pocket>, ServiceError> {
    store.read(|tx| {
        let family = access::visible_family(tx, principal, family_id)?;
        let at = now();
        Ok(family_pockets(tx, family.id)?.into_iter().map(|pocket| pocket_view(pocket, at)).collect())
    })
}

fn pocket_view(pocket: PocketState, at: NaiveDateTime) -> Pocket {
    let figures = pocket.figures(pocket.account.balance_minor, at);
    let kind = pocket.account.kind;
    Pocket {
        kind,
        name: pocket_name(kind),
        balance: rupiah_from_minor(figures.balance_minor),
        held: rupiah_from_minor(figures.held_minor),
        blocked: rupiah_from_minor(figures.blocked_minor),
        available: rupiah_from_minor(figures.available_minor),
        holds: pocket
            .holds
            .into_iter()
            .filter(|hold| hold_is_in_force(hold.release_at, at))
            .map(|hold| HoldView {
                amount: rupiah_from_minor(hold.amount_minor),
                reason: hold.reason,
                explanation: hold.reason.explain(),
                reference: hold.reference,
                placed_at: hold.placed_at,
                release_at: hold.release_at,
            })
            .collect(),
        block: pocket.account.block.map(|block| BlockView {
            reason: block.reason,
            explanation: block.reason.explain(),
            reference: block.reference,
            since: block.blocked_at,
        }),
    }
}

/// The family's pockets (savings, then each programme e-wallet) that are open or were,
/// each with its active holds: one query whatever the number of pockets.
pub fn family_pockets(tx: &mut Tx<'_>, family_id: i64) -> Result<Vec<PocketState>, ServiceError> {
    Ok(family_pockets_and_settlement(tx, family_id, None)?.0)
}

/// [`family_pockets`], and in the same query the agent's settlement account, if `agent_id`
/// is given and the account is open (a card transaction that pays the agent).
pub fn family_pockets_and_settlement(
    tx: &mut Tx<'_>,
    family_id: i64,
    agent_id: Option<i64>,
) -> Result<(Vec<PocketState>, Option<Account>), ServiceError> {
    let agent = agent_id.map(|id| id.to_string());
    let settlement = agent.as_deref().map(|agent| (OwnerKind::Agent, agent, AccountKind::AgentSettlement));
    let (mut pockets, mut agent_settlement) = (Vec::new(), None);
    for (account, holds) in
        holds::find_by_owner_with_active_holds(tx, OwnerKind::Family, &family_id.to_string(), settlement)?
    {
        if account.owner_kind == OwnerKind::Agent {
            agent_settlement = Some(account);
        } else if FAMILY_POCKETS.contains(&account.kind) {
            pockets.push(PocketState { account, holds });
        }
    }
    pockets.sort_by_key(|pocket| FAMILY_POCKETS.iter().position(|kind| *kind == pocket.account.kind));
    Ok((pockets, agent_settlement))
}

/// The names printed on the e-wallet slip.
pub fn pocket_name(kind: AccountKind) -> Words {
    match kind {
        AccountKind::Savings => Words::new("Tabungan", "Savings"),
        AccountKind::WalletPkh => Words::new("e-Wallet PKH", "PKH e-wallet"),
        AccountKind::WalletBpnt => Words::new("e-Wallet Bantuan Pangan (BPNT)", "Food assistance e-wallet (BPNT)"),
        AccountKind::WalletLpg => Words::new("e-Wallet LPG", "LPG e-wallet"),
        AccountKind::Treasury | AccountKind::ProgrammeFund | AccountKind::AgentSettlement => {
            Words::new(kind.as_ref(), kind.as_ref())
        }
    }
}
