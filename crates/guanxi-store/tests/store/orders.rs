//! Store tests: orders and products. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(orders_and_products,);

async fn orders_and_products(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "赵六", None).await;
    let line = |sku: &str, q, p| NewOrderLine {
        sku: sku.into(),
        product_name: Some(format!("{sku} name")),
        category: Some("tea".into()),
        quantity: q,
        unit_price_minor: p,
    };
    let o = s
        .create_order(
            &admin,
            NewOrder {
                customer_id: c.id,
                ordered_at: Utc::now(),
                currency: "CNY".into(),
                channel: OrderChannel::Store,
                store: Some("静安店".into()),
                external_ref: Some("R-1".into()),
                lines: vec![line("T1", 2, 1500), line("T2", 1, 999)],
            },
        )
        .await
        .unwrap();
    assert_eq!(o.total_minor, 3999);
    assert_eq!(o.lines.len(), 2);
    let dup = s
        .create_order(
            &admin,
            NewOrder {
                customer_id: c.id,
                ordered_at: Utc::now(),
                currency: "CNY".into(),
                channel: OrderChannel::Store,
                store: None,
                external_ref: Some("R-1".into()),
                lines: vec![line("T1", 1, 1)],
            },
        )
        .await;
    assert!(
        matches!(
            dup,
            Err(StoreError::Duplicate {
                field: "external_ref"
            })
        ),
        "{dup:?}"
    );
    let missing = s
        .create_order(
            &admin,
            NewOrder {
                customer_id: 999_999,
                ordered_at: Utc::now(),
                currency: "CNY".into(),
                channel: OrderChannel::Store,
                store: None,
                external_ref: None,
                lines: vec![line("T1", 1, 1)],
            },
        )
        .await;
    assert!(matches!(missing, Err(StoreError::Invalid(_))));
    let list = s
        .list_orders(
            &admin,
            &OrderFilter {
                customer_id: Some(c.id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        list.items.len(),
        1,
        "the failed duplicate left nothing behind"
    );
    assert_eq!(list.items[0].lines[0].sku, "T1");
    assert_eq!(s.order_totals(&admin).await.unwrap(), (1, 3999));
}
