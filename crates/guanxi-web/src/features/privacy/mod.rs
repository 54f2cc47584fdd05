//! Data-subject rights (PIPL / GDPR): everything held about a customer as a file, and erasure
//! with a reason, in the browser and the API. Use cases: `guanxi_app::{export, privacy}`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::export_customer))
        .routes(routes!(api::erase_customer))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/customers/{id}/export", get(pages::export))
        .route("/customers/{id}/erase", post(pages::erase))
}
