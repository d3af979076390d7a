//! Data updates (seeds: "pemutakhiran data"): typed changes to a registered family. Every
//! member of a family carries a PKH component here, so a family whose last member leaves
//! has none left and is due a natural exit.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::family::{FamilyStatus, MemberComponent, SchoolLevel, FAMILY_MEMBERS_MAX};

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
}

impl FamilyChange {
    /// The change's kind as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MemberAdded { .. } => "member_added",
            Self::MemberLeaves { .. } => "member_leaves",
            Self::SchoolLevelChanged { .. } => "school_level_changed",
            Self::RecipientNameCorrected { .. } => "recipient_name_corrected",
        }
    }
}

/// A current member, as the rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentMember {
    pub id: i64,
    pub component: MemberComponent,
}

/// What applying a change does, and whether the family is then due a natural exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangePlan {
    pub natural_exit_due: bool,
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
}

/// The data-update rule: a terminated family does not change; a change names a current
/// member and fits its component.
pub fn decide_change(
    status: FamilyStatus,
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
        FamilyChange::RecipientNameCorrected { recipient_name } => {
            check_name(recipient_name)?;
            members.len()
        }
    };
    Ok(ChangePlan { natural_exit_due: members_after == 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: CurrentMember = CurrentMember { id: 1, component: MemberComponent::SchoolChild };
    const MOTHER: CurrentMember = CurrentMember { id: 2, component: MemberComponent::PregnantOrNursing };

    fn leaves(member_id: i64, reason: LeaveReason) -> FamilyChange {
        FamilyChange::MemberLeaves { member_id, reason }
    }

    #[test]
    fn a_terminated_family_does_not_change() {
        let change = FamilyChange::RecipientNameCorrected { recipient_name: "Siti Aminah".to_owned() };
        assert_eq!(decide_change(FamilyStatus::Terminated, &[CHILD], &change), Err(ChangeRefusal::Terminated));
        assert!(decide_change(FamilyStatus::Suspended, &[CHILD], &change).is_ok());
    }

    #[test]
    fn the_last_member_leaving_makes_the_family_due_a_natural_exit() {
        let plan = decide_change(FamilyStatus::Active, &[CHILD, MOTHER], &leaves(1, LeaveReason::LeftSchool));
        assert_eq!(plan, Ok(ChangePlan { natural_exit_due: false }));
        let plan = decide_change(FamilyStatus::Active, &[MOTHER], &leaves(2, LeaveReason::PregnancyEnded));
        assert_eq!(plan, Ok(ChangePlan { natural_exit_due: true }));
    }

    #[test]
    fn a_reason_must_fit_the_members_component() {
        assert_eq!(
            decide_change(FamilyStatus::Active, &[MOTHER], &leaves(2, LeaveReason::LeftSchool)),
            Err(ChangeRefusal::ReasonDoesNotFit {
                reason: LeaveReason::LeftSchool,
                component: MemberComponent::PregnantOrNursing
            })
        );
        assert!(decide_change(FamilyStatus::Active, &[MOTHER], &leaves(2, LeaveReason::Death)).is_ok());
        assert_eq!(
            decide_change(FamilyStatus::Active, &[MOTHER], &leaves(9, LeaveReason::Death)),
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
        assert!(decide_change(FamilyStatus::Active, &[], &born(MemberComponent::ChildUnderSix, None)).is_ok());
        assert_eq!(
            decide_change(FamilyStatus::Active, &[], &born(MemberComponent::SchoolChild, None)),
            Err(ChangeRefusal::SchoolLevel)
        );
        let level = |member_id| FamilyChange::SchoolLevelChanged { member_id, school_level: SchoolLevel::Smp };
        assert!(decide_change(FamilyStatus::Active, &[CHILD, MOTHER], &level(1)).is_ok());
        assert_eq!(decide_change(FamilyStatus::Active, &[CHILD, MOTHER], &level(2)), Err(ChangeRefusal::SchoolLevel));
    }
}
