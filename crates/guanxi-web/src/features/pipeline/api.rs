//! The sales pipeline over the API: pipelines, the kanban, deals and their moves, the
//! weighted forecast.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use guanxi_app::pipeline as uc;
use guanxi_domain::pipeline::{MoveInput, OpportunityInput, PipelineInput};
use guanxi_store::pipeline::{
    Board, ForecastRow, LostReason, Opportunity, Pipeline, PipelineFigures, StageChange,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Every pipeline with its stages.
#[utoipa::path(get, path = "/api/v1/pipelines", tag = "pipeline",
    responses((status = 200, body = Vec<Pipeline>), (status = 403, body = ErrorBody)))]
pub async fn pipelines(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Pipeline>>, ApiError> {
    Ok(Json(uc::pipelines(&st.store, &auth.actor).await?))
}

/// Define a pipeline: its stages in order (at least one open, one won, one lost).
#[utoipa::path(post, path = "/api/v1/pipelines", tag = "pipeline", request_body = PipelineInput,
    responses((status = 201, body = Pipeline), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_pipeline(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<PipelineInput>,
) -> Result<(StatusCode, Json<Pipeline>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create_pipeline(&st.store, &auth.actor, &p).await?),
    ))
}

/// Change a pipeline at the version read: stored stages keep their ids, new ones are added,
/// those left out retire; a stage holding open deals keeps its kind and cannot retire.
#[utoipa::path(put, path = "/api/v1/pipelines/{id}", tag = "pipeline", request_body = PipelineInput,
    params(("id" = i64, Path, description = "Pipeline id", minimum = 1)),
    responses((status = 200, body = Pipeline), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_pipeline(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<PipelineInput>,
) -> Result<Json<Pipeline>, ApiError> {
    Ok(Json(
        uc::update_pipeline(&st.store, &auth.actor, id, &p).await?,
    ))
}

/// A new lost reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LostReasonInput {
    /// Name (1–40 characters), unique.
    pub name: String,
    /// English name.
    #[serde(default)]
    pub name_en: Option<String>,
    /// A loss for it needs a note.
    #[serde(default)]
    pub needs_note: bool,
}

/// Add a lost reason.
#[utoipa::path(post, path = "/api/v1/lost-reasons", tag = "pipeline", request_body = LostReasonInput,
    responses((status = 201, body = LostReason), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_lost_reason(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(r): JsonBody<LostReasonInput>,
) -> Result<(StatusCode, Json<LostReason>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            uc::create_lost_reason(
                &st.store,
                &auth.actor,
                &r.name,
                r.name_en.as_deref(),
                r.needs_note,
            )
            .await?,
        ),
    ))
}

/// Whether a lost reason is offered.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    /// Offered.
    pub active: bool,
}

/// Offer a lost reason again, or stop offering it (deals lost for it keep it).
#[utoipa::path(put, path = "/api/v1/lost-reasons/{id}", tag = "pipeline", request_body = ActiveBody,
    params(("id" = i64, Path, description = "Lost reason id", minimum = 1)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_lost_reason(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(b): JsonBody<ActiveBody>,
) -> Result<StatusCode, ApiError> {
    uc::set_lost_reason_active(&st.store, &auth.actor, id, b.active).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One pipeline.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}", tag = "pipeline",
    params(("id" = i64, Path, description = "Pipeline id", minimum = 1)),
    responses((status = 200, body = Pipeline), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pipeline(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Pipeline>, ApiError> {
    Ok(Json(uc::pipeline(&st.store, &auth.actor, id).await?))
}

/// A pipeline's kanban: per stage, the sums over the deals the caller sees and the most
/// recently changed cards.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}/board", tag = "pipeline",
    params(("id" = i64, Path, description = "Pipeline id", minimum = 1)),
    responses((status = 200, body = Board), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn board(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(uc::board(&st.store, &auth.actor, id).await?))
}

/// The reasons a deal can be lost for.
#[utoipa::path(get, path = "/api/v1/lost-reasons", tag = "pipeline",
    responses((status = 200, body = Vec<LostReason>), (status = 403, body = ErrorBody)))]
pub async fn lost_reasons(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<LostReason>>, ApiError> {
    Ok(Json(uc::lost_reasons(&st.store, &auth.actor).await?))
}

/// Create a deal for a customer the caller sees.
#[utoipa::path(post, path = "/api/v1/opportunities", tag = "pipeline", request_body = OpportunityInput,
    responses((status = 201, body = Opportunity), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(o): JsonBody<OpportunityInput>,
) -> Result<(StatusCode, Json<Opportunity>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create(&st.store, &auth.actor, &o).await?),
    ))
}

/// Which deals.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DealQuery {
    /// One pipeline.
    #[param(minimum = 1)]
    pub pipeline_id: Option<i64>,
    /// One stage.
    #[param(minimum = 1)]
    pub stage_id: Option<i64>,
    /// `open`, `won` or `lost`.
    pub status: Option<String>,
    /// `mine`, or an owner's user id.
    pub owner: Option<String>,
    /// Expected to close on or after (YYYY-MM-DD).
    pub close_from: Option<NaiveDate>,
    /// Expected to close before (YYYY-MM-DD).
    pub close_to: Option<NaiveDate>,
    /// One source.
    pub source: Option<String>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
    /// Custom-field values the deals must hold, as a JSON object by field code
    /// (`{"region": "east"}`; a multi-choice matches the deals that chose that option).
    pub cf: Option<String>,
}

/// The deals the caller sees, filtered, most recently changed first (50 a page), each with
/// its custom values (`custom`, sensitive ones masked).
#[utoipa::path(get, path = "/api/v1/opportunities", tag = "pipeline", params(DealQuery),
    responses((status = 200, body = guanxi_store::pipeline::DealPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<DealQuery>,
) -> Result<Json<guanxi_store::pipeline::DealPage>, ApiError> {
    let mut f = uc::deal_filter(
        &uc::DealParams {
            pipeline_id: q.pipeline_id,
            stage_id: q.stage_id,
            status: q.status.as_deref(),
            owner: q.owner.as_deref(),
            close_from: q.close_from,
            close_to: q.close_to,
            source: q.source.as_deref(),
            before: q.before.as_deref(),
        },
        auth.actor.id,
    )
    .map_err(guanxi_app::AppError::InvalidQuery)?;
    f.custom = crate::features::custom_field::api::list_filters(
        &st,
        &auth.actor,
        guanxi_domain::custom_field::FieldEntity::Opportunity,
        q.cf.as_deref(),
    )
    .await?;
    Ok(Json(uc::list(&st.store, &auth.actor, &f).await?))
}

/// One deal.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}", tag = "pipeline",
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = Opportunity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(uc::get(&st.store, &auth.actor, id).await?))
}

/// Change a deal's fields at the version read (`version` required; a stale one is a 409).
/// Its customer, pipeline and stage stay: a stage changes by a move.
#[utoipa::path(put, path = "/api/v1/opportunities/{id}", tag = "pipeline", request_body = OpportunityInput,
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = Opportunity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(o): JsonBody<OpportunityInput>,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(uc::update(&st.store, &auth.actor, id, &o).await?))
}

/// Move a deal to another stage at the version read (a stale version is a 409; a lost stage
/// needs `lost_reason_id`).
#[utoipa::path(post, path = "/api/v1/opportunities/{id}/move", tag = "pipeline", request_body = MoveInput,
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = Opportunity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_to(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(m): JsonBody<MoveInput>,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(uc::move_to(&st.store, &auth.actor, id, &m).await?))
}

/// A deal's moves, oldest first, with the time it spent in each stage it left.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}/history", tag = "pipeline",
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = Vec<StageChange>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Vec<StageChange>>, ApiError> {
    Ok(Json(uc::history(&st.store, &auth.actor, id).await?))
}

/// Which forecast.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// First month (its first day, e.g. 2027-01-01).
    pub from: NaiveDate,
    /// The month after the last (its first day), at most 24 months after `from`.
    pub to: NaiveDate,
    /// One pipeline (all when absent).
    #[param(minimum = 1)]
    pub pipeline_id: Option<i64>,
}

/// The weighted forecast by close month and owner: open deals' amounts and weighted amounts,
/// and what was won.
#[utoipa::path(get, path = "/api/v1/forecast", tag = "pipeline", params(ForecastQuery),
    responses((status = 200, body = Vec<ForecastRow>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn forecast(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<ForecastQuery>,
) -> Result<Json<Vec<ForecastRow>>, ApiError> {
    Ok(Json(
        uc::forecast(&st.store, &auth.actor, q.pipeline_id, q.from, q.to).await?,
    ))
}

/// Which period's figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FiguresQuery {
    /// Deals created from this day (default: a year ago).
    pub from: Option<NaiveDate>,
    /// … until before this day (default: tomorrow); at most two years after `from`.
    pub to: Option<NaiveDate>,
}

/// A pipeline's funnel (deals that reached each stage and the share that went on), win rate
/// and won cycle by source, and mean time in each stage, over the deals created in a period.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}/figures", tag = "pipeline",
    params(("id" = i64, Path, description = "Pipeline id", minimum = 1), FiguresQuery),
    responses((status = 200, body = PipelineFigures), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn figures(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(q): QueryParams<FiguresQuery>,
) -> Result<Json<PipelineFigures>, ApiError> {
    let today = st.as_of().today;
    let day = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
            - chrono::Duration::hours(st.utc_offset_hours)
    };
    let from = day(q.from.unwrap_or(today - chrono::Duration::days(365)));
    let to = day(q.to.unwrap_or(today + chrono::Duration::days(1)));
    Ok(Json(
        uc::figures(&st.store, &auth.actor, id, from, to).await?,
    ))
}

/// Create the order of a won deal from its products (once: a repeat returns the deal with the
/// same order).
#[utoipa::path(post, path = "/api/v1/opportunities/{id}/order", tag = "pipeline",
    params(("id" = i64, Path, description = "Opportunity id", minimum = 1)),
    responses((status = 200, body = Opportunity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn order(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Opportunity>, ApiError> {
    Ok(Json(uc::order_from(&st.store, &auth.actor, id).await?))
}
