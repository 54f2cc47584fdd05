//! Orders imported from a file: written in one transaction with their lines (products created
//! on first sight, timeline events projected, rollups and purchase facts kept by the order
//! triggers), each recorded in `import_records` so that an undo within 7 days deletes exactly
//! those orders. An order something else has come to refer to since (loyalty points, a coupon,
//! a ticket, a won deal) is kept and counted, as a customer changed since is.

use std::collections::HashMap;

use chrono::Utc;
use guanxi_domain::order::NewOrder;
use guanxi_domain::role::Actor;
use serde_json::json;

use super::batches::{audit_each, mark_undone};
use super::{Progress, UndoCounts};
use crate::audit::entry;
use crate::customers::push_scope;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::orders::ProductCache;
use crate::sql::SqlBuilder;

/// Values looked up per query.
const LOOKUP_CHUNK: usize = 500;

/// Orders written per progress report.
const PROGRESS_EVERY: usize = 500;

/// The records an import of orders made, for the statements that act on all of them.
const IMPORTED_ORDERS: &str =
    "SELECT record_id FROM import_records WHERE import_id = $1 AND kind = 'order' AND undone = 1";

/// What an orders import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderImportCounts {
    /// Orders created.
    pub orders: u64,
    /// Their lines.
    pub lines: u64,
}

impl Store {
    /// The names of those of `ids` the actor may see (a buyer named by id must be one).
    pub async fn visible_customer_names(
        &self,
        actor: &Actor,
        ids: &[i64],
    ) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let mut q = SqlBuilder::new(
                "SELECT c.id, c.name FROM customers c WHERE c.deleted_at IS NULL AND c.id IN ",
            );
            q.int_list(chunk);
            push_scope(&mut q, actor);
            out.extend(q.query_as::<(i64, String)>().fetch_all(&self.read).await?);
        }
        Ok(out)
    }

    /// Orders already on file by their external reference: reference → (order, customer).
    /// References are unique across the book, so one taken by a customer the reader cannot
    /// see is still taken (the caller shows no more than that).
    pub async fn orders_by_ref(&self, refs: &[&str]) -> Result<HashMap<String, (i64, i64)>> {
        let mut out = HashMap::new();
        for chunk in refs.chunks(LOOKUP_CHUNK) {
            let mut q = SqlBuilder::new(
                "SELECT external_ref, id, customer_id FROM orders WHERE external_ref IN ",
            );
            q.text_list(chunk);
            for (r, id, customer) in q
                .query_as::<(String, i64, i64)>()
                .fetch_all(&self.read)
                .await?
            {
                out.insert(r, (id, customer));
            }
        }
        Ok(out)
    }

    /// Writes an import's orders (each with the file line it starts on, its buyer found) in
    /// one transaction: all of them or, on any error, none. Each is recorded for the undo and
    /// audited as created by the import.
    pub async fn import_orders(
        &self,
        actor: &Actor,
        import_id: i64,
        orders: Vec<(u64, NewOrder)>,
        progress: Progress,
    ) -> Result<OrderImportCounts> {
        let now = Utc::now();
        let mut counts = OrderImportCounts::default();
        let mut products = ProductCache::default();
        let mut tx = self.begin_write().await?;
        for (i, (line, o)) in orders.iter().enumerate() {
            let total = o.validate(now)?;
            let id = self
                .insert_order(&mut tx, actor, o, total, &mut products)
                .await?;
            sqlx::query(
                "INSERT INTO import_records (import_id, kind, record_id, line) VALUES ($1, 'order', $2, $3)",
            )
            .bind(import_id)
            .bind(id)
            .bind(i64::try_from(*line).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
            counts.orders += 1;
            counts.lines += o.lines.len() as u64;
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(i as u64 + 1);
            }
        }
        audit_each(
            &mut tx,
            actor,
            (to_ms(now), "create", "order"),
            "record_id, $6 FROM import_records WHERE import_id = $7 AND kind = 'order'",
            import_id,
        )
        .await?;
        tx.commit().await?;
        progress(counts.orders);
        Ok(counts)
    }

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

    /// Takes back the orders a finished import created, in one transaction, audited: each
    /// order nothing refers to since is deleted with its lines and its timeline event; the
    /// others are kept and counted.
    pub async fn undo_order_import(&self, actor: &Actor, id: i64) -> Result<UndoCounts> {
        let at = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        mark_undone(&mut tx, actor, id, at).await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM import_records WHERE import_id = $1 AND kind = 'order'",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE import_records SET undone = 1 WHERE import_id = $1 AND kind = 'order' \
             AND EXISTS (SELECT 1 FROM orders o WHERE o.id = import_records.record_id) \
             AND NOT EXISTS (SELECT 1 FROM loyalty_entries e WHERE e.order_id = import_records.record_id) \
             AND NOT EXISTS (SELECT 1 FROM coupons c WHERE c.order_id = import_records.record_id) \
             AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = import_records.record_id) \
             AND NOT EXISTS (SELECT 1 FROM opportunities p WHERE p.order_id = import_records.record_id)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        for statement in [
            format!("DELETE FROM order_lines WHERE order_id IN ({IMPORTED_ORDERS})"),
            format!("DELETE FROM customer_events WHERE kind = 'order' AND ref_id IN ({IMPORTED_ORDERS})"),
        ] {
            sqlx::query(&statement).bind(id).execute(&mut *tx).await?;
        }
        audit_each(
            &mut tx,
            actor,
            (at, "delete", "order"),
            "record_id, $6 FROM import_records WHERE import_id = $7 AND kind = 'order' AND undone = 1",
            id,
        )
        .await?;
        let removed = sqlx::query(&format!(
            "DELETE FROM orders WHERE id IN ({IMPORTED_ORDERS})"
        ))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
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
