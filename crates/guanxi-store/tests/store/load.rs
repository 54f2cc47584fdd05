//! Store tests: the bulk history load behind `guanxi demo` at scale. Both backends.

use super::*;
use guanxi_domain::interaction::{NewInteraction, NewTask};
use guanxi_domain::vocabulary::{CustomerKind, InteractionChannel};
use guanxi_store::load::HistoryLoad;

on_both_backends!(
    a_history_load_writes_rows_events_and_one_audit_entry,
    a_bad_row_loads_nothing,
    set_aside_indexes_come_back_the_same,
);

fn interaction(subject: &str) -> guanxi_domain::interaction::ValidInteraction {
    NewInteraction {
        channel: InteractionChannel::Phone,
        direction: None,
        subject: subject.into(),
        body: Some("called back".into()),
        occurred_at: Some(Utc::now() - chrono::Duration::days(3)),
        purpose: None,
    }
    .validate(Utc::now())
    .unwrap()
}

/// Orders with their lines, interactions, tasks and relations land as a single write would
/// leave them: on the customer's timeline in time order, in the order totals, with the
/// relation visible from both ends — plus one audit entry with the counts.
async fn a_history_load_writes_rows_events_and_one_audit_entry(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let a = person(s, &admin, "张三", None).await;
    let b = person(s, &admin, "李四", None).await;
    let before_audit = db.scalar("SELECT COUNT(*) FROM audit_log").await;
    let day = |n| Utc::now() - chrono::Duration::days(n);
    let mut load = HistoryLoad::default();
    for (customer, age) in [(a.id, 10), (a.id, 5), (b.id, 7)] {
        let mut o = ten_yuan_order(customer, day(age));
        o.lines.push(NewOrderLine {
            sku: "NEW-SKU".into(),
            product_name: Some("新品".into()),
            category: Some("tea".into()),
            quantity: 2,
            unit_price_minor: 500,
        });
        let total = o.validate(Utc::now()).unwrap();
        load.orders.push((o, total));
    }
    load.interactions
        .push((admin.id, a.id, interaction("回访")));
    load.tasks.push((
        a.id,
        NewTask {
            title: "寄样品".into(),
            due_at: day(-2),
            assignee_id: Some(admin.id),
            note: None,
        }
        .validate(None)
        .unwrap(),
    ));
    load.relations.push((
        a.id,
        CustomerKind::Individual,
        CustomerKind::Individual,
        NewRelation {
            to_customer_id: b.id,
            kind: RelationKind::Spouse,
            role: None,
            note: None,
            source: None,
        },
    ));
    let counts = s.load_history(&admin, load).await.unwrap();
    assert_eq!(
        (
            counts.orders,
            counts.lines,
            counts.interactions,
            counts.tasks,
            counts.relations
        ),
        (3, 6, 1, 1, 1)
    );
    assert_eq!(s.order_totals(&admin).await.unwrap(), (3, 6000));
    let timeline = s.timeline(&admin, a.id, None, 50).await.unwrap();
    use guanxi_domain::records::TimelineKind as K;
    let kinds: Vec<K> = timeline.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [K::Task, K::Interaction, K::Order, K::Order],
        "{timeline:?}"
    );
    assert_eq!(timeline[2].amount_minor, Some(2000));
    assert_eq!(s.list_relations(&admin, b.id).await.unwrap().len(), 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log").await,
        before_audit + 1
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM products WHERE sku = 'NEW-SKU'")
            .await,
        1
    );
    // A second load continues the ids where the first stopped.
    let mut load = HistoryLoad::default();
    let o = ten_yuan_order(b.id, day(1));
    let total = o.validate(Utc::now()).unwrap();
    load.orders.push((o, total));
    s.load_history(&admin, load).await.unwrap();
    assert_eq!(s.timeline(&admin, b.id, None, 50).await.unwrap().len(), 2);
}

/// A relation the domain refuses (a company cannot be a spouse) stops the whole load.
async fn a_bad_row_loads_nothing(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let a = person(s, &admin, "王五", None).await;
    let mut load = HistoryLoad::default();
    let o = ten_yuan_order(a.id, Utc::now() - chrono::Duration::days(1));
    let total = o.validate(Utc::now()).unwrap();
    load.orders.push((o, total));
    load.relations.push((
        a.id,
        CustomerKind::Individual,
        CustomerKind::Company,
        NewRelation {
            to_customer_id: a.id,
            kind: RelationKind::Spouse,
            role: None,
            note: None,
            source: None,
        },
    ));
    let err = s.load_history(&admin, load).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(s.order_totals(&admin).await.unwrap(), (0, 0));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM customer_events").await, 0);
}

/// The secondary indexes of the customers and their purchase facts a bulk load sets aside
/// come back exactly as they were,
/// when the load is done and, after a load that died half-way, at the next start.
async fn set_aside_indexes_come_back_the_same(db: &TestDb) {
    let s = &db.store;
    let catalogue = match s.backend() {
        Backend::Sqlite => {
            "SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('customers', 'customer_purchases') AND sql IS NOT NULL ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname || ': ' || indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() \
             AND tablename IN ('customers', 'customer_purchases') ORDER BY indexname"
        }
    };
    let indexes = || db.strings(catalogue);
    let before = indexes().await;
    assert!(before.len() > 30, "{before:#?}");
    assert!(before
        .iter()
        .any(|i| i.starts_with("customer_purchases_spend_365d")));
    let aside = s.set_aside_customer_indexes().await.unwrap();
    let during = indexes().await;
    assert_eq!(during.len() + aside, before.len());
    // What stays are rules (the primary key, unique indexes), not shortcuts.
    assert!(
        during
            .iter()
            .all(|d| d.contains("UNIQUE") || d.contains("pkey") || d.contains("autoindex")),
        "{during:#?}"
    );
    let admin = user(s, "admin", Role::Admin, None).await;
    person(s, &admin, "索引 Index", None).await;
    assert_eq!(s.restore_set_aside_indexes().await.unwrap(), aside);
    assert_eq!(indexes().await, before);
    // A load that dies with its indexes aside: the next start builds them.
    s.set_aside_customer_indexes().await.unwrap();
    s.migrate().await.unwrap();
    assert_eq!(indexes().await, before);
    assert_eq!(s.restore_set_aside_indexes().await.unwrap(), 0);
}
