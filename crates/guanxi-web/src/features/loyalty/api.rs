//! The membership programme (`ManageLoyalty`) and coupons over the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use guanxi_domain::loyalty::{OfferInput, ProgramInput};
use guanxi_store::loyalty::{CouponRecord, OfferRecord, ProgramRecord, Redemption};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use guanxi_app::loyalty::coupon as coupons;
use guanxi_app::loyalty::program as uc;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathId};
use crate::state::AppState;

/// Every membership programme, the active one first.
#[utoipa::path(get, path = "/api/v1/loyalty/programs", tag = "loyalty",
    responses((status = 200, body = Vec<ProgramRecord>), (status = 403, body = ErrorBody)))]
pub async fn programs(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ProgramRecord>>, ApiError> {
    Ok(Json(uc::list(&st.store, &auth.actor).await?))
}

/// Save a programme: tiers (lowest first, the first qualifying at 0) with their qualifying
/// and keeping lines over a rolling window, the base earning rate, category rates,
/// promotions. An active one pauses the programme active before.
#[utoipa::path(post, path = "/api/v1/loyalty/programs", tag = "loyalty", request_body = ProgramInput,
    responses((status = 201, body = ProgramRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(p): JsonBody<ProgramInput>,
) -> Result<(StatusCode, Json<ProgramRecord>), ApiError> {
    let r = uc::create(&st.store, &auth.actor, &p, st.utc_offset_hours).await?;
    st.jobs.wake();
    Ok((StatusCode::CREATED, Json(r)))
}

/// One programme.
#[utoipa::path(get, path = "/api/v1/loyalty/programs/{id}", tag = "loyalty", params(("id" = i64, Path, description = "Programme id", minimum = 1)),
    responses((status = 200, body = ProgramRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn program(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<ProgramRecord>, ApiError> {
    Ok(Json(uc::get(&st.store, &auth.actor, id).await?))
}

/// A change to a programme, guarded by the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The programme as it should be.
    pub program: ProgramInput,
}

/// Replace a programme (members are re-placed in tiers at the next run).
#[utoipa::path(put, path = "/api/v1/loyalty/programs/{id}", tag = "loyalty", params(("id" = i64, Path, description = "Programme id", minimum = 1)), request_body = ProgramUpdate,
    responses((status = 200, body = ProgramRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<ProgramUpdate>,
) -> Result<Json<ProgramRecord>, ApiError> {
    let r = uc::update(
        &st.store,
        &auth.actor,
        id,
        u.version,
        &u.program,
        st.utc_offset_hours,
    )
    .await?;
    st.jobs.wake();
    Ok(Json(r))
}

/// Every coupon offer with how many coupons were issued and redeemed.
#[utoipa::path(get, path = "/api/v1/coupon-offers", tag = "loyalty",
    responses((status = 200, body = Vec<OfferRecord>), (status = 403, body = ErrorBody)))]
pub async fn offers(
    State(st): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<OfferRecord>>, ApiError> {
    Ok(Json(coupons::offers(&st.store, &auth.actor).await?))
}

/// Save a coupon offer: amount or percent off, minimum spend, valid days, days after issue,
/// a per-customer limit, an optional shared code.
#[utoipa::path(post, path = "/api/v1/coupon-offers", tag = "loyalty", request_body = OfferInput,
    responses((status = 201, body = OfferRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_offer(
    State(st): State<AppState>,
    auth: Auth,
    JsonBody(o): JsonBody<OfferInput>,
) -> Result<(StatusCode, Json<OfferRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(coupons::save_offer(&st.store, &auth.actor, None, &o).await?),
    ))
}

/// A change to a coupon offer, guarded by the version last read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferUpdate {
    /// Version last read; a stale one is a 409.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The offer as it should be.
    pub offer: OfferInput,
}

/// Replace a coupon offer (coupons already issued keep their end).
#[utoipa::path(put, path = "/api/v1/coupon-offers/{id}", tag = "loyalty", params(("id" = i64, Path, description = "Offer id", minimum = 1)), request_body = OfferUpdate,
    responses((status = 200, body = OfferRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_offer(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(u): JsonBody<OfferUpdate>,
) -> Result<Json<OfferRecord>, ApiError> {
    Ok(Json(
        coupons::save_offer(&st.store, &auth.actor, Some((id, u.version)), &u.offer).await?,
    ))
}

/// A customer's coupons, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/coupons", tag = "loyalty", params(("id" = i64, Path, description = "Customer id", minimum = 1)),
    responses((status = 200, body = Vec<CouponRecord>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customer_coupons(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
) -> Result<Json<Vec<CouponRecord>>, ApiError> {
    Ok(Json(
        coupons::customer_coupons(&st.store, &auth.actor, id).await?,
    ))
}

/// Which offer to issue a coupon of.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCoupon {
    /// The offer (active, without a shared code).
    #[schema(minimum = 1)]
    pub offer_id: i64,
}

/// Issue a coupon to a customer: its own code, valid to the offer's end (or the days after
/// issue the offer gives).
#[utoipa::path(post, path = "/api/v1/customers/{id}/coupons", tag = "loyalty", params(("id" = i64, Path, description = "Customer id", minimum = 1)), request_body = IssueCoupon,
    responses((status = 201, body = CouponRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue_coupon(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(b): JsonBody<IssueCoupon>,
) -> Result<(StatusCode, Json<CouponRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(coupons::issue(&st.store, &auth.actor, b.offer_id, id, st.utc_offset_hours).await?),
    ))
}

/// A code to redeem on an order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemCoupon {
    /// A coupon's own code or an offer's shared code (spaces, dashes and case do not matter).
    pub code: String,
}

/// Redeem a coupon on an order: one coupon per order, each coupon once; the discount comes
/// back.
#[utoipa::path(post, path = "/api/v1/orders/{id}/coupon", tag = "loyalty", params(("id" = i64, Path, description = "Order id", minimum = 1)), request_body = RedeemCoupon,
    responses((status = 200, body = Redemption), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn redeem_coupon(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(b): JsonBody<RedeemCoupon>,
) -> Result<Json<Redemption>, ApiError> {
    Ok(Json(
        coupons::redeem(&st.store, &auth.actor, id, &b.code, st.utc_offset_hours).await?,
    ))
}

/// Points to spend.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemPoints {
    /// How many (1–1,000,000; at most the balance).
    #[schema(minimum = 1, maximum = 1000000)]
    pub points: i64,
    /// A one-time value of 16–80 hex digits chosen by the caller: the same value spends once,
    /// so a retried request does not spend twice.
    pub idempotency_key: String,
}

/// What a spend posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsRedeemed {
    /// The ledger entry.
    pub entry_id: i64,
    /// `false` when the key was used before (nothing spent this time).
    pub new: bool,
    /// The balance after it.
    pub balance: i64,
}

/// Spend a customer's points (a gift or a discount at the till), soonest-expiring lots first;
/// refused (422 `insufficient_points`) beyond the balance.
#[utoipa::path(post, path = "/api/v1/customers/{id}/points/redeem", tag = "loyalty", params(("id" = i64, Path, description = "Customer id", minimum = 1)), request_body = RedeemPoints,
    responses((status = 200, body = PointsRedeemed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn redeem_points(
    State(st): State<AppState>,
    auth: Auth,
    PathId(id): PathId,
    JsonBody(b): JsonBody<RedeemPoints>,
) -> Result<Json<PointsRedeemed>, ApiError> {
    let posted =
        guanxi_app::loyalty::redeem(&st.store, &auth.actor, id, b.points, &b.idempotency_key)
            .await?;
    let (entry_id, new) = match posted {
        guanxi_store::loyalty::Posted::New(e) => (e, true),
        guanxi_store::loyalty::Posted::Repeat(e) => (e, false),
        guanxi_store::loyalty::Posted::Nothing => (0, false),
    };
    let (balance, _) = guanxi_app::loyalty::points(&st.store, &auth.actor, id).await?;
    Ok(Json(PointsRedeemed {
        entry_id,
        new,
        balance: balance.points,
    }))
}
