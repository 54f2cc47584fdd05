//! Surveys as their manager sets them up, and the survey-fatigue window.

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::survey::{SurveyDefinition, SurveyTrigger, ValidSurvey};

use crate::audit::entry;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

/// The fatigue window when none was set: a customer is surveyed at most once a fortnight.
pub const DEFAULT_FATIGUE_DAYS: i64 = 14;

/// A stored survey.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SurveyRecord {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What it asks (its kind and questions).
    pub definition: SurveyDefinition,
    /// When it is sent.
    pub trigger: SurveyTrigger,
    /// Days a link stays open.
    pub expires_days: i64,
    /// Sent by its trigger.
    pub active: bool,
    /// Version.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SurveyRow {
    id: i64,
    name: String,
    definition: String,
    trigger: String,
    expires_days: i64,
    active: crate::rows::Flag,
    version: i64,
    created_at: i64,
}

pub(crate) const SURVEY_COLUMNS: &str =
    "id, name, definition, trigger, expires_days, active, version, created_at";

impl SurveyRow {
    pub(crate) fn into_record(self) -> Result<SurveyRecord> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("surveys.{what} of {}", self.id));
        Ok(SurveyRecord {
            definition: serde_json::from_str(&self.definition)
                .map_err(|_| corrupt("definition"))?,
            trigger: SurveyTrigger::parse(&self.trigger).map_err(|_| corrupt("trigger"))?,
            id: self.id,
            name: self.name,
            expires_days: self.expires_days,
            active: self.active.0,
            version: self.version,
            created_at: from_ms(self.created_at),
        })
    }
}

impl Store {
    /// Saves a survey, audited; a taken name is `Duplicate { field: "name" }`.
    pub async fn create_survey(&self, actor: &Actor, s: &ValidSurvey) -> Result<SurveyRecord> {
        let now = to_ms(Utc::now());
        let definition = serde_json::to_string(&s.definition)
            .map_err(|e| StoreError::Corrupt(format!("survey definition: {e}")))?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO surveys (name, kind, definition, trigger, expires_days, active, version, \
             created_at, updated_at, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8, $8) RETURNING id",
        )
        .bind(s.name.as_str())
        .bind(s.definition.kind.as_str())
        .bind(definition)
        .bind(s.trigger.as_str())
        .bind(s.expires_days)
        .bind(s.active)
        .bind(now)
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        entry(
            &mut tx,
            actor,
            "create_survey",
            "survey",
            Some(id),
            serde_json::json!({"name": s.name, "kind": s.definition.kind.as_str(),
                "trigger": s.trigger.as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.get_survey(id).await
    }

    /// One survey.
    pub async fn get_survey(&self, id: i64) -> Result<SurveyRecord> {
        let row: Option<SurveyRow> = sqlx::query_as(&format!(
            "SELECT {SURVEY_COLUMNS} FROM surveys WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.ok_or(StoreError::NotFound)?.into_record()
    }

    /// Every survey, by name.
    pub async fn list_surveys(&self) -> Result<Vec<SurveyRecord>> {
        let rows: Vec<SurveyRow> = sqlx::query_as(&format!(
            "SELECT {SURVEY_COLUMNS} FROM surveys ORDER BY name"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(SurveyRow::into_record).collect()
    }

    /// The active surveys sent by `trigger`.
    pub async fn surveys_triggered_by(&self, trigger: SurveyTrigger) -> Result<Vec<SurveyRecord>> {
        Ok(self
            .list_surveys()
            .await?
            .into_iter()
            .filter(|s| s.active && s.trigger == trigger)
            .collect())
    }

    /// The fatigue window in days.
    pub async fn survey_fatigue_days(&self) -> Result<i64> {
        let d: Option<i64> =
            sqlx::query_scalar("SELECT fatigue_days FROM survey_settings WHERE id = 1")
                .fetch_optional(&self.read)
                .await?;
        Ok(d.unwrap_or(DEFAULT_FATIGUE_DAYS))
    }

    /// Sets the fatigue window (0 turns it off), audited.
    pub async fn set_survey_fatigue_days(&self, actor: &Actor, days: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO survey_settings (id, fatigue_days) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET fatigue_days = excluded.fatigue_days",
        )
        .bind(days)
        .execute(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "set_survey_fatigue",
            "survey_settings",
            None,
            serde_json::json!({"fatigue_days": days}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
