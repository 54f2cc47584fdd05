//! Orders and the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use guanxi_domain::order::NewOrder;
use guanxi_domain::records::{AuditEntry, Order};
use guanxi_domain::role::Permission;
use guanxi_store::audit::AuditFilter;
use guanxi_store::orders::OrderFilter;
use guanxi_store::Page;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;

fn as_bad_query(e: guanxi_app::AppError) -> ApiError {
    ApiError::from(e).in_query()
}

/// Record an order.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = NewOrder,
    responses((status = 201, body = Order), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_order(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(o): JsonBody<NewOrder>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(guanxi_app::orders::create_order(&st.store, &auth.actor, o).await?),
    ))
}

/// Order list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Customer.
    pub customer_id: Option<i64>,
    /// From (RFC 3339, inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until (RFC 3339, exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Orders newest first (only of customers visible to the caller).
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = Page<Order>), (status = 400, body = ErrorBody)))]
pub async fn list_orders(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<OrderQuery>,
) -> Result<Json<Page<Order>>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    let f = OrderFilter {
        customer_id: q.customer_id,
        since: q.since,
        until: q.until,
        cursor: q.cursor,
        limit: crate::extract::page_limit(q.limit, 50, 500)?,
    };
    Ok(Json(
        guanxi_app::orders::list_orders(&st.store, &auth.actor, &f)
            .await
            .map_err(as_bad_query)?,
    ))
}

/// One order.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(
        guanxi_app::orders::get_order(&st.store, &auth.actor, id).await?,
    ))
}

/// Audit log filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Acting user.
    pub actor_id: Option<i64>,
    /// create, update, delete, merge, export, read_sensitive, login, login_failed …
    pub action: Option<String>,
    /// customer, contact_point, relation, user, team, order, api_token …
    pub entity: Option<String>,
    /// Entity id.
    pub entity_id: Option<i64>,
    /// From (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The audit log, newest first (admins and managers).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    auth.require(Permission::ReadAudit)?;
    let f = AuditFilter {
        actor_id: q.actor_id,
        action: q.action,
        entity: q.entity,
        entity_id: q.entity_id,
        since: q.since,
        until: q.until,
        cursor: q.cursor,
        limit: crate::extract::page_limit(q.limit, 100, 500)?,
    };
    Ok(Json(
        guanxi_app::audit::list_audit(&st.store, &auth.actor, &f)
            .await
            .map_err(as_bad_query)?,
    ))
}
