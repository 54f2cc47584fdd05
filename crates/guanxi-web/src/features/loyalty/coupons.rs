//! The coupon offers page: every offer with how many coupons were issued and redeemed, the
//! form for a new one (or, `?edit=<id>`, for that one, with its redemption rate per source:
//! by hand, each rule, the shared code). Amounts are typed in yuan.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use guanxi_app::loyalty::coupon as uc;
use guanxi_domain::loyalty::{CouponValue, OfferInput};
use guanxi_domain::money::parse_money;
use guanxi_domain::role::Permission;
use guanxi_domain::ValidationError;
use guanxi_text::format;

use crate::state::AppState;
use crate::ui::render;
use crate::ui::session::{
    field_messages, form_refusal, page_err, Ctx, FormData, Submitted, UiError, UiUser,
};

struct OfferView {
    id: i64,
    name: String,
    value: String,
    days: String,
    shared: String,
    active: bool,
    issued: i64,
    redeemed: i64,
    rate: String,
}

#[derive(Template)]
#[template(path = "loyalty/coupons.html")]
struct CouponsTpl {
    ctx: Ctx,
    offers: Vec<OfferView>,
    editing: Option<(i64, i64)>,
    rates: Vec<(String, i64, i64, String)>,
    v: HashMap<String, String>,
    errors: Vec<String>,
}

impl CouponsTpl {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

fn value_text(v: CouponValue) -> String {
    match v {
        CouponValue::Amount { minor } => format!("¥{}", format::plain_money(minor)),
        CouponValue::Percent { percent } => format!("{percent} %"),
    }
}

fn rate(issued: i64, redeemed: i64) -> String {
    if issued == 0 {
        "—".into()
    } else {
        #[allow(clippy::cast_precision_loss)]
        format::percent(redeemed as f64 / issued as f64)
    }
}

fn values_of(o: &OfferInput) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), o.name.clone());
    match o.value {
        CouponValue::Amount { minor } => {
            v.insert("value_kind".into(), "amount".into());
            v.insert("amount".into(), format::plain_money(minor));
        }
        CouponValue::Percent { percent } => {
            v.insert("value_kind".into(), "percent".into());
            v.insert("percent".into(), percent.to_string());
        }
    }
    v.insert("min_spend".into(), format::plain_money(o.min_spend_minor));
    v.insert("valid_from".into(), o.valid_from.to_string());
    v.insert("valid_to".into(), o.valid_to.to_string());
    if let Some(d) = o.valid_days {
        v.insert("valid_days".into(), d.to_string());
    }
    v.insert(
        "per_customer_limit".into(),
        o.per_customer_limit.to_string(),
    );
    if let Some(c) = &o.shared_code {
        v.insert("shared_code".into(), c.clone());
    }
    if o.active {
        v.insert("active".into(), "1".into());
    }
    v
}

fn offer_of(form: &FormData) -> Result<OfferInput, Vec<ValidationError>> {
    let mut errs = Vec::new();
    let mut money = |name: &str, field: &str| -> i64 {
        match form.get(name) {
            None => 0,
            Some(x) => parse_money(x).unwrap_or_else(|_| {
                errs.push(ValidationError::new(field.to_string(), "invalid_money"));
                0
            }),
        }
    };
    let value = if form.get("value_kind") == Some("percent") {
        None
    } else {
        Some(money("amount", "value.minor"))
    };
    let min_spend_minor = money("min_spend", "min_spend_minor");
    let mut int = |name: &str, field: &str| -> Option<i64> { form.int(name, field, &mut errs) };
    let value = match value {
        Some(minor) => CouponValue::Amount { minor },
        None => CouponValue::Percent {
            percent: int("percent", "value.percent").unwrap_or(0),
        },
    };
    let valid_days = int("valid_days", "valid_days");
    let per_customer_limit = int("per_customer_limit", "per_customer_limit").unwrap_or(1);
    let mut date = |name: &str| -> NaiveDate {
        form.get(name)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or_else(|| {
                errs.push(ValidationError::new(name.to_string(), "invalid_date"));
                NaiveDate::MIN
            })
    };
    let valid_from = date("valid_from");
    let valid_to = date("valid_to");
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(OfferInput {
        name: form.get("name").unwrap_or("").to_string(),
        value,
        min_spend_minor,
        valid_from,
        valid_to,
        valid_days,
        per_customer_limit,
        shared_code: form.get("shared_code").map(str::to_string),
        active: form.get("active").is_some(),
    })
}

async fn page(
    st: &AppState,
    user: &UiUser,
    editing: Option<(i64, i64)>,
    v: HashMap<String, String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let offers = uc::offers(&st.store, &user.actor)
        .await
        .map_err(page_err(user.locale))?;
    let rates = match editing {
        Some((id, _)) => {
            uc::offer(&st.store, &user.actor, id)
                .await
                .map_err(page_err(user.locale))?
                .1
        }
        None => Vec::new(),
    };
    let ctx = user.ctx("coupon.offers");
    let tpl = CouponsTpl {
        offers: offers
            .into_iter()
            .map(|o| OfferView {
                id: o.id,
                name: o.offer.name.clone(),
                value: {
                    let v = value_text(o.offer.value);
                    if o.offer.min_spend_minor > 0 {
                        ctx.tf(
                            "coupon.value_over",
                            &[
                                ("value", &v),
                                ("min", &format::plain_money(o.offer.min_spend_minor)),
                            ],
                        )
                    } else {
                        v
                    }
                },
                days: format!("{} – {}", o.offer.valid_from, o.offer.valid_to),
                shared: o.offer.shared_code.clone().unwrap_or_default(),
                active: o.offer.active,
                issued: o.issued,
                redeemed: o.redeemed,
                rate: rate(o.issued, o.redeemed),
            })
            .collect(),
        rates: rates
            .into_iter()
            .map(|r| {
                let who = match (r.source.as_str(), r.source_id) {
                    ("rule", Some(id)) => format!("{} #{id}", ctx.label("coupon_source", "rule")),
                    (s, _) => ctx.label("coupon_source", s),
                };
                (who, r.issued, r.redeemed, rate(r.issued, r.redeemed))
            })
            .collect(),
        editing,
        v,
        errors,
        ctx,
    };
    let mut r = render(user.locale, &tpl);
    *r.status_mut() = status;
    Ok(r)
}

/// The offers, with the form for a new one or (`?edit=<id>`) for one of them.
pub async fn offers(
    State(st): State<AppState>,
    user: UiUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    user.require(Permission::ManageLoyalty)?;
    match q.get("edit").and_then(|e| e.parse::<i64>().ok()) {
        Some(id) => {
            let (o, _) = uc::offer(&st.store, &user.actor, id)
                .await
                .map_err(page_err(user.locale))?;
            page(
                &st,
                &user,
                Some((o.id, o.version)),
                values_of(&o.offer),
                Vec::new(),
                StatusCode::OK,
            )
            .await
        }
        None => {
            let today = format::today(format::zone(st.utc_offset_hours));
            let mut v = HashMap::new();
            v.insert("valid_from".into(), today.to_string());
            v.insert(
                "valid_to".into(),
                (today + chrono::Duration::days(90)).to_string(),
            );
            v.insert("per_customer_limit".into(), "1".into());
            v.insert("active".into(), "1".into());
            page(&st, &user, None, v, Vec::new(), StatusCode::OK).await
        }
    }
}

/// Saves the form.
pub async fn save(
    State(st): State<AppState>,
    Submitted { user, form }: Submitted,
) -> Result<Response, UiError> {
    user.require(Permission::ManageLoyalty)?;
    let editing = form
        .get("id")
        .and_then(|i| i.parse::<i64>().ok())
        .map(|id| {
            (
                id,
                form.get("version")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )
        });
    let input = match offer_of(&form) {
        Ok(i) => i,
        Err(errs) => {
            let errors = field_messages(user.locale, &errs);
            return page(
                &st,
                &user,
                editing,
                form.values(),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match uc::save_offer(&st.store, &user.actor, editing, &input).await {
        Ok(o) => Ok(Redirect::to(&format!("/loyalty/coupons?edit={}", o.id)).into_response()),
        Err(e) => {
            let (status, errs) = form_refusal(user.locale, e)?;
            page(
                &st,
                &user,
                editing,
                form.values(),
                field_messages(user.locale, &errs),
                status,
            )
            .await
        }
    }
}
