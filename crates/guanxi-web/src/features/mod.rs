//! Feature areas, one folder each (`<area>/{mod,api,pages}.rs`, with the area's templates in
//! `templates/<area>/` for the newer ones). Each area's `mod.rs` gives its API routes and its
//! page routes; the lists here are the only shared lines a new area adds (besides the
//! navigation and a locale file per language). See docs/ARCHITECTURE.md.

pub mod admin;
pub mod analytics;
pub mod campaign;
pub mod care;
pub mod custom_field;
pub mod customers;
pub mod export;
pub mod import;
pub mod jobs;
pub mod key_account;
pub mod knowledge;
pub mod lead;
pub mod loyalty;
pub mod merge;
pub mod notification;
pub mod orders;
pub mod pipeline;
pub mod privacy;
pub mod rule;
pub mod segments;
pub mod survey;
pub mod ticket;
pub mod timeline;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(customers::api_routes())
        .merge(merge::api_routes())
        .merge(privacy::api_routes())
        .merge(admin::api_routes())
        .merge(orders::api_routes())
        .merge(timeline::api_routes())
        .merge(analytics::api_routes())
        .merge(segments::api_routes())
        .merge(jobs::api_routes())
        .merge(ticket::api_routes())
        .merge(knowledge::api_routes())
        .merge(care::api_routes())
        .merge(survey::api_routes())
        .merge(loyalty::api_routes())
        .merge(rule::api_routes())
        .merge(campaign::api_routes())
        .merge(notification::api_routes())
        .merge(pipeline::api_routes())
        .merge(lead::api_routes())
        .merge(key_account::api_routes())
        .merge(import::api_routes())
        .merge(export::api_routes())
        .merge(custom_field::api_routes())
}

/// Every area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(customers::page_routes())
        .merge(merge::page_routes())
        .merge(privacy::page_routes())
        .merge(timeline::page_routes())
        .merge(admin::page_routes())
        .merge(custom_field::page_routes())
        .merge(analytics::page_routes())
        .merge(segments::page_routes())
        .merge(jobs::page_routes())
        .merge(ticket::page_routes())
        .merge(knowledge::page_routes())
        .merge(care::page_routes())
        .merge(survey::page_routes())
        .merge(loyalty::page_routes())
        .merge(rule::page_routes())
        .merge(campaign::page_routes())
        .merge(notification::page_routes())
        .merge(pipeline::page_routes())
        .merge(lead::page_routes())
        .merge(key_account::page_routes())
        .merge(import::page_routes())
        .merge(export::page_routes())
}
