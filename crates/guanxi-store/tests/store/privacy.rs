//! Store tests: data-subject rights: everything held, erasure. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(a_customer_gets_everything_held_and_erasure_leaves_only_the_books,);

async fn a_customer_gets_everything_held_and_erasure_leaves_only_the_books(db: &TestDb) {
    use guanxi_domain::interaction::{NewInteraction, NewTask};
    use guanxi_domain::vocabulary::{InteractionChannel, InteractionDirection};
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let east = s.create_team(&Actor::system(), "east").await.unwrap();
    let other = user(s, "west", Role::Sales, None).await;
    let mut f = fields(
        json!({"kind": "individual", "name": "蒋十五", "id_number": "11010519491231002X",
        "city": "苏州", "profile": {"lifestyle": {"drinks": ["龙井"]}}}),
    );
    f.contact_points = vec![NewContactPoint {
        kind: ContactKind::Mobile,
        value: "137 0000 9999".into(),
        label: None,
        is_primary: true,
        consent_marketing: true,
        source: None,
    }];
    let c = s
        .create_customer(&admin, f.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let spouse = person(s, &admin, "蒋太太", None).await;
    s.add_relation(
        &admin,
        c.id,
        NewRelation {
            to_customer_id: spouse.id,
            kind: RelationKind::Spouse,
            role: None,
            note: Some("结婚十年".into()),
            source: None,
        },
    )
    .await
    .unwrap();
    let i = NewInteraction {
        channel: InteractionChannel::Phone,
        direction: Some(InteractionDirection::Inbound),
        subject: "问龙井新茶".into(),
        body: Some("住在苏州工业园区".into()),
        occurred_at: None,
        purpose: None,
    };
    s.add_interaction(&admin, c.id, i.validate(Utc::now()).unwrap())
        .await
        .unwrap();
    let t = NewTask {
        title: "给蒋先生回电".into(),
        due_at: Utc::now(),
        assignee_id: None,
        note: None,
    };
    s.add_task(&admin, c.id, t.validate(admin.user_id()).unwrap())
        .await
        .unwrap();
    let order = NewOrder {
        customer_id: c.id,
        ordered_at: Utc::now(),
        currency: "CNY".into(),
        channel: OrderChannel::Store,
        store: None,
        external_ref: None,
        lines: vec![NewOrderLine {
            sku: "LJ".into(),
            product_name: None,
            category: None,
            quantity: 1,
            unit_price_minor: 8800,
        }],
    };
    s.create_order(&admin, order).await.unwrap();
    let p: CustomerPatch = serde_json::from_value(json!({"version": 1, "city": "杭州"})).unwrap();
    s.update_customer(&admin, c.id, p).await.unwrap();

    // Everything held, in one piece.
    let d = s.dossier(&admin, c.id).await.unwrap();
    assert_eq!(d.customer.id_number.as_deref(), Some("11010519491231002X"));
    assert_eq!(d.customer.contact_points.len(), 1);
    assert_eq!(
        (
            d.relations.len(),
            d.orders.len(),
            d.interactions.len(),
            d.tasks.len()
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(d.orders[0].lines.len(), 1);
    let actions: Vec<(&str, &str)> = d
        .audit
        .iter()
        .map(|a| (a.entity.as_str(), a.action.as_str()))
        .collect();
    for want in [
        ("customer", "create"),
        ("customer", "update"),
        ("interaction", "create"),
        ("task", "create"),
        ("relation", "create"),
    ] {
        assert!(actions.contains(&want), "{want:?} missing from {actions:?}");
    }
    // Someone without the customer in scope gets nothing, and cannot erase.
    let scoped = Actor {
        team_id: Some(east.id),
        ..other.clone()
    };
    assert!(matches!(
        s.dossier(&scoped, c.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.erase_customer(&scoped, c.id, "asked").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.erase_customer(&admin, c.id, "  ").await,
        Err(StoreError::Invalid(_))
    ));

    // A complaint with the customer's words and phone number, and a call from them.
    let ticket = s
        .create_ticket(
            &admin,
            guanxi_domain::ticket::NewTicket {
                customer_id: Some(c.id),
                contact_name: None,
                contact_address: Some("13700009999".into()),
                kind: guanxi_domain::ticket::TicketKind::Complaint,
                category_id: Some(2),
                priority: None,
                channel: guanxi_domain::vocabulary::InteractionChannel::Phone,
                subject: "蒋士五的杯子裂了".into(),
                body: Some("我家住在和平路 12 号".into()),
                queue_id: None,
                order_id: None,
                product_sku: None,
                severe: false,
                custom: Default::default(),
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let d = s.dossier(&admin, c.id).await.unwrap();
    assert_eq!(d.tickets.len(), 1, "the dossier holds the ticket");
    assert_eq!(d.tickets[0].messages[0].body, "我家住在和平路 12 号");
    let r = s
        .erase_customer(&admin, c.id, "客户书面申请删除")
        .await
        .unwrap();
    assert_eq!(r.tickets, 1);
    let left: Vec<String> = db
        .strings(&format!(
            "SELECT subject FROM tickets WHERE id = {id} UNION ALL \
             SELECT COALESCE(contact_address, '') FROM tickets WHERE id = {id} UNION ALL \
             SELECT body FROM ticket_messages WHERE ticket_id = {id} UNION ALL \
             SELECT COALESCE(title, '') || COALESCE(detail, '') FROM customer_events \
             WHERE kind = 'ticket' AND link_id = {id}",
            id = ticket.id
        ))
        .await;
    assert!(
        left.iter()
            .all(|v| !v.contains("蒋") && !v.contains("和平路") && !v.contains("13700009999")),
        "{left:?}"
    );
    assert_eq!(
        (
            r.contact_points,
            r.interactions,
            r.tasks,
            r.relations,
            r.orders_kept
        ),
        (1, 1, 1, 1, 1)
    );
    assert!(r.audit_entries >= 5, "{r:?}");
    assert!(matches!(
        s.get_customer(&admin, c.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.erase_customer(&admin, c.id, "again").await,
        Err(StoreError::NotFound)
    ));
    assert!(s
        .identify(&admin, "13700009999", 5)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .identify(&admin, "jiangshiwu", 5)
        .await
        .unwrap()
        .is_empty());
    // The books keep the order, under an anonymous customer.
    let f = OrderFilter {
        customer_id: Some(c.id),
        limit: 10,
        ..Default::default()
    };
    let orders = s.list_orders(&Actor::system(), &f).await.unwrap();
    assert_eq!(orders.items.len(), 1);
    assert_eq!(orders.items[0].total_minor, 8800);
    // No personal value is left anywhere in the audit log: only who, what and when, and the
    // erasure with its reason.
    let log = s
        .list_audit(&AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let text = serde_json::to_string(&log.items).unwrap();
    for secret in [
        "蒋十五",
        "11010519491231002X",
        "龙井",
        "苏州",
        "杭州",
        "+8613700009999",
        "回电",
        "结婚十年",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` is still in the audit log"
        );
    }
    assert!(log
        .items
        .iter()
        .any(|e| e.action == "erase" && e.detail["reason"] == "客户书面申请删除"));
    // Nor on the spouse's side.
    assert!(s
        .list_relations(&admin, spouse.id)
        .await
        .unwrap()
        .is_empty());
}
