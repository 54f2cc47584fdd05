//! Analytics: the page of RFM grid, value matrix, Pareto, CLV and churn risk with their
//! click-throughs, and the score refresh's API. Use cases: `guanxi_app::analytics`.

pub mod api;
pub mod pages;

use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::refresh))
        .routes(routes!(api::status))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/analytics", get(pages::page))
}
