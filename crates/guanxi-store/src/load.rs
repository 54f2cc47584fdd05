//! Bulk loading of a book's history — orders with their lines, interactions, follow-up tasks
//! and relations — for `guanxi demo` at a million customers (issue #13: the per-record paths
//! wrote about a thousand orders a second). Rows go in one transaction per call on the native
//! driver (prepared statements on SQLite, `COPY` on PostgreSQL), with their ids assigned up
//! front so children can point at parents; the new rows are then projected into the event
//! stream as one range per kind, and the load is audited as one entry with its counts.
//!
//! Each row is validated by the domain as a single write would be (orders' totals, relation
//! kinds); what a single write also checks against other rows (the customer is visible, the
//! assignee is active) is the caller's to guarantee: this is for loads that create both ends.

use std::collections::HashMap;

use chrono::Utc;
use guanxi_domain::interaction::{ValidInteraction, ValidTask};
use guanxi_domain::order::NewOrder;
use guanxi_domain::relation::NewRelation;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::{CustomerKind, SourceChannel};
use serde_json::json;
use sqlx::Connection;

use crate::cells::{placeholders, Cell, Copy};
use crate::db::{secondary_indexes_sql, to_ms, Backend, Store};
use crate::error::{Result, StoreError};
use crate::events::EventSource;
use crate::orders::{ProductCache, ORDER_EVENTS};
use crate::timeline::{INTERACTION_EVENTS, TASK_EVENTS};

/// What one load writes. Orders carry their validated total.
#[derive(Debug, Default)]
pub struct HistoryLoad {
    /// Orders and their totals (from `NewOrder::validate`).
    pub orders: Vec<(NewOrder, i64)>,
    /// Interactions: who recorded it, the customer, the interaction.
    pub interactions: Vec<(i64, i64, ValidInteraction)>,
    /// Follow-up tasks: the customer and the task.
    pub tasks: Vec<(i64, ValidTask)>,
    /// Relations: from, its kind, the other end's kind, the relation.
    pub relations: Vec<(i64, CustomerKind, CustomerKind, NewRelation)>,
}

/// What a load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Orders.
    pub orders: u64,
    /// Order lines.
    pub lines: u64,
    /// Interactions.
    pub interactions: u64,
    /// Tasks.
    pub tasks: u64,
    /// Relations.
    pub relations: u64,
}

/// One table's new rows, ids included.
struct TableRows {
    /// `table (columns)`.
    target: &'static str,
    columns: usize,
    rows: Vec<Vec<Cell>>,
}

const ORDERS: &str = "orders (id, customer_id, ordered_at, total_minor, currency, channel, store, \
                      external_ref, created_at, created_by)";
const LINES: &str =
    "order_lines (order_id, line_no, product_id, quantity, unit_price_minor, amount_minor)";
const INTERACTIONS: &str = "interactions (id, customer_id, channel, direction, subject, body, \
                            occurred_at, created_at, updated_at, created_by, updated_by)";
const TASKS: &str = "tasks (id, customer_id, title, note, due_at, assignee_id, created_at, \
                     updated_at, created_by, updated_by)";
const RELATIONS: &str = "customer_relations (from_customer_id, to_customer_id, kind, role, note, \
                         source_channel, source_direct, source_collected_by, \
                         source_collected_at, created_at, updated_at, created_by, updated_by)";

/// The first id of each table's new rows; the rest follow one by one.
#[derive(Debug, Clone, Copy)]
struct FirstIds {
    order: i64,
    interaction: i64,
    task: i64,
}

impl HistoryLoad {
    fn counts(&self) -> LoadCounts {
        LoadCounts {
            orders: self.orders.len() as u64,
            lines: self.orders.iter().map(|(o, _)| o.lines.len() as u64).sum(),
            interactions: self.interactions.len() as u64,
            tasks: self.tasks.len() as u64,
            relations: self.relations.len() as u64,
        }
    }

    /// Every row to write, with ids from `first` on, parents before children.
    fn rows(
        &self,
        actor: &Actor,
        first: FirstIds,
        products: &HashMap<String, i64>,
    ) -> Result<Vec<TableRows>> {
        let now = to_ms(Utc::now());
        let by = Cell::Int(actor.user_id());
        let mut orders = Vec::with_capacity(self.orders.len());
        let mut lines = Vec::new();
        for (k, (o, total)) in self.orders.iter().enumerate() {
            let id = first.order + k as i64;
            orders.push(vec![
                Cell::Int(Some(id)),
                Cell::Int(Some(o.customer_id)),
                Cell::Int(Some(to_ms(o.ordered_at))),
                Cell::Int(Some(*total)),
                Cell::text(o.currency.as_str()),
                Cell::text(o.channel.as_str()),
                Cell::Text(o.store.clone()),
                Cell::Text(o.external_ref.clone()),
                Cell::Int(Some(now)),
                by.clone(),
            ]);
            for (n, l) in o.lines.iter().enumerate() {
                let product = products
                    .get(l.sku.trim())
                    .ok_or_else(|| StoreError::Corrupt(format!("product {}", l.sku)))?;
                lines.push(vec![
                    Cell::Int(Some(id)),
                    Cell::Int(Some(n as i64 + 1)),
                    Cell::Int(Some(*product)),
                    Cell::Int(Some(l.quantity)),
                    Cell::Int(Some(l.unit_price_minor)),
                    Cell::Int(Some(l.quantity * l.unit_price_minor)),
                ]);
            }
        }
        let interactions = self
            .interactions
            .iter()
            .enumerate()
            .map(|(k, (user, customer, i))| {
                vec![
                    Cell::Int(Some(first.interaction + k as i64)),
                    Cell::Int(Some(*customer)),
                    Cell::text(i.channel.as_str()),
                    Cell::text(i.direction.as_str()),
                    Cell::text(i.subject.as_str()),
                    Cell::Text(i.body.clone()),
                    Cell::Int(Some(to_ms(i.occurred_at))),
                    Cell::Int(Some(now)),
                    Cell::Int(Some(now)),
                    Cell::Int(Some(*user)),
                    Cell::Int(Some(*user)),
                ]
            })
            .collect();
        let tasks = self
            .tasks
            .iter()
            .enumerate()
            .map(|(k, (customer, t))| {
                vec![
                    Cell::Int(Some(first.task + k as i64)),
                    Cell::Int(Some(*customer)),
                    Cell::text(t.title.as_str()),
                    Cell::Text(t.note.clone()),
                    Cell::Int(Some(to_ms(t.due_at))),
                    Cell::Int(t.assignee_id),
                    Cell::Int(Some(now)),
                    Cell::Int(Some(now)),
                    by.clone(),
                    by.clone(),
                ]
            })
            .collect();
        let mut relations = Vec::with_capacity(self.relations.len());
        for (from, from_kind, to_kind, r) in &self.relations {
            r.validate(*from, *from_kind, *to_kind)?;
            relations.push(vec![
                Cell::Int(Some(*from)),
                Cell::Int(Some(r.to_customer_id)),
                Cell::text(r.kind.as_str()),
                Cell::Text(r.role.map(|x| x.as_str().to_string())),
                Cell::Text(r.note.clone()),
                Cell::text(SourceChannel::Manual.as_str()),
                Cell::Bool(true),
                by.clone(),
                Cell::Int(Some(now)),
                Cell::Int(Some(now)),
                Cell::Int(Some(now)),
                by.clone(),
                by.clone(),
            ]);
        }
        let table = |target, columns, rows| TableRows {
            target,
            columns,
            rows,
        };
        Ok(vec![
            table(ORDERS, 10, orders),
            table(LINES, 6, lines),
            table(INTERACTIONS, 11, interactions),
            table(TASKS, 10, tasks),
            table(RELATIONS, 13, relations),
        ])
    }

    /// The event kinds and id ranges the load adds to the stream.
    fn event_ranges(&self, first: FirstIds) -> Vec<(&'static EventSource, i64, i64)> {
        [
            (&ORDER_EVENTS, first.order, self.orders.len()),
            (
                &INTERACTION_EVENTS,
                first.interaction,
                self.interactions.len(),
            ),
            (&TASK_EVENTS, first.task, self.tasks.len()),
        ]
        .into_iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(source, from, n)| (source, from, from + n as i64 - 1))
        .collect()
    }
}

/// The load's one audit entry: who, when, and how many of each.
const AUDIT_SQL: &str =
    "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, detail) \
     VALUES ($1, $2, $3, 'bulk_load', 'history', NULL, $4)";

/// The projection of one id range of a source into the event stream (see
/// [`crate::events::project`]; these rows are new, so there is nothing to update).
fn projection_sql(source: &EventSource) -> String {
    format!(
        "INSERT INTO customer_events (customer_id, at, kind, ref_id, code, title, detail, \
         amount_minor, currency, user_id, version) \
         SELECT customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency, \
         user_id, version FROM ({} WHERE id >= $1 AND id <= $2) s",
        source.select
    )
}

impl Store {
    /// Writes a history load in one transaction: all of it or none. See the module notes for
    /// what is checked here and what the caller guarantees.
    pub async fn load_history(&self, actor: &Actor, load: HistoryLoad) -> Result<LoadCounts> {
        let counts = load.counts();
        let products = self.products_of(&load).await?;
        let detail = json!({
            "orders": counts.orders, "lines": counts.lines, "interactions": counts.interactions,
            "tasks": counts.tasks, "relations": counts.relations,
        });
        match self.backend() {
            Backend::Sqlite => {
                let _writer = self.write.acquire().await?;
                let store = self.clone();
                let actor = actor.clone();
                tokio::task::spawn_blocking(move || {
                    store.load_sqlite(&actor, &load, &products, &detail)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??;
            }
            Backend::Postgres => {
                let mut conn = self.pg().await?;
                let mut tx = conn.begin().await?;
                // One session reserves each range alone; a sequence shared with concurrent
                // writers could interleave, which the check below turns into an error.
                let mut firsts = Vec::new();
                for (table, n) in [
                    ("orders", load.orders.len()),
                    ("interactions", load.interactions.len()),
                    ("tasks", load.tasks.len()),
                ] {
                    if n == 0 {
                        firsts.push(0);
                        continue;
                    }
                    let (first, last): (i64, i64) = sqlx::query_as(&format!(
                        "SELECT MIN(v), MAX(v) FROM (SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS v \
                         FROM generate_series(1, $1)) s"
                    ))
                    .bind(n as i64)
                    .fetch_one(&mut *tx)
                    .await?;
                    if last - first + 1 != n as i64 {
                        return Err(StoreError::Corrupt(format!(
                            "{table} ids were not consecutive during a bulk load"
                        )));
                    }
                    firsts.push(first);
                }
                let first = FirstIds {
                    order: firsts[0],
                    interaction: firsts[1],
                    task: firsts[2],
                };
                for t in load.rows(actor, first, &products)? {
                    let mut copy = Copy::new(t.target);
                    for r in &t.rows {
                        copy.row(r);
                    }
                    copy.send(&mut tx).await?;
                }
                for (source, from, to) in load.event_ranges(first) {
                    sqlx::query(&projection_sql(source))
                        .bind(from)
                        .bind(to)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(AUDIT_SQL)
                    .bind(to_ms(Utc::now()))
                    .bind(actor.user_id())
                    .bind(actor.name.as_str())
                    .bind(detail.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                conn.close().await?;
            }
        }
        Ok(counts)
    }

    /// Product ids of every SKU the load's orders name, creating the new ones first (a
    /// catalogue is a few hundred rows, so through the ordinary path).
    async fn products_of(&self, load: &HistoryLoad) -> Result<HashMap<String, i64>> {
        let mut cache = ProductCache::default();
        let mut ids = HashMap::new();
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        for (o, _) in &load.orders {
            for l in &o.lines {
                let sku = l.sku.trim();
                if !ids.contains_key(sku) {
                    let id = cache
                        .id(
                            &mut tx,
                            sku,
                            l.product_name.as_deref(),
                            l.category.as_deref(),
                            now,
                        )
                        .await?;
                    ids.insert(sku.to_string(), id);
                }
            }
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// The SQLite writer: ids from the tables' current maximum (the write lock is held from
    /// the first read), prepared inserts, the event ranges and the audit entry.
    fn load_sqlite(
        &self,
        actor: &Actor,
        load: &HistoryLoad,
        products: &HashMap<String, i64>,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let mut conn = self.rusqlite(true)?;
        conn.pragma_update(None, "cache_size", -262_144)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let next = |table: &str| -> Result<i64> {
            Ok(tx.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                [],
                |r| r.get(0),
            )?)
        };
        let first = FirstIds {
            order: next("orders")?,
            interaction: next("interactions")?,
            task: next("tasks")?,
        };
        for t in load.rows(actor, first, products)? {
            if t.rows.is_empty() {
                continue;
            }
            let mut insert = tx.prepare(&format!(
                "INSERT INTO {} VALUES ({})",
                t.target,
                placeholders(t.columns)
            ))?;
            for r in &t.rows {
                insert.execute(rusqlite::params_from_iter(r))?;
            }
        }
        for (source, from, to) in load.event_ranges(first) {
            tx.execute(&projection_sql(source), [from, to])?;
        }
        tx.execute(
            AUDIT_SQL,
            rusqlite::params![
                to_ms(Utc::now()),
                actor.user_id(),
                actor.name,
                detail.to_string()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }
}

impl Store {
    /// Sets the secondary indexes of the customers and their purchase facts aside for a bulk
    /// load into an empty book, returning how many: each is dropped and its definition kept
    /// in `set_aside_indexes`, to be built in one pass by [`Store::restore_set_aside_indexes`]
    /// when the load is done. Updating some thirty customer indexes row by row made
    /// `guanxi demo --customers 1000000` take 9 minutes on SQLite instead of about 6, and the
    /// purchase facts' twelve (one upsert per order) took it from 3.7 to 7 minutes. Unique
    /// indexes stay: they are rules, not shortcuts. A load that dies meanwhile gets the
    /// indexes back at the next start.
    pub async fn set_aside_customer_indexes(&self) -> Result<usize> {
        // Unique indexes stay (see above); the others are the secondary ones of the tables.
        let catalogue = ["customers", "customer_purchases"]
            .map(|table| {
                format!(
                    "SELECT name, ddl FROM ({}) i{table} WHERE ddl NOT LIKE 'CREATE UNIQUE%'",
                    secondary_indexes_sql(self.backend(), table)
                )
            })
            .join(" UNION ALL ");
        let mut tx = self.begin_write().await?;
        let indexes: Vec<(String, String)> = sqlx::query_as(&catalogue).fetch_all(&mut *tx).await?;
        for (name, ddl) in &indexes {
            sqlx::query("INSERT INTO set_aside_indexes (name, ddl) VALUES ($1, $2)")
                .bind(name)
                .bind(ddl)
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(indexes.len())
    }

    /// Builds the indexes [`Store::set_aside_customer_indexes`] set aside, each from its own
    /// definition and in its own transaction, and returns how many; none set aside, none
    /// built (every start asks, see [`Store::migrate`]).
    pub async fn restore_set_aside_indexes(&self) -> Result<usize> {
        let waiting: Vec<(String, String)> =
            sqlx::query_as("SELECT name, ddl FROM set_aside_indexes ORDER BY name")
                .fetch_all(&self.write)
                .await?;
        for (name, ddl) in &waiting {
            let mut tx = self.begin_write().await?;
            sqlx::query(ddl).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM set_aside_indexes WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(waiting.len())
    }
}
