//! The application layer: one function per use case, taking the actor and typed input and
//! doing, in order, authorisation (the role's allow-list), validation, the store calls and the
//! audit entry. The JSON API, the pages and the CLI are adapters over these functions, so a
//! rule (who may, what is masked, what is audited) is written once and holds everywhere.
//!
//! Areas move here one by one (see docs/ARCHITECTURE.md). Here so far: reading customers
//! (masking, the sensitive-read audit), contact points and relations, users, sessions,
//! segments, erasure, the service desk, and the one export writer.

pub mod analytics;
pub mod audit;
pub mod campaign;
pub mod care;
pub mod contacts;
pub mod custom_field;
pub mod customers;
pub mod error;
pub mod export;
pub mod import;
pub mod jobs;
pub mod key_account;
pub mod knowledge;
pub mod lead;
pub mod loyalty;
pub mod maintenance;
pub mod merge;
pub mod notification;
pub mod orders;
pub mod passwords;
pub mod pipeline;
pub mod privacy;
pub mod rule;
pub mod segments;
pub mod sessions;
pub mod survey;
pub mod ticket;
pub mod timeline;
pub mod users;

pub use error::AppError;

use guanxi_domain::role::{Actor, Permission};

/// Fails with [`AppError::Forbidden`] unless the actor's role lists the permission.
pub fn require(actor: &Actor, p: Permission) -> Result<(), AppError> {
    if actor.can(p) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
