//! The fonts shipped with the server (DejaVu Sans, licence in `api/assets/fonts`).

use ab_glyph::{FontRef, InvalidFont};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

pub fn regular() -> Result<FontRef<'static>, InvalidFont> {
    FontRef::try_from_slice(REGULAR)
}

pub fn bold() -> Result<FontRef<'static>, InvalidFont> {
    FontRef::try_from_slice(BOLD)
}
