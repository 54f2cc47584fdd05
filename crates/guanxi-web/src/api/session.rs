//! Login, logout, the current user, and personal API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use guanxi_domain::records::User;
use guanxi_store::users::ApiToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, SESSION_COOKIE};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ClientAddr, JsonBody, PathId};
use crate::state::AppState;

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A started session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// The user.
    pub user: User,
    /// Send this as `X-CSRF-Token` on POST/PATCH/DELETE made with the session cookie.
    pub csrf_token: String,
}

/// Start a session: sets an HttpOnly, SameSite=Lax browser-session cookie (no Max-Age: it ends
/// with the browser; the server also expires it after 12 hours).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<(CookieJar, Json<LoginResponse>), ApiError> {
    let (user, sid, csrf) = guanxi_app::sessions::start_session(
        &st.store,
        &st.throttle,
        &req.username,
        req.password,
        client,
    )
    .await?;
    Ok((
        jar.add(crate::auth::session_cookie(&st, sid)),
        Json(LoginResponse {
            user,
            csrf_token: csrf,
        }),
    ))
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(st): State<AppState>,
    _auth: Auth,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        guanxi_app::sessions::end_session(&st.store, c.value()).await?;
    }
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        StatusCode::NO_CONTENT,
    ))
}

/// The current user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(auth: Auth) -> Json<User> {
    Json(auth.user)
}

/// A new token's name and lifetime.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for ("nightly export").
    pub name: String,
    /// Days until it expires; none for no expiry.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// The secret, shown once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// Token id.
    pub id: i64,
    /// `Authorization: Bearer <token>`; not retrievable later.
    pub token: String,
}

/// Create a personal API token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(t): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created =
        guanxi_app::sessions::create_token(&st.store, &auth.actor, &t.name, t.expires_in_days)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: created.id,
            token: created.token,
        }),
    ))
}

/// My API tokens (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(
        guanxi_app::sessions::list_tokens(&st.store, &auth.actor).await?,
    ))
}

/// Revoke one of my tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = i64, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    guanxi_app::sessions::revoke_token(&st.store, &auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
