//! Merging duplicate customers: the side-by-side comparison, the merge, and its undo within
//! 30 days, in the browser and the API. Use cases: `guanxi_app::merge`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::merge_customers))
        .routes(routes!(api::merge_preview))
        .routes(routes!(api::list_merges))
        .routes(routes!(api::undo_merge))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/customers/{id}/merge", get(pages::page).post(pages::merge))
        .route("/merges/{id}/undo", post(pages::undo))
}
