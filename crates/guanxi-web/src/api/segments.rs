//! Saved segments over the API: list with sizes, create, change, delete, preview a rule's size
//! and export a segment's customers. Sizes are always the caller's: a rep sees how many of *his*
//! customers match, a manager the whole book's.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use guanxi_domain::role::Permission;
use guanxi_domain::segment::{SegmentFilter, SegmentInput, SegmentRule};
use guanxi_store::customers::CustomerFilter;
use guanxi_store::segments::Segment;
use serde::{Deserialize, Serialize};

use crate::api::customers::VersionQuery;
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// A segment with its size for the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentView {
    /// The saved segment.
    #[serde(flatten)]
    pub segment: Segment,
    /// Customers in the caller's scope who match now.
    pub size: i64,
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

/// A rule's errors as a 422 with paths under `rule` (`rule.clauses[2].value`).
fn rule_errors(e: guanxi_domain::ValidationErrors) -> ApiError {
    ApiError::Validation(e.0.into_iter().map(|x| x.under("rule")).collect())
}

/// Resolves a saved segment's rule now. A rule saved by an older version that no longer
/// resolves is reported as a validation error under `rule`, not as a server error.
pub async fn resolve_saved(st: &AppState, id: i64) -> Result<(Segment, SegmentFilter), ApiError> {
    let seg = st.store.get_segment(id).await?;
    let f = seg.rule.resolve(st.as_of()).map_err(rule_errors)?;
    Ok((seg, f))
}

/// What a customer list is narrowed to: a saved segment, an ad-hoc rule (JSON, as a chart's
/// click-through sends it), or both at once (both must hold). One place for the page and the
/// API, so `/customers?rule=…` means the same in both. Problems are query errors (400) naming
/// `segment_id` or the rule's clause (`rule.clauses[0].value`).
pub async fn list_narrowing(
    st: &AppState,
    segment_id: Option<i64>,
    rule_json: Option<&str>,
) -> Result<ListNarrowing, ApiError> {
    let saved = match segment_id {
        Some(id) => Some(resolve_saved(st, id).await.map_err(|e| match e {
            ApiError::NotFound => ApiError::BadQuery(vec![guanxi_domain::ValidationError::new(
                "segment_id",
                "invalid_reference",
            )]),
            other => other.in_query(),
        })?),
        None => None,
    };
    let rule = match rule_json {
        Some(s) => Some(serde_json::from_str::<SegmentRule>(s).map_err(|_| {
            ApiError::BadQuery(vec![guanxi_domain::ValidationError::new(
                "rule",
                "malformed_json",
            )])
        })?),
        None => None,
    };
    let filter = match &rule {
        None => saved.as_ref().map(|s| s.1.clone()),
        Some(rule) => {
            let rule = match &saved {
                Some((seg, _)) => SegmentRule::all_of(vec![seg.rule.clone(), rule.clone()]),
                None => rule.clone(),
            };
            Some(
                rule.resolve(st.as_of())
                    .map_err(|e| rule_errors(e).in_query())?,
            )
        }
    };
    Ok(ListNarrowing {
        segment: saved.map(|s| s.0),
        rule,
        filter,
    })
}

/// A customer list's saved segment and ad-hoc rule, and the filter they make together.
pub struct ListNarrowing {
    /// The saved segment, for its name and link.
    pub segment: Option<Segment>,
    /// The ad-hoc rule, to say in words.
    pub rule: Option<SegmentRule>,
    /// Both together, for the store.
    pub filter: Option<SegmentFilter>,
}

/// The size of a saved segment for a reader; `None` when its rule no longer resolves (saved by
/// an older version), so a list of segments still shows the others.
pub async fn size_for(
    st: &AppState,
    actor: &guanxi_domain::role::Actor,
    seg: &Segment,
) -> Result<Option<i64>, ApiError> {
    match seg.rule.resolve(st.as_of()) {
        Ok(f) => Ok(Some(st.store.segment_size(actor, &f).await?)),
        Err(_) => Ok(None),
    }
}

async fn view(st: &AppState, auth: &Auth, seg: Segment) -> Result<SegmentView, ApiError> {
    let f = seg.rule.resolve(st.as_of()).map_err(rule_errors)?;
    let size = st.store.segment_size(&auth.actor, &f).await?;
    Ok(SegmentView { segment: seg, size })
}

/// Every saved segment with its current size for the caller.
#[utoipa::path(get, path = "/api/v1/segments", tag = "segments",
    responses((status = 200, body = Vec<SegmentView>), (status = 401, body = ErrorBody)))]
pub async fn list_segments(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SegmentView>>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    let mut out = Vec::new();
    for seg in st.store.list_segments().await? {
        out.push(view(&st, &auth, seg).await?);
    }
    Ok(Json(out))
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
    auth.require(Permission::ManageSegments)?;
    let seg = st
        .store
        .create_segment(&auth.actor, &input, st.as_of())
        .await?;
    Ok((StatusCode::CREATED, Json(view(&st, &auth, seg).await?)))
}

/// Size a rule without saving it.
#[utoipa::path(post, path = "/api/v1/segments/preview", tag = "segments", request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    let f = p.rule.resolve(st.as_of()).map_err(rule_errors)?;
    let size = st.store.segment_size(&auth.actor, &f).await?;
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
    auth.require(Permission::ReadCustomers)?;
    let seg = st.store.get_segment(id).await?;
    Ok(Json(view(&st, &auth, seg).await?))
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
    auth.require(Permission::ManageSegments)?;
    let seg = st
        .store
        .update_segment(&auth.actor, id, u.version, &u.input, st.as_of())
        .await?;
    Ok(Json(view(&st, &auth, seg).await?))
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
    auth.require(Permission::ManageSegments)?;
    st.store.delete_segment(&auth.actor, id, v.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The segment's customers in the caller's scope as CSV (audited with the row count; ID
/// numbers masked unless the caller may see them).
#[utoipa::path(get, path = "/api/v1/segments/{id}/export", tag = "segments", params(("id" = i64, Path, description = "Segment id")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_segment(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    auth.require(Permission::Export)?;
    let locale =
        crate::i18n::Locale::from_code(&auth.user.locale).unwrap_or(crate::i18n::Locale::ZhCn);
    segment_csv(&st, &auth.actor, locale, id).await
}

/// A saved segment's customers in the reader's scope as a CSV download (the page and the API
/// both serve this); the export is audited with its row count.
pub async fn segment_csv(
    st: &AppState,
    actor: &guanxi_domain::role::Actor,
    locale: crate::i18n::Locale,
    id: i64,
) -> Result<Response, ApiError> {
    let (seg, f) = resolve_saved(st, id).await?;
    let filter = CustomerFilter {
        segment: Some(f),
        ..Default::default()
    };
    let body =
        crate::export::customers_csv(st, actor, locale, &filter, "segment", Some(id)).await?;
    Ok(csv_response(&seg.name, body))
}

/// A CSV download named after what it holds (RFC 6266 `filename*` for Chinese names).
pub fn csv_response(name: &str, body: Vec<u8>) -> Response {
    let date = chrono::Utc::now().format("%Y%m%d");
    let encoded: String = format!("{name}-{date}.csv")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"segment-{date}.csv\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        body,
    )
        .into_response()
}
