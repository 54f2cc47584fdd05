//! Interactions, follow-up tasks and the customer timeline over the API (the same store calls
//! the 360 page makes).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use guanxi_domain::interaction::{NewInteraction, NewTask};
use guanxi_domain::records::{Interaction, Task, TimelineItem};
use guanxi_domain::role::Permission;
use guanxi_store::timeline::OpenTask;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Record an interaction (call, visit, WeChat, note …) with a customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/interactions", tag = "timeline", params(("id" = i64, Path, description = "Customer id")), request_body = NewInteraction,
    responses((status = 201, body = Interaction), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_interaction(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(i): JsonBody<NewInteraction>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
    auth.require(Permission::WriteCustomers)?;
    let valid = i.validate(Utc::now())?;
    Ok((
        StatusCode::CREATED,
        Json(st.store.add_interaction(&auth.actor, id, valid).await?),
    ))
}

/// Create a follow-up task on a customer.
#[utoipa::path(post, path = "/api/v1/customers/{id}/tasks", tag = "timeline", params(("id" = i64, Path, description = "Customer id")), request_body = NewTask,
    responses((status = 201, body = Task), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_task(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(t): JsonBody<NewTask>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    auth.require(Permission::WriteCustomers)?;
    let valid = t.validate(auth.actor.user_id())?;
    Ok((
        StatusCode::CREATED,
        Json(st.store.add_task(&auth.actor, id, valid).await?),
    ))
}

/// Marks a task done or open again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDone {
    /// Version last read.
    pub version: i64,
    /// Done (true) or open (false).
    pub done: bool,
}

/// Complete or re-open a task (optimistic locking: a stale version is 409).
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "timeline", params(("id" = i64, Path, description = "Task id")), request_body = TaskDone,
    responses((status = 200, body = Task), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_task(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(t): JsonBody<TaskDone>,
) -> Result<Json<Task>, ApiError> {
    auth.require(Permission::WriteCustomers)?;
    Ok(Json(
        st.store
            .set_task_done(&auth.actor, id, t.version, t.done)
            .await?,
    ))
}

/// My open tasks, overdue first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "timeline", responses((status = 200, body = Vec<OpenTask>)))]
pub async fn my_tasks(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<OpenTask>>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    Ok(Json(
        st.store.open_tasks(&auth.actor, auth.user.id, 500).await?,
    ))
}

/// Timeline paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Only entries before this time (the `at` of the last entry of the previous page).
    pub before: Option<DateTime<Utc>>,
    /// Most entries (1–1000, default 50).
    pub limit: Option<i64>,
}

/// The customer timeline: orders, interactions and tasks, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "timeline", params(("id" = i64, Path, description = "Customer id"), TimelineQuery),
    responses((status = 200, body = Vec<TimelineItem>), (status = 404, body = ErrorBody)))]
pub async fn timeline(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(q): QueryParams<TimelineQuery>,
) -> Result<Json<Vec<TimelineItem>>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    Ok(Json(
        st.store
            .timeline(&auth.actor, id, q.before, q.limit.unwrap_or(50))
            .await?,
    ))
}
