//! The membership programme: orders earn by tier, category and promotion from the programme's
//! start, once per order whatever is repeated; the tier evaluation moves members up on the
//! qualifying line and down only below the keeping line, writes only changes, puts each on
//! the timeline; a new active programme takes the members over.

use super::*;
use chrono::Duration;
use guanxi_domain::loyalty::{CategoryRate, ProgramInput, Promotion, Tier, TierBasis};
use guanxi_domain::records::TimelineKind;

on_both_backends!(orders_earn_and_members_move_between_tiers);

fn tier(code: &str, name: &str, qualify: i64, keep: i64, pct: i64) -> Tier {
    Tier {
        code: code.into(),
        name: name.into(),
        qualify,
        keep,
        accrual_percent: pct,
    }
}

fn programme(name: &str) -> ProgramInput {
    let today = Utc::now().date_naive();
    ProgramInput {
        name: name.into(),
        basis: TierBasis::Spend,
        window_days: 365,
        points_per_yuan: 1,
        expiry_months: 12,
        starts_on: today - Duration::days(30),
        active: true,
        tiers: vec![
            tier("basic", "普通", 0, 0, 100),
            tier("silver", "银卡", 10_000, 8_000, 150),
            tier("gold", "金卡", 50_000, 40_000, 200),
        ],
        category_rates: vec![CategoryRate {
            category: "tea".into(),
            percent: 200,
        }],
        promotions: vec![Promotion {
            name: "far away".into(),
            from: today + Duration::days(300),
            to: today + Duration::days(301),
            percent: 1000,
            category: None,
        }],
    }
}

fn order(customer: i64, at: chrono::DateTime<Utc>, category: &str, yuan: i64) -> NewOrder {
    let mut o = ten_yuan_order(customer, at);
    o.lines[0].sku = format!("SKU-{category}");
    o.lines[0].category = Some(category.into());
    o.lines[0].unit_price_minor = yuan * 100;
    o
}

async fn orders_earn_and_members_move_between_tiers(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let a = person(s, &admin, "会员甲", None).await.id;
    let b = person(s, &admin, "会员乙", None).await.id;
    let now = Utc::now();
    // Before the programme's start: earns nothing. Then ¥120 of tea (×2) for A.
    s.create_order(&admin, order(b, now - Duration::days(60), "tea", 500))
        .await
        .unwrap();
    let p = s
        .create_loyalty_program(&admin, &programme("会员计划").validate().unwrap(), 8)
        .await
        .unwrap();
    s.create_order(&admin, order(a, now - Duration::days(1), "tea", 120))
        .await
        .unwrap();
    let r = s.loyalty_accrue_orders(8).await.unwrap();
    assert_eq!((r.earned, r.points, r.more), (1, 240, false));
    assert_eq!(s.loyalty_balance(a).await.unwrap().points, 240);
    assert_eq!(s.loyalty_balance(b).await.unwrap().points, 0);
    let m = s.loyalty_membership(a).await.unwrap().unwrap();
    assert_eq!((m.0, m.1.as_deref()), (p.id, Some("basic")));
    // A repeated sweep (the mark put back) earns nothing twice.
    db.execute("UPDATE loyalty_programs SET accrued_through = 0")
        .await;
    let again = s.loyalty_accrue_orders(8).await.unwrap();
    assert_eq!(again.earned, 0);
    assert_eq!(s.loyalty_balance(a).await.unwrap().points, 240);

    // ¥120 in the window: silver (qualify ¥100). B's ¥500 of 60 days ago, before the
    // programme but inside its window, counts for the tier: B joins at the first tier and
    // moves up to gold in the same evaluation.
    let t = s.loyalty_evaluate_tiers(now).await.unwrap();
    assert_eq!((t.joined, t.up, t.down), (1, 2, 0), "{t:?}");
    assert_eq!(
        s.loyalty_membership(a).await.unwrap().unwrap().1.as_deref(),
        Some("silver")
    );
    assert_eq!(
        s.loyalty_membership(b).await.unwrap().unwrap().1.as_deref(),
        Some("gold")
    );
    let line = s.timeline(&admin, a, None, 50).await.unwrap();
    let ev = line
        .iter()
        .find(|i| i.kind == TimelineKind::Tier)
        .expect("a tier event on the timeline");
    assert_eq!(ev.code, "up");
    assert_eq!(ev.title.as_deref(), Some("普通 → 银卡"));
    // Nothing changed: nothing written.
    let t = s.loyalty_evaluate_tiers(now).await.unwrap();
    assert_eq!((t.up, t.down, t.joined), (0, 0, 0));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM loyalty_tier_changes").await,
        2
    );

    // Silver earns ×1.5 on tea's ×2: ¥10 → 30 points.
    s.create_order(&admin, order(a, now, "tea", 10))
        .await
        .unwrap();
    assert_eq!(s.loyalty_accrue_orders(8).await.unwrap().points, 30);

    // Below silver's qualifying line but above its keeping line: stays; below both: down.
    db.execute(&format!(
        "UPDATE customer_purchases SET spend_365d_minor = 8500 WHERE customer_id = {a}"
    ))
    .await;
    assert_eq!(s.loyalty_evaluate_tiers(now).await.unwrap().down, 0);
    db.execute(&format!(
        "UPDATE customer_purchases SET spend_365d_minor = 7000 WHERE customer_id = {a}"
    ))
    .await;
    assert_eq!(s.loyalty_evaluate_tiers(now).await.unwrap().down, 1);
    assert_eq!(
        s.loyalty_membership(a).await.unwrap().unwrap().1.as_deref(),
        Some("basic")
    );

    // A second active programme pauses the first and takes its members over.
    let mut second = programme("新会员计划");
    second.tiers = vec![
        tier("basic", "普通会员", 0, 0, 100),
        tier("vip", "贵宾", 20_000, 20_000, 300),
    ];
    let q = s
        .create_loyalty_program(&admin, &second.validate().unwrap(), 8)
        .await
        .unwrap();
    assert!(!s.get_loyalty_program(p.id).await.unwrap().program.active);
    s.loyalty_evaluate_tiers(now).await.unwrap();
    assert_eq!(
        s.loyalty_membership(b).await.unwrap().unwrap(),
        (q.id, Some("vip".to_string()), Some(now_ms_floor(now)))
    );
    assert_eq!(s.get_loyalty_program(q.id).await.unwrap().members, 2);
    // A taken name and a stale version are refused.
    let dup = s
        .create_loyalty_program(&admin, &programme("新会员计划").validate().unwrap(), 8)
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Duplicate { .. }), "{dup:?}");
    let stale = s
        .update_loyalty_program(&admin, q.id, q.version + 5, &second, 8)
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale:?}");
}

fn now_ms_floor(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap()
}
