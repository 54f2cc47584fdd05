//! The membership programme over the API (`ManageLoyalty`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::loyalty::ProgramInput;
use guanxi_store::loyalty::ProgramRecord;
use serde::Deserialize;
use utoipa::ToSchema;

use guanxi_app::loyalty::program as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId};
use crate::state::AppState;

/// Every membership programme, the active one first.
#[utoipa::path(get, path = "/api/v1/loyalty/programs", tag = "loyalty",
    responses((status = 200, body = Vec<ProgramRecord>), (status = 403, body = ErrorBody)))]
pub async fn programs(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ProgramRecord>>, ApiError> {
    Ok(Json(uc::list(&st.store, &auth.actor).await?))
}

/// Save a programme: tiers (lowest first, the first qualifying at 0) with their qualifying
/// and keeping lines over a rolling window, the base earning rate, category rates,
/// promotions. An active one pauses the programme active before.
#[utoipa::path(post, path = "/api/v1/loyalty/programs", tag = "loyalty", request_body = ProgramInput,
    responses((status = 201, body = ProgramRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<ProgramInput>,
) -> Result<(StatusCode, Json<ProgramRecord>), ApiError> {
    let r = uc::create(&st.store, &auth.actor, &p, st.utc_offset_hours).await?;
    st.jobs.wake();
    Ok((StatusCode::CREATED, Json(r)))
}

/// One programme.
#[utoipa::path(get, path = "/api/v1/loyalty/programs/{id}", tag = "loyalty", params(("id" = i64, Path, description = "Programme id", minimum = 1)),
    responses((status = 200, body = ProgramRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn program(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<ProgramRecord>, ApiError> {
    Ok(Json(uc::get(&st.store, &auth.actor, id).await?))
}

/// A change to a programme, guarded by the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The programme as it should be.
    pub program: ProgramInput,
}

/// Replace a programme (members are re-placed in tiers at the next run).
#[utoipa::path(put, path = "/api/v1/loyalty/programs/{id}", tag = "loyalty", params(("id" = i64, Path, description = "Programme id", minimum = 1)), request_body = ProgramUpdate,
    responses((status = 200, body = ProgramRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<ProgramUpdate>,
) -> Result<Json<ProgramRecord>, ApiError> {
    let r = uc::update(
        &st.store,
        &auth.actor,
        id,
        u.version,
        &u.program,
        st.utc_offset_hours,
    )
    .await?;
    st.jobs.wake();
    Ok(Json(r))
}
