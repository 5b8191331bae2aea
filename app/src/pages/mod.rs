//! Pages and the signed-in layout.
pub mod account;
pub mod admin;
pub mod audit;
pub mod banner;
pub mod dashboard;
pub mod inspections;
pub mod invitation;
pub mod layout;
pub mod login;
pub mod my_access;
pub mod password_reset;
pub mod people;
pub mod settings;
pub mod team;
pub mod teams;
pub mod vehicles;
pub mod work_orders;
