//! Rules over the API (`ManageRules`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::rule::RuleInput;
use guanxi_store::rule::{FiringRecord, RulePreview, RuleRecord};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use guanxi_app::rule as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Every rule with how often it fired, newest first.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, body = Vec<RuleRecord>), (status = 403, body = ErrorBody)))]
pub async fn rules(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<RuleRecord>>, ApiError> {
    Ok(Json(uc::list(&st.store, &auth.actor).await?))
}

/// Save a rule: a trigger, an optional audience segment, one to five actions. An active rule
/// runs at once; it acts once per customer and cause.
#[utoipa::path(post, path = "/api/v1/rules", tag = "rules", request_body = RuleInput,
    responses((status = 201, body = RuleRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(r): JsonBody<RuleInput>,
) -> Result<(StatusCode, Json<RuleRecord>), ApiError> {
    let saved = uc::create(&st.store, &auth.actor, &r).await?;
    st.jobs.wake();
    Ok((StatusCode::CREATED, Json(saved)))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "Rule id", minimum = 1)),
    responses((status = 200, body = RuleRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rule(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<RuleRecord>, ApiError> {
    Ok(Json(uc::get(&st.store, &auth.actor, id).await?))
}

/// A change to a rule, guarded by the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The rule as it should be.
    pub rule: RuleInput,
}

/// Replace a rule (its log stays: a customer it acted on for a cause is not acted on again).
#[utoipa::path(put, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "Rule id", minimum = 1)), request_body = RuleUpdate,
    responses((status = 200, body = RuleRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<RuleUpdate>,
) -> Result<Json<RuleRecord>, ApiError> {
    let saved = uc::update(&st.store, &auth.actor, id, u.version, &u.rule).await?;
    st.jobs.wake();
    Ok(Json(saved))
}

/// Which saved rule a dry run is for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The saved rule this is (its log counts: customers it already acted on are left out).
    #[param(minimum = 1)]
    pub rule_id: Option<i64>,
}

/// The dry run: whom a rule would fire for on today's data (a rule on orders or tickets: over
/// the last 30 days), with a sample, before it is switched on.
#[utoipa::path(post, path = "/api/v1/rules/preview", tag = "rules", params(PreviewQuery), request_body = RuleInput,
    responses((status = 200, body = RulePreview), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<PreviewQuery>,
    JsonBody(r): JsonBody<RuleInput>,
) -> Result<Json<RulePreview>, ApiError> {
    Ok(Json(
        uc::preview(&st.store, &auth.actor, &r, q.rule_id, st.as_of()).await?,
    ))
}

/// How much of the log to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Most firings (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A rule's firings, newest first: the customer, the cause, what was done or why it failed.
#[utoipa::path(get, path = "/api/v1/rules/{id}/firings", tag = "rules", params(("id" = i64, Path, description = "Rule id", minimum = 1), LogQuery),
    responses((status = 200, body = Vec<FiringRecord>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn firings(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(q): QueryParams<LogQuery>,
) -> Result<Json<Vec<FiringRecord>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=uc::MAX_LOG).contains(&limit) {
        return Err(
            guanxi_app::AppError::InvalidQuery(guanxi_domain::ValidationErrors::single(
                "limit",
                "out_of_range",
            ))
            .into(),
        );
    }
    Ok(Json(
        uc::firings(&st.store, &auth.actor, Some(id), limit).await?,
    ))
}
