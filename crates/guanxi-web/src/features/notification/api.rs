//! Notifications over the API: the caller's own, newest first, and marking them read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_app::notification as uc;
use guanxi_store::notification::NotificationPage;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{PathId, QueryParams};
use crate::state::AppState;

/// Which notifications.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// Only the unread ones.
    pub unread: Option<bool>,
    /// Older than this id (the previous page's `next_before`).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// How many (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// How many were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// Notifications that were unread.
    pub marked: u64,
}

/// The caller's notifications, newest first, with how many are unread.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationsQuery),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<NotificationsQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let query = uc::NotificationQuery {
        unread_only: q.unread.unwrap_or(false),
        before: q.before,
        limit: q.limit.unwrap_or(50),
    };
    Ok(Json(
        uc::my_notifications(&st.store, &auth.actor, query).await?,
    ))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path, description = "Notification id", minimum = 1)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    uc::mark_read(&st.store, &auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark all the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked), (status = 403, body = ErrorBody)))]
pub async fn read_all(State(st): State<AppState>, auth: Auth) -> Result<Json<Marked>, ApiError> {
    Ok(Json(Marked {
        marked: uc::mark_all_read(&st.store, &auth.actor).await?,
    }))
}
