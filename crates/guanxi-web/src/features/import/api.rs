//! Imports over the API: upload a file, set its mapping and choices, dry-run it, start it,
//! follow it, undo it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_app::import::{self as uc, ImportStatus, Preview, SettingsInput};
use guanxi_domain::ValidationErrors;
use guanxi_store::import::{ImportBatch, ImportPolicy, UndoCounts};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, Upload};
use crate::state::AppState;

/// The multipart form of an upload (documentation of the body; the handler reads it part by
/// part).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportUploadForm {
    /// The file: CSV (UTF-8, GBK/GB18030 or UTF-16), xlsx, xls or ods, at most 20 MB and
    /// 200,000 rows, with a header row.
    #[schema(value_type = String, format = Binary)]
    pub file: String,
    /// What the file holds: `customers` (the default) or `orders` (one row per order line,
    /// rows sharing an order number being one order; needs `WriteOrders` too).
    #[serde(default)]
    pub entity: Option<String>,
}

/// Imports the caller sees (their own; an admin's: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "import",
    responses((status = 200, body = Vec<ImportBatch>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ImportBatch>>, ApiError> {
    Ok(Json(uc::list(&st.store, &auth.actor).await?))
}

/// Upload a file for an import of customers or of orders with their lines; its columns are mapped by suggestion (by header in
/// Chinese or English, then by content) until the settings say otherwise. Nothing is imported
/// until it is started.
#[utoipa::path(post, path = "/api/v1/imports", tag = "import",
    request_body(content = ImportUploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportBatch), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(st): State<AppState>,
    auth: Auth,
    up: Upload,
) -> Result<(StatusCode, Json<ImportBatch>), ApiError> {
    let Some((name, bytes)) = up.files.first() else {
        return Err(ApiError::Validation(
            ValidationErrors::single("file", "required").0,
        ));
    };
    let entity = up
        .fields
        .iter()
        .find(|(k, _)| k == "entity")
        .map_or("customers", |(_, v)| v.as_str());
    let b = uc::upload(
        &st.store,
        &auth.actor,
        (name, bytes),
        entity,
        st.utc_offset_hours,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(b)))
}

/// An import: its settings, status, counts and, while it runs, its progress.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "import",
    params(("id" = i64, Path, description = "Import id", minimum = 1)),
    responses((status = 200, body = ImportStatus), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<ImportStatus>, ApiError> {
    Ok(Json(uc::status(&st.store, &auth.actor, id).await?))
}

/// Set the sheet, the column mapping (`mapping[i]` is the field column i fills, or null),
/// what to do with duplicates (by default and per file line) and with invalid rows.
#[utoipa::path(put, path = "/api/v1/imports/{id}/settings", tag = "import", request_body = SettingsInput,
    params(("id" = i64, Path, description = "Import id", minimum = 1)),
    responses((status = 200, body = ImportBatch), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn settings(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(b): JsonBody<SettingsInput>,
) -> Result<Json<ImportBatch>, ApiError> {
    Ok(Json(
        uc::save_settings(&st.store, &auth.actor, id, &b).await?,
    ))
}

/// Dry run: the first rows as they will be stored, every problem by line and column, the
/// rows that match existing customers (or earlier rows) with the choice for each, and what
/// the run would create, update and skip. Nothing is written.
#[utoipa::path(get, path = "/api/v1/imports/{id}/preview", tag = "import",
    params(("id" = i64, Path, description = "Import id", minimum = 1)),
    responses((status = 200, body = Preview), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Preview>, ApiError> {
    Ok(Json(uc::preview(&st.store, &auth.actor, id).await?))
}

/// The rows' problems as a workbook: line, column, problem in the caller's language and the row
/// as in the file (audited; formula-safe).
#[utoipa::path(get, path = "/api/v1/imports/{id}/report", tag = "import",
    params(("id" = i64, Path, description = "Import id", minimum = 1)),
    responses((status = 200, description = "The problem report (xlsx)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<axum::response::Response, ApiError> {
    let locale =
        crate::i18n::Locale::from_code(&auth.user.locale).unwrap_or(crate::i18n::Locale::ZhCn);
    let d = uc::problem_report(&st.store, &auth.actor, locale, id).await?;
    Ok(crate::download::file(d))
}

/// Start the import in the background (once); follow it with `GET /api/v1/imports/{id}`.
#[utoipa::path(post, path = "/api/v1/imports/{id}/start", tag = "import",
    params(("id" = i64, Path, description = "Import id", minimum = 1)),
    responses((status = 202, body = ImportBatch), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn start(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<ImportBatch>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(uc::start(&st.store, &auth.actor, id).await?),
    ))
}

/// Undo a finished import within 7 days: the customers it created are deleted, the ones it
/// updated get their fields back; a customer changed since is kept as it is (counted).
#[utoipa::path(post, path = "/api/v1/imports/{id}/undo", tag = "import",
    params(("id" = i64, Path, description = "Import id", minimum = 1)),
    responses((status = 200, body = UndoCounts), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn undo(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<UndoCounts>, ApiError> {
    Ok(Json(uc::undo(&st.store, &auth.actor, id).await?))
}

/// Who besides managers and admins may import: sales reps into their own book, when the
/// admin allows.
#[utoipa::path(get, path = "/api/v1/import-policy", tag = "import",
    responses((status = 200, body = ImportPolicy)))]
pub async fn policy(
    State(st): State<AppState>,
    _auth: Auth,
) -> Result<Json<ImportPolicy>, ApiError> {
    Ok(Json(uc::policy(&st.store).await?))
}

/// A new import policy, at its version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportPolicyInput {
    /// Sales reps may import into their own book.
    pub sales_may_import: bool,
    /// The version last read.
    #[schema(minimum = 1)]
    pub version: i64,
}

/// Set the import policy (admins), audited.
#[utoipa::path(put, path = "/api/v1/import-policy", tag = "import", request_body = ImportPolicyInput,
    responses((status = 200, body = ImportPolicy), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_policy(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<ImportPolicyInput>,
) -> Result<Json<ImportPolicy>, ApiError> {
    Ok(Json(
        uc::set_policy(&st.store, &auth.actor, p.sales_may_import, p.version).await?,
    ))
}
