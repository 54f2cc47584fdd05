//! Reading and writing custom-field values. A record's values are written in the transaction
//! of the record's own change (a customer's create or update), each change audited beside it;
//! a sensitive field's audit says that it changed, never what it held.

use std::collections::{BTreeMap, HashMap};

use guanxi_domain::custom_field::{CustomValue, FieldDefinition, StoredCell};
use guanxi_domain::role::Actor;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::entry;
use crate::db::Store;
use crate::error::Result;
use crate::sql::{Arg, SqlBuilder};

/// One record's values by field id.
pub type RecordValues = BTreeMap<i64, CustomValue>;

/// A value to set on a record: `None` clears it.
#[derive(Debug, Clone)]
pub struct CustomChange {
    /// The field.
    pub field: FieldDefinition,
    /// Its new value.
    pub value: Option<CustomValue>,
}

/// Rows one INSERT writes.
const INSERT_ROWS: usize = 200;

/// The values of `fields` held by `records`.
pub(crate) async fn values_in(
    conn: &mut AnyConnection,
    fields: &[FieldDefinition],
    records: &[i64],
) -> Result<HashMap<i64, RecordValues>> {
    let mut out: HashMap<i64, RecordValues> = HashMap::new();
    if fields.is_empty() || records.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = fields.iter().map(|f| f.id).collect();
    let mut cells: BTreeMap<(i64, i64), Vec<StoredCell>> = BTreeMap::new();
    for chunk in records.chunks(500) {
        let mut q = SqlBuilder::new(
            "SELECT record_id, field_id, value_text, value_number FROM custom_values \
             WHERE record_id IN ",
        );
        q.int_list(chunk).push(" AND field_id IN ").int_list(&ids);
        let rows: Vec<(i64, i64, String, Option<f64>)> = q.query_as().fetch_all(&mut *conn).await?;
        for (record, field, text, number) in rows {
            cells
                .entry((record, field))
                .or_default()
                .push(StoredCell { text, number });
        }
    }
    for ((record, field), cells) in cells {
        let Some(def) = fields.iter().find(|f| f.id == field) else {
            continue;
        };
        let v = match CustomValue::from_cells(def.kind, &cells) {
            Some(CustomValue::Choices(codes)) => CustomValue::Choices(
                guanxi_domain::custom_field::value::in_choice_order(def, codes),
            ),
            Some(v) => v,
            None => continue,
        };
        out.entry(record).or_default().insert(field, v);
    }
    Ok(out)
}

/// Sets `changes` on one record and audits what changed as `update_custom` of `entity`
/// (nothing when nothing did).
pub(crate) async fn write_values_in(
    conn: &mut AnyConnection,
    actor: &Actor,
    entity: &str,
    record_id: i64,
    changes: &[CustomChange],
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let fields: Vec<FieldDefinition> = changes.iter().map(|c| c.field.clone()).collect();
    let before = values_in(&mut *conn, &fields, &[record_id])
        .await?
        .remove(&record_id)
        .unwrap_or_default();
    let changed: Vec<&CustomChange> = changes
        .iter()
        .filter(|c| before.get(&c.field.id) != c.value.as_ref())
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changed.iter().map(|c| c.field.id).collect();
    let mut q = SqlBuilder::new("DELETE FROM custom_values WHERE record_id = ");
    q.int(record_id).push(" AND field_id IN ").int_list(&ids);
    q.query().execute(&mut *conn).await?;
    let rows: Vec<(i64, StoredCell)> = changed
        .iter()
        .filter_map(|c| c.value.as_ref().map(|v| (c.field.id, v)))
        .flat_map(|(id, v)| v.cells().into_iter().map(move |cell| (id, cell)))
        .collect();
    insert_rows(&mut *conn, record_id, &rows).await?;
    let mut detail = serde_json::Map::new();
    for c in &changed {
        let kind = c.field.kind;
        let shown = |v: Option<&CustomValue>| v.map(|v| v.to_json(kind)).unwrap_or(json!(null));
        detail.insert(
            format!("custom.{}", c.field.code),
            if c.field.sensitive {
                json!("changed")
            } else {
                json!({"before": shown(before.get(&c.field.id)), "after": shown(c.value.as_ref())})
            },
        );
    }
    entry(
        &mut *conn,
        actor,
        "update_custom",
        entity,
        Some(record_id),
        serde_json::Value::Object(detail),
    )
    .await
}

async fn insert_rows(
    conn: &mut AnyConnection,
    record_id: i64,
    rows: &[(i64, StoredCell)],
) -> Result<()> {
    for chunk in rows.chunks(INSERT_ROWS) {
        let mut q = SqlBuilder::new(
            "INSERT INTO custom_values (field_id, value_text, record_id, value_number) VALUES ",
        );
        for (i, (field, cell)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .int(*field)
                .push(", ")
                .text(cell.text.clone())
                .push(", ")
                .int(record_id)
                .push(", ");
            match cell.number {
                Some(n) => q.arg(Arg::Float(n)),
                None => q.push("NULL"),
            };
            q.push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops every customer-field value of a customer and of the duplicates merged into them
/// (an erasure: the values go with the rest of the file).
pub(crate) async fn erase_values_in(conn: &mut AnyConnection, customer_id: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM custom_values WHERE field_id IN \
         (SELECT id FROM custom_fields WHERE entity = 'customer') AND (record_id = $1 \
         OR record_id IN (SELECT id FROM customers WHERE merged_into = $1))",
    )
    .bind(customer_id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Copies to customer `to` the values of the customer fields it lacks and `from` holds (a
/// merge keeps what only the duplicate knew).
pub(crate) async fn move_values_in(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO custom_values (field_id, value_text, record_id, value_number) \
         SELECT v.field_id, v.value_text, $1, v.value_number FROM custom_values v \
         WHERE v.record_id = $2 \
         AND v.field_id IN (SELECT id FROM custom_fields WHERE entity = 'customer') \
         AND NOT EXISTS (SELECT 1 FROM custom_values w WHERE w.record_id = $1 \
         AND w.field_id = v.field_id)",
    )
    .bind(to)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The values of `fields` held by `records` (the caller has checked it may read them).
    pub async fn custom_values(
        &self,
        fields: &[FieldDefinition],
        records: &[i64],
    ) -> Result<HashMap<i64, RecordValues>> {
        let mut conn = self.read.acquire().await?;
        values_in(&mut conn, fields, records).await
    }

    /// One record's values of `fields` (none held: empty).
    pub async fn record_custom_values(
        &self,
        fields: &[FieldDefinition],
        record: i64,
    ) -> Result<RecordValues> {
        Ok(self
            .custom_values(fields, &[record])
            .await?
            .remove(&record)
            .unwrap_or_default())
    }
}

impl Store {
    /// Sets a record's values in a transaction of their own, audited as `update_custom` of
    /// `entity` (opportunities and tickets, whose own changes do not carry them). The caller
    /// has read the record within the actor's scope.
    pub async fn set_custom_values(
        &self,
        actor: &Actor,
        entity: &str,
        record_id: i64,
        changes: &[CustomChange],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        write_values_in(&mut tx, actor, entity, record_id, changes).await?;
        tx.commit().await?;
        Ok(())
    }
}
