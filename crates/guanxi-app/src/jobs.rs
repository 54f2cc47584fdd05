//! The background job queue as operators see it (`ManageJobs`, admins): list, read, retry a
//! failed or cancelled job, cancel a queued one. Retrying and cancelling are audited by the
//! store; the worker that runs jobs lives with the server.

use guanxi_domain::role::{Actor, Permission};
use guanxi_store::jobs::{Job, JobFilter, NewJob};
use guanxi_store::Store;

use crate::{require, AppError};

/// Jobs by kind and state, newest first.
pub async fn list_jobs(store: &Store, actor: &Actor, f: &JobFilter) -> Result<Vec<Job>, AppError> {
    require(actor, Permission::ManageJobs)?;
    Ok(store.list_jobs(f).await?)
}

/// One job.
pub async fn get_job(store: &Store, actor: &Actor, id: i64) -> Result<Job, AppError> {
    require(actor, Permission::ManageJobs)?;
    Ok(store.get_job(id).await?)
}

/// Puts a failed or cancelled job back on the queue, due now.
pub async fn retry_job(store: &Store, actor: &Actor, id: i64) -> Result<Job, AppError> {
    require(actor, Permission::ManageJobs)?;
    Ok(store.retry_job(actor, id).await?)
}

/// Cancels a queued job.
pub async fn cancel_job(store: &Store, actor: &Actor, id: i64) -> Result<Job, AppError> {
    require(actor, Permission::ManageJobs)?;
    Ok(store.cancel_job(actor, id).await?)
}

/// Queues background work on the system's behalf (a server schedule, a change that needs work
/// done afterwards, a job's next step), three attempts, due now. With a dedupe key, asking
/// while an equal job is queued or running reports that one instead of adding another.
pub(crate) async fn queue_system_job(
    store: &Store,
    kind: &str,
    dedupe_key: Option<&str>,
    payload: serde_json::Value,
) -> Result<(), AppError> {
    queue_system_job_at(store, kind, dedupe_key, payload, None).await
}

/// [`queue_system_job`], due at `run_at` (now when `None`).
pub(crate) async fn queue_system_job_at(
    store: &Store,
    kind: &str,
    dedupe_key: Option<&str>,
    payload: serde_json::Value,
    run_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), AppError> {
    store
        .enqueue_job(
            &Actor::system(),
            NewJob {
                kind: kind.into(),
                dedupe_key: dedupe_key.map(str::to_string),
                payload,
                run_at,
                max_attempts: 3,
            },
        )
        .await?;
    Ok(())
}
