//! Money: exact decimal rupiah at the edges, integer minor units (sen) inside. Defined in
//! `kks-wire`, since amounts cross the wire as decimal strings.

pub use kks_wire::money::{
    rupiah_from_minor, Amount, AmountError, AMOUNT_RUPIAH_MAX, AMOUNT_SCALE_MAX, MINOR_UNITS_PER_RUPIAH,
};
