//! The plastic card: its front as a PNG (`render`), and reading one back from its pixels
//! (`scan`): the QR decoded by rqrr and its signature checked offline with the issuer's
//! public keys, as an EDC terminal does before it asks for the PIN.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use chrono::NaiveDate;
use kks_wire::card_qr::{CardQrError, CardQrPayload, IssuerVerifyingKey, IssuerVerifyingKeys};
use serde::Deserialize;
use serde_json::json;

use crate::api::{Login, Server, Session};
use crate::credentials::Credentials;

/// The largest card picture read, in bytes (a card front is about 60 KiB).
const CARD_IMAGE_BYTES_MAX: u64 = 32 * 1024 * 1024;

/// One key of `GET /.well-known/kks-card-issuer`.
#[derive(Debug, Deserialize)]
struct IssuerPublicKey {
    algorithm: String,
    key_id: String,
    public_key: String,
}

/// `GET /.well-known/kks-card-issuer`: the newest key at the top, every accepted key in
/// `keys` (absent from servers before key rotation).
#[derive(Debug, Deserialize)]
struct IssuerKeyDocument {
    #[serde(flatten)]
    newest: IssuerPublicKey,
    #[serde(default)]
    keys: Vec<IssuerPublicKey>,
}

/// Fetches the card issuer's public keys, the one thing a terminal needs to check cards
/// offline: after a key rotation, cards signed with an older key stay valid.
pub fn fetch_issuer_keys(server: &Server) -> anyhow::Result<IssuerVerifyingKeys> {
    let document: IssuerKeyDocument = server
        .get("/.well-known/kks-card-issuer")
        .with_context(|| format!("fetching the card issuer keys from {}", server.base_url()))?
        .into_result()
        .context("the server did not give its card issuer keys")?;
    let listed = if document.keys.is_empty() { vec![document.newest] } else { document.keys };
    Ok(IssuerVerifyingKeys::new(listed.iter().map(read_issuer_key).collect::<anyhow::Result<_>>()?))
}

fn read_issuer_key(document: &IssuerPublicKey) -> anyhow::Result<IssuerVerifyingKey> {
    if document.algorithm != "Ed25519" {
        bail!("the card issuer key uses {}, this simulator knows only Ed25519", document.algorithm);
    }
    let key = IssuerVerifyingKey::from_base64(&document.public_key).context("reading the card issuer key")?;
    if key.key_id_hex() != document.key_id {
        bail!("the card issuer key does not match its key id {}", document.key_id);
    }
    Ok(key)
}

/// Why a card is refused, with the server's code for the same refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRefusal {
    pub code: &'static str,
    /// In Bahasa Indonesia, then English in brackets.
    pub reason: String,
}

impl std::fmt::Display for CardRefusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} — {}", self.code, self.reason)
    }
}

/// Checks a QR text offline: the signature, then the expiry against `today`. Says which
/// issuer key signed the card.
pub fn verify_offline(
    keys: &IssuerVerifyingKeys,
    text: &str,
    today: NaiveDate,
) -> Result<(CardQrPayload, IssuerVerifyingKey), CardRefusal> {
    let (payload, key) = keys.verify(text).map_err(|error| match error {
        CardQrError::Malformed => refusal("CARD_QR_MALFORMED", "bukan kode kartu KKS [not a KKS card code]"),
        CardQrError::UnsupportedVersion(version) => refusal(
            "CARD_QR_UNSUPPORTED_VERSION",
            &format!("versi kode kartu {version} tidak dikenal [card code version {version} is not supported]"),
        ),
        CardQrError::UnknownIssuer => {
            refusal("CARD_FORGED", "kartu tidak asli: bukan ditandatangani penerbit ini [not signed by this issuer]")
        }
        CardQrError::BadSignature => {
            refusal("CARD_ALTERED", "kode kartu telah diubah: tanda tangan tidak cocok [signature does not match]")
        }
    })?;
    if payload.is_expired(today) {
        return Err(refusal(
            "CARD_EXPIRED",
            &format!("kartu kedaluwarsa sejak {} [expired]", payload.expires_on.format("%d/%m/%Y")),
        ));
    }
    Ok((payload, key))
}

fn refusal(code: &'static str, reason: &str) -> CardRefusal {
    CardRefusal { code, reason: reason.to_owned() }
}

/// The text of the one QR code in a picture file, decoded from its pixels.
pub fn decode_qr(path: &Path) -> anyhow::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).with_context(|| format!("opening the picture {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(CARD_IMAGE_BYTES_MAX)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading the picture {}", path.display()))?;
    decode_qr_bytes(&bytes).with_context(|| format!("reading the card in {}", path.display()))
}

/// The text of the one QR code in an encoded picture (PNG).
pub fn decode_qr_bytes(bytes: &[u8]) -> anyhow::Result<String> {
    let picture = image::load_from_memory(bytes).context("not a picture this simulator can read (PNG)")?.to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(picture);
    let grids = prepared.detect_grids();
    let mut texts = grids.iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text));
    let Some(text) = texts.next() else {
        bail!("no readable QR code in the picture");
    };
    if texts.next().is_some() {
        bail!("more than one QR code in the picture: show one card at a time");
    }
    Ok(text)
}

/// What the card says, as printed by `scan` and the EDC.
pub fn describe(payload: &CardQrPayload) -> Vec<String> {
    vec![
        format!("  Nomor kartu [card number]  : {}", payload.card_number.masked()),
        format!("  Bank                       : {}", payload.bank.display_name()),
        format!("  Urutan kartu [sequence]    : {}", payload.sequence),
        format!("  Berlaku s.d. [valid until] : {}", payload.expires_on.format("%d/%m/%Y")),
    ]
}

/// `render`: how to pick the card and who may see it.
pub struct RenderRequest {
    pub server: Server,
    pub card: Option<String>,
    pub login: Option<Login>,
    pub credentials: Option<PathBuf>,
    pub family: Option<usize>,
    pub out: PathBuf,
}

/// Writes the card's front as the server draws it.
pub fn render(request: &RenderRequest) -> anyhow::Result<()> {
    let (login, card_number) = match (&request.credentials, request.family, &request.login) {
        (Some(path), Some(number), None) => {
            let credentials = Credentials::load(path)?;
            let family = credentials.family(number)?;
            if let Some(name) = &family.recipient_name {
                println!("Keluarga [family] {number}: {name}");
            }
            let card = request.card.clone().unwrap_or_else(|| family.card_number.clone());
            (family.login(), card)
        }
        (None, None, Some(login)) => {
            let card = match (&request.card, login) {
                (Some(card), _) => card.clone(),
                (None, Login::Family { card_number, .. }) => card_number.clone(),
                (None, _) => bail!("say which card: --card NUMBER"),
            };
            (login.clone(), card)
        }
        _ => bail!("say who may see the card: --login operator:USER:PASSWORD, or --credentials FILE --family N"),
    };
    let session = Session::open(&request.server, login)?;
    let png = session
        .get_bytes(&format!("/v1/cards/{card_number}/image.png"))
        .context("fetching the card image")?
        .into_result()
        .with_context(|| format!("the server refused the image of card {card_number}"))?;
    image::load_from_memory_with_format(&png, image::ImageFormat::Png).context("the card image is not a PNG")?;
    std::fs::write(&request.out, &png).with_context(|| format!("writing {}", request.out.display()))?;
    println!("Kartu {card_number} disimpan ke {} [card front saved]", request.out.display());
    Ok(())
}

/// What `scan` found: the card, or why it is refused.
pub enum ScanResult {
    Accepted,
    Refused,
}

/// `scan`: reads the QR from the picture, checks it offline, and online if asked.
pub fn scan(server: &Server, path: &Path, online: Option<Login>) -> anyhow::Result<ScanResult> {
    let text = decode_qr(path)?;
    let keys = fetch_issuer_keys(server)?;
    let today = chrono::Utc::now().date_naive();
    println!("Kode QR terbaca [QR decoded] dari {}", path.display());
    let (payload, key) = match verify_offline(&keys, &text, today) {
        Ok(verified) => verified,
        Err(refusal) => {
            println!("DITOLAK [REFUSED] (offline): {refusal}");
            return Ok(ScanResult::Refused);
        }
    };
    for line in describe(&payload) {
        println!("{line}");
    }
    println!("Tanda tangan penerbit sah [issuer signature valid] (kunci [key] {}), offline", key.key_id_hex());
    let Some(login) = online else {
        return Ok(ScanResult::Accepted);
    };
    let session = Session::open(server, login)?;
    let answer = session
        .post::<serde_json::Value>("/v1/cards/check-qr", &json!({ "qr": text }))
        .context("asking the server to check the card")?;
    match answer.into_result() {
        Ok(card) => {
            let status = card.get("status").and_then(|status| status.as_str()).unwrap_or("?");
            println!("Server: kartu berlaku [card is current] (status {status})");
            Ok(ScanResult::Accepted)
        }
        Err(problem) => {
            println!("DITOLAK [REFUSED] (online): {} — {} [{}]", problem.code, problem.title, problem.detail);
            Ok(ScanResult::Refused)
        }
    }
}
