//! Satisfaction surveys as pages: the public page a personal link opens (no sign-in, phone
//! sized, in the invitation's language), and the managers' pages — surveys, their figures, and
//! a personal link made for one customer. Use cases: `guanxi_app::survey`.

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
        .routes(routes!(api::results))
        .routes(routes!(api::make_link))
        .routes(routes!(api::send_to_segment))
        .routes(routes!(api::open, api::answer))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/s/{token}", get(public::show).post(public::submit))
        .route("/surveys", get(pages::list).post(pages::create))
        .route("/surveys/{id}", get(pages::show))
        .route("/surveys/{id}/links", post(pages::make_link))
        .route("/surveys/{id}/sends", post(pages::send_to_segment))
}
