//! Settings kept as the one row of their own table (`id = 1`, versioned): the import policy and
//! the export policy change one value at a time, at the version the admin read, audited.

use chrono::Utc;
use guanxi_domain::role::Actor;
use sqlx::AnyConnection;

use crate::audit::entry;
use crate::db::to_ms;
use crate::error::{Result, StoreError};

/// The change of one setting: its table and column, the new value, the version the admin read
/// and the stored one (a stale read is a conflict naming it), and the audit's detail
/// (`{"column": {"before": …, "after": …}}`).
pub(crate) struct SettingChange<'a> {
    /// The setting's one-row table.
    pub table: &'static str,
    /// The column changed.
    pub column: &'static str,
    /// Its new value (a flag as 0/1).
    pub value: i64,
    /// The version the change was made at.
    pub version: i64,
    /// The version on file.
    pub current: i64,
    /// What the audit entry says changed.
    pub detail: &'a serde_json::Value,
}

/// Writes `c` in the caller's transaction and audits it as an `update` of its table.
pub(crate) async fn set_setting(
    conn: &mut AnyConnection,
    actor: &Actor,
    c: SettingChange<'_>,
) -> Result<()> {
    let n = sqlx::query(&format!(
        "UPDATE {} SET {} = $1, version = version + 1, updated_at = $2, updated_by = $3 \
         WHERE id = 1 AND version = $4",
        c.table, c.column
    ))
    .bind(c.value)
    .bind(to_ms(Utc::now()))
    .bind(actor.user_id())
    .bind(c.version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    StoreError::changed(n, c.current)?;
    entry(conn, actor, "update", c.table, None, c.detail.clone()).await?;
    Ok(())
}
