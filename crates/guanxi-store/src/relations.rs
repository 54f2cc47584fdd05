//! Relations between customers. Both ends must be visible to the actor: a rep cannot link a
//! customer to one they are not allowed to see.

use chrono::Utc;
use guanxi_domain::records::Relation;
use guanxi_domain::relation::NewRelation;
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::{CustomerKind, PrincipalRole, RelationKind};
use guanxi_domain::ValidationErrors;
use serde_json::json;

use crate::audit::{record, AuditEvent};
use crate::customers::{load_row, push_scope};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::{code, meta, provenance, Flag};
use crate::sql::SqlBuilder;

#[derive(sqlx::FromRow)]
struct RelationRow {
    id: i64,
    from_customer_id: i64,
    to_customer_id: i64,
    from_name: String,
    to_name: String,
    kind: String,
    role: Option<String>,
    note: Option<String>,
    source_channel: String,
    source_direct: Flag,
    source_collected_by: Option<i64>,
    source_collected_at: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    updated_by: Option<i64>,
}

impl RelationRow {
    fn into_record(self) -> Result<Relation> {
        Ok(Relation {
            id: self.id,
            from_customer_id: self.from_customer_id,
            to_customer_id: self.to_customer_id,
            from_name: self.from_name,
            to_name: self.to_name,
            kind: code(RelationKind::parse, &self.kind, "relation kind")?,
            role: self
                .role
                .as_deref()
                .map(|r| code(PrincipalRole::parse, r, "principal role"))
                .transpose()?,
            note: self.note,
            source: provenance(
                &self.source_channel,
                self.source_direct.0,
                self.source_collected_by,
                self.source_collected_at,
            )?,
            meta: meta(
                self.version,
                self.created_at,
                self.updated_at,
                self.created_by,
                self.updated_by,
            ),
        })
    }
}

const RELATION_SELECT: &str = "SELECT r.id, r.from_customer_id, r.to_customer_id, f.name AS from_name, \
    t.name AS to_name, r.kind, r.role, r.note, r.source_channel, r.source_direct, r.source_collected_by, \
    r.source_collected_at, r.version, r.created_at, r.updated_at, r.created_by, r.updated_by \
    FROM customer_relations r JOIN customers f ON f.id = r.from_customer_id \
    JOIN customers t ON t.id = r.to_customer_id";

impl Store {
    /// Links `from` to `rel.to_customer_id`.
    pub async fn add_relation(
        &self,
        actor: &Actor,
        from: i64,
        rel: NewRelation,
    ) -> Result<Relation> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let f = load_row(&mut tx, actor, from).await?;
        let t = match load_row(&mut tx, actor, rel.to_customer_id).await {
            Err(StoreError::NotFound) => {
                return Err(StoreError::Invalid(ValidationErrors::single(
                    "to_customer_id",
                    "invalid_reference",
                )))
            }
            other => other?,
        };
        let fk = code(CustomerKind::parse, &f.kind, "kind")?;
        let tk = code(CustomerKind::parse, &t.kind, "kind")?;
        rel.validate(from, fk, tk)?;
        let source = match rel.source.clone() {
            Some(p) => p
                .completed(actor.id, now)
                .map_err(|c| ValidationErrors::single("source.collected_at", c))?,
            None => guanxi_domain::provenance::Provenance::manual(actor.id, now),
        };
        let now_ms = to_ms(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO customer_relations (from_customer_id, to_customer_id, kind, role, note, source_channel, \
             source_direct, source_collected_by, source_collected_at, created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11) RETURNING id",
        )
        .bind(from)
        .bind(rel.to_customer_id)
        .bind(rel.kind.as_str())
        .bind(rel.role.map(|r| r.as_str()))
        .bind(rel.note.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string))
        .bind(source.channel.as_str())
        .bind(source.direct)
        .bind(source.collected_by)
        .bind(source.collected_at.map(to_ms).unwrap_or(now_ms))
        .bind(now_ms)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "kind"))?;
        record(&mut tx, actor, AuditEvent {
            action: "create", entity: "relation", entity_id: Some(id),
            detail: json!({"from": from, "to": rel.to_customer_id, "kind": rel.kind.as_str(), "role": rel.role.map(|r| r.as_str())}),
        }).await?;
        tx.commit().await?;
        let mut rels = self.list_relations(actor, from).await?;
        rels.retain(|r| r.id == id);
        rels.pop().ok_or(StoreError::NotFound)
    }

    /// Relations in either direction of a visible customer, where the other end is visible too.
    pub async fn list_relations(&self, actor: &Actor, customer_id: i64) -> Result<Vec<Relation>> {
        if !self.customer_visible(actor, customer_id).await? {
            return Err(StoreError::NotFound);
        }
        let mut q = SqlBuilder::new(RELATION_SELECT);
        q.push(" WHERE (r.from_customer_id = ").int(customer_id).push(" OR r.to_customer_id = ").int(customer_id)
            .push(") AND f.deleted_at IS NULL AND t.deleted_at IS NULL AND EXISTS (SELECT 1 FROM customers c WHERE c.id = \
                   CASE WHEN r.from_customer_id = ").int(customer_id).push(" THEN r.to_customer_id ELSE r.from_customer_id END");
        push_scope(&mut q, actor);
        q.push(") ORDER BY r.kind, r.id");
        q.query_as::<RelationRow>()
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .map(RelationRow::into_record)
            .collect()
    }

    /// Removes a relation whose "from" customer is visible to the actor.
    pub async fn delete_relation(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT from_customer_id, to_customer_id, kind FROM customer_relations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let (from, to, kind) = row.ok_or(StoreError::NotFound)?;
        load_row(&mut tx, actor, from).await?;
        sqlx::query("DELETE FROM customer_relations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "delete",
                entity: "relation",
                entity_id: Some(id),
                detail: json!({"from": from, "to": to, "kind": kind}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
