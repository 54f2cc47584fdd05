//! Records an import created for customers (orders with their lines, interactions), kept in
//! `import_records` in the import's own transaction, and their undo: within 7 days, once, in
//! one transaction, each record nothing has come to depend on since is deleted with what hangs
//! off it (lines, its timeline event); the others are kept and counted, as a customer changed
//! since is.

use chrono::{DateTime, Utc};
use guanxi_domain::interaction::ValidInteraction;
use guanxi_domain::pipeline::opportunity::OpportunityInput;
use guanxi_domain::role::Actor;
use serde_json::json;

use super::batches::{audit_each, mark_undone};
use super::{Progress, UndoCounts};
use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::pipeline::deals::insert_opportunity;
use crate::sql::SqlBuilder;

/// Records written per progress report.
const PROGRESS_EVERY: usize = 500;

/// Customers whose interactions are compared per query.
const LOOKUP_CHUNK: usize = 300;

/// How one kind of imported record is taken back.
struct Undoable {
    /// `import_records.kind`.
    kind: &'static str,
    /// Its table.
    table: &'static str,
    /// When the record (`r`, its id) may go: it still exists and nothing depends on it.
    deletable: &'static str,
    /// Rows hanging off it, deleted first: (table, column naming the record).
    children: &'static [(&'static str, &'static str)],
    /// The custom-field entity whose values it carries (removed with it), if any.
    custom_entity: Option<&'static str>,
    /// The `ref_id`s of its timeline events, `{ids}` standing for the records' ids (read
    /// before the children go: a deal's events are its stage changes).
    events: &'static str,
}

/// Every kind an import can create, in the order an undo takes them.
const UNDOABLE: [Undoable; 3] = [
    Undoable {
        kind: "order",
        table: "orders",
        deletable: "EXISTS (SELECT 1 FROM orders o WHERE o.id = r) \
             AND NOT EXISTS (SELECT 1 FROM loyalty_entries e WHERE e.order_id = r) \
             AND NOT EXISTS (SELECT 1 FROM coupons c WHERE c.order_id = r) \
             AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = r) \
             AND NOT EXISTS (SELECT 1 FROM opportunities p WHERE p.order_id = r)",
        children: &[("order_lines", "order_id")],
        custom_entity: None,
        events: "{ids}",
    },
    Undoable {
        kind: "interaction",
        table: "interactions",
        // Edited since (its version moved on), or a call's record: kept.
        deletable: "EXISTS (SELECT 1 FROM interactions i WHERE i.id = r AND i.version = 1) \
             AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.interaction_id = r)",
        children: &[],
        custom_entity: None,
        events: "{ids}",
    },
    Undoable {
        kind: "opportunity",
        table: "opportunities",
        // Moved, edited or given custom values since (its version moved on), or a lead
        // converted into it: kept.
        deletable: "EXISTS (SELECT 1 FROM opportunities o WHERE o.id = r AND o.version = 1) \
             AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.opportunity_id = r)",
        children: &[
            ("opportunity_lines", "opportunity_id"),
            ("opportunity_stage_changes", "opportunity_id"),
        ],
        custom_entity: Some("opportunity"),
        events: "SELECT id FROM opportunity_stage_changes WHERE opportunity_id IN ({ids})",
    },
];

/// A deal an import writes: its file line, the deal, when it was opened (as of the file, or
/// now) and its custom values.
pub type ImportedDeal = (
    u64,
    OpportunityInput,
    Option<DateTime<Utc>>,
    Vec<crate::custom_field::CustomChange>,
);

impl Store {
    /// Records an import created (non-zero only once its write committed): how a retried
    /// run knows the work is done.
    pub async fn import_records_written(&self, id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM import_records WHERE import_id = $1")
                .bind(id)
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Per (customer, time in epoch ms, channel code, subject), whether that interaction is
    /// already on file: the same contact imported twice is a duplicate.
    pub async fn interactions_on_file(&self, keys: &[(i64, i64, &str, &str)]) -> Result<Vec<bool>> {
        let mut stored = std::collections::HashSet::new();
        let customers: std::collections::BTreeSet<i64> = keys.iter().map(|k| k.0).collect();
        let customers: Vec<i64> = customers.into_iter().collect();
        for chunk in customers.chunks(LOOKUP_CHUNK) {
            let mut q = SqlBuilder::new(
                "SELECT customer_id, occurred_at, channel, subject FROM interactions \
                 WHERE customer_id IN ",
            );
            q.int_list(chunk);
            for row in q
                .query_as::<(i64, i64, String, String)>()
                .fetch_all(&self.read)
                .await?
            {
                stored.insert(row);
            }
        }
        Ok(keys
            .iter()
            .map(|(c, at, ch, s)| stored.contains(&(*c, *at, ch.to_string(), s.to_string())))
            .collect())
    }

    /// Writes an import's interactions (first line, customer, interaction) in one
    /// transaction, each audited and on its customer's timeline, recorded for the undo.
    pub async fn import_interactions(
        &self,
        actor: &Actor,
        import_id: i64,
        rows: Vec<(u64, i64, ValidInteraction)>,
        progress: Progress,
    ) -> Result<u64> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        for (i, (line, customer, interaction)) in rows.iter().enumerate() {
            let id = self
                .insert_interaction(&mut tx, actor, *customer, interaction, now)
                .await?;
            record_created(&mut tx, import_id, "interaction", id, *line).await?;
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(i as u64 + 1);
            }
        }
        tx.commit().await?;
        progress(rows.len() as u64);
        Ok(rows.len() as u64)
    }

    /// Per (customer, deal name), whether that customer already has a deal of that name (open
    /// or closed): the same deal imported twice is a duplicate.
    pub async fn opportunities_on_file(&self, keys: &[(i64, &str)]) -> Result<Vec<bool>> {
        let mut stored = std::collections::HashSet::new();
        let customers: std::collections::BTreeSet<i64> = keys.iter().map(|k| k.0).collect();
        let customers: Vec<i64> = customers.into_iter().collect();
        for chunk in customers.chunks(LOOKUP_CHUNK) {
            let mut q = SqlBuilder::new(
                "SELECT customer_id, name FROM opportunities WHERE customer_id IN ",
            );
            q.int_list(chunk);
            stored.extend(q.query_as::<(i64, String)>().fetch_all(&self.read).await?);
        }
        Ok(keys
            .iter()
            .map(|(c, n)| stored.contains(&(*c, n.to_string())))
            .collect())
    }

    /// Writes an import's deals (first line, deal with its customer, pipeline, stage and owner
    /// found, when it was opened) in one transaction, each created as the pipeline creates one
    /// (checked, first stage change, timeline, audit), recorded for the undo.
    pub async fn import_opportunities(
        &self,
        actor: &Actor,
        import_id: i64,
        rows: Vec<ImportedDeal>,
        progress: Progress,
    ) -> Result<u64> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        for (i, (line, deal, at, custom)) in rows.iter().enumerate() {
            let created = insert_opportunity(&mut tx, actor, deal, at.unwrap_or(now)).await?;
            crate::custom_field::write_values_in(&mut tx, actor, "opportunity", created.id, custom)
                .await?;
            record_created(&mut tx, import_id, "opportunity", created.id, *line).await?;
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(i as u64 + 1);
            }
        }
        tx.commit().await?;
        progress(rows.len() as u64);
        Ok(rows.len() as u64)
    }

    /// Takes back the records a finished import created (see the module comment), audited.
    pub async fn undo_record_import(&self, actor: &Actor, id: i64) -> Result<UndoCounts> {
        let at = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        mark_undone(&mut tx, actor, id, at).await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM import_records WHERE import_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let mut removed = 0;
        for u in &UNDOABLE {
            let ids = format!(
                "SELECT record_id FROM import_records WHERE import_id = $1 AND kind = '{}' \
                 AND undone = 1",
                u.kind
            );
            sqlx::query(&format!(
                "UPDATE import_records SET undone = 1 WHERE import_id = $1 AND kind = '{}' AND {}",
                u.kind,
                u.deletable.replace(" = r", " = import_records.record_id")
            ))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM customer_events WHERE kind = '{}' AND ref_id IN ({})",
                u.kind,
                u.events.replace("{ids}", &ids)
            ))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            for (table, column) in u.children {
                sqlx::query(&format!("DELETE FROM {table} WHERE {column} IN ({ids})"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(entity) = u.custom_entity {
                // `record_id` is shared by every entity: only this one's fields.
                sqlx::query(&format!(
                    "DELETE FROM custom_values WHERE record_id IN ({ids}) AND field_id IN \
                     (SELECT f.id FROM custom_fields f WHERE f.entity = '{entity}')"
                ))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            audit_each(
                &mut tx,
                actor,
                (at, "delete", u.kind),
                &format!(
                    "record_id, $6 FROM import_records WHERE import_id = $7 AND kind = '{}' \
                     AND undone = 1",
                    u.kind
                ),
                id,
            )
            .await?;
            removed += sqlx::query(&format!("DELETE FROM {} WHERE id IN ({ids})", u.table))
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        let counts = UndoCounts {
            removed,
            restored: 0,
            kept: u64::try_from(total).unwrap_or(0).saturating_sub(removed),
        };
        entry(
            &mut tx,
            actor,
            "undo_import",
            "import",
            Some(id),
            json!({"removed": counts.removed, "kept": counts.kept}),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }
}

/// Records one created record of an import, in the import's transaction.
pub(super) async fn record_created(
    conn: &mut sqlx::AnyConnection,
    import_id: i64,
    kind: &str,
    record_id: i64,
    line: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO import_records (import_id, kind, record_id, line) VALUES ($1, $2, $3, $4)",
    )
    .bind(import_id)
    .bind(kind)
    .bind(record_id)
    .bind(i64::try_from(line).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records many created records of one kind (id, file line) in one statement.
pub(super) async fn record_created_many(
    conn: &mut sqlx::AnyConnection,
    import_id: i64,
    kind: &str,
    records: &[(i64, u64)],
) -> Result<()> {
    for chunk in records.chunks(500) {
        let mut q = SqlBuilder::new(
            "INSERT INTO import_records (import_id, kind, record_id, line) VALUES ",
        );
        for (n, (id, line)) in chunk.iter().enumerate() {
            q.push(if n == 0 { "(" } else { ", (" });
            q.int(import_id)
                .push(", ")
                .text(kind)
                .push(", ")
                .int(*id)
                .push(", ")
                .int(i64::try_from(*line).unwrap_or(i64::MAX))
                .push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}
