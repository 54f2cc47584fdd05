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
                "INSERT INTO pipeline_stages (pipeline_id, name, kind, probability, position, \
                 retired) VALUES ($1, $2, $3, $4, $5, 0)",
            )
            .bind(id)
            .bind(s.name.as_str())
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
