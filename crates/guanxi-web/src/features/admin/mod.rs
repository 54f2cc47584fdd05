//! Administration: users, roles and teams, and the audit log page, over the pages and the
//! users/teams API. Use cases: `guanxi_app::{users, audit}`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list_users, api::create_user))
        .routes(routes!(api::get_user, api::update_user))
        .routes(routes!(api::list_teams, api::create_team))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/users", get(pages::users).post(pages::create_user))
        .route("/admin/users/{id}", post(pages::update_user))
        .route("/admin/teams", post(pages::create_team))
        .route("/admin/audit", get(pages::audit))
}
