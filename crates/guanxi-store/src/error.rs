//! The store's error type: what callers must distinguish (not found, stale version, duplicate)
//! versus what they can only report (database failure).

use guanxi_domain::ValidationErrors;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist or is outside the actor's record scope (deliberately the same:
    /// we do not reveal that another team's customer exists).
    #[error("not found")]
    NotFound,
    /// The client's version is stale: somebody changed the row since it was read.
    #[error("version conflict: current version is {current}")]
    Conflict {
        /// The version now stored.
        current: i64,
        /// Who last changed it.
        updated_by: Option<i64>,
    },
    /// A unique value is taken (username, external order reference …).
    #[error("duplicate value for {field}")]
    Duplicate {
        /// The field whose value is taken.
        field: &'static str,
    },
    /// Input that only the store can judge (a reference to a missing row, …).
    #[error("invalid input")]
    Invalid(#[from] ValidationErrors),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Schema migration failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data could not be decoded (a bug or a hand-edited database).
    #[error("corrupt stored value in {0}")]
    Corrupt(String),
    /// The embedded database failed on a bulk path (rusqlite).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A backup or restore cannot go ahead (file exists, not a Guanxi database, tool missing …);
    /// the message says what to do.
    #[error("{0}")]
    Backup(String),
    /// A blocking task of a bulk path died.
    #[error("background task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Duplicate`], anything else unchanged.
    pub(crate) fn unique(e: sqlx::Error, field: &'static str) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate { field },
            _ => StoreError::Database(e),
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, StoreError>;
