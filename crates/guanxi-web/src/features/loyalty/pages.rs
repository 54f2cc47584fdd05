//! The points section of the 360 page and its correction form.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use guanxi_domain::role::Permission;
use guanxi_store::loyalty::EntryKind;
use guanxi_text::format;

use guanxi_app::loyalty as uc;

use crate::state::AppState;
use crate::ui::session::{form_refusal, page_err, Ctx, Submitted, UiError, UiUser};

/// What the 360 page shows of a member's points.
pub struct PointsSection {
    /// The balance (the sum of the ledger).
    pub balance: i64,
    /// Points owed from a refund after they were spent.
    pub debt: i64,
    /// "120 points expire on 2027-06-30", if any lot expires.
    pub next_expiry: Option<String>,
    /// Latest entries: (date, kind label, signed points, remaining/expiry note, reason).
    pub ledger: Vec<(String, String, String, String, String)>,
    /// "金卡 · since 2026-12-01 (会员计划)", when the customer is a member.
    pub tier: Option<String>,
    /// Coupons: (code or "—", offer, status label, status code, "expires …" or "order #…").
    pub coupons: Vec<(String, String, String, String, String)>,
    /// Offers a coupon can be issued from here (empty: no issue form).
    pub offers: Vec<(i64, String)>,
    /// The customer's latest orders a code can be redeemed on: (id, "2026-12-01 ¥150.00").
    pub orders: Vec<(i64, String)>,
    /// May redeem a code on an order.
    pub can_redeem: bool,
    /// May correct points.
    pub can_adjust: bool,
    /// A fresh one-time value for the correction form (a form sent twice corrects once).
    pub nonce: String,
}

fn kind_code(k: EntryKind) -> &'static str {
    k.as_str()
}

/// Loads the 360 page's points section.
pub async fn section(
    st: &AppState,
    user: &UiUser,
    ctx: &Ctx,
    id: i64,
    tz: chrono::FixedOffset,
) -> Result<PointsSection, UiError> {
    let (balance, ledger) = uc::points(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?;
    let tier = uc::membership(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?
        .map(|(program, tier, since)| {
            let mut t = tier;
            if let Some(s) = since {
                t.push_str(" · ");
                t.push_str(&ctx.tf("loyalty.tier_since", &[("date", &format::date(s, tz))]));
            }
            format!("{t} ({program})")
        });
    let coupons = guanxi_app::loyalty::coupon::customer_coupons(&st.store, &user.actor, id)
        .await
        .map_err(page_err(user.locale))?
        .into_iter()
        .map(|c| {
            let note = match (c.order_id, c.discount_minor) {
                (Some(o), Some(d)) => ctx.tf(
                    "coupon.on_order",
                    &[
                        ("order", &o.to_string()),
                        ("amount", &format::plain_money(d)),
                    ],
                ),
                _ => ctx.tf(
                    "coupon.expires",
                    &[("date", &format::date(c.expires_at, tz))],
                ),
            };
            (
                c.code.unwrap_or_else(|| "—".into()),
                c.offer_name,
                ctx.label("coupon_status", &c.status),
                c.status,
                note,
            )
        })
        .collect();
    let can_issue = user.actor.can(Permission::WriteCustomers);
    let offers = if can_issue {
        guanxi_app::loyalty::coupon::issuable(&st.store, &user.actor)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let can_redeem = user.actor.can(Permission::WriteOrders);
    let orders = if can_redeem {
        guanxi_app::orders::list_orders(
            &st.store,
            &user.actor,
            &guanxi_store::orders::OrderFilter {
                customer_id: Some(id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .map(|p| {
            p.items
                .into_iter()
                .map(|o| {
                    (
                        o.id,
                        format!(
                            "#{} {} {}",
                            o.id,
                            format::date(o.ordered_at, tz),
                            format::money(o.total_minor, &o.currency)
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(PointsSection {
        coupons,
        offers,
        orders,
        can_redeem,
        tier,
        balance: balance.points,
        debt: balance.debt,
        next_expiry: balance.lots.iter().find_map(|(exp, pts)| {
            exp.map(|e| {
                ctx.tf(
                    "points.next_expiry",
                    &[("n", &pts.to_string()), ("date", &format::date(e, tz))],
                )
            })
        }),
        ledger: ledger
            .iter()
            .map(|e| {
                let note = match (e.remaining, e.expires_at) {
                    (Some(r), Some(x)) => ctx.tf(
                        "points.left_until",
                        &[("n", &r.to_string()), ("date", &format::date(x, tz))],
                    ),
                    (Some(r), None) => ctx.tf("points.left", &[("n", &r.to_string())]),
                    _ => String::new(),
                };
                (
                    format::date(e.at, tz),
                    ctx.label("points_entry", kind_code(e.kind)),
                    format!("{:+}", e.points),
                    note,
                    e.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        can_adjust: user.actor.can(Permission::AdjustPoints),
        nonce: guanxi_app::sessions::random_secret(),
    })
}

/// Spends points from the 360 page (a gift or a discount at the till).
pub async fn redeem_points(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteOrders)?;
    let points = form
        .get("points")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0);
    let saved = match uc::redeem(
        &st.store,
        &user.actor,
        id,
        points,
        form.get("nonce").unwrap_or(""),
    )
    .await
    {
        Ok(_) => "points_redeemed",
        Err(e) => {
            let (_, errs) = form_refusal(user.locale, e)?;
            if errs.first().map(|e| e.code.as_str()) == Some("insufficient_points") {
                "points_insufficient"
            } else {
                "points_invalid"
            }
        }
    };
    Ok(Redirect::to(&format!("/customers/{id}?saved={saved}#points")).into_response())
}

/// Issues a coupon to the customer from the 360 page.
pub async fn issue_coupon(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteCustomers)?;
    let offer = form
        .get("offer_id")
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0);
    let saved = match guanxi_app::loyalty::coupon::issue(
        &st.store,
        &user.actor,
        offer,
        id,
        st.utc_offset_hours,
    )
    .await
    {
        Ok(_) => "coupon_issued".to_string(),
        Err(e) => refusal_code(&user, e)?,
    };
    Ok(Redirect::to(&format!("/customers/{id}?saved={saved}#points")).into_response())
}

/// Redeems a code on one of the customer's orders from the 360 page.
pub async fn redeem_coupon(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::WriteOrders)?;
    let order = form
        .get("order_id")
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0);
    let saved = match guanxi_app::loyalty::coupon::redeem(
        &st.store,
        &user.actor,
        order,
        form.get("code").unwrap_or(""),
        st.utc_offset_hours,
    )
    .await
    {
        Ok(_) => "coupon_redeemed".to_string(),
        Err(e) => refusal_code(&user, e)?,
    };
    Ok(Redirect::to(&format!("/customers/{id}?saved={saved}#points")).into_response())
}

/// The flash a coupon refusal shows: its code, or `coupon_unknown` for a code not found;
/// anything but a field refusal is the error page.
fn refusal_code(user: &UiUser, e: guanxi_app::AppError) -> Result<String, UiError> {
    let (_, errs) = form_refusal(user.locale, e)?;
    Ok(match errs.first().map(|e| e.code.as_str()) {
        Some(
            c @ ("coupon_used" | "coupon_expired" | "coupon_not_yours" | "below_min_spend"
            | "limit_reached" | "offer_inactive" | "order_has_coupon"),
        ) => c.to_string(),
        _ => "coupon_unknown".to_string(),
    })
}

/// Corrects a member's points from the 360 page.
pub async fn adjust(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::AdjustPoints)?;
    let points = form
        .get("points")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0);
    match uc::adjust(
        &st.store,
        &user.actor,
        id,
        points,
        form.get("reason").unwrap_or(""),
        form.get("nonce").unwrap_or(""),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?saved=points#points")).into_response()),
        Err(e) => {
            let (_, errs) = form_refusal(user.locale, e)?;
            let code = errs.first().map(|e| e.code.as_str()).unwrap_or_default();
            let saved = if code == "insufficient_points" {
                "points_insufficient"
            } else {
                "points_invalid"
            };
            Ok(Redirect::to(&format!("/customers/{id}?saved={saved}#points")).into_response())
        }
    }
}
