//! Membership points on the 360 page: the balance, what expires next, the latest ledger
//! entries, and a correction form for those who may adjust points. Use cases:
//! `guanxi_app::loyalty`.

pub mod pages;

use axum::routing::post;

use crate::state::AppState;

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/customers/{id}/points", post(pages::adjust))
}
