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
    /// The database is held by a long write (an import, a refresh's swap, another process)
    /// for longer than a request may wait: try again in a moment. Nothing was changed.
    #[error("the database is busy; try again shortly")]
    Busy,
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Schema migration failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data could not be decoded (a bug or a hand-edited database).
    #[error("corrupt stored value in {0}")]
    Corrupt(String),
    /// The embedded database failed on a bulk path (rusqlite).
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// A backup or restore cannot go ahead (file exists, not a Guanxi database, tool missing …);
    /// the message says what to do.
    #[error("{0}")]
    Backup(String),
    /// A blocking task of a bulk path died.
    #[error("background task failed: {0}")]
    Task(String),
}

impl From<sqlx::Error> for StoreError {
    /// A wait that ran out — for a pooled connection, SQLite's lock (`SQLITE_BUSY`,
    /// `SQLITE_LOCKED`) or PostgreSQL's `lock_timeout` (`55P03`) — is [`StoreError::Busy`]:
    /// the caller can say "try again" instead of reporting a failure.
    fn from(e: sqlx::Error) -> Self {
        let busy = match &e {
            sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // Extended result codes: the primary code is the low byte.
                    matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6))
                } else {
                    code == "55P03"
                }
            }
            _ => false,
        };
        if busy {
            StoreError::Busy
        } else {
            StoreError::Database(e)
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// SQLite's lock on a bulk path is [`StoreError::Busy`] as on the pools.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// `Ok` when a write at a version changed its row (`n` rows); else the conflict a stale
    /// version is, naming the version now stored.
    pub(crate) fn changed(n: u64, current: i64) -> std::result::Result<(), Self> {
        if n == 0 {
            Err(StoreError::Conflict {
                current,
                updated_by: None,
            })
        } else {
            Ok(())
        }
    }

    /// One field's problem that only the store can judge (a missing reference, a used link).
    pub(crate) fn invalid(field: &str, code: &'static str) -> Self {
        StoreError::Invalid(ValidationErrors::single(field, code))
    }

    /// Maps a unique-constraint violation to [`StoreError::Duplicate`], anything else unchanged.
    pub(crate) fn unique(e: sqlx::Error, field: &'static str) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate { field },
            _ => e.into(),
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, StoreError>;
