//! Interactions, follow-up tasks and the customer timeline over the API (the same store calls
//! the 360 page makes).

use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use guanxi_domain::interaction::{NewInteraction, NewTask};
use guanxi_domain::records::{Interaction, Task, TimelineCursor, TimelineItem};
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationErrors;
use guanxi_store::tasks::{TaskFilter, TaskStatus, TaskWho};
use guanxi_store::timeline::OpenTask;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use guanxi_app::timeline as uc;

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
    Ok((
        StatusCode::CREATED,
        Json(uc::add_interaction(&st.store, &auth.actor, id, i).await?),
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
    Ok((
        StatusCode::CREATED,
        Json(uc::add_task(&st.store, &auth.actor, id, t).await?),
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
    Ok(Json(
        uc::set_task_done(&st.store, &auth.actor, id, t.version, t.done).await?,
    ))
}

/// Which tasks `GET /tasks` lists; by default my open ones.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// `mine` (default), `team` (assigned to anyone in my team) or `all` (any assignee on the
    /// customers I may see). Ignored when `assignee` is given.
    pub who: Option<String>,
    /// One colleague's tasks (user id).
    #[param(minimum = 1)]
    pub assignee: Option<i64>,
    /// `open` (default), `done` or `all`.
    pub status: Option<String>,
    /// Only tasks due before this time (now = overdue).
    pub due_before: Option<DateTime<Utc>>,
    /// Words in the title or the customer's name.
    pub q: Option<String>,
    /// Most rows (1–500, default 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl TaskQuery {
    /// The store filter, or the field that is wrong.
    fn filter(self, auth: &Auth) -> Result<TaskFilter, ApiError> {
        let bad =
            |field: &str| ApiError::BadQuery(ValidationErrors::single(field, "unknown_value").0);
        let who = match (self.assignee, self.who.as_deref()) {
            (Some(a), _) if a > 0 => TaskWho::User(a),
            (Some(_), _) => return Err(bad("assignee")),
            (None, None | Some("mine")) => TaskWho::User(auth.user.id),
            (None, Some("team")) => match auth.actor.team_id {
                Some(t) => TaskWho::Team(t),
                None => TaskWho::User(auth.user.id),
            },
            (None, Some("all")) => TaskWho::Anyone,
            (None, Some(_)) => return Err(bad("who")),
        };
        let status = match self.status.as_deref() {
            None | Some("open") => TaskStatus::Open,
            Some("done") => TaskStatus::Done,
            Some("all") => TaskStatus::All,
            Some(_) => return Err(bad("status")),
        };
        let limit = crate::extract::page_limit(self.limit, 500, 500)?;
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(bad("offset"));
        }
        Ok(TaskFilter {
            who,
            status,
            due_before: self.due_before.map(|t| t.timestamp_millis()),
            q: self.q,
            limit,
            offset,
        })
    }
}

/// Tasks across customers: mine by default, open ones overdue first (done ones most recent
/// first). `X-Total-Count` is the number of all matching tasks, not only this page's.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "timeline", params(TaskQuery),
    responses((status = 200, body = Vec<OpenTask>, headers(("x-total-count" = i64, description = "Tasks matching the filter in all"))),
        (status = 400, body = ErrorBody)))]
pub async fn my_tasks(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<TaskQuery>,
) -> Result<([(HeaderName, String); 1], Json<Vec<OpenTask>>), ApiError> {
    auth.require(Permission::ReadCustomers)?;
    let filter = q.filter(&auth)?;
    let list = uc::task_list(
        &st.store,
        &auth.actor,
        &filter,
        Utc::now().timestamp_millis(),
    )
    .await?;
    Ok((
        [(
            HeaderName::from_static("x-total-count"),
            list.total.to_string(),
        )],
        Json(list.items),
    ))
}

/// Timeline paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Only entries older than this one: the `cursor` of the last entry of the previous page.
    /// Reaches every entry, including several that share a time.
    pub cursor: Option<String>,
    /// Only entries strictly before this time (kept for older clients; entries sharing the
    /// boundary time are skipped, so page with `cursor`).
    pub before: Option<DateTime<Utc>>,
    /// Most entries (1–1000, default 50).
    #[param(minimum = 1, maximum = 1000)]
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
    let before = match (&q.cursor, q.before) {
        (Some(c), _) => Some(TimelineCursor::parse(c).ok_or_else(|| {
            ApiError::BadQuery(ValidationErrors::single("cursor", "invalid_cursor").0)
        })?),
        (None, Some(t)) => Some(TimelineCursor::before_time(t)),
        (None, None) => None,
    };
    let limit = crate::extract::page_limit(q.limit, 50, guanxi_store::timeline::MAX_TIMELINE)?;
    Ok(Json(
        uc::timeline(&st.store, &auth.actor, id, before, limit).await?,
    ))
}
