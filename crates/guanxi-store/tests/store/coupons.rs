//! Coupons on both backends: an issued coupon has its own code, redeems once on an order of
//! its customer above the minimum spend, never on a second order, never for someone else; a
//! shared code is redeemed up to the per-customer limit; a rule issues coupons and says when
//! the limit stops it; the rates per source count what was issued and redeemed.

use super::*;
use chrono::Duration;
use guanxi_domain::loyalty::{CouponValue, OfferInput};
use guanxi_domain::rule::{Action, RuleInput, Trigger};

on_both_backends!(coupons_are_issued_limited_and_redeemed_once);

fn offer(name: &str, value: CouponValue, shared: Option<&str>) -> OfferInput {
    let today = Utc::now().date_naive();
    OfferInput {
        name: name.into(),
        value,
        min_spend_minor: 10_000,
        valid_from: today - Duration::days(1),
        valid_to: today + Duration::days(30),
        valid_days: Some(7),
        per_customer_limit: 1,
        shared_code: shared.map(str::to_string),
        active: true,
    }
    .validate()
    .unwrap()
}

async fn order_for(s: &Store, actor: &Actor, customer: i64, yuan: i64) -> i64 {
    let mut o = ten_yuan_order(customer, Utc::now());
    o.lines[0].unit_price_minor = yuan * 100;
    s.create_order(actor, o).await.unwrap().id
}

fn code_of(e: StoreError) -> String {
    match e {
        StoreError::Invalid(v) => format!("{}:{}", v.0[0].field, v.0[0].code),
        other => format!("{other:?}"),
    }
}

async fn coupons_are_issued_limited_and_redeemed_once(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let a = person(s, &admin, "券甲", None).await.id;
    let b = person(s, &admin, "券乙", None).await.id;
    let twenty = s
        .save_coupon_offer(
            &admin,
            None,
            &offer("满百减二十", CouponValue::Amount { minor: 2000 }, None),
        )
        .await
        .unwrap();
    let c = s.issue_coupon(&admin, twenty.id, a, 8).await.unwrap();
    let code = c.code.clone().unwrap();
    assert_eq!(code.len(), 10);
    assert!(c.expires_at <= Utc::now() + Duration::days(7));
    // The limit: one per customer.
    let e = s.issue_coupon(&admin, twenty.id, a, 8).await.unwrap_err();
    assert_eq!(code_of(e), "offer_id:limit_reached");
    // Below the minimum spend, someone else's order: refused; then redeemed once.
    let small = order_for(s, &admin, a, 50).await;
    let e = s.redeem_coupon(&admin, small, &code, 8).await.unwrap_err();
    assert_eq!(code_of(e), "code:below_min_spend");
    let theirs = order_for(s, &admin, b, 500).await;
    let e = s.redeem_coupon(&admin, theirs, &code, 8).await.unwrap_err();
    assert_eq!(code_of(e), "code:coupon_not_yours");
    let big = order_for(s, &admin, a, 150).await;
    let typed = format!(" {}-{} ", &code[..5], code[5..].to_lowercase());
    let r = s.redeem_coupon(&admin, big, &typed, 8).await.unwrap();
    assert_eq!((r.discount_minor, r.order_total_minor), (2000, 15_000));
    let e = s
        .redeem_coupon(&admin, order_for(s, &admin, a, 300).await, &code, 8)
        .await
        .unwrap_err();
    assert_eq!(code_of(e), "code:coupon_used");
    let e = s
        .redeem_coupon(&admin, big, "NOSUCHCODE", 8)
        .await
        .unwrap_err();
    assert_eq!(code_of(e), "order_id:order_has_coupon");
    let mine = s.customer_coupons(a).await.unwrap();
    assert_eq!(mine[0].status, "redeemed");
    assert_eq!(mine[0].order_id, Some(big));

    // A shared code: 15 % off, once per customer; an unknown code is named.
    let spring = s
        .save_coupon_offer(
            &admin,
            None,
            &offer(
                "春季九折",
                CouponValue::Percent { percent: 15 },
                Some("spring-26"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(spring.offer.shared_code.as_deref(), Some("SPRING26"));
    let e = s.issue_coupon(&admin, spring.id, a, 8).await.unwrap_err();
    assert_eq!(code_of(e), "offer_id:shared_offer");
    let r = s
        .redeem_coupon(&admin, theirs, "spring26", 8)
        .await
        .unwrap();
    assert_eq!(r.discount_minor, 7500);
    let again = order_for(s, &admin, b, 200).await;
    let e = s
        .redeem_coupon(&admin, again, "SPRING26", 8)
        .await
        .unwrap_err();
    assert_eq!(code_of(e), "code:limit_reached");
    let e = s
        .redeem_coupon(&admin, again, "WHATEVER", 8)
        .await
        .unwrap_err();
    assert_eq!(code_of(e), "code:not_found");
    let dup = s
        .save_coupon_offer(
            &admin,
            None,
            &offer(
                "另一个",
                CouponValue::Percent { percent: 5 },
                Some("SPRING26"),
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Duplicate { .. }), "{dup:?}");

    // A rule issues coupons; the second customer's second firing meets the limit, which the
    // log says; the rates count per source.
    let gift = s
        .save_coupon_offer(
            &admin,
            None,
            &offer("大单回馈", CouponValue::Amount { minor: 5000 }, None),
        )
        .await
        .unwrap();
    let rule = RuleInput {
        name: "大单送券".into(),
        trigger: Trigger::OrderPlaced {
            min_amount_minor: 40_000,
        },
        segment_id: None,
        actions: vec![Action::IssueCoupon { offer_id: gift.id }],
        active: true,
    }
    .validate()
    .unwrap();
    let r = s.create_rule(&admin, &rule).await.unwrap();
    order_for(s, &admin, b, 450).await;
    order_for(s, &admin, b, 480).await;
    let as_of = guanxi_domain::segment::AsOf {
        now: Utc::now(),
        today: Utc::now().date_naive(),
        utc_offset_hours: 8,
    };
    let run = s.run_rules(as_of, false).await.unwrap();
    assert_eq!((run.fired, run.done, run.failed), (2, 2, 0), "{run:?}");
    let log = s.rule_firings(Some(r.id), 10).await.unwrap();
    let outcomes: Vec<&str> = log.iter().filter_map(|f| f.outcome.as_deref()).collect();
    assert!(
        outcomes.iter().any(|o| o.starts_with("coupon ")),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&"no coupon (limit_reached)"),
        "{outcomes:?}"
    );
    let rates = s.coupon_rates(gift.id).await.unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!(
        (
            rates[0].source.as_str(),
            rates[0].source_id,
            rates[0].issued,
            rates[0].redeemed
        ),
        ("rule", Some(r.id), 1, 0)
    );
    let offers = s.list_coupon_offers().await.unwrap();
    let t = offers.iter().find(|o| o.id == twenty.id).unwrap();
    assert_eq!((t.issued, t.redeemed), (1, 1));
    // A rule naming an offer that does not exist is refused, naming the action.
    let mut bad = rule.clone();
    bad.name = "坏".into();
    bad.actions = vec![Action::IssueCoupon { offer_id: 999_999 }];
    let e = s.create_rule(&admin, &bad).await.unwrap_err();
    assert_eq!(code_of(e), "actions[0].offer_id:not_found");
}
