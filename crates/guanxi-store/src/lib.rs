//! Guanxi's persistence: one code base over embedded SQLite (the default, a single file) and
//! PostgreSQL (the scale-out path). Queries are runtime-checked `sqlx` through the `Any` driver
//! with portable SQL (`$n` placeholders work on both), so a build is not tied to one live
//! database; the rare dialect difference sits behind [`Backend`].
//!
//! Every write that changes the customer file goes through a repository function that also
//! writes the audit entry in the same transaction: an audited change and its audit record commit
//! or roll back together.

pub mod audit;
pub mod backup;
mod bulk;
pub mod campaign;
pub mod care;
mod cells;
pub mod contacts;
pub mod custom_field;
pub mod customers;
pub mod dashboard;
mod db;
pub mod duplicates;
pub mod error;
pub mod events;
pub mod export;
pub mod identify;
pub mod import;
pub mod insights;
pub mod jobs;
pub mod key_account;
pub mod knowledge;
pub mod lead;
pub mod lifecycle;
pub mod load;
pub mod loyalty;
pub mod merge;
pub mod notification;
pub mod orders;
pub mod pipeline;
pub mod privacy;
pub mod purchases;
pub mod relations;
mod rows;
pub mod rule;
pub mod scores;
pub mod segment_sizes;
pub mod segments;
mod setting_row;
mod sql;
pub mod survey;
pub mod tasks;
pub mod ticket;
pub mod timeline;
pub mod users;
pub mod warehouse;

#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Store};
pub use error::StoreError;
pub use sql::Page;
