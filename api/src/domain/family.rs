//! Beneficiary families (KPM): benefit category, membership status and the members
//! whose commitments condition PKH.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

/// Decides the family's PKH index (2017: regular Rp 1,890,000 a year; the others 2,000,000).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    Display,
    EnumString,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BenefitCategory {
    Regular,
    /// A member aged 70 or more.
    Elderly,
    /// A member with a severe disability.
    SevereDisability,
    /// Living in Papua or Papua Barat.
    Papua,
}

/// Where a family is in the programme.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    Display,
    EnumString,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FamilyStatus {
    Active,
    /// A commitment was not met: PKH money is blocked until the family complies.
    Suspended,
    /// Three failed cycles in a row: PKH membership ended, money returned to the treasury.
    Terminated,
    /// Left the programme because it no longer needs it.
    Graduated,
}

/// A member's commitment component: what the family promises for that member.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    Display,
    EnumString,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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

/// The school a school child attends.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    Display,
    EnumString,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SchoolLevel {
    Sd,
    Smp,
    Sma,
}

/// Where a card is in its life. Only an active card transacts.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsRefStr,
    IntoStaticStr,
    Display,
    EnumString,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CardStatus {
    Active,
    /// Reported lost or stolen: blocked at once, to be replaced.
    Lost,
    /// A newer card took its place; its QR no longer works.
    Replaced,
    Expired,
}

/// How many wrong PINs in a row lock a card's PIN until an operator resets it.
pub const PIN_ATTEMPTS_MAX: i32 = 3;
