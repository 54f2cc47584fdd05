//! The web crate's tests, one binary with a module per kind: the JSON API, the pages and
//! random JSON thrown at the API. Every test that touches the store runs on SQLite and
//! PostgreSQL; `common` starts a real server and signs users in.

// First, so its `on_both_backends!` is in scope for the modules after it.
#[macro_use]
mod common;

mod api;
mod campaigns;
mod care;
mod custom_fields;
mod exports;
mod imports;
mod key_accounts;
mod leads;
mod loyalty;
mod overload;
mod pages;
mod pipeline;
mod random_json;
mod rules;
mod service;
