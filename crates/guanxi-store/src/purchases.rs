//! Per-customer purchase facts (`customer_purchases`, migration 0021): order count, spend,
//! first and last order, all time and in the kept windows of
//! [`guanxi_domain::segment::PurchaseWindow`]. The order triggers keep them in the same
//! transaction as every order write; this module moves their windows' anchor forward, which
//! keeps the band of orders a segment must take off each window narrow (see
//! `segments::push_at_least`).

use guanxi_domain::segment::PurchaseWindow;

use crate::db::Store;
use crate::error::Result;

/// Customers re-anchored per transaction: a few milliseconds of the writer at a time, so that
/// no other write waits long behind the refresh.
const CHUNK: i64 = 5_000;

/// How far behind "now" a row is anchored: a request whose "now" was read a moment before
/// (or on a clock a little behind the database's) still finds its window inside the row's.
const ANCHOR_MARGIN_MS: i64 = 3_600_000;

/// Recomputes every figure of the chunk's customers (`customer_id` in (`$2`, `$3`]) that have
/// an order in a band that leaves a window when the anchor moves from the floor (`$4`) to `$1`,
/// or whose anchor is later than `$1` (a row made meanwhile, or an anchor moved back), about
/// the new anchor. The others' figures stay as they are: only their anchor moves.
fn recompute_leaving_sql() -> String {
    let mut figures = vec![
        "COUNT(*)".to_string(),
        "COALESCE(SUM(o.total_minor), 0)".to_string(),
        "MIN(o.ordered_at)".to_string(),
        "MAX(o.ordered_at)".to_string(),
    ];
    let mut columns = vec!["orders", "spend_minor", "first_order_at", "last_order_at"];
    let mut bands = Vec::new();
    for w in PurchaseWindow::ALL {
        let width = w.millis();
        let from = format!("$1 - {width}");
        figures.push(format!(
            "COALESCE(SUM(CASE WHEN o.ordered_at >= {from} THEN 1 ELSE 0 END), 0)"
        ));
        figures.push(format!(
            "COALESCE(SUM(CASE WHEN o.ordered_at >= {from} THEN o.total_minor ELSE 0 END), 0)"
        ));
        columns.push(w.orders_column());
        columns.push(w.spend_column());
        bands.push(format!(
            "(l.ordered_at >= $4 - {width} AND l.ordered_at < $1 - {width})"
        ));
    }
    format!(
        "UPDATE customer_purchases SET as_of = $1, ({}) = (SELECT {} FROM orders o \
         WHERE o.customer_id = customer_purchases.customer_id) \
         WHERE customer_id > $2 AND customer_id <= $3 AND (as_of > $1 OR customer_id IN (\
         SELECT l.customer_id FROM orders l WHERE l.customer_id > $2 AND l.customer_id <= $3 \
         AND ({})))",
        columns.join(", "),
        figures.join(", "),
        bands.join(" OR ")
    )
}

impl Store {
    /// Anchors every customer's purchase windows at `now_ms` (less [`ANCHOR_MARGIN_MS`]),
    /// [`CHUNK`] customers per transaction: the customers with an order that left a window
    /// since the last anchor get their figures recomputed, the rest only their anchor moved
    /// (a daily refresh recomputes a few thousand customers, not the book: at a million a
    /// full recomputation held the writer 0.6 s per chunk on PostgreSQL, 2 minutes in all).
    /// Then sets the floor the segments' bands start from. Run by each score refresh;
    /// returns how many customers' figures were recomputed.
    pub async fn reanchor_purchase_facts(&self, now_ms: i64) -> Result<u64> {
        let anchor = now_ms - ANCHOR_MARGIN_MS;
        let (floor,): (i64,) = sqlx::query_as("SELECT floor_at FROM purchase_facts_floor")
            .fetch_one(&self.read)
            .await?;
        let recompute = recompute_leaving_sql();
        let mut after = i64::MIN;
        let mut recomputed = 0;
        loop {
            let (upper,): (Option<i64>,) = sqlx::query_as(
                "SELECT MAX(customer_id) FROM (SELECT customer_id FROM customer_purchases \
                 WHERE customer_id > $1 ORDER BY customer_id LIMIT $2) chunk",
            )
            .bind(after)
            .bind(CHUNK)
            .fetch_one(&self.read)
            .await?;
            let Some(upper) = upper else {
                break;
            };
            // One transaction per chunk: an order written meanwhile is counted about the
            // anchor its row has when the order's trigger runs.
            let mut tx = self.begin_write().await?;
            recomputed += sqlx::query(&recompute)
                .bind(anchor)
                .bind(after)
                .bind(upper)
                .bind(floor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "UPDATE customer_purchases SET as_of = $1 \
                 WHERE customer_id > $2 AND customer_id <= $3 AND as_of <> $1",
            )
            .bind(anchor)
            .bind(after)
            .bind(upper)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            after = upper;
        }
        // Every row is anchored at `anchor` now, and rows made by the triggers meanwhile at
        // their database's "now" less the margin; a second margin keeps the floor below them
        // on a clock a little behind.
        sqlx::query("UPDATE purchase_facts_floor SET floor_at = $1")
            .bind(anchor - ANCHOR_MARGIN_MS)
            .execute(&self.write)
            .await?;
        Ok(recomputed)
    }
}
