//! The service desk: tickets and complaints with SLAs, queues and agents, "take next".
//! Use cases: `guanxi_app::ticket`.

pub mod api;
pub mod pages;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::create, api::list))
        .routes(routes!(api::read, api::update))
        .routes(routes!(api::message))
        .routes(routes!(api::assign))
        .routes(routes!(api::link_customer))
        .routes(routes!(api::take_next))
        .routes(routes!(api::agents))
        .routes(routes!(api::set_me))
        .routes(routes!(api::set_agent))
        .routes(routes!(api::queues, api::create_queue))
        .routes(routes!(api::add_member))
        .routes(routes!(api::categories))
        .routes(routes!(api::sla_policies))
        .routes(routes!(api::calendar))
        .routes(routes!(api::metrics))
        .routes(routes!(api::open_call))
        .routes(routes!(api::pop))
        .routes(routes!(api::answer_call))
        .routes(routes!(api::end_call))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/tickets", get(pages::desk).post(pages::create))
        .route("/tickets/new", get(pages::new_form))
        .route("/tickets/take-next", post(pages::take_next))
        .route("/tickets/presence", post(pages::presence))
        .route("/tickets/{id}", get(pages::show).post(pages::update))
        .route("/tickets/{id}/messages", post(pages::post_message))
        .route("/tickets/{id}/take", post(pages::take))
        .route("/tickets/pop", get(pages::pop))
        .route("/tickets/metrics", get(pages::metrics))
        .route("/tickets/calls/{id}/answer", post(pages::answer_call))
        .route("/tickets/calls/{id}/end", post(pages::end_call))
}
