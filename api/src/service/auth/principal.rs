//! Who is calling, as proven by a token: an operator with a role and a region, an
//! agent on one of its terminals, or a family.

use serde::{Deserialize, Serialize};

use super::tokens::{Claims, TokenKind, TOKEN_AUDIENCE, TOKEN_ISSUER};
use crate::domain::auth::{OperatorRole, RegionCode, RegionScope};
use crate::service::ServiceError;

/// The role a token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Supervisor,
    Admin,
    Agent,
    Family,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Operator { id: i64, role: OperatorRole, scope: RegionScope },
    Agent { id: i64, terminal: String },
    Family { id: i64 },
}

impl Principal {
    /// The token subject and the audit trail's actor: `operator:7`, `agent:3`, `family:12`.
    pub fn subject(&self) -> String {
        match self {
            Self::Operator { id, .. } => format!("operator:{id}"),
            Self::Agent { id, .. } => format!("agent:{id}"),
            Self::Family { id } => format!("family:{id}"),
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Self::Operator { role: OperatorRole::Operator, .. } => Role::Operator,
            Self::Operator { role: OperatorRole::Supervisor, .. } => Role::Supervisor,
            Self::Operator { role: OperatorRole::Admin, .. } => Role::Admin,
            Self::Agent { .. } => Role::Agent,
            Self::Family { .. } => Role::Family,
        }
    }

    /// The claims of a token for this principal (times and version filled in by the issuer).
    pub(super) fn claims(&self) -> Claims {
        let (region, terminal) = match self {
            Self::Operator { scope: RegionScope::Region(code), .. } => (Some(code.to_string()), None),
            Self::Agent { terminal, .. } => (None, Some(terminal.clone())),
            Self::Operator { .. } | Self::Family { .. } => (None, None),
        };
        Claims {
            sub: self.subject(),
            role: self.role(),
            region,
            terminal,
            iss: TOKEN_ISSUER.to_owned(),
            aud: TOKEN_AUDIENCE.to_owned(),
            exp: 0,
            iat: 0,
            jti: uuid::Uuid::new_v4().to_string(),
            ver: 0,
            typ: TokenKind::Access,
        }
    }

    /// The principal a verified token speaks for.
    pub fn from_claims(claims: &Claims) -> Result<Self, ServiceError> {
        let malformed = || claims.typ.not_valid();
        let (kind, id) = claims.sub.split_once(':').ok_or_else(malformed)?;
        let id: i64 = id.parse().map_err(|_| malformed())?;
        let operator = |role| {
            let scope = match &claims.region {
                None => RegionScope::National,
                Some(code) => RegionScope::Region(RegionCode::parse(code).map_err(|_| malformed())?),
            };
            Ok(Self::Operator { id, role, scope })
        };
        match (kind, claims.role) {
            ("operator", Role::Operator) => operator(OperatorRole::Operator),
            ("operator", Role::Supervisor) => operator(OperatorRole::Supervisor),
            ("operator", Role::Admin) => operator(OperatorRole::Admin),
            ("agent", Role::Agent) => Ok(Self::Agent { id, terminal: claims.terminal.clone().ok_or_else(malformed)? }),
            ("family", Role::Family) => Ok(Self::Family { id }),
            _ => Err(malformed()),
        }
    }
}
