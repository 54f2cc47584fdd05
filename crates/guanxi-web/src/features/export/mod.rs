//! Exports of the customer list (issue #18): the export form (columns, format, and the reason
//! an export above the shop's threshold needs), the requests awaiting a manager's approval,
//! the decision, the one watermarked download an approval allows, and the admin's threshold.
//! Use cases: `guanxi_app::export::approval`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::requests))
        .routes(routes!(api::decide))
        .routes(routes!(api::policy, api::set_policy))
        .routes(routes!(api::export_customers))
        .routes(routes!(api::file))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/customers/export", get(pages::form).post(pages::export))
        .route("/exports", get(pages::list))
        .route("/exports/policy", post(pages::set_policy))
        .route("/exports/{id}/decision", post(pages::decide))
        .route("/exports/{id}/file", get(pages::file))
}
