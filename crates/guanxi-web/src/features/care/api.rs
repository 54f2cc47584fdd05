//! Customer care over the API: the care list, recording a greeting, gift or coupon, a
//! customer's touches, and the care plans with their dry run.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::care::{CarePlanInput, TouchInput};
use guanxi_store::care::{CarePlanRecord, CareTouch, CareView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use guanxi_app::care as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Which care list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CareQuery {
    /// Days ahead, today included (1–60, default 7).
    #[param(minimum = 1, maximum = 60)]
    pub days: Option<i64>,
    /// Whose customers: a user's id, 0 for everyone the caller sees; the caller's own when
    /// absent.
    #[param(minimum = 0)]
    pub owner_id: Option<i64>,
}

/// The care list: the customers' birthdays and anniversaries coming up, with what was given
/// this time and the time before, and the festivals of the same days.
#[utoipa::path(get, path = "/api/v1/care", tag = "care", params(CareQuery),
    responses((status = 200, body = CareView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<CareQuery>,
) -> Result<Json<CareView>, ApiError> {
    if q.owner_id.is_some_and(|o| o < 0) {
        return Err(ApiError::BadQuery(
            guanxi_domain::ValidationErrors::single("owner_id", "out_of_range").0,
        ));
    }
    let query = uc::CareQuery {
        owner: q.owner_id,
        days: q.days.unwrap_or(7),
    };
    Ok(Json(
        uc::care_list(&st.store, &auth.actor, query, st.as_of().today).await?,
    ))
}

/// Record a greeting, gift or coupon given to a customer on an occasion; it goes onto the
/// customer's timeline.
#[utoipa::path(post, path = "/api/v1/care/touches", tag = "care", request_body = TouchInput,
    responses((status = 201, body = CareTouch), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(t): JsonBody<TouchInput>,
) -> Result<(StatusCode, Json<CareTouch>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::record_touch(&st.store, &auth.actor, &t, st.as_of().today).await?),
    ))
}

/// A customer's greetings, gifts and coupons, newest occasion first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/care-touches", tag = "care", params(("id" = i64, Path, description = "Customer id", minimum = 1)),
    responses((status = 200, body = Vec<CareTouch>), (status = 404, body = ErrorBody)))]
pub async fn touches(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Vec<CareTouch>>, ApiError> {
    Ok(Json(
        uc::customer_touches(&st.store, &auth.actor, id).await?,
    ))
}

/// Every care plan with how often it fired (`ManageCare`).
#[utoipa::path(get, path = "/api/v1/care/plans", tag = "care",
    responses((status = 200, body = Vec<CarePlanRecord>), (status = 403, body = ErrorBody)))]
pub async fn plans(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<CarePlanRecord>>, ApiError> {
    Ok(Json(uc::list_plans(&st.store, &auth.actor).await?))
}

/// Save a care plan: an occasion, how many days before it, an optional segment (required for
/// a festival), the task for the owner.
#[utoipa::path(post, path = "/api/v1/care/plans", tag = "care", request_body = CarePlanInput,
    responses((status = 201, body = CarePlanRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_plan(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<CarePlanInput>,
) -> Result<(StatusCode, Json<CarePlanRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(uc::create_plan(&st.store, &auth.actor, &p).await?),
    ))
}

/// One care plan.
#[utoipa::path(get, path = "/api/v1/care/plans/{id}", tag = "care", params(("id" = i64, Path, description = "Plan id", minimum = 1)),
    responses((status = 200, body = CarePlanRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn plan(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<CarePlanRecord>, ApiError> {
    Ok(Json(uc::get_plan(&st.store, &auth.actor, id).await?))
}

/// A change to a care plan, guarded by the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The plan as it should be.
    pub plan: CarePlanInput,
}

/// Replace a care plan (its firing history stays).
#[utoipa::path(put, path = "/api/v1/care/plans/{id}", tag = "care", params(("id" = i64, Path, description = "Plan id", minimum = 1)), request_body = PlanUpdate,
    responses((status = 200, body = CarePlanRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_plan(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<PlanUpdate>,
) -> Result<Json<CarePlanRecord>, ApiError> {
    Ok(Json(
        uc::update_plan(&st.store, &auth.actor, id, u.version, &u.plan).await?,
    ))
}

/// How many customers a plan would reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanPreview {
    /// Customers whose owners would get a task if the plan were switched on today.
    pub customers: i64,
}

/// The dry run: how many customers' owners a plan would give a task to if switched on today.
#[utoipa::path(post, path = "/api/v1/care/plans/preview", tag = "care", request_body = CarePlanInput,
    responses((status = 200, body = PlanPreview), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_plan(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<CarePlanInput>,
) -> Result<Json<PlanPreview>, ApiError> {
    Ok(Json(PlanPreview {
        customers: uc::preview_plan(&st.store, &auth.actor, &p, st.as_of()).await?,
    }))
}
