//! Key accounts (issue #17): the dashboard, an account's page with its figures, revenue by
//! month, managers and plan, and the shop's rule; and the same over the API. Use cases:
//! `guanxi_app::key_account`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::dashboard))
        .routes(routes!(api::get, api::set, api::remove))
        .routes(routes!(api::plan))
        .routes(routes!(api::rule, api::set_rule))
        .routes(routes!(api::apply_rule))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/key-accounts", get(pages::list).post(pages::designate))
        .route("/key-accounts/rule", post(pages::set_rule))
        .route("/key-accounts/rule/apply", post(pages::apply_rule))
        .route("/key-accounts/{id}", get(pages::show).post(pages::set))
        .route("/key-accounts/{id}/plan", post(pages::plan))
        .route("/key-accounts/{id}/remove", post(pages::remove))
}
