//! The JSON API under `/api/v1`. Every route is registered through `utoipa-axum`'s `routes!`,
//! which takes the path and method from the handler's `#[utoipa::path]`: the router and the
//! OpenAPI document are built from the same list and cannot disagree.

pub mod contacts;
pub mod customers;
pub mod merge;
pub mod orders;
pub mod privacy;
pub mod scores;
pub mod session;
pub mod statuses;
pub mod timeline;
pub mod users;

use axum::extract::State;
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Guanxi CRM API", description = "Customer file, identification, orders, interactions and tasks (the timeline), scores, segments and exports, users and audit. \
        Authenticate with `Authorization: Bearer <token>` (create one at POST /api/v1/tokens) or with the \
        session cookie from POST /api/v1/auth/login plus `X-CSRF-Token` on writes. Errors are \
        `{error, message, fields}`; messages follow `Accept-Language` (zh-CN or en)."),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// Service health.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the database answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
}

/// Liveness and database check (no authentication).
#[utoipa::path(get, path = "/api/v1/health", tag = "meta", security(()), responses((status = 200, body = Health)))]
pub async fn health(State(st): State<AppState>) -> Result<Json<Health>, crate::error::ApiError> {
    st.store.count_users().await?;
    let backend = match st.store.backend() {
        guanxi_store::Backend::Sqlite => "sqlite",
        guanxi_store::Backend::Postgres => "postgres",
    };
    Ok(Json(Health {
        status: "ok".into(),
        backend: backend.into(),
    }))
}

/// The API routes and their OpenAPI document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::create_token, session::list_tokens))
        .routes(routes!(session::revoke_token))
        .routes(routes!(
            customers::list_customers,
            customers::create_customer
        ))
        .routes(routes!(customers::identify))
        .routes(routes!(
            customers::get_customer,
            customers::update_customer,
            customers::delete_customer
        ))
        .routes(routes!(merge::merge_customers))
        .routes(routes!(merge::merge_preview))
        .routes(routes!(merge::list_merges))
        .routes(routes!(merge::undo_merge))
        .routes(routes!(privacy::export_customer))
        .routes(routes!(privacy::erase_customer))
        .routes(routes!(
            contacts::list_contact_points,
            contacts::add_contact_point
        ))
        .routes(routes!(
            contacts::update_contact_point,
            contacts::delete_contact_point
        ))
        .routes(routes!(contacts::list_relations, contacts::add_relation))
        .routes(routes!(contacts::delete_relation))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::list_teams, users::create_team))
        .routes(routes!(orders::create_order, orders::list_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::list_audit))
        .routes(routes!(timeline::add_interaction))
        .routes(routes!(timeline::add_task))
        .routes(routes!(timeline::timeline))
        .routes(routes!(timeline::update_task))
        .routes(routes!(timeline::my_tasks))
        .routes(routes!(scores::refresh))
        .routes(routes!(scores::status))
        .merge(crate::features::api_routes());
    let (router, mut doc) = api.split_for_parts();
    statuses::declare_shared_statuses(&mut doc);
    (router, doc)
}
