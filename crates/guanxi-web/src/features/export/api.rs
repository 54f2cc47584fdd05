//! Export approvals over the API: the requests, the decision, the threshold. (The files
//! themselves are downloaded from the pages, which carry the list's filters.)

use axum::extract::State;
use axum::Json;
use guanxi_app::export::approval as uc;
use guanxi_store::export::{ExportPolicy, ExportRequest};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId};
use crate::state::AppState;

/// Export requests the caller sees: their own; an approver's: everyone's. Newest first.
#[utoipa::path(get, path = "/api/v1/exports", tag = "export",
    responses((status = 200, body = Vec<ExportRequest>), (status = 403, body = ErrorBody)))]
pub async fn requests(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ExportRequest>>, ApiError> {
    Ok(Json(uc::requests(&st.store, &auth.actor).await?))
}

/// An approver's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Approve (one download for the requester) or reject.
    pub approve: bool,
    /// A note for the requester.
    #[serde(default)]
    pub note: Option<String>,
}

/// Approve or reject a pending export request (managers and admins; never one's own).
#[utoipa::path(post, path = "/api/v1/exports/{id}/decision", tag = "export", request_body = Decision,
    params(("id" = i64, Path, description = "Export request id", minimum = 1)),
    responses((status = 200, body = ExportRequest), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(d): JsonBody<Decision>,
) -> Result<Json<ExportRequest>, ApiError> {
    Ok(Json(
        uc::decide(&st.store, &auth.actor, id, d.approve, d.note.as_deref()).await?,
    ))
}

/// The shop's export policy: exports of more customers than the threshold need approval.
#[utoipa::path(get, path = "/api/v1/export-policy", tag = "export",
    responses((status = 200, body = ExportPolicy), (status = 403, body = ErrorBody)))]
pub async fn policy(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<ExportPolicy>, ApiError> {
    Ok(Json(uc::policy(&st.store, &auth.actor).await?))
}

/// A new threshold, at the policy's version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Customers one export may hold without approval (0–10,000,000).
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub approval_threshold: i64,
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

/// Set the threshold (admins), audited.
#[utoipa::path(put, path = "/api/v1/export-policy", tag = "export", request_body = PolicyInput,
    responses((status = 200, body = ExportPolicy), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_policy(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<PolicyInput>,
) -> Result<Json<ExportPolicy>, ApiError> {
    Ok(Json(
        uc::set_policy(&st.store, &auth.actor, p.approval_threshold, p.version).await?,
    ))
}
