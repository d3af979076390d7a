//! The EDC slip as a PNG: the receipt's lines on a narrow white paper, like the print
//! of a 58 mm thermal printer, with every e-wallet balance.

use std::io::Cursor;

use ab_glyph::FontRef;
use image::{ImageFormat, Rgba, RgbaImage};
use imageproc::drawing::{draw_text_mut, text_size};

use super::fonts;

const SLIP_WIDTH_PX: u32 = 460;
const MARGIN_PX: i32 = 18;
const LINE_HEIGHT_PX: u32 = 26;
const TEXT_SCALE: f32 = 19.0;
/// The most lines drawn (a receipt has well under this).
pub const SLIP_LINES_MAX: usize = 80;

const PAPER: Rgba<u8> = Rgba([255, 255, 255, 255]);
const INK: Rgba<u8> = Rgba([24, 24, 24, 255]);

#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    #[error("the shipped font could not be read")]
    Font,
    #[error("encoding the PNG: {0}")]
    PngEncode(#[from] image::ImageError),
}

/// A slip line is a label and, after two or more spaces, a value for the right edge.
fn split_columns(line: &str) -> (&str, Option<&str>) {
    match line.trim_end().rfind("  ") {
        Some(gap) => match (line.get(..gap), line.get(gap..)) {
            (Some(label), Some(value)) => (label.trim_end(), Some(value.trim())),
            _ => (line, None),
        },
        None => (line, None),
    }
}

/// Draws the lines, values flush right; headings (all capitals, no value) in bold.
pub fn render_slip(lines: &[String]) -> Result<Vec<u8>, SlipError> {
    let regular = fonts::regular().map_err(|_| SlipError::Font)?;
    let bold = fonts::bold().map_err(|_| SlipError::Font)?;
    let lines = lines.get(..lines.len().min(SLIP_LINES_MAX)).unwrap_or_default();
    let height = LINE_HEIGHT_PX * (u32::try_from(lines.len()).unwrap_or(0) + 2);
    let mut slip = RgbaImage::from_pixel(SLIP_WIDTH_PX, height, PAPER);
    let mut y = LINE_HEIGHT_PX as i32;
    for line in lines {
        let (label, value) = split_columns(line);
        let heading = value.is_none() && !line.is_empty() && line.chars().all(|character| !character.is_lowercase());
        let font: &FontRef = if heading { &bold } else { &regular };
        draw_text_mut(&mut slip, INK, MARGIN_PX, y, TEXT_SCALE, font, label);
        if let Some(value) = value {
            let width = i32::try_from(text_size(TEXT_SCALE, &regular, value).0).unwrap_or(0);
            let x = i32::try_from(SLIP_WIDTH_PX).unwrap_or(0) - MARGIN_PX - width;
            draw_text_mut(&mut slip, INK, x, y, TEXT_SCALE, &regular, value);
        }
        y += LINE_HEIGHT_PX as i32;
    }
    let mut png = Vec::new();
    slip.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_into_a_label_and_a_value_at_the_last_wide_gap() {
        assert_eq!(split_columns("TID          T3204001"), ("TID", Some("T3204001")));
        assert_eq!(split_columns(" Tabungan    Rp 150.000"), (" Tabungan", Some("Rp 150.000")));
        assert_eq!(split_columns("TARIK TUNAI"), ("TARIK TUNAI", None));
    }

    #[test]
    fn a_slip_is_a_png_as_tall_as_its_lines() {
        let lines: Vec<String> = ["KARTU KELUARGA SEJAHTERA", "TID          T3204001", "", "TARIK TUNAI"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let png = render_slip(&lines).unwrap();
        let image = image::load_from_memory(&png).unwrap();
        assert_eq!((image.width(), image.height()), (SLIP_WIDTH_PX, LINE_HEIGHT_PX * 6));
    }
}
