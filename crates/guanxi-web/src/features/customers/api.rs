//! Customer endpoints: list, create, read, update, delete, identify.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::customer::{CustomerFields, CustomerPatch};
use guanxi_domain::records::{Customer, IdentifyHit};
use guanxi_domain::role::Permission;
use guanxi_domain::vocabulary::{CustomerKind, LifecycleStage, SourceChannel};
use guanxi_domain::ValidationError;
use guanxi_store::customers::{CustomerFilter, CustomerSort};
use guanxi_store::Page;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::state::AppState;
use guanxi_app::customers::{self as uc, LIST_COUNT_CAP};

/// Query parameters of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Owner user id.
    pub owner_id: Option<i64>,
    /// Lifecycle stage.
    #[param(value_type = Option<String>)]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// individual or company.
    #[param(value_type = Option<String>)]
    pub kind: Option<CustomerKind>,
    /// City (exact).
    pub city: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Source channel.
    #[param(value_type = Option<String>)]
    pub source_channel: Option<SourceChannel>,
    /// Name, pinyin, initials or phone prefix.
    pub q: Option<String>,
    /// Value tier (ABC class from the last score refresh): A, B or C.
    pub tier: Option<String>,
    /// Only the members of this saved segment (see /api/v1/segments).
    pub segment_id: Option<i64>,
    /// Only the customers matching this segment rule, as JSON (`{"clauses": [{"field": "clv",
    /// "op": "gte", "value": "1000"}]}`); with `segment_id`, both must hold.
    pub rule: Option<String>,
    /// Custom-field values the customers must hold, as a JSON object by field code
    /// (`{"level": "gold", "golfer": "true"}`; a multi-choice field matches customers who
    /// chose that option). Read like a tag, this is the fast way to filter on a custom field;
    /// `rule` takes ranges and the other operators.
    pub cf: Option<String>,
    /// updated_at (default), created_at, name, id.
    pub sort: Option<String>,
    /// asc or desc (default desc for times, asc for name/id).
    pub order: Option<String>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Also count every match (`X-Total-Count`, up to 10,000; `X-Total-Count-Capped: true`
    /// beyond). Off by default: a client paging through the book need not count on every page.
    pub total: Option<bool>,
}

/// List customers visible to the caller.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(ListQuery),
    responses((status = 200, body = Page<Customer>, headers(
            ("x-total-count" = i64, description = "With `total=true`: the customers matching, counted up to 10,000"),
            ("x-total-count-capped" = bool, description = "With `total=true`: more match than were counted"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_customers(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<(axum::http::HeaderMap, Json<Page<Customer>>), ApiError> {
    auth.require(Permission::ReadCustomers)?;
    let total = q.total;
    let filter = filter_of(&st, &auth.actor, q).await?;
    let page = uc::list_customers(&st.store, &auth.actor, &filter).await?;
    let mut headers = axum::http::HeaderMap::new();
    if total == Some(true) {
        let (n, capped) =
            uc::count_customers(&st.store, &auth.actor, &filter, LIST_COUNT_CAP).await?;
        headers.insert("x-total-count", n.into());
        headers.insert(
            "x-total-count-capped",
            axum::http::HeaderValue::from_static(if capped { "true" } else { "false" }),
        );
    }
    Ok((headers, Json(page)))
}

/// The customers a list query selects, as the store's filter: the list's own filters, a saved
/// segment or an ad-hoc rule, custom-field values, sort and page (the export takes the same
/// query).
pub(crate) async fn filter_of(
    st: &AppState,
    actor: &guanxi_domain::role::Actor,
    q: ListQuery,
) -> Result<CustomerFilter, ApiError> {
    let sort = match q.sort.as_deref() {
        None => CustomerSort::default(),
        Some(s) => CustomerSort::parse(s).ok_or_else(|| {
            ApiError::BadQuery(vec![ValidationError::new("sort", "unknown_value")])
        })?,
    };
    let desc = match q.order.as_deref() {
        None => matches!(sort, CustomerSort::UpdatedAt | CustomerSort::CreatedAt),
        Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            return Err(ApiError::BadQuery(vec![ValidationError::new(
                "order",
                "unknown_value",
            )]))
        }
    };
    let narrowing = guanxi_app::segments::list_narrowing(
        &st.store,
        st.as_of(),
        actor,
        q.segment_id,
        q.rule.as_deref(),
    )
    .await?;
    let segment = narrowing.filter;
    let mut custom = crate::features::custom_field::api::list_filters(
        st,
        actor,
        guanxi_domain::custom_field::FieldEntity::Customer,
        q.cf.as_deref(),
    )
    .await?;
    custom.extend(narrowing.custom);
    let filter = CustomerFilter {
        custom,
        segment,
        owner_id: q.owner_id,
        lifecycle_stage: q.lifecycle_stage,
        kind: q.kind,
        city: q.city,
        tag: q.tag,
        source_channel: q.source_channel,
        q: q.q,
        tier: q.tier,
        rfm_segment: None,
        value_cell: None,
        rf: None,
        sort,
        desc,
        cursor: q.cursor,
        limit: crate::extract::page_limit(q.limit, 50, 200)?,
    };
    Ok(filter)
}

/// Create a customer (with contact points).
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerFields,
    responses((status = 201, body = Customer), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A customer you can see already has this mobile, email, WeChat or ID number: `possible_duplicate` with `candidates`; resend with `allow_duplicate: true` to create anyway", body = ErrorBody)))]
pub async fn create_customer(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(f): JsonBody<CustomerFields>,
) -> Result<(StatusCode, Json<Customer>), ApiError> {
    let allow_duplicate = f.allow_duplicate;
    let c = uc::create_customer(&st.store, &auth.actor, f, allow_duplicate).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Read one customer (360 basics). Unmasked ID numbers are audited as sensitive reads.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Customer), (status = 404, body = ErrorBody)))]
pub async fn get_customer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(
        uc::read_customer(&st.store, &auth.actor, id, None).await?,
    ))
}

/// Update a customer. `version` must match the stored version, else 409.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = i64, Path, description = "Customer id")), request_body = CustomerPatch,
    responses((status = 200, body = Customer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_customer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(p): JsonBody<CustomerPatch>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(
        uc::update_customer(&st.store, &auth.actor, id, p).await?,
    ))
}

/// The version a delete is guarding against.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Version last read.
    pub version: i64,
}

/// Soft-delete a customer.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = i64, Path, description = "Customer id"), VersionQuery),
    responses((status = 204), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn delete_customer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    QueryParams(v): QueryParams<VersionQuery>,
) -> Result<StatusCode, ApiError> {
    uc::delete_customer(&st.store, &auth.actor, id, v.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Identification query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IdentifyQuery {
    /// Phone (any format), email, name, pinyin, initials or phone prefix.
    pub q: String,
    /// Most hits (1–50, default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Identify a customer at a touchpoint; ranked hits.
#[utoipa::path(get, path = "/api/v1/customers/identify", tag = "customers", params(IdentifyQuery),
    responses((status = 200, body = Vec<IdentifyHit>), (status = 400, body = ErrorBody)))]
pub async fn identify(
    State(st): State<AppState>,
    auth: Auth,
    QueryParams(q): QueryParams<IdentifyQuery>,
) -> Result<Json<Vec<IdentifyHit>>, ApiError> {
    auth.require(Permission::ReadCustomers)?;
    if q.q.trim().is_empty() || q.q.chars().count() > 200 {
        return Err(ApiError::BadQuery(vec![ValidationError::new(
            "q",
            if q.q.trim().is_empty() {
                "required"
            } else {
                "too_long"
            },
        )]));
    }
    let limit = crate::extract::page_limit(q.limit, 10, 50)?;
    Ok(Json(
        uc::identify(&st.store, &auth.actor, &q.q, limit).await?,
    ))
}
