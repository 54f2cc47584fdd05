//! Saved segments (客户细分): the rule editor with its live size, a segment's page, its
//! customers in the list and its CSV export, over the API and the pages. The use cases are
//! `guanxi_app::segments`; the rule language is `guanxi_domain::segment`.

pub mod api;
pub mod pages;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::routes()
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    pages::routes()
}
