//! Orders over the API (record one, list, read) and the audit log's API.
//! Use cases: `guanxi_app::{orders, audit}`.

pub mod api;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::create_order, api::list_orders))
        .routes(routes!(api::get_order))
        .routes(routes!(api::list_audit))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
}
