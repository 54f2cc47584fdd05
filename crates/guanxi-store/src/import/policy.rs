//! The shop's import policy: whether sales reps may import into their own book (an admin's
//! choice; by default only managers and admins import). One row, changed at its version and
//! audited.

use guanxi_domain::role::Actor;
use serde::Serialize;
use serde_json::json;

use crate::db::Store;
use crate::error::Result;
use crate::rows::Flag;
use crate::setting_row::{set_setting, SettingChange};

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
        set_setting(
            &mut tx,
            actor,
            SettingChange {
                table: "import_policy",
                column: "sales_may_import",
                value: i64::from(sales_may_import),
                version,
                current: before.version,
                detail: &json!({"sales_may_import":
                    {"before": before.sales_may_import, "after": sales_may_import}}),
            },
        )
        .await?;
        tx.commit().await?;
        self.import_policy().await
    }
}
