//! Keeping the database safe: a consistent backup while the server runs. A backup holds the
//! whole customer file unmasked, so it takes both `Export` and `ViewSensitive` and is audited
//! like an export.

use std::path::Path;

use guanxi_domain::role::{Actor, Permission};
use guanxi_store::audit::AuditEvent;
use guanxi_store::backup::BackupSummary;
use guanxi_store::Store;
use serde_json::json;

use crate::{require, AppError};

/// Writes a consistent copy of the database to `file` (SQLite's online backup, checked before
/// it is moved into place; `pg_dump` on PostgreSQL) and audits it with what it holds.
pub async fn backup(
    store: &Store,
    actor: &Actor,
    file: &Path,
    overwrite: bool,
) -> Result<BackupSummary, AppError> {
    require(actor, Permission::Export)?;
    require(actor, Permission::ViewSensitive)?;
    let b = store.backup_to(file, overwrite).await?;
    store
        .audit(
            actor,
            AuditEvent {
                action: "backup",
                entity: "database",
                entity_id: None,
                detail: json!({"file": file.display().to_string(), "bytes": b.bytes,
                    "customers": b.customers, "orders": b.orders}),
            },
        )
        .await?;
    Ok(b)
}
