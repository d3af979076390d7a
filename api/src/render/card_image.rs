//! The card front as PNG: bank band, chip, masked number, expiry, holder name and the
//! signed QR that an agent's EDC terminal scans.

use std::io::Cursor;

use ab_glyph::{Font as _, FontRef};
use chrono::NaiveDate;
use image::{ImageFormat, Rgba, RgbaImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;
use qrcode::{Color, EcLevel, QrCode};

use super::fonts;
use crate::domain::card::Bank;

/// ID-1 card proportions (85.60 × 53.98 mm) at about 300 dpi.
pub const CARD_WIDTH_PX: u32 = 1012;
pub const CARD_HEIGHT_PX: u32 = 638;

/// ID-1 corner radius (3.18 mm) at the same scale.
const CORNER_RADIUS_PX: u32 = 38;
const HEADER_HEIGHT_PX: u32 = 150;
const ACCENT_STRIPE_HEIGHT_PX: u32 = 12;
const MARGIN_PX: i32 = 56;

/// Largest square the QR (with its quiet zone) may take on the card.
const QR_BOX_PX_MAX: u32 = 360;
/// Below this many pixels per module a photographed or printed card stops scanning
/// reliably, so a payload that would need smaller modules is refused.
const QR_MODULE_PX_MIN: u32 = 5;
/// The quiet zone the QR specification asks for, in modules, on every side.
const QR_QUIET_ZONE_MODULES: u32 = 4;
const QR_RIGHT_MARGIN_PX: u32 = 48;

/// Holder names longer than this are cut before measuring, to bound the work.
const TEXT_CHARS_MAX: usize = 120;
/// Text column width: from the left margin to a gap before the QR.
const TEXT_WIDTH_PX_MAX: u32 = 550;

const WHITE: Rgba<u8> = Rgba([255, 255, 255, 255]);
const TRANSPARENT: Rgba<u8> = Rgba([255, 255, 255, 0]);
const INK: Rgba<u8> = Rgba([26, 32, 44, 255]);
const INK_MUTED: Rgba<u8> = Rgba([96, 104, 118, 255]);
const BODY: Rgba<u8> = Rgba([246, 248, 251, 255]);
const CHIP_GOLD: Rgba<u8> = Rgba([212, 175, 85, 255]);
const CHIP_LINE: Rgba<u8> = Rgba([160, 126, 50, 255]);
const QR_DARK: Rgba<u8> = Rgba([0, 0, 0, 255]);

/// What is printed on the front of a card.
#[derive(Debug, Clone, Copy)]
pub struct CardFace<'a> {
    pub bank: Bank,
    /// e.g. "Kartu Keluarga Sejahtera"; printed in capitals.
    pub programme_name: &'a str,
    pub holder_name: &'a str,
    /// e.g. "5221 84** **** 0019", from `CardNumber::masked`.
    pub masked_number: &'a str,
    pub expires_on: NaiveDate,
    /// The signed text from `IssuerSigningKey::sign`.
    pub qr_text: &'a str,
}

/// Why a card front could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum CardImageError {
    #[error("embedded font could not be read")]
    Font,
    #[error("QR text cannot be encoded: {0}")]
    QrEncode(#[from] qrcode::types::QrError),
    #[error("QR text needs {modules} modules, too dense to print scannably on the card")]
    QrTooDense { modules: u32 },
    #[error("PNG encoding failed: {0}")]
    PngEncode(#[from] image::ImageError),
}

/// Draws the card front and returns it as PNG bytes.
pub fn render_card_front(face: &CardFace) -> Result<Vec<u8>, CardImageError> {
    let regular = fonts::regular().map_err(|_| CardImageError::Font)?;
    let bold = fonts::bold().map_err(|_| CardImageError::Font)?;
    let (primary, accent) = bank_colours(face.bank);

    let mut card = RgbaImage::from_pixel(CARD_WIDTH_PX, CARD_HEIGHT_PX, BODY);
    draw_filled_rect_mut(&mut card, Rect::at(0, 0).of_size(CARD_WIDTH_PX, HEADER_HEIGHT_PX), primary);
    draw_filled_rect_mut(
        &mut card,
        Rect::at(0, HEADER_HEIGHT_PX as i32).of_size(CARD_WIDTH_PX, ACCENT_STRIPE_HEIGHT_PX),
        accent,
    );

    // Header: bank on the first line, the programme beneath, card kind on the right.
    let debit_label = "DEBIT";
    let debit_width = text_width_px(&bold, 30.0, debit_label);
    let debit_x = CARD_WIDTH_PX as i32 - MARGIN_PX - debit_width as i32;
    draw_text_mut(&mut card, WHITE, debit_x, 34, 30.0, &bold, debit_label);
    let header_text_width_max = (debit_x - MARGIN_PX - 24).max(0) as u32;
    let bank_name = fit_text(&bold, 54.0, face.bank.display_name(), header_text_width_max);
    draw_text_mut(&mut card, WHITE, MARGIN_PX, 18, 54.0, &bold, &bank_name);
    let programme = fit_text(&bold, 28.0, &face.programme_name.to_uppercase(), CARD_WIDTH_PX - 2 * MARGIN_PX as u32);
    draw_text_mut(&mut card, WHITE, MARGIN_PX, 98, 28.0, &bold, &programme);

    draw_chip(&mut card, MARGIN_PX, 204);

    let qr_box_px = draw_qr(&mut card, face.qr_text)?;
    let qr_y = HEADER_HEIGHT_PX + ACCENT_STRIPE_HEIGHT_PX + 40;
    let caption = "Pindai di EDC agen bank";
    let caption_width = text_width_px(&regular, 18.0, caption);
    let caption_x = CARD_WIDTH_PX.saturating_sub(QR_RIGHT_MARGIN_PX + qr_box_px / 2 + caption_width / 2);
    let caption_y = qr_y + qr_box_px + 6;
    draw_text_mut(&mut card, INK_MUTED, caption_x as i32, caption_y as i32, 18.0, &regular, caption);

    let number = fit_text(&regular, 44.0, face.masked_number, TEXT_WIDTH_PX_MAX);
    draw_text_mut(&mut card, INK, MARGIN_PX, 318, 44.0, &regular, &number);

    let expiry_label = "BERLAKU S/D";
    let label_width = text_width_px(&regular, 20.0, expiry_label);
    draw_text_mut(&mut card, INK_MUTED, MARGIN_PX, 404, 20.0, &regular, expiry_label);
    let expiry = face.expires_on.format("%m/%y").to_string();
    draw_text_mut(&mut card, INK, MARGIN_PX + label_width as i32 + 14, 392, 34.0, &bold, &expiry);

    let holder = fit_text(&bold, 36.0, &printable_upper(&bold, face.holder_name), TEXT_WIDTH_PX_MAX);
    draw_text_mut(&mut card, INK, MARGIN_PX, 470, 36.0, &bold, &holder);

    round_corners(&mut card);
    let mut png = Vec::new();
    card.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}

/// Primary (header) and accent (stripe) colours, close to each bank's house colours.
fn bank_colours(bank: Bank) -> (Rgba<u8>, Rgba<u8>) {
    match bank {
        Bank::Bri => (Rgba([0, 82, 156, 255]), Rgba([243, 112, 33, 255])),
        Bank::Bni => (Rgba([0, 94, 106, 255]), Rgba([241, 90, 35, 255])),
        Bank::Mandiri => (Rgba([0, 48, 100, 255]), Rgba([255, 184, 0, 255])),
        Bank::Btn => (Rgba([18, 70, 160, 255]), Rgba([228, 30, 38, 255])),
    }
}

/// Draws the QR on a white square (its quiet zone) at the right of the body and
/// returns the square's side.
fn draw_qr(card: &mut RgbaImage, qr_text: &str) -> Result<u32, CardImageError> {
    let code = QrCode::with_error_correction_level(qr_text.as_bytes(), EcLevel::M)?;
    let modules = u32::try_from(code.width()).unwrap_or(u32::MAX);
    let modules_with_quiet_zone = modules.saturating_add(2 * QR_QUIET_ZONE_MODULES);
    let module_px = QR_BOX_PX_MAX / modules_with_quiet_zone;
    if module_px < QR_MODULE_PX_MIN {
        return Err(CardImageError::QrTooDense { modules });
    }
    let box_px = module_px * modules_with_quiet_zone;
    let box_x = CARD_WIDTH_PX - QR_RIGHT_MARGIN_PX - box_px;
    let box_y = HEADER_HEIGHT_PX + ACCENT_STRIPE_HEIGHT_PX + 40;
    draw_filled_rect_mut(card, Rect::at(box_x as i32, box_y as i32).of_size(box_px, box_px), WHITE);
    let origin_x = box_x + QR_QUIET_ZONE_MODULES * module_px;
    let origin_y = box_y + QR_QUIET_ZONE_MODULES * module_px;
    let modules_per_row = code.width().max(1);
    for (index, colour) in code.to_colors().into_iter().enumerate() {
        if colour != Color::Dark {
            continue;
        }
        let column = u32::try_from(index % modules_per_row).unwrap_or(0);
        let row = u32::try_from(index / modules_per_row).unwrap_or(0);
        let rect = Rect::at((origin_x + column * module_px) as i32, (origin_y + row * module_px) as i32)
            .of_size(module_px, module_px);
        draw_filled_rect_mut(card, rect, QR_DARK);
    }
    Ok(box_px)
}

/// A stylised contact chip, so the picture reads as a bank card at a glance.
fn draw_chip(card: &mut RgbaImage, x: i32, y: i32) {
    draw_filled_rect_mut(card, Rect::at(x, y).of_size(112, 84), CHIP_GOLD);
    for line_y in [y + 28, y + 56] {
        draw_filled_rect_mut(card, Rect::at(x, line_y).of_size(112, 3), CHIP_LINE);
    }
    draw_filled_rect_mut(card, Rect::at(x + 40, y).of_size(3, 84), CHIP_LINE);
    draw_filled_rect_mut(card, Rect::at(x + 70, y).of_size(3, 84), CHIP_LINE);
}

/// The name as embossed on cards: capitals, single spaces, no control characters, and
/// `?` for characters the font cannot draw (rather than an empty box).
fn printable_upper(font: &FontRef, text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|character| !character.is_control())
                .flat_map(char::to_uppercase)
                .map(|character| if font.glyph_id(character).0 == 0 { '?' } else { character })
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect();
    words.join(" ").chars().take(TEXT_CHARS_MAX).collect()
}

/// The text, or its longest prefix followed by an ellipsis, that fits in `width_max_px`.
fn fit_text(font: &FontRef, scale: f32, text: &str, width_max_px: u32) -> String {
    let text: String = text.chars().take(TEXT_CHARS_MAX).collect();
    let fits = |candidate: &str| text_width_px(font, scale, candidate) <= width_max_px;
    if fits(&text) {
        return text;
    }
    let mut prefix = text;
    while prefix.pop().is_some() {
        let candidate = format!("{}…", prefix.trim_end());
        if fits(&candidate) {
            return candidate;
        }
    }
    String::new()
}

/// Width of one line of text, in whole pixels.
fn text_width_px(font: &FontRef, scale: f32, text: &str) -> u32 {
    text_size(scale, font, text).0
}

/// Makes the pixels outside the rounded ID-1 corners transparent.
fn round_corners(card: &mut RgbaImage) {
    let radius = CORNER_RADIUS_PX as f32;
    let (width, height) = card.dimensions();
    for y in 0..CORNER_RADIUS_PX {
        for x in 0..CORNER_RADIUS_PX {
            let dx = radius - x as f32 - 0.5;
            let dy = radius - y as f32 - 0.5;
            if dx * dx + dy * dy > radius * radius {
                card.put_pixel(x, y, TRANSPARENT);
                card.put_pixel(width - 1 - x, y, TRANSPARENT);
                card.put_pixel(x, height - 1 - y, TRANSPARENT);
                card.put_pixel(width - 1 - x, height - 1 - y, TRANSPARENT);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardNumber;
    use crate::domain::card_qr::{CardQrPayload, IssuerSigningKey};

    fn signed_face_text() -> (IssuerSigningKey, String, CardQrPayload) {
        let issuer = IssuerSigningKey::from_seed(&[11; 32]);
        let payload = CardQrPayload {
            card_number: CardNumber::issue(Bank::Bri, 1).unwrap(),
            sequence: 1,
            bank: Bank::Bri,
            expires_on: NaiveDate::from_ymd_opt(2029, 8, 31).unwrap(),
        };
        let text = issuer.sign(&payload);
        (issuer, text, payload)
    }

    fn face<'a>(holder_name: &'a str, qr_text: &'a str) -> CardFace<'a> {
        CardFace {
            bank: Bank::Bri,
            programme_name: "Kartu Keluarga Sejahtera",
            holder_name,
            masked_number: "5221 84** **** 0019",
            expires_on: NaiveDate::from_ymd_opt(2029, 8, 31).unwrap(),
            qr_text,
        }
    }

    /// Decodes every QR grid rqrr finds in the PNG.
    fn scan(png: &[u8]) -> Vec<String> {
        let luma = image::load_from_memory(png).unwrap().to_luma8();
        let (width, height) = luma.dimensions();
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            luma.get_pixel(x as u32, y as u32)[0]
        });
        prepared.detect_grids().iter().map(|grid| grid.decode().unwrap().1).collect()
    }

    #[test]
    fn card_front_is_an_id1_png_whose_qr_scans_and_verifies() {
        let (issuer, text, payload) = signed_face_text();
        let png = render_card_front(&face("Siti Nurhaliza", &text)).unwrap();
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (CARD_WIDTH_PX, CARD_HEIGHT_PX));
        let scanned = scan(&png);
        assert_eq!(scanned, vec![text.clone()]);
        assert_eq!(issuer.verifying_key().verify(&scanned[0]), Ok(payload));
    }

    #[test]
    fn every_bank_renders_a_scannable_card() {
        let (_, text, _) = signed_face_text();
        for &bank in <Bank as strum::VariantArray>::VARIANTS {
            let png = render_card_front(&CardFace { bank, ..face("Budi Santoso", &text) }).unwrap();
            assert_eq!(scan(&png), vec![text.clone()], "{bank}");
        }
    }

    #[test]
    fn long_and_non_ascii_names_are_cut_to_the_text_column() {
        let regular = fonts::bold().unwrap();
        let long_name = "Raden Ajeng Kartini Sosroningrat Binti Raden Mas Adipati Ario Sosroningrat ".repeat(5);
        let fitted = fit_text(&regular, 36.0, &printable_upper(&regular, &long_name), TEXT_WIDTH_PX_MAX);
        assert!(fitted.ends_with('…'));
        assert!(text_width_px(&regular, 36.0, &fitted) <= TEXT_WIDTH_PX_MAX);
        assert_eq!(printable_upper(&regular, "  Ñoño\tÇakır  \u{7}"), "ÑOÑO ÇAKIR");
        assert_eq!(printable_upper(&regular, "王 Ani"), "? ANI");
        let (_, text, _) = signed_face_text();
        let png = render_card_front(&face(&long_name, &text)).unwrap();
        assert_eq!(scan(&png), vec![text]);
    }

    #[test]
    fn a_qr_text_too_dense_for_the_card_is_refused() {
        let dense = "K".repeat(1200);
        assert!(matches!(
            render_card_front(&face("Ani", &dense)),
            Err(CardImageError::QrTooDense { .. } | CardImageError::QrEncode(_))
        ));
    }

    /// Writes a sample to look at: `KKS_CARD_SAMPLE=/tmp/kks-card-sample.png cargo test …`.
    #[test]
    fn writes_a_sample_when_asked() {
        let Ok(path) = std::env::var("KKS_CARD_SAMPLE") else { return };
        let (_, text, _) = signed_face_text();
        let face = CardFace { bank: Bank::Mandiri, ..face("Siti Nurhaliza Binti Abdullah Rahman", &text) };
        std::fs::write(path, render_card_front(&face).unwrap()).unwrap();
    }
}
