//! Key accounts over the API: the dashboard, an account with its plan and revenue by month,
//! making one and changing who looks after it, the plan, ending one, and the shop's rule.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_app::key_account as uc;
use guanxi_domain::key_account::{KeyAccountInput, PlanInput, RuleInput};
use guanxi_store::key_account::{KeyAccount, KeyAccountRow, RuleReport, RuleSettings};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

/// Whose key accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Only those the caller manages or stands in for.
    #[serde(default)]
    pub mine: bool,
}

/// The key-account dashboard: revenue this year and last, share of wallet, open deals and
/// complaints, last contact, for every key account the caller sees (by name, 100 at most).
#[utoipa::path(get, path = "/api/v1/key-accounts", tag = "key_account", params(DashboardQuery),
    responses((status = 200, body = Vec<KeyAccountRow>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn dashboard(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<DashboardQuery>,
) -> Result<Json<Vec<KeyAccountRow>>, ApiError> {
    Ok(Json(uc::dashboard(&st.store, &auth.actor, q.mine).await?))
}

/// A key account as its page shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyAccountDetail {
    /// Who looks after it, and its plan.
    pub account: KeyAccount,
    /// Its dashboard figures.
    pub figures: KeyAccountRow,
    /// Revenue in each of the last twelve months (`YYYY-MM`, minor units), oldest first.
    pub revenue_by_month: Vec<(String, i64)>,
}

/// One key account (the customer's id).
#[utoipa::path(get, path = "/api/v1/key-accounts/{id}", tag = "key_account",
    params(("id" = i64, Path, description = "Customer id", minimum = 1)),
    responses((status = 200, body = KeyAccountDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<KeyAccountDetail>, ApiError> {
    let (account, figures, revenue_by_month) =
        uc::account(&st.store, &auth.actor, id, st.utc_offset_hours).await?;
    Ok(Json(KeyAccountDetail {
        account,
        figures,
        revenue_by_month,
    }))
}

/// Make a customer a key account, or change its manager, deputy, cadence and wallet (then
/// `version` is required).
#[utoipa::path(put, path = "/api/v1/key-accounts/{id}", tag = "key_account", request_body = KeyAccountInput,
    params(("id" = i64, Path, description = "Customer id", minimum = 1)),
    responses((status = 200, body = KeyAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(k): JsonBody<KeyAccountInput>,
) -> Result<Json<KeyAccount>, ApiError> {
    Ok(Json(uc::set(&st.store, &auth.actor, id, &k).await?))
}

/// End a key account (its plan goes with it).
#[utoipa::path(delete, path = "/api/v1/key-accounts/{id}", tag = "key_account",
    params(("id" = i64, Path, description = "Customer id", minimum = 1)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    uc::remove(&st.store, &auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Save the account plan at the version read.
#[utoipa::path(put, path = "/api/v1/key-accounts/{id}/plan", tag = "key_account", request_body = PlanInput,
    params(("id" = i64, Path, description = "Customer id", minimum = 1)),
    responses((status = 200, body = KeyAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn plan(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<PlanInput>,
) -> Result<Json<KeyAccount>, ApiError> {
    Ok(Json(uc::save_plan(&st.store, &auth.actor, id, &p).await?))
}

/// The shop's key-account rule.
#[utoipa::path(get, path = "/api/v1/key-account-rule", tag = "key_account",
    responses((status = 200, body = RuleSettings), (status = 403, body = ErrorBody)))]
pub async fn rule(State(st): State<AppState>, auth: Auth) -> Result<Json<RuleSettings>, ApiError> {
    Ok(Json(uc::rule(&st.store, &auth.actor).await?))
}

/// Set the rule at the version read.
#[utoipa::path(put, path = "/api/v1/key-account-rule", tag = "key_account", request_body = RuleInput,
    responses((status = 200, body = RuleSettings), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_rule(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(r): JsonBody<RuleInput>,
) -> Result<Json<RuleSettings>, ApiError> {
    Ok(Json(uc::set_rule(&st.store, &auth.actor, &r).await?))
}

/// Apply the rule now: the customers it picks become key accounts, its earlier picks it no
/// longer picks (untouched since) end.
#[utoipa::path(post, path = "/api/v1/key-account-rule/apply", tag = "key_account",
    responses((status = 200, body = RuleReport), (status = 403, body = ErrorBody)))]
pub async fn apply_rule(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<RuleReport>, ApiError> {
    Ok(Json(uc::apply_rule(&st.store, &auth.actor).await?))
}
