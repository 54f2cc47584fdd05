//! Campaigns as pages and over the API, and the public links a recipient follows
//! (unsubscribe, open pixel, click redirect). Use cases: `guanxi_app::campaign`.

pub mod api;
pub mod pages;
pub mod policies;
pub mod public;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::update))
        .routes(routes!(api::preview))
        .routes(routes!(api::report))
        .routes(routes!(api::mailing_list))
        .routes(routes!(api::move_to))
        .routes(routes!(api::policies))
        .routes(routes!(api::save_policy))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/campaigns", get(pages::list).post(pages::save))
        .route("/campaigns/policies", get(policies::show))
        .route("/campaigns/policies/{channel}", post(policies::save))
        .route("/campaigns/{id}", get(pages::show))
        .route("/campaigns/{id}/state", post(pages::move_to))
        .route("/campaigns/{id}/test", post(pages::test_send))
        .route("/campaigns/{id}/mailing-list", get(pages::mailing_list))
        .route("/customers/{id}/contact-caps", post(pages::set_cap))
        .route("/u/{token}", get(public::show).post(public::unsubscribe))
        .route("/t/o/{token}", get(public::pixel))
        .route("/t/c/{token}", get(public::click))
}
