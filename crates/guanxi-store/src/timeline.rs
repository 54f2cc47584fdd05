//! Interactions, follow-up tasks, and the customer timeline. The timeline reads the
//! customer-event stream ([`crate::events`]), into which orders, interactions and tasks (and
//! every later area) project their rows as they are written: one index range per page, paged by
//! the `(at, id)` keyset so entries that share a time are never skipped.

use chrono::Utc;
use guanxi_domain::interaction::{ValidInteraction, ValidTask};
use guanxi_domain::records::{Interaction, Task, TimelineCursor, TimelineItem, TimelineKind};
use guanxi_domain::role::Actor;
use guanxi_domain::vocabulary::{InteractionChannel, InteractionDirection, InteractionPurpose};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{record, AuditEvent};
use crate::customers::load_row;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};
use crate::events::{project, EventSource, Rows};
use crate::rows::{code, meta};

/// Interactions on the timeline, at the time they happened.
pub(crate) const INTERACTION_EVENTS: EventSource = EventSource {
    kind: "interaction",
    select: "SELECT customer_id, occurred_at AS at, 'interaction' AS kind, id AS ref_id, \
             channel AS code, subject AS title, body AS detail, CAST(NULL AS BIGINT) AS amount_minor, \
             CAST(NULL AS TEXT) AS currency, created_by AS user_id, version, CAST(NULL AS BIGINT) AS link_id FROM interactions",
};

/// Follow-up tasks on the timeline, at their due time, coded `open` or `done`.
pub(crate) const TASK_EVENTS: EventSource = EventSource {
    kind: "task",
    select: "SELECT customer_id, due_at AS at, 'task' AS kind, id AS ref_id, \
             CASE WHEN done_at IS NULL THEN 'open' ELSE 'done' END AS code, title, note AS detail, \
             CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS currency, \
             assignee_id AS user_id, version, CAST(NULL AS BIGINT) AS link_id FROM tasks",
};

/// A task the system gives someone (an escalation, a care plan, a survey's follow-up), with
/// its timeline event, in the caller's transaction; returns its id.
pub(crate) async fn insert_system_task(
    conn: &mut sqlx::AnyConnection,
    customer: i64,
    title: &str,
    note: Option<&str>,
    due_at: i64,
    assignee: Option<i64>,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (customer_id, title, note, due_at, assignee_id, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(customer)
    .bind(title)
    .bind(note)
    .bind(due_at)
    .bind(assignee)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    project(conn, &TASK_EVENTS, Rows::Id(id)).await?;
    Ok(id)
}

/// Most timeline entries one call returns.
pub const MAX_TIMELINE: i64 = 1000;

#[derive(sqlx::FromRow)]
pub(crate) struct InteractionRow {
    id: i64,
    customer_id: i64,
    channel: String,
    direction: String,
    subject: String,
    body: Option<String>,
    occurred_at: i64,
    purpose: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    updated_by: Option<i64>,
}

impl InteractionRow {
    pub(crate) fn into_record(self) -> Result<Interaction> {
        Ok(Interaction {
            id: self.id,
            customer_id: self.customer_id,
            channel: code(InteractionChannel::parse, &self.channel, "channel")?,
            direction: code(InteractionDirection::parse, &self.direction, "direction")?,
            subject: self.subject,
            body: self.body,
            occurred_at: from_ms(self.occurred_at),
            purpose: self
                .purpose
                .map(|p| code(InteractionPurpose::parse, &p, "purpose"))
                .transpose()?,
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

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: i64,
    customer_id: i64,
    title: String,
    note: Option<String>,
    due_at: i64,
    done_at: Option<i64>,
    assignee_id: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    updated_by: Option<i64>,
}

impl TaskRow {
    pub(crate) fn into_record(self) -> Task {
        Task {
            id: self.id,
            customer_id: self.customer_id,
            title: self.title,
            note: self.note,
            due_at: from_ms(self.due_at),
            done_at: self.done_at.map(from_ms),
            assignee_id: self.assignee_id,
            meta: meta(
                self.version,
                self.created_at,
                self.updated_at,
                self.created_by,
                self.updated_by,
            ),
        }
    }
}

pub(crate) const INTERACTION_COLUMNS: &str = "id, customer_id, channel, direction, subject, body, \
    occurred_at, purpose, version, created_at, updated_at, created_by, updated_by";
pub(crate) const TASK_COLUMNS: &str =
    "id, customer_id, title, note, due_at, done_at, assignee_id, \
    version, created_at, updated_at, created_by, updated_by";

/// One open task with the name of its customer, for a user's to-do list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct OpenTask {
    /// The task.
    pub task: Task,
    /// Its customer's name.
    pub customer_name: String,
}

impl Store {
    /// Records an interaction with a customer visible to the actor.
    pub async fn add_interaction(
        &self,
        actor: &Actor,
        customer_id: i64,
        i: ValidInteraction,
    ) -> Result<Interaction> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        load_row(&mut tx, actor, customer_id).await?;
        let id = self
            .insert_interaction(&mut tx, actor, customer_id, &i, now)
            .await?;
        tx.commit().await?;
        let r: InteractionRow = sqlx::query_as(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        r.into_record()
    }

    /// Inserts an interaction inside a caller's transaction, audited; the caller has checked
    /// the customer (bulk loads and the demo use one transaction per batch).
    pub async fn insert_interaction(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        customer_id: i64,
        i: &ValidInteraction,
        now: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO interactions (customer_id, channel, direction, subject, body, occurred_at, \
             created_at, updated_at, created_by, updated_by, purpose) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(customer_id)
        .bind(i.channel.as_str())
        .bind(i.direction.as_str())
        .bind(i.subject.as_str())
        .bind(i.body.as_deref())
        .bind(to_ms(i.occurred_at))
        .bind(now)
        .bind(now)
        .bind(actor.user_id())
        .bind(actor.user_id())
        .bind(i.purpose.map(|p| p.as_str()))
        .fetch_one(&mut *conn)
        .await?;
        let id: i64 = row.try_get(0)?;
        project(conn, &INTERACTION_EVENTS, Rows::Id(id)).await?;
        record(
            conn,
            actor,
            AuditEvent {
                action: "create",
                entity: "interaction",
                entity_id: Some(id),
                detail: json!({"customer_id": customer_id, "channel": i.channel.as_str(), "subject": i.subject}),
            },
        )
        .await?;
        Ok(id)
    }

    /// Creates a follow-up task on a customer visible to the actor.
    pub async fn add_task(&self, actor: &Actor, customer_id: i64, t: ValidTask) -> Result<Task> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        load_row(&mut tx, actor, customer_id).await?;
        crate::users::check_active_user(&mut tx, "assignee_id", t.assignee_id).await?;
        let row = sqlx::query(
            "INSERT INTO tasks (customer_id, title, note, due_at, assignee_id, created_at, \
             updated_at, created_by, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(customer_id)
        .bind(t.title.as_str())
        .bind(t.note.as_deref())
        .bind(to_ms(t.due_at))
        .bind(t.assignee_id)
        .bind(now)
        .bind(now)
        .bind(actor.user_id())
        .bind(actor.user_id())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        project(&mut tx, &TASK_EVENTS, Rows::Id(id)).await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "create",
                entity: "task",
                entity_id: Some(id),
                detail: json!({"customer_id": customer_id, "title": t.title, "assignee_id": t.assignee_id}),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_task(actor, id).await
    }

    /// One task whose customer is visible to the actor.
    pub async fn get_task(&self, actor: &Actor, id: i64) -> Result<Task> {
        let r: TaskRow = sqlx::query_as(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !self.customer_visible(actor, r.customer_id).await? {
            return Err(StoreError::NotFound);
        }
        Ok(r.into_record())
    }

    /// Marks a task done (or re-opens it) with optimistic locking.
    pub async fn set_task_done(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        done: bool,
    ) -> Result<Task> {
        let current = self.get_task(actor, id).await?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE tasks SET done_at = $1, version = version + 1, updated_at = $2, updated_by = $3 \
             WHERE id = $4 AND version = $5",
        )
        .bind(done.then_some(now))
        .bind(now)
        .bind(actor.user_id())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                current: current.meta.version,
                updated_by: current.meta.updated_by,
            });
        }
        project(&mut tx, &TASK_EVENTS, Rows::Id(id)).await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "task",
                entity_id: Some(id),
                detail: json!({"customer_id": current.customer_id, "done": done}),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_task(actor, id).await
    }

    /// Open tasks assigned to a user (overdue first), among customers the actor may see.
    pub async fn open_tasks(
        &self,
        actor: &Actor,
        assignee: i64,
        limit: i64,
    ) -> Result<Vec<OpenTask>> {
        let filter = crate::tasks::TaskFilter {
            limit,
            ..crate::tasks::TaskFilter::open_for(crate::tasks::TaskWho::User(assignee))
        };
        self.list_tasks(actor, &filter).await
    }

    /// The newest `limit` timeline entries of a visible customer, optionally only those
    /// older than a position in the stream (the `cursor` of the last entry of the previous
    /// page, for "load older").
    pub async fn timeline(
        &self,
        actor: &Actor,
        customer_id: i64,
        before: Option<TimelineCursor>,
        limit: i64,
    ) -> Result<Vec<TimelineItem>> {
        let mut conn = self.read.acquire().await?;
        load_row(&mut conn, actor, customer_id).await?;
        let before = before.unwrap_or(TimelineCursor {
            at_ms: i64::MAX,
            event_id: i64::MAX,
        });
        let rows: Vec<TimelineRow> = sqlx::query_as(
            "SELECT id AS event_id, kind, ref_id, at, code, title, detail, amount_minor, \
             currency, user_id, version, link_id FROM customer_events \
             WHERE customer_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) \
             ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(customer_id)
        .bind(before.at_ms)
        .bind(before.event_id)
        .bind(limit.clamp(1, MAX_TIMELINE))
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(TimelineRow::into_item).collect()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OpenTaskRow {
    #[sqlx(flatten)]
    pub(crate) task: TaskRow,
    pub(crate) customer_name: String,
}

#[derive(sqlx::FromRow)]
struct TimelineRow {
    event_id: i64,
    kind: String,
    ref_id: i64,
    at: i64,
    code: String,
    title: Option<String>,
    detail: Option<String>,
    amount_minor: Option<i64>,
    currency: Option<String>,
    user_id: Option<i64>,
    version: Option<i64>,
    link_id: Option<i64>,
}

impl TimelineRow {
    fn into_item(self) -> Result<TimelineItem> {
        let kind = match self.kind.as_str() {
            "order" => TimelineKind::Order,
            "interaction" => TimelineKind::Interaction,
            "task" => TimelineKind::Task,
            "ticket" => TimelineKind::Ticket,
            "care" => TimelineKind::Care,
            "survey" => TimelineKind::Survey,
            "tier" => TimelineKind::Tier,
            "message" => TimelineKind::Message,
            "opportunity" => TimelineKind::Opportunity,
            other => return Err(StoreError::Corrupt(format!("timeline kind: {other}"))),
        };
        Ok(TimelineItem {
            kind,
            id: self.ref_id,
            cursor: TimelineCursor {
                at_ms: self.at,
                event_id: self.event_id,
            }
            .encode(),
            at: from_ms(self.at),
            code: self.code,
            title: self.title,
            detail: self.detail,
            amount_minor: self.amount_minor,
            currency: self.currency,
            user_id: self.user_id,
            version: self.version,
            link_id: self.link_id,
        })
    }
}
