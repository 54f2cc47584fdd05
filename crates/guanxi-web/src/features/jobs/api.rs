//! `/api/v1/jobs`: list, read, retry and cancel jobs.

use axum::extract::State;
use axum::Json;
use guanxi_domain::role::Permission;
use guanxi_store::jobs::{Job, JobFilter, JobState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{PathId, QueryParams};
use crate::state::AppState;

/// The feature's API routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(retry_job))
        .routes(routes!(cancel_job))
}

/// Job list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only this handler (e.g. `scores.refresh`).
    pub kind: Option<String>,
    /// Only this state.
    pub state: Option<JobState>,
    /// Most rows (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Jobs newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = Vec<Job>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_jobs(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<JobQuery>,
) -> Result<Json<Vec<Job>>, ApiError> {
    auth.require(Permission::ManageJobs)?;
    let f = JobFilter {
        kind: q.kind,
        state: q.state,
        limit: crate::extract::page_limit(q.limit, 100, 500)?,
    };
    Ok(Json(
        guanxi_app::jobs::list_jobs(&st.store, &auth.actor, &f).await?,
    ))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Job>, ApiError> {
    auth.require(Permission::ManageJobs)?;
    Ok(Json(
        guanxi_app::jobs::get_job(&st.store, &auth.actor, id).await?,
    ))
}

/// Put a failed or cancelled job back on the queue, due now (422 `job_state` otherwise;
/// `job_active` when an equal job is already queued or running).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn retry_job(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Job>, ApiError> {
    auth.require(Permission::ManageJobs)?;
    let job = guanxi_app::jobs::retry_job(&st.store, &auth.actor, id).await?;
    st.jobs.wake();
    Ok(Json(job))
}

/// Withdraw a queued job before it runs (422 `job_state` once it is running or finished).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel_job(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Job>, ApiError> {
    auth.require(Permission::ManageJobs)?;
    Ok(Json(
        guanxi_app::jobs::cancel_job(&st.store, &auth.actor, id).await?,
    ))
}
