//! The customer file: the list with filters and bulk actions, the 360 page (profile, contact
//! points with consent, relations, timeline, scores in words), the create and edit forms with
//! their duplicate warning and conflict box, search as you type, and the customer, contact
//! point and relation API. Use cases: `guanxi_app::{customers, contacts}`.

pub mod api;
pub mod contacts_api;
pub mod form;
pub mod list;
pub mod profile;
pub mod search;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The area's API routes (with their OpenAPI operations).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list_customers, api::create_customer))
        .routes(routes!(api::identify))
        .routes(routes!(
            api::get_customer,
            api::update_customer,
            api::delete_customer
        ))
        .routes(routes!(
            contacts_api::list_contact_points,
            contacts_api::add_contact_point
        ))
        .routes(routes!(
            contacts_api::update_contact_point,
            contacts_api::delete_contact_point
        ))
        .routes(routes!(
            contacts_api::list_relations,
            contacts_api::add_relation
        ))
        .routes(routes!(contacts_api::delete_relation))
}

/// The area's page routes.
pub fn page_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/search", get(search::hits))
        .route("/search/go", get(search::go))
        .route("/customers", get(list::list))
        .route("/customers/bulk", post(list::bulk))
        .route("/customers/new", get(form::new_form).post(form::create))
        .route("/customers/{id}", get(profile::page))
        .route("/customers/{id}/timeline", get(profile::older))
        .route(
            "/customers/{id}/edit",
            get(form::edit_form).post(form::update),
        )
        .route("/customers/{id}/contacts", post(profile::add_contact))
        .route(
            "/customers/{id}/interactions",
            post(profile::log_interaction),
        )
        .route("/customers/{id}/tasks", post(profile::add_task))
        .route("/contacts/{id}/consent", post(profile::toggle_consent))
}
