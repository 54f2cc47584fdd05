//! Store tests: merging duplicates. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(merge_moves_everything,);

async fn merge_moves_everything(db: &TestDb) {
    use guanxi_domain::interaction::{NewInteraction, NewTask};
    use guanxi_domain::vocabulary::InteractionChannel;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let w = person(s, &admin, "钱七", Some("13700000001")).await;
    let mut lf = fields(json!({"kind": "individual", "name": "钱七", "city": "北京",
        "employer": "华为", "tags": ["b2b"]}));
    lf.contact_points = vec![
        NewContactPoint {
            kind: ContactKind::Mobile,
            value: "13700000002".into(),
            label: None,
            is_primary: true,
            consent_marketing: true,
            source: None,
        },
        NewContactPoint {
            kind: ContactKind::Email,
            value: "qian@example.com".into(),
            label: None,
            is_primary: false,
            consent_marketing: false,
            source: None,
        },
    ];
    let l = s
        .create_customer(&admin, lf.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let order = |customer_id: i64| ten_yuan_order(customer_id, Utc::now());
    s.create_order(&admin, order(l.id)).await.unwrap();
    let call = NewInteraction {
        channel: InteractionChannel::Phone,
        direction: None,
        subject: "来电".into(),
        body: None,
        occurred_at: None,
        purpose: None,
    };
    s.add_interaction(&admin, l.id, call.validate(Utc::now()).unwrap())
        .await
        .unwrap();
    let task = NewTask {
        title: "回电".into(),
        due_at: Utc::now(),
        assignee_id: None,
        note: None,
    };
    s.add_task(&admin, l.id, task.validate(admin.user_id()).unwrap())
        .await
        .unwrap();
    // Relations: one moves; one duplicates the winner's own and one links the pair: both stay.
    let friend = person(s, &admin, "好友", None).await;
    let boss = person(s, &admin, "老板", None).await;
    let rel = |to: i64, kind: RelationKind| NewRelation {
        to_customer_id: to,
        kind,
        role: None,
        note: None,
        source: None,
    };
    s.add_relation(&admin, l.id, rel(friend.id, RelationKind::Friend))
        .await
        .unwrap();
    s.add_relation(&admin, l.id, rel(boss.id, RelationKind::Colleague))
        .await
        .unwrap();
    s.add_relation(&admin, w.id, rel(boss.id, RelationKind::Colleague))
        .await
        .unwrap();
    s.add_relation(&admin, l.id, rel(w.id, RelationKind::Spouse))
        .await
        .unwrap();
    let (w, l) = (
        s.get_customer(&admin, w.id).await.unwrap(),
        s.get_customer(&admin, l.id).await.unwrap(),
    );

    // The loser holds points; they follow the merge, and come back with the undo.
    s.loyalty_adjust(
        &admin,
        l.id,
        300,
        "开卡赠送",
        None,
        "merge-test-points",
        Utc::now(),
    )
    .await
    .unwrap();
    s.loyalty_adjust(
        &admin,
        w.id,
        100,
        "开卡赠送",
        None,
        "merge-test-points-w",
        Utc::now(),
    )
    .await
    .unwrap();
    let p = s.merge_preview(&admin, w.id, l.id).await.unwrap();
    assert_eq!(p.differing, vec!["city", "employer"]);
    assert_eq!(p.suggested, vec!["employer"]);
    assert_eq!(
        p.moves,
        guanxi_store::merge::MergeCounts {
            contact_points: 2,
            orders: 1,
            interactions: 1,
            tasks: 1,
            relations: 1,
            tags: 1,
            tickets: 0
        }
    );
    assert!(matches!(
        s.merge_customers(
            &admin,
            w.id,
            w.meta.version,
            l.id,
            l.meta.version,
            &["kind".into()]
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.merge_customers(&admin, w.id, w.meta.version - 1, l.id, l.meta.version, &[])
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let merged = s
        .merge_customers(
            &admin,
            w.id,
            w.meta.version,
            l.id,
            l.meta.version,
            &["employer".into()],
        )
        .await
        .unwrap();
    let m = &merged.customer;
    assert_eq!(m.contact_points.len(), 3);
    assert_eq!(m.employer.as_deref(), Some("华为"));
    assert_eq!(m.city.as_deref(), Some("上海"), "the kept value by default");
    assert_eq!(m.tags, vec!["vip".to_string(), "b2b".to_string()]);
    assert_eq!(s.loyalty_balance(w.id).await.unwrap().points, 400);
    assert!(matches!(
        s.get_customer(&admin, l.id).await,
        Err(StoreError::NotFound)
    ));
    let hits = s.identify(&admin, "13700000002", 5).await.unwrap();
    assert_eq!(hits[0].customer_id, w.id);
    assert_eq!(s.timeline(&admin, w.id, None, 50).await.unwrap().len(), 3);
    assert_eq!(s.list_relations(&admin, w.id).await.unwrap().len(), 2);
    let log = s
        .list_audit(&AuditFilter {
            action: Some("merge".into()),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.items[0].detail["loser"], json!(l.id));
    assert_eq!(log.items[0].detail["merge_id"], json!(merged.merge_id));

    // Life goes on: the kept record is edited and buys again; then the merge is undone.
    let edit: CustomerPatch =
        serde_json::from_value(json!({"version": m.meta.version, "city": "杭州"})).unwrap();
    s.update_customer(&admin, w.id, edit).await.unwrap();
    s.create_order(&admin, order(w.id)).await.unwrap();
    let undoable = s.undoable_merges(&admin, w.id).await.unwrap();
    assert_eq!(undoable.len(), 1);
    assert_eq!(undoable[0].loser_name, "钱七");
    assert_eq!(undoable[0].moved.orders, 1);
    let rep = user(s, "rep", Role::Sales, None).await;
    assert!(matches!(
        s.undo_merge(&rep, merged.merge_id).await,
        Err(StoreError::NotFound)
    ));
    let back = s.undo_merge(&admin, merged.merge_id).await.unwrap();
    assert_eq!(back.id, l.id);
    assert_eq!(back.contact_points.len(), 2);
    assert_eq!(back.employer.as_deref(), Some("华为"));
    let kept = s.get_customer(&admin, w.id).await.unwrap();
    assert_eq!(kept.contact_points.len(), 1);
    assert_eq!(kept.employer, None, "the merged value goes back");
    assert_eq!(kept.city.as_deref(), Some("杭州"), "a later edit stays");
    assert_eq!(kept.tags, vec!["vip".to_string()]);
    assert_eq!(s.loyalty_balance(w.id).await.unwrap().points, 100);
    assert_eq!(s.loyalty_balance(l.id).await.unwrap().points, 300);
    assert_eq!(s.timeline(&admin, l.id, None, 50).await.unwrap().len(), 3);
    assert_eq!(
        s.timeline(&admin, w.id, None, 50).await.unwrap().len(),
        1,
        "the new order stays"
    );
    assert_eq!(s.list_relations(&admin, l.id).await.unwrap().len(), 3);
    assert_eq!(s.list_relations(&admin, w.id).await.unwrap().len(), 2);
    let hits = s.identify(&admin, "13700000002", 5).await.unwrap();
    assert_eq!(hits[0].customer_id, l.id);
    assert!(s.undoable_merges(&admin, w.id).await.unwrap().is_empty());
    assert!(matches!(
        s.undo_merge(&admin, merged.merge_id).await,
        Err(StoreError::Invalid(e)) if e.0[0].code == "already_undone"
    ));
}
