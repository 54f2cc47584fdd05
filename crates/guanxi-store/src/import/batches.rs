//! An import made from the browser, kept from upload to undo. The file stays with it (the
//! mapping, the preview and the run read the same bytes); the run writes one `import_rows`
//! entry per customer it created or updated, in the import's own transaction, so that an
//! undo within 7 days takes back exactly what it wrote: the customers it created are deleted
//! (soft, as every delete), the ones it updated get their stored fields back and lose the
//! contact points it added. A customer a colleague changed since is left as it is and
//! counted, never overwritten.

use chrono::Utc;
use guanxi_domain::customer::CustomerFields;
use guanxi_domain::role::Actor;
use serde::Serialize;
use serde_json::json;

use crate::audit::entry;
use crate::customers::{load_row, rebuild_search_keys, write_update};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};

/// An import as the wizard and its list show it (without the file's bytes).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ImportBatch {
    /// Id.
    pub id: i64,
    /// What the file holds (`customers`).
    pub entity: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// The sheet read (workbooks); none for CSV.
    pub sheet: Option<String>,
    /// The mapping and choices, as JSON (the application layer's `ImportSettings`).
    pub settings: String,
    /// `uploaded`, `queued`, `running`, `done`, `failed` or `undone`.
    pub status: String,
    /// Data rows in the file.
    pub total_rows: i64,
    /// Customers created.
    pub inserted: i64,
    /// Customers updated.
    pub updated: i64,
    /// Rows left out as duplicates.
    pub skipped: i64,
    /// Rows left out (or, all-or-nothing, that stopped the import) as invalid.
    pub invalid: i64,
    /// The rows' problems as JSON `[{line, column, code}]` once checked by a run.
    pub problems: Option<String>,
    /// Why a run failed, as a message code.
    pub error: Option<String>,
    /// Who uploaded it.
    pub created_by: Option<i64>,
    /// Uploaded (epoch ms).
    pub created_at: i64,
    /// The run started (epoch ms).
    pub started_at: Option<i64>,
    /// The run ended (epoch ms).
    pub finished_at: Option<i64>,
    /// Undone (epoch ms).
    pub undone_at: Option<i64>,
    /// Optimistic version.
    pub version: i64,
}

/// An uploaded file about to be kept as an import.
#[derive(Debug, Clone, Copy)]
pub struct NewImport<'a> {
    /// What the file holds (`customers`).
    pub entity: &'a str,
    /// The file's name.
    pub file_name: &'a str,
    /// Its bytes.
    pub data: &'a [u8],
    /// The sheet to read (workbooks).
    pub sheet: Option<&'a str>,
    /// The settings as JSON.
    pub settings: &'a str,
    /// Data rows in the sheet.
    pub total_rows: i64,
}

/// What a run left, recorded when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// `done` or `failed`.
    pub status: &'static str,
    /// Customers created.
    pub inserted: i64,
    /// Customers updated.
    pub updated: i64,
    /// Rows skipped as duplicates.
    pub skipped: i64,
    /// Rows with problems.
    pub invalid: i64,
    /// The problems, JSON.
    pub problems: Option<String>,
    /// Why it failed (message code).
    pub error: Option<String>,
}

/// What an undo did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UndoCounts {
    /// Created customers deleted.
    pub removed: u64,
    /// Updated customers given their fields back.
    pub restored: u64,
    /// Customers changed since the import (or gone), left as they are.
    pub kept: u64,
}

const COLUMNS: &str = "id, entity, file_name, sheet, settings, status, total_rows, inserted, \
     updated, skipped, invalid, problems, error, created_by, created_at, started_at, \
     finished_at, undone_at, version FROM imports";

/// Puts back the custom-field values an import's update replaced (`[field, [[text,
/// number], …]]` per field it set; an empty list: the field had no value).
async fn restore_custom(
    conn: &mut sqlx::AnyConnection,
    customer: i64,
    before: &serde_json::Value,
) -> Result<()> {
    for entry in before.as_array().into_iter().flatten() {
        let Some(field) = entry[0].as_i64() else {
            continue;
        };
        sqlx::query("DELETE FROM custom_values WHERE record_id = $1 AND field_id = $2")
            .bind(customer)
            .bind(field)
            .execute(&mut *conn)
            .await?;
        for cell in entry[1].as_array().into_iter().flatten() {
            sqlx::query(
                "INSERT INTO custom_values (field_id, value_text, record_id, value_number) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(field)
            .bind(cell[0].as_str().unwrap_or_default())
            .bind(customer)
            .bind(cell[1].as_f64())
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Marks a finished import undone, first thing in its undo's transaction: a second undo (or
/// one of an import not done) is refused.
pub(super) async fn mark_undone(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: i64,
    at: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE imports SET status = 'undone', undone_at = $1, undone_by = $2, \
         version = version + 1 WHERE id = $3 AND status = 'done'",
    )
    .bind(at)
    .bind(actor.user_id())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::invalid("status", "not_undoable"));
    }
    Ok(())
}

/// Audits `action` on `entity` (at the time `at`) for every record an import's rows name, in
/// one statement: `ids` is `<id column>, $6 FROM <table> WHERE …` (`$6` is the detail), with
/// `$7` standing for the import, which the detail names (`{"undo_import": id}` for an undo's deletes,
/// `{"import": id}` for a run's creates).
pub(super) async fn audit_each(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    (at, action, entity): (i64, &str, &str),
    ids: &str,
    import_id: i64,
) -> Result<()> {
    let key = if action == "delete" {
        "undo_import"
    } else {
        "import"
    };
    sqlx::query(&format!(
        "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, detail) \
         SELECT $1, $2, $3, $4, $5, {ids}"
    ))
    .bind(at)
    .bind(actor.user_id())
    .bind(actor.name.as_str())
    .bind(action)
    .bind(entity)
    .bind(json!({ key: import_id }).to_string())
    .bind(import_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Keeps an uploaded file as a new import (`uploaded`), audited.
    pub async fn create_import(&self, actor: &Actor, new: NewImport<'_>) -> Result<ImportBatch> {
        let NewImport {
            entity,
            file_name,
            data,
            sheet,
            settings,
            total_rows,
        } = new;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO imports (entity, file_name, file_data, sheet, settings, status, \
             total_rows, inserted, updated, skipped, invalid, created_by, created_at, version) \
             VALUES ($1, $2, $3, $4, $5, 'uploaded', $6, 0, 0, 0, 0, $7, $8, 1) RETURNING id",
        )
        .bind(entity)
        .bind(file_name)
        .bind(data)
        .bind(sheet)
        .bind(settings)
        .bind(total_rows)
        .bind(actor.user_id())
        .bind(to_ms(Utc::now()))
        .fetch_one(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "upload_import",
            "import",
            Some(id),
            json!({"file_name": file_name, "bytes": data.len(), "rows": total_rows}),
        )
        .await?;
        tx.commit().await?;
        self.import_batch(id).await
    }

    /// One import (the caller decides who may see it).
    pub async fn import_batch(&self, id: i64) -> Result<ImportBatch> {
        sqlx::query_as(&format!("SELECT {COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The uploaded file's bytes.
    pub async fn import_file(&self, id: i64) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT file_data FROM imports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The latest imports, newest first: everyone's, or one uploader's.
    pub async fn list_imports(
        &self,
        created_by: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ImportBatch>> {
        let q = crate::sql::newest(COLUMNS, "created_by", created_by, limit);
        Ok(q.query_as().fetch_all(&self.read).await?)
    }

    /// Saves the sheet and settings of an import not yet run, at its version.
    pub async fn update_import_settings(
        &self,
        id: i64,
        version: i64,
        sheet: Option<&str>,
        settings: &str,
        total_rows: i64,
    ) -> Result<ImportBatch> {
        let n = sqlx::query(
            "UPDATE imports SET sheet = $1, settings = $2, total_rows = $3, version = version + 1 \
             WHERE id = $4 AND version = $5 AND status = 'uploaded'",
        )
        .bind(sheet)
        .bind(settings)
        .bind(total_rows)
        .bind(id)
        .bind(version)
        .execute(&self.write)
        .await?
        .rows_affected();
        if n == 0 {
            let current = self.import_batch(id).await?;
            return Err(StoreError::Conflict {
                current: current.version,
                updated_by: current.created_by,
            });
        }
        self.import_batch(id).await
    }

    /// Moves an import from `from` to `to` (queued, running), at most once: `false` when it
    /// was not in `from` (a second click, a job run twice).
    pub async fn move_import(&self, id: i64, from: &str, to: &str) -> Result<bool> {
        let started = (to == "running").then(|| to_ms(Utc::now()));
        let n = sqlx::query(
            "UPDATE imports SET status = $1, started_at = COALESCE($2, started_at), \
             version = version + 1 WHERE id = $3 AND status = $4",
        )
        .bind(to)
        .bind(started)
        .bind(id)
        .bind(from)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Drops the uploaded files of imports made before `before` (epoch ms) and no longer
    /// waiting to be run: a file holds people's data, and past the undo window nothing needs
    /// it (the problems are kept apart). Returns how many files went.
    pub async fn purge_import_files(&self, before: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE imports SET file_data = $1 WHERE created_at < $2 \
             AND status IN ('done', 'failed', 'undone') AND file_data <> $1",
        )
        .bind(Vec::<u8>::new())
        .bind(before)
        .execute(&self.write)
        .await?
        .rows_affected())
    }

    /// Customers a run of this import created and updated (non-zero only once its write
    /// committed): how a retried run knows the work is done.
    pub async fn import_rows_written(&self, id: i64) -> Result<(i64, i64)> {
        let (inserted, updated): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN action = 'insert' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN action = 'update' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM import_rows WHERE import_id = $1",
        )
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        Ok((inserted, updated))
    }

    /// Records how a run ended, audited.
    pub async fn finish_import(&self, actor: &Actor, id: i64, o: &ImportOutcome) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE imports SET status = $1, inserted = $2, updated = $3, skipped = $4, \
             invalid = $5, problems = $6, error = $7, finished_at = $8, version = version + 1 \
             WHERE id = $9",
        )
        .bind(o.status)
        .bind(o.inserted)
        .bind(o.updated)
        .bind(o.skipped)
        .bind(o.invalid)
        .bind(o.problems.as_deref())
        .bind(o.error.as_deref())
        .bind(to_ms(Utc::now()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "run_import",
            "import",
            Some(id),
            json!({"status": o.status, "inserted": o.inserted, "updated": o.updated,
                   "skipped": o.skipped, "invalid": o.invalid, "error": o.error}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes back what a finished import wrote, in one transaction, audited (see the module
    /// comment). `actor` acts on the customers: a deleted or restored customer is one the
    /// actor may change.
    pub async fn undo_import(&self, actor: &Actor, id: i64) -> Result<UndoCounts> {
        let now = Utc::now();
        let at = to_ms(now);
        let mut tx = self.begin_write().await?;
        mark_undone(&mut tx, actor, id, at).await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM import_rows WHERE import_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        // Created customers nobody changed since: marked, deleted, unindexed, audited, each
        // by one statement over the import's rows.
        sqlx::query(
            "UPDATE import_rows SET undone = 1 WHERE import_id = $1 AND action = 'insert' \
             AND EXISTS (SELECT 1 FROM customers c WHERE c.id = import_rows.customer_id \
             AND c.version = import_rows.version_after AND c.deleted_at IS NULL)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let removed = sqlx::query(
            "UPDATE customers SET deleted_at = $1, deleted_by = $2, version = version + 1, \
             updated_at = $1, updated_by = $2 WHERE id IN (SELECT customer_id FROM import_rows \
             WHERE import_id = $3 AND action = 'insert' AND undone = 1)",
        )
        .bind(at)
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM customer_search_keys WHERE customer_id IN (SELECT customer_id FROM \
             import_rows WHERE import_id = $1 AND action = 'insert' AND undone = 1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit_each(
            &mut tx,
            actor,
            (at, "delete", "customer"),
            "customer_id, $6 FROM import_rows WHERE import_id = $7 AND action = 'insert' AND undone = 1",
            id,
        )
        .await?;
        // Updated customers: their stored fields back, the contact points the import added
        // gone, each through the customer file's own update (validated, indexed, audited).
        let updates: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT customer_id, before, version_after FROM import_rows \
             WHERE import_id = $1 AND action = 'update' ORDER BY customer_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut restored = 0u64;
        for (customer, before, version_after) in updates {
            let row = match load_row(&mut tx, actor, customer).await {
                Ok(r) => r,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            // Changed since, or erased (what it held before is gone with the erasure).
            let Some(before) = before.filter(|_| row.version == version_after) else {
                continue;
            };
            let before: serde_json::Value = serde_json::from_str(&before)
                .map_err(|e| StoreError::Corrupt(format!("import_rows {id}/{customer}: {e}")))?;
            let fields: CustomerFields = serde_json::from_value(before["fields"].clone())
                .map_err(|e| StoreError::Corrupt(format!("import_rows {id}/{customer}: {e}")))?;
            let current = row.fields()?;
            write_update(&mut tx, actor, row, current, fields, version_after, now).await?;
            restore_custom(&mut tx, customer, &before["custom"]).await?;
            let added = before["contacts_added"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for pair in &added {
                sqlx::query(
                    "UPDATE contact_points SET deleted_at = $1, updated_at = $1, updated_by = $5, \
                     version = version + 1 WHERE customer_id = $2 AND kind = $3 AND value_normalized = $4 \
                     AND deleted_at IS NULL",
                )
                .bind(at)
                .bind(customer)
                .bind(pair[0].as_str().unwrap_or(""))
                .bind(pair[1].as_str().unwrap_or(""))
                .bind(actor.user_id())
                .execute(&mut *tx)
                .await?;
            }
            if !added.is_empty() {
                rebuild_search_keys(&mut tx, customer).await?;
            }
            sqlx::query(
                "UPDATE import_rows SET undone = 1 WHERE import_id = $1 AND customer_id = $2",
            )
            .bind(id)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
            restored += 1;
        }
        let counts = UndoCounts {
            removed,
            restored,
            kept: (total as u64).saturating_sub(removed + restored),
        };
        entry(
            &mut tx,
            actor,
            "undo_import",
            "import",
            Some(id),
            json!({"removed": counts.removed, "restored": counts.restored, "kept": counts.kept}),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }
}
