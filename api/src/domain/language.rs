//! The language a person reads a message in: defined in `kks-wire`, since answers carry it.

pub use kks_wire::language::{Language, Words};
