//! Families: registration by an operator, the profile and balances for the family app.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::problem::{ApiError, Problem};
use super::{blocking, AppState};
use crate::domain::auth::RegionCode;
use crate::domain::card::Bank;
use crate::domain::family::{BenefitCategory, MemberCommitment, MemberComponent, SchoolLevel};
use crate::domain::graduation::{ExitKind, ExitReason, ExitTerms};
use crate::domain::nik::Nik;
use crate::service::cards::{self, NewCard};
use crate::service::families::{self, FamilyProfile, NewFamily, NewMember, Pocket};
use crate::service::graduation::{self, ExitView};
use crate::service::ServiceError;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"nik": "3204125508850001", "recipient_name": "Siti Aminah", "address": "Kp. Cileunyi RT 01/02", "village": "32.04.12.2001", "category": "regular", "members": [{"name": "Siti Aminah", "component": "pregnant_or_nursing"}, {"name": "Budi", "component": "school_child", "school_level": "sd"}]}))]
pub struct RegisterFamily {
    /// The registered recipient's 16-digit NIK.
    #[schema(pattern = "^[0-9]{16}$")]
    pub nik: String,
    /// The registered recipient (pengurus), usually the mother.
    #[schema(max_length = 200)]
    pub recipient_name: String,
    #[schema(max_length = 200)]
    pub address: String,
    /// The village code, e.g. `32.04.12.2001`.
    #[schema(value_type = String)]
    pub village: RegionCode,
    pub category: BenefitCategory,
    #[schema(min_items = 1, max_items = 20)]
    pub members: Vec<MemberInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Budi", "component": "school_child", "school_level": "sd"}))]
pub struct MemberInput {
    #[schema(max_length = 200)]
    pub name: String,
    pub component: MemberComponent,
    /// For a school child: sd, smp or sma.
    pub school_level: Option<SchoolLevel>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bank": "bri"}))]
pub struct IssueCard {
    pub bank: Bank,
}

/// An operator registers a family in a village of its region.
#[utoipa::path(post, path = "/v1/families", tag = "families", security(("bearer" = [])), request_body = RegisterFamily,
    responses((status = 201, body = FamilyProfile), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn register(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<RegisterFamily>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let nik = Nik::parse(&body.nik).map_err(ServiceError::from)?;
    let new = NewFamily {
        nik,
        recipient_name: body.recipient_name,
        address: body.address,
        village: body.village,
        category: body.category,
        members: body
            .members
            .into_iter()
            .map(|member| NewMember {
                name: member.name,
                commitment: MemberCommitment { component: member.component, school_level: member.school_level },
            })
            .collect(),
    };
    let store = state.store.clone();
    let profile = blocking(move || families::register(&store, &caller.0, &new)).await?;
    Ok(HttpResponse::Created().json(profile))
}

/// The family's profile, members and cards (the family itself, or an operator of its region).
#[utoipa::path(get, path = "/v1/families/{family_id}", tag = "families", security(("bearer" = [])),
    params(("family_id" = i64, Path)),
    responses((status = 200, body = FamilyProfile), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn profile(
    state: web::Data<AppState>,
    caller: Authenticated,
    family_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let family_id = family_id.into_inner();
    let profile = blocking(move || families::profile(&store, &caller.0, family_id)).await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Each pocket's balance, blocked amounts with their reasons in Indonesian and English,
/// and what may be used now.
#[utoipa::path(get, path = "/v1/families/{family_id}/balances", tag = "families", security(("bearer" = [])),
    params(("family_id" = i64, Path)),
    responses((status = 200, body = [Pocket]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn balances(
    state: web::Data<AppState>,
    caller: Authenticated,
    family_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let family_id = family_id.into_inner();
    let pockets = blocking(move || families::balances(&store, &caller.0, family_id)).await?;
    Ok(HttpResponse::Ok().json(pockets))
}

/// An operator issues the family's first KKS card; the PIN is in the answer, once.
#[utoipa::path(post, path = "/v1/families/{family_id}/cards", tag = "cards", security(("bearer" = [])),
    params(("family_id" = i64, Path)), request_body = IssueCard,
    responses((status = 201, body = NewCard), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn issue_card(
    state: web::Data<AppState>,
    caller: Authenticated,
    family_id: web::Path<i64>,
    body: web::Json<IssueCard>,
) -> Result<HttpResponse, ApiError> {
    let (store, auth, issuer) = (state.store.clone(), state.auth.clone(), state.card_issuer.clone());
    let (family_id, bank) = (family_id.into_inner(), body.bank);
    let card = blocking(move || cards::issue(&store, &auth.pin_keys, &issuer, &caller.0, family_id, bank)).await?;
    Ok(HttpResponse::Created().json(card))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "self_exit", "reason": "sudah_mampu", "year_out": 2017, "non_cash_continues": true, "note": "usaha warung"}))]
pub struct RecordExit {
    pub kind: ExitKind,
    /// The seed form's reason: a natural exit is `sudah_tidak_ada_komponen_pkh`, a
    /// graduation or self exit `sudah_mampu` or `usaha_berkembang_pesat`.
    pub reason: ExitReason,
    /// The year the family leaves PKH (the form's "tahun keluar"), not before it joined.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year_out: i32,
    /// Whether BPNT and LPG keep paying the family (default: they do).
    #[serde(default = "continues")]
    pub non_cash_continues: bool,
    /// The form's "keterangan".
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
}

fn continues() -> bool {
    true
}

/// An operator of the family's region records its graduation or exit from PKH: the family
/// becomes `graduated`, gets no further PKH stage, and keeps what its wallets hold. A retry
/// with the same body answers the same exit.
#[utoipa::path(post, path = "/v1/families/{family_id}/exit", tag = "families", security(("bearer" = [])),
    params(("family_id" = i64, Path)), request_body = RecordExit,
    responses((status = 200, body = ExitView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_exit(
    state: web::Data<AppState>,
    caller: Authenticated,
    family_id: web::Path<i64>,
    body: web::Json<RecordExit>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let terms = ExitTerms {
        kind: body.kind,
        reason: body.reason,
        year_out: body.year_out,
        non_cash_continues: body.non_cash_continues,
        note: body.note.trim().to_owned(),
    };
    let store = state.store.clone();
    let family_id = family_id.into_inner();
    let exit = blocking(move || graduation::record_exit(&store, &caller.0, family_id, &terms)).await?;
    Ok(HttpResponse::Ok().json(exit))
}
