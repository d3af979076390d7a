//! What the agent types at the terminal for one transaction: the card (scanned from a
//! picture and checked offline, or keyed in), the amount, the goods from the catalogue.

use std::path::Path;

use anyhow::Context as _;
use kks_wire::card::CardNumber;
use kks_wire::edc::transaction::BasketLine;
use kks_wire::edc::{format_rupiah, PurchaseProgramme, BASKET_LINES_MAX, BASKET_QUANTITY_MAX};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::EdcSession;
use crate::card::{decode_qr, describe, verify_offline};
use crate::terminal::{CardRead, Operation};

/// `GET /v1/catalogue`, one item.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct CatalogueItem {
    sku: String,
    name: String,
    programme: PurchaseProgramme,
    unit: String,
    price_minor: i64,
    monthly_quota: Option<i32>,
}

impl EdcSession<'_> {
    /// The card: a picture to scan (checked offline first), 16 digits keyed in, or the
    /// previous card. `None` when it is refused or the input ended.
    pub(super) fn read_card(&mut self) -> anyhow::Result<Option<CardRead>> {
        let prompt = if self.card.is_some() {
            "Kartu [card]: path gambar .png atau nomor 16 digit, kosong = kartu tadi [PNG path, 16 digits, empty = same card]: "
        } else {
            "Kartu [card]: path gambar .png atau nomor 16 digit [PNG path or 16 digits]: "
        };
        let Some(answer) = self.console.ask(prompt)? else { return Ok(None) };
        let digits: String =
            answer.chars().filter(|character| !character.is_whitespace() && *character != '-').collect();
        let card = if answer.is_empty() {
            match &self.card {
                Some(card) => card.clone(),
                None => {
                    self.console.say("Belum ada kartu [no card yet].")?;
                    return Ok(None);
                }
            }
        } else if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
            match CardNumber::parse(&digits) {
                Ok(number) => {
                    self.console.say(&format!("Kartu diketik [keyed]: {}", number.masked()))?;
                    CardRead::Keyed(number.as_str().to_owned())
                }
                Err(error) => {
                    self.console.say(&format!("Nomor kartu salah [not a card number]: {error}"))?;
                    return Ok(None);
                }
            }
        } else {
            match self.scan(Path::new(&answer))? {
                Some(text) => CardRead::Qr(text),
                None => return Ok(None),
            }
        };
        self.card = Some(card.clone());
        Ok(Some(card))
    }

    /// Scans a card picture and checks its QR offline. `None` when it is refused.
    fn scan(&mut self, path: &Path) -> anyhow::Result<Option<String>> {
        let text = match decode_qr(path) {
            Ok(text) => text,
            Err(error) => {
                self.console.say(&format!("Kartu tidak terbaca [card unreadable]: {error:#}"))?;
                return Ok(None);
            }
        };
        match verify_offline(&self.issuer_keys, &text, chrono::Utc::now().date_naive()) {
            Ok((payload, _)) => {
                self.console.say("Kartu terbaca, tanda tangan sah [card read, signature valid]:")?;
                for line in describe(&payload) {
                    self.console.say(&line)?;
                }
                Ok(Some(text))
            }
            Err(refusal) => {
                self.console.say(&format!("KARTU DITOLAK [CARD REFUSED]: {refusal}"))?;
                Ok(None)
            }
        }
    }

    pub(super) fn ask_amount(&mut self) -> anyhow::Result<Option<Decimal>> {
        let Some(answer) = self.console.ask("Jumlah (Rp) [amount]: ")? else { return Ok(None) };
        let cleaned: String = answer.chars().filter(|character| !matches!(character, '.' | ',' | ' ' | '_')).collect();
        match cleaned.parse::<Decimal>() {
            Ok(amount) if amount > Decimal::ZERO => Ok(Some(amount)),
            _ => {
                self.console.say("Jumlah tidak valid [not an amount]: ketik rupiah tanpa sen, mis. 150000")?;
                Ok(None)
            }
        }
    }

    /// The programme and the goods, picked from the catalogue.
    pub(super) fn ask_basket(&mut self) -> anyhow::Result<Option<Operation>> {
        let catalogue = self.catalogue()?;
        self.console.say("Program: 1. BPNT (pangan [food])   2. LPG")?;
        let Some(choice) = self.console.ask("Pilih program [programme]: ")? else { return Ok(None) };
        let programme = match choice.as_str() {
            "1" => PurchaseProgramme::Bpnt,
            "2" => PurchaseProgramme::Lpg,
            _ => {
                self.console.say("Pilihan tidak dikenal [unknown choice].")?;
                return Ok(None);
            }
        };
        let catalogue: Vec<CatalogueItem> = catalogue.into_iter().filter(|item| item.programme == programme).collect();
        self.console.say("Barang [goods]:")?;
        for (number, item) in catalogue.iter().enumerate() {
            let quota = item.monthly_quota.map_or_else(String::new, |quota| format!(" (kuota [quota] {quota}/bulan)"));
            self.console.say(&format!(
                "  {}. {} {} — {}/{}{quota}",
                number + 1,
                item.sku,
                item.name,
                format_rupiah(item.price_minor),
                item.unit,
            ))?;
        }
        let mut basket: Vec<BasketLine> = Vec::new();
        while basket.len() < BASKET_LINES_MAX {
            let Some(answer) = self.console.ask("Nomor barang, kosong = selesai [item number, empty = done]: ")? else {
                return Ok(None);
            };
            if answer.is_empty() {
                break;
            }
            let Some(item) = answer.parse::<usize>().ok().and_then(|number| catalogue.get(number.wrapping_sub(1)))
            else {
                self.console.say("Nomor barang tidak ada [no such item].")?;
                continue;
            };
            let Some(quantity) = self.console.ask("Jumlah [quantity]: ")? else { return Ok(None) };
            match quantity.parse::<u32>() {
                Ok(quantity) if (1..=BASKET_QUANTITY_MAX).contains(&quantity) => {
                    basket.push(BasketLine { sku: item.sku.clone(), quantity });
                }
                _ => self
                    .console
                    .say(&format!("Jumlah 1 sampai {BASKET_QUANTITY_MAX} [1 to {BASKET_QUANTITY_MAX}].",))?,
            }
        }
        if basket.is_empty() {
            self.console.say("Keranjang kosong [empty basket].")?;
            return Ok(None);
        }
        Ok(Some(Operation::Purchase { programme, basket }))
    }

    fn catalogue(&mut self) -> anyhow::Result<Vec<CatalogueItem>> {
        if let Some(catalogue) = &self.catalogue {
            return Ok(catalogue.clone());
        }
        let catalogue: Vec<CatalogueItem> = self
            .terminal
            .session()
            .get("/v1/catalogue")
            .context("fetching the catalogue")?
            .into_result()
            .context("the server refused the catalogue")?;
        self.catalogue = Some(catalogue.clone());
        Ok(catalogue)
    }
}
