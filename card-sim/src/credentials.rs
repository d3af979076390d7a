//! The demo credentials file a fresh server writes (`demo-credentials.json`): operators,
//! agents with their terminals, families with card numbers and PINs.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use kks_wire::auth::AgentKind;
use serde::Deserialize;

use crate::api::Login;

/// The longest credentials file read (the demo's is about 2 KiB).
const CREDENTIALS_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    pub operators: Vec<OperatorCredentials>,
    pub agents: Vec<AgentCredentials>,
    pub families: Vec<FamilyCredentials>,
}

#[derive(Clone, Deserialize)]
pub struct OperatorCredentials {
    pub username: String,
    pub password: String,
    /// `operator`, `supervisor` or `admin`.
    #[serde(default)]
    pub role: Option<String>,
    /// A region code prefix; absent: national.
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Clone, Deserialize)]
pub struct AgentCredentials {
    pub username: String,
    pub password: String,
    pub terminal_id: String,
    /// Bank agent (cash) or e-Warong (goods); unknown when the file does not say.
    #[serde(default)]
    pub kind: Option<AgentKind>,
}

#[derive(Clone, Deserialize)]
pub struct FamilyCredentials {
    pub family_id: i64,
    #[serde(default)]
    pub recipient_name: Option<String>,
    pub village: String,
    pub card_number: String,
    pub pin: String,
}

/// Secrets stay out of debug output.
impl std::fmt::Debug for OperatorCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "operator {}", self.username)
    }
}

impl std::fmt::Debug for AgentCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "agent {} on {}", self.username, self.terminal_id)
    }
}

impl std::fmt::Debug for FamilyCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "family {} (card {})", self.family_id, self.card_number)
    }
}

impl Credentials {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).with_context(|| format!("opening the credentials {}", path.display()))?;
        let mut text = String::new();
        file.take(CREDENTIALS_BYTES_MAX)
            .read_to_string(&mut text)
            .with_context(|| format!("reading the credentials {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a KKS demo credentials file", path.display()))
    }

    pub fn agent(&self, username: &str) -> anyhow::Result<&AgentCredentials> {
        self.agents.iter().find(|agent| agent.username == username).ok_or_else(|| {
            let known: Vec<&str> = self.agents.iter().map(|agent| agent.username.as_str()).collect();
            anyhow!("no agent {username} in the credentials (there are: {})", known.join(", "))
        })
    }

    pub fn operator(&self, username: &str) -> anyhow::Result<&OperatorCredentials> {
        self.operators.iter().find(|operator| operator.username == username).ok_or_else(|| {
            let known: Vec<&str> = self.operators.iter().map(|operator| operator.username.as_str()).collect();
            anyhow!("no operator {username} in the credentials (there are: {})", known.join(", "))
        })
    }

    /// The family numbered `number`, counting from 1 in the file's order.
    pub fn family(&self, number: usize) -> anyhow::Result<&FamilyCredentials> {
        number
            .checked_sub(1)
            .and_then(|index| self.families.get(index))
            .ok_or_else(|| anyhow!("no family {number}: the credentials list families 1 to {}", self.families.len()))
    }

    /// The operator (role `operator`) closest to a village: the longest region code that
    /// is a prefix of the village's code; a national one when no regional one is.
    pub fn operator_for(&self, village: &str) -> Option<&OperatorCredentials> {
        self.operators
            .iter()
            .filter(|operator| operator.role.as_deref().is_none_or(|role| role == "operator"))
            .filter(|operator| operator.region.as_deref().is_none_or(|region| village.starts_with(region)))
            .max_by_key(|operator| operator.region.as_deref().map_or(0, str::len))
    }
}

impl OperatorCredentials {
    pub fn login(&self) -> Login {
        Login::Operator { username: self.username.clone(), password: self.password.clone() }
    }
}

impl AgentCredentials {
    pub fn login(&self) -> Login {
        Login::Agent {
            username: self.username.clone(),
            password: self.password.clone(),
            terminal_id: self.terminal_id.clone(),
        }
    }
}

impl FamilyCredentials {
    pub fn login(&self) -> Login {
        Login::Family { card_number: self.card_number.clone(), pin: self.pin.clone() }
    }

    /// A PIN that is certainly not this card's.
    pub fn wrong_pin(&self) -> String {
        if self.pin == "000000" { "111111" } else { "000000" }.to_owned()
    }
}
