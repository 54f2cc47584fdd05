//! Backup and restore of the whole database, as `guanxi backup FILE` and `guanxi restore FILE`.
//!
//! * **SQLite**: SQLite's online backup API copies every page in one step inside one read
//!   transaction, so the copy is the database as of one instant even while the server keeps
//!   writing (WAL lets writers go on meanwhile). The copy is written beside the target as
//!   `FILE.partial`, checked with `PRAGMA integrity_check` and only then renamed into place, so
//!   a failed backup never leaves a file that looks like a good one. Restore checks the file the
//!   same way, keeps the database it replaces as `DB.pre-restore`, moves the copy in and
//!   migrates it (a backup from an older version is brought up to date).
//! * **PostgreSQL**: `pg_dump --format=custom` and `pg_restore --clean --single-transaction`
//!   (the client tools of the server's version must be on the PATH); a dump is one snapshot
//!   by construction.
//!
//! The server must be stopped for a restore (it would keep the replaced file open).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::db::{Backend, Store};
use crate::error::{Result, StoreError};

/// What a backup holds, printed after a backup or a restore so the operator sees it is the
/// book they expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The backup file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Live customers in it.
    pub customers: i64,
    /// Orders in it.
    pub orders: i64,
}

fn fail(msg: impl Into<String>) -> StoreError {
    StoreError::Backup(msg.into())
}

fn partial_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Checks a SQLite file is a whole Guanxi database and counts what it holds.
fn check_sqlite_file(path: &Path) -> Result<(i64, i64)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(fail(format!("{} is damaged: {ok}", path.display())));
    }
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('customers', 'orders', '_sqlx_migrations')",
        [],
        |r| r.get(0),
    )?;
    if tables != 3 {
        return Err(fail(format!("{} is not a Guanxi database", path.display())));
    }
    let customers = conn.query_row(
        "SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    let orders = conn.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))?;
    Ok((customers, orders))
}

/// Runs a PostgreSQL client tool, failing with its message (or with how to install it).
fn run_tool(tool: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(tool).args(args).output().map_err(|e| {
        fail(format!(
            "cannot run {tool} ({e}); install the PostgreSQL client tools (apt-get install postgresql-client)"
        ))
    })?;
    if !out.status.success() {
        return Err(fail(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

impl Store {
    /// Writes a consistent copy of the whole database to `dest` while the store stays in use.
    /// Refuses to replace an existing file unless `overwrite`.
    pub async fn backup_to(&self, dest: &Path, overwrite: bool) -> Result<BackupSummary> {
        if dest.exists() && !overwrite {
            return Err(fail(format!(
                "{} exists; choose another name or pass --overwrite",
                dest.display()
            )));
        }
        let partial = partial_of(dest);
        let _ = std::fs::remove_file(&partial);
        let (customers, orders) = match self.backend() {
            Backend::Sqlite => {
                let src = self.rusqlite(false)?;
                let (dest_owned, partial_owned) = (dest.to_path_buf(), partial.clone());
                tokio::task::spawn_blocking(move || -> Result<(i64, i64)> {
                    let mut dst = rusqlite::Connection::open(&partial_owned)?;
                    {
                        let b = rusqlite::backup::Backup::new(&src, &mut dst)?;
                        // All pages in one step: one read transaction, one instant.
                        match b.step(-1)? {
                            rusqlite::backup::StepResult::Done => {}
                            other => {
                                return Err(fail(format!(
                                    "the backup did not complete ({other:?}); try again"
                                )))
                            }
                        }
                    }
                    drop(dst);
                    // Checked once, before it counts as a backup; its counts are the summary's.
                    let held = check_sqlite_file(&partial_owned)?;
                    std::fs::File::open(&partial_owned)
                        .and_then(|f| f.sync_all())
                        .map_err(|e| fail(format!("syncing the backup: {e}")))?;
                    std::fs::rename(&partial_owned, &dest_owned)
                        .map_err(|e| fail(format!("moving the backup into place: {e}")))?;
                    Ok(held)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??
            }
            Backend::Postgres => {
                let part = partial.to_string_lossy().to_string();
                let url = self.location.0.clone();
                // Only Guanxi's schema (the one the URL's search_path selects), not the
                // whole server.
                let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(&self.read)
                    .await?;
                tokio::task::spawn_blocking(move || {
                    run_tool(
                        "pg_dump",
                        &[
                            "--format=custom",
                            "--no-owner",
                            "--schema",
                            &schema,
                            "--file",
                            &part,
                            "--dbname",
                            &url,
                        ],
                    )
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??;
                std::fs::rename(&partial, dest)
                    .map_err(|e| fail(format!("moving the backup into place: {e}")))?;
                self.book_size().await?
            }
        };
        let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
        Ok(BackupSummary {
            file: dest.to_path_buf(),
            bytes,
            customers,
            orders,
        })
    }

    /// Live customers and orders.
    async fn book_size(&self) -> Result<(i64, i64)> {
        let customers: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL")
                .fetch_one(&self.read)
                .await?;
        let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one(&self.read)
            .await?;
        Ok((customers, orders))
    }
}

/// Replaces the database at `url` with the backup `src` and migrates it. The server must be
/// stopped. A database that already holds customers is replaced only with `replace`; on SQLite
/// it is kept as `DB.pre-restore`.
pub async fn restore(url: &str, src: &Path, replace: bool) -> Result<BackupSummary> {
    if !src.is_file() {
        return Err(fail(format!("{} is not a file", src.display())));
    }
    let bytes = std::fs::metadata(src).map(|m| m.len()).unwrap_or(0);
    if url.starts_with("sqlite:") {
        let target = PathBuf::from(crate::bulk::Location(url.to_string()).sqlite_path());
        if target.as_os_str().is_empty() || url.contains("mode=memory") {
            return Err(fail(
                "restore needs a SQLite file, not an in-memory database",
            ));
        }
        check_sqlite_file(src)?;
        if target.exists() {
            let held = check_sqlite_file(&target).map(|(c, _)| c).unwrap_or(0);
            if held > 0 && !replace {
                return Err(fail(format!(
                    "{} holds {held} customers; pass --replace to replace them with the backup (the current file is kept as .pre-restore)",
                    target.display()
                )));
            }
        }
        let incoming = partial_of(&target);
        std::fs::copy(src, &incoming).map_err(|e| fail(format!("copying the backup: {e}")))?;
        if target.exists() {
            for suffix in ["", "-wal", "-shm"] {
                let from = PathBuf::from(format!("{}{suffix}", target.display()));
                if from.exists() {
                    let to = PathBuf::from(format!("{}.pre-restore{suffix}", target.display()));
                    std::fs::rename(&from, &to)
                        .map_err(|e| fail(format!("keeping the old database: {e}")))?;
                }
            }
        }
        std::fs::rename(&incoming, &target)
            .map_err(|e| fail(format!("moving the backup into place: {e}")))?;
    } else {
        let store = Store::connect_without_migrating(url).await?;
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'customers'",
        )
        .fetch_one(&store.read)
        .await?;
        if held > 0 {
            let (customers, _) = store.book_size().await?;
            if customers > 0 && !replace {
                return Err(fail(format!(
                    "the database holds {customers} customers; pass --replace to replace them with the backup"
                )));
            }
        }
        store.close().await;
        let (url, file) = (url.to_string(), src.to_string_lossy().to_string());
        tokio::task::spawn_blocking(move || {
            run_tool(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--dbname",
                    &url,
                    &file,
                ],
            )
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
    }
    let store = Store::connect(url).await?;
    let (customers, orders) = store.book_size().await?;
    store.close().await;
    Ok(BackupSummary {
        file: src.to_path_buf(),
        bytes,
        customers,
        orders,
    })
}
