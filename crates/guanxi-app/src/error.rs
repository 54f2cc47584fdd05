//! The application layer's error: what an adapter must map to its own answer (HTTP status,
//! page, exit code).

use guanxi_domain::ValidationErrors;
use guanxi_store::StoreError;

/// Errors of a use case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The actor's role does not list the permission the use case needs.
    #[error("forbidden")]
    Forbidden,
    /// The input failed validation.
    #[error("invalid input")]
    Invalid(#[from] ValidationErrors),
    /// The store refused or failed (not found, conflict, duplicate, database error …).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password hashing failed (a bug or an exhausted machine).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}
