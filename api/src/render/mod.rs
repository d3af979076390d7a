//! Pictures for people: the card front and the e-wallet slip, as PNG. Pure functions
//! of their inputs, shared by the server and card-sim.

pub mod card_image;
pub mod fonts;
pub mod slip;
