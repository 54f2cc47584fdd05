//! Data-subject requests over the API (admins): everything held about a customer as one file,
//! and erasure. The 360 page offers the same two actions through the same functions.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use guanxi_domain::role::Permission;
use guanxi_store::privacy::ErasureReport;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::i18n::Locale;
use crate::state::AppState;
use guanxi_app::export::{customer_dossier, DossierFormat};

/// The file format of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DossierQuery {
    /// `json` (default) or `xlsx`.
    pub format: Option<String>,
}

/// Everything held about a customer (profile, contact points, relations, orders with lines,
/// interactions, tasks, scores, audit entries about them), unmasked, as JSON or xlsx. Admins
/// only; audited.
#[utoipa::path(get, path = "/api/v1/customers/{id}/export", tag = "customers", params(("id" = i64, Path, description = "Customer id"), DossierQuery),
    responses((status = 200, description = "The file (application/json or xlsx)", content_type = "application/json", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_customer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(q): QueryParams<DossierQuery>,
) -> Result<Response, ApiError> {
    auth.require(Permission::DataSubjectRights)?;
    let format = DossierFormat::parse(q.format.as_deref()).map_err(|e| ApiError::BadQuery(e.0))?;
    let locale = Locale::from_code(&auth.user.locale).unwrap_or(Locale::ZhCn);
    Ok(crate::download::file(
        customer_dossier(&st.store, &auth.actor, locale, id, format).await?,
    ))
}

/// Why a customer is erased.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The request or the legal ground ("书面申请 2026-12-01"); kept in the audit log.
    pub reason: String,
}

/// Erase a customer at their request: the record and its contact points are anonymised,
/// interactions and tasks lose their text, relations and scores go, audit entries keep who did
/// what but lose the values; orders stay for the books under the anonymous record. Cannot be
/// undone. Admins only; audited with the reason.
#[utoipa::path(post, path = "/api/v1/customers/{id}/erase", tag = "customers", params(("id" = i64, Path, description = "Customer id")), request_body = EraseRequest,
    responses((status = 200, body = ErasureReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn erase_customer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(r): JsonBody<EraseRequest>,
) -> Result<Json<ErasureReport>, ApiError> {
    Ok(Json(
        guanxi_app::privacy::erase_customer(&st.store, &auth.actor, id, &r.reason).await?,
    ))
}
