//! Coupon use cases: offers and their redemption rates (`ManageLoyalty`), a customer's
//! coupons (whoever may read the customer), issuing one by hand (`WriteCustomers`, to a
//! customer the actor sees) and redeeming a code on an order (`WriteOrders`, an order the
//! actor sees). The store audits issue and redemption.

use guanxi_domain::loyalty::OfferInput;
use guanxi_domain::role::{Actor, Permission};
use guanxi_store::loyalty::{CouponRecord, OfferRecord, Redemption, SourceRate};
use guanxi_store::Store;

use crate::{require, AppError};

/// Every offer with its counts.
pub async fn offers(store: &Store, actor: &Actor) -> Result<Vec<OfferRecord>, AppError> {
    require(actor, Permission::ManageLoyalty)?;
    Ok(store.list_coupon_offers().await?)
}

/// One offer with its redemption rate per source (by hand, each rule, the shared code).
pub async fn offer(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<(OfferRecord, Vec<SourceRate>), AppError> {
    require(actor, Permission::ManageLoyalty)?;
    Ok((
        store.get_coupon_offer(id).await?,
        store.coupon_rates(id).await?,
    ))
}

/// Saves a new offer, or (with `existing` = (id, version)) a change to one.
pub async fn save_offer(
    store: &Store,
    actor: &Actor,
    existing: Option<(i64, i64)>,
    input: &OfferInput,
) -> Result<OfferRecord, AppError> {
    require(actor, Permission::ManageLoyalty)?;
    let o = input.validate()?;
    Ok(store.save_coupon_offer(actor, existing, &o).await?)
}

/// Offers a coupon can be issued from by hand: active, without a shared code.
pub async fn issuable(store: &Store, actor: &Actor) -> Result<Vec<(i64, String)>, AppError> {
    require(actor, Permission::WriteCustomers)?;
    Ok(store
        .list_coupon_offers()
        .await?
        .into_iter()
        .filter(|o| o.offer.active && o.offer.shared_code.is_none())
        .map(|o| (o.id, o.offer.name))
        .collect())
}

/// A customer's coupons, newest first.
pub async fn customer_coupons(
    store: &Store,
    actor: &Actor,
    customer: i64,
) -> Result<Vec<CouponRecord>, AppError> {
    require(actor, Permission::ReadCustomers)?;
    store.get_customer(actor, customer).await?;
    Ok(store.customer_coupons(customer).await?)
}

/// Issues a coupon of `offer` to `customer`.
pub async fn issue(
    store: &Store,
    actor: &Actor,
    offer: i64,
    customer: i64,
    utc_offset_hours: i64,
) -> Result<CouponRecord, AppError> {
    require(actor, Permission::WriteCustomers)?;
    store.get_customer(actor, customer).await?;
    Ok(store
        .issue_coupon(actor, offer, customer, utc_offset_hours)
        .await?)
}

/// Redeems `code` on `order`.
pub async fn redeem(
    store: &Store,
    actor: &Actor,
    order: i64,
    code: &str,
    utc_offset_hours: i64,
) -> Result<Redemption, AppError> {
    require(actor, Permission::WriteOrders)?;
    if code.trim().is_empty() {
        return Err(guanxi_domain::ValidationErrors::single("code", "required").into());
    }
    Ok(store
        .redeem_coupon(actor, order, code, utc_offset_hours)
        .await?)
}
