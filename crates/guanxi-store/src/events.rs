//! The customer-event stream: one table, `customer_events`, that every area projects its
//! customer-history rows into, in the same transaction as the write. The timeline reads only
//! this table, one index range `(customer_id, at, id)` paged by the `(at, id)` keyset, so a new
//! area (tickets, surveys, points, campaign messages) adds an [`EventSource`] next to its own
//! code and calls [`project`] after its writes; the timeline query never changes.
//!
//! A projection is an upsert keyed by `(kind, ref_id)`: writing the same row twice (an update, a
//! retry, an erasure that blanks text) leaves one event with the latest values.

use sqlx::AnyConnection;

use crate::error::Result;
use crate::sql::SqlBuilder;

/// How one area's rows become timeline events. `select` reads, from the area's own table, the
/// columns `customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency,
/// user_id, version, link_id` (cast NULLs so both backends agree on types); [`project`] appends a
/// `WHERE` to it, so it must end with its `FROM` clause.
pub struct EventSource {
    /// The event kind (`order`, `interaction`, `task` …): the timeline's `kind` and half the key.
    pub kind: &'static str,
    /// The projection query, ending in `FROM <table>`.
    pub select: &'static str,
}

/// Which source rows to (re)project.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    /// The row with this id.
    Id(i64),
    /// The rows with these ids (a chunk written together).
    Ids(&'a [i64]),
    /// Every row of this customer (after a bulk change such as an erasure).
    Customer(i64),
}

/// Writes (or rewrites) the events of `rows` from `source`, inside the caller's transaction.
pub async fn project(conn: &mut AnyConnection, source: &EventSource, rows: Rows<'_>) -> Result<()> {
    if matches!(rows, Rows::Ids(ids) if ids.is_empty()) {
        return Ok(());
    }
    let column = match rows {
        Rows::Id(_) | Rows::Ids(_) => "id",
        Rows::Customer(_) => "customer_id",
    };
    // `WHERE true` after the subquery: SQLite needs it to read `ON CONFLICT` as the upsert
    // clause rather than a join constraint.
    let mut q = SqlBuilder::new(&format!(
        "INSERT INTO customer_events (customer_id, at, kind, ref_id, code, title, detail, \
         amount_minor, currency, user_id, version, link_id) \
         SELECT customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency, \
         user_id, version, link_id FROM ({} WHERE {column} ",
        source.select
    ));
    match rows {
        Rows::Id(v) | Rows::Customer(v) => {
            q.push("= ").int(v);
        }
        Rows::Ids(ids) => {
            q.push("IN ").int_list(ids);
        }
    }
    q.push(
        ") s WHERE true ON CONFLICT (kind, ref_id) DO UPDATE SET \
         customer_id = excluded.customer_id, at = excluded.at, code = excluded.code, \
         title = excluded.title, detail = excluded.detail, amount_minor = excluded.amount_minor, \
         currency = excluded.currency, user_id = excluded.user_id, version = excluded.version, \
         link_id = excluded.link_id",
    );
    q.query().execute(&mut *conn).await?;
    Ok(())
}

/// Moves the events of these rows of one kind from one customer to another (a merge and its
/// undo move the rows themselves with the same ids).
pub async fn repoint(
    conn: &mut AnyConnection,
    kind: &str,
    ref_ids: &[i64],
    from: i64,
    to: i64,
) -> Result<()> {
    for chunk in ref_ids.chunks(500) {
        let mut q = SqlBuilder::new("UPDATE customer_events SET customer_id = ");
        q.int(to)
            .push(" WHERE customer_id = ")
            .int(from)
            .push(" AND kind = ")
            .text(kind)
            .push(" AND ref_id IN ")
            .int_list(chunk);
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}
