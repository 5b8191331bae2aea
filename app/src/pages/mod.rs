//! Pages and the signed-in layout.
pub mod layout;
pub mod login;
pub mod vehicles;
