//! Rules as pages and over the API: the rules, the form with its dry run, each rule's firing
//! log. Use cases: `guanxi_app::rule`.

pub mod api;
pub mod pages;

use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::rules, api::create))
        .routes(routes!(api::rule, api::update))
        .routes(routes!(api::preview))
        .routes(routes!(api::firings))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/rules", get(pages::rules).post(pages::save))
        .route("/rules/{id}", get(pages::rule))
}
