//! Queues and agents: presence and capacity, routing new work to an eligible agent, and "take
//! next". Assignment is a conditional update (`… WHERE assignee_id IS NULL`), so two agents
//! taking at the same moment never get the same ticket, on either backend.

use chrono::{DateTime, Utc};
use guanxi_domain::role::Actor;
use guanxi_domain::ticket::records::{AgentState, ServiceQueue};
use guanxi_domain::ticket::routing::{pick, AgentLoad, AgentStatus, RoutingMode};
use guanxi_domain::ValidationErrors;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{record, AuditEvent};
use crate::db::{from_ms, to_ms, Backend, Store};
use crate::error::{Result, StoreError};
use crate::rows::{code, Flag};
use crate::sql::SqlBuilder;
use crate::ticket::{log_event, OPEN_STATUSES, WAITING_STATUSES};

/// Most tickets one routing pass hands out in its transaction: an agent who comes online to a
/// queue of hundreds gets them over several passes (each event, and the worker's minute), so no
/// other request waits long for the writer.
pub const ROUTE_BATCH: i64 = 25;

/// Splits a stored comma list of skills.
pub(crate) fn skills(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[derive(sqlx::FromRow)]
struct LoadRow {
    user_id: i64,
    status: String,
    capacity: i64,
    skills: String,
    last_assigned_at: Option<i64>,
    open: i64,
}

impl LoadRow {
    fn into_load(self) -> Result<AgentLoad> {
        Ok(AgentLoad {
            user_id: self.user_id,
            status: code(AgentStatus::parse, &self.status, "agent status")?,
            capacity: self.capacity,
            open: self.open,
            skills: skills(&self.skills),
            last_assigned_at: self.last_assigned_at.map(from_ms),
        })
    }
}

/// `SELECT COUNT(*)` of an agent's open tickets, as a correlated column.
fn open_count(agent_column: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = {agent_column} \
         AND t.status IN {OPEN_STATUSES})"
    )
}

/// The member agents of a queue with their load; on PostgreSQL their rows are locked for the
/// transaction so two routings cannot both fill an agent's last slot.
async fn members_load(
    conn: &mut AnyConnection,
    backend: Backend,
    queue: i64,
) -> Result<Vec<AgentLoad>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE OF a",
        Backend::Sqlite => "",
    };
    let rows: Vec<LoadRow> = sqlx::query_as(&format!(
        "SELECT a.user_id, a.status, a.capacity, a.skills, a.last_assigned_at, {} AS open \
         FROM agent_states a JOIN queue_members m ON m.user_id = a.user_id \
         JOIN users u ON u.id = a.user_id WHERE m.queue_id = $1 AND u.active = TRUE \
         ORDER BY a.user_id{lock}",
        open_count("a.user_id")
    ))
    .bind(queue)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(LoadRow::into_load).collect()
}

/// Gives a waiting ticket to an agent if it is still unassigned; false when someone else got
/// it first. A `new` ticket becomes `open`: somebody is on it.
pub(crate) async fn assign(
    conn: &mut AnyConnection,
    ticket: i64,
    agent: i64,
    by: Option<i64>,
    how: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let now_ms = to_ms(now);
    let n = sqlx::query(
        "UPDATE tickets SET assignee_id = $1, waiting_since = NULL, \
         first_assigned_at = COALESCE(first_assigned_at, $2), \
         status = CASE WHEN status = 'new' THEN 'open' ELSE status END, \
         version = version + 1, updated_at = $2, updated_by = $3 \
         WHERE id = $4 AND assignee_id IS NULL",
    )
    .bind(agent)
    .bind(now_ms)
    .bind(by)
    .bind(ticket)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE agent_states SET last_assigned_at = $1 WHERE user_id = $2")
        .bind(now_ms)
        .bind(agent)
        .execute(&mut *conn)
        .await?;
    let customer: Option<i64> = sqlx::query_scalar("SELECT customer_id FROM tickets WHERE id = $1")
        .bind(ticket)
        .fetch_one(&mut *conn)
        .await?;
    let detail = format!("{how}:{agent}");
    log_event(conn, ticket, customer, now, "assigned", Some(&detail), by).await?;
    Ok(true)
}

/// Hands the queue's waiting tickets, highest priority and oldest first, to eligible agents
/// until nobody is free. A manual queue routes nothing.
pub(crate) async fn route_waiting(
    conn: &mut AnyConnection,
    backend: Backend,
    queue: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let q: Option<(String, String)> =
        sqlx::query_as("SELECT routing, skills FROM service_queues WHERE id = $1")
            .bind(queue)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((routing, needed)) = q else {
        return Ok(0);
    };
    let mode = code(RoutingMode::parse, &routing, "routing mode")?;
    if mode == RoutingMode::Manual {
        return Ok(0);
    }
    let needed = skills(&needed);
    let mut agents = members_load(conn, backend, queue).await?;
    let free: i64 = agents
        .iter()
        .filter(|a| a.can_take(&needed))
        .map(|a| a.capacity - a.open)
        .sum();
    let free = free.min(ROUTE_BATCH);
    if free <= 0 {
        return Ok(0);
    }
    let waiting: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM tickets WHERE queue_id = $1 AND assignee_id IS NULL \
         AND status IN {WAITING_STATUSES} ORDER BY priority_rank DESC, created_at, id LIMIT $2"
    ))
    .bind(queue)
    .bind(free)
    .fetch_all(&mut *conn)
    .await?;
    let mut routed = 0;
    for ticket in waiting {
        let Some(agent) = pick(&agents, &needed, mode) else {
            break;
        };
        if assign(conn, ticket, agent, None, routing.as_str(), now).await? {
            routed += 1;
            if let Some(a) = agents.iter_mut().find(|a| a.user_id == agent) {
                a.open += 1;
                a.last_assigned_at = Some(now);
            }
        }
    }
    Ok(routed)
}

#[derive(sqlx::FromRow)]
struct QueueRow {
    id: i64,
    name: String,
    team_id: Option<i64>,
    skills: String,
    routing: String,
    is_default: Flag,
    waiting: i64,
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    user_id: i64,
    name: String,
    status: String,
    capacity: i64,
    skills: String,
    open: i64,
}

impl AgentRow {
    fn into_state(self) -> Result<AgentState> {
        Ok(AgentState {
            user_id: self.user_id,
            name: self.name,
            status: code(AgentStatus::parse, &self.status, "agent status")?,
            capacity: self.capacity,
            skills: skills(&self.skills),
            open: self.open,
        })
    }
}

/// The queues an agent is a member of.
pub(crate) async fn agent_queues(conn: &mut sqlx::AnyConnection, user: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT queue_id FROM queue_members WHERE user_id = $1")
            .bind(user)
            .fetch_all(&mut *conn)
            .await?,
    )
}

impl Store {
    /// Every queue with its members and how many tickets wait in it.
    pub async fn service_queues(&self) -> Result<Vec<ServiceQueue>> {
        let rows: Vec<QueueRow> = sqlx::query_as(&format!(
            "SELECT q.id, q.name, q.team_id, q.skills, q.routing, q.is_default, \
             (SELECT COUNT(*) FROM tickets t WHERE t.queue_id = q.id AND t.assignee_id IS NULL \
             AND t.status IN {WAITING_STATUSES}) AS waiting FROM service_queues q ORDER BY q.id"
        ))
        .fetch_all(&self.read)
        .await?;
        let members: Vec<(i64, i64)> =
            sqlx::query_as("SELECT queue_id, user_id FROM queue_members ORDER BY user_id")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ServiceQueue {
                    id: r.id,
                    name: r.name,
                    team_id: r.team_id,
                    skills: skills(&r.skills),
                    routing: code(RoutingMode::parse, &r.routing, "routing mode")?,
                    is_default: r.is_default.into(),
                    members: members
                        .iter()
                        .filter(|(q, _)| *q == r.id)
                        .map(|(_, u)| *u)
                        .collect(),
                    waiting: r.waiting,
                })
            })
            .collect()
    }

    /// Creates a queue (admin).
    pub async fn create_queue(
        &self,
        actor: &Actor,
        name: &str,
        team_id: Option<i64>,
        skills: &[String],
        routing: RoutingMode,
    ) -> Result<i64> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        if let Some(team) = team_id {
            let ok: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                .bind(team)
                .fetch_optional(&mut *tx)
                .await?;
            if ok.is_none() {
                return Err(StoreError::Invalid(ValidationErrors::single(
                    "team_id",
                    "invalid_reference",
                )));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO service_queues (name, team_id, skills, routing, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(name)
        .bind(team_id)
        .bind(skills.join(","))
        .bind(routing.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique(e, "name"))?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "create",
                entity: "service_queue",
                entity_id: Some(id),
                detail: json!({"name": name, "team_id": team_id, "skills": skills, "routing": routing.as_str()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Makes a user a member of a queue (admin); members get its tickets.
    pub async fn add_queue_member(&self, actor: &Actor, queue: i64, user: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let ok: Option<i64> = sqlx::query_scalar(
            "SELECT u.id FROM users u, service_queues q WHERE u.id = $1 AND q.id = $2 \
             AND u.active = TRUE",
        )
        .bind(user)
        .bind(queue)
        .fetch_optional(&mut *tx)
        .await?;
        if ok.is_none() {
            let mut e = ValidationErrors::new();
            e.push("user_id", "invalid_reference");
            return Err(StoreError::Invalid(e));
        }
        sqlx::query(
            "INSERT INTO queue_members (queue_id, user_id) VALUES ($1, $2) \
             ON CONFLICT (queue_id, user_id) DO NOTHING",
        )
        .bind(queue)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO agent_states (user_id, updated_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user)
        .bind(to_ms(Utc::now()))
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "service_queue",
                entity_id: Some(queue),
                detail: json!({"member_added": user}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets an agent's presence, capacity and skills; becoming available routes the waiting
    /// work of their queues to whoever is free.
    pub async fn set_agent_state(
        &self,
        actor: &Actor,
        user: i64,
        status: AgentStatus,
        capacity: Option<i64>,
        skills_list: Option<&[String]>,
    ) -> Result<AgentState> {
        if capacity.is_some_and(|c| !(0..=1000).contains(&c)) {
            let mut e = ValidationErrors::new();
            e.push("capacity", "out_of_range");
            return Err(StoreError::Invalid(e));
        }
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO agent_states (user_id, status, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(status.as_str())
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?;
        if let Some(c) = capacity {
            sqlx::query("UPDATE agent_states SET capacity = $1 WHERE user_id = $2")
                .bind(c)
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(s) = skills_list {
            sqlx::query("UPDATE agent_states SET skills = $1 WHERE user_id = $2")
                .bind(s.join(","))
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        record(
            &mut tx,
            actor,
            AuditEvent {
                action: "update",
                entity: "agent_state",
                entity_id: Some(user),
                detail: json!({"status": status.as_str(), "capacity": capacity, "skills": skills_list}),
            },
        )
        .await?;
        if status == AgentStatus::Available {
            for q in agent_queues(&mut tx, user).await? {
                route_waiting(&mut tx, self.backend(), q, now).await?;
            }
        }
        tx.commit().await?;
        self.agent_state(user).await
    }

    /// One agent's presence and load (offline with defaults when never set).
    pub async fn agent_state(&self, user: i64) -> Result<AgentState> {
        let row: Option<AgentRow> = sqlx::query_as(&format!(
            "SELECT u.id AS user_id, u.display_name AS name, COALESCE(a.status, 'offline') AS status, \
             COALESCE(a.capacity, 5) AS capacity, COALESCE(a.skills, '') AS skills, {} AS open \
             FROM users u LEFT JOIN agent_states a ON a.user_id = u.id WHERE u.id = $1",
            open_count("u.id")
        ))
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        row.ok_or(StoreError::NotFound)?.into_state()
    }

    /// Every agent who is a member of some queue, for the supervisor's wall.
    pub async fn agent_states(&self) -> Result<Vec<AgentState>> {
        let rows: Vec<AgentRow> = sqlx::query_as(&format!(
            "SELECT u.id AS user_id, u.display_name AS name, a.status, a.capacity, a.skills, \
             {} AS open FROM agent_states a JOIN users u ON u.id = a.user_id \
             WHERE u.active = TRUE ORDER BY u.display_name, u.id",
            open_count("u.id")
        ))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(AgentRow::into_state).collect()
    }

    /// One routing pass over every queue that routes by itself, one transaction per queue:
    /// the worker runs it with the SLA sweep, so work left waiting by a bounded pass (or by
    /// an agent freed without an event) moves on within the sweep interval.
    pub async fn route_all_queues(&self) -> Result<usize> {
        let queues: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM service_queues WHERE routing <> 'manual' ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        let now = Utc::now();
        let mut routed = 0;
        for q in queues {
            let mut tx = self.begin_write().await?;
            routed += route_waiting(&mut tx, self.backend(), q, now).await?;
            tx.commit().await?;
        }
        Ok(routed)
    }

    /// "Take next": gives the agent the highest-priority, oldest waiting ticket of the queues
    /// they belong to and hold the skills for. `None` when nothing waits; a field error when
    /// they are at capacity.
    pub async fn take_next_ticket(&self, actor: &Actor) -> Result<Option<i64>> {
        let me = actor.id;
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let state: Option<(i64, String)> = sqlx::query_as(&format!(
            "SELECT a.capacity - {}, a.skills FROM agent_states a WHERE a.user_id = $1",
            open_count("a.user_id")
        ))
        .bind(me)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((free, mine)) = state else {
            let mut e = ValidationErrors::new();
            e.push("queue", "not_an_agent");
            return Err(StoreError::Invalid(e));
        };
        if free <= 0 {
            let mut e = ValidationErrors::new();
            e.push("capacity", "capacity_reached");
            return Err(StoreError::Invalid(e));
        }
        let mine = skills(&mine);
        let queues: Vec<(i64, String)> = sqlx::query_as(
            "SELECT q.id, q.skills FROM service_queues q JOIN queue_members m ON m.queue_id = q.id \
             WHERE m.user_id = $1",
        )
        .bind(me)
        .fetch_all(&mut *tx)
        .await?;
        let eligible: Vec<i64> = queues
            .into_iter()
            .filter(|(_, s)| skills(s).iter().all(|s| mine.contains(s)))
            .map(|(id, _)| id)
            .collect();
        if eligible.is_empty() {
            return Ok(None);
        }
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        for _ in 0..5 {
            let mut q =
                SqlBuilder::new("SELECT id FROM tickets WHERE assignee_id IS NULL AND status IN ");
            q.push(WAITING_STATUSES)
                .push(" AND queue_id IN ")
                .int_list(&eligible)
                .push(" ORDER BY priority_rank DESC, created_at, id LIMIT 1")
                .push(skip_locked);
            let next: Option<i64> = q.query_scalar().fetch_optional(&mut *tx).await?;
            let Some(id) = next else {
                tx.commit().await?;
                return Ok(None);
            };
            if assign(&mut tx, id, me, Some(me), "taken", now).await? {
                crate::ticket::audit_ticket(&mut tx, actor, "assign", id, json!({"taken": true}))
                    .await?;
                tx.commit().await?;
                return Ok(Some(id));
            }
        }
        tx.commit().await?;
        Ok(None)
    }
}
