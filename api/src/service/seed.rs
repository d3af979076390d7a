//! The demo data set: two provinces, operators of every role, agents with terminals,
//! and families with cards and the first period of each programme paid, so a new user
//! can try the API at once.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::auth::{AgentKind, OperatorRole, Password, RegionCode, RegionScope, Username};
use crate::domain::benefit::Programme;
use crate::domain::card::Bank;
use crate::domain::family::{BenefitCategory, MemberComponent, SchoolLevel};
use crate::domain::pin_keys::PinKeys;
use crate::domain::terminal::{TerminalId, TerminalSerial};
use crate::service::agents::{self, AgentRegistration};
use crate::service::auth::{passwords, Principal};
use crate::service::cards;
use crate::service::disbursements::{self, BatchRequest};
use crate::service::ServiceError;
use crate::store::families::{self, FamilyInsertForm};
use crate::store::monitoring::{self, FacilitatorInsertForm};
use crate::store::operators::{self, OperatorInsertForm};
use crate::store::regions::{self, Region};
use crate::store::{Store, Tx};

/// What a new user needs to log in, written to `demo-credentials.json`.
#[derive(Debug, Serialize)]
pub struct DemoCredentials {
    pub operators: Vec<OperatorCredentials>,
    pub agents: Vec<AgentCredentials>,
    pub families: Vec<FamilyCredentials>,
}

#[derive(Debug, Serialize)]
pub struct OperatorCredentials {
    pub username: String,
    pub password: String,
    pub role: OperatorRole,
    /// Absent: national.
    pub region: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AgentCredentials {
    pub username: String,
    pub password: String,
    pub terminal_id: String,
    pub kind: AgentKind,
    pub bank: Bank,
    pub village: String,
}

#[derive(Debug, Serialize)]
pub struct FamilyCredentials {
    pub family_id: i64,
    pub recipient_name: String,
    pub nik: String,
    pub village: String,
    pub card_number: String,
    pub pin: String,
}

const DEMO_REGIONS: [(&str, &str); 8] = [
    ("32", "Jawa Barat"),
    ("32.04", "Kabupaten Bandung"),
    ("32.04.12", "Cileunyi"),
    ("32.04.12.2001", "Cileunyi Kulon"),
    ("33", "Jawa Tengah"),
    ("33.74", "Kota Semarang"),
    ("33.74.01", "Semarang Tengah"),
    ("33.74.01.1001", "Sekayu"),
];

/// Whether the database has no users yet (a fresh install, to seed on first start; a
/// database whose first admin was created by hand is never seeded).
pub fn is_fresh(store: &Store) -> Result<bool, ServiceError> {
    Ok(!store.read(operators::any_exist)?)
}

/// Creates the demo data set and returns its credentials: regions, people and families
/// in one transaction, then their first benefits paid through batches.
pub fn seed_demo(store: &Store, pin_keys: &PinKeys, today: NaiveDate) -> Result<DemoCredentials, ServiceError> {
    let credentials = store.write(|tx| {
        for (code, name) in DEMO_REGIONS {
            let code = RegionCode::parse(code).map_err(|error| ServiceError::Internal(error.to_string()))?;
            regions::insert_if_missing(tx, &Region::new(&code, name))?;
        }
        let credentials = DemoCredentials {
            operators: seed_operators(tx)?,
            agents: seed_agents(tx)?,
            families: seed_families(tx, pin_keys, today)?,
        };
        seed_facilitators(tx)?;
        Ok::<_, ServiceError>(credentials)
    })?;
    pay_demo_benefits(store)?;
    Ok(credentials)
}

fn region(code: &str) -> Result<RegionCode, ServiceError> {
    RegionCode::parse(code).map_err(|error| ServiceError::Internal(error.to_string()))
}

/// A random password for a demo user: 16 letters and digits, drawn again in the rare case
/// the password rules refuse it.
fn random_password(username: &str) -> Result<(String, String), ServiceError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // A draw is refused about once in a hundred million; a hundred refusals in a row
    // would mean the rules or the alphabet changed.
    for _ in 0..100 {
        let text: String = (0..16)
            .filter_map(|_| ALPHABET.get(rand::random_range(0..ALPHABET.len())).map(|byte| char::from(*byte)))
            .collect();
        if let Ok(password) = Password::parse_new(text.clone(), username) {
            return Ok((text, passwords::hash(&password)?));
        }
    }
    Err(ServiceError::Internal("the password rules refused 100 random demo passwords".to_owned()))
}

fn seed_operators(tx: &mut Tx<'_>) -> Result<Vec<OperatorCredentials>, ServiceError> {
    let demo = [
        ("admin", "Admin Kemensos", OperatorRole::Admin, None),
        ("operator.jabar", "Operator Dinsos Jawa Barat", OperatorRole::Operator, Some("32")),
        ("supervisor.jabar", "Supervisor Dinsos Jawa Barat", OperatorRole::Supervisor, Some("32")),
        ("operator.jateng", "Operator Dinsos Jawa Tengah", OperatorRole::Operator, Some("33")),
    ];
    let mut credentials = Vec::with_capacity(demo.len());
    for (username, display_name, role, region_code) in demo {
        let scope = match region_code {
            Some(code) => RegionScope::Region(region(code)?),
            None => RegionScope::National,
        };
        let (password, password_hash) = random_password(username)?;
        operators::insert(tx, &OperatorInsertForm::new(username, display_name, role, &scope, &password_hash))?;
        credentials.push(OperatorCredentials {
            username: username.to_owned(),
            password,
            role,
            region: region_code.map(str::to_owned),
        });
    }
    Ok(credentials)
}

/// Who the audit trail says registered the demo's agents.
const SEED_ACTOR: &str = "system:seed";

/// An agent of the demo, with its one terminal.
struct DemoAgent {
    username: &'static str,
    display_name: &'static str,
    owner_name: &'static str,
    kind: AgentKind,
    bank: Bank,
    village: &'static str,
    terminal_id: &'static str,
    serial: &'static str,
}

fn seed_agents(tx: &mut Tx<'_>) -> Result<Vec<AgentCredentials>, ServiceError> {
    let demo = [
        DemoAgent {
            username: "agen.cileunyi",
            display_name: "BRILink Warung Bu Siti",
            owner_name: "Siti Rohmah",
            kind: AgentKind::BankAgent,
            bank: Bank::Bri,
            village: "32.04.12.2001",
            terminal_id: "T3204001",
            serial: "DEMO-3204001",
        },
        DemoAgent {
            username: "ewarong.cileunyi",
            display_name: "e-Warong KUBE Mawar",
            owner_name: "Euis Mulyani",
            kind: AgentKind::EWarong,
            bank: Bank::Bni,
            village: "32.04.12.2001",
            terminal_id: "T3204002",
            serial: "DEMO-3204002",
        },
        DemoAgent {
            username: "agen.sekayu",
            display_name: "Agen46 Toko Pak Budi",
            owner_name: "Budi Santoso",
            kind: AgentKind::BankAgent,
            bank: Bank::Bni,
            village: "33.74.01.1001",
            terminal_id: "T3374001",
            serial: "DEMO-3374001",
        },
    ];
    let mut credentials = Vec::with_capacity(demo.len());
    for DemoAgent { username, display_name, owner_name, kind, bank, village: village_code, terminal_id, serial } in demo
    {
        let village = region(village_code)?;
        let (password, password_hash) = random_password(username)?;
        let parsed_username = Username::parse(username).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let registration = AgentRegistration {
            username: &parsed_username,
            display_name,
            owner_name,
            kind,
            bank,
            village: &village,
            password_hash: &password_hash,
            password_chosen_by_another: false,
        };
        let agent = agents::register(tx, &registration, SEED_ACTOR, "demo data set")?;
        let parsed_terminal =
            TerminalId::parse(terminal_id).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let parsed_serial = TerminalSerial::parse(serial).map_err(|error| ServiceError::Internal(error.to_string()))?;
        agents::add_terminal(tx, &agent, &parsed_terminal, Some(&parsed_serial), SEED_ACTOR)?;
        credentials.push(AgentCredentials {
            username: username.to_owned(),
            password,
            terminal_id: terminal_id.to_owned(),
            kind,
            bank,
            village: village_code.to_owned(),
        });
    }
    Ok(credentials)
}

struct DemoFamily {
    nik: &'static str,
    recipient_name: &'static str,
    address: &'static str,
    category: BenefitCategory,
    bank: Bank,
    members: &'static [(&'static str, MemberComponent, Option<SchoolLevel>)],
}

const DEMO_FAMILIES: [DemoFamily; 4] = [
    DemoFamily {
        nik: "3204125508850001",
        recipient_name: "Siti Aminah",
        address: "Kp. Babakan RT 02/05",
        category: BenefitCategory::Regular,
        bank: Bank::Bri,
        members: &[
            ("Rizky", MemberComponent::SchoolChild, Some(SchoolLevel::Sd)),
            ("Nur", MemberComponent::ChildUnderSix, None),
        ],
    },
    DemoFamily {
        nik: "3204124303900002",
        recipient_name: "Dewi Lestari",
        address: "Jl. Cileunyi No. 12",
        category: BenefitCategory::Regular,
        bank: Bank::Bri,
        members: &[("Dewi Lestari", MemberComponent::PregnantOrNursing, None)],
    },
    DemoFamily {
        nik: "3204126001480003",
        recipient_name: "Entin Suhartini",
        address: "Kp. Cibiru Hilir RT 01/03",
        category: BenefitCategory::Elderly,
        bank: Bank::Bni,
        members: &[("Oneng", MemberComponent::Elderly, None)],
    },
    DemoFamily {
        nik: "3374014512820004",
        recipient_name: "Sri Wahyuni",
        address: "Jl. Pandanaran Gg. 3",
        category: BenefitCategory::Regular,
        bank: Bank::Bni,
        members: &[("Bagus", MemberComponent::SchoolChild, Some(SchoolLevel::Smp))],
    },
];

fn seed_families(
    tx: &mut Tx<'_>,
    pin_keys: &PinKeys,
    today: NaiveDate,
) -> Result<Vec<FamilyCredentials>, ServiceError> {
    let mut credentials = Vec::with_capacity(DEMO_FAMILIES.len());
    for DemoFamily { nik, recipient_name, address, category, bank, members } in DEMO_FAMILIES {
        let village = region(if nik.starts_with("33") { "33.74.01.1001" } else { "32.04.12.2001" })?;
        let family = families::insert(tx, &FamilyInsertForm::new(nik, recipient_name, address, &village, category))?;
        for (name, component, school_level) in members {
            families::insert_member(tx, family.id, name, *component, *school_level)?;
        }
        let issued = cards::issue_first_card(tx, pin_keys, family.id, bank, "system:seed", today)?;
        credentials.push(FamilyCredentials {
            family_id: family.id,
            recipient_name: recipient_name.to_owned(),
            nik: nik.to_owned(),
            village: village.to_string(),
            card_number: issued.card.card_number.to_string(),
            pin: issued.pin.expose().to_owned(),
        });
    }
    Ok(credentials)
}

/// Facilitators (pendamping) of the demo villages, for the indicators per facilitator area
/// (names from the seed's monitoring forms).
const DEMO_FACILITATORS: [(&str, &str); 2] = [("Stywan", "32.04.12.2001"), ("Noeldy", "33.74.01.1001")];

fn seed_facilitators(tx: &mut Tx<'_>) -> Result<(), ServiceError> {
    for (name, village) in DEMO_FACILITATORS {
        let village = region(village)?;
        let form = FacilitatorInsertForm {
            name,
            region_code: village.as_str(),
            created_by: "system:seed",
            created_at: crate::store::now(),
        };
        monitoring::insert_facilitator(tx, &form, std::slice::from_ref(&village))?;
    }
    Ok(())
}

/// The year of the seeded benefit schedules.
const DEMO_YEAR: i32 = 2017;

/// The demo's money, so a card can be used at once: the first period of each programme
/// (PKH stage 1: Rp 500,000 for every demo category; BPNT Rp 110,000; LPG Rp 40,500).
const DEMO_PERIODS: [(Programme, i32); 3] = [(Programme::Pkh, 1), (Programme::Bpnt, 1), (Programme::Lpg, 1)];

/// Who pays each province's families: its operator prepares and executes, a second person
/// approves (Jawa Tengah has no supervisor of its own: the national admin approves).
const DEMO_PAYERS: [(&str, &str); 2] = [("operator.jabar", "supervisor.jabar"), ("operator.jateng", "admin")];

/// Pays the demo's money as an operator pays a stage, through the disbursement service:
/// so every rupiah in a wallet has its line, and a later batch for the same period pays
/// the demo families nothing more.
fn pay_demo_benefits(store: &Store) -> Result<(), ServiceError> {
    for (maker, checker) in DEMO_PAYERS {
        let (maker, checker) = (demo_operator(store, maker)?, demo_operator(store, checker)?);
        for (programme, period) in DEMO_PERIODS {
            let request = BatchRequest { programme, year: DEMO_YEAR, period, region: None, release_at: None };
            let batch_id = disbursements::prepare(store, &maker, &request)?.batch.id;
            disbursements::approve(store, &checker, batch_id)?;
            disbursements::start(store, &maker, batch_id)?;
            disbursements::run(store, batch_id, disbursements::LINES_PER_CHUNK_DEFAULT)?;
        }
    }
    Ok(())
}

/// A seeded operator, as its token would show it.
fn demo_operator(store: &Store, username: &str) -> Result<Principal, ServiceError> {
    let operator = store
        .read(|tx| operators::find_by_username(tx, username))?
        .ok_or_else(|| ServiceError::Internal(format!("demo operator {username} was not seeded")))?;
    Ok(Principal::Operator { id: operator.id, role: operator.role, scope: operator.scope })
}
