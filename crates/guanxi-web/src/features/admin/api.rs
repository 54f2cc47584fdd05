//! Users and teams (administration).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::records::{Team, User};
use guanxi_domain::role::Permission;
use guanxi_domain::user::{NewUser, UserPatch};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId};
use crate::state::AppState;

/// All users (any signed-in user: needed to pick owners).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<User>)))]
pub async fn list_users(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(
        guanxi_app::users::directory(&st.store, &auth.actor).await?,
    ))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_user(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(u): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    auth.require(Permission::ManageUsers)?;
    Ok((
        StatusCode::CREATED,
        Json(guanxi_app::users::create_user(&st.store, &auth.actor, u).await?),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        guanxi_app::users::get_user(&st.store, &auth.actor, id).await?,
    ))
}

/// Change a user. Users may change their own display name, language and password; everything
/// else (role, team, grants, locking) is for admins.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "User id")), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        guanxi_app::users::update_user(&st.store, &auth.actor, id, p).await?,
    ))
}

/// All teams.
#[utoipa::path(get, path = "/api/v1/teams", tag = "users", responses((status = 200, body = Vec<Team>)))]
pub async fn list_teams(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Team>>, ApiError> {
    Ok(Json(
        guanxi_app::users::list_teams(&st.store, &auth.actor).await?,
    ))
}

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// Name.
    pub name: String,
}

/// Create a team (admin).
#[utoipa::path(post, path = "/api/v1/teams", tag = "users", request_body = NewTeam,
    responses((status = 201, body = Team), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(t): JsonBody<NewTeam>,
) -> Result<(StatusCode, Json<Team>), ApiError> {
    auth.require(Permission::ManageUsers)?;
    Ok((
        StatusCode::CREATED,
        Json(guanxi_app::users::create_team(&st.store, &auth.actor, &t.name).await?),
    ))
}
