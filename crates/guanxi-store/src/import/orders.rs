//! Orders imported from a file: written in one transaction with their lines (products created
//! on first sight, timeline events projected, rollups and purchase facts kept by the order
//! triggers), each recorded in `import_records` for the undo (`records.rs`).

use std::collections::HashMap;

use chrono::Utc;
use guanxi_domain::order::NewOrder;
use guanxi_domain::role::Actor;

use super::batches::audit_each;
use super::records::record_created_many;
use super::Progress;
use crate::customers::push_scope;
use crate::db::{to_ms, Store};
use crate::error::Result;
use crate::events::{project, Rows};
use crate::orders::{insert_order_lines, insert_order_rows, ProductCache, ORDER_EVENTS};
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
        let now_ms = to_ms(now);
        let mut tx = self.begin_write().await?;
        let mut done = 0u64;
        // Orders a chunk at a time: their rows, lines, timeline events and undo records a
        // statement (or a few) per chunk.
        for chunk in orders.chunks(PROGRESS_EVERY) {
            let totals: Vec<(&NewOrder, i64)> = chunk
                .iter()
                .map(|(_, o)| Ok((o, o.validate(now)?)))
                .collect::<Result<_>>()?;
            let ids = insert_order_rows(&mut tx, self.backend(), actor, &totals, now_ms).await?;
            let written: Vec<(i64, &NewOrder)> = ids
                .iter()
                .copied()
                .zip(totals.iter().map(|(o, _)| *o))
                .collect();
            insert_order_lines(&mut tx, &mut products, &written, now_ms).await?;
            project(&mut tx, &ORDER_EVENTS, Rows::Ids(&ids)).await?;
            let records: Vec<(i64, u64)> = ids
                .iter()
                .zip(chunk)
                .map(|(id, (line, _))| (*id, *line))
                .collect();
            record_created_many(&mut tx, import_id, "order", &records).await?;
            for (_, o) in chunk {
                counts.orders += 1;
                counts.lines += o.lines.len() as u64;
            }
            done += chunk.len() as u64;
            progress(done);
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
