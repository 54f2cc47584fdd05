//! The shop's import policy: whether sales reps may import into their own book (an admin's
//! choice; by default only managers and admins import). One row, changed at its version and
//! audited.

use chrono::Utc;
use guanxi_domain::role::Actor;
use serde::Serialize;
use serde_json::json;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::Flag;

/// Who besides managers and admins may import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ImportPolicy {
    /// Sales reps may import customers, orders, interactions and deals into their own book
    /// (new customers are theirs; matches and buyers are looked for among those they see).
    #[sqlx(try_from = "Flag")]
    pub sales_may_import: bool,
    /// Optimistic version.
    pub version: i64,
}

impl Store {
    /// The import policy.
    pub async fn import_policy(&self) -> Result<ImportPolicy> {
        Ok(
            sqlx::query_as("SELECT sales_may_import, version FROM import_policy WHERE id = 1")
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Sets the policy at the version read, audited; a stale version is a conflict.
    pub async fn set_import_policy(
        &self,
        actor: &Actor,
        sales_may_import: bool,
        version: i64,
    ) -> Result<ImportPolicy> {
        let before = self.import_policy().await?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE import_policy SET sales_may_import = $1, version = version + 1, \
             updated_at = $2, updated_by = $3 WHERE id = 1 AND version = $4",
        )
        .bind(i32::from(sales_may_import))
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        entry(
            &mut tx,
            actor,
            "update",
            "import_policy",
            None,
            json!({"sales_may_import": {"before": before.sales_may_import, "after": sales_may_import}}),
        )
        .await?;
        tx.commit().await?;
        self.import_policy().await
    }
}
