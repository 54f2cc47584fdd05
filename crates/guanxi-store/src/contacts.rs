//! Contact points of a customer: add, change (consent switches), remove. Every change rebuilds
//! the customer's identification keys so a new mobile is findable at once.

use chrono::Utc;
use guanxi_domain::customer::{ContactPointPatch, ValidContactPoint};
use guanxi_domain::records::ContactPoint;
use guanxi_domain::role::Actor;
use serde_json::json;

use crate::audit::{diff, record, AuditEvent};
use crate::customers::{insert_contact, load_row, rebuild_search_keys};
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::{ContactRow, CONTACT_COLUMNS};

impl Store {
    /// Adds a contact point to a customer visible to the actor.
    pub async fn add_contact_point(
        &self,
        actor: &Actor,
        customer_id: i64,
        cp: ValidContactPoint,
    ) -> Result<ContactPoint> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        load_row(&mut tx, actor, customer_id).await?;
        let id = insert_contact(&mut tx, actor, customer_id, &cp, now).await?;
        rebuild_search_keys(&mut tx, customer_id).await?;
        record(&mut tx, actor, AuditEvent {
            action: "create", entity: "contact_point", entity_id: Some(id),
            detail: json!({"customer_id": customer_id, "kind": cp.kind.as_str(), "value": cp.value.normalized, "consent_marketing": cp.consent_marketing}),
        }).await?;
        tx.commit().await?;
        self.get_contact_point(actor, id).await
    }

    /// One contact point whose customer is visible to the actor.
    pub async fn get_contact_point(&self, actor: &Actor, id: i64) -> Result<ContactPoint> {
        let row: ContactRow = sqlx::query_as(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contact_points WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        if !self.customer_visible(actor, row.customer_id).await? {
            return Err(StoreError::NotFound);
        }
        row.into_record()
    }

    /// Live contact points of a visible customer.
    pub async fn list_contact_points(
        &self,
        actor: &Actor,
        customer_id: i64,
    ) -> Result<Vec<ContactPoint>> {
        Ok(self.get_customer(actor, customer_id).await?.contact_points)
    }

    /// Changes a contact point with optimistic locking. The new value is checked against the
    /// stored point's kind by the domain's rule ([`ContactPointPatch::revalidate`]).
    pub async fn update_contact_point(
        &self,
        actor: &Actor,
        id: i64,
        patch: ContactPointPatch,
    ) -> Result<ContactPoint> {
        let current = self.get_contact_point(actor, id).await?;
        if current.meta.version != patch.version {
            return Err(StoreError::Conflict {
                current: current.meta.version,
                updated_by: current.meta.updated_by,
            });
        }
        let new_value = patch.revalidate(&current)?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        load_row(&mut tx, actor, current.customer_id).await?;
        let is_primary = patch.is_primary.unwrap_or(current.is_primary);
        if is_primary && !current.is_primary {
            sqlx::query(
                "UPDATE contact_points SET is_primary = FALSE WHERE customer_id = $1 AND kind = $2",
            )
            .bind(current.customer_id)
            .bind(current.kind.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let consent = patch.consent_marketing.unwrap_or(current.consent_marketing);
        let consent_at = if consent != current.consent_marketing {
            Some(now)
        } else {
            current.consent_updated_at.map(to_ms)
        };
        let (raw, norm) = match &new_value {
            Some(v) => (v.raw.clone(), v.normalized.clone()),
            None => (current.value.clone(), current.value_normalized.clone()),
        };
        let label = patch.label.clone().unwrap_or(current.label.clone());
        let n = sqlx::query(
            "UPDATE contact_points SET value_raw = $1, value_normalized = $2, label = $3, is_primary = $4, \
             consent_marketing = $5, consent_updated_at = $6, version = version + 1, updated_at = $7, updated_by = $8 \
             WHERE id = $9 AND version = $10",
        )
        .bind(raw.clone())
        .bind(norm.clone())
        .bind(label.clone())
        .bind(is_primary)
        .bind(consent)
        .bind(consent_at)
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .bind(patch.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                current: current.meta.version + 1,
                updated_by: None,
            });
        }
        if new_value.is_some() {
            rebuild_search_keys(&mut tx, current.customer_id).await?;
        }
        record(&mut tx, actor, AuditEvent {
            action: "update", entity: "contact_point", entity_id: Some(id),
            detail: diff(
                &json!({"value": current.value_normalized, "label": current.label, "is_primary": current.is_primary, "consent_marketing": current.consent_marketing}),
                &json!({"value": norm, "label": label, "is_primary": is_primary, "consent_marketing": consent}),
            ),
        }).await?;
        tx.commit().await?;
        self.get_contact_point(actor, id).await
    }

    /// Removes a contact point (soft; kept for the audit trail).
    pub async fn delete_contact_point(&self, actor: &Actor, id: i64, version: i64) -> Result<()> {
        let current = self.get_contact_point(actor, id).await?;
        if current.meta.version != version {
            return Err(StoreError::Conflict {
                current: current.meta.version,
                updated_by: current.meta.updated_by,
            });
        }
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE contact_points SET deleted_at = $1, version = version + 1, updated_at = $1, updated_by = $2 WHERE id = $3")
            .bind(now).bind(actor.user_id()).bind(id).execute(&mut *tx).await?;
        rebuild_search_keys(&mut tx, current.customer_id).await?;
        record(&mut tx, actor, AuditEvent {
            action: "delete", entity: "contact_point", entity_id: Some(id),
            detail: json!({"customer_id": current.customer_id, "kind": current.kind.as_str(), "value": current.value_normalized}),
        }).await?;
        tx.commit().await?;
        Ok(())
    }
}
