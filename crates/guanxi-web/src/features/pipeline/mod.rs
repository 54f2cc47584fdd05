//! The sales pipeline (issue #17): the kanban per pipeline (drag a card or pick a stage with
//! the keyboard), a deal's page with its history and time in stage, the new-deal form, the
//! weighted forecast; and the same over the API. Use cases: `guanxi_app::pipeline`.

pub mod api;
pub mod deals;
pub mod pages;
pub mod settings;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::pipelines, api::create_pipeline))
        .routes(routes!(api::pipeline, api::update_pipeline))
        .routes(routes!(api::board))
        .routes(routes!(api::figures))
        .routes(routes!(api::lost_reasons, api::create_lost_reason))
        .routes(routes!(api::set_lost_reason))
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get, api::update))
        .routes(routes!(api::move_to))
        .routes(routes!(api::order))
        .routes(routes!(api::history))
        .routes(routes!(api::forecast))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/pipeline", get(pages::board))
        .route("/pipeline/forecast", get(pages::forecast))
        .route("/pipeline/stale", get(pages::stale))
        .route(
            "/pipeline/settings",
            get(settings::page).post(settings::create),
        )
        .route("/pipeline/settings/{id}", post(settings::update))
        .route("/pipeline/lost-reasons", post(settings::add_reason))
        .route(
            "/pipeline/lost-reasons/{id}/active",
            post(settings::toggle_reason),
        )
        .route("/opportunities", get(deals::list).post(pages::create))
        .route("/opportunities/new", get(pages::new))
        .route("/opportunities/{id}", get(pages::show))
        .route(
            "/opportunities/{id}/edit",
            get(pages::edit).post(pages::save),
        )
        .route("/opportunities/{id}/move", post(pages::move_to))
        .route("/opportunities/{id}/order", post(pages::order))
}
