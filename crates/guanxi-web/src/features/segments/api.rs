//! Saved segments over the API: list with sizes, create, change, delete, preview a rule's size
//! and export a segment's customers. Sizes are always the caller's: a rep sees how many of *his*
//! customers match, a manager the whole book's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use guanxi_app::segments as uc;
use guanxi_domain::segment::{SegmentInput, SegmentRule};
use guanxi_store::segments::Segment;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::features::customers::api::VersionQuery;
use crate::state::AppState;

/// The segment routes (with their OpenAPI operations).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(preview))
        .routes(routes!(get_segment, update_segment, delete_segment))
        .routes(routes!(export_segment))
}

/// A segment with its size for the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentView {
    /// The saved segment.
    #[serde(flatten)]
    pub segment: Segment,
    /// Customers in the caller's scope who match: now, or when `size_counted_at` says.
    pub size: i64,
    /// When the size was counted ahead (the list of segments reads the sizes the background
    /// job counted while they are newer than the segment's last change); `null`: counted for
    /// this request.
    pub size_counted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A rule to size without saving it (the editor's preview).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The rule.
    pub rule: SegmentRule,
}

/// The size of a rule.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreviewResponse {
    /// Customers in the caller's scope who match.
    pub size: i64,
}

/// A change to a segment, guarded by the version last read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SegmentUpdate {
    /// Version last read; a stale one is a 409.
    pub version: i64,
    /// The new name, description and rule.
    #[serde(flatten)]
    pub input: SegmentInput,
}

fn view((segment, size): (Segment, i64)) -> SegmentView {
    SegmentView {
        segment,
        size,
        size_counted_at: None,
    }
}

/// Every saved segment with its size for the caller: counted ahead by the background job
/// (`size_counted_at`) or, for a segment changed since, now.
#[utoipa::path(get, path = "/api/v1/segments", tag = "segments",
    responses((status = 200, body = Vec<SegmentView>), (status = 401, body = ErrorBody)))]
pub async fn list_segments(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SegmentView>>, ApiError> {
    let all = uc::list_segments(&st.store, st.as_of(), &auth.actor).await?;
    Ok(Json(
        all.into_iter()
            .map(|(segment, s)| SegmentView {
                segment,
                size: s.size,
                size_counted_at: s.counted_at,
            })
            .collect(),
    ))
}

/// Save a segment (marketing, managers, admins). Every bad clause is named in `fields`
/// (`rule.clauses[2].value`).
#[utoipa::path(post, path = "/api/v1/segments", tag = "segments", request_body = SegmentInput,
    responses((status = 201, body = SegmentView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_segment(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(input): JsonBody<SegmentInput>,
) -> Result<(StatusCode, Json<SegmentView>), ApiError> {
    let seg = uc::create_segment(&st.store, st.as_of(), &auth.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(view(seg))))
}

/// Size a rule without saving it.
#[utoipa::path(post, path = "/api/v1/segments/preview", tag = "segments", request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let size = uc::preview(&st.store, st.as_of(), &auth.actor, &p.rule).await?;
    Ok(Json(PreviewResponse { size }))
}

/// One segment with its size.
#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = i64, Path, description = "Segment id")),
    responses((status = 200, body = SegmentView), (status = 404, body = ErrorBody)))]
pub async fn get_segment(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<SegmentView>, ApiError> {
    Ok(Json(view(
        uc::get_sized(&st.store, st.as_of(), &auth.actor, id).await?,
    )))
}

/// Change a segment; `version` must match, else 409.
#[utoipa::path(put, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = i64, Path, description = "Segment id")),
    request_body = SegmentUpdate,
    responses((status = 200, body = SegmentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_segment(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<SegmentUpdate>,
) -> Result<Json<SegmentView>, ApiError> {
    let seg =
        uc::update_segment(&st.store, st.as_of(), &auth.actor, id, u.version, &u.input).await?;
    Ok(Json(view(seg)))
}

/// Delete a segment.
#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = i64, Path, description = "Segment id"), VersionQuery),
    responses((status = 204), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_segment(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(v): QueryParams<VersionQuery>,
) -> Result<StatusCode, ApiError> {
    uc::delete_segment(&st.store, &auth.actor, id, v.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The segment's customers in the caller's scope as CSV (audited with the row count; ID
/// numbers masked unless the caller may see them). A segment larger than the shop's export
/// threshold is refused (422 `needs_approval`): it is exported from the customer list, which
/// asks a manager's approval.
#[utoipa::path(get, path = "/api/v1/segments/{id}/export", tag = "segments", params(("id" = i64, Path, description = "Segment id")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export_segment(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let locale =
        crate::i18n::Locale::from_code(&auth.user.locale).unwrap_or(crate::i18n::Locale::ZhCn);
    let (name, body) = uc::export_csv(&st.store, st.as_of(), &auth.actor, locale, id).await?;
    Ok(crate::download::csv(&name, body))
}
