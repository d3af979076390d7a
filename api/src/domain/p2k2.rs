//! P2K2 / FDS (Pertemuan Peningkatan Kemampuan Keluarga, family development sessions): a
//! facilitator meets a group of families once a month on one module.

text_enum! {
    /// The module of a session.
    pub enum Module {
        Health,
        Education,
        Economy,
        ChildProtection,
        Elderly,
        Disability,
    }
}

/// The most families one session records as present (a P2K2 group is 20 to 30 families).
pub const ATTENDEES_MAX: usize = 60;

/// The longest group name, in characters.
pub const GROUP_NAME_CHARS_MAX: usize = 100;
