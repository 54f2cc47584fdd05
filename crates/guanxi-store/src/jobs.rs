//! The durable job queue (table `jobs`, migration 0015): all background work goes through it.
//!
//! * **Enqueue** writes a `queued` row. A job with a dedupe key is refused while another of the
//!   same kind and key is queued or running (a partial unique index), so asking twice for a
//!   score refresh reports the one already on its way.
//! * **Claim** turns the oldest due job into `running` under a lease (worker name and
//!   `lease_until`) and bumps `attempts`. A job whose lease ran out — its worker was killed —
//!   is claimable again. On PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`, so several servers
//!   never take the same row; SQLite has one writer, so the single UPDATE is already atomic.
//! * **Complete / fail** land only while the row is still running under the claimed attempt
//!   (the fencing token). A worker that lost its lease cannot overwrite the newer attempt, and a
//!   completion that carries an audit entry writes both in one transaction: a job's "done" and
//!   its audit entry exist exactly once, however often it was started.
//!
//! Handlers must be idempotent up to their completion (a kill between their effect and the
//! completion re-runs them) or do their effect inside [`Store::complete_job_in`]'s transaction.

use chrono::Utc;
use guanxi_domain::role::Actor;
use guanxi_domain::ValidationErrors;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::audit::{record, AuditEvent};
use crate::db::{from_ms, to_ms, Backend, Store};
use crate::error::{Result, StoreError};
use crate::sql::SqlBuilder;

/// The states a job goes through: queued → running → done, or back to queued with a later
/// `run_at` after a failure, until `max_attempts` makes it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up after its last attempt.
    Failed,
    /// Withdrawn by an operator before it ran.
    Cancelled,
}

impl JobState {
    /// Every state, for filters.
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The state for a stored or query-string code.
    pub fn from_code(s: &str) -> Option<Self> {
        Self::parse(s).ok()
    }

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            other => return Err(StoreError::Corrupt(format!("jobs.state: {other}"))),
        })
    }
}

/// A job to put on the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to run (the handler's name, e.g. `scores.refresh`).
    pub kind: String,
    /// At most one queued or running job per kind and key (none: no limit).
    pub dedupe_key: Option<String>,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// Not before this time (now when `None`).
    pub run_at: Option<chrono::DateTime<Utc>>,
    /// Attempts before it counts as failed.
    pub max_attempts: i64,
}

/// What [`Store::enqueue_job`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job with this id.
    Created(i64),
    /// An equal job (same kind and key) is already queued or running: this one.
    AlreadyActive(i64),
}

impl Enqueued {
    /// The job's id either way.
    pub fn id(self) -> i64 {
        match self {
            Enqueued::Created(id) | Enqueued::AlreadyActive(id) => id,
        }
    }
}

/// One job as the admin page and the status endpoints show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// Handler name.
    pub kind: String,
    /// Dedupe key, if any.
    pub dedupe_key: Option<String>,
    /// Handler input.
    pub payload: serde_json::Value,
    /// Where it is.
    pub state: JobState,
    /// When it is (or was) due.
    pub run_at: chrono::DateTime<Utc>,
    /// Attempts started so far.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// The worker holding (or last holding) it.
    pub worker: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What the handler reported when it finished.
    pub result: Option<serde_json::Value>,
    /// Who asked for it (none: the system).
    pub requested_by: Option<i64>,
    /// Their username at the time (`system` for the schedule).
    pub requested_by_name: String,
    /// When it was queued.
    pub created_at: chrono::DateTime<Utc>,
    /// When the current (or last) attempt started.
    pub started_at: Option<chrono::DateTime<Utc>>,
    /// When it finished or failed for good.
    pub finished_at: Option<chrono::DateTime<Utc>>,
}

/// A claimed job: what the handler needs, and the fencing token its completion must present.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// Job id.
    pub id: i64,
    /// Handler name.
    pub kind: String,
    /// Handler input.
    pub payload: serde_json::Value,
    /// This attempt's number (1 for the first): the fencing token.
    pub attempt: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// The worker that holds it.
    pub worker: String,
    /// Who asked for it.
    pub requested_by: Option<i64>,
    /// Their username at the time.
    pub requested_by_name: String,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    dedupe_key: Option<String>,
    payload: String,
    state: String,
    run_at: i64,
    attempts: i64,
    max_attempts: i64,
    worker: Option<String>,
    last_error: Option<String>,
    result: Option<String>,
    requested_by: Option<i64>,
    requested_by_name: String,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LeaseRow {
    id: i64,
    kind: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
    requested_by: Option<i64>,
    requested_by_name: String,
}

const JOB_COLUMNS: &str = "id, kind, dedupe_key, payload, state, run_at, attempts, max_attempts, \
    worker, last_error, result, requested_by, requested_by_name, created_at, started_at, finished_at";

fn json(column: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(format!("jobs.{column}")))
}

impl JobRow {
    fn into_job(self) -> Result<Job> {
        Ok(Job {
            id: self.id,
            state: JobState::parse(&self.state)?,
            payload: json("payload", &self.payload)?,
            result: self
                .result
                .as_deref()
                .map(|r| json("result", r))
                .transpose()?,
            kind: self.kind,
            dedupe_key: self.dedupe_key,
            run_at: from_ms(self.run_at),
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            worker: self.worker,
            last_error: self.last_error,
            requested_by: self.requested_by,
            requested_by_name: self.requested_by_name,
            created_at: from_ms(self.created_at),
            started_at: self.started_at.map(from_ms),
            finished_at: self.finished_at.map(from_ms),
        })
    }
}

/// Which jobs a listing shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this handler.
    pub kind: Option<String>,
    /// Only this state.
    pub state: Option<JobState>,
    /// Most rows (clamped to 1..=500).
    pub limit: i64,
}

/// Runs `set` (an `UPDATE jobs SET …` without its `WHERE`) only while the job is still running
/// under this lease's attempt and worker — the fencing rule every heartbeat, completion and
/// failure obeys. `false` when the lease was lost and nothing changed.
async fn update_held(conn: &mut AnyConnection, lease: &Lease, mut set: SqlBuilder) -> Result<bool> {
    set.push(" WHERE id = ")
        .int(lease.id)
        .push(" AND state = 'running' AND attempts = ")
        .int(lease.attempt)
        .push(" AND worker = ")
        .text(lease.worker.as_str());
    Ok(set.query().execute(&mut *conn).await?.rows_affected() == 1)
}

/// The audit entry of an operator's action on a job.
fn job_audit(action: &'static str, id: i64) -> AuditEvent<'static> {
    AuditEvent {
        action,
        entity: "job",
        entity_id: Some(id),
        detail: serde_json::Value::Null,
    }
}

/// The wait before retry `attempt` (1-based) after a failure: 10 s doubling, at most an hour.
pub fn retry_backoff_ms(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) - 1;
    (10_000i64 << exp).min(3_600_000)
}

impl Store {
    /// Puts a job on the queue on behalf of `actor`.
    pub async fn enqueue_job(&self, actor: &Actor, job: NewJob) -> Result<Enqueued> {
        let now = to_ms(Utc::now());
        let run_at = job.run_at.map(to_ms).unwrap_or(now);
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO jobs (kind, dedupe_key, payload, state, run_at, max_attempts, \
             requested_by, requested_by_name, created_at) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(job.kind.as_str())
        .bind(job.dedupe_key.as_deref())
        .bind(job.payload.to_string())
        .bind(run_at)
        .bind(job.max_attempts.max(1))
        .bind(actor.user_id())
        .bind(actor.name.as_str())
        .bind(now)
        .fetch_one(&self.write)
        .await;
        match inserted {
            Ok(id) => Ok(Enqueued::Created(id)),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                let id: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE kind = $1 AND dedupe_key = $2 \
                     AND state IN ('queued', 'running') ORDER BY id LIMIT 1",
                )
                .bind(job.kind.as_str())
                .bind(job.dedupe_key.as_deref())
                .fetch_optional(&self.write)
                .await?;
                // The other job may have finished in between; then this one can go in.
                match id {
                    Some(id) => Ok(Enqueued::AlreadyActive(id)),
                    None => Box::pin(self.enqueue_job(actor, job)).await,
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Claims the oldest due job of one of `kinds` (queued and due, or running with an expired
    /// lease) for `worker` until `lease_ms` from now. `None` when nothing is due.
    pub async fn claim_job(
        &self,
        worker: &str,
        kinds: &[&str],
        lease_ms: i64,
    ) -> Result<Option<Lease>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let now = to_ms(Utc::now());
        let mut q = SqlBuilder::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ",
        );
        q.text(worker)
            .push(", lease_until = ")
            .int(now + lease_ms)
            .push(", started_at = ")
            .int(now)
            .push(" WHERE id = (SELECT id FROM jobs WHERE ((state = 'queued' AND run_at <= ")
            .int(now)
            .push(") OR (state = 'running' AND lease_until < ")
            .int(now)
            .push(")) AND kind IN ")
            .text_list(&kinds.iter().map(|k| k.to_string()).collect::<Vec<_>>())
            .push(" ORDER BY run_at, id LIMIT 1");
        if self.backend() == Backend::Postgres {
            q.push(" FOR UPDATE SKIP LOCKED");
        }
        q.push(
            ") RETURNING id, kind, payload, attempts, max_attempts, requested_by, requested_by_name",
        );
        let row: Option<LeaseRow> = q.query_as().fetch_optional(&self.write).await?;
        row.map(|r| {
            Ok(Lease {
                id: r.id,
                payload: json("payload", &r.payload)?,
                kind: r.kind,
                attempt: r.attempts,
                max_attempts: r.max_attempts,
                worker: worker.to_string(),
                requested_by: r.requested_by,
                requested_by_name: r.requested_by_name,
            })
        })
        .transpose()
    }

    /// Extends a held lease (a long job's heartbeat). `false` when the lease was lost: the job
    /// is no longer running under this attempt, and the worker should stop.
    pub async fn extend_job_lease(&self, lease: &Lease, lease_ms: i64) -> Result<bool> {
        let mut set = SqlBuilder::new("UPDATE jobs SET lease_until = ");
        set.int(to_ms(Utc::now()) + lease_ms);
        update_held(&mut *self.write.acquire().await?, lease, set).await
    }

    /// Marks a held job done with its result, writing `audit` in the same transaction.
    /// [`StoreError::Conflict`] when the lease was lost (nothing is written).
    pub async fn complete_job(
        &self,
        lease: &Lease,
        result: serde_json::Value,
        audit: Option<(&Actor, AuditEvent<'_>)>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::complete_job_in(&mut tx, lease, result).await?;
        if let Some((actor, ev)) = audit {
            record(&mut tx, actor, ev).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks a held job done inside the caller's transaction, so a handler's effect and its
    /// completion commit together (exactly once). Fails with [`StoreError::Conflict`] when
    /// the lease was lost; the caller then rolls back.
    pub async fn complete_job_in(
        conn: &mut AnyConnection,
        lease: &Lease,
        result: serde_json::Value,
    ) -> Result<()> {
        let mut set = SqlBuilder::new("UPDATE jobs SET state = 'done', result = ");
        set.text(result.to_string())
            .push(", finished_at = ")
            .int(to_ms(Utc::now()))
            .push(", lease_until = NULL, last_error = NULL");
        let held = update_held(conn, lease, set).await?;
        if held {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                current: lease.attempt,
                updated_by: None,
            })
        }
    }

    /// Records a failed attempt: back to queued after [`retry_backoff_ms`], or failed for good
    /// after the last attempt. Returns the state it is now in (`None`: the lease was lost).
    pub async fn fail_job(&self, lease: &Lease, error: &str) -> Result<Option<JobState>> {
        let now = to_ms(Utc::now());
        let give_up = lease.attempt >= lease.max_attempts;
        let state = if give_up {
            JobState::Failed
        } else {
            JobState::Queued
        };
        let mut set = SqlBuilder::new("UPDATE jobs SET state = ");
        set.text(state.as_str())
            .push(", last_error = ")
            .text(error)
            .push(", run_at = ")
            .int(now + retry_backoff_ms(lease.attempt))
            .push(", lease_until = NULL, finished_at = ");
        if give_up {
            set.int(now);
        } else {
            set.push("NULL");
        }
        let held = update_held(&mut *self.write.acquire().await?, lease, set).await?;
        Ok(held.then_some(state))
    }

    /// Puts a failed or cancelled job back on the queue, due now, with a fresh budget of
    /// attempts, on behalf of `actor` (audited). A job that is queued, running or done is
    /// refused (`job_state`), as is one whose kind and key already have an active job
    /// (`job_active`: that one will do the work).
    pub async fn retry_job(&self, actor: &Actor, id: i64) -> Result<Job> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $2, max_attempts = attempts + max_attempts, \
             finished_at = NULL, lease_until = NULL, worker = NULL \
             WHERE id = $1 AND state IN ('failed', 'cancelled')",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(r) if r.rows_affected() == 1 => {}
            Ok(_) => return Err(self.job_state_error(id).await),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(ValidationErrors::single("state", "job_active").into())
            }
            Err(e) => return Err(e.into()),
        }
        record(&mut tx, actor, job_audit("retry_job", id)).await?;
        tx.commit().await?;
        self.get_job(id).await
    }

    /// Withdraws a queued job before a worker takes it, on behalf of `actor` (audited). A job
    /// already running, done, failed or cancelled is refused (`job_state`).
    pub async fn cancel_job(&self, actor: &Actor, id: i64) -> Result<Job> {
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $2, last_error = $3 \
             WHERE id = $1 AND state = 'queued'",
        )
        .bind(id)
        .bind(now)
        .bind(format!("cancelled by {}", actor.name))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(self.job_state_error(id).await);
        }
        record(&mut tx, actor, job_audit("cancel_job", id)).await?;
        tx.commit().await?;
        self.get_job(id).await
    }

    /// Why a state change found no row: the job is missing, or in the wrong state.
    async fn job_state_error(&self, id: i64) -> StoreError {
        match self.get_job(id).await {
            Ok(_) => ValidationErrors::single("state", "job_state").into(),
            Err(e) => e,
        }
    }

    /// One job.
    pub async fn get_job(&self, id: i64) -> Result<Job> {
        let r: JobRow = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        r.into_job()
    }

    /// Jobs newest first.
    pub async fn list_jobs(&self, f: &JobFilter) -> Result<Vec<Job>> {
        let mut q = SqlBuilder::new(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1=1"));
        if let Some(k) = &f.kind {
            q.push(" AND kind = ").text(k.clone());
        }
        if let Some(s) = f.state {
            q.push(" AND state = ").text(s.as_str());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .int(f.limit.clamp(1, 500));
        let rows: Vec<JobRow> = q.query_as().fetch_all(&self.read).await?;
        rows.into_iter().map(JobRow::into_job).collect()
    }
}
