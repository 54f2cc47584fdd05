//! Leads over the API: enter, list, read with what they may already be, qualify, convert,
//! disqualify, reopen, import; and the capture forms.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_app::lead as uc;
use guanxi_domain::lead::{ConvertInput, DisqualifyInput, LeadInput, LeadOrigin};
use guanxi_store::duplicates::DuplicateCandidate;
use guanxi_store::lead::{Lead, LeadForm, LeadPage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Which leads.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// One status: `new`, `qualified`, `converted` or `disqualified`.
    pub status: Option<String>,
    /// `mine` (the caller's own) or `pool` (nobody's yet).
    pub owner: Option<String>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
}

/// Leads the caller sees (their own, their team's and the unassigned pool), newest first.
#[utoipa::path(get, path = "/api/v1/leads", tag = "lead", params(LeadQuery),
    responses((status = 200, body = LeadPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<LeadQuery>,
) -> Result<Json<LeadPage>, ApiError> {
    let f = uc::filter_of(q.status.as_deref(), q.owner.as_deref(), q.before.as_deref())
        .map_err(guanxi_app::AppError::InvalidQuery)?;
    Ok(Json(uc::list(&st.store, &auth.actor, &f).await?))
}

/// Enter a lead (a name or a company, and a mobile, email or WeChat id).
#[utoipa::path(post, path = "/api/v1/leads", tag = "lead", request_body = LeadInput,
    responses((status = 201, body = Lead), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(l): JsonBody<LeadInput>,
) -> Result<(StatusCode, Json<Lead>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create(&st.store, &auth.actor, &l, LeadOrigin::Api).await?),
    ))
}

/// Many leads at once, all or none (at most 5,000; problems named `rows[<n>].<field>`).
#[utoipa::path(post, path = "/api/v1/leads/import", tag = "lead", request_body = Vec<LeadInput>,
    responses((status = 201, body = Vec<i64>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(rows): JsonBody<Vec<LeadInput>>,
) -> Result<(StatusCode, Json<Vec<i64>>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::import(&st.store, &auth.actor, &rows).await?),
    ))
}

/// One lead.
#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "lead",
    params(("id" = i64, Path, description = "Lead id", minimum = 1)),
    responses((status = 200, body = Lead), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Lead>, ApiError> {
    Ok(Json(uc::get(&st.store, &auth.actor, id).await?))
}

/// What a lead may already be.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadMatches {
    /// Customers the caller sees with the same mobile, email or WeChat id.
    pub customers: Vec<DuplicateCandidate>,
    /// The same person's other open leads.
    pub leads: Vec<Lead>,
}

/// Customers and open leads that share a lead's mobile, email or WeChat id.
#[utoipa::path(get, path = "/api/v1/leads/{id}/matches", tag = "lead",
    params(("id" = i64, Path, description = "Lead id", minimum = 1)),
    responses((status = 200, body = LeadMatches), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn matches(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<LeadMatches>, ApiError> {
    let lead = uc::get(&st.store, &auth.actor, id).await?;
    let (customers, leads) = uc::matches(&st.store, &auth.actor, &lead).await?;
    Ok(Json(LeadMatches { customers, leads }))
}

/// The version a state change was made at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

/// Qualify a new lead (the caller takes it when nobody owned it).
#[utoipa::path(post, path = "/api/v1/leads/{id}/qualify", tag = "lead", request_body = VersionBody,
    params(("id" = i64, Path, description = "Lead id", minimum = 1)),
    responses((status = 200, body = Lead), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn qualify(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(v): JsonBody<VersionBody>,
) -> Result<Json<Lead>, ApiError> {
    Ok(Json(
        uc::qualify(&st.store, &auth.actor, id, v.version).await?,
    ))
}

/// Drop an open lead with a reason (`other` needs a note).
#[utoipa::path(post, path = "/api/v1/leads/{id}/disqualify", tag = "lead", request_body = DisqualifyInput,
    params(("id" = i64, Path, description = "Lead id", minimum = 1)),
    responses((status = 200, body = Lead), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn disqualify(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(d): JsonBody<DisqualifyInput>,
) -> Result<Json<Lead>, ApiError> {
    Ok(Json(uc::disqualify(&st.store, &auth.actor, id, &d).await?))
}

/// Take a disqualified lead back.
#[utoipa::path(post, path = "/api/v1/leads/{id}/reopen", tag = "lead", request_body = VersionBody,
    params(("id" = i64, Path, description = "Lead id", minimum = 1)),
    responses((status = 200, body = Lead), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reopen(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(v): JsonBody<VersionBody>,
) -> Result<Json<Lead>, ApiError> {
    Ok(Json(
        uc::reopen(&st.store, &auth.actor, id, v.version).await?,
    ))
}

/// Convert an open lead into a customer (an existing one named by `customer_id`, or a new
/// one — 409 with the candidates when it looks like a customer the caller sees, unless
/// `allow_duplicate`) and, when asked, a deal.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", tag = "lead", request_body = ConvertInput,
    params(("id" = i64, Path, description = "Lead id", minimum = 1)),
    responses((status = 200, body = Lead), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn convert(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(c): JsonBody<ConvertInput>,
) -> Result<Json<Lead>, ApiError> {
    Ok(Json(uc::convert(&st.store, &auth.actor, id, &c).await?))
}

/// A new capture form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadFormInput {
    /// Its name (the form's title, 1–80 characters).
    pub name: String,
    /// The source its leads carry.
    #[serde(default)]
    pub source: Option<String>,
    /// The campaign they answer.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub campaign_id: Option<i64>,
    /// The rep they go to (none: the pool).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub owner_id: Option<i64>,
}

/// The capture forms.
#[utoipa::path(get, path = "/api/v1/lead-forms", tag = "lead",
    responses((status = 200, body = Vec<LeadForm>), (status = 403, body = ErrorBody)))]
pub async fn forms(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<LeadForm>>, ApiError> {
    Ok(Json(uc::forms(&st.store, &auth.actor).await?))
}

/// Add a capture form; its public page is `/f/<public_key>`.
#[utoipa::path(post, path = "/api/v1/lead-forms", tag = "lead", request_body = LeadFormInput,
    responses((status = 201, body = LeadForm), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_form(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(f): JsonBody<LeadFormInput>,
) -> Result<(StatusCode, Json<LeadForm>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            uc::create_form(
                &st.store,
                &auth.actor,
                &f.name,
                f.source.as_deref(),
                f.campaign_id,
                f.owner_id,
            )
            .await?,
        ),
    ))
}
