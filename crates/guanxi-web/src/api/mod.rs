//! The JSON API under `/api/v1`. Every route is registered through `utoipa-axum`'s `routes!`,
//! which takes the path and method from the handler's `#[utoipa::path]`: the router and the
//! OpenAPI document are built from the same list and cannot disagree.

pub mod session;
pub mod statuses;

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
        .merge(crate::features::api_routes());
    let (router, mut doc) = api.split_for_parts();
    statuses::declare_shared_statuses(&mut doc);
    (router, doc)
}
