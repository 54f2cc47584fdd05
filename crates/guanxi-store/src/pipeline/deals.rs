//! Opportunities: created for a customer the rep sees, read within the owner scope (own,
//! team, all — as customers), moved between the stages of their pipeline at the version last
//! read (a stale move is a conflict, as on the customer form), each move a history row with
//! the time spent in the stage it left and an event on the customer's timeline. The kanban
//! reads one index range per stage; the forecast sums open deals by close month and owner.
//!
//! Probability: a won deal is 100, a lost one 0, an open one the rep's own figure when they
//! set one, else its stage's — computed when read, so it never goes stale as the deal moves.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use guanxi_domain::pipeline::{
    effective_probability, weighted_minor, LineInput, MoveInput, OpportunityInput,
    OpportunityStatus, StageKind,
};
use guanxi_domain::role::Actor;
use serde::Serialize;
use sqlx::AnyConnection;

use super::setup::{load_pipeline, Pipeline, Stage};
use crate::audit::entry;
use crate::custom_field::{write_values_in, CustomChange};
use crate::customers::{load_row, push_owner_scope};
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, EventSource, Rows};
use crate::rows::to_json;
use crate::sql::SqlBuilder;

/// How a stage change becomes a timeline event: the deal's name, the stage reached (its kind
/// as the code), the amount; it opens the deal.
pub(crate) const OPPORTUNITY_EVENTS: EventSource = EventSource {
    kind: "opportunity",
    select: "SELECT id, customer_id, at, kind, ref_id, code, title, detail, amount_minor, \
             currency, user_id, version, link_id FROM (SELECT c.id, c.customer_id, c.at, \
             'opportunity' AS kind, c.id AS ref_id, s.kind AS code, o.name AS title, \
             s.name AS detail, o.amount_minor, o.currency, c.user_id, \
             CAST(NULL AS BIGINT) AS version, c.opportunity_id AS link_id \
             FROM opportunity_stage_changes c JOIN opportunities o ON o.id = c.opportunity_id \
             JOIN pipeline_stages s ON s.id = c.to_stage_id) oe",
};

/// Cards one kanban column shows.
pub const CARDS_PER_COLUMN: i64 = 50;

/// An opportunity as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Opportunity {
    /// Id.
    pub id: i64,
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub customer_name: String,
    /// The rep who owns it.
    pub owner_id: Option<i64>,
    /// The pipeline.
    pub pipeline_id: i64,
    /// The stage.
    pub stage_id: i64,
    /// Open, won or lost (from the stage's kind).
    pub status: OpportunityStatus,
    /// Name.
    pub name: String,
    /// Amount in minor units (the lines' total when there are lines).
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// The probability it carries now (won 100, lost 0, else own or the stage's).
    pub probability: i64,
    /// The rep's own probability, when set.
    pub own_probability: Option<i64>,
    /// Amount × probability.
    pub weighted_minor: i64,
    /// When it is expected to close.
    pub expected_close: Option<NaiveDate>,
    /// The next step.
    pub next_step: Option<String>,
    /// Who else is bidding.
    pub competitors: Vec<String>,
    /// 显性需求.
    pub stated_needs: Option<String>,
    /// 隐性需求.
    pub latent_needs: Option<String>,
    /// Where it came from.
    pub source: Option<String>,
    /// The campaign it came from.
    pub campaign_id: Option<i64>,
    /// Why it was lost.
    pub lost_reason_id: Option<i64>,
    /// Notes on the loss.
    pub lost_note: Option<String>,
    /// When it entered its stage.
    pub stage_entered_at: DateTime<Utc>,
    /// Its last activity (a move or an edit).
    pub last_activity_at: DateTime<Utc>,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// The order a won deal created.
    pub order_id: Option<i64>,
    /// Products.
    pub lines: Vec<LineInput>,
    /// Version, for moves and edits.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A deal on the kanban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OpportunityCard {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub customer_name: String,
    /// The owner.
    pub owner_id: Option<i64>,
    /// Its stage.
    pub stage_id: i64,
    /// Open, won or lost.
    pub status: OpportunityStatus,
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// Probability now.
    pub probability: i64,
    /// Weighted amount.
    pub weighted_minor: i64,
    /// Expected close.
    pub expected_close: Option<NaiveDate>,
    /// In its stage since.
    pub stage_entered_at: DateTime<Utc>,
    /// Last activity.
    pub last_activity_at: DateTime<Utc>,
    /// Version (a move sends it back).
    pub version: i64,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Custom-field values by field code, as the reader sees them (sensitive ones masked);
    /// filled by the deals list.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub custom: std::collections::BTreeMap<String, serde_json::Value>,
}

/// One stage's column: its sums over every deal in it the reader sees, and the newest cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BoardColumn {
    /// The stage.
    pub stage: Stage,
    /// Deals in it.
    pub count: i64,
    /// Their amounts.
    pub amount_minor: i64,
    /// Their weighted amounts (each deal's rounded, then summed).
    pub weighted_minor: i64,
    /// The most recently changed deals ([`CARDS_PER_COLUMN`] at most).
    pub cards: Vec<OpportunityCard>,
}

/// A pipeline's kanban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Board {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// One column per stage in use, in order.
    pub columns: Vec<BoardColumn>,
}

/// One line of the forecast: a close month and an owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ForecastRow {
    /// `YYYY-MM` of the expected close; empty for deals without a date.
    pub month: String,
    /// The owner.
    pub owner_id: Option<i64>,
    /// Open deals.
    pub open: i64,
    /// Their amounts.
    pub open_minor: i64,
    /// Their weighted amounts.
    pub weighted_minor: i64,
    /// Won deals expected to close that month (their amounts).
    pub won_minor: i64,
}

/// One move in a deal's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct StageChange {
    /// The stage it left (none: created).
    pub from_stage_id: Option<i64>,
    /// The stage it entered.
    pub to_stage_id: i64,
    /// When (epoch ms).
    pub at: i64,
    /// How long it had been in the stage it left (ms).
    pub ms_in_from: Option<i64>,
    /// Who moved it.
    pub user_id: Option<i64>,
}

const COLUMNS: &str = "o.id, o.customer_id, c.name AS customer_name, o.owner_id, o.pipeline_id, \
    o.stage_id, o.status, o.name, o.amount_minor, o.currency, o.probability AS own_probability, \
    s.kind AS stage_kind, s.probability AS stage_probability, \
    o.expected_close, o.next_step, o.competitors, o.stated_needs, o.latent_needs, o.source, \
    o.campaign_id, o.lost_reason_id, o.lost_note, o.stage_entered_at, o.last_activity_at, \
    o.closed_at, o.order_id, o.version, o.created_at, o.updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    customer_id: i64,
    customer_name: String,
    owner_id: Option<i64>,
    pipeline_id: i64,
    stage_id: i64,
    status: String,
    name: String,
    amount_minor: i64,
    currency: String,
    own_probability: Option<i64>,
    stage_kind: String,
    stage_probability: i64,
    expected_close: Option<String>,
    next_step: Option<String>,
    competitors: String,
    stated_needs: Option<String>,
    latent_needs: Option<String>,
    source: Option<String>,
    campaign_id: Option<i64>,
    lost_reason_id: Option<i64>,
    lost_note: Option<String>,
    stage_entered_at: i64,
    last_activity_at: i64,
    closed_at: Option<i64>,
    order_id: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

/// The probability of a deal in a stage of `kind`.
fn probability(kind: &str, stage: i64, own: Option<i64>) -> i64 {
    match StageKind::parse(kind) {
        Ok(StageKind::Won) => 100,
        Ok(StageKind::Lost) => 0,
        _ => effective_probability(stage, own),
    }
}

fn date(v: Option<String>) -> Option<NaiveDate> {
    v.and_then(|d| d.parse().ok())
}

impl Row {
    fn into_opportunity(self, lines: Vec<LineInput>) -> Result<Opportunity> {
        let p = probability(
            &self.stage_kind,
            self.stage_probability,
            self.own_probability,
        );
        Ok(Opportunity {
            id: self.id,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            owner_id: self.owner_id,
            pipeline_id: self.pipeline_id,
            stage_id: self.stage_id,
            status: OpportunityStatus::parse(&self.status)
                .map_err(|_| StoreError::Corrupt(format!("opportunity status {}", self.status)))?,
            name: self.name,
            amount_minor: self.amount_minor,
            currency: self.currency,
            probability: p,
            own_probability: self.own_probability,
            weighted_minor: weighted_minor(self.amount_minor, p),
            expected_close: date(self.expected_close),
            next_step: self.next_step,
            competitors: serde_json::from_str(&self.competitors).unwrap_or_default(),
            stated_needs: self.stated_needs,
            latent_needs: self.latent_needs,
            source: self.source,
            campaign_id: self.campaign_id,
            lost_reason_id: self.lost_reason_id,
            lost_note: self.lost_note,
            stage_entered_at: from_ms(self.stage_entered_at),
            last_activity_at: from_ms(self.last_activity_at),
            closed_at: self.closed_at.map(from_ms),
            order_id: self.order_id,
            lines,
            version: self.version,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        })
    }
}

/// The deal `id` as the actor may see it (owner scope), with its lines.
async fn load(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<Opportunity> {
    let mut q = SqlBuilder::new(&format!(
        "SELECT {COLUMNS} FROM opportunities o JOIN customers c ON c.id = o.customer_id \
         JOIN pipeline_stages s ON s.id = o.stage_id WHERE o.deleted_at IS NULL AND o.id = "
    ));
    q.int(id);
    push_owner_scope(&mut q, actor, "o.owner_id");
    let row: Option<Row> = q.query_as().fetch_optional(&mut *conn).await?;
    let row = row.ok_or(StoreError::NotFound)?;
    let lines: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT sku, name, quantity, unit_price_minor FROM opportunity_lines \
         WHERE opportunity_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    row.into_opportunity(
        lines
            .into_iter()
            .map(|(sku, name, quantity, unit_price_minor)| LineInput {
                sku,
                name,
                quantity,
                unit_price_minor,
            })
            .collect(),
    )
}

/// Writes a deal's product lines in order.
async fn insert_lines(conn: &mut AnyConnection, id: i64, lines: &[LineInput]) -> Result<()> {
    for (i, l) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO opportunity_lines (opportunity_id, position, sku, name, quantity, \
             unit_price_minor) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i64::try_from(i).unwrap_or(0))
        .bind(l.sku.as_str())
        .bind(l.name.as_deref())
        .bind(l.quantity)
        .bind(l.unit_price_minor)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The audit detail of an edit: each changed field's value before and after.
fn changes(before: &Opportunity, after: &Opportunity) -> serde_json::Value {
    let (Ok(serde_json::Value::Object(b)), Ok(serde_json::Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return serde_json::Value::Null;
    };
    let skip = [
        "version",
        "updated_at",
        "last_activity_at",
        "weighted_minor",
        "probability",
    ];
    let changed: serde_json::Map<String, serde_json::Value> = a
        .into_iter()
        .filter(|(k, v)| !skip.contains(&k.as_str()) && b.get(k) != Some(v))
        .map(|(k, v)| {
            let was = b.get(&k).cloned().unwrap_or(serde_json::Value::Null);
            (k, serde_json::json!({"from": was, "to": v}))
        })
        .collect();
    serde_json::Value::Object(changed)
}

/// Appends a stage change of `o` into `to` (from its current stage, or from none when it is
/// `created`), projects it onto the timeline, in the caller's transaction.
async fn log_move(
    conn: &mut AnyConnection,
    o: &Opportunity,
    created: bool,
    to: i64,
    now: i64,
    actor: &Actor,
) -> Result<()> {
    let from = (!created).then_some(o.stage_id);
    let ms_in_from = from.map(|_| now - to_ms(o.stage_entered_at));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO opportunity_stage_changes (opportunity_id, customer_id, from_stage_id, \
         to_stage_id, at, ms_in_from, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(o.id)
    .bind(o.customer_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .bind(ms_in_from)
    .bind(actor.user_id())
    .fetch_one(&mut *conn)
    .await?;
    // The furthest open or won stage it reached (the funnel's cohorts, migration 0047).
    sqlx::query(
        "UPDATE opportunities SET furthest_position = (SELECT s.position FROM pipeline_stages s \
         WHERE s.id = $1) WHERE id = $2 AND furthest_position < (SELECT s.position \
         FROM pipeline_stages s WHERE s.id = $1 AND s.kind <> 'lost')",
    )
    .bind(to)
    .bind(o.id)
    .execute(&mut *conn)
    .await?;
    project(conn, &OPPORTUNITY_EVENTS, Rows::Id(id)).await
}

impl Store {
    /// Creates a deal (checked by the caller) for a customer the actor sees, audited: its
    /// stage defaults to the pipeline's first open one and its owner to the customer's.
    pub async fn create_opportunity(
        &self,
        actor: &Actor,
        o: &OpportunityInput,
    ) -> Result<Opportunity> {
        self.create_opportunity_with(actor, o, &[]).await
    }

    /// [`Store::create_opportunity`] with its custom-field values (checked by the caller),
    /// written in the same transaction: a deal is never on file without a required field.
    pub async fn create_opportunity_with(
        &self,
        actor: &Actor,
        o: &OpportunityInput,
        custom: &[CustomChange],
    ) -> Result<Opportunity> {
        let mut tx = self.begin_write().await?;
        let created = insert_opportunity(&mut tx, actor, o, Utc::now()).await?;
        write_values_in(&mut tx, actor, "opportunity", created.id, custom).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// [`Store::create_opportunity`] as of `at`: a deal's history loaded from before (the
    /// demo's, another system's), so its dates, time in stage and cohorts read as they were.
    pub async fn create_opportunity_at(
        &self,
        actor: &Actor,
        o: &OpportunityInput,
        at: DateTime<Utc>,
    ) -> Result<Opportunity> {
        let mut tx = self.begin_write().await?;
        let created = insert_opportunity(&mut tx, actor, o, at).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// One deal the actor sees.
    pub async fn get_opportunity(&self, actor: &Actor, id: i64) -> Result<Opportunity> {
        let mut conn = self.read.acquire().await?;
        load(&mut conn, actor, id).await
    }

    /// A deal's moves, oldest first.
    pub async fn stage_history(&self, actor: &Actor, id: i64) -> Result<Vec<StageChange>> {
        let mut conn = self.read.acquire().await?;
        load(&mut conn, actor, id).await?;
        Ok(sqlx::query_as(
            "SELECT from_stage_id, to_stage_id, at, ms_in_from, user_id \
             FROM opportunity_stage_changes WHERE opportunity_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?)
    }

    /// Moves a deal to another stage of its pipeline at the version the client read, audited:
    /// a stale version is a conflict; a lost stage needs a reason (and a note when the reason
    /// asks); won and lost close it, a move back to an open stage reopens it.
    pub async fn move_opportunity(
        &self,
        actor: &Actor,
        id: i64,
        m: &MoveInput,
    ) -> Result<Opportunity> {
        self.move_opportunity_at(actor, id, m, Utc::now()).await
    }

    /// [`Store::move_opportunity`] as of `at` (a loaded history's move; not before the deal
    /// entered its stage).
    pub async fn move_opportunity_at(
        &self,
        actor: &Actor,
        id: i64,
        m: &MoveInput,
        at: DateTime<Utc>,
    ) -> Result<Opportunity> {
        let now = to_ms(at);
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, actor, id).await?;
        if current.version != m.version {
            return Err(StoreError::Conflict {
                current: current.version,
                updated_by: None,
            });
        }
        if current.stage_id == m.stage_id {
            return Ok(current);
        }
        // Time runs forward: a move is never dated before the deal entered its stage.
        let now = now.max(to_ms(current.stage_entered_at));
        let pipeline = load_pipeline(&mut tx, current.pipeline_id).await?;
        let stage = pipeline
            .stage(m.stage_id)
            .filter(|s| !s.retired)
            .ok_or_else(|| StoreError::invalid("stage_id", "not_in_pipeline"))?;
        let (reason, note) = match stage.kind() {
            StageKind::Lost => {
                let Some(r) = m.lost_reason_id else {
                    return Err(StoreError::invalid("lost_reason_id", "required"));
                };
                let needs_note: Option<i64> = sqlx::query_scalar(
                    "SELECT needs_note FROM lost_reasons WHERE id = $1 AND active = 1",
                )
                .bind(r)
                .fetch_optional(&mut *tx)
                .await?;
                match needs_note {
                    None => return Err(StoreError::invalid("lost_reason_id", "invalid_reference")),
                    Some(n) if n != 0 && m.lost_note.is_none() => {
                        return Err(StoreError::invalid("lost_note", "required"))
                    }
                    Some(_) => (Some(r), m.lost_note.clone()),
                }
            }
            _ => (None, None),
        };
        let status = match stage.kind() {
            StageKind::Won => OpportunityStatus::Won,
            StageKind::Lost => OpportunityStatus::Lost,
            StageKind::Open => OpportunityStatus::Open,
        };
        let closed = (status != OpportunityStatus::Open).then_some(now);
        let n = sqlx::query(
            "UPDATE opportunities SET stage_id = $1, status = $2, stage_entered_at = $3, \
             last_activity_at = $3, closed_at = $4, lost_reason_id = $5, lost_note = $6, \
             version = version + 1, updated_at = $3, updated_by = $7 \
             WHERE id = $8 AND version = $9",
        )
        .bind(stage.id)
        .bind(status.as_str())
        .bind(now)
        .bind(closed)
        .bind(reason)
        .bind(note.as_deref())
        .bind(actor.user_id())
        .bind(id)
        .bind(m.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        StoreError::changed(n, current.version)?;
        log_move(&mut tx, &current, false, stage.id, now, actor).await?;
        entry(
            &mut tx,
            actor,
            "move_opportunity",
            "opportunity",
            Some(id),
            serde_json::json!({"from": current.stage_id, "to": stage.id,
                "status": status.as_str(), "lost_reason_id": reason}),
        )
        .await?;
        let moved = load(&mut tx, actor, id).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Changes a deal's fields (not its customer, pipeline or stage: those move by merge and
    /// by [`Store::move_opportunity`]) at the version the client read, audited with what
    /// changed; its lines are replaced by the ones given.
    pub async fn update_opportunity(
        &self,
        actor: &Actor,
        id: i64,
        o: &OpportunityInput,
    ) -> Result<Opportunity> {
        self.update_opportunity_with(actor, id, o, &[]).await
    }

    /// [`Store::update_opportunity`] with custom-field changes (checked by the caller) under
    /// the same version and transaction.
    pub async fn update_opportunity_with(
        &self,
        actor: &Actor,
        id: i64,
        o: &OpportunityInput,
        custom: &[CustomChange],
    ) -> Result<Opportunity> {
        let Some(version) = o.version else {
            return Err(StoreError::invalid("version", "required"));
        };
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let current = load(&mut tx, actor, id).await?;
        if current.version != version {
            return Err(StoreError::Conflict {
                current: current.version,
                updated_by: None,
            });
        }
        if o.customer_id != current.customer_id {
            return Err(StoreError::invalid("customer_id", "cannot_change"));
        }
        if o.pipeline_id != current.pipeline_id {
            return Err(StoreError::invalid("pipeline_id", "cannot_change"));
        }
        if o.stage_id.is_some_and(|s| s != current.stage_id) {
            return Err(StoreError::invalid("stage_id", "use_move"));
        }
        let owner = o.owner_id.or(current.owner_id);
        if owner != current.owner_id {
            crate::users::check_active_user(&mut tx, "owner_id", owner).await?;
        }
        let competitors = to_json("competitors", &o.competitors)?;
        sqlx::query(
            "UPDATE opportunities SET owner_id = $1, name = $2, amount_minor = $3, currency = $4, \
             probability = $5, expected_close = $6, next_step = $7, competitors = $8, \
             stated_needs = $9, latent_needs = $10, source = $11, campaign_id = $12, \
             last_activity_at = $13, version = version + 1, updated_at = $13, updated_by = $14 \
             WHERE id = $15",
        )
        .bind(owner)
        .bind(o.name.as_str())
        .bind(o.amount_minor)
        .bind(o.currency.as_str())
        .bind(o.probability)
        .bind(o.expected_close.map(|d| d.to_string()))
        .bind(o.next_step.as_deref())
        .bind(competitors)
        .bind(o.stated_needs.as_deref())
        .bind(o.latent_needs.as_deref())
        .bind(o.source.as_deref())
        .bind(o.campaign_id.or(current.campaign_id))
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM opportunity_lines WHERE opportunity_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_lines(&mut tx, id, &o.lines).await?;
        let updated = load(&mut tx, actor, id).await?;
        entry(
            &mut tx,
            actor,
            "update_opportunity",
            "opportunity",
            Some(id),
            changes(&current, &updated),
        )
        .await?;
        write_values_in(&mut tx, actor, "opportunity", id, custom).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// A pipeline's kanban as the actor sees it: per stage in use, the sums over its deals
    /// and the [`CARDS_PER_COLUMN`] most recently changed.
    pub async fn board(&self, actor: &Actor, pipeline: i64) -> Result<Board> {
        let mut conn = self.read.acquire().await?;
        let pipeline = load_pipeline(&mut conn, pipeline).await?;
        // The column sums from the rollup (migration 0047), the reader's owners only.
        let mut q = SqlBuilder::new(
            "SELECT r.stage_id, CAST(SUM(r.deals) AS BIGINT), CAST(SUM(r.amount_minor) AS BIGINT), \
             CAST(SUM(r.weighted_minor) AS BIGINT) FROM opportunity_rollup r WHERE r.pipeline_id = ",
        );
        q.int(pipeline.id);
        push_owner_scope(&mut q, actor, "r.owner_key");
        q.push(" GROUP BY r.stage_id");
        let sums: HashMap<i64, (i64, i64, i64)> = q
            .query_as::<(i64, i64, i64, i64)>()
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(stage, n, amount, weighted)| (stage, (n, amount, weighted)))
            .collect();
        let mut columns = Vec::new();
        for stage in pipeline.stages.iter().filter(|s| !s.retired) {
            let mut q = SqlBuilder::new(&format!(
                "SELECT {COLUMNS} FROM opportunities o JOIN customers c ON c.id = o.customer_id \
                 JOIN pipeline_stages s ON s.id = o.stage_id WHERE o.pipeline_id = "
            ));
            q.int(pipeline.id)
                .push(" AND o.stage_id = ")
                .int(stage.id)
                .push(" AND o.deleted_at IS NULL");
            // `+owner_id`: the owner is a filter, not an index key, so both backends walk the
            // stage's cards newest first and stop at the 50th, instead of collecting every deal of
            // the reader's owners in the stage and sorting them (500 ms for a team at 200,000).
            push_owner_scope(&mut q, actor, "+o.owner_id");
            q.push(" ORDER BY o.updated_at DESC, o.id DESC LIMIT ")
                .int(CARDS_PER_COLUMN);
            let rows: Vec<Row> = q.query_as().fetch_all(&mut *conn).await?;
            let cards = rows
                .into_iter()
                .map(|r| r.into_opportunity(Vec::new()).map(card))
                .collect::<Result<Vec<_>>>()?;
            let (count, amount_minor, weighted_minor) =
                sums.get(&stage.id).copied().unwrap_or_default();
            columns.push(BoardColumn {
                stage: stage.clone(),
                count,
                amount_minor,
                weighted_minor,
                cards,
            });
        }
        Ok(Board { pipeline, columns })
    }

    /// The weighted forecast of the deals the actor sees, expected to close in `[from, to)`
    /// (and those without a date), by month and owner: open deals' amounts and weighted
    /// amounts, and what was already won.
    pub async fn forecast(
        &self,
        actor: &Actor,
        pipeline: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ForecastRow>> {
        // From the rollup (migration 0047): a few rows per stage, owner and month.
        let mut q = SqlBuilder::new(
            "SELECT r.close_month, r.owner_key, \
             CAST(SUM(CASE WHEN s.kind = 'open' THEN r.deals ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.kind = 'open' THEN r.amount_minor ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.kind = 'open' THEN r.weighted_minor ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.kind = 'won' THEN r.amount_minor ELSE 0 END) AS BIGINT) \
             FROM opportunity_rollup r JOIN pipeline_stages s ON s.id = r.stage_id \
             WHERE s.kind IN ('open', 'won') AND r.deals <> 0 \
             AND (r.close_month = '' OR (r.close_month >= ",
        );
        q.text(from.format("%Y-%m").to_string())
            .push(" AND r.close_month < ")
            .text(to.format("%Y-%m").to_string())
            .push("))");
        if let Some(p) = pipeline {
            q.push(" AND r.pipeline_id = ").int(p);
        }
        push_owner_scope(&mut q, actor, "r.owner_key");
        q.push(
            " GROUP BY r.close_month, r.owner_key \
             HAVING SUM(CASE WHEN s.kind = 'open' THEN r.deals ELSE 0 END) > 0 \
             OR SUM(CASE WHEN s.kind = 'won' THEN r.deals ELSE 0 END) > 0 ORDER BY 1, 2",
        );
        let rows: Vec<(String, i64, i64, i64, i64, i64)> =
            q.query_as().fetch_all(&self.read).await?;
        Ok(rows
            .into_iter()
            .map(
                |(month, owner, open, open_minor, weighted_minor, won_minor)| ForecastRow {
                    month,
                    owner_id: (owner != 0).then_some(owner),
                    open,
                    open_minor,
                    weighted_minor,
                    won_minor,
                },
            )
            .collect())
    }
}

/// Win rate and cycle for one lead source.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourceFigures {
    /// The source (empty: none given).
    pub source: String,
    /// Deals won.
    pub won: i64,
    /// Deals lost.
    pub lost: i64,
    /// Won ÷ closed.
    pub win_rate: Option<f64>,
    /// Mean days from creation to winning.
    pub won_cycle_days: Option<f64>,
}

/// Mean time in one stage, over the moves out of it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageTime {
    /// The stage.
    pub stage_id: i64,
    /// Moves out of it.
    pub moves: i64,
    /// Mean days spent in it before moving on.
    pub mean_days: f64,
}

/// A pipeline's figures over the deals created in a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PipelineFigures {
    /// Deals created in the period.
    pub deals: i64,
    /// The stage-to-stage funnel over them.
    pub funnel: Vec<guanxi_domain::pipeline::figures::FunnelStep>,
    /// Win rate and cycle per source, and overall (source `*`).
    pub by_source: Vec<SourceFigures>,
    /// Mean time in each stage.
    pub stage_times: Vec<StageTime>,
    /// Win rate of the closed deals that reached each open stage.
    pub stage_win_rates: Vec<guanxi_domain::pipeline::figures::StageWinRate>,
}

impl Store {
    /// The funnel, win rate by source, won cycle and time in stage of the deals the actor
    /// sees in `pipeline`, created in `[from, to)` widened to whole UTC days — read from the
    /// cohort rollups (migration 0047), a few thousand rows, not every deal and its history.
    pub async fn pipeline_figures(
        &self,
        actor: &Actor,
        pipeline: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<PipelineFigures> {
        use guanxi_domain::pipeline::figures::{funnel, win_rate, win_rate_by_stage};
        const DAY: i64 = 86_400_000;
        let mut conn = self.read.acquire().await?;
        let p = load_pipeline(&mut conn, pipeline).await?;
        // Whole UTC days: the rollups' unit (migration 0047).
        let (first, last) = (
            to_ms(from).div_euclid(DAY),
            (to_ms(to) + DAY - 1).div_euclid(DAY),
        );
        let scope = |q: &mut SqlBuilder, t: &str| {
            q.push(&format!(" WHERE {t}.pipeline_id = "))
                .int(pipeline)
                .push(&format!(" AND {t}.created_day >= "))
                .int(first)
                .push(&format!(" AND {t}.created_day < "))
                .int(last);
            push_owner_scope(q, actor, &format!("{t}.owner_key"));
        };
        let mut q = SqlBuilder::new(
            "SELECT k.furthest_position, CAST(SUM(k.deals) AS BIGINT), \
             CAST(SUM(CASE WHEN k.status = 'won' THEN k.deals ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN k.status = 'lost' THEN k.deals ELSE 0 END) AS BIGINT) \
             FROM opportunity_cohorts k",
        );
        scope(&mut q, "k");
        q.push(" GROUP BY k.furthest_position");
        let by_position: Vec<(i64, i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let furthest: Vec<(i64, i64)> = by_position.iter().map(|r| (r.0, r.1)).collect();
        let closed: Vec<(i64, i64, i64)> = by_position.iter().map(|r| (r.0, r.2, r.3)).collect();
        let deals = furthest.iter().map(|(_, n)| n).sum();
        let steps: Vec<(i64, i64)> = p
            .stages
            .iter()
            .filter(|s| !s.retired && s.kind() != StageKind::Lost)
            .map(|s| (s.id, s.position))
            .collect();
        let mut q = SqlBuilder::new(
            "SELECT k.source, \
             CAST(SUM(CASE WHEN k.status = 'won' THEN k.deals ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN k.status = 'lost' THEN k.deals ELSE 0 END) AS BIGINT), \
             CAST(SUM(k.won_ms) AS BIGINT) FROM opportunity_cohorts k",
        );
        scope(&mut q, "k");
        q.push(" GROUP BY k.source HAVING SUM(k.deals) > 0 ORDER BY 1");
        let rows: Vec<(String, i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let figures = |source: String, won: i64, lost: i64, won_ms: i64| SourceFigures {
            source,
            won,
            lost,
            win_rate: win_rate(won, lost),
            won_cycle_days: (won > 0).then(|| won_ms as f64 / won as f64 / 86_400_000.0),
        };
        let (w, l, ms) = rows
            .iter()
            .fold((0, 0, 0), |(a, b, c), r| (a + r.1, b + r.2, c + r.3));
        let mut by_source: Vec<SourceFigures> = rows
            .into_iter()
            .map(|(s, won, lost, ms)| figures(s, won, lost, ms))
            .collect();
        by_source.push(figures("*".into(), w, l, ms));
        let mut q = SqlBuilder::new(
            "SELECT t.stage_id, CAST(SUM(t.moves) AS BIGINT), CAST(SUM(t.ms) AS BIGINT) \
             FROM opportunity_stage_times t",
        );
        scope(&mut q, "t");
        q.push(" GROUP BY t.stage_id HAVING SUM(t.moves) > 0");
        let times: Vec<(i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let open_steps: Vec<(i64, i64)> = p
            .stages
            .iter()
            .filter(|s| !s.retired && s.kind() == StageKind::Open)
            .map(|s| (s.id, s.position))
            .collect();
        Ok(PipelineFigures {
            deals,
            stage_win_rates: win_rate_by_stage(&open_steps, &closed),
            funnel: funnel(&steps, &furthest),
            by_source,
            stage_times: times
                .into_iter()
                .map(|(stage_id, moves, ms)| StageTime {
                    stage_id,
                    moves,
                    mean_days: ms as f64 / moves.max(1) as f64 / 86_400_000.0,
                })
                .collect(),
        })
    }
}

impl Store {
    /// The order of a won deal: its products (or one line of its amount) ordered now, once —
    /// the order's external reference `opportunity:<id>` makes a second click find the first
    /// order — and linked to the deal, audited.
    pub async fn order_from_opportunity(&self, actor: &Actor, id: i64) -> Result<Opportunity> {
        use guanxi_domain::order::{NewOrder, NewOrderLine};
        let o = self.get_opportunity(actor, id).await?;
        if o.status != OpportunityStatus::Won {
            return Err(StoreError::invalid("status", "not_won"));
        }
        if o.order_id.is_some() {
            return Ok(o);
        }
        let lines: Vec<NewOrderLine> = if o.lines.is_empty() {
            vec![NewOrderLine {
                sku: format!("OPP-{id}"),
                product_name: Some(o.name.clone()),
                category: None,
                quantity: 1,
                unit_price_minor: o.amount_minor,
            }]
        } else {
            o.lines
                .iter()
                .map(|l| NewOrderLine {
                    sku: l.sku.clone(),
                    product_name: l.name.clone(),
                    category: None,
                    quantity: l.quantity,
                    unit_price_minor: l.unit_price_minor,
                })
                .collect()
        };
        let key = format!("opportunity:{id}");
        let order = NewOrder {
            customer_id: o.customer_id,
            ordered_at: Utc::now(),
            currency: o.currency.clone(),
            channel: guanxi_domain::vocabulary::OrderChannel::Partner,
            store: None,
            external_ref: Some(key.clone()),
            lines,
        };
        let order_id = match self.create_order(actor, order).await {
            Ok(made) => made.id,
            Err(StoreError::Duplicate { .. }) => {
                sqlx::query_scalar("SELECT id FROM orders WHERE external_ref = $1")
                    .bind(&key)
                    .fetch_one(&self.read)
                    .await?
            }
            Err(e) => return Err(e),
        };
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE opportunities SET order_id = $1, version = version + 1, updated_at = $2, \
             updated_by = $3 WHERE id = $4 AND order_id IS NULL",
        )
        .bind(order_id)
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        entry(
            &mut tx,
            actor,
            "order_from_opportunity",
            "opportunity",
            Some(id),
            serde_json::json!({"order_id": order_id}),
        )
        .await?;
        let out = load(&mut tx, actor, id).await?;
        tx.commit().await?;
        Ok(out)
    }
}

impl Store {
    /// Open deals the actor sees that nobody moved or changed since `before`, the longest
    /// untouched first (`mine`: only the actor's own).
    pub async fn stale_opportunities(
        &self,
        actor: &Actor,
        mine: bool,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OpportunityCard>> {
        let mut q = SqlBuilder::new(&format!(
            "SELECT {COLUMNS} FROM opportunities o JOIN customers c ON c.id = o.customer_id \
             JOIN pipeline_stages s ON s.id = o.stage_id \
             WHERE o.status = 'open' AND o.deleted_at IS NULL AND o.last_activity_at < "
        ));
        q.int(to_ms(before));
        if mine {
            q.push(" AND o.owner_id = ").int(actor.id);
        }
        push_owner_scope(&mut q, actor, "o.owner_id");
        q.push(" ORDER BY o.last_activity_at, o.id LIMIT ")
            .int(limit);
        let rows: Vec<Row> = q.query_as().fetch_all(&self.read).await?;
        rows.into_iter()
            .map(|r| r.into_opportunity(Vec::new()).map(card))
            .collect()
    }
}

/// Which deals the list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealFilter {
    /// One pipeline.
    pub pipeline_id: Option<i64>,
    /// One stage.
    pub stage_id: Option<i64>,
    /// One status.
    pub status: Option<OpportunityStatus>,
    /// One owner.
    pub owner_id: Option<i64>,
    /// Expected to close on or after.
    pub close_from: Option<NaiveDate>,
    /// Expected to close before.
    pub close_to: Option<NaiveDate>,
    /// One source.
    pub source: Option<String>,
    /// Changed before this `(updated_at, id)` (the next page).
    pub before: Option<(i64, i64)>,
    /// Custom-field values the deals must hold, by field code (checked by the caller).
    pub custom: Vec<(String, guanxi_domain::segment::CustomTest)>,
}

/// One page of deals, the most recently changed first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DealPage {
    /// The deals.
    pub deals: Vec<OpportunityCard>,
    /// The cursor of the next page (`<updated_at>.<id>`), when there is one.
    pub next: Option<String>,
}

/// Deals one list page shows.
pub const DEAL_PAGE: i64 = 50;

impl Store {
    /// A page of the deals the actor sees that match `f`, most recently changed first.
    pub async fn list_opportunities(&self, actor: &Actor, f: &DealFilter) -> Result<DealPage> {
        let mut q = SqlBuilder::new(&format!(
            "SELECT {COLUMNS} FROM opportunities o JOIN customers c ON c.id = o.customer_id \
             JOIN pipeline_stages s ON s.id = o.stage_id WHERE o.deleted_at IS NULL"
        ));
        if let Some(p) = f.pipeline_id {
            q.push(" AND o.pipeline_id = ").int(p);
        }
        if let Some(st) = f.stage_id {
            q.push(" AND o.stage_id = ").int(st);
        }
        if let Some(st) = f.status {
            q.push(" AND o.status = ").text(st.as_str());
        }
        if let Some(o) = f.owner_id {
            q.push(" AND o.owner_id = ").int(o);
        }
        if let Some(d) = f.close_from {
            q.push(" AND o.expected_close >= ").text(d.to_string());
        }
        if let Some(d) = f.close_to {
            q.push(" AND o.expected_close < ").text(d.to_string());
        }
        if let Some(src) = &f.source {
            q.push(" AND o.source = ").text(src.clone());
        }
        crate::custom_field::push_record_filters(&mut q, "o.id", "opportunity", &f.custom);
        push_owner_scope(&mut q, actor, "o.owner_id");
        if let Some((at, id)) = f.before {
            q.older_than("o.updated_at, o.id", at, id);
        }
        q.push(" ORDER BY o.updated_at DESC, o.id DESC LIMIT ")
            .int(DEAL_PAGE + 1);
        let rows: Vec<Row> = q.query_as().fetch_all(&self.read).await?;
        let mut deals = rows
            .into_iter()
            .map(|r| r.into_opportunity(Vec::new()).map(card))
            .collect::<Result<Vec<_>>>()?;
        let next = if deals.len() as i64 > DEAL_PAGE {
            deals.truncate(DEAL_PAGE as usize);
            deals
                .last()
                .map(|d| format!("{}.{}", to_ms(d.updated_at), d.id))
        } else {
            None
        };
        Ok(DealPage { deals, next })
    }
}

/// A deal as a card.
fn card(o: Opportunity) -> OpportunityCard {
    OpportunityCard {
        id: o.id,
        name: o.name,
        customer_id: o.customer_id,
        customer_name: o.customer_name,
        owner_id: o.owner_id,
        stage_id: o.stage_id,
        status: o.status,
        amount_minor: o.amount_minor,
        currency: o.currency,
        probability: o.probability,
        weighted_minor: o.weighted_minor,
        expected_close: o.expected_close,
        stage_entered_at: o.stage_entered_at,
        last_activity_at: o.last_activity_at,
        version: o.version,
        updated_at: o.updated_at,
        custom: Default::default(),
    }
}

/// Creates a deal inside the caller's transaction, as of `at` (see
/// [`Store::create_opportunity_at`]): an import writes many in one.
pub(crate) async fn insert_opportunity(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    o: &OpportunityInput,
    at: DateTime<Utc>,
) -> Result<Opportunity> {
    let now = to_ms(at);
    let customer = match load_row(&mut *conn, actor, o.customer_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return Err(StoreError::invalid("customer_id", "invalid_reference"))
        }
        Err(e) => return Err(e),
    };
    let pipeline = match load_pipeline(&mut *conn, o.pipeline_id).await {
        Ok(p) if p.active => p,
        Ok(_) => return Err(StoreError::invalid("pipeline_id", "pipeline_inactive")),
        Err(StoreError::NotFound) => {
            return Err(StoreError::invalid("pipeline_id", "invalid_reference"))
        }
        Err(e) => return Err(e),
    };
    let stage = match o.stage_id {
        Some(id) => pipeline
            .stage(id)
            .filter(|s| !s.retired)
            .ok_or_else(|| StoreError::invalid("stage_id", "not_in_pipeline"))?,
        None => pipeline
            .first_open()
            .ok_or_else(|| StoreError::invalid("stage_id", "required"))?,
    };
    // A loss needs its reason: it is recorded by a move, not at creation.
    if stage.kind() == StageKind::Lost {
        return Err(StoreError::invalid("stage_id", "lost_needs_a_move"));
    }
    let owner = o
        .owner_id
        .or(customer.owner_id)
        .or(Some(actor.id).filter(|i| *i > 0));
    crate::users::check_active_user(&mut *conn, "owner_id", owner).await?;
    crate::campaign::check_campaign(&mut *conn, o.campaign_id).await?;
    let status = match stage.kind() {
        StageKind::Won => OpportunityStatus::Won,
        _ => OpportunityStatus::Open,
    };
    let competitors = to_json("competitors", &o.competitors)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO opportunities (customer_id, owner_id, pipeline_id, stage_id, status, name, \
         amount_minor, currency, probability, expected_close, next_step, competitors, \
         stated_needs, latent_needs, source, campaign_id, stage_entered_at, last_activity_at, \
         closed_at, version, created_at, updated_at, created_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $17, $18, 1, $17, $17, $19, $19) RETURNING id",
    )
    .bind(o.customer_id)
    .bind(owner)
    .bind(pipeline.id)
    .bind(stage.id)
    .bind(status.as_str())
    .bind(o.name.as_str())
    .bind(o.amount_minor)
    .bind(o.currency.as_str())
    .bind(o.probability)
    .bind(o.expected_close.map(|d| d.to_string()))
    .bind(o.next_step.as_deref())
    .bind(competitors)
    .bind(o.stated_needs.as_deref())
    .bind(o.latent_needs.as_deref())
    .bind(o.source.as_deref())
    .bind(o.campaign_id)
    .bind(now)
    .bind((status == OpportunityStatus::Won).then_some(now))
    .bind(actor.user_id())
    .fetch_one(&mut *conn)
    .await?;
    insert_lines(&mut *conn, id, &o.lines).await?;
    let created = load(&mut *conn, &Actor::system(), id).await?;
    log_move(&mut *conn, &created, true, stage.id, now, actor).await?;
    entry(
        &mut *conn,
        actor,
        "create_opportunity",
        "opportunity",
        Some(id),
        serde_json::json!({"customer_id": o.customer_id, "name": o.name,
            "amount_minor": o.amount_minor, "stage_id": stage.id}),
    )
    .await?;
    Ok(created)
}
