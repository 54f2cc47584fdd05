//! The knowledge base (FAQ): search with highlighted snippets, articles in Chinese and
//! English, votes, "this answered it" on a ticket. Use cases: `guanxi_app::knowledge`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::search, api::create))
        .routes(routes!(api::read, api::update))
        .routes(routes!(api::vote))
        .routes(routes!(api::link))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/kb", get(pages::list).post(pages::create))
        .route("/kb/new", get(pages::new_form))
        .route("/kb/{id}", get(pages::show).post(pages::update))
        .route("/kb/{id}/edit", get(pages::edit_form))
        .route("/kb/{id}/vote", post(pages::vote))
        .route("/kb/{id}/link", post(pages::link))
}
