//! Pure types and rules, no I/O.

/// Declares an enum that is stored and sent as snake_case text, so that serde, strum
/// (the database spelling) and the OpenAPI document agree on one name per variant.
macro_rules! text_enum {
    ($(#[$meta:meta])* $visibility:vis enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[derive(strum::AsRefStr, strum::IntoStaticStr, strum::Display, strum::EnumString, strum::EnumIter)]
        #[derive(utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        $visibility enum $name { $($(#[$variant_meta])* $variant,)* }
    };
}

pub mod auth;
pub mod benefit;
pub mod card;
pub mod card_qr;
pub mod conditionality;
pub mod disbursement;
pub mod edc;
pub mod family;
pub mod holds;
pub mod language;
pub mod ledger;
pub mod login_throttle;
pub mod money;
pub mod monitoring;
pub mod nik;
pub mod pin_attempts;
pub mod terminal;
pub mod text;
pub mod transmission;
pub mod usage;
