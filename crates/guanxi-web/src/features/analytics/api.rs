//! The score refresh job over the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::role::Permission;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::jobs::RefreshStatus;
use crate::state::AppState;

/// Queue a score refresh on the durable job queue (managers and admins). Answers 202 with the
/// job's status; if one is already queued or running, that one's status (nothing runs twice).
#[utoipa::path(post, path = "/api/v1/scores/refresh", tag = "analytics",
    responses((status = 202, body = RefreshStatus), (status = 403, body = ErrorBody)))]
pub async fn refresh(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<(StatusCode, Json<RefreshStatus>), ApiError> {
    auth.require(Permission::RunAnalytics)?;
    st.jobs.request_score_refresh(&auth.actor).await?;
    Ok((StatusCode::ACCEPTED, Json(st.jobs.score_status().await?)))
}

/// Status of the running or last score refresh.
#[utoipa::path(get, path = "/api/v1/scores/status", tag = "analytics",
    responses((status = 200, body = RefreshStatus), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<RefreshStatus>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    Ok(Json(st.jobs.score_status().await?))
}
