//! Imports (issue #18): the wizard's pages — upload, map, preview with problems and
//! duplicates, run with a progress bar, the problem report, undo — and the same over the API.
//! Use cases: `guanxi_app::import`.

pub mod api;
pub mod pages;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::upload))
        .routes(routes!(api::get))
        .routes(routes!(api::settings))
        .routes(routes!(api::preview))
        .routes(routes!(api::report))
        .routes(routes!(api::start))
        .routes(routes!(api::undo))
        .routes(routes!(api::policy, api::set_policy))
        .layer(DefaultBodyLimit::max(crate::extract::MAX_UPLOAD))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/imports",
            get(pages::list)
                .post(pages::upload)
                .layer(DefaultBodyLimit::max(crate::extract::MAX_UPLOAD)),
        )
        .route("/imports/policy", post(pages::set_policy))
        .route("/imports/{id}", get(pages::show))
        .route("/imports/{id}/settings", post(pages::settings))
        .route("/imports/{id}/progress", get(pages::progress))
        .route("/imports/{id}/report", get(pages::report))
        .route("/imports/{id}/undo", post(pages::undo))
        .route("/imports/{id}/reopen", post(pages::reopen))
}
