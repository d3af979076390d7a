//! Families (KPM) and their members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{families, family_members};
use super::{now, on_backend, parse_stored, StoreError, Tx};
use crate::domain::auth::RegionCode;
use crate::domain::family::{BenefitCategory, FamilyStatus, MemberComponent, SchoolLevel};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: i64,
    pub nik: String,
    pub recipient_name: String,
    pub address: String,
    pub village: RegionCode,
    pub category: BenefitCategory,
    pub status: FamilyStatus,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    /// The nomor Kartu Keluarga, where registration or a correction gave one.
    pub family_card_number: Option<String>,
    pub health_facility: Option<String>,
    /// The last applied data update left no PKH component: the next cycle close records
    /// the natural exit.
    pub natural_exit_due: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = families)]
struct FamilyRow {
    id: i64,
    nik: String,
    recipient_name: String,
    address: String,
    village_code: String,
    category: String,
    status: String,
    token_version: i64,
    created_at: NaiveDateTime,
    family_card_number: Option<String>,
    health_facility: Option<String>,
    natural_exit_due: bool,
}

impl TryFrom<FamilyRow> for Family {
    type Error = StoreError;
    fn try_from(row: FamilyRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            nik: row.nik,
            recipient_name: row.recipient_name,
            address: row.address,
            village: RegionCode::parse(&row.village_code)
                .map_err(|_| StoreError::Corrupt(format!("families.village_code {:?}", row.village_code)))?,
            category: parse_stored("families.category", &row.category)?,
            status: parse_stored("families.status", &row.status)?,
            token_version: row.token_version,
            created_at: row.created_at,
            family_card_number: row.family_card_number,
            health_facility: row.health_facility,
            natural_exit_due: row.natural_exit_due,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = families, treat_none_as_default_value = false)]
pub struct FamilyInsertForm<'a> {
    pub nik: &'a str,
    pub recipient_name: &'a str,
    pub address: &'a str,
    pub village_code: &'a str,
    pub category: &'a str,
    pub created_at: NaiveDateTime,
    pub family_card_number: Option<&'a str>,
}

impl<'a> FamilyInsertForm<'a> {
    pub fn new(
        nik: &'a str,
        recipient_name: &'a str,
        address: &'a str,
        village: &'a RegionCode,
        category: BenefitCategory,
    ) -> Self {
        Self {
            nik,
            recipient_name,
            address,
            village_code: village.as_str(),
            category: category.into(),
            created_at: now(),
            family_card_number: None,
        }
    }
}

pub fn insert(tx: &mut Tx<'_>, form: &FamilyInsertForm<'_>) -> Result<Family, StoreError> {
    let row: FamilyRow = on_backend!(tx, connection => diesel::insert_into(families::table)
        .values(form)
        .returning(FamilyRow::as_returning())
        .get_result(connection)?);
    Family::try_from(row)
}

pub fn find_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<Family>, StoreError> {
    let row: Option<FamilyRow> = on_backend!(tx, connection => families::table
        .find(id)
        .select(FamilyRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Family::try_from).transpose()
}

pub fn find_by_nik(tx: &mut Tx<'_>, nik: &str) -> Result<Option<Family>, StoreError> {
    let row: Option<FamilyRow> = on_backend!(tx, connection => families::table
        .filter(families::nik.eq(nik))
        .select(FamilyRow::as_select())
        .get_result(connection)
        .optional()?);
    row.map(Family::try_from).transpose()
}

/// Sets the family's programme status.
pub fn set_status(tx: &mut Tx<'_>, id: i64, status: FamilyStatus) -> Result<(), StoreError> {
    let status: &str = status.into();
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::status.eq(status))
        .execute(connection)?);
    Ok(())
}

/// Moves the family from `from` to `to`; `false` if it was not in `from` any more.
pub fn change_status(tx: &mut Tx<'_>, id: i64, from: FamilyStatus, to: FamilyStatus) -> Result<bool, StoreError> {
    let (from, to): (&str, &str) = (from.into(), to.into());
    let changed = on_backend!(tx, connection => diesel::update(families::table.find(id).filter(families::status.eq(from)))
        .set(families::status.eq(to))
        .execute(connection)?);
    Ok(changed == 1)
}

/// Revokes every token issued to the family so far.
pub fn bump_token_version(tx: &mut Tx<'_>, id: i64) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::token_version.eq(families::token_version + 1))
        .execute(connection)?);
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    pub family_id: i64,
    pub name: String,
    pub component: MemberComponent,
    pub school_level: Option<SchoolLevel>,
    /// The member's NIK, once a data update recorded it.
    pub nik: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = family_members)]
struct MemberRow {
    id: i64,
    family_id: i64,
    name: String,
    component: String,
    school_level: Option<String>,
    nik: Option<String>,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(row: MemberRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            family_id: row.family_id,
            name: row.name,
            component: parse_stored("family_members.component", &row.component)?,
            school_level: row
                .school_level
                .map(|level| parse_stored("family_members.school_level", &level))
                .transpose()?,
            nik: row.nik,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = family_members, treat_none_as_default_value = false)]
pub struct MemberInsertForm<'a> {
    family_id: i64,
    name: &'a str,
    component: &'a str,
    school_level: Option<&'a str>,
}

impl<'a> MemberInsertForm<'a> {
    pub fn new(family_id: i64, name: &'a str, component: MemberComponent, school_level: Option<SchoolLevel>) -> Self {
        Self { family_id, name, component: component.into(), school_level: school_level.map(Into::into) }
    }
}

pub fn insert_member(
    tx: &mut Tx<'_>,
    family_id: i64,
    name: &str,
    component: MemberComponent,
    school_level: Option<SchoolLevel>,
) -> Result<Member, StoreError> {
    let form = MemberInsertForm::new(family_id, name, component, school_level);
    let row: MemberRow = on_backend!(tx, connection => diesel::insert_into(family_members::table)
        .values(&form)
        .returning(MemberRow::as_returning())
        .get_result(connection)?);
    Member::try_from(row)
}

/// The family's current members (those who have not left).
pub fn find_members_by_family(tx: &mut Tx<'_>, family_id: i64) -> Result<Vec<Member>, StoreError> {
    let rows: Vec<MemberRow> = on_backend!(tx, connection => family_members::table
        .filter(family_members::family_id.eq(family_id))
        .filter(family_members::ended_at.is_null())
        .order(family_members::id)
        .select(MemberRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Member::try_from).collect()
}

/// Ends a current member's component (it keeps its row: verifications name it); `false`
/// if it had ended already.
pub fn end_member(tx: &mut Tx<'_>, member_id: i64, reason: &str) -> Result<bool, StoreError> {
    let ended = on_backend!(tx, connection => diesel::update(
        family_members::table.find(member_id).filter(family_members::ended_at.is_null()),
    )
    .set((family_members::ended_reason.eq(reason), family_members::ended_at.eq(now())))
    .execute(connection)?);
    Ok(ended == 1)
}

pub fn set_school_level(tx: &mut Tx<'_>, member_id: i64, level: SchoolLevel) -> Result<(), StoreError> {
    let level: &str = level.into();
    on_backend!(tx, connection => diesel::update(family_members::table.find(member_id))
        .set(family_members::school_level.eq(level))
        .execute(connection)?);
    Ok(())
}

pub fn set_recipient_name(tx: &mut Tx<'_>, id: i64, recipient_name: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::recipient_name.eq(recipient_name))
        .execute(connection)?);
    Ok(())
}

/// The family's recipient: name and NIK (a NIK registered for another family is a
/// unique violation).
pub fn set_recipient(tx: &mut Tx<'_>, id: i64, recipient_name: &str, nik: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set((families::recipient_name.eq(recipient_name), families::nik.eq(nik)))
        .execute(connection)?);
    Ok(())
}

/// The recipient's NIK, corrected.
pub fn set_nik(tx: &mut Tx<'_>, id: i64, nik: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::nik.eq(nik))
        .execute(connection)?);
    Ok(())
}

pub fn set_member_nik(tx: &mut Tx<'_>, member_id: i64, nik: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(family_members::table.find(member_id))
        .set(family_members::nik.eq(nik))
        .execute(connection)?);
    Ok(())
}

/// Moves the family to another village (the monitoring trigger moves its status count).
pub fn set_village(tx: &mut Tx<'_>, id: i64, village: &RegionCode) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::village_code.eq(village.as_str()))
        .execute(connection)?);
    Ok(())
}

pub fn set_family_card_number(tx: &mut Tx<'_>, id: i64, family_card_number: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::family_card_number.eq(family_card_number))
        .execute(connection)?);
    Ok(())
}

pub fn set_health_facility(tx: &mut Tx<'_>, id: i64, health_facility: &str) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::health_facility.eq(health_facility))
        .execute(connection)?);
    Ok(())
}

pub fn set_natural_exit_due(tx: &mut Tx<'_>, id: i64, natural_exit_due: bool) -> Result<(), StoreError> {
    on_backend!(tx, connection => diesel::update(families::table.find(id))
        .set(families::natural_exit_due.eq(natural_exit_due))
        .execute(connection)?);
    Ok(())
}

/// Families flagged for a natural exit in the region (everywhere when `None`), in one of
/// `statuses`, by id after `after`.
pub fn find_natural_exit_due(
    tx: &mut Tx<'_>,
    region: Option<&RegionCode>,
    statuses: &[FamilyStatus],
    after: i64,
    limit: i64,
) -> Result<Vec<Family>, StoreError> {
    let statuses: Vec<&str> = statuses.iter().map(|status| status.as_ref()).collect();
    // Everywhere: the pattern every village code matches.
    let (code, pattern) = match region {
        Some(region) => (region.as_str().to_owned(), format!("{region}.%")),
        None => (String::new(), "%".to_owned()),
    };
    let rows: Vec<FamilyRow> = on_backend!(tx, connection => families::table
        .filter(families::natural_exit_due.eq(true))
        .filter(families::status.eq_any(&statuses))
        .filter(families::village_code.eq(&code).or(families::village_code.like(&pattern)))
        .filter(families::id.gt(after))
        .order(families::id)
        .limit(limit)
        .select(FamilyRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Family::try_from).collect()
}

/// The most rows one bulk INSERT carries: PostgreSQL takes at most 65,535 bound values
/// a statement (a member row binds 4, a family row 7).
const ROWS_PER_INSERT_MAX: usize = 4_000;

/// The families registered under any of these NIKs.
pub fn find_by_niks(tx: &mut Tx<'_>, niks: &[&str]) -> Result<Vec<Family>, StoreError> {
    let rows: Vec<FamilyRow> = on_backend!(tx, connection => families::table
        .filter(families::nik.eq_any(niks))
        .select(FamilyRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Family::try_from).collect()
}

/// Registers many families in few statements (a bulk import's chunk).
pub fn insert_many(tx: &mut Tx<'_>, forms: &[FamilyInsertForm<'_>]) -> Result<(), StoreError> {
    for batch in forms.chunks(ROWS_PER_INSERT_MAX) {
        on_backend!(tx, connection => diesel::insert_into(families::table).values(batch).execute(connection)?);
    }
    Ok(())
}

/// Adds many members in few statements (a bulk import's chunk).
pub fn insert_members(tx: &mut Tx<'_>, forms: &[MemberInsertForm<'_>]) -> Result<(), StoreError> {
    for batch in forms.chunks(ROWS_PER_INSERT_MAX) {
        on_backend!(tx, connection => diesel::insert_into(family_members::table).values(batch).execute(connection)?);
    }
    Ok(())
}

/// Families of the region (a village, or every village under a wider region) that have
/// no card yet, by id after `after`.
pub fn find_ids_without_card(
    tx: &mut Tx<'_>,
    region: &RegionCode,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    use super::schema::cards;
    use diesel::dsl::{exists, not};
    let prefix = region.as_str();
    on_backend!(tx, connection => Ok(families::table
        .filter(families::village_code.eq(prefix).or(families::village_code.like(format!("{prefix}.%"))))
        .filter(families::id.gt(after))
        .filter(not(exists(cards::table.filter(cards::family_id.eq(families::id)))))
        .order(families::id)
        .limit(limit)
        .select(families::id)
        .load(connection)?))
}

/// How many families of the region have no card yet.
pub fn count_without_card(tx: &mut Tx<'_>, region: &RegionCode) -> Result<i64, StoreError> {
    use super::schema::cards;
    use diesel::dsl::{exists, not};
    let prefix = region.as_str();
    on_backend!(tx, connection => Ok(families::table
        .filter(families::village_code.eq(prefix).or(families::village_code.like(format!("{prefix}.%"))))
        .filter(not(exists(cards::table.filter(cards::family_id.eq(families::id)))))
        .count()
        .get_result(connection)?))
}

/// The families with these ids.
pub fn find_by_ids(tx: &mut Tx<'_>, ids: &[i64]) -> Result<Vec<Family>, StoreError> {
    let rows: Vec<FamilyRow> = on_backend!(tx, connection => families::table
        .filter(families::id.eq_any(ids))
        .select(FamilyRow::as_select())
        .load(connection)?);
    rows.into_iter().map(Family::try_from).collect()
}
