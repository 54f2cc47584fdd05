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
    /// A request's query (filters, a rule, a referenced segment) is malformed or refers to
    /// nothing: the adapter answers as for a bad query string (HTTP 400), not a bad body.
    #[error("invalid query")]
    InvalidQuery(ValidationErrors),
    /// A new record matches customers the actor can see (same phone, email, WeChat id or ID
    /// number); the caller may confirm and create it anyway.
    #[error("possible duplicate")]
    PossibleDuplicate(Vec<guanxi_store::duplicates::DuplicateCandidate>),
    /// Writing an export file failed (CSV or workbook encoding).
    #[error("writing the file failed: {0}")]
    File(String),
    /// Wrong username or password (which of the two is not said).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed sign-ins for this username or address within the window.
    #[error("too many attempts")]
    TooManyAttempts,
    /// Password hashing failed (a bug or an exhausted machine).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}
