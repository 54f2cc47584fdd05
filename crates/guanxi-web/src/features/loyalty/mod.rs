//! Membership: the points section of the 360 page (balance, what expires next, the latest
//! ledger entries, the member's tier, a correction form for those who may adjust points) and
//! the membership programme's page and API. Use cases: `guanxi_app::loyalty`.

pub mod api;
pub mod coupons;
pub mod pages;
pub mod programs;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::programs, api::create))
        .routes(routes!(api::program, api::update))
        .routes(routes!(api::offers, api::create_offer))
        .routes(routes!(api::update_offer))
        .routes(routes!(api::customer_coupons, api::issue_coupon))
        .routes(routes!(api::redeem_coupon))
        .routes(routes!(api::redeem_points))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/customers/{id}/points", post(pages::adjust))
        .route("/customers/{id}/points/redeem", post(pages::redeem_points))
        .route(
            "/loyalty/programs",
            get(programs::programs).post(programs::save),
        )
        .route("/loyalty/programs/run", post(programs::run))
        .route("/loyalty/coupons", get(coupons::offers).post(coupons::save))
        .route("/customers/{id}/coupons", post(pages::issue_coupon))
        .route("/customers/{id}/coupons/redeem", post(pages::redeem_coupon))
}
