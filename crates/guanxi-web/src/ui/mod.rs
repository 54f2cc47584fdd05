//! The browser interface: server-rendered pages (askama) with htmx for the parts that update in
//! place (search as you type, consent switches, older timeline entries). Every page goes
//! through the same permission checks and record scope as the JSON API, because both call the
//! same store functions with the same actor.

pub mod assets;
pub mod pages;
pub mod session;
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
        .route("/scores/refresh", post(pages::refresh_scores))
        .route("/static/{file}", get(assets::serve))
        .merge(crate::features::page_routes())
}
