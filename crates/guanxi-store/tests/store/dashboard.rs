//! Store tests: the dashboard's rollups (migration 0017) agree with the rows they summarise
//! after every kind of write. Both backends.

use super::*;
use guanxi_store::load::HistoryLoad;

on_both_backends!(rollups_follow_every_write);

/// Rows where a rollup and a fresh count from the base tables disagree (either side).
async fn disagreements(db: &TestDb) -> Vec<(String, i64)> {
    let checks = [
        (
            "order_hours",
            "SELECT owner_key, hour, orders, revenue_minor FROM order_hours \
             WHERE orders <> 0 OR revenue_minor <> 0",
            "SELECT COALESCE(c.owner_id, 0), o.ordered_at / 3600000, COUNT(*), \
             SUM(o.total_minor) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1, 2",
        ),
        (
            "order_owner_totals",
            "SELECT owner_key, orders, revenue_minor FROM order_owner_totals \
             WHERE orders <> 0 OR revenue_minor <> 0",
            "SELECT COALESCE(c.owner_id, 0), COUNT(*), SUM(o.total_minor) \
             FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1",
        ),
        (
            "customer_hours",
            "SELECT owner_key, hour, customers FROM customer_hours WHERE customers <> 0",
            "SELECT COALESCE(owner_id, 0), created_at / 3600000, COUNT(*) FROM customers \
             WHERE deleted_at IS NULL GROUP BY 1, 2",
        ),
        (
            "customer_stages",
            "SELECT owner_key, stage, customers FROM customer_stages WHERE customers <> 0",
            "SELECT COALESCE(owner_id, 0), lifecycle_stage, COUNT(*) FROM customers \
             WHERE deleted_at IS NULL GROUP BY 1, 2",
        ),
    ];
    let mut out = Vec::new();
    for (name, rollup, fresh) in checks {
        for (a, b) in [(rollup, fresh), (fresh, rollup)] {
            let n = db
                .scalar(&format!(
                    "SELECT COUNT(*) FROM (SELECT * FROM ({a}) x EXCEPT SELECT * FROM ({b}) y) z"
                ))
                .await;
            if n > 0 {
                out.push((name.to_string(), n));
            }
        }
    }
    out
}

fn order_at(customer_id: i64, days_ago: i64) -> (NewOrder, i64) {
    let o = ten_yuan_order(customer_id, Utc::now() - chrono::Duration::days(days_ago));
    let total = o.validate(Utc::now()).unwrap();
    (o, total)
}

/// Orders one by one and in bulk, a change of owner and of stage, a soft delete, a merge and
/// its undo, and moving creation times back to the history: after each, every rollup row
/// equals a fresh count, and the dashboard reads them.
async fn rollups_follow_every_write(db: &TestDb) {
    let s = &db.store;
    let north = s.create_team(&Actor::system(), "north").await.unwrap();
    let south = s.create_team(&Actor::system(), "south").await.unwrap();
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, Some(north.id)).await;
    let other = user(s, "other", Role::Sales, Some(south.id)).await;
    let a = person(s, &rep, "赵一", Some("13800000001")).await;
    let b = person(s, &rep, "钱二", Some("13800000002")).await;
    let c = person(s, &other, "孙三", Some("13800000003")).await;
    let check = |step: &'static str| async move {
        assert_eq!(
            disagreements(db).await,
            Vec::<(String, i64)>::new(),
            "after {step}"
        );
    };
    check("creating customers").await;

    // An import (and the demo's bulk insert, the same writer) pauses the per-row trigger on
    // SQLite and adds its customers with one aggregate; the trigger is back afterwards.
    let rows = ["周四", "吴五"]
        .into_iter()
        .map(|name| {
            let f = fields(json!({"kind": "individual", "name": name, "owner_id": other.id}));
            guanxi_store::import::ImportWrite::Insert(f.validate(admin.id, Utc::now()).unwrap())
        })
        .collect();
    s.import_customers(&admin, rows, std::sync::Arc::new(|_| {}), None)
        .await
        .unwrap();
    check("an import").await;
    let d = person(s, &other, "郑六", None).await;
    check("a customer created after the import").await;

    s.create_order(
        &rep,
        ten_yuan_order(a.id, Utc::now() - chrono::Duration::days(40)),
    )
    .await
    .unwrap();
    let mut load = HistoryLoad::default();
    for (customer, days) in [(a.id, 3), (b.id, 100), (c.id, 5), (c.id, 400)] {
        load.orders.push(order_at(customer, days));
    }
    s.load_history(&admin, load).await.unwrap();
    check("orders").await;
    let before = s.dashboard(&rep, 24, 8).await.unwrap();
    assert_eq!((before.customers, before.orders), (2, 3));

    let a = s.get_customer(&admin, a.id).await.unwrap();
    s.update_customer(
        &admin,
        a.id,
        serde_json::from_value(
            json!({"version": a.meta.version, "owner_id": other.id, "lifecycle_stage": "dormant"}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    check("a change of owner and stage").await;
    let after = s.dashboard(&rep, 24, 8).await.unwrap();
    assert_eq!(
        (after.customers, after.orders),
        (1, 1),
        "a's orders went with a"
    );
    let theirs = s.dashboard(&other, 24, 8).await.unwrap();
    assert_eq!((theirs.customers, theirs.orders), (5, 4));
    assert!(theirs.by_stage.contains(&("dormant".to_string(), 1)));

    let merged = s
        .merge_customers(&admin, c.id, c.meta.version, b.id, b.meta.version, &[])
        .await
        .unwrap();
    check("a merge").await;
    s.undo_merge(&admin, merged.merge_id).await.unwrap();
    check("undoing the merge").await;

    let b = s.get_customer(&admin, b.id).await.unwrap();
    s.delete_customer(&admin, b.id, b.meta.version)
        .await
        .unwrap();
    check("a soft delete").await;
    s.backdate_created_to_history().await.unwrap();
    check("moving creation times back").await;
    s.compact_rollups().await.unwrap();
    check("compacting the rollups after a load").await;
    let all = s.dashboard(&admin, 24, 8).await.unwrap();
    assert_eq!((all.customers, all.orders, all.revenue_minor), (5, 5, 5000));
    assert_eq!(
        all.new_per_month.iter().map(|m| m.1).sum::<i64>(),
        5,
        "every live customer is new within the two years: {:?}",
        all.new_per_month
    );
    assert!(d.id > 0);
}
