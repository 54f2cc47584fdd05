//! Orders imported from a file: written in one transaction with their lines (products created
//! on first sight, timeline events projected, rollups and purchase facts kept by the order
//! triggers), each recorded in `import_records` for the undo (`records.rs`).

use std::collections::HashMap;

use chrono::Utc;
use guanxi_domain::order::NewOrder;
use guanxi_domain::role::Actor;

use super::batches::audit_each;
use super::records::record_created;
use super::Progress;
use crate::customers::push_scope;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::orders::ProductCache;
use crate::sql::SqlBuilder;

/// Values looked up per query.
const LOOKUP_CHUNK: usize = 500;

/// Orders written per progress report.
const PROGRESS_EVERY: usize = 500;

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
            record_created(&mut tx, import_id, "order", id, *line).await?;
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
}
