//! Notifications in the app (the bell in the header, `/notifications`, and the API): what
//! rules tell a user about their customers. Use cases: `guanxi_app::notification`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list))
        .routes(routes!(api::read))
        .routes(routes!(api::read_all))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/notifications", get(pages::list))
        .route("/notifications/badge", get(pages::badge))
        .route("/notifications/read-all", post(pages::read_all))
        .route("/notifications/{id}/read", post(pages::read))
}
