//! The background job queue as operators see it: a list with filters, one job's detail, retry
//! of a failed or cancelled job and cancel of a queued one (admins: `ManageJobs`).

pub mod api;
pub mod pages;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    api::routes()
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    pages::routes()
}
