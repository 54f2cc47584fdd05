//! Capture forms: a public page per form (`/f/<key>`), embeddable on the shop's site. The
//! key is random and unguessable, so an old form can be switched off without breaking the
//! others; the form names the source, campaign and rep its leads get.

use chrono::Utc;
use guanxi_domain::role::Actor;
use rand::RngCore;
use serde::Serialize;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::Flag;

/// A capture form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct LeadForm {
    /// Id.
    pub id: i64,
    /// The key in its public address, `/f/<key>`.
    pub public_key: String,
    /// Its name (shown as the form's title).
    pub name: String,
    /// The source its leads carry.
    pub source: Option<String>,
    /// The campaign its leads answer.
    pub campaign_id: Option<i64>,
    /// The rep its leads go to (none: the pool).
    pub owner_id: Option<i64>,
    /// Taking submissions.
    #[sqlx(try_from = "Flag")]
    pub active: bool,
    /// Created (epoch ms).
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, public_key, name, source, campaign_id, owner_id, active, created_at FROM lead_forms";

impl Store {
    /// Adds a capture form (fields checked by the caller), audited, with a fresh random key.
    pub async fn create_lead_form(
        &self,
        actor: &Actor,
        name: &str,
        source: Option<&str>,
        campaign_id: Option<i64>,
        owner_id: Option<i64>,
    ) -> Result<LeadForm> {
        let mut bytes = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tx = self.begin_write().await?;
        crate::users::check_active_user(&mut tx, "owner_id", owner_id).await?;
        crate::campaign::check_campaign(&mut tx, campaign_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO lead_forms (public_key, name, source, campaign_id, owner_id, active, \
             created_at, created_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7) RETURNING id",
        )
        .bind(key.as_str())
        .bind(name)
        .bind(source)
        .bind(campaign_id)
        .bind(owner_id)
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "create_lead_form",
            "lead_form",
            Some(id),
            serde_json::json!({"name": name, "source": source, "owner_id": owner_id}),
        )
        .await?;
        let form = sqlx::query_as(&format!("SELECT {COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(form)
    }

    /// Every capture form, newest first.
    pub async fn lead_forms(&self) -> Result<Vec<LeadForm>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} ORDER BY id DESC"))
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// The form behind a public key (active or not: the caller decides what to show).
    pub async fn lead_form_by_key(&self, key: &str) -> Result<LeadForm> {
        sqlx::query_as(&format!("SELECT {COLUMNS} WHERE public_key = $1"))
            .bind(key)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Switches a form on or off, audited.
    pub async fn set_lead_form_active(&self, actor: &Actor, id: i64, active: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE lead_forms SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        entry(
            &mut tx,
            actor,
            "set_lead_form_active",
            "lead_form",
            Some(id),
            serde_json::json!({"active": active}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
