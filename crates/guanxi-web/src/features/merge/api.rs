//! Merging duplicate customers over the API: a preview of what would move, the merge itself
//! with a field-by-field choice, the list of merges into a customer that can still be undone,
//! and the undo. The side-by-side page calls the same store functions.

use axum::extract::State;
use axum::Json;
use guanxi_domain::records::Customer;
use guanxi_store::merge::{MergeCounts, MergeRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;
use guanxi_app::customers::present;

/// Merge request: the customer in the path survives.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// Version of the surviving customer.
    pub version: i64,
    /// The duplicate to fold in.
    #[schema(minimum = 1)]
    pub loser_id: i64,
    /// Version of the duplicate.
    pub loser_version: i64,
    /// Fields whose value is taken from the duplicate (any of `name`, `gender`, `birthday`,
    /// `id_number`, `province`, `city`, `address`, `employer`, `job_title`, `industry`,
    /// `lifecycle_stage`, `owner_id`, `profile`, `company`); every other field keeps the
    /// survivor's value. Tags are always the union. Default: none.
    #[serde(default)]
    pub take: Vec<String>,
}

/// Merge a duplicate into this customer. Contact points, orders, interactions, tasks and
/// relations move to the survivor; the duplicate is deleted with `merged_into` set. Undoable
/// for 30 days (see `GET /api/v1/customers/{id}/merges`).
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "customers", params(("id" = i64, Path, minimum = 1, description = "Surviving customer id")), request_body = MergeRequest,
    responses((status = 200, body = Customer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_customers(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(m): JsonBody<MergeRequest>,
) -> Result<Json<Customer>, ApiError> {
    guanxi_app::merge::require_merge(&auth.actor)?;
    let merged = guanxi_app::merge::merge(
        &st.store,
        &auth.actor,
        id,
        m.version,
        m.loser_id,
        m.loser_version,
        &m.take,
    )
    .await?;
    Ok(Json(present(&auth.actor, merged.customer).0))
}

/// Query of the merge preview.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The duplicate that would be folded in.
    #[param(minimum = 1)]
    pub loser_id: i64,
}

/// What a merge would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergePreviewBody {
    /// The survivor.
    pub winner: Customer,
    /// The duplicate.
    pub loser: Customer,
    /// Fields whose values differ: the choices to make.
    pub differing: Vec<String>,
    /// Fields taken from the duplicate by default (empty on the survivor, filled on it).
    pub suggested: Vec<String>,
    /// How many rows of each kind move.
    pub moves: MergeCounts,
}

/// Preview a merge: both records (masked as usual), the fields that differ, a default choice
/// and what would move. Changes nothing.
#[utoipa::path(get, path = "/api/v1/customers/{id}/merge-preview", tag = "customers", params(("id" = i64, Path, minimum = 1, description = "Surviving customer id"), PreviewQuery),
    responses((status = 200, body = MergePreviewBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_preview(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(q): QueryParams<PreviewQuery>,
) -> Result<Json<MergePreviewBody>, ApiError> {
    guanxi_app::merge::require_merge(&auth.actor)?;
    if q.loser_id < 1 {
        return Err(ApiError::BadQuery(
            guanxi_domain::ValidationErrors::single("loser_id", "out_of_range").0,
        ));
    }
    let p = guanxi_app::merge::preview(&st.store, &auth.actor, id, q.loser_id).await?;
    let names = |v: Vec<&'static str>| v.into_iter().map(String::from).collect();
    Ok(Json(MergePreviewBody {
        winner: present(&auth.actor, p.winner).0,
        loser: present(&auth.actor, p.loser).0,
        differing: names(p.differing),
        suggested: names(p.suggested),
        moves: p.moves,
    }))
}

/// Merges into this customer that can still be undone (30 days), newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/merges", tag = "customers", params(("id" = i64, Path, minimum = 1, description = "Surviving customer id")),
    responses((status = 200, body = Vec<MergeRecord>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_merges(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Vec<MergeRecord>>, ApiError> {
    guanxi_app::merge::require_merge(&auth.actor)?;
    Ok(Json(
        guanxi_app::merge::undoable(&st.store, &auth.actor, id).await?,
    ))
}

/// Undo a merge: the duplicate comes back with the rows the merge moved; the survivor's fields
/// the merge changed go back unless edited since. Answers the restored customer.
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "customers", params(("id" = i64, Path, minimum = 1, description = "Merge id")),
    responses((status = 200, body = Customer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn undo_merge(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Customer>, ApiError> {
    guanxi_app::merge::require_merge(&auth.actor)?;
    let c = guanxi_app::merge::undo(&st.store, &auth.actor, id).await?;
    Ok(Json(present(&auth.actor, c).0))
}
