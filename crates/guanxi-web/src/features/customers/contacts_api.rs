//! Contact point and relation endpoints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_app::contacts as uc;
use guanxi_domain::customer::{ContactPointPatch, NewContactPoint};
use guanxi_domain::records::{ContactPoint, Relation};
use guanxi_domain::relation::NewRelation;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::features::customers::api::VersionQuery;
use crate::state::AppState;

/// Contact points of a customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}/contact-points", tag = "contact points", params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Vec<ContactPoint>), (status = 404, body = ErrorBody)))]
pub async fn list_contact_points(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Vec<ContactPoint>>, ApiError> {
    Ok(Json(
        uc::list_contact_points(&st.store, &auth.actor, id).await?,
    ))
}

/// Add a contact point.
#[utoipa::path(post, path = "/api/v1/customers/{id}/contact-points", tag = "contact points", params(("id" = i64, Path, description = "Customer id")), request_body = NewContactPoint,
    responses((status = 201, body = ContactPoint), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_contact_point(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(cp): JsonBody<NewContactPoint>,
) -> Result<(StatusCode, Json<ContactPoint>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::add_contact_point(&st.store, &auth.actor, id, cp).await?),
    ))
}

/// Change a contact point (value, label, primary, consent).
#[utoipa::path(patch, path = "/api/v1/contact-points/{id}", tag = "contact points", params(("id" = i64, Path, description = "Contact point id")), request_body = ContactPointPatch,
    responses((status = 200, body = ContactPoint), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_contact_point(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<ContactPointPatch>,
) -> Result<Json<ContactPoint>, ApiError> {
    Ok(Json(
        uc::update_contact_point(&st.store, &auth.actor, id, p).await?,
    ))
}

/// Remove a contact point.
#[utoipa::path(delete, path = "/api/v1/contact-points/{id}", tag = "contact points", params(("id" = i64, Path, description = "Contact point id"), VersionQuery),
    responses((status = 204), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_contact_point(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(v): QueryParams<VersionQuery>,
) -> Result<StatusCode, ApiError> {
    uc::delete_contact_point(&st.store, &auth.actor, id, v.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Relations of a customer (both directions).
#[utoipa::path(get, path = "/api/v1/customers/{id}/relations", tag = "relations", params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Vec<Relation>), (status = 404, body = ErrorBody)))]
pub async fn list_relations(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Vec<Relation>>, ApiError> {
    Ok(Json(uc::list_relations(&st.store, &auth.actor, id).await?))
}

/// Relate this customer to another.
#[utoipa::path(post, path = "/api/v1/customers/{id}/relations", tag = "relations", params(("id" = i64, Path, description = "Customer id")), request_body = NewRelation,
    responses((status = 201, body = Relation), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_relation(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(r): JsonBody<NewRelation>,
) -> Result<(StatusCode, Json<Relation>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::add_relation(&st.store, &auth.actor, id, r).await?),
    ))
}

/// Remove a relation.
#[utoipa::path(delete, path = "/api/v1/relations/{id}", tag = "relations", params(("id" = i64, Path, description = "Relation id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_relation(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    uc::delete_relation(&st.store, &auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
