//! The service desk: tickets and complaints with SLAs, queues and agents, "take next".
//! Use cases: `guanxi_app::ticket`.

pub mod admin_api;
pub mod admin_pages;
pub mod api;
pub mod attachments;
pub mod pages;

use axum::extract::DefaultBodyLimit;
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
        .routes(routes!(api::categories, admin_api::create_category))
        .routes(routes!(api::sla_policies, admin_api::create_sla_policy))
        .routes(routes!(api::calendar, admin_api::update_calendar))
        .routes(routes!(api::metrics))
        .routes(routes!(api::open_call))
        .routes(routes!(api::pop))
        .routes(routes!(api::answer_call))
        .routes(routes!(api::end_call))
        .routes(routes!(attachments::download))
        .routes(routes!(admin_api::settings, admin_api::save_settings))
        .routes(routes!(admin_api::update_category))
        .routes(routes!(admin_api::update_sla_policy))
        .routes(routes!(admin_api::calendars, admin_api::create_calendar))
        .routes(routes!(admin_api::set_calendar_day))
        .routes(routes!(admin_api::remove_calendar_day))
        .routes(routes!(admin_api::remove_member))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(attachments::upload))
                .layer(DefaultBodyLimit::max(crate::extract::MAX_UPLOAD)),
        )
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/tickets", get(pages::desk).post(pages::create))
        .route("/tickets/new", get(pages::new_form))
        .route("/tickets/take-next", post(pages::take_next))
        .route("/tickets/presence", post(pages::presence))
        .route("/tickets/{id}", get(pages::show).post(pages::update))
        .route(
            "/tickets/{id}/messages",
            post(pages::post_message).layer(DefaultBodyLimit::max(crate::extract::MAX_UPLOAD)),
        )
        .route(
            "/tickets/{id}/attachments/{attachment_id}",
            get(attachments::open),
        )
        .route(
            "/tickets/settings",
            get(admin_pages::settings).post(admin_pages::save_settings),
        )
        .route(
            "/tickets/settings/categories",
            post(admin_pages::save_category),
        )
        .route("/tickets/settings/policies", post(admin_pages::save_policy))
        .route(
            "/tickets/settings/calendars/{id}",
            get(admin_pages::calendar).post(admin_pages::save_calendar),
        )
        .route(
            "/tickets/settings/calendars/{id}/days",
            post(admin_pages::save_day),
        )
        .route("/tickets/settings/queues", post(admin_pages::save_queue))
        .route("/tickets/{id}/take", post(pages::take))
        .route("/tickets/pop", get(pages::pop))
        .route("/tickets/metrics", get(pages::metrics))
        .route("/tickets/calls/{id}/answer", post(pages::answer_call))
        .route("/tickets/calls/{id}/end", post(pages::end_call))
}
