//! Orders and their lines. Products are keyed by SKU and created on first sight, so a till
//! export can be loaded without a separate product master.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use guanxi_analytics::Transactions;
use guanxi_domain::order::NewOrder;
use guanxi_domain::records::{Order, OrderLine};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::OrderChannel;
use guanxi_domain::ValidationErrors;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{bad_cursor, record, AuditEvent};
use crate::customers::{load_row, push_scope};
use crate::db::{from_ms, to_ms, Backend, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, EventSource, Rows};
use crate::rows::code;
use crate::sql::{decode_cursor, encode_cursor, Page, SqlBuilder};

/// Filters for listing orders.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only this customer.
    pub customer_id: Option<i64>,
    /// From (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Keyset cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    customer_id: i64,
    ordered_at: i64,
    total_minor: i64,
    currency: String,
    channel: String,
    store: Option<String>,
    external_ref: Option<String>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    order_id: i64,
    line_no: i64,
    product_id: i64,
    sku: String,
    product_name: String,
    quantity: i64,
    unit_price_minor: i64,
    amount_minor: i64,
}

/// Finds or creates products by SKU within one transaction, remembering ids it has seen.
#[derive(Default)]
pub struct ProductCache(HashMap<String, i64>);

impl ProductCache {
    /// The id of `sku`, creating the product when new.
    pub async fn id(
        &mut self,
        conn: &mut AnyConnection,
        sku: &str,
        name: Option<&str>,
        category: Option<&str>,
        now: i64,
    ) -> Result<i64> {
        if let Some(id) = self.0.get(sku) {
            return Ok(*id);
        }
        sqlx::query("INSERT INTO products (sku, name, category, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sku) DO NOTHING")
            .bind(sku)
            .bind(name.unwrap_or(sku))
            .bind(category)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM products WHERE sku = $1")
            .bind(sku)
            .fetch_one(&mut *conn)
            .await?;
        self.0.insert(sku.to_string(), id);
        Ok(id)
    }
}

/// Orders on the timeline, at the time they were placed, with their total.
pub(crate) const ORDER_EVENTS: EventSource = EventSource {
    kind: "order",
    select:
        "SELECT customer_id, ordered_at AS at, 'order' AS kind, id AS ref_id, channel AS code, \
             store AS title, CAST(NULL AS TEXT) AS detail, total_minor AS amount_minor, currency, \
             created_by AS user_id, CAST(NULL AS BIGINT) AS version, \
             CAST(NULL AS BIGINT) AS link_id FROM orders",
};

impl Store {
    /// Records an order for a customer visible to the actor.
    pub async fn create_order(&self, actor: &Actor, o: NewOrder) -> Result<Order> {
        let total = o.validate(Utc::now())?;
        let mut tx = self.begin_write().await?;
        if let Err(StoreError::NotFound) = load_row(&mut tx, actor, o.customer_id).await {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "customer_id",
                "invalid_reference",
            )));
        }
        let id = self
            .insert_order(&mut tx, actor, &o, total, &mut ProductCache::default())
            .await?;
        record(&mut tx, actor, AuditEvent { action: "create", entity: "order", entity_id: Some(id), detail: json!({"customer_id": o.customer_id, "total_minor": total, "currency": o.currency}) }).await?;
        tx.commit().await?;
        self.get_order(actor, id).await
    }

    /// Inserts a validated order inside a caller's transaction (bulk loads reuse it).
    pub async fn insert_order(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        o: &NewOrder,
        total: i64,
        products: &mut ProductCache,
    ) -> Result<i64> {
        let now = to_ms(Utc::now());
        let id = insert_order_row(conn, actor, o, total, now).await?;
        project(conn, &ORDER_EVENTS, Rows::Id(id)).await?;
        insert_order_lines(conn, products, &[(id, o)], now).await?;
        Ok(id)
    }

    /// One order whose customer is visible to the actor.
    pub async fn get_order(&self, actor: &Actor, id: i64) -> Result<Order> {
        let page = self
            .list_orders_where(
                actor,
                &OrderFilter {
                    limit: 1,
                    ..Default::default()
                },
                Some(id),
            )
            .await?;
        page.items.into_iter().next().ok_or(StoreError::NotFound)
    }

    /// Orders newest first within the actor's scope.
    pub async fn list_orders(&self, actor: &Actor, f: &OrderFilter) -> Result<Page<Order>> {
        self.list_orders_where(actor, f, None).await
    }

    async fn list_orders_where(
        &self,
        actor: &Actor,
        f: &OrderFilter,
        id: Option<i64>,
    ) -> Result<Page<Order>> {
        let mut q = SqlBuilder::new(
            "SELECT o.id, o.customer_id, o.ordered_at, o.total_minor, o.currency, o.channel, o.store, o.external_ref, o.created_at \
             FROM orders o JOIN customers c ON c.id = o.customer_id WHERE 1=1",
        );
        push_scope(&mut q, actor);
        if let Some(id) = id {
            q.push(" AND o.id = ").int(id);
        }
        if let Some(v) = f.customer_id {
            q.push(" AND o.customer_id = ").int(v);
        }
        if let Some(v) = f.since {
            q.push(" AND o.ordered_at >= ").int(to_ms(v));
        }
        if let Some(v) = f.until {
            q.push(" AND o.ordered_at < ").int(to_ms(v));
        }
        if let Some(c) = &f.cursor {
            let (v, cid) = decode_cursor(c).ok_or_else(bad_cursor)?;
            q.older_than(
                "o.ordered_at, o.id",
                v.parse().map_err(|_| bad_cursor())?,
                cid,
            );
        }
        let limit = f.limit.clamp(1, 500);
        q.push(" ORDER BY o.ordered_at DESC, o.id DESC LIMIT ")
            .int(limit + 1);
        let mut conn = self.read.acquire().await?;
        let mut rows: Vec<OrderRow> = q.query_as().fetch_all(&mut *conn).await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|r| encode_cursor(&r.ordered_at.to_string(), r.id))
        } else {
            None
        };
        let mut lines: HashMap<i64, Vec<OrderLine>> = HashMap::new();
        if !rows.is_empty() {
            let mut lq = SqlBuilder::new(
                "SELECT l.order_id, l.line_no, l.product_id, p.sku, p.name AS product_name, l.quantity, l.unit_price_minor, l.amount_minor \
                 FROM order_lines l JOIN products p ON p.id = l.product_id WHERE l.order_id IN (",
            );
            for (i, r) in rows.iter().enumerate() {
                if i > 0 {
                    lq.push(", ");
                }
                lq.int(r.id);
            }
            lq.push(") ORDER BY l.order_id, l.line_no");
            for l in lq.query_as::<LineRow>().fetch_all(&mut *conn).await? {
                lines.entry(l.order_id).or_default().push(OrderLine {
                    line_no: l.line_no,
                    product_id: l.product_id,
                    sku: l.sku,
                    product_name: l.product_name,
                    quantity: l.quantity,
                    unit_price_minor: l.unit_price_minor,
                    amount_minor: l.amount_minor,
                });
            }
        }
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(Order {
                    id: r.id,
                    customer_id: r.customer_id,
                    ordered_at: from_ms(r.ordered_at),
                    total_minor: r.total_minor,
                    currency: r.currency,
                    channel: code(OrderChannel::parse, &r.channel, "channel")?,
                    store: r.store,
                    external_ref: r.external_ref,
                    lines: lines.remove(&r.id).unwrap_or_default(),
                    created_at: from_ms(r.created_at),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Number of orders (and their revenue in minor units) of customers within scope.
    pub async fn order_totals(&self, actor: &Actor) -> Result<(i64, i64)> {
        let mut q = SqlBuilder::new(&format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(o.total_minor), 0) AS BIGINT) FROM {} 1=1",
            orders_from(actor)
        ));
        push_scope(&mut q, actor);
        Ok(q.query_as::<(i64, i64)>().fetch_one(&self.read).await?)
    }

    /// Every order as analytics input: customer, day in the shop's time zone
    /// (`utc_offset_hours` east of UTC), total in currency units; in storage order (id order on
    /// SQLite). Deleted customers' orders stay: revenue happened. Read through the bulk path,
    /// as the score refresh and `guanxi analyze` read millions of orders.
    pub async fn order_transactions(&self, utc_offset_hours: i64) -> Result<Transactions> {
        let facts: Vec<[i64; 3]> = self
            .bulk_i64_rows("SELECT customer_id, ordered_at, total_minor FROM orders")
            .await?;
        let offset = utc_offset_hours * 3_600_000;
        let mut tx = Transactions::default();
        tx.customer.reserve(facts.len());
        tx.day.reserve(facts.len());
        tx.amount.reserve(facts.len());
        for [c, at, total] in facts {
            tx.customer.push(c);
            tx.day.push((at + offset).div_euclid(86_400_000) as i32);
            tx.amount.push(total as f64 / 100.0);
        }
        Ok(tx)
    }

    /// Every order line as (order id, product name), for market-basket analysis.
    pub async fn basket_items(&self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT l.order_id, p.name FROM order_lines l JOIN products p ON p.id = l.product_id ORDER BY l.order_id, l.line_no")
            .fetch_all(&self.read)
            .await?)
    }

    /// Begins a write transaction for bulk loaders (import, demo) that batch many inserts.
    pub async fn begin_bulk(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.begin_write().await
    }
}

/// `FROM … WHERE …` of an orders query within the reader's scope (the caller appends its
/// first condition and then `push_scope`). A reader who sees every customer reads orders
/// alone: their orders are all orders, and a covering index answers. For a rep, the customers
/// come first (SQLite keeps the order of a `CROSS JOIN`; the join condition is in `WHERE`, as
/// PostgreSQL wants): their few customers by owner, then each one's orders by the per-customer
/// index, instead of every order of the book looked up against its customer.
fn orders_from(actor: &Actor) -> &'static str {
    match actor.scope {
        guanxi_domain::role::RecordScope::All => "orders o WHERE",
        guanxi_domain::role::RecordScope::OwnAndTeam => {
            "customers c CROSS JOIN orders o WHERE o.customer_id = c.id AND"
        }
    }
}

/// Writes an order's own row (its lines and timeline event are the caller's), returning its
/// id; a taken external reference is `Duplicate { field: "external_ref" }`.
pub(crate) async fn insert_order_row(
    conn: &mut AnyConnection,
    actor: &Actor,
    o: &NewOrder,
    total: i64,
    now: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO orders (customer_id, ordered_at, total_minor, currency, channel, store, external_ref, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(o.customer_id)
    .bind(to_ms(o.ordered_at))
    .bind(total)
    .bind(o.currency.as_str())
    .bind(o.channel.as_str())
    .bind(o.store.clone())
    .bind(o.external_ref.clone())
    .bind(now)
    .bind(actor.user_id())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::unique(e, "external_ref"))
}

/// Writes many orders' own rows, a statement per few hundred: a statement's triggers fire once
/// for all its rows (on PostgreSQL the rollups' statement triggers cost about 2 ms each, which
/// one statement per order pays per order). The ids are reserved first — the sequence's next
/// values on PostgreSQL, past the largest on SQLite (the caller holds the writer) — so each
/// order keeps its place; they come back in the orders' order.
pub(crate) async fn insert_order_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    orders: &[(&NewOrder, i64)],
    now: i64,
) -> Result<Vec<i64>> {
    let n = orders.len() as i64;
    if n == 0 {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = match backend {
        Backend::Postgres => sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, $1)",
        )
        .bind(n)
        .fetch_all(&mut *conn)
        .await?,
        Backend::Sqlite => {
            let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM orders")
                .fetch_one(&mut *conn)
                .await?;
            (first..first + n).collect()
        }
    };
    for (chunk, chunk_ids) in orders
        .chunks(ROWS_PER_STATEMENT)
        .zip(ids.chunks(ROWS_PER_STATEMENT))
    {
        let mut q = SqlBuilder::new(
            "INSERT INTO orders (id, customer_id, ordered_at, total_minor, currency, channel, \
             store, external_ref, created_at, created_by) VALUES ",
        );
        for (k, ((o, total), id)) in chunk.iter().zip(chunk_ids).enumerate() {
            q.push(if k == 0 { "(" } else { ", (" })
                .int(*id)
                .push(", ")
                .int(o.customer_id)
                .push(", ")
                .int(to_ms(o.ordered_at))
                .push(", ")
                .int(*total)
                .push(", ")
                .text(o.currency.as_str())
                .push(", ")
                .text(o.channel.as_str());
            for v in [&o.store, &o.external_ref] {
                q.push(", ");
                match v {
                    Some(t) => q.text(t.as_str()),
                    None => q.push("NULL"),
                };
            }
            q.push(", ").int(now).push(", ");
            match actor.user_id() {
                Some(u) => q.int(u),
                None => q.push("NULL"),
            };
            q.push(")");
        }
        q.query()
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "external_ref"))?;
    }
    Ok(ids)
}

/// Lines of these orders (id, order) written together, a few hundred rows per statement.
pub(crate) async fn insert_order_lines(
    conn: &mut AnyConnection,
    products: &mut ProductCache,
    orders: &[(i64, &NewOrder)],
    now: i64,
) -> Result<()> {
    let mut rows = Vec::new();
    for (id, o) in orders {
        for (i, l) in o.lines.iter().enumerate() {
            let pid = products
                .id(
                    conn,
                    l.sku.trim(),
                    l.product_name.as_deref(),
                    l.category.as_deref(),
                    now,
                )
                .await?;
            rows.push([
                *id,
                i as i64 + 1,
                pid,
                l.quantity,
                l.unit_price_minor,
                l.quantity * l.unit_price_minor,
            ]);
        }
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut q = SqlBuilder::new(
            "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price_minor, amount_minor) VALUES ",
        );
        for (n, r) in chunk.iter().enumerate() {
            q.push(if n == 0 { "(" } else { ", (" });
            for (k, v) in r.iter().enumerate() {
                if k > 0 {
                    q.push(", ");
                }
                q.int(*v);
            }
            q.push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rows one statement writes (ten parameters at most each, well under both backends' limits).
const ROWS_PER_STATEMENT: usize = 500;
