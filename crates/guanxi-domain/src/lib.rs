//! Guanxi's domain: the CRM's nouns (customers, contact points, relations, orders, users and
//! roles) and the rules that decide what a valid one is. Nothing here does IO, so every rule can
//! be tested in isolation and reused by the web layer, the CLI importer and the store alike.
//!
//! Parse, don't validate: raw input goes in through `TryFrom`-style constructors that return
//! typed [`ValidationErrors`]; what comes out can be stored without further checks.

pub mod campaign;
pub mod care;
pub mod contact;
pub mod custom_field;
pub mod customer;
pub mod error;
pub mod import;
pub mod interaction;
pub mod key_account;
pub mod knowledge;
pub mod lead;
pub mod lifecycle;
pub mod loyalty;
pub mod lunar;
pub mod masking;
pub mod merge;
pub mod money;
pub mod name;
pub mod order;
pub mod pipeline;
pub mod profile;
pub mod provenance;
pub mod records;
pub mod relation;
pub mod role;
pub mod rule;
pub mod segment;
pub mod spreadsheet;
pub mod survey;
pub mod ticket;
pub mod time_zone;
pub mod user;
pub mod vocabulary;

pub use error::{ValidationError, ValidationErrors};
