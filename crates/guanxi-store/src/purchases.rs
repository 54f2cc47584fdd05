//! Per-customer purchase facts (`customer_purchases`, migration 0021): order count, spend,
//! first and last order, all time and in the kept windows of
//! [`guanxi_domain::segment::PurchaseWindow`]. The order triggers keep them in the same
//! transaction as every order write; this module moves their windows' anchor forward, which
//! keeps the band of orders a segment must take off each window narrow (see
//! `segments::push_at_least`).

use guanxi_domain::segment::PurchaseWindow;

use crate::db::Store;
use crate::error::Result;

/// Customers re-anchored per transaction: a few tens of milliseconds of the writer at a time,
/// so that no other write waits long behind the refresh.
const CHUNK: i64 = 5_000;

/// How far behind "now" a row is anchored: a request whose "now" was read a moment before
/// (or on a clock a little behind the database's) still finds its window inside the row's.
pub(crate) const ANCHOR_MARGIN_MS: i64 = 3_600_000;

/// The `SET` list recomputing every figure of `customer_purchases` from its orders, about the
/// anchor bound as `$1`.
fn recompute_sql() -> String {
    let mut figures = vec![
        "COUNT(*)".to_string(),
        "COALESCE(SUM(o.total_minor), 0)".to_string(),
        "MIN(o.ordered_at)".to_string(),
        "MAX(o.ordered_at)".to_string(),
    ];
    let mut columns = vec!["orders", "spend_minor", "first_order_at", "last_order_at"];
    for w in PurchaseWindow::ALL {
        let from = format!("$1 - {}", w.millis());
        figures.push(format!(
            "COALESCE(SUM(CASE WHEN o.ordered_at >= {from} THEN 1 ELSE 0 END), 0)"
        ));
        figures.push(format!(
            "COALESCE(SUM(CASE WHEN o.ordered_at >= {from} THEN o.total_minor ELSE 0 END), 0)"
        ));
        columns.push(w.orders_column());
        columns.push(w.spend_column());
    }
    format!(
        "UPDATE customer_purchases SET as_of = $1, ({}) = (SELECT {} FROM orders o \
         WHERE o.customer_id = customer_purchases.customer_id) \
         WHERE customer_id > $2 AND customer_id <= $3",
        columns.join(", "),
        figures.join(", ")
    )
}

impl Store {
    /// Anchors every customer's purchase windows at `now_ms` (less [`ANCHOR_MARGIN_MS`]) and
    /// recomputes all their figures from the orders, [`CHUNK`] customers per transaction.
    /// Run by each score refresh; returns how many customers it covered.
    pub async fn reanchor_purchase_facts(&self, now_ms: i64) -> Result<u64> {
        let anchor = now_ms - ANCHOR_MARGIN_MS;
        let update = recompute_sql();
        let mut after = i64::MIN;
        let mut done = 0;
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
                return Ok(done);
            };
            done += sqlx::query(&update)
                .bind(anchor)
                .bind(after)
                .bind(upper)
                .execute(&self.write)
                .await?
                .rows_affected();
            after = upper;
        }
    }
}
