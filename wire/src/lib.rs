//! What crosses the wire between the KKS server and its clients (an agent's EDC terminal,
//! card-sim): the card number and the card QR codec, the EDC request and answer bodies
//! with the values they carry, and the problem+json error codes clients branch on.
//!
//! The server defines its routes with these types and publishes their OpenAPI schemas
//! (the `ToSchema` derives live here); a client depends on this crate alone, never on the
//! server. Nothing here touches storage, the web framework or a secret: the card QR is
//! verified here, but signed only by the server, which keeps the issuer's private key.

/// Declares an enum that is stored and sent as snake_case text, so that serde, strum
/// (the database spelling) and the OpenAPI document agree on one name per variant.
///
/// Exported for the server's own text enums; the caller needs serde, strum and utoipa.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $visibility:vis enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[derive(strum::AsRefStr, strum::IntoStaticStr, strum::Display, strum::EnumString, strum::EnumIter)]
        #[derive(utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        $visibility enum $name { $($(#[$variant_meta])* $variant,)* }
    };
}

pub mod auth;
pub mod card;
pub mod card_qr;
pub mod edc;
pub mod language;
pub mod ledger;
pub mod money;
pub mod problem;
pub mod transmission;
