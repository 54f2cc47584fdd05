//! Saving campaigns and moving them between states. Only a draft's content changes; a
//! launched campaign's definition is what its recipients got.

use chrono::{DateTime, Utc};
use guanxi_domain::campaign::{CampaignInput, CampaignState};
use guanxi_domain::role::Actor;
use guanxi_domain::ValidationErrors;

use crate::audit::entry;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

/// A stored campaign and where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CampaignRecord {
    /// Id.
    pub id: i64,
    /// The campaign.
    pub campaign: CampaignInput,
    /// Where it is.
    pub state: CampaignState,
    /// When it starts (scheduled), or started.
    pub send_at: Option<DateTime<Utc>>,
    /// Whether its whole audience is in the outbox.
    pub prepared: bool,
    /// Customers of the audience read so far.
    pub audience_total: i64,
    /// Failed sends since the last success.
    pub errors: i64,
    /// Why it paused itself (`errors`), if it did.
    pub pause_reason: Option<String>,
    /// The A/B winner (`a` or `b`), once chosen.
    pub winner: Option<String>,
    /// When it began sending.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// Version, for updates.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

type Row = (
    i64,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
);

const SELECT: &str = "SELECT id, definition, state, send_at, prepared, audience_total, errors, \
     pause_reason, winner, started_at, finished_at, version, created_at, updated_at \
     FROM campaigns";

fn record(r: Row) -> Result<CampaignRecord> {
    let campaign: CampaignInput = serde_json::from_str(&r.1)
        .map_err(|e| StoreError::Corrupt(format!("campaigns.definition: {e}")))?;
    Ok(CampaignRecord {
        id: r.0,
        campaign,
        state: CampaignState::parse(&r.2)
            .ok_or_else(|| StoreError::Corrupt(format!("campaigns.state: {}", r.2)))?,
        send_at: r.3.map(from_ms),
        prepared: r.4 != 0,
        audience_total: r.5,
        errors: r.6,
        pause_reason: r.7,
        winner: r.8,
        started_at: r.9.map(from_ms),
        finished_at: r.10.map(from_ms),
        version: r.11,
        created_at: from_ms(r.12),
        updated_at: from_ms(r.13),
    })
}

impl Store {
    /// Every campaign, newest first.
    pub async fn list_campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY id DESC"))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// The campaigns in `state`, oldest first.
    pub(crate) async fn campaigns_in(&self, state: CampaignState) -> Result<Vec<CampaignRecord>> {
        let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE state = $1 ORDER BY id"))
            .bind(state.as_str())
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// One campaign.
    pub async fn get_campaign(&self, id: i64) -> Result<CampaignRecord> {
        let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        record(row.ok_or(StoreError::NotFound)?)
    }

    /// Refuses a campaign naming a segment or an offer that does not exist.
    async fn check_campaign_refs(&self, c: &CampaignInput) -> Result<()> {
        let mut e = ValidationErrors::new();
        for (field, ids) in [("segments", &c.segments), ("exclude", &c.exclude)] {
            for id in ids {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM segments WHERE id = $1")
                        .bind(*id)
                        .fetch_optional(&self.read)
                        .await?;
                if found.is_none() {
                    e.push(field, "not_found");
                    break;
                }
            }
        }
        if let Some(o) = c.offer_id {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM coupon_offers WHERE id = $1")
                    .bind(o)
                    .fetch_optional(&self.read)
                    .await?;
            if found.is_none() {
                e.push("offer_id", "not_found");
            }
        }
        if e.is_empty() {
            Ok(())
        } else {
            Err(e.into())
        }
    }

    /// Saves a new draft (checked by the caller), audited; a taken name is
    /// `Duplicate { field: "name" }`.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        c: &CampaignInput,
    ) -> Result<CampaignRecord> {
        self.check_campaign_refs(c).await?;
        let definition =
            serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO campaigns (name, channel, definition, state, version, created_at, \
             updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, 'draft', 1, $4, $4, $5, $5) RETURNING id",
        )
        .bind(c.name.as_str())
        .bind(c.channel.as_str())
        .bind(definition.as_str())
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        entry(
            &mut tx,
            actor,
            "create_campaign",
            "campaign",
            Some(id),
            serde_json::json!({"name": c.name, "channel": c.channel, "segments": c.segments}),
        )
        .await?;
        tx.commit().await?;
        self.get_campaign(id).await
    }

    /// Changes a draft at `version`, audited. A launched campaign is `Conflict`-free but
    /// refused as `state`/`not_draft`: its recipients got what it said.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        c: &CampaignInput,
    ) -> Result<CampaignRecord> {
        self.check_campaign_refs(c).await?;
        let before = self.get_campaign(id).await?;
        if before.state != CampaignState::Draft {
            return Err(ValidationErrors::single("state", "not_draft").into());
        }
        let definition =
            serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE campaigns SET name = $1, channel = $2, definition = $3, \
             version = version + 1, updated_at = $4, updated_by = $5 \
             WHERE id = $6 AND version = $7 AND state = 'draft'",
        )
        .bind(c.name.as_str())
        .bind(c.channel.as_str())
        .bind(definition.as_str())
        .bind(to_ms(Utc::now()))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        entry(
            &mut tx,
            actor,
            "update_campaign",
            "campaign",
            Some(id),
            serde_json::json!({"name": c.name, "channel": c.channel, "segments": c.segments}),
        )
        .await?;
        tx.commit().await?;
        self.get_campaign(id).await
    }

    /// Moves a campaign to `to` at `version` (launch, schedule, pause, resume, cancel),
    /// audited. Launching sets the start (`send_at`, now when `None`); cancelling drops the
    /// messages not yet sent. An edge [`CampaignState::may_become`] does not allow is refused
    /// as `state`/`not_allowed`.
    pub async fn move_campaign(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        to: CampaignState,
        send_at: Option<DateTime<Utc>>,
    ) -> Result<CampaignRecord> {
        let before = self.get_campaign(id).await?;
        if !before.state.may_become(to) {
            return Err(ValidationErrors::single("state", "not_allowed").into());
        }
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let launching = before.state == CampaignState::Draft;
        let start = if launching {
            Some(to_ms(send_at.unwrap_or(now)))
        } else {
            before.send_at.map(to_ms)
        };
        let n = sqlx::query(
            "UPDATE campaigns SET state = $1, send_at = $2, pause_reason = NULL, \
             errors = CASE WHEN $1 = 'sending' THEN 0 ELSE errors END, \
             started_at = CASE WHEN $1 = 'sending' THEN COALESCE(started_at, $3) \
             ELSE started_at END, \
             finished_at = CASE WHEN $1 = 'cancelled' THEN $3 ELSE finished_at END, \
             version = version + 1, updated_at = $3, updated_by = $4 \
             WHERE id = $5 AND version = $6",
        )
        .bind(to.as_str())
        .bind(start)
        .bind(to_ms(now))
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        StoreError::changed(n, before.version)?;
        if to == CampaignState::Cancelled {
            sqlx::query(
                "UPDATE outbox SET state = 'cancelled', lease_until = NULL \
                 WHERE campaign_id = $1 AND state IN ('queued', 'held')",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        entry(
            &mut tx,
            actor,
            "move_campaign",
            "campaign",
            Some(id),
            serde_json::json!({"from": before.state, "to": to, "send_at": start}),
        )
        .await?;
        tx.commit().await?;
        self.get_campaign(id).await
    }
}
