//! The browser interface: server-rendered pages (askama) with htmx for the parts that update in
//! place (search as you type, consent switches, older timeline entries). Every page goes
//! through the same permission checks and record scope as the JSON API, because both call the
//! same store functions with the same actor.

pub mod admin;
pub mod analytics;
pub mod assets;
pub mod customer360;
pub mod customers;
pub mod forms;
pub mod merge;
pub mod pages;
pub mod privacy;
pub mod search;
pub mod session;
pub mod tasks;
pub mod text;

pub use guanxi_text::format;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::i18n::Locale;
use crate::state::AppState;
use session::UiError;

/// Renders a template, turning a template failure into the 500 page.
pub fn render<T: Template>(locale: Locale, t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => UiError::Internal(locale, format!("template: {e}")).into_response(),
    }
}

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang", post(pages::set_language))
        .route("/search", get(search::hits))
        .route("/search/go", get(search::go))
        .route("/analytics", get(analytics::page))
        .route("/customers", get(customers::list))
        .route("/customers/bulk", post(customers::bulk))
        .route("/customers/new", get(forms::new_form).post(forms::create))
        .route("/customers/{id}", get(customer360::page))
        .route("/customers/{id}/timeline", get(customer360::older))
        .route(
            "/customers/{id}/edit",
            get(forms::edit_form).post(forms::update),
        )
        .route("/customers/{id}/contacts", post(customer360::add_contact))
        .route(
            "/customers/{id}/interactions",
            post(customer360::log_interaction),
        )
        .route("/customers/{id}/tasks", post(customer360::add_task))
        .route("/customers/{id}/merge", get(merge::page).post(merge::merge))
        .route("/merges/{id}/undo", post(merge::undo))
        .route("/customers/{id}/export", get(privacy::export))
        .route("/customers/{id}/erase", post(privacy::erase))
        .route("/contacts/{id}/consent", post(customer360::toggle_consent))
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}/done", post(tasks::set_done))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route("/admin/teams", post(admin::create_team))
        .route("/admin/audit", get(admin::audit))
        .route("/scores/refresh", post(pages::refresh_scores))
        .route("/static/{file}", get(assets::serve))
        .merge(crate::features::page_routes())
}
