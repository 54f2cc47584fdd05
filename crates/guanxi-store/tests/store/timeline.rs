//! Store tests: the timeline (event stream) and task lists. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(
    timeline_reaches_every_entry_that_shares_a_time,
    timeline_merges_orders_interactions_and_tasks,
    task_lists_count_everything_and_respect_scope,
);

/// Regression: paging by time alone (`at < before`) skipped for good every entry sharing the
/// boundary time; two tasks due the same minute left the second unreachable.
async fn timeline_reaches_every_entry_that_shares_a_time(db: &TestDb) {
    use guanxi_domain::interaction::NewTask;
    use guanxi_domain::records::TimelineKind;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "王伟", None).await;
    let minute = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for title in ["报价", "寄样品", "回电"] {
        let t = NewTask {
            title: title.into(),
            due_at: minute,
            assignee_id: None,
            note: None,
        };
        s.add_task(&admin, c.id, t.validate(admin.user_id()).unwrap())
            .await
            .unwrap();
    }
    s.create_order(&admin, ten_yuan_order(c.id, minute))
        .await
        .unwrap();
    s.create_order(
        &admin,
        ten_yuan_order(c.id, minute - chrono::Duration::days(1)),
    )
    .await
    .unwrap();

    // One entry per page, following each page's cursor, reaches all five exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.timeline(&admin, c.id, cursor, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        seen.push((last.kind, last.id));
        cursor = Some(TimelineCursor::parse(&last.cursor).unwrap());
        assert!(seen.len() <= 5, "paging does not end: {seen:?}");
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let mut distinct = seen.clone();
    distinct.sort_by_key(|(k, id)| (format!("{k:?}"), *id));
    distinct.dedup();
    assert_eq!(distinct.len(), 5);
    assert_eq!(
        seen.iter()
            .filter(|(k, _)| *k == TimelineKind::Task)
            .count(),
        3
    );
    // Pages of two agree with the one-by-one walk.
    let first = s.timeline(&admin, c.id, None, 2).await.unwrap();
    let rest = s
        .timeline(&admin, c.id, TimelineCursor::parse(&first[1].cursor), 10)
        .await
        .unwrap();
    let both: Vec<_> = first.iter().chain(&rest).map(|i| (i.kind, i.id)).collect();
    assert_eq!(both, seen);
    // Time-only paging still means "strictly before".
    let before = s
        .timeline(&admin, c.id, Some(TimelineCursor::before_time(minute)), 10)
        .await
        .unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].kind, TimelineKind::Order);

    // Marking a task done rewrites its entry in place; merging moves the entries; erasure
    // blanks their text.
    let task = s
        .get_task(
            &admin,
            seen.iter()
                .find(|(k, _)| *k == TimelineKind::Task)
                .unwrap()
                .1,
        )
        .await
        .unwrap();
    s.set_task_done(&admin, task.id, task.meta.version, true)
        .await
        .unwrap();
    let tl = s.timeline(&admin, c.id, None, 10).await.unwrap();
    assert_eq!(tl.len(), 5);
    let entry = tl
        .iter()
        .find(|i| i.kind == TimelineKind::Task && i.id == task.id)
        .unwrap();
    assert_eq!((entry.code.as_str(), entry.version), ("done", Some(2)));
    let winner = person(s, &admin, "王伟", None).await;
    let loser = s.get_customer(&admin, c.id).await.unwrap();
    s.merge_customers(
        &admin,
        winner.id,
        winner.meta.version,
        loser.id,
        loser.meta.version,
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        s.timeline(&admin, winner.id, None, 10).await.unwrap().len(),
        5
    );
    s.erase_customer(&admin, winner.id, "客户申请")
        .await
        .unwrap();
    let texts = format!(
        "SELECT COUNT(*) FROM customer_events WHERE customer_id = {} AND kind = 'task' \
         AND (title <> '-' OR detail IS NOT NULL)",
        winner.id
    );
    assert_eq!(db.scalar(&texts).await, 0);
    let tasks = format!(
        "SELECT COUNT(*) FROM customer_events WHERE customer_id = {} AND kind = 'task'",
        winner.id
    );
    assert_eq!(db.scalar(&tasks).await, 3);
}

async fn timeline_merges_orders_interactions_and_tasks(db: &TestDb) {
    use guanxi_domain::interaction::{NewInteraction, NewTask};
    use guanxi_domain::records::TimelineKind;
    use guanxi_domain::vocabulary::InteractionChannel;
    let s = &db.store;
    let t1 = s.create_team(&Actor::system(), "north").await.unwrap();
    let t2 = s.create_team(&Actor::system(), "south").await.unwrap();
    let rep = user(s, "rep", Role::Sales, Some(t1.id)).await;
    let other = user(s, "other", Role::Sales, Some(t2.id)).await;
    let c = person(s, &rep, "周九", None).await;
    let day = |d: i64| Utc::now() - chrono::Duration::days(d);
    s.create_order(
        &rep,
        NewOrder {
            customer_id: c.id,
            ordered_at: day(3),
            currency: "CNY".into(),
            channel: OrderChannel::Store,
            store: Some("静安店".into()),
            external_ref: None,
            lines: vec![NewOrderLine {
                sku: "TEA-1".into(),
                product_name: Some("龙井".into()),
                category: None,
                quantity: 2,
                unit_price_minor: 5000,
            }],
        },
    )
    .await
    .unwrap();
    let note = |subject: &str, at| NewInteraction {
        channel: InteractionChannel::Phone,
        direction: None,
        subject: subject.into(),
        body: Some("谈了新茶".into()),
        occurred_at: Some(at),
        purpose: Some(guanxi_domain::vocabulary::InteractionPurpose::FollowUp),
    };
    let first = s
        .add_interaction(
            &rep,
            c.id,
            note("回访", day(1)).validate(Utc::now()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        first.purpose,
        Some(guanxi_domain::vocabulary::InteractionPurpose::FollowUp),
        "the purpose is kept"
    );
    s.add_interaction(
        &rep,
        c.id,
        note("first call", day(10)).validate(Utc::now()).unwrap(),
    )
    .await
    .unwrap();
    let task = s
        .add_task(
            &rep,
            c.id,
            NewTask {
                title: "寄样品".into(),
                due_at: day(2),
                assignee_id: None,
                note: None,
            }
            .validate(rep.user_id())
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(task.assignee_id, Some(rep.id));

    let tl = s.timeline(&rep, c.id, None, 50).await.unwrap();
    let kinds: Vec<_> = tl.iter().map(|i| (i.kind, i.title.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (TimelineKind::Interaction, Some("回访".to_string())),
            (TimelineKind::Task, Some("寄样品".to_string())),
            (TimelineKind::Order, Some("静安店".to_string())),
            (TimelineKind::Interaction, Some("first call".to_string())),
        ]
    );
    assert_eq!(tl[2].amount_minor, Some(10000));
    assert_eq!(tl[1].code, "open");
    // Paging backwards and limits.
    let older = s
        .timeline(&rep, c.id, TimelineCursor::parse(&tl[1].cursor), 50)
        .await
        .unwrap();
    assert_eq!(older.len(), 2);
    assert_eq!(s.timeline(&rep, c.id, None, 1).await.unwrap().len(), 1);

    // Open tasks, then done with optimistic locking.
    let open = s.open_tasks(&rep, rep.id, 10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].customer_name, "周九");
    let done = s
        .set_task_done(&rep, task.id, task.meta.version, true)
        .await
        .unwrap();
    assert!(done.done_at.is_some());
    assert!(matches!(
        s.set_task_done(&rep, task.id, task.meta.version, false)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(s.open_tasks(&rep, rep.id, 10).await.unwrap().is_empty());

    // Another team sees none of it, and cannot write to it.
    assert!(matches!(
        s.timeline(&other, c.id, None, 50).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.add_interaction(
            &other,
            c.id,
            note("x", day(0)).validate(Utc::now()).unwrap()
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_task(&other, task.id).await,
        Err(StoreError::NotFound)
    ));
    // An unknown assignee is a field error, not a foreign-key crash.
    let bad = s
        .add_task(
            &rep,
            c.id,
            NewTask {
                title: "x".into(),
                due_at: day(0),
                assignee_id: Some(9999),
                note: None,
            }
            .validate(None)
            .unwrap(),
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));

    // Merging moves the timeline to the survivor.
    let dup = person(s, &rep, "周九", None).await;
    s.add_interaction(
        &rep,
        dup.id,
        note("dup call", day(0)).validate(Utc::now()).unwrap(),
    )
    .await
    .unwrap();
    let w = s.get_customer(&rep, c.id).await.unwrap();
    s.merge_customers(
        &Actor::system(),
        w.id,
        w.meta.version,
        dup.id,
        dup.meta.version,
        &[],
    )
    .await
    .unwrap();
    assert_eq!(s.timeline(&rep, c.id, None, 50).await.unwrap().len(), 5);

    // A book loaded with its history (the demo): a customer has been one since the first
    // order or contact (the call ten days ago), a customer without history keeps its date.
    let before = s.get_customer(&rep, c.id).await.unwrap().meta;
    let fresh = person(s, &rep, "吴十", None).await;
    assert_eq!(s.backdate_created_to_history().await.unwrap(), 1);
    let after = s.get_customer(&rep, c.id).await.unwrap().meta;
    let moved_days = (before.created_at - after.created_at).num_hours() as f64 / 24.0;
    assert!((moved_days - 10.0).abs() < 0.1, "{moved_days}");
    assert_eq!(
        (after.updated_at, after.version),
        (before.updated_at, before.version)
    );
    assert_eq!(
        s.get_customer(&rep, fresh.id).await.unwrap().meta,
        fresh.meta
    );
    assert_eq!(s.backdate_created_to_history().await.unwrap(), 0);
}

async fn task_lists_count_everything_and_respect_scope(db: &TestDb) {
    use guanxi_domain::interaction::NewTask;
    use guanxi_store::tasks::{TaskFilter, TaskStatus, TaskWho};
    let s = &db.store;
    let north = s.create_team(&Actor::system(), "north").await.unwrap();
    let south = s.create_team(&Actor::system(), "south").await.unwrap();
    let ann = user(s, "ann", Role::Sales, Some(north.id)).await;
    let bob = user(s, "bob", Role::Sales, Some(north.id)).await;
    let cat = user(s, "cat", Role::Sales, Some(south.id)).await;
    let mine = person(s, &ann, "吴十", None).await;
    let theirs = person(s, &cat, "郑十一", None).await;
    let now = Utc::now();
    let task = |title: &str, hours: i64, assignee: i64| NewTask {
        title: title.into(),
        due_at: now + chrono::Duration::hours(hours),
        assignee_id: Some(assignee),
        note: None,
    };
    // 25 for ann, 10 of them overdue: more than any first page or dashboard list shows.
    for i in 0..25 {
        let t = task(&format!("回电 {i}"), i - 10, ann.id)
            .validate(None)
            .unwrap();
        s.add_task(&ann, mine.id, t).await.unwrap();
    }
    let quote = task("寄报价单", 48, bob.id).validate(None).unwrap();
    let quote = s.add_task(&ann, mine.id, quote).await.unwrap();
    let t = task("回电 cat", -1, cat.id).validate(None).unwrap();
    s.add_task(&cat, theirs.id, t).await.unwrap();

    let now_ms = now.timestamp_millis();
    let ann_open = TaskFilter::open_for(TaskWho::User(ann.id));
    let page = s.task_list(&ann, &ann_open, now_ms).await.unwrap();
    assert_eq!((page.items.len(), page.total, page.overdue), (25, 25, 10));
    assert_eq!(
        page.items[0].task.title, "回电 0",
        "overdue first, earliest first"
    );
    let small = TaskFilter {
        limit: 20,
        offset: 20,
        ..ann_open.clone()
    };
    let rest = s.task_list(&ann, &small, now_ms).await.unwrap();
    assert_eq!((rest.items.len(), rest.total), (5, 25));
    assert_eq!(rest.items[0].task.title, "回电 20");

    // The team view holds bob's task too; "anyone" for ann stops at her team's customers.
    let team = TaskFilter::open_for(TaskWho::Team(north.id));
    assert_eq!(s.count_tasks(&ann, &team, now_ms).await.unwrap(), (26, 10));
    // The dashboard's capped count: exact up to the cap, the overdue ones counted first.
    assert_eq!(
        s.count_tasks_up_to(&ann, &team, now_ms, 30).await.unwrap(),
        (26, 10)
    );
    assert_eq!(
        s.count_tasks_up_to(&ann, &team, now_ms, 12).await.unwrap(),
        (13, 10)
    );
    assert_eq!(
        s.count_tasks_up_to(&ann, &team, now_ms, 5).await.unwrap(),
        (6, 6)
    );
    let anyone = TaskFilter::open_for(TaskWho::Anyone);
    assert_eq!(
        s.count_tasks(&ann, &anyone, now_ms).await.unwrap(),
        (26, 10)
    );
    assert_eq!(s.count_tasks(&cat, &anyone, now_ms).await.unwrap(), (1, 1));
    // cat may ask for ann's tasks but sees none of her customers.
    assert_eq!(
        s.count_tasks(&cat, &ann_open, now_ms).await.unwrap(),
        (0, 0)
    );

    // Words match the title or the customer's name; wildcards mean themselves.
    let words = |q: &str| TaskFilter {
        q: Some(q.into()),
        ..anyone.clone()
    };
    assert_eq!(
        s.count_tasks(&ann, &words("报价"), now_ms).await.unwrap().0,
        1
    );
    assert_eq!(
        s.count_tasks(&ann, &words("吴十"), now_ms).await.unwrap().0,
        26
    );
    assert_eq!(s.count_tasks(&ann, &words("%"), now_ms).await.unwrap().0, 0);
    // Due before a time: overdue is "before now".
    let overdue = TaskFilter {
        due_before: Some(now_ms),
        ..ann_open.clone()
    };
    assert_eq!(
        s.count_tasks(&ann, &overdue, now_ms).await.unwrap(),
        (10, 10)
    );

    // Done leaves the open list and heads the done list.
    s.set_task_done(&bob, quote.id, quote.meta.version, true)
        .await
        .unwrap();
    let bob_open = TaskFilter::open_for(TaskWho::User(bob.id));
    assert_eq!(s.count_tasks(&bob, &bob_open, now_ms).await.unwrap().0, 0);
    let done = TaskFilter {
        status: TaskStatus::Done,
        ..TaskFilter::open_for(TaskWho::Team(north.id))
    };
    let done = s.task_list(&bob, &done, now_ms).await.unwrap();
    assert_eq!(done.items.len(), 1);
    assert_eq!(done.items[0].task.title, "寄报价单");
    assert_eq!(done.overdue, 0);
    let all = TaskFilter {
        status: TaskStatus::All,
        ..team
    };
    assert_eq!(s.count_tasks(&ann, &all, now_ms).await.unwrap().0, 26);

    // A deleted customer's tasks leave every list.
    s.delete_customer(&ann, mine.id, mine.meta.version)
        .await
        .unwrap();
    assert_eq!(s.count_tasks(&ann, &all, now_ms).await.unwrap(), (0, 0));
}
