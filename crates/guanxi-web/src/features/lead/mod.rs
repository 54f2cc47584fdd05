//! Leads (issue #17): the list, a lead's page with its matches and actions, the import, the
//! capture forms and their public page; and the same over the API. Use cases:
//! `guanxi_app::lead`.

pub mod api;
pub mod pages;
pub mod public;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::import))
        .routes(routes!(api::get))
        .routes(routes!(api::matches))
        .routes(routes!(api::qualify))
        .routes(routes!(api::disqualify))
        .routes(routes!(api::reopen))
        .routes(routes!(api::convert))
        .routes(routes!(api::forms, api::create_form))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/leads", get(pages::list).post(pages::create))
        .route("/leads/new", get(pages::new))
        .route("/leads/import", get(pages::import_form).post(pages::import))
        .route("/leads/forms", get(pages::forms).post(pages::create_form))
        .route("/leads/forms/{id}/active", post(pages::toggle_form))
        .route("/leads/{id}", get(pages::show))
        .route("/leads/{id}/qualify", post(pages::qualify))
        .route("/leads/{id}/disqualify", post(pages::disqualify))
        .route("/leads/{id}/reopen", post(pages::reopen))
        .route("/leads/{id}/convert", post(pages::convert))
        .route("/f/{key}", get(public::show).post(public::submit))
}
