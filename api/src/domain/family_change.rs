//! Data updates (seeds: "pemutakhiran data"): typed changes to a registered family. Every
//! member of a family carries a PKH component here, so a family whose last member leaves
//! has none left and is due a natural exit. A sensitive change (a new recipient, a move to
//! another regency) waits for a second person's approval before it applies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{RegionCode, RegionLevel};
use super::family::{
    is_family_card_number, FamilyStatus, MemberComponent, SchoolLevel, FAMILY_CARD_NUMBER_DIGITS, FAMILY_MEMBERS_MAX,
};
use super::nik::Nik;

/// The longest name a change sets, in characters.
pub const CHANGE_NAME_CHARS_MAX: usize = 200;

text_enum! {
    /// How a member joins.
    pub enum JoinReason {
        Birth,
        Joins,
    }
}

text_enum! {
    /// Why a member's PKH component ends.
    pub enum LeaveReason {
        Death,
        MovesOut,
        /// A school child leaves school.
        LeftSchool,
        /// A pregnancy ended (for a pregnant or nursing member).
        PregnancyEnded,
    }
}

/// One change, as an operator enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FamilyChange {
    /// A member is born or joins, with the component it brings (a pregnancy that starts is
    /// a member with `pregnant_or_nursing`).
    MemberAdded { name: String, component: MemberComponent, school_level: Option<SchoolLevel>, reason: JoinReason },
    /// A member's component ends: death, moving out, leaving school, a pregnancy ended.
    MemberLeaves { member_id: i64, reason: LeaveReason },
    /// A school child moves to another level.
    SchoolLevelChanged { member_id: i64, school_level: SchoolLevel },
    /// The recipient's name, corrected.
    RecipientNameCorrected { recipient_name: String },
    /// The family moves to another village: the card and pockets stay, the regional
    /// figures move with it. Across regencies it waits for a second person's approval.
    VillageMoved { village_code: RegionCode },
    /// A new cardholder (the recipient died or left): the old card is replaced, the new
    /// one has a new PIN; the money stays with the family. Waits for a second person.
    RecipientChanged { recipient_name: String, nik: Nik },
    /// A NIK corrected: a member's (`member_id`), or the recipient's when absent.
    NikCorrected { member_id: Option<i64>, nik: Nik },
    /// The family card number (nomor Kartu Keluarga, 16 digits), corrected.
    DocumentCorrected { family_card_number: String },
    /// The health facility (puskesmas, posyandu) where the family's members are checked.
    HealthFacilityChanged { health_facility: String },
}

impl FamilyChange {
    /// The change's kind as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MemberAdded { .. } => "member_added",
            Self::MemberLeaves { .. } => "member_leaves",
            Self::SchoolLevelChanged { .. } => "school_level_changed",
            Self::RecipientNameCorrected { .. } => "recipient_name_corrected",
            Self::VillageMoved { .. } => "village_moved",
            Self::RecipientChanged { .. } => "recipient_changed",
            Self::NikCorrected { .. } => "nik_corrected",
            Self::DocumentCorrected { .. } => "document_corrected",
            Self::HealthFacilityChanged { .. } => "health_facility_changed",
        }
    }
}

/// The regency a village lies in (its first two levels).
fn regency_of(village: &RegionCode) -> Option<RegionCode> {
    let mut region = village.clone();
    while region.level() != RegionLevel::Regency {
        region = region.parent()?;
    }
    Some(region)
}

/// A current member, as the rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentMember {
    pub id: i64,
    pub component: MemberComponent,
}

/// What applying a change does: whether a second person must approve it first, and
/// whether the family is then due a natural exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangePlan {
    pub needs_approval: bool,
    pub natural_exit_due: bool,
}

text_enum! {
    /// Where a change stands: applied, or waiting for a second person, or rejected by one.
    pub enum ChangeStatus {
        Applied,
        Pending,
        Rejected,
    }
}

text_enum! {
    /// What the second person decides on a pending change.
    pub enum ChangeDecision {
        Approve,
        Reject,
    }
}

/// What deciding on a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionPlan {
    /// Apply the change (approve) or mark it rejected: it was pending.
    Decide,
    /// The same decision was taken already (a retry): answer it again, change nothing.
    AlreadyDecided,
}

/// Why a decision on a change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefusal {
    #[error("a supervisor or an admin approves or rejects a data update")]
    RoleMayNotDecide,
    #[error("the person who entered a change may not approve it: a second person does")]
    SamePerson,
    #[error("the change is {0} already")]
    AlreadyDecidedOtherwise(ChangeStatus),
}

/// The second-person rule: a supervisor or an admin decides on a pending change, and an
/// approval comes from someone other than the person who entered it; deciding again as
/// before changes nothing, deciding otherwise is refused.
pub fn decide_decision(
    status: ChangeStatus,
    entered_by: &str,
    decider: &str,
    decider_may_approve: bool,
    decision: ChangeDecision,
) -> Result<DecisionPlan, DecisionRefusal> {
    if !decider_may_approve {
        return Err(DecisionRefusal::RoleMayNotDecide);
    }
    match (status, decision) {
        (ChangeStatus::Pending, ChangeDecision::Approve) if entered_by == decider => Err(DecisionRefusal::SamePerson),
        (ChangeStatus::Pending, _) => Ok(DecisionPlan::Decide),
        (ChangeStatus::Applied, ChangeDecision::Approve) | (ChangeStatus::Rejected, ChangeDecision::Reject) => {
            Ok(DecisionPlan::AlreadyDecided)
        }
        (other, _) => Err(DecisionRefusal::AlreadyDecidedOtherwise(other)),
    }
}

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    #[error("the family is terminated: its data no longer changes")]
    Terminated,
    #[error("member {0} is not a current member of the family")]
    UnknownMember(i64),
    #[error("a school child needs a school level (sd, smp, sma), and only a school child has one")]
    SchoolLevel,
    #[error("{reason} does not end a {component} member's component")]
    ReasonDoesNotFit { reason: LeaveReason, component: MemberComponent },
    #[error("a family has at most {FAMILY_MEMBERS_MAX} members")]
    TooManyMembers,
    #[error("names are 1 to {CHANGE_NAME_CHARS_MAX} characters")]
    Name,
    #[error("{0} is not a village code (a village is 32.04.12.2001)")]
    NotAVillage(RegionCode),
    #[error("the family lives in village {0} already")]
    SameVillage(RegionCode),
    #[error("the family card number has {FAMILY_CARD_NUMBER_DIGITS} digits")]
    FamilyCardNumber,
}

/// The data-update rule: a terminated family does not change; a change names a current
/// member and fits its component; a new recipient, and a move out of the family's
/// regency (`village`), need a second person's approval.
pub fn decide_change(
    status: FamilyStatus,
    village: &RegionCode,
    members: &[CurrentMember],
    change: &FamilyChange,
) -> Result<ChangePlan, ChangeRefusal> {
    if status == FamilyStatus::Terminated {
        return Err(ChangeRefusal::Terminated);
    }
    let member = |id: i64| members.iter().find(|member| member.id == id).ok_or(ChangeRefusal::UnknownMember(id));
    let check_name = |name: &str| {
        let characters = name.trim().chars().count();
        if characters == 0 || characters > CHANGE_NAME_CHARS_MAX {
            return Err(ChangeRefusal::Name);
        }
        Ok(())
    };
    let mut needs_approval = false;
    let members_after = match change {
        FamilyChange::MemberAdded { name, component, school_level, .. } => {
            check_name(name)?;
            if (*component == MemberComponent::SchoolChild) != school_level.is_some() {
                return Err(ChangeRefusal::SchoolLevel);
            }
            if members.len() >= FAMILY_MEMBERS_MAX {
                return Err(ChangeRefusal::TooManyMembers);
            }
            members.len() + 1
        }
        FamilyChange::MemberLeaves { member_id, reason } => {
            let component = member(*member_id)?.component;
            let fits = match reason {
                LeaveReason::Death | LeaveReason::MovesOut => true,
                LeaveReason::LeftSchool => component == MemberComponent::SchoolChild,
                LeaveReason::PregnancyEnded => component == MemberComponent::PregnantOrNursing,
            };
            if !fits {
                return Err(ChangeRefusal::ReasonDoesNotFit { reason: *reason, component });
            }
            members.len() - 1
        }
        FamilyChange::SchoolLevelChanged { member_id, .. } => {
            if member(*member_id)?.component != MemberComponent::SchoolChild {
                return Err(ChangeRefusal::SchoolLevel);
            }
            members.len()
        }
        FamilyChange::RecipientNameCorrected { recipient_name: name }
        | FamilyChange::HealthFacilityChanged { health_facility: name } => {
            check_name(name)?;
            members.len()
        }
        FamilyChange::VillageMoved { village_code } => {
            if village_code.level() != RegionLevel::Village {
                return Err(ChangeRefusal::NotAVillage(village_code.clone()));
            }
            if village_code == village {
                return Err(ChangeRefusal::SameVillage(village_code.clone()));
            }
            needs_approval = regency_of(village_code) != regency_of(village);
            members.len()
        }
        FamilyChange::RecipientChanged { recipient_name, .. } => {
            check_name(recipient_name)?;
            needs_approval = true;
            members.len()
        }
        FamilyChange::NikCorrected { member_id, .. } => {
            if let Some(member_id) = member_id {
                member(*member_id)?;
            }
            members.len()
        }
        FamilyChange::DocumentCorrected { family_card_number } => {
            if !is_family_card_number(family_card_number) {
                return Err(ChangeRefusal::FamilyCardNumber);
            }
            members.len()
        }
    };
    Ok(ChangePlan { needs_approval, natural_exit_due: members_after == 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: CurrentMember = CurrentMember { id: 1, component: MemberComponent::SchoolChild };
    const MOTHER: CurrentMember = CurrentMember { id: 2, component: MemberComponent::PregnantOrNursing };

    /// Cileunyi Kulon, in the regency of Bandung (32.04).
    fn cileunyi() -> RegionCode {
        RegionCode::parse("32.04.12.2001").unwrap()
    }

    fn decide(
        status: FamilyStatus,
        members: &[CurrentMember],
        change: &FamilyChange,
    ) -> Result<ChangePlan, ChangeRefusal> {
        decide_change(status, &cileunyi(), members, change)
    }

    fn moved(village_code: &str) -> FamilyChange {
        FamilyChange::VillageMoved { village_code: RegionCode::parse(village_code).unwrap() }
    }

    fn nik(text: &str) -> Nik {
        Nik::parse(text).unwrap()
    }

    fn leaves(member_id: i64, reason: LeaveReason) -> FamilyChange {
        FamilyChange::MemberLeaves { member_id, reason }
    }

    #[test]
    fn a_terminated_family_does_not_change() {
        let change = FamilyChange::RecipientNameCorrected { recipient_name: "Siti Aminah".to_owned() };
        assert_eq!(decide(FamilyStatus::Terminated, &[CHILD], &change), Err(ChangeRefusal::Terminated));
        assert!(decide(FamilyStatus::Suspended, &[CHILD], &change).is_ok());
    }

    #[test]
    fn the_last_member_leaving_makes_the_family_due_a_natural_exit() {
        let plan = decide(FamilyStatus::Active, &[CHILD, MOTHER], &leaves(1, LeaveReason::LeftSchool));
        assert_eq!(plan, Ok(ChangePlan { needs_approval: false, natural_exit_due: false }));
        let plan = decide(FamilyStatus::Active, &[MOTHER], &leaves(2, LeaveReason::PregnancyEnded));
        assert_eq!(plan, Ok(ChangePlan { needs_approval: false, natural_exit_due: true }));
    }

    #[test]
    fn a_reason_must_fit_the_members_component() {
        assert_eq!(
            decide(FamilyStatus::Active, &[MOTHER], &leaves(2, LeaveReason::LeftSchool)),
            Err(ChangeRefusal::ReasonDoesNotFit {
                reason: LeaveReason::LeftSchool,
                component: MemberComponent::PregnantOrNursing
            })
        );
        assert!(decide(FamilyStatus::Active, &[MOTHER], &leaves(2, LeaveReason::Death)).is_ok());
        assert_eq!(
            decide(FamilyStatus::Active, &[MOTHER], &leaves(9, LeaveReason::Death)),
            Err(ChangeRefusal::UnknownMember(9))
        );
    }

    #[test]
    fn a_new_school_child_has_a_level_and_only_a_school_child_changes_level() {
        let born = |component, school_level| FamilyChange::MemberAdded {
            name: "Bayi".to_owned(),
            component,
            school_level,
            reason: JoinReason::Birth,
        };
        assert!(decide(FamilyStatus::Active, &[], &born(MemberComponent::ChildUnderSix, None)).is_ok());
        assert_eq!(
            decide(FamilyStatus::Active, &[], &born(MemberComponent::SchoolChild, None)),
            Err(ChangeRefusal::SchoolLevel)
        );
        let level = |member_id| FamilyChange::SchoolLevelChanged { member_id, school_level: SchoolLevel::Smp };
        assert!(decide(FamilyStatus::Active, &[CHILD, MOTHER], &level(1)).is_ok());
        assert_eq!(decide(FamilyStatus::Active, &[CHILD, MOTHER], &level(2)), Err(ChangeRefusal::SchoolLevel));
    }

    #[test]
    fn a_move_within_the_regency_applies_at_once_and_a_move_to_another_regency_needs_a_second_person() {
        let within = decide(FamilyStatus::Active, &[CHILD], &moved("32.04.13.2002"));
        assert_eq!(within.map(|plan| plan.needs_approval), Ok(false));
        let across = decide(FamilyStatus::Active, &[CHILD], &moved("32.73.01.1001"));
        assert_eq!(across.map(|plan| plan.needs_approval), Ok(true));
    }

    #[test]
    fn a_move_goes_to_another_village_and_only_to_a_village() {
        let district = RegionCode::parse("32.04.13").unwrap();
        assert_eq!(
            decide(FamilyStatus::Active, &[CHILD], &FamilyChange::VillageMoved { village_code: district.clone() }),
            Err(ChangeRefusal::NotAVillage(district))
        );
        assert_eq!(
            decide(FamilyStatus::Active, &[CHILD], &moved("32.04.12.2001")),
            Err(ChangeRefusal::SameVillage(cileunyi()))
        );
    }

    #[test]
    fn a_new_recipient_always_needs_a_second_person_and_corrections_do_not() {
        let recipient =
            FamilyChange::RecipientChanged { recipient_name: "Euis".to_owned(), nik: nik("3204125508900002") };
        assert_eq!(decide(FamilyStatus::Active, &[CHILD], &recipient).map(|plan| plan.needs_approval), Ok(true));
        for correction in [
            FamilyChange::NikCorrected { member_id: None, nik: nik("3204125508900002") },
            FamilyChange::NikCorrected { member_id: Some(1), nik: nik("3204120101100003") },
            FamilyChange::DocumentCorrected { family_card_number: "3204120101170001".to_owned() },
            FamilyChange::HealthFacilityChanged { health_facility: "Puskesmas Cileunyi".to_owned() },
        ] {
            assert_eq!(decide(FamilyStatus::Active, &[CHILD], &correction).map(|plan| plan.needs_approval), Ok(false));
        }
    }

    #[test]
    fn a_correction_names_a_current_member_and_a_well_formed_document() {
        let unknown = FamilyChange::NikCorrected { member_id: Some(9), nik: nik("3204120101100003") };
        assert_eq!(decide(FamilyStatus::Active, &[CHILD], &unknown), Err(ChangeRefusal::UnknownMember(9)));
        for bad in ["320412010117000", "32041201011700011", "3204-20101170001"] {
            let document = FamilyChange::DocumentCorrected { family_card_number: bad.to_owned() };
            assert_eq!(decide(FamilyStatus::Active, &[CHILD], &document), Err(ChangeRefusal::FamilyCardNumber));
        }
        let blank = FamilyChange::HealthFacilityChanged { health_facility: "  ".to_owned() };
        assert_eq!(decide(FamilyStatus::Active, &[CHILD], &blank), Err(ChangeRefusal::Name));
    }

    #[test]
    fn a_second_person_with_an_approving_role_approves_and_the_one_who_entered_it_does_not() {
        let approve = |entered_by, decider, may_approve| {
            decide_decision(ChangeStatus::Pending, entered_by, decider, may_approve, ChangeDecision::Approve)
        };
        assert_eq!(approve("operator:1", "operator:2", true), Ok(DecisionPlan::Decide));
        assert_eq!(approve("operator:2", "operator:2", true), Err(DecisionRefusal::SamePerson));
        assert_eq!(approve("operator:1", "operator:3", false), Err(DecisionRefusal::RoleMayNotDecide));
        let reject = decide_decision(ChangeStatus::Pending, "operator:2", "operator:2", true, ChangeDecision::Reject);
        assert_eq!(reject, Ok(DecisionPlan::Decide), "withdrawing one's own entry needs no second person");
    }

    #[test]
    fn deciding_again_as_before_changes_nothing_and_deciding_otherwise_is_refused() {
        let decide_on = |status, decision| decide_decision(status, "operator:1", "operator:2", true, decision);
        assert_eq!(decide_on(ChangeStatus::Applied, ChangeDecision::Approve), Ok(DecisionPlan::AlreadyDecided));
        assert_eq!(decide_on(ChangeStatus::Rejected, ChangeDecision::Reject), Ok(DecisionPlan::AlreadyDecided));
        assert_eq!(
            decide_on(ChangeStatus::Applied, ChangeDecision::Reject),
            Err(DecisionRefusal::AlreadyDecidedOtherwise(ChangeStatus::Applied))
        );
        assert_eq!(
            decide_on(ChangeStatus::Rejected, ChangeDecision::Approve),
            Err(DecisionRefusal::AlreadyDecidedOtherwise(ChangeStatus::Rejected))
        );
    }
}
