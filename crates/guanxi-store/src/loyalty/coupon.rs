//! Coupon offers and coupons. Issuing checks the offer is on and inside its days and the
//! customer's limit, in the transaction that writes the coupon (after locking the customer's
//! loyalty account, so two issues at once cannot both pass the limit). Redeeming ties one coupon
//! to one order (a unique column), in one conditional update, so a coupon is never used twice.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_domain::loyalty::coupon::{code_from, normalize_code, CODE_LEN};
use guanxi_domain::loyalty::OfferInput;
use guanxi_domain::role::Actor;
use guanxi_domain::segment::local_midnight_ms;
use rand::RngCore;

use super::ledger::lock_account;
use crate::audit::entry;
use crate::db::{from_ms, to_ms, Store};
use crate::error::{Result, StoreError};

/// A stored offer with its counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OfferRecord {
    /// Id.
    pub id: i64,
    /// The offer.
    pub offer: OfferInput,
    /// Coupons issued (or redeemed from the shared code).
    pub issued: i64,
    /// Coupons redeemed.
    pub redeemed: i64,
    /// Version, for updates.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Issued and redeemed per source of an offer's coupons: how well a rule's coupons work.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SourceRate {
    /// `manual`, `rule` or `shared`.
    pub source: String,
    /// The rule, for `rule`.
    pub source_id: Option<i64>,
    /// Issued.
    pub issued: i64,
    /// Redeemed.
    pub redeemed: i64,
}

/// One coupon.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CouponRecord {
    /// Id.
    pub id: i64,
    /// The offer.
    pub offer_id: i64,
    /// The offer's name.
    pub offer_name: String,
    /// The customer.
    pub customer_id: i64,
    /// Its own code (none for a shared code's redemption).
    pub code: Option<String>,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Last moment it can be redeemed.
    pub expires_at: DateTime<Utc>,
    /// `manual`, `rule` or `shared`.
    pub source: String,
    /// `issued`, `redeemed` or `expired`.
    pub status: String,
    /// The order it was redeemed on.
    pub order_id: Option<i64>,
    /// What it took off, fen.
    pub discount_minor: Option<i64>,
}

/// What a redemption did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Redemption {
    /// The coupon.
    pub coupon_id: i64,
    /// The order.
    pub order_id: i64,
    /// Taken off, fen.
    pub discount_minor: i64,
    /// The order's total before it, fen.
    pub order_total_minor: i64,
}

fn offer_of(definition: &str, active: i64) -> Result<OfferInput> {
    let mut o: OfferInput = serde_json::from_str(definition)
        .map_err(|e| StoreError::Corrupt(format!("coupon_offers.definition: {e}")))?;
    o.active = active != 0;
    Ok(o)
}

/// The end of `day` in the business's zone.
fn end_of(day: NaiveDate, utc_offset_hours: i64) -> DateTime<Utc> {
    from_ms(local_midnight_ms(day + Duration::days(1), utc_offset_hours) - 1)
}

fn local_day(t: DateTime<Utc>, utc_offset_hours: i64) -> NaiveDate {
    (t + Duration::hours(utc_offset_hours)).date_naive()
}

/// Issues a coupon of `offer` to `customer` in the caller's transaction; refused (field
/// `offer_id`) when the offer is off, outside its days, shared, or the customer is at the limit.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue_in(
    conn: &mut sqlx::AnyConnection,
    offer_id: i64,
    customer: i64,
    source: &str,
    source_id: Option<i64>,
    user: Option<i64>,
    now: DateTime<Utc>,
    utc_offset_hours: i64,
) -> Result<(i64, String)> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT definition, active FROM coupon_offers WHERE id = $1")
            .bind(offer_id)
            .fetch_optional(&mut *conn)
            .await?;
    let (definition, active) = row.ok_or_else(|| StoreError::invalid("offer_id", "not_found"))?;
    let o = offer_of(&definition, active)?;
    if o.shared_code.is_some() {
        return Err(StoreError::invalid("offer_id", "shared_offer"));
    }
    let today = local_day(now, utc_offset_hours);
    if !o.active || today > o.valid_to {
        return Err(StoreError::invalid("offer_id", "offer_inactive"));
    }
    lock_account(conn, customer, to_ms(now)).await?;
    let held: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM coupons WHERE offer_id = $1 AND customer_id = $2")
            .bind(offer_id)
            .bind(customer)
            .fetch_one(&mut *conn)
            .await?;
    if held >= o.per_customer_limit {
        return Err(StoreError::invalid("offer_id", "limit_reached"));
    }
    let mut expires = end_of(o.valid_to, utc_offset_hours);
    if let Some(d) = o.valid_days {
        expires = expires.min(end_of(today + Duration::days(d - 1), utc_offset_hours));
    }
    let mut bytes = [0u8; CODE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let code = code_from(&bytes);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO coupons (offer_id, customer_id, code, issued_at, expires_at, source, \
         source_id, issued_by, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'issued') \
         RETURNING id",
    )
    .bind(offer_id)
    .bind(customer)
    .bind(code.as_str())
    .bind(to_ms(now))
    .bind(to_ms(expires))
    .bind(source)
    .bind(source_id)
    .bind(user)
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, code))
}

type CouponRow = (
    i64,
    i64,
    String,
    i64,
    Option<String>,
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
);

impl Store {
    /// Every offer with its counts, newest first.
    pub async fn list_coupon_offers(&self) -> Result<Vec<OfferRecord>> {
        let rows: Vec<(i64, String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT o.id, o.definition, o.active, \
             (SELECT COUNT(*) FROM coupons c WHERE c.offer_id = o.id), \
             (SELECT COUNT(*) FROM coupons c WHERE c.offer_id = o.id AND c.status = 'redeemed'), \
             o.version, o.created_at FROM coupon_offers o ORDER BY o.id DESC",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, d, active, issued, redeemed, version, created_at)| {
                Ok(OfferRecord {
                    id,
                    offer: offer_of(&d, active)?,
                    issued,
                    redeemed,
                    version,
                    created_at: from_ms(created_at),
                })
            })
            .collect()
    }

    /// One offer.
    pub async fn get_coupon_offer(&self, id: i64) -> Result<OfferRecord> {
        self.list_coupon_offers()
            .await?
            .into_iter()
            .find(|o| o.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Issued and redeemed coupons of an offer per source (manual, each rule, the shared code).
    pub async fn coupon_rates(&self, offer: i64) -> Result<Vec<SourceRate>> {
        let rows: Vec<(String, Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT source, source_id, COUNT(*), \
             CAST(SUM(CASE WHEN status = 'redeemed' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM coupons WHERE offer_id = $1 GROUP BY source, source_id ORDER BY source, source_id",
        )
        .bind(offer)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(source, source_id, issued, redeemed)| SourceRate {
                source,
                source_id,
                issued,
                redeemed,
            })
            .collect())
    }

    /// Saves an offer (checked by the caller), audited; a taken name or shared code is
    /// `Duplicate`. With `id` and `version`, changes that offer.
    pub async fn save_coupon_offer(
        &self,
        actor: &Actor,
        existing: Option<(i64, i64)>,
        o: &OfferInput,
    ) -> Result<OfferRecord> {
        let definition =
            serde_json::to_string(o).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = to_ms(Utc::now());
        let mut tx = self.begin_write().await?;
        let unique = |e: sqlx::Error| {
            let shared = e.to_string().contains("shared_code");
            StoreError::unique(e, if shared { "shared_code" } else { "name" })
        };
        let id = match existing {
            None => sqlx::query_scalar(
                "INSERT INTO coupon_offers (name, definition, shared_code, active, version, \
                 created_at, updated_at, created_by, updated_by) \
                 VALUES ($1, $2, $3, $4, 1, $5, $5, $6, $6) RETURNING id",
            )
            .bind(o.name.as_str())
            .bind(definition.as_str())
            .bind(o.shared_code.as_deref())
            .bind(i64::from(o.active))
            .bind(now)
            .bind(actor.user_id())
            .fetch_one(&mut *tx)
            .await
            .map_err(unique)?,
            Some((id, version)) => {
                let n = sqlx::query(
                    "UPDATE coupon_offers SET name = $1, definition = $2, shared_code = $3, \
                     active = $4, version = version + 1, updated_at = $5, updated_by = $6 \
                     WHERE id = $7 AND version = $8",
                )
                .bind(o.name.as_str())
                .bind(definition.as_str())
                .bind(o.shared_code.as_deref())
                .bind(i64::from(o.active))
                .bind(now)
                .bind(actor.user_id())
                .bind(id)
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(unique)?
                .rows_affected();
                if n == 0 {
                    let current = self.get_coupon_offer(id).await?.version;
                    return Err(StoreError::Conflict {
                        current,
                        updated_by: None,
                    });
                }
                id
            }
        };
        entry(
            &mut tx,
            actor,
            if existing.is_some() {
                "update_coupon_offer"
            } else {
                "create_coupon_offer"
            },
            "coupon_offer",
            Some(id),
            serde_json::json!({"name": o.name, "value": o.value, "active": o.active,
                "shared_code": o.shared_code.is_some()}),
        )
        .await?;
        tx.commit().await?;
        self.get_coupon_offer(id).await
    }

    /// Issues a coupon of `offer` to `customer` by hand, audited.
    pub async fn issue_coupon(
        &self,
        actor: &Actor,
        offer: i64,
        customer: i64,
        utc_offset_hours: i64,
    ) -> Result<CouponRecord> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let (id, _) = issue_in(
            &mut tx,
            offer,
            customer,
            "manual",
            None,
            actor.user_id(),
            now,
            utc_offset_hours,
        )
        .await?;
        entry(
            &mut tx,
            actor,
            "issue_coupon",
            "customer",
            Some(customer),
            serde_json::json!({"offer_id": offer, "coupon_id": id}),
        )
        .await?;
        tx.commit().await?;
        self.customer_coupons(customer)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// A customer's coupons, newest first (an unredeemed one past its end shows `expired`).
    pub async fn customer_coupons(&self, customer: i64) -> Result<Vec<CouponRecord>> {
        let rows: Vec<CouponRow> = sqlx::query_as(
            "SELECT c.id, c.offer_id, o.name, c.customer_id, c.code, c.issued_at, c.expires_at, \
             c.source, c.status, c.order_id, c.discount_minor FROM coupons c \
             JOIN coupon_offers o ON o.id = c.offer_id WHERE c.customer_id = $1 \
             ORDER BY c.issued_at DESC, c.id DESC",
        )
        .bind(customer)
        .fetch_all(&self.read)
        .await?;
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    offer_id,
                    offer_name,
                    customer_id,
                    code,
                    issued,
                    expires,
                    source,
                    status,
                    order_id,
                    discount,
                )| {
                    let expires_at = from_ms(expires);
                    CouponRecord {
                        id,
                        offer_id,
                        offer_name,
                        customer_id,
                        code,
                        issued_at: from_ms(issued),
                        expires_at,
                        source,
                        status: if status == "issued" && expires_at < now {
                            "expired".into()
                        } else {
                            status
                        },
                        order_id,
                        discount_minor: discount,
                    }
                },
            )
            .collect())
    }

    /// Redeems `code` (a coupon's own, or an offer's shared code) on `order`, which the actor
    /// must see; audited. Each refusal names the field and why.
    pub async fn redeem_coupon(
        &self,
        actor: &Actor,
        order: i64,
        code: &str,
        utc_offset_hours: i64,
    ) -> Result<Redemption> {
        let o = self.get_order(actor, order).await?;
        let code = normalize_code(code);
        let now = Utc::now();
        let today = local_day(now, utc_offset_hours);
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, o.customer_id, to_ms(now)).await?;
        let used: Option<i64> = sqlx::query_scalar("SELECT id FROM coupons WHERE order_id = $1")
            .bind(order)
            .fetch_optional(&mut *tx)
            .await?;
        if used.is_some() {
            return Err(StoreError::invalid("order_id", "order_has_coupon"));
        }
        let own: Option<(i64, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, offer_id, customer_id, status, expires_at FROM coupons WHERE code = $1",
        )
        .bind(code.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (coupon, offer_id) = match own {
            Some((id, offer_id, customer, status, expires)) => {
                if customer != o.customer_id {
                    return Err(StoreError::invalid("code", "coupon_not_yours"));
                }
                if status != "issued" {
                    return Err(StoreError::invalid("code", "coupon_used"));
                }
                if from_ms(expires) < now {
                    return Err(StoreError::invalid("code", "coupon_expired"));
                }
                (Some(id), offer_id)
            }
            None => {
                let shared: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM coupon_offers WHERE shared_code = $1")
                        .bind(code.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                (
                    None,
                    shared.ok_or_else(|| StoreError::invalid("code", "not_found"))?,
                )
            }
        };
        let (definition, active): (String, i64) =
            sqlx::query_as("SELECT definition, active FROM coupon_offers WHERE id = $1")
                .bind(offer_id)
                .fetch_one(&mut *tx)
                .await?;
        let offer = offer_of(&definition, active)?;
        if !offer.active {
            return Err(StoreError::invalid("code", "offer_inactive"));
        }
        if today < offer.valid_from || today > offer.valid_to {
            return Err(StoreError::invalid("code", "coupon_expired"));
        }
        let total = o.total_minor;
        if total < offer.min_spend_minor {
            return Err(StoreError::invalid("code", "below_min_spend"));
        }
        let discount = offer.value.discount(total);
        let coupon = match coupon {
            Some(id) => {
                let n = sqlx::query(
                    "UPDATE coupons SET status = 'redeemed', redeemed_at = $1, order_id = $2, \
                     discount_minor = $3 WHERE id = $4 AND status = 'issued'",
                )
                .bind(to_ms(now))
                .bind(order)
                .bind(discount)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::invalid("code", "coupon_used"));
                }
                id
            }
            None => {
                let held: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM coupons WHERE offer_id = $1 AND customer_id = $2",
                )
                .bind(offer_id)
                .bind(o.customer_id)
                .fetch_one(&mut *tx)
                .await?;
                if held >= offer.per_customer_limit {
                    return Err(StoreError::invalid("code", "limit_reached"));
                }
                sqlx::query_scalar(
                    "INSERT INTO coupons (offer_id, customer_id, code, issued_at, expires_at, \
                     source, issued_by, status, redeemed_at, order_id, discount_minor) \
                     VALUES ($1, $2, NULL, $3, $4, 'shared', $5, 'redeemed', $3, $6, $7) \
                     RETURNING id",
                )
                .bind(offer_id)
                .bind(o.customer_id)
                .bind(to_ms(now))
                .bind(to_ms(end_of(offer.valid_to, utc_offset_hours)))
                .bind(actor.user_id())
                .bind(order)
                .bind(discount)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        entry(
            &mut tx,
            actor,
            "redeem_coupon",
            "order",
            Some(order),
            serde_json::json!({"coupon_id": coupon, "offer_id": offer_id, "discount_minor": discount}),
        )
        .await?;
        tx.commit().await?;
        Ok(Redemption {
            coupon_id: coupon,
            order_id: order,
            discount_minor: discount,
            order_total_minor: total,
        })
    }
}
