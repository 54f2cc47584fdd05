//! A customer's history and the follow-up work on it: interactions and tasks over the API,
//! the timeline, and the task page (mine, my team's, overdue first, ticked off in place).
//! Use cases: `guanxi_app::timeline`.

pub mod api;
pub mod tasks;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::add_interaction))
        .routes(routes!(api::add_task))
        .routes(routes!(api::timeline))
        .routes(routes!(api::update_task))
        .routes(routes!(api::my_tasks))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}/done", post(tasks::set_done))
}
