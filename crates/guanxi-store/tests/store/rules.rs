//! Rules on both backends: the dry run counts whom a rule would fire for; a run fires once per
//! customer and cause (a second run, or the same day again, fires nothing), acts (task for the
//! owner, tag, points) in the transaction that marks the firing done; a set rule fires on
//! entering, again only after leaving and coming back on another day; an event rule fires for
//! what happens after it was saved; an unusual order is told from a customer's usual ones.

use super::*;
use chrono::Duration;
use guanxi_domain::rule::{Action, RuleInput, Trigger};
use guanxi_domain::segment::{AsOf, SegmentInput};

on_both_backends!(
    a_spend_threshold_fires_once_and_acts,
    a_set_rule_fires_on_entering_and_an_event_rule_on_new_orders
);

fn rule(name: &str, trigger: Trigger, actions: Vec<Action>) -> RuleInput {
    RuleInput {
        name: name.into(),
        trigger,
        segment_id: None,
        actions,
        active: true,
    }
}

fn at(days: i64) -> AsOf {
    let now = Utc::now() + Duration::days(days);
    AsOf {
        now,
        today: now.date_naive(),
        utc_offset_hours: 0,
    }
}

async fn order_of(s: &Store, actor: &Actor, customer: i64, yuan: i64, days_ago: i64) -> i64 {
    let mut o = ten_yuan_order(customer, Utc::now() - Duration::days(days_ago));
    o.lines[0].unit_price_minor = yuan * 100;
    s.create_order(actor, o).await.unwrap().id
}

async fn a_spend_threshold_fires_once_and_acts(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let a = person(s, &rep, "大客户甲", None).await.id;
    let b = person(s, &rep, "大客户乙", None).await.id;
    let c = person(s, &rep, "小客户", None).await.id;
    order_of(s, &rep, a, 80, 3).await;
    order_of(s, &rep, a, 40, 2).await;
    order_of(s, &rep, b, 300, 1).await;
    order_of(s, &rep, c, 20, 1).await;
    let input = rule(
        "累计消费满百",
        Trigger::SpendReached {
            amount_minor: 10_000,
        },
        vec![
            Action::Task {
                title: "致电感谢".into(),
                due_days: 2,
            },
            Action::AddTag {
                tag: "百元客户".into(),
            },
            Action::AwardPoints {
                points: 50,
                expiry_months: 12,
            },
        ],
    )
    .validate()
    .unwrap();
    // The dry run names who it would reach before the rule exists.
    let p = s.preview_rule(&input, None, at(0)).await.unwrap();
    assert_eq!((p.customers, p.firings), (2, 2), "{p:?}");
    assert_eq!(p.sample.len(), 2);
    let r = s.create_rule(&admin, &input).await.unwrap();
    let run = s.run_rules(at(0), true).await.unwrap();
    assert_eq!((run.fired, run.done, run.failed), (2, 2, 0), "{run:?}");
    // The owner has the task, the customer the tag and the points.
    let tasks = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM tasks WHERE customer_id = {a} AND assignee_id = {} AND title = '致电感谢'",
            rep.id
        ))
        .await;
    assert_eq!(tasks, 1);
    let fa = s.get_customer(&admin, a).await.unwrap();
    assert!(fa.tags.contains(&"百元客户".to_string()), "{:?}", fa.tags);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM customer_tags WHERE customer_id = {a} AND tag = '百元客户'"
        ))
        .await,
        1
    );
    assert_eq!(s.loyalty_balance(a).await.unwrap().points, 50);
    assert_eq!(s.loyalty_balance(c).await.unwrap().points, 0);
    // Never twice for the same cause: a second run, and a run tomorrow, fire nothing.
    assert_eq!(s.run_rules(at(0), true).await.unwrap().fired, 0);
    assert_eq!(s.run_rules(at(1), true).await.unwrap().fired, 0);
    assert_eq!(
        s.preview_rule(&input, Some(r.id), at(0))
            .await
            .unwrap()
            .customers,
        0
    );
    assert_eq!(s.loyalty_balance(a).await.unwrap().points, 50);
    let log = s.rule_firings(Some(r.id), 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|f| f.status == "done" && f.cause == "spend:10000"));
    assert!(
        log[0].outcome.as_deref().unwrap().contains("+50 points"),
        "{log:?}"
    );
    // C passes the line later: fired then, once.
    order_of(s, &rep, c, 90, 0).await;
    assert_eq!(s.run_rules(at(0), true).await.unwrap().fired, 1);
    assert_eq!(s.get_rule(r.id).await.unwrap().fired, 3);
    // The other thresholds' and events' SQL runs on this backend too.
    for t in [
        Trigger::ComplaintsReached { count: 2, days: 90 },
        Trigger::TicketOpened {
            ticket_kind: Some("complaint".into()),
        },
        Trigger::TicketResolved { ticket_kind: None },
        Trigger::Occasion {
            occasion: "birthday".into(),
            days_before: 3,
        },
        Trigger::OrdersFalling,
        Trigger::TurnedDormant,
    ] {
        let p = s
            .preview_rule(&rule("x", t.clone(), input.actions.clone()), None, at(0))
            .await
            .unwrap();
        assert_eq!(p.customers, 0, "{t:?}");
    }
    // A taken name and a stale version are refused; a missing segment is named.
    let dup = s.create_rule(&admin, &input).await.unwrap_err();
    assert!(matches!(dup, StoreError::Duplicate { .. }), "{dup:?}");
    let stale = s
        .update_rule(&admin, r.id, r.version + 3, &input)
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale:?}");
    let mut gone = input.clone();
    gone.name = "另一个".into();
    gone.segment_id = Some(999_999);
    let e = s.create_rule(&admin, &gone).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
}

async fn a_set_rule_fires_on_entering_and_an_event_rule_on_new_orders(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let a = person(s, &admin, "风险客户", None).await.id;
    let b = person(s, &admin, "稳定客户", None).await.id;
    let scores = |c: i64, p: f64| {
        format!(
            "INSERT INTO customer_scores (customer_id, recency_days, frequency, monetary_minor, r_score, f_score, m_score, \
             rfm_segment, value_cell, abc_class, activity, typical_interval_days, orders_falling, churn_probability, computed_at) \
             VALUES ({c}, 10, 1, 100, 3, 3, 3, 'loyal', 'hh', 'A', 'active', 30, FALSE, {p}, 0)"
        )
    };
    db.execute(&scores(a, 0.85)).await;
    db.execute(&scores(b, 0.10)).await;
    let churn = rule(
        "流失预警",
        Trigger::ChurnRisk { percent: 70 },
        vec![Action::Task {
            title: "回访挽留".into(),
            due_days: 1,
        }],
    )
    .validate()
    .unwrap();
    assert_eq!(
        s.preview_rule(&churn, None, at(0)).await.unwrap().customers,
        1
    );
    let r = s.create_rule(&admin, &churn).await.unwrap();
    assert_eq!(s.run_rules(at(0), true).await.unwrap().fired, 1);
    assert_eq!(
        s.run_rules(at(0), true).await.unwrap().fired,
        0,
        "still in the set"
    );
    // A leaves the set, and comes back the next day: a new cause.
    db.execute(&format!(
        "UPDATE customer_scores SET churn_probability = 0.2 WHERE customer_id = {a}"
    ))
    .await;
    assert_eq!(s.run_rules(at(0), true).await.unwrap().fired, 0);
    db.execute(&format!(
        "UPDATE customer_scores SET churn_probability = 0.9 WHERE customer_id = {a}"
    ))
    .await;
    assert_eq!(s.run_rules(at(1), true).await.unwrap().fired, 1);
    let causes: Vec<String> = s
        .rule_firings(Some(r.id), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.cause)
        .collect();
    assert_eq!(causes.len(), 2);
    assert_ne!(causes[0], causes[1]);
    // Left-segment rule over a saved segment: fires when a customer's city changes.
    let seg: SegmentInput = serde_json::from_value(json!({
        "name": "上海客户", "description": "",
        "rule": {"clauses": [{"field": "city", "op": "eq", "value": "上海"}]}}))
    .unwrap();
    let seg = s.create_segment(&admin, &seg, at(0)).await.unwrap();
    let left = rule(
        "离开上海",
        Trigger::SegmentLeft { segment_id: seg.id },
        vec![Action::RemoveTag { tag: "vip".into() }],
    )
    .validate()
    .unwrap();
    s.create_rule(&admin, &left).await.unwrap();
    s.run_rules(at(0), true).await.unwrap();
    db.execute(&format!(
        "UPDATE customers SET city = '北京' WHERE id = {b}"
    ))
    .await;
    let run = s.run_rules(at(0), true).await.unwrap();
    assert_eq!(run.fired, 1, "{run:?}");
    let fb = s.get_customer(&admin, b).await.unwrap();
    assert!(!fb.tags.contains(&"vip".to_string()), "tag taken off");

    // An event rule reads only orders placed after it was saved.
    let old_big = order_of(s, &admin, a, 900, 5).await;
    let big = rule(
        "大额订单",
        Trigger::OrderPlaced {
            min_amount_minor: 50_000,
        },
        vec![Action::AddTag {
            tag: "大单".into()
        }],
    )
    .validate()
    .unwrap();
    let p = s.preview_rule(&big, None, at(0)).await.unwrap();
    assert_eq!(
        (p.customers, p.days),
        (1, Some(30)),
        "the dry run looks back"
    );
    let e = s.create_rule(&admin, &big).await.unwrap();
    order_of(s, &admin, b, 100, 0).await;
    let new_big = order_of(s, &admin, b, 600, 0).await;
    s.run_rules(at(0), false).await.unwrap();
    let log = s.rule_firings(Some(e.id), 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].cause, format!("order:{new_big}"));
    assert_ne!(log[0].cause, format!("order:{old_big}"));

    // An unusual order: six orders near ¥100, then ¥5,000.
    let c = person(s, &admin, "常客", None).await.id;
    for (i, y) in [100, 105, 98, 110, 95, 102].iter().enumerate() {
        order_of(s, &admin, c, *y, 20 - i as i64).await;
    }
    let odd = rule(
        "异常交易",
        Trigger::OrderAnomaly,
        vec![Action::Task {
            title: "核实交易".into(),
            due_days: 0,
        }],
    )
    .validate()
    .unwrap();
    let o = s.create_rule(&admin, &odd).await.unwrap();
    order_of(s, &admin, c, 103, 1).await;
    let huge = order_of(s, &admin, c, 5000, 0).await;
    s.run_rules(at(0), false).await.unwrap();
    let log = s.rule_firings(Some(o.id), 10).await.unwrap();
    assert_eq!(
        log.iter().map(|f| f.cause.as_str()).collect::<Vec<_>>(),
        [format!("order:{huge}").as_str()]
    );
}
