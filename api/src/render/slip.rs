//! The EDC slip as a PNG: the receipt's lines on a narrow white paper, like the print
//! of a 58 mm thermal printer, with every e-wallet balance.

use std::io::Cursor;

use ab_glyph::FontRef;
use image::{ImageFormat, Rgba, RgbaImage};
use imageproc::drawing::draw_text_mut;

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

/// Draws the lines; headings (all capitals) in bold.
pub fn render_slip(lines: &[String]) -> Result<Vec<u8>, SlipError> {
    let regular = fonts::regular().map_err(|_| SlipError::Font)?;
    let bold = fonts::bold().map_err(|_| SlipError::Font)?;
    let lines = lines.get(..lines.len().min(SLIP_LINES_MAX)).unwrap_or_default();
    let height = LINE_HEIGHT_PX * (u32::try_from(lines.len()).unwrap_or(0) + 2);
    let mut slip = RgbaImage::from_pixel(SLIP_WIDTH_PX, height, PAPER);
    let mut y = LINE_HEIGHT_PX as i32;
    for line in lines {
        let heading = !line.is_empty() && line.chars().all(|character| !character.is_lowercase());
        let font: &FontRef = if heading && !line.contains("  ") { &bold } else { &regular };
        draw_text_mut(&mut slip, INK, MARGIN_PX, y, TEXT_SCALE, font, line);
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
