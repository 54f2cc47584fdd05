//! Customer care pages: the care list (birthdays, anniversaries and festivals coming up, with
//! what was given last time, and a form to record this time's greeting, gift or coupon) and the
//! care plans, as pages and over the API. Use cases: `guanxi_app::care`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list))
        .routes(routes!(api::record))
        .routes(routes!(api::touches))
        .routes(routes!(api::plans, api::create_plan))
        .routes(routes!(api::plan, api::update_plan))
        .routes(routes!(api::preview_plan))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/care", get(pages::list))
        .route("/care/touches", post(pages::record))
        .route("/care/plans", get(pages::plans).post(pages::create_plan))
        .route("/care/plans/{id}", post(pages::update_plan))
}
