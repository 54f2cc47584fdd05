//! Feature areas, one folder each (`<feature>/{api,pages}.rs` with the feature's templates in
//! `templates/<feature>/`). A feature exposes its API routes and its page routes; the crate's
//! routers merge them from the lists here, which are the only shared files a new area edits
//! (besides the navigation and a locale file per language). See docs/ARCHITECTURE.md.

pub mod jobs;
pub mod segments;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every feature's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(jobs::api::routes())
        .merge(segments::api::routes())
}

/// Every feature's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(jobs::pages::routes())
        .merge(segments::pages::routes())
}
