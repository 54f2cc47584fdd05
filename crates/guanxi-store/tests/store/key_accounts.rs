//! Store tests on both backends for key accounts: made by hand within the rep's scope, its
//! managers and plan changed at the version read, the dashboard's figures from orders, deals
//! and interactions, the rule (ABC class A, top by CLV) adding and ending its picks but never
//! the people's, and the visit cadence giving one task at a time to the manager.

use super::*;
use chrono::Duration;
use guanxi_domain::key_account::{KeyAccountInput, KeyAccountRule, PlanInput, RuleInput};

on_both_backends!(
    a_key_account_has_managers_a_plan_and_figures,
    the_rule_picks_and_the_cadence_gives_visits,
);

const PICKED: &str = "SELECT CAST(customer_id AS TEXT) FROM key_accounts ORDER BY customer_id";

fn managed(manager: Option<i64>, version: Option<i64>) -> KeyAccountInput {
    KeyAccountInput {
        manager_id: manager,
        deputy_id: None,
        cadence_days: 30,
        wallet_minor: Some(100_000),
        version,
    }
}

async fn a_key_account_has_managers_a_plan_and_figures(db: &TestDb) {
    let s = &db.store;
    let rep = user(s, "rep", Role::Sales, None).await;
    let other = user(s, "other", Role::Sales, None).await;
    let c = person(s, &rep, "大华集团", None).await;
    let theirs = person(s, &other, "远方公司", None).await;
    // Only a customer in the rep's scope; the manager defaults to the customer's owner.
    let err = s
        .set_key_account(&rep, theirs.id, &managed(None, None))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let k = s
        .set_key_account(&rep, c.id, &managed(None, None))
        .await
        .unwrap();
    assert_eq!(
        (k.manager_id, k.origin.as_str(), k.version),
        (Some(rep.id), "manual", 1)
    );
    // Orders this year and last, an open deal, no contact yet.
    let now = Utc::now();
    for days in [10, 40, 400] {
        s.create_order(&rep, ten_yuan_order(c.id, now - Duration::days(days)))
            .await
            .unwrap();
    }
    let deal: guanxi_domain::pipeline::OpportunityInput = serde_json::from_value(json!({
        "customer_id": c.id, "name": "年度框架", "pipeline_id": 1, "amount_minor": 900_000}))
    .unwrap();
    s.create_opportunity(&rep, &deal).await.unwrap();
    let (_, row) = s.key_account(&rep, c.id, now).await.unwrap();
    assert_eq!(
        (
            row.revenue_minor,
            row.previous_revenue_minor,
            row.open_deals,
            row.open_deals_minor
        ),
        (2000, 1000, 1, 900_000)
    );
    assert_eq!(row.share_of_wallet, Some(0.02));
    assert!(row.overdue, "never contacted");
    assert_eq!(s.key_accounts(&rep, true, now).await.unwrap().len(), 1);
    assert!(s.key_accounts(&other, false, now).await.unwrap().is_empty());
    // The plan at its version; the same stale version again is a conflict.
    let plan: PlanInput = serde_json::from_value(json!({
        "goals": "年采购额翻倍", "risks": "竞争对手降价",
        "contacts": [{"name": "陈总", "role": "决策人", "attitude": "supporter"}],
        "actions": [{"what": "季度业务回顾", "due": "2027-03-31"}],
        "version": k.version}))
    .unwrap();
    let saved = s.save_key_account_plan(&rep, c.id, &plan).await.unwrap();
    assert_eq!(
        (saved.contacts.len(), saved.actions.len(), saved.version),
        (1, 1, 2)
    );
    assert!(matches!(
        s.save_key_account_plan(&rep, c.id, &plan)
            .await
            .unwrap_err(),
        StoreError::Conflict { .. }
    ));
    // Changing its managers needs the current version too.
    assert!(matches!(
        s.set_key_account(&rep, c.id, &managed(Some(other.id), Some(1)))
            .await
            .unwrap_err(),
        StoreError::Conflict { .. }
    ));
    let moved = s
        .set_key_account(&rep, c.id, &managed(Some(other.id), Some(2)))
        .await
        .unwrap();
    assert_eq!(moved.manager_id, Some(other.id));
    // Merged into a record that is no key account, the account follows; an undo takes it back.
    let twin = person(s, &rep, "大华集团（重复）", None).await;
    let admin = user(s, "admin", Role::Admin, None).await;
    let twin = s.get_customer(&admin, twin.id).await.unwrap();
    let cur = s.get_customer(&admin, c.id).await.unwrap();
    let merged = s
        .merge_customers(
            &admin,
            twin.id,
            twin.meta.version,
            c.id,
            cur.meta.version,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        s.key_account(&rep, twin.id, now)
            .await
            .unwrap()
            .0
            .manager_id,
        Some(other.id)
    );
    s.undo_merge(&admin, merged.merge_id).await.unwrap();
    assert!(s.key_account(&rep, c.id, now).await.is_ok());
    assert!(matches!(
        s.key_account(&rep, twin.id, now).await.unwrap_err(),
        StoreError::NotFound
    ));
    s.remove_key_account(&rep, c.id).await.unwrap();
    assert!(matches!(
        s.key_account(&rep, c.id, now).await.unwrap_err(),
        StoreError::NotFound
    ));
    let actions = db
        .strings(&format!(
            "SELECT action FROM audit_log WHERE entity = 'key_account' AND entity_id = {} ORDER BY id",
            c.id
        ))
        .await;
    assert_eq!(
        actions,
        [
            "create_key_account",
            "save_key_account_plan",
            "update_key_account",
            "remove_key_account"
        ]
    );
}

async fn the_rule_picks_and_the_cadence_gives_visits(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let mut ids = Vec::new();
    for (i, (abc, clv)) in [("A", 900), ("A", 500), ("B", 800), ("C", 100)]
        .iter()
        .enumerate()
    {
        let c = person(s, &rep, &format!("客户{i}"), None).await;
        db.execute(&format!(
            "INSERT INTO customer_scores (customer_id, recency_days, frequency, monetary_minor, \
             r_score, f_score, m_score, rfm_segment, value_cell, abc_class, activity, \
             typical_interval_days, orders_falling, clv_minor, computed_at) VALUES ({}, 10, 1, \
             100, 3, 3, 3, 'loyal', 'hh', '{abc}', 'active', 30, FALSE, {clv}, 0)",
            c.id
        ))
        .await;
        ids.push(c.id);
    }
    let rule = s.key_account_rule().await.unwrap();
    let set = |r: KeyAccountRule, version: i64| RuleInput {
        rule: r,
        clv_top_percent: 50,
        version,
    };
    let r = s
        .set_key_account_rule(&admin, &set(KeyAccountRule::AbcA, rule.version))
        .await
        .unwrap();
    let report = s.apply_key_account_rule(&admin).await.unwrap();
    assert_eq!((report.picked, report.added, report.ended), (2, 2, 0));
    assert_eq!(
        db.strings(PICKED).await,
        [ids[0].to_string(), ids[1].to_string()]
    );
    // Someone writes a plan for the second: it is the people's now.
    let plan: PlanInput = serde_json::from_value(json!({"goals": "保持", "version": 1})).unwrap();
    s.save_key_account_plan(&rep, ids[1], &plan).await.unwrap();
    // Top 50 % by CLV: the first and the third; the second stays (changed by people).
    s.set_key_account_rule(&admin, &set(KeyAccountRule::ClvTop, r.version))
        .await
        .unwrap();
    let report = s.apply_key_account_rule(&admin).await.unwrap();
    assert_eq!((report.picked, report.added, report.ended), (2, 1, 0));
    assert_eq!(
        db.strings(PICKED).await,
        [ids[0].to_string(), ids[1].to_string(), ids[2].to_string()]
    );
    // The cadence: nobody has been in touch, so each gets one visit task for its manager.
    let now = Utc::now();
    let v = s.key_account_visits(now, "拜访").await.unwrap();
    assert_eq!(v.tasks, 3);
    assert_eq!(
        s.key_account_visits(now, "拜访").await.unwrap().tasks,
        0,
        "one open task each"
    );
    let assignees = db
        .strings("SELECT DISTINCT CAST(assignee_id AS TEXT) FROM tasks WHERE title = '拜访'")
        .await;
    assert_eq!(assignees, [rep.id.to_string()]);
    // A contact within the cadence, and the task done: no new task for that one.
    db.execute(&format!(
        "UPDATE tasks SET done_at = {} WHERE customer_id IN ({}, {})",
        now.timestamp_millis(),
        ids[0],
        ids[1]
    ))
    .await;
    db.execute(&format!(
        "INSERT INTO interactions (customer_id, channel, direction, subject, occurred_at, \
         created_at, updated_at) VALUES ({}, 'visit', 'outbound', '拜访', {}, {}, {})",
        ids[0],
        now.timestamp_millis(),
        now.timestamp_millis(),
        now.timestamp_millis()
    ))
    .await;
    assert_eq!(s.key_account_visits(now, "拜访").await.unwrap().tasks, 1);
}
