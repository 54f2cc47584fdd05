//! Custom fields over the API: what fields an entity has (any reader of the entity: a client
//! needs the codes and kinds to send values), and the admin's definitions, archive and
//! presets. Values themselves travel in each record's `custom` object.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_app::custom_field as uc;
use guanxi_domain::custom_field::{FieldDefinition, FieldEntity, FieldInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Which entity's fields.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntityQuery {
    /// `customer` (the default), `opportunity` or `ticket`.
    pub entity: Option<FieldEntity>,
    /// Admins: archived fields too.
    pub archived: Option<bool>,
}

/// The live fields of an entity the caller sees (with `archived=true`, an admin gets every
/// definition, archived ones included).
#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "custom-fields", params(EntityQuery),
    responses((status = 200, body = Vec<FieldDefinition>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<EntityQuery>,
) -> Result<Json<Vec<FieldDefinition>>, ApiError> {
    let entity = q.entity.unwrap_or(FieldEntity::Customer);
    Ok(Json(if q.archived == Some(true) {
        uc::list_fields(&st.store, &auth.actor, entity).await?
    } else {
        uc::visible_fields(&st.store, &auth.actor, entity).await?
    }))
}

/// Define a field (admins). Its code, entity and kind are fixed once created.
#[utoipa::path(post, path = "/api/v1/custom-fields", tag = "custom-fields", request_body = FieldInput,
    responses((status = 201, body = FieldDefinition), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(input): JsonBody<FieldInput>,
) -> Result<(StatusCode, Json<FieldDefinition>), ApiError> {
    let f = uc::create_field(&st.store, &auth.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(f)))
}

/// One definition (admins).
#[utoipa::path(get, path = "/api/v1/custom-fields/{id}", tag = "custom-fields",
    params(("id" = i64, Path, description = "Field id", minimum = 1)),
    responses((status = 200, body = FieldDefinition), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<FieldDefinition>, ApiError> {
    Ok(Json(uc::get_field(&st.store, &auth.actor, id).await?))
}

/// A change to a definition at the version last read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FieldUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The definition (entity, code and kind as created).
    #[serde(flatten)]
    pub input: FieldInput,
}

/// Change labels, choices (existing codes stay), required, visibility, sensitivity, place.
#[utoipa::path(put, path = "/api/v1/custom-fields/{id}", tag = "custom-fields", request_body = FieldUpdate,
    params(("id" = i64, Path, description = "Field id", minimum = 1)),
    responses((status = 200, body = FieldDefinition), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<FieldUpdate>,
) -> Result<Json<FieldDefinition>, ApiError> {
    Ok(Json(
        uc::update_field(&st.store, &auth.actor, id, u.version, &u.input).await?,
    ))
}

/// Archive or restore, at the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveInput {
    /// True archives (values stay; the field leaves forms, lists, filters and imports).
    pub archived: bool,
    /// Version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

/// Archive a field or bring it back (admins), audited.
#[utoipa::path(post, path = "/api/v1/custom-fields/{id}/archive", tag = "custom-fields", request_body = ArchiveInput,
    params(("id" = i64, Path, description = "Field id", minimum = 1)),
    responses((status = 200, body = FieldDefinition), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn archive(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(a): JsonBody<ArchiveInput>,
) -> Result<Json<FieldDefinition>, ApiError> {
    Ok(Json(
        uc::archive_field(&st.store, &auth.actor, id, a.version, a.archived).await?,
    ))
}

/// How many preset fields were added.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetsAdded {
    /// Presets defined now (those already defined by code are left alone).
    pub added: usize,
}

/// Switch on the seeds' customer-file presets (籍贯, health, religion …) not yet defined.
#[utoipa::path(post, path = "/api/v1/custom-fields/presets", tag = "custom-fields",
    responses((status = 200, body = PresetsAdded), (status = 403, body = ErrorBody)))]
pub async fn presets(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<PresetsAdded>, ApiError> {
    Ok(Json(PresetsAdded {
        added: uc::add_presets(&st.store, &auth.actor).await?,
    }))
}

/// A record's custom-field values by code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordValues {
    /// Values by field code (see `GET /api/v1/custom-fields?entity=…` for the fields and
    /// `CustomerFields::custom` for the shapes); on a change, `null` clears one and absent
    /// ones stay.
    #[schema(value_type = Object)]
    pub values: std::collections::BTreeMap<String, serde_json::Value>,
}

/// An opportunity's custom-field values (sensitive ones masked without the permission).
#[utoipa::path(get, path = "/api/v1/opportunities/{id}/custom", tag = "custom-fields",
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = RecordValues), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn opportunity_values(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<RecordValues>, ApiError> {
    let (_, values) =
        uc::record_values(&st.store, &auth.actor, FieldEntity::Opportunity, id).await?;
    Ok(Json(RecordValues { values }))
}

/// Set an opportunity's custom-field values.
#[utoipa::path(put, path = "/api/v1/opportunities/{id}/custom", tag = "custom-fields", request_body = RecordValues,
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = RecordValues), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_opportunity_values(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(v): JsonBody<RecordValues>,
) -> Result<Json<RecordValues>, ApiError> {
    let values = uc::set_record_values(
        &st.store,
        &auth.actor,
        FieldEntity::Opportunity,
        id,
        &v.values,
    )
    .await?;
    Ok(Json(RecordValues { values }))
}

/// A ticket's custom-field values (sensitive ones masked without the permission).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/custom", tag = "custom-fields",
    params(("id" = i64, Path, description = "Ticket id", minimum = 1)),
    responses((status = 200, body = RecordValues), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ticket_values(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<RecordValues>, ApiError> {
    let (_, values) = uc::record_values(&st.store, &auth.actor, FieldEntity::Ticket, id).await?;
    Ok(Json(RecordValues { values }))
}

/// Set a ticket's custom-field values.
#[utoipa::path(put, path = "/api/v1/tickets/{id}/custom", tag = "custom-fields", request_body = RecordValues,
    params(("id" = i64, Path, description = "Ticket id", minimum = 1)),
    responses((status = 200, body = RecordValues), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_ticket_values(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(v): JsonBody<RecordValues>,
) -> Result<Json<RecordValues>, ApiError> {
    let values =
        uc::set_record_values(&st.store, &auth.actor, FieldEntity::Ticket, id, &v.values).await?;
    Ok(Json(RecordValues { values }))
}

/// The API's `cf` parameter, a JSON object by field code (`{"level": "gold", "vip": true}`),
/// as `(code, value)` pairs; anything but an object is a query problem naming `cf`.
fn query_pairs(cf: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(json) = cf else {
        return Ok(Vec::new());
    };
    let pairs: std::collections::BTreeMap<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|_| {
        ApiError::BadQuery(vec![guanxi_domain::ValidationError::new(
            "cf",
            "malformed_json",
        )])
    })?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

/// The filters an API list's `cf` parameter asks for on `entity`, checked for the caller.
pub async fn list_filters(
    st: &AppState,
    actor: &guanxi_domain::role::Actor,
    entity: FieldEntity,
    cf: Option<&str>,
) -> Result<Vec<(String, guanxi_domain::segment::CustomTest)>, ApiError> {
    let pairs = query_pairs(cf)?;
    Ok(guanxi_app::custom_field::list_filters(&st.store, actor, entity, &pairs).await?)
}
