//! Which characters text from a client may carry.
//!
//! No text field of the API is multi-line or needs a control character: names, addresses,
//! reasons, user names, codes and searches are one line each. A NUL cannot be stored by
//! PostgreSQL (SQLite would keep it, so the two backends would differ), other control
//! characters corrupt logs, CSV exports and printed slips, and the bidirectional overrides
//! and isolates (U+202A–U+202E, U+2066–U+2069) make a name or a reason display as
//! something other than what is stored ("Trojan Source"). So every text is refused whole
//! when it carries one of them; nothing is silently stripped.

/// Why one character of a text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForbiddenCharacter {
    /// A C0 or C1 control character, DEL included (NUL, tab, newline…).
    Control(char),
    /// A bidirectional embedding, override or isolate.
    Bidirectional(char),
}

impl std::fmt::Display for ForbiddenCharacter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Control(character) => write!(formatter, "U+{:04X}, a control character", u32::from(*character)),
            Self::Bidirectional(character) => {
                write!(formatter, "U+{:04X}, a bidirectional override", u32::from(*character))
            }
        }
    }
}

/// Where line breaks are part of the format (an uploaded CSV file), tab, carriage return
/// and line feed are allowed; in a field, never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineBreaks {
    Refused,
    Allowed,
}

/// The first character of `text` a client may not send, if any.
pub fn forbidden_character(text: &str, line_breaks: LineBreaks) -> Option<ForbiddenCharacter> {
    text.chars().find_map(|character| classify(character, line_breaks))
}

fn classify(character: char, line_breaks: LineBreaks) -> Option<ForbiddenCharacter> {
    if character.is_control() {
        let layout = matches!(character, '\t' | '\r' | '\n');
        return match (layout, line_breaks) {
            (true, LineBreaks::Allowed) => None,
            _ => Some(ForbiddenCharacter::Control(character)),
        };
    }
    if matches!(character, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
        return Some(ForbiddenCharacter::Bidirectional(character));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_addresses_and_indonesian_text_pass() {
        for text in ["Siti Aminah", "Jl. Merdeka No. 5, RT 01/RW 02", "Ny. Dewi (istri)", "café", "سلام", ""] {
            assert_eq!(forbidden_character(text, LineBreaks::Refused), None, "{text}");
        }
    }

    #[test]
    fn nul_and_every_other_control_character_are_refused_in_a_field() {
        for character in ['\0', '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            let text = format!("operator{character}jabar");
            assert_eq!(
                forbidden_character(&text, LineBreaks::Refused),
                Some(ForbiddenCharacter::Control(character)),
                "{character:?}"
            );
        }
    }

    #[test]
    fn bidirectional_overrides_and_isolates_are_refused() {
        for character in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let text = format!("Siti{character}Aminah");
            assert_eq!(
                forbidden_character(&text, LineBreaks::Allowed),
                Some(ForbiddenCharacter::Bidirectional(character))
            );
        }
    }

    #[test]
    fn a_csv_file_keeps_its_line_breaks_but_not_a_nul() {
        assert_eq!(forbidden_character("a,b\r\nc,\td\n", LineBreaks::Allowed), None);
        assert_eq!(forbidden_character("a,b\n\0", LineBreaks::Allowed), Some(ForbiddenCharacter::Control('\0')));
    }

    #[test]
    fn the_refusal_names_the_code_point_not_the_text() {
        assert_eq!(ForbiddenCharacter::Control('\0').to_string(), "U+0000, a control character");
        assert_eq!(ForbiddenCharacter::Bidirectional('\u{202E}').to_string(), "U+202E, a bidirectional override");
    }
}
