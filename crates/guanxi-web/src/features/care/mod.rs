//! Customer care pages: the care list (birthdays, anniversaries and festivals coming up, with
//! what was given last time, and a form to record this time's greeting, gift or coupon) and the
//! care plans. Use cases: `guanxi_app::care`.

pub mod pages;

use axum::routing::{get, post};

use crate::state::AppState;

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/care", get(pages::list))
        .route("/care/touches", post(pages::record))
        .route("/care/plans", get(pages::plans).post(pages::create_plan))
        .route("/care/plans/{id}", post(pages::update_plan))
}
