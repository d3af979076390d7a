//! Beneficiary families (KPM): benefit category, membership status and the members
//! whose commitments condition PKH.

use super::auth::RegionCode;

text_enum! {
    /// Decides the family's PKH index (2017: regular Rp 1,890,000 a year; the others 2,000,000).
    pub enum BenefitCategory {
        Regular,
        /// A member aged 70 or more.
        Elderly,
        /// A member with a severe disability.
        SevereDisability,
        /// Living in Papua or Papua Barat.
        Papua,
    }
}

text_enum! {
    /// Where a family is in the programme.
    pub enum FamilyStatus {
        Active,
        /// A commitment was not met: PKH money is blocked until the family complies.
        Suspended,
        /// Three failed cycles in a row: PKH membership ended, money returned to the treasury.
        Terminated,
        /// Left the programme because it no longer needs it.
        Graduated,
    }
}

text_enum! {
    /// A member's commitment component: what the family promises for that member.
    pub enum MemberComponent {
        /// Pregnancy check-ups, delivery at a facility, post-natal care.
        PregnantOrNursing,
        /// Immunisation and monthly weighing.
        ChildUnderSix,
        /// School enrolment and at least 85% attendance (age 6–21).
        SchoolChild,
        /// Care visits for a member aged 70 or more.
        Elderly,
        /// Care visits for a member with a severe disability.
        SevereDisability,
    }
}

text_enum! {
    /// The school a school child attends.
    pub enum SchoolLevel {
        Sd,
        Smp,
        Sma,
    }
}

text_enum! {
    /// Where a card is in its life. Only an active card transacts.
    pub enum CardStatus {
        Active,
        /// Reported lost or stolen: blocked at once, to be replaced.
        Lost,
        /// A newer card took its place; its QR no longer works.
        Replaced,
        Expired,
    }
}

/// How many wrong PINs in a row lock a card's PIN until an operator resets it.
pub const PIN_ATTEMPTS_MAX: i32 = 3;

/// The most members a family registers.
pub const FAMILY_MEMBERS_MAX: usize = 20;

/// Digits in a family card number (nomor Kartu Keluarga, KK).
pub const FAMILY_CARD_NUMBER_DIGITS: usize = 16;

/// Whether a text is a family card number: exactly [`FAMILY_CARD_NUMBER_DIGITS`] digits.
pub fn is_family_card_number(text: &str) -> bool {
    text.len() == FAMILY_CARD_NUMBER_DIGITS && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Province codes of Papua and Papua Barat, and the provinces formed from them in 2022.
pub const PAPUA_PROVINCE_CODES: [&str; 7] = ["91", "92", "93", "94", "95", "96", "97"];

/// A member as registered: what they commit to, and their school if a school child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberCommitment {
    pub component: MemberComponent,
    pub school_level: Option<SchoolLevel>,
}

/// Why a family's registration breaks the programme's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FamilyRuleError {
    #[error("a family registers 1 to {FAMILY_MEMBERS_MAX} members with commitments")]
    MemberCount,
    #[error("a school child needs a school level (sd, smp, sma), and only a school child has one")]
    SchoolLevel,
    #[error("the elderly category needs a member aged 70 or more")]
    ElderlyWithoutElderlyMember,
    #[error("the severe disability category needs a member with a severe disability")]
    DisabilityWithoutDisabledMember,
    #[error("the Papua category is for families living in Papua or Papua Barat")]
    PapuaOutsidePapua,
}

/// Checks the members and the benefit category against the programme's rules.
pub fn check_family(
    category: BenefitCategory,
    members: &[MemberCommitment],
    village: &RegionCode,
) -> Result<(), FamilyRuleError> {
    if members.is_empty() || members.len() > FAMILY_MEMBERS_MAX {
        return Err(FamilyRuleError::MemberCount);
    }
    if members.iter().any(|member| (member.component == MemberComponent::SchoolChild) != member.school_level.is_some())
    {
        return Err(FamilyRuleError::SchoolLevel);
    }
    let has = |component| members.iter().any(|member| member.component == component);
    match category {
        BenefitCategory::Elderly if !has(MemberComponent::Elderly) => Err(FamilyRuleError::ElderlyWithoutElderlyMember),
        BenefitCategory::SevereDisability if !has(MemberComponent::SevereDisability) => {
            Err(FamilyRuleError::DisabilityWithoutDisabledMember)
        }
        BenefitCategory::Papua if !PAPUA_PROVINCE_CODES.iter().any(|code| village.as_str().starts_with(code)) => {
            Err(FamilyRuleError::PapuaOutsidePapua)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(component: MemberComponent) -> MemberCommitment {
        let school_level = (component == MemberComponent::SchoolChild).then_some(SchoolLevel::Sd);
        MemberCommitment { component, school_level }
    }

    #[test]
    fn categories_need_the_member_or_place_that_justifies_them() {
        let bandung = RegionCode::parse("32.04.12.2001").unwrap();
        let jayapura = RegionCode::parse("91.71.01.1001").unwrap();
        let child = [member(MemberComponent::ChildUnderSix)];
        assert_eq!(check_family(BenefitCategory::Regular, &child, &bandung), Ok(()));
        assert_eq!(
            check_family(BenefitCategory::Elderly, &child, &bandung),
            Err(FamilyRuleError::ElderlyWithoutElderlyMember)
        );
        assert_eq!(check_family(BenefitCategory::Elderly, &[member(MemberComponent::Elderly)], &bandung), Ok(()));
        assert_eq!(
            check_family(BenefitCategory::SevereDisability, &child, &bandung),
            Err(FamilyRuleError::DisabilityWithoutDisabledMember)
        );
        assert_eq!(check_family(BenefitCategory::Papua, &child, &bandung), Err(FamilyRuleError::PapuaOutsidePapua));
        assert_eq!(check_family(BenefitCategory::Papua, &child, &jayapura), Ok(()));
    }

    #[test]
    fn members_are_counted_and_school_levels_belong_to_school_children() {
        let village = RegionCode::parse("32.04.12.2001").unwrap();
        assert_eq!(check_family(BenefitCategory::Regular, &[], &village), Err(FamilyRuleError::MemberCount));
        let too_many = vec![member(MemberComponent::ChildUnderSix); FAMILY_MEMBERS_MAX + 1];
        assert_eq!(check_family(BenefitCategory::Regular, &too_many, &village), Err(FamilyRuleError::MemberCount));
        let no_level = [MemberCommitment { component: MemberComponent::SchoolChild, school_level: None }];
        assert_eq!(check_family(BenefitCategory::Regular, &no_level, &village), Err(FamilyRuleError::SchoolLevel));
        let stray_level =
            [MemberCommitment { component: MemberComponent::Elderly, school_level: Some(SchoolLevel::Sma) }];
        assert_eq!(check_family(BenefitCategory::Regular, &stray_level, &village), Err(FamilyRuleError::SchoolLevel));
    }
}
