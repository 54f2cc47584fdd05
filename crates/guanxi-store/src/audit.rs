//! The audit log: who did what, when, to which record. Written inside the same transaction as
//! the change it describes; reads of sensitive fields and exports are logged too.

use chrono::{DateTime, Utc};
use guanxi_domain::records::AuditEntry;
use guanxi_domain::role::Actor;
use sqlx::AnyConnection;

use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::sql::{decode_cursor, encode_cursor, Page, SqlBuilder};

/// What happened, for one audit entry.
pub struct AuditEvent<'a> {
    /// create, update, delete, merge, export, read_sensitive, login, login_failed, …
    pub action: &'a str,
    /// Entity type: customer, contact_point, relation, user, team, order, api_token, …
    pub entity: &'a str,
    /// Entity id.
    pub entity_id: Option<i64>,
    /// Details (before/after, counts).
    pub detail: serde_json::Value,
}

/// Appends an entry using the given connection (normally the change's transaction).
pub async fn record(conn: &mut AnyConnection, actor: &Actor, ev: AuditEvent<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(to_ms(Utc::now()))
    .bind(actor.user_id())
    .bind(actor.name.as_str())
    .bind(ev.action)
    .bind(ev.entity)
    .bind(ev.entity_id)
    .bind(ev.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends an entry from its parts (the common case of [`record`]).
pub(crate) async fn entry(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    detail: serde_json::Value,
) -> Result<()> {
    record(
        conn,
        actor,
        AuditEvent {
            action,
            entity,
            entity_id,
            detail,
        },
    )
    .await
}

/// The fields that differ between two JSON objects, as `{field: {before, after}}`.
pub fn diff(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
        for k in keys {
            let (bv, av) = (b.get(k), a.get(k));
            if bv != av {
                out.insert(k.clone(), serde_json::json!({"before": bv, "after": av}));
            }
        }
    }
    serde_json::Value::Object(out)
}

/// Filters for listing the audit log.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor_id: Option<i64>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this entity type.
    pub entity: Option<String>,
    /// Only this entity id.
    pub entity_id: Option<i64>,
    /// From (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Keyset cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// The columns of [`AuditRow`], for `SELECT … FROM audit_log`.
pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, actor_id, actor_name, action, entity, entity_id, detail";

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    entity: String,
    entity_id: Option<i64>,
    detail: String,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> Result<AuditEntry> {
        Ok(AuditEntry {
            id: self.id,
            at: from_ms(self.at),
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            detail: serde_json::from_str(&self.detail)
                .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
        })
    }
}

impl Store {
    /// Records one event outside any other transaction (sensitive reads, exports, logins).
    pub async fn audit(&self, actor: &Actor, ev: AuditEvent<'_>) -> Result<()> {
        let mut conn = self.write.acquire().await?;
        record(&mut conn, actor, ev).await
    }

    /// Lists the audit log newest first.
    pub async fn list_audit(&self, f: &AuditFilter) -> Result<Page<AuditEntry>> {
        let mut q = SqlBuilder::new(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1=1"));
        if let Some(v) = f.actor_id {
            q.push(" AND actor_id = ").int(v);
        }
        if let Some(v) = &f.action {
            q.push(" AND action = ").text(v.clone());
        }
        if let Some(v) = &f.entity {
            q.push(" AND entity = ").text(v.clone());
        }
        if let Some(v) = f.entity_id {
            q.push(" AND entity_id = ").int(v);
        }
        if let Some(v) = f.since {
            q.push(" AND at >= ").int(to_ms(v));
        }
        if let Some(v) = f.until {
            q.push(" AND at < ").int(to_ms(v));
        }
        if let Some(c) = &f.cursor {
            let (_, id) = decode_cursor(c).ok_or_else(bad_cursor)?;
            q.push(" AND id < ").int(id);
        }
        let limit = f.limit.clamp(1, 500);
        q.push(" ORDER BY id DESC LIMIT ").int(limit + 1);
        let mut rows: Vec<AuditRow> = q.query_as().fetch_all(&self.read).await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| encode_cursor("", r.id))
        } else {
            None
        };
        let items = rows
            .into_iter()
            .map(AuditRow::into_entry)
            .collect::<Result<_>>()?;
        Ok(Page { items, next_cursor })
    }
}

/// The error for a cursor that does not decode.
pub(crate) fn bad_cursor() -> StoreError {
    StoreError::Invalid(guanxi_domain::ValidationErrors::single(
        "cursor",
        "invalid_cursor",
    ))
}
