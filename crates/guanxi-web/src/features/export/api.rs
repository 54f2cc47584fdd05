//! Exports over the API: the customer list as a file (the list API's own query selects it),
//! and above the threshold the request, the decision, the one download an approval allows;
//! the threshold itself.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use guanxi_app::export::approval::{self as uc, CustomerExport, ExportAsk};
use guanxi_app::export::{ExportFormat, API_QUERY};
use guanxi_store::export::{ExportPolicy, ExportRequest};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::features::customers::api::{filter_of, ListQuery};
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

/// What to export: the columns, the format and — above the threshold — why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportInput {
    /// Column codes as the export form offers them (`name`, `mobile`, `city`, `cf.<code>` …);
    /// empty: all.
    #[serde(default)]
    pub columns: Vec<String>,
    /// `csv` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
    /// Why the export is needed: required when more customers match than the threshold.
    #[serde(default)]
    pub reason: Option<String>,
}

fn locale_of(auth: &Auth) -> crate::i18n::Locale {
    crate::i18n::Locale::from_code(&auth.user.locale).unwrap_or(crate::i18n::Locale::ZhCn)
}

/// Export the customers the query selects (the same parameters as `GET /api/v1/customers`):
/// the file at once when they are within the threshold; above it, a request for a manager's
/// approval (202, `reason` required), whose one download is `GET /api/v1/exports/{id}/file`.
/// Masked, formula-safe and audited like an export from the pages.
#[utoipa::path(post, path = "/api/v1/customers/export", tag = "export", params(ListQuery),
    request_body = ExportInput,
    responses((status = 200, description = "The file (CSV or xlsx)", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 202, body = ExportRequest), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export_customers(
    State(st): State<AppState>,
    auth: Auth,
    RawQuery(raw): RawQuery,
    QueryParams(q): QueryParams<ListQuery>,
    JsonBody(input): JsonBody<ExportInput>,
) -> Result<Response, ApiError> {
    let format =
        ExportFormat::parse(input.format.as_deref()).map_err(guanxi_app::AppError::from)?;
    let filter = filter_of(&st, &auth.actor, q).await?;
    let query = format!("{API_QUERY}{}", raw.unwrap_or_default());
    let ask = ExportAsk {
        filter: &filter,
        query: &query,
        columns: input.columns,
        format,
        reason: input.reason.as_deref(),
    };
    match uc::export_customers(&st.store, &auth.actor, locale_of(&auth), ask).await? {
        CustomerExport::File(d) => Ok(crate::download::file(d)),
        CustomerExport::Requested(r) => Ok((StatusCode::ACCEPTED, Json(r)).into_response()),
    }
}

/// The one download an approved request allows its requester, watermarked on every row with
/// the requester, the request and the time; the admins are told. A request made from the
/// pages is downloaded there (`made_on_page`).
#[utoipa::path(get, path = "/api/v1/exports/{id}/file", tag = "export",
    params(("id" = i64, Path, description = "Export request id", minimum = 1)),
    responses((status = 200, description = "The file (CSV or xlsx)", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let r = uc::request(&st.store, &auth.actor, id).await?;
    let Some(query) = r.query.strip_prefix(API_QUERY) else {
        return Err(ApiError::Validation(
            guanxi_domain::ValidationErrors::single("id", "made_on_page").0,
        ));
    };
    let q: ListQuery = serde_urlencoded::from_str(query).map_err(|_| {
        ApiError::Validation(guanxi_domain::ValidationErrors::single("query", "unknown_value").0)
    })?;
    let filter = filter_of(&st, &auth.actor, q).await?;
    let d = uc::download_approved(&st.store, &auth.actor, locale_of(&auth), id, &filter).await?;
    Ok(crate::download::file(d))
}
