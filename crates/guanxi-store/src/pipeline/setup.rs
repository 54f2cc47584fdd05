//! Pipelines, their stages and the lost reasons, as the admin defines them. A pipeline's
//! stages keep their ids when it is edited, so deals and history stay attached; a stage
//! taken out of a pipeline is retired, not deleted, while deals or history name it.

use chrono::Utc;
use guanxi_domain::pipeline::{PipelineInput, StageKind};
use guanxi_domain::role::Actor;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::audit::entry;
use crate::db::{to_ms, Store};
use crate::error::{Result, StoreError};
use crate::rows::Flag;

/// A stage of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Stage {
    /// Id.
    pub id: i64,
    /// The pipeline.
    pub pipeline_id: i64,
    /// Name (the shop's words).
    pub name: String,
    /// English name, when one was given.
    pub name_en: Option<String>,
    /// `open`, `won` or `lost`.
    pub kind: String,
    /// The default probability of its deals.
    pub probability: i64,
    /// Order within the pipeline.
    pub position: i64,
    /// Taken out of the pipeline (kept for its deals' history).
    #[sqlx(try_from = "Flag")]
    pub retired: bool,
}

impl Stage {
    /// The stage's kind.
    pub fn kind(&self) -> StageKind {
        StageKind::parse(&self.kind).unwrap_or(StageKind::Open)
    }
}

/// A pipeline with its stages in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Pipeline {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The team it belongs to (none: everyone's).
    pub team_id: Option<i64>,
    /// Offered for new deals.
    pub active: bool,
    /// Version, for updates.
    pub version: i64,
    /// Its stages, retired ones last.
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// The stage with this id, if it is one of the pipeline's.
    pub fn stage(&self, id: i64) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }

    /// Where a new deal starts: the first open stage.
    pub fn first_open(&self) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| !s.retired && s.kind() == StageKind::Open)
    }
}

/// Why a deal was lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct LostReason {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// A loss for this reason needs a note ("other").
    #[sqlx(try_from = "Flag")]
    pub needs_note: bool,
    /// Offered.
    #[sqlx(try_from = "Flag")]
    pub active: bool,
}

type PipelineRow = (i64, String, Option<i64>, i64, i64);

const STAGES: &str = "SELECT id, pipeline_id, name, name_en, kind, probability, position, retired \
    FROM pipeline_stages";

pub(crate) async fn load_pipeline(conn: &mut AnyConnection, id: i64) -> Result<Pipeline> {
    let row: Option<PipelineRow> =
        sqlx::query_as("SELECT id, name, team_id, active, version FROM pipelines WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (id, name, team_id, active, version) = row.ok_or(StoreError::NotFound)?;
    let stages: Vec<Stage> = sqlx::query_as(&format!(
        "{STAGES} WHERE pipeline_id = $1 ORDER BY retired, position, id"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Pipeline {
        id,
        name,
        team_id,
        active: active != 0,
        version,
        stages,
    })
}

/// Refuses a team that does not exist.
async fn check_team(conn: &mut AnyConnection, team: Option<i64>) -> Result<()> {
    let Some(team) = team else { return Ok(()) };
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
        .bind(team)
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::invalid("team_id", "invalid_reference")),
    }
}

impl Store {
    /// Every pipeline with its stages, in name order.
    pub async fn list_pipelines(&self) -> Result<Vec<Pipeline>> {
        let mut conn = self.read.acquire().await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM pipelines ORDER BY name, id")
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load_pipeline(&mut conn, id).await?);
        }
        Ok(out)
    }

    /// One pipeline.
    pub async fn get_pipeline(&self, id: i64) -> Result<Pipeline> {
        let mut conn = self.read.acquire().await?;
        load_pipeline(&mut conn, id).await
    }

    /// Saves a new pipeline (checked by the caller), audited; a taken name is
    /// `Duplicate { field: "name" }`.
    pub async fn create_pipeline(&self, actor: &Actor, p: &PipelineInput) -> Result<Pipeline> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        check_team(&mut tx, p.team_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pipelines (name, team_id, active, version, created_at, updated_at) \
             VALUES ($1, $2, 1, 1, $3, $3) RETURNING id",
        )
        .bind(p.name.as_str())
        .bind(p.team_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        for (i, s) in p.stages.iter().enumerate() {
            sqlx::query(
                "INSERT INTO pipeline_stages (pipeline_id, name, name_en, kind, probability, \
                 position, retired) VALUES ($1, $2, $3, $4, $5, $6, 0)",
            )
            .bind(id)
            .bind(s.name.as_str())
            .bind(s.name_en.as_deref())
            .bind(s.kind.as_str())
            .bind(s.probability)
            .bind(i64::try_from(i).unwrap_or(0) + 1)
            .execute(&mut *tx)
            .await?;
        }
        entry(
            &mut tx,
            actor,
            "create_pipeline",
            "pipeline",
            Some(id),
            serde_json::json!({"name": p.name, "stages": p.stages.len()}),
        )
        .await?;
        let out = load_pipeline(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Changes a pipeline (checked by the caller) at the version read, audited: stored stages
    /// keep their ids (their deals and history stay), new ones are added, those left out are
    /// retired. A stage that holds open deals can be neither retired nor given another kind —
    /// move its deals first. A new probability recounts the stage's rollup (migration 0047).
    pub async fn update_pipeline(
        &self,
        actor: &Actor,
        id: i64,
        p: &PipelineInput,
    ) -> Result<Pipeline> {
        let Some(version) = p.version else {
            return Err(StoreError::invalid("version", "required"));
        };
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let current = load_pipeline(&mut tx, id).await?;
        if current.version != version {
            return Err(StoreError::Conflict {
                current: current.version,
                updated_by: None,
            });
        }
        check_team(&mut tx, p.team_id).await?;
        // Deals in each stored stage: what a retirement or a new kind would strand.
        let in_use: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT stage_id, COUNT(*) FROM opportunities WHERE pipeline_id = $1 \
             AND status = 'open' AND deleted_at IS NULL GROUP BY stage_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let busy = |stage: i64| in_use.iter().any(|(s, n)| *s == stage && *n > 0);
        for (i, s) in p.stages.iter().enumerate() {
            if let Some(sid) = s.id {
                let Some(stored) = current.stage(sid) else {
                    return Err(StoreError::invalid(
                        &format!("stages[{i}].id"),
                        "not_in_pipeline",
                    ));
                };
                if stored.kind() != s.kind && busy(sid) {
                    return Err(StoreError::invalid(
                        &format!("stages[{i}].kind"),
                        "stage_in_use",
                    ));
                }
            }
        }
        for stored in current.stages.iter().filter(|s| !s.retired) {
            if !p.stages.iter().any(|s| s.id == Some(stored.id)) && busy(stored.id) {
                return Err(StoreError::invalid("stages", "stage_in_use"));
            }
        }
        sqlx::query(
            "UPDATE pipelines SET name = $1, team_id = $2, active = $3, version = version + 1, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(p.name.as_str())
        .bind(p.team_id)
        .bind(i64::from(p.active))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        // Retire first, so a kept stage may take a retired one's name.
        sqlx::query("UPDATE pipeline_stages SET retired = 1, position = position + 1000 WHERE pipeline_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (i, s) in p.stages.iter().enumerate() {
            let position = i64::try_from(i).unwrap_or(0) + 1;
            match s.id {
                Some(sid) => {
                    sqlx::query(
                        "UPDATE pipeline_stages SET name = $1, name_en = $2, kind = $3, \
                         probability = $4, position = $5, retired = 0 WHERE id = $6",
                    )
                    .bind(s.name.as_str())
                    .bind(s.name_en.as_deref())
                    .bind(s.kind.as_str())
                    .bind(s.probability)
                    .bind(position)
                    .bind(sid)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO pipeline_stages (pipeline_id, name, name_en, kind, \
                         probability, position, retired) VALUES ($1, $2, $3, $4, $5, $6, 0)",
                    )
                    .bind(id)
                    .bind(s.name.as_str())
                    .bind(s.name_en.as_deref())
                    .bind(s.kind.as_str())
                    .bind(s.probability)
                    .bind(position)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        entry(
            &mut tx,
            actor,
            "update_pipeline",
            "pipeline",
            Some(id),
            serde_json::json!({"name": p.name, "active": p.active,
                "stages": p.stages.iter().map(|s| serde_json::json!({"id": s.id,
                    "name": s.name, "kind": s.kind.as_str(), "probability": s.probability}))
                    .collect::<Vec<_>>()}),
        )
        .await?;
        let out = load_pipeline(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Adds a lost reason (name checked by the caller) at the end of the list, audited; a
    /// taken name is `Duplicate { field: "name" }`.
    pub async fn create_lost_reason(
        &self,
        actor: &Actor,
        name: &str,
        name_en: Option<&str>,
        needs_note: bool,
    ) -> Result<LostReason> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO lost_reasons (name, name_en, needs_note, active, position) \
             VALUES ($1, $2, $3, 1, (SELECT COALESCE(MAX(position), 0) + 1 FROM lost_reasons)) \
             RETURNING id",
        )
        .bind(name)
        .bind(name_en)
        .bind(i64::from(needs_note))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        entry(
            &mut tx,
            actor,
            "create_lost_reason",
            "lost_reason",
            Some(id),
            serde_json::json!({"name": name, "needs_note": needs_note}),
        )
        .await?;
        let out = sqlx::query_as(
            "SELECT id, name, name_en, needs_note, active FROM lost_reasons WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Offers a lost reason or stops offering it (deals lost for it keep it), audited.
    pub async fn set_lost_reason_active(&self, actor: &Actor, id: i64, active: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE lost_reasons SET active = $1 WHERE id = $2")
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
            "set_lost_reason_active",
            "lost_reason",
            Some(id),
            serde_json::json!({"active": active}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every lost reason, offered or not, for the settings page.
    pub async fn all_lost_reasons(&self) -> Result<Vec<LostReason>> {
        Ok(sqlx::query_as(
            "SELECT id, name, name_en, needs_note, active FROM lost_reasons ORDER BY position, id",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// The lost reasons on offer, in order.
    pub async fn lost_reasons(&self) -> Result<Vec<LostReason>> {
        Ok(sqlx::query_as(
            "SELECT id, name, name_en, needs_note, active FROM lost_reasons \
             WHERE active = 1 ORDER BY position, id",
        )
        .fetch_all(&self.read)
        .await?)
    }
}
