//! The score refresh job over the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::role::Permission;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::jobs::RefreshStatus;
use crate::state::AppState;

/// Start a score refresh in the background (managers and admins). Answers 202 with the job's
/// status; if one is already running, that one's status (nothing is started twice).
#[utoipa::path(post, path = "/api/v1/scores/refresh", tag = "analytics",
    responses((status = 202, body = RefreshStatus), (status = 403, body = ErrorBody)))]
pub async fn refresh(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<(StatusCode, Json<RefreshStatus>), ApiError> {
    auth.require(Permission::RunAnalytics)?;
    st.scores_job
        .start(st.store.clone(), st.utc_offset_hours, auth.actor.clone());
    Ok((StatusCode::ACCEPTED, Json(st.scores_job.status())))
}

/// Status of the running or last score refresh.
#[utoipa::path(get, path = "/api/v1/scores/status", tag = "analytics",
    responses((status = 200, body = RefreshStatus), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<RefreshStatus>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    Ok(Json(st.scores_job.status()))
}
