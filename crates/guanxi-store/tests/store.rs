//! Store tests. Every test runs on SQLite (temp file) and PostgreSQL (fresh schema).

use chrono::Utc;
use guanxi_domain::customer::{CustomerFields, CustomerPatch, NewContactPoint};
use guanxi_domain::order::{NewOrder, NewOrderLine};
use guanxi_domain::records::TimelineCursor;
use guanxi_domain::relation::NewRelation;
use guanxi_domain::role::{Actor, RecordScope, Role};
use guanxi_domain::vocabulary::{ContactKind, OrderChannel, PrincipalRole, RelationKind};
use guanxi_store::audit::AuditFilter;
use guanxi_store::customers::{CustomerFilter, CustomerSort};
use guanxi_store::orders::OrderFilter;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::users::UserInsert;
use guanxi_store::{Backend, Store, StoreError};
use serde_json::json;

use guanxi_store::on_both_backends;

on_both_backends!(
    customer_round_trip,
    identification_by_phone_pinyin_and_parts,
    a_common_name_does_not_hide_a_better_match,
    stale_update_conflicts_and_is_audited,
    sales_scope_hides_other_teams,
    keyset_pagination_and_filters,
    orders_and_products,
    merge_moves_everything,
    relations_are_validated,
    duplicate_username_is_reported,
    scores_refresh_writes_what_the_analytics_compute,
    timeline_merges_orders_interactions_and_tasks,
    timeline_reaches_every_entry_that_shares_a_time,
    the_job_queue_leases_fences_retries_and_dedupes,
    dashboard_counts_within_scope,
    also_bought_comes_from_basket_pairs,
    segments_select_exactly_their_members,
    saved_segments_are_checked_versioned_and_audited,
    expired_sessions_are_swept_at_login,
    token_use_is_recorded_at_most_once_a_minute,
    task_lists_count_everything_and_respect_scope,
    names_sort_by_pinyin_across_pages,
    a_customer_gets_everything_held_and_erasure_leaves_only_the_books,
    the_lifecycle_stage_follows_the_purchases_at_each_refresh,
);

async fn the_lifecycle_stage_follows_the_purchases_at_each_refresh(db: &TestDb) {
    use guanxi_domain::lifecycle::stage_from_purchases;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let now = Utc::now();
    let order = |customer_id: i64, days_ago: i64| {
        ten_yuan_order(customer_id, now - chrono::Duration::days(days_ago))
    };
    let stage = |v: &str| -> CustomerPatch {
        serde_json::from_value(json!({"version": 1, "lifecycle_stage": v})).unwrap()
    };
    // A prospect who bought once last week; a regular; one set "active" by hand who last
    // bought two years ago; a hand-set "dormant" without any order.
    let first = person(s, &admin, "新客", None).await;
    s.create_order(&admin, order(first.id, 7)).await.unwrap();
    let regular = person(s, &admin, "常客", None).await;
    for d in [5, 35, 65, 95, 125, 155] {
        s.create_order(&admin, order(regular.id, d)).await.unwrap();
    }
    let gone = person(s, &admin, "老客", None).await;
    s.update_customer(&admin, gone.id, stage("active"))
        .await
        .unwrap();
    for d in [700, 730, 760] {
        s.create_order(&admin, order(gone.id, d)).await.unwrap();
    }
    let none = person(s, &admin, "未购", None).await;
    s.update_customer(&admin, none.id, stage("dormant"))
        .await
        .unwrap();
    let r = s
        .refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
    assert_eq!(r.stages_changed, 3, "{r:?}");
    let got = |id: i64| async move { s.get_customer(&Actor::system(), id).await.unwrap() };
    assert_eq!(got(first.id).await.lifecycle_stage.as_str(), "new");
    assert_eq!(got(regular.id).await.lifecycle_stage.as_str(), "active");
    assert_eq!(got(gone.id).await.lifecycle_stage.as_str(), "lost");
    assert_eq!(
        got(none.id).await.lifecycle_stage.as_str(),
        "dormant",
        "no purchases: kept as set"
    );
    // The SQL applies exactly the domain's rule.
    for c in [&first, &regular, &gone] {
        let sc = s.customer_score(c.id).await.unwrap().unwrap();
        let want = stage_from_purchases(sc.frequency, sc.recency_days, &sc.activity).unwrap();
        assert_eq!(got(c.id).await.lifecycle_stage, want);
    }
    // A stage changed under someone's open edit form is a conflict, not a silent overwrite.
    assert!(got(gone.id).await.meta.version > 2);
    // Audited once for the run; a second refresh changes nothing.
    let log = s
        .list_audit(&AuditFilter {
            action: Some("lifecycle_rule".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].detail["changed"], 3);
    let r = s
        .refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
    assert_eq!(r.stages_changed, 0);
}

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

    let r = s
        .erase_customer(&admin, c.id, "客户书面申请删除")
        .await
        .unwrap();
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

async fn names_sort_by_pinyin_across_pages(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    for n in [
        "张三丰",
        "Zhang Wei",
        "王五",
        "詹姆",
        "张三",
        "Alice Wu",
        "阿明",
    ] {
        person(s, &admin, n, None).await;
    }
    let admin = &admin;
    let names = |desc: bool| async move {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let f = CustomerFilter {
                sort: CustomerSort::Name,
                desc,
                cursor,
                limit: 2,
                ..Default::default()
            };
            let page = s.list_customers(admin, &f).await.unwrap();
            out.extend(page.items.into_iter().map(|c| c.name));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    };
    let want = [
        "阿明",
        "Alice Wu",
        "王五",
        "詹姆",
        "张三",
        "张三丰",
        "Zhang Wei",
    ];
    assert_eq!(names(false).await, want);
    let mut back = want.to_vec();
    back.reverse();
    assert_eq!(names(true).await, back);
    // Rows from before the key existed get it when the store migrates.
    db.execute("UPDATE customers SET name_sort = ''").await;
    s.migrate().await.unwrap();
    assert_eq!(names(false).await, want);
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

async fn token_use_is_recorded_at_most_once_a_minute(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "script", Role::Sales, None).await;
    s.create_token(&Actor::system(), u.id, "cron", "digest-1", "gx_abc", None)
        .await
        .unwrap();
    let last_used = || async {
        s.list_tokens(u.id).await.unwrap()[0]
            .last_used_at
            .expect("used")
    };
    assert_eq!(
        s.user_for_token("digest-1").await.unwrap().unwrap().id,
        u.id
    );
    let first = last_used().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..3 {
        assert!(s.user_for_token("digest-1").await.unwrap().is_some());
    }
    assert_eq!(last_used().await, first, "no write within the minute");
    // A use older than the minute is refreshed on the next call.
    let stale = (Utc::now() - chrono::Duration::minutes(2)).timestamp_millis();
    db.execute(&format!("UPDATE api_tokens SET last_used_at = {stale}"))
        .await;
    assert!(s.user_for_token("digest-1").await.unwrap().is_some());
    assert!(last_used().await > first);
}

async fn expired_sessions_are_swept_at_login(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "sleeper", Role::Sales, None).await;
    let past = Utc::now() - chrono::Duration::hours(1);
    let future = Utc::now() + chrono::Duration::hours(8);
    s.create_session("old-1", u.id, "c1", past).await.unwrap();
    s.create_session("old-2", u.id, "c2", past).await.unwrap();
    // The second login swept the first session; a third sweeps the second.
    s.create_session("live", u.id, "c3", future).await.unwrap();
    assert_eq!(s.purge_expired_sessions().await.unwrap(), 0);
    assert!(s.get_session("live").await.unwrap().is_some());
    s.create_session("old-3", u.id, "c4", past).await.unwrap();
    assert_eq!(s.purge_expired_sessions().await.unwrap(), 1);
    assert!(s.get_session("live").await.unwrap().is_some());
}

/// A one-line ¥10 store order.
fn ten_yuan_order(customer_id: i64, ordered_at: chrono::DateTime<Utc>) -> NewOrder {
    NewOrder {
        customer_id,
        ordered_at,
        currency: "CNY".into(),
        channel: OrderChannel::Store,
        store: None,
        external_ref: None,
        lines: vec![NewOrderLine {
            sku: "T".into(),
            product_name: None,
            category: None,
            quantity: 1,
            unit_price_minor: 1000,
        }],
    }
}

fn fields(v: serde_json::Value) -> CustomerFields {
    serde_json::from_value(v).unwrap()
}

async fn person(
    s: &Store,
    actor: &Actor,
    name: &str,
    mobile: Option<&str>,
) -> guanxi_domain::records::Customer {
    let f = fields(json!({"kind": "individual", "name": name, "city": "上海", "tags": ["vip"]}));
    let mut f = f;
    f.contact_points = mobile
        .map(|m| {
            vec![NewContactPoint {
                kind: ContactKind::Mobile,
                value: m.into(),
                label: None,
                is_primary: true,
                consent_marketing: true,
                source: None,
            }]
        })
        .unwrap_or_default();
    s.create_customer(actor, f.validate(actor.id, Utc::now()).unwrap())
        .await
        .unwrap()
}

async fn schemas_match_impl() {
    let a = TestDb::new(Backend::Sqlite).await;
    let b = TestDb::new(Backend::Postgres).await;
    let sa = a.store.schema().await.unwrap();
    let sb = b.store.schema().await.unwrap();
    assert!(sa.len() > 50, "schema looks empty: {sa:?}");
    assert_eq!(
        sa, sb,
        "SQLite and PostgreSQL migrations have drifted apart"
    );
}

#[tokio::test]
async fn schemas_match() {
    schemas_match_impl().await
}

async fn customer_round_trip(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let f = fields(json!({
        "kind": "individual", "name": "张三", "gender": "male",
        "birthday": {"year": 1985, "month": 8, "day": 8, "lunar": true},
        "id_number": "11010519491231002x",
        "profile": {"lifestyle": {"drinks": ["carrot juice"]}, "family": {"spouse_name": "李梅", "wedding_anniversary": {"month": 5, "day": 20}}},
        "source": {"channel": "exhibition", "direct": true}
    }));
    let c = s
        .create_customer(&admin, f.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    assert_eq!(c.name_pinyin, "zhangsan");
    assert_eq!(c.name_initials, "zs");
    assert_eq!(c.id_number.as_deref(), Some("11010519491231002X"));
    assert!(c.birthday.unwrap().lunar);
    assert_eq!(
        c.profile
            .as_ref()
            .unwrap()
            .lifestyle
            .as_ref()
            .unwrap()
            .drinks,
        ["carrot juice"]
    );
    assert_eq!(c.owner_id, Some(admin.id));
    assert_eq!(c.meta.version, 1);
    assert_eq!(c.source.channel.as_str(), "exhibition");
    let again = s.get_customer(&admin, c.id).await.unwrap();
    assert_eq!(again, c);
}

/// Identification ranks in the index: 450 customers whose given name is 伟 all hold the key
/// "wei" (given-name pinyin), yet the one customer *named* Wei, created last, comes first for
/// "wei"; and a rep who owns one of the 450 finds that one, however far down the key range.
async fn a_common_name_does_not_hide_a_better_match(db: &TestDb) {
    use guanxi_store::import::ImportWrite;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, None).await;
    let many: Vec<ImportWrite> = (0..450)
        .map(|i| {
            let surname = ["李", "王", "张"][i % 3];
            let f = fields(json!({"kind": "individual", "name": format!("{surname}伟")}));
            ImportWrite::Insert(f.validate(admin.id, Utc::now()).unwrap())
        })
        .collect();
    s.import_customers(&admin, many, std::sync::Arc::new(|_| {}))
        .await
        .unwrap();
    let mut mine = fields(json!({"kind": "individual", "name": "赵伟"}));
    mine.owner_id = Some(rep.id);
    let mine = s
        .create_customer(&admin, mine.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let wei = person(s, &admin, "Wei", None).await;

    let hits = s.identify(&admin, "wei", 10).await.unwrap();
    assert_eq!(hits.len(), 10, "{hits:?}");
    assert_eq!(hits[0].customer_id, wei.id, "{hits:?}");
    assert_eq!(hits[0].matched_on, "name");
    assert!(hits[1..].iter().all(|h| h.matched_on == "pinyin_part"));
    // Equal scores come by name, then id.
    let order: Vec<(String, i64)> = hits[1..]
        .iter()
        .map(|h| (h.name.clone(), h.customer_id))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);

    let theirs = s.identify(&rep, "wei", 10).await.unwrap();
    assert_eq!(
        theirs.iter().map(|h| h.customer_id).collect::<Vec<_>>(),
        [mine.id]
    );
    // The list's search box reads the same keys.
    let listed = s
        .list_customers(
            &rep,
            &CustomerFilter {
                q: Some("wei".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(listed.len(), 1);
}

async fn identification_by_phone_pinyin_and_parts(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let zs = person(s, &admin, "张三", Some("+86 138-1234-5678")).await;
    let zsf = person(s, &admin, "张三丰", None).await;
    let js = person(s, &admin, "John Smith", None).await;
    let top = |hits: Vec<guanxi_domain::records::IdentifyHit>| hits.first().map(|h| h.customer_id);
    // The best hit for each way of asking.
    let admin_ref = &admin;
    let best_for = |cases: Vec<(&'static str, i64)>| async move {
        let admin = admin_ref;
        for (typed, want) in cases {
            let hits = s.identify(admin, typed, 10).await.unwrap();
            assert_eq!(top(hits.clone()), Some(want), "{typed}: {hits:?}");
        }
    };
    best_for(vec![
        ("13812345678", zs.id),
        ("138 1234 5678", zs.id),
        ("zhangsan", zs.id),
        ("三丰", zsf.id),
        ("smith", js.id),
        ("1381234", zs.id),
    ])
    .await;
    let zs_hits = s.identify(&admin, "zs", 10).await.unwrap();
    assert_eq!(zs_hits.len(), 2, "{zs_hits:?}");
    assert_eq!(zs_hits[0].customer_id, zs.id);
    assert!(s.identify(&admin, "nobody", 10).await.unwrap().is_empty());

    // Forgiving input: a partial phone with separators, spaced pinyin, several words.
    let zq = person(s, &admin, "张强", Some("137 3672 0001")).await;
    let hy = person(s, &admin, "黄勇", Some("021 6099 1761")).await;
    for typed in [
        "137 3672",
        "137-3672",
        "(137)3672",
        "+86 137 3672",
        "13736720001",
    ] {
        let hits = s.identify(&admin, typed, 10).await.unwrap();
        assert_eq!(top(hits.clone()), Some(zq.id), "{typed}: {hits:?}");
        assert_eq!(hits[0].matched_on, "phone", "{typed}");
    }
    let hits = s.identify(&admin, "zhang qiang", 10).await.unwrap();
    assert_eq!(hits[0].matched_on, "pinyin");
    assert_eq!(hits.len(), 1);
    best_for(vec![
        ("021-6099", hy.id),
        ("zhang qiang", zq.id),
        ("huang yong", hy.id),
        ("  Huang   Yong ", hy.id),
        // Latin names keep their space.
        ("john smith", js.id),
    ])
    .await;
    // Mixed: a name and part of a number pick the one customer both fit.
    let zq2 = person(s, &admin, "张强", Some("139 1111 2222")).await;
    for typed in ["张强 1391", "zhang 1391", "1391 zhangqiang"] {
        let hits = s.identify(&admin, typed, 10).await.unwrap();
        assert_eq!(
            hits.iter().map(|h| h.customer_id).collect::<Vec<_>>(),
            vec![zq2.id],
            "{typed}"
        );
    }
    assert!(s
        .identify(&admin, "张强 1500", 10)
        .await
        .unwrap()
        .is_empty());
    // Two namesakes score alike: callers can tell it is a tie.
    let hits = s.identify(&admin, "张强", 10).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].score, hits[1].score);
}

async fn stale_update_conflicts_and_is_audited(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let c = person(s, &admin, "王五", None).await;
    let p = |v: serde_json::Value| -> CustomerPatch { serde_json::from_value(v).unwrap() };
    let c2 = s
        .update_customer(
            &admin,
            c.id,
            p(json!({"version": 1, "city": "北京", "name": "王五一"})),
        )
        .await
        .unwrap();
    assert_eq!(c2.meta.version, 2);
    assert_eq!(c2.city.as_deref(), Some("北京"));
    assert_eq!(c2.name_pinyin, "wangwuyi");
    match s
        .update_customer(&admin, c.id, p(json!({"version": 1, "city": "广州"})))
        .await
    {
        Err(StoreError::Conflict { current: 2, .. }) => {}
        other => panic!("expected conflict, got {other:?}"),
    }
    let bad = s
        .update_customer(&admin, c.id, p(json!({"version": 2, "name": " "})))
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    assert_eq!(
        s.get_customer(&admin, c.id).await.unwrap().city.as_deref(),
        Some("北京"),
        "failed update must not write"
    );
    let log = s
        .list_audit(&AuditFilter {
            entity: Some("customer".into()),
            entity_id: Some(c.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["update", "create"]);
    assert_eq!(
        log.items[0].detail["city"],
        json!({"before": "上海", "after": "北京"})
    );
    assert_eq!(log.items[0].actor_name, "admin");
}

async fn sales_scope_hides_other_teams(db: &TestDb) {
    let s = &db.store;
    let sys = Actor::system();
    let east = s.create_team(&sys, "East").await.unwrap();
    let west = s.create_team(&sys, "West").await.unwrap();
    let a1 = user(s, "alice", Role::Sales, Some(east.id)).await;
    let a2 = user(s, "amy", Role::Sales, Some(east.id)).await;
    let b1 = user(s, "bob", Role::Sales, Some(west.id)).await;
    let ca = person(s, &a1, "客户甲", Some("13900000001")).await;
    let cb = person(s, &b1, "客户乙", Some("13900000002")).await;
    assert!(
        s.customer_visible(&a2, ca.id).await.unwrap(),
        "team mate sees it"
    );
    assert!(!s.customer_visible(&a1, cb.id).await.unwrap());
    assert!(matches!(
        s.get_customer(&a1, cb.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.identify(&a1, "13900000002", 5).await.unwrap().is_empty());
    let listed = s
        .list_customers(
            &a1,
            &CustomerFilter {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ca.id]
    );
    let wide = Actor {
        scope: RecordScope::All,
        ..a1.clone()
    };
    assert!(s.customer_visible(&wide, cb.id).await.unwrap());
}

async fn keyset_pagination_and_filters(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(
            person(s, &admin, &format!("Customer {i:02}"), None)
                .await
                .id,
        );
    }
    for sort in [
        CustomerSort::Name,
        CustomerSort::CreatedAt,
        CustomerSort::Id,
        CustomerSort::UpdatedAt,
    ] {
        for desc in [false, true] {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = s
                    .list_customers(
                        &admin,
                        &CustomerFilter {
                            sort,
                            desc,
                            cursor: cursor.clone(),
                            limit: 10,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                seen.extend(page.items.iter().map(|c| c.id));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 23, "{sort:?} desc={desc}: {seen:?}");
        }
    }
    let all = CustomerFilter::default();
    assert_eq!(
        s.count_customers(&admin, &all, 100).await.unwrap(),
        (23, false)
    );
    assert_eq!(
        s.count_customers(&admin, &all, 20).await.unwrap(),
        (20, true),
        "capped"
    );
    let some = CustomerFilter {
        q: Some("customer 1".into()),
        ..Default::default()
    };
    assert_eq!(
        s.count_customers(&admin, &some, 100).await.unwrap(),
        (10, false)
    );
    let by_q = s
        .list_customers(
            &admin,
            &CustomerFilter {
                q: Some("customer 1".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_q.items.len(), 10);
    let by_tag = s
        .list_customers(
            &admin,
            &CustomerFilter {
                tag: Some("vip".into()),
                city: Some("上海".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_tag.items.len(), 23);
    let bad = s
        .list_customers(
            &admin,
            &CustomerFilter {
                cursor: Some("nonsense".into()),
                limit: 5,
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
}

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
            tags: 1
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

async fn relations_are_validated(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let p = person(s, &admin, "孙八", None).await;
    let co = s
        .create_customer(&admin, fields(json!({"kind": "company", "name": "上海茶叶有限公司", "company": {"legal_form": "有限责任公司", "credit_status": "good"}})).validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let bad = s
        .add_relation(
            &admin,
            p.id,
            NewRelation {
                to_customer_id: co.id,
                kind: RelationKind::PrincipalOf,
                role: None,
                note: None,
                source: None,
            },
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    let r = s
        .add_relation(
            &admin,
            p.id,
            NewRelation {
                to_customer_id: co.id,
                kind: RelationKind::PrincipalOf,
                role: Some(PrincipalRole::LegalRepresentative),
                note: None,
                source: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.to_name, "上海茶叶有限公司");
    let from_company = s.list_relations(&admin, co.id).await.unwrap();
    assert_eq!(from_company.len(), 1);
    let dup = s
        .add_relation(
            &admin,
            p.id,
            NewRelation {
                to_customer_id: co.id,
                kind: RelationKind::PrincipalOf,
                role: Some(PrincipalRole::Owner),
                note: None,
                source: None,
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate { .. })));
}

async fn duplicate_username_is_reported(db: &TestDb) {
    let s = &db.store;
    user(s, "dup", Role::Viewer, None).await;
    let again = s
        .create_user(
            &Actor::system(),
            UserInsert {
                username: "dup",
                display_name: "d",
                password_hash: "x",
                role: Role::Viewer,
                team_id: None,
                see_all_customers: false,
                locale: "en",
            },
        )
        .await;
    assert!(matches!(
        again,
        Err(StoreError::Duplicate { field: "username" })
    ));
    assert_eq!(s.count_users().await.unwrap(), 1);
}

async fn scores_refresh_writes_what_the_analytics_compute(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    // 60 customers; the first 20 stop buying at some point, the others keep a rhythm of their own.
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(person(s, &admin, &format!("Score {i}"), None).await.id);
    }
    let now = Utc::now();
    let mut products = guanxi_store::orders::ProductCache::default();
    let mut tx = s.begin_bulk().await.unwrap();
    let mut seed: u64 = 12345;
    for (k, id) in ids.iter().enumerate() {
        let every = 10 + (k as i64 % 5) * 25; // 10 to 110 days, some longer than the churn horizon
                                              // A third stop buying, at staggered times (so no feature separates them perfectly).
        let stop = if k < 20 { 60 + 17 * k as i64 } else { 0 };
        let mut day = 730;
        while day > stop {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let jitter = (seed >> 59) as i64; // 0..31 days
            let o = NewOrder {
                customer_id: *id,
                ordered_at: now - chrono::Duration::days(day),
                currency: "CNY".into(),
                channel: OrderChannel::Store,
                store: None,
                external_ref: None,
                lines: vec![NewOrderLine {
                    sku: "T".into(),
                    product_name: None,
                    category: None,
                    quantity: 1,
                    unit_price_minor: 1000 + 37 * k as i64,
                }],
            };
            let total = o.validate(now).unwrap();
            s.insert_order(&mut tx, &admin, &o, total, &mut products)
                .await
                .unwrap();
            day -= every + jitter;
        }
    }
    tx.commit().await.unwrap();
    let layout = s.table_layout("customer_scores").await.unwrap();
    assert!(
        layout.iter().any(|l| l.contains("customer_scores_churn")),
        "{layout:?}"
    );
    let report = s
        .refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
    assert_eq!(report.customers, 60, "{report:?}");
    // The refresh loads a fresh copy of the table and swaps it in: same columns, indexes and
    // constraints as the migrations made.
    assert_eq!(s.table_layout("customer_scores").await.unwrap(), layout);
    assert!(report.churn_auc.is_some(), "{report:?}");
    // Same answer as the analytics run directly on the same orders.
    let t = s.order_transactions(8).await.unwrap();
    let as_of = ((now.timestamp_millis() + 8 * 3_600_000).div_euclid(86_400_000)) as i32;
    let direct = guanxi_analytics::rfm::rfm(&t, as_of, None).unwrap();
    for d in &direct {
        let row = s.customer_score(d.customer).await.unwrap().expect("scored");
        assert_eq!(
            (row.r_score, row.f_score, row.m_score),
            (i64::from(d.r), i64::from(d.f), i64::from(d.m))
        );
        assert_eq!(row.rfm_segment, d.segment.code());
        assert_eq!(row.frequency, i64::from(d.frequency));
    }
    // Customer 15 bought every ~25 days and stopped about 315 days ago.
    let lapsed = s.customer_score(ids[15]).await.unwrap().unwrap();
    assert_eq!(lapsed.activity, "lost", "{lapsed:?}");
    assert!(lapsed.churn_probability.unwrap() > 0.5, "{lapsed:?}");
    let steady = s.customer_score(ids[59]).await.unwrap().unwrap();
    assert!(
        steady.p_alive.unwrap() > 0.5 && steady.clv_minor.unwrap() > 0,
        "{steady:?}"
    );
    // A second refresh replaces, it does not add.
    s.refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
    let total: i64 = s.segment_counts().await.unwrap().iter().map(|c| c.1).sum();
    assert_eq!(total, 60);
    assert_eq!(s.table_layout("customer_scores").await.unwrap(), layout);
}

async fn the_job_queue_leases_fences_retries_and_dedupes(db: &TestDb) {
    use guanxi_store::audit::AuditEvent;
    use guanxi_store::jobs::{Enqueued, JobFilter, JobState, NewJob};
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let job = |key: Option<&str>| NewJob {
        kind: "test.echo".into(),
        dedupe_key: key.map(String::from),
        payload: json!({"n": 1}),
        run_at: None,
        max_attempts: 2,
    };
    // One active job per key; other keys and keyless jobs queue freely.
    let first = s.enqueue_job(&admin, job(Some("k"))).await.unwrap();
    assert!(matches!(first, Enqueued::Created(_)));
    assert_eq!(
        s.enqueue_job(&admin, job(Some("k"))).await.unwrap(),
        Enqueued::AlreadyActive(first.id())
    );
    let later = NewJob {
        run_at: Some(Utc::now() + chrono::Duration::hours(1)),
        ..job(Some("other"))
    };
    s.enqueue_job(&admin, later).await.unwrap();
    // Only due jobs of the asked kinds are claimed.
    assert!(s
        .claim_job("w1", &["nope"], 60_000)
        .await
        .unwrap()
        .is_none());
    let lease = s
        .claim_job("w1", &["test.echo"], -1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lease.id, lease.attempt), (first.id(), 1));
    assert_eq!(lease.payload, json!({"n": 1}));
    assert_eq!(lease.requested_by_name, "admin");
    // Running counts as active for the key.
    assert_eq!(
        s.enqueue_job(&admin, job(Some("k"))).await.unwrap(),
        Enqueued::AlreadyActive(first.id())
    );
    // Its lease has run out (a killed worker): another worker takes it over, and the first
    // worker's heartbeat and completion are refused.
    let taken = s
        .claim_job("w2", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempt), (first.id(), 2));
    assert!(!s.extend_job_lease(&lease, 60_000).await.unwrap());
    assert!(matches!(
        s.complete_job(&lease, json!({}), None).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(s.fail_job(&lease, "late").await.unwrap(), None);
    assert!(s.extend_job_lease(&taken, 60_000).await.unwrap());
    // Nothing else is due while w2 holds it.
    assert!(s
        .claim_job("w3", &["test.echo"], 60_000)
        .await
        .unwrap()
        .is_none());
    let ev = AuditEvent {
        action: "test_echo",
        entity: "jobs",
        entity_id: Some(taken.id),
        detail: json!({}),
    };
    s.complete_job(&taken, json!({"echo": 1}), Some((&admin, ev)))
        .await
        .unwrap();
    let done = s.get_job(first.id()).await.unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.result, Some(json!({"echo": 1})));
    assert_eq!(done.attempts, 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'test_echo'")
            .await,
        1
    );
    // A finished job frees its key.
    assert!(matches!(
        s.enqueue_job(&admin, job(Some("k"))).await.unwrap(),
        Enqueued::Created(_)
    ));

    // Failures retry after a backoff and give up after max_attempts.
    let f = s.enqueue_job(&admin, job(None)).await.unwrap().id();
    db.execute(&format!("UPDATE jobs SET run_at = 0 WHERE id <> {f}"))
        .await;
    db.execute(&format!("UPDATE jobs SET state = 'done' WHERE id <> {f}"))
        .await;
    let a1 = s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a1.id, f);
    assert_eq!(
        s.fail_job(&a1, "boom").await.unwrap(),
        Some(JobState::Queued)
    );
    let retry = s.get_job(f).await.unwrap();
    assert!(retry.run_at > Utc::now() + chrono::Duration::seconds(5));
    assert_eq!(retry.last_error.as_deref(), Some("boom"));
    assert!(s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .is_none());
    db.execute(&format!("UPDATE jobs SET run_at = 0 WHERE id = {f}"))
        .await;
    let a2 = s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.fail_job(&a2, "boom again").await.unwrap(),
        Some(JobState::Failed)
    );
    let failed = s.get_job(f).await.unwrap();
    assert_eq!((failed.state, failed.attempts), (JobState::Failed, 2));
    assert!(failed.finished_at.is_some());
    let listed = s
        .list_jobs(&JobFilter {
            state: Some(JobState::Failed),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![f]);

    // An operator retries the failed job: due now, a fresh budget, audited.
    let again = s.retry_job(&admin, f).await.unwrap();
    assert_eq!(again.state, JobState::Queued);
    assert_eq!((again.attempts, again.max_attempts), (2, 4));
    assert!(again.finished_at.is_none() && again.run_at <= Utc::now());
    let a3 = s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a3.id, a3.attempt), (f, 3));
    // Only failed or cancelled jobs can be retried; only queued ones cancelled.
    let refused = |r: Result<guanxi_store::jobs::Job, StoreError>, code: &str| match r {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, code),
        other => panic!("expected {code}, got {other:?}"),
    };
    refused(s.retry_job(&admin, f).await, "job_state");
    refused(s.cancel_job(&admin, f).await, "job_state");
    assert!(matches!(
        s.retry_job(&admin, 999_999).await,
        Err(StoreError::NotFound)
    ));
    s.complete_job(&a3, json!({}), None).await.unwrap();
    let queued = s.enqueue_job(&admin, job(Some("c"))).await.unwrap().id();
    let cancelled = s.cancel_job(&admin, queued).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.last_error.as_deref(), Some("cancelled by admin"));
    assert!(s
        .claim_job("w1", &["test.echo"], 60_000)
        .await
        .unwrap()
        .is_none());
    // Retrying a cancelled job whose key is taken by a newer active job is refused.
    let newer = s.enqueue_job(&admin, job(Some("c"))).await.unwrap();
    assert!(matches!(newer, Enqueued::Created(_)));
    refused(s.retry_job(&admin, queued).await, "job_active");
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND action IN ('retry_job', 'cancel_job')"
        )
        .await,
        2
    );
}

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
    };
    s.add_interaction(
        &rep,
        c.id,
        note("回访", day(1)).validate(Utc::now()).unwrap(),
    )
    .await
    .unwrap();
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

async fn dashboard_counts_within_scope(db: &TestDb) {
    let s = &db.store;
    let t1 = s.create_team(&Actor::system(), "north").await.unwrap();
    let t2 = s.create_team(&Actor::system(), "south").await.unwrap();
    let admin = user(s, "admin", Role::Admin, None).await;
    let rep = user(s, "rep", Role::Sales, Some(t1.id)).await;
    let other = user(s, "other", Role::Sales, Some(t2.id)).await;
    let mine = person(s, &rep, "吴十", None).await;
    person(s, &other, "郑一", None).await;
    // 2024-01-31 20:00 UTC is 2024-02-01 04:00 in Shanghai: it counts in February.
    let at = chrono::DateTime::parse_from_rfc3339("2024-01-31T20:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    s.create_order(
        &rep,
        NewOrder {
            customer_id: mine.id,
            ordered_at: at,
            currency: "CNY".into(),
            channel: OrderChannel::Online,
            store: None,
            external_ref: None,
            lines: vec![NewOrderLine {
                sku: "A".into(),
                product_name: None,
                category: None,
                quantity: 3,
                unit_price_minor: 700,
            }],
        },
    )
    .await
    .unwrap();
    let months = 12 * 10;
    let d = s.dashboard(&rep, months, 8).await.unwrap();
    assert_eq!(d.customers, 1);
    assert_eq!(d.by_stage, vec![("prospect".to_string(), 1)]);
    let with_orders = |d: &guanxi_store::dashboard::Dashboard| {
        d.revenue_per_month
            .iter()
            .filter(|(_, n, _)| *n > 0)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(with_orders(&d), vec![("2024-02".to_string(), 1, 2100)]);
    // Every month of the window is there, the empty ones as 0, oldest first.
    assert_eq!(d.revenue_per_month.len(), months as usize);
    assert_eq!(d.new_per_month.len(), months as usize);
    assert!(d.revenue_per_month.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!((d.orders, d.revenue_minor), (1, 2100));
    assert_eq!(d.new_per_month.iter().map(|(_, n)| n).sum::<i64>(), 1);
    let utc = s.dashboard(&admin, months, 0).await.unwrap();
    assert_eq!(utc.customers, 2);
    assert_eq!(with_orders(&utc)[0].0, "2024-01");
    let o = s.dashboard(&other, months, 8).await.unwrap();
    assert_eq!((o.customers, o.orders, o.revenue_minor), (1, 0, 0));
    assert!(with_orders(&o).is_empty());
    // All-time totals count the orders before the window too: a short window holds today's
    // order only, the totals both.
    let later = Utc::now() - chrono::Duration::hours(1);
    s.create_order(
        &rep,
        NewOrder {
            customer_id: mine.id,
            ordered_at: later,
            currency: "CNY".into(),
            channel: OrderChannel::Online,
            store: None,
            external_ref: None,
            lines: vec![NewOrderLine {
                sku: "B".into(),
                product_name: None,
                category: None,
                quantity: 1,
                unit_price_minor: 500,
            }],
        },
    )
    .await
    .unwrap();
    for reader in [&rep, &admin] {
        let short = s.dashboard(reader, 3, 8).await.unwrap();
        assert_eq!(with_orders(&short).iter().map(|m| m.1).sum::<i64>(), 1);
        assert_eq!((short.orders, short.revenue_minor), (2, 2600));
    }
    let o = s.dashboard(&other, 3, 8).await.unwrap();
    assert_eq!((o.orders, o.revenue_minor), (0, 0));
}

async fn also_bought_comes_from_basket_pairs(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let heavy = person(s, &admin, "卫一", None).await;
    let light = person(s, &admin, "卫二", None).await;
    let line = |sku: &str| NewOrderLine {
        sku: sku.into(),
        product_name: Some(format!("茶 {sku}")),
        category: None,
        quantity: 1,
        unit_price_minor: 1000,
    };
    let mut n = 0;
    let mut order = |c: i64, skus: &[&str]| {
        n += 1;
        NewOrder {
            customer_id: c,
            ordered_at: Utc::now() - chrono::Duration::days(n),
            currency: "CNY".into(),
            channel: OrderChannel::Store,
            store: None,
            external_ref: None,
            lines: skus.iter().map(|k| line(k)).collect(),
        }
    };
    // 119 orders: A and B together more often than chance (lift > 1); A and F together in
    // six orders but less often than chance (lift < 1); A and E in only three orders.
    let mut orders = Vec::new();
    for (times, skus) in [
        (30, &["A", "B"][..]),
        (20, &["C", "D"][..]),
        (10, &["B"][..]),
        (3, &["A", "E"][..]),
        (6, &["A", "F"][..]),
        (40, &["F"][..]),
    ] {
        for _ in 0..times {
            orders.push(order(heavy.id, skus));
        }
    }
    for _ in 0..10 {
        orders.push(order(light.id, &["A"]));
    }
    for o in orders {
        s.create_order(&admin, o).await.unwrap();
    }
    let r = s
        .refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
    assert!(
        !r.skipped.iter().any(|x| x.contains("also-bought")),
        "{:?}",
        r.skipped
    );
    let recs = s.also_bought(light.id, 5).await.unwrap();
    assert_eq!(
        recs.len(),
        1,
        "F (lift < 1) and E (3 orders) are not suggested: {recs:?}"
    );
    assert_eq!(
        (recs[0].product.as_str(), recs[0].because.as_str()),
        ("茶 B", "茶 A")
    );
    // A in 49 orders, B in 40, both in 30, of 119: confidence 30/49, lift 30·119/(49·40).
    assert!((recs[0].confidence - 30.0 / 49.0).abs() < 1e-9);
    assert!((recs[0].lift - 30.0 * 119.0 / (49.0 * 40.0)).abs() < 1e-9);
    // Someone who bought everything gets no suggestion of what they already have.
    assert!(s.also_bought(heavy.id, 5).await.unwrap().is_empty());

    // Each refresh records the segment sizes: two refreshes, two points in time.
    let h1 = s.segment_history(10).await.unwrap();
    assert_eq!(h1.iter().map(|r| r.2).sum::<i64>(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();
    let h2 = s.segment_history(10).await.unwrap();
    let mut times: Vec<i64> = h2.iter().map(|r| r.0).collect();
    times.dedup();
    assert_eq!(times.len(), 2);
    assert_eq!(h2.iter().map(|r| r.2).sum::<i64>(), 4);
    assert_eq!(s.segment_history(1).await.unwrap().len(), h1.len());

    // The analytics aggregates agree with the stored scores, within scope.
    let i = s.insights(&admin, 10).await.unwrap();
    let total =
        |cells: &[guanxi_store::insights::Cell]| cells.iter().map(|c| c.customers).sum::<i64>();
    assert_eq!(total(&i.segments), 2);
    assert_eq!(total(&i.rf_grid), 2);
    assert_eq!(total(&i.value_cells), 2);
    // 168 lines of 10 yuan for the heavy buyer, 10 for the light one.
    assert_eq!(i.revenue_ranked, vec![168_000, 10_000]);
    let revenue: i64 = i.segments.iter().map(|c| c.revenue_minor).sum();
    assert_eq!(revenue, 178_000);
    assert_eq!(i.top_clv.len(), i.clv.len().min(10));
    let team = s.create_team(&Actor::system(), "elsewhere").await.unwrap();
    let outsider = user(s, "outsider", Role::Sales, Some(team.id)).await;
    let none = s.insights(&outsider, 10).await.unwrap();
    assert!(
        none.segments.is_empty() && none.revenue_ranked.is_empty() && none.churn_risk.is_empty()
    );
    // The list's tier column reads a whole page's classes at once.
    let scores = s.scores_of(&[heavy.id, light.id, 999_999]).await.unwrap();
    assert_eq!(scores.len(), 2);
    assert_eq!(
        scores[&heavy.id],
        s.customer_score(heavy.id).await.unwrap().unwrap()
    );
    // Score filters only accept codes the refresh writes.
    for bad in [
        CustomerFilter {
            tier: Some("Z".into()),
            limit: 5,
            ..Default::default()
        },
        CustomerFilter {
            rfm_segment: Some("vip".into()),
            limit: 5,
            ..Default::default()
        },
        CustomerFilter {
            value_cell: Some("gold".into()),
            limit: 5,
            ..Default::default()
        },
        CustomerFilter {
            rf: Some((6, 1)),
            limit: 5,
            ..Default::default()
        },
    ] {
        assert!(
            matches!(
                s.list_customers(&admin, &bad).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    // The list filters behind the chart click-throughs.
    let seg = &i.segments[0].key;
    let page = s
        .list_customers(
            &admin,
            &CustomerFilter {
                rfm_segment: Some(seg.clone()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len() as i64, i.segments[0].customers);
    let (r, f) = i.rf_grid[0].key.split_once(',').unwrap();
    let page = s
        .list_customers(
            &admin,
            &CustomerFilter {
                rf: Some((r.parse().unwrap(), f.parse().unwrap())),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len() as i64, i.rf_grid[0].customers);
}

fn as_of() -> guanxi_domain::segment::AsOf {
    let now = Utc::now();
    guanxi_domain::segment::AsOf {
        now,
        today: now.date_naive(),
        utc_offset_hours: 0,
    }
}

/// Names of the customers a rule selects for `actor`, checked three ways: the list filter, the
/// size count and the export must agree.
async fn members(s: &Store, actor: &Actor, rule: serde_json::Value) -> Vec<String> {
    let rule: guanxi_domain::segment::SegmentRule = serde_json::from_value(rule).unwrap();
    let f = rule.resolve(as_of()).unwrap();
    let page = s
        .list_customers(
            actor,
            &CustomerFilter {
                segment: Some(f.clone()),
                limit: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut names: Vec<String> = page.items.iter().map(|c| c.name.clone()).collect();
    names.sort();
    assert_eq!(s.segment_size(actor, &f).await.unwrap(), names.len() as i64);
    names
}

async fn segments_select_exactly_their_members(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let t1 = s.create_team(&admin, "一队").await.unwrap();
    let t2 = s.create_team(&admin, "二队").await.unwrap();
    let rep1 = user(s, "rep1", Role::Sales, Some(t1.id)).await;
    let rep2 = user(s, "rep2", Role::Sales, Some(t2.id)).await;
    let soon = Utc::now().date_naive() + chrono::Duration::days(3);
    let past = Utc::now().date_naive() - chrono::Duration::days(10);
    let mk = |v: serde_json::Value| fields(v).validate(admin.id, Utc::now()).unwrap();
    use chrono::Datelike;
    let mut f1 = fields(
        json!({"kind": "individual", "name": "甲", "city": "上海", "tags": ["vip"],
        "owner_id": rep1.id,
        "birthday": {"year": 1990, "month": soon.month(), "day": soon.day(), "lunar": false}}),
    );
    f1.contact_points = vec![NewContactPoint {
        kind: ContactKind::Email,
        value: "jia@example.com".into(),
        label: None,
        is_primary: true,
        consent_marketing: true,
        source: None,
    }];
    let c1 = s
        .create_customer(&admin, f1.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let c2 = s
        .create_customer(
            &admin,
            mk(json!({"kind": "individual", "name": "乙", "city": "北京", "owner_id": rep2.id,
                "birthday": {"year": 1980, "month": past.month(), "day": past.day(), "lunar": false}})),
        )
        .await
        .unwrap();
    let mut f3 = fields(json!({"kind": "company", "name": "丙公司", "industry": "Tea 50%_off"}));
    f3.contact_points = vec![NewContactPoint {
        kind: ContactKind::Mobile,
        value: "13900001111".into(),
        label: None,
        is_primary: true,
        consent_marketing: false,
        source: None,
    }];
    s.create_customer(&admin, f3.validate(admin.id, Utc::now()).unwrap())
        .await
        .unwrap();
    let order = |c: i64, days: i64, sku: &str, cat: &str, price: i64| NewOrder {
        customer_id: c,
        ordered_at: Utc::now() - chrono::Duration::days(days),
        currency: "CNY".into(),
        channel: OrderChannel::Store,
        store: None,
        external_ref: None,
        lines: vec![NewOrderLine {
            sku: sku.into(),
            product_name: None,
            category: Some(cat.into()),
            quantity: 1,
            unit_price_minor: price,
        }],
    };
    for o in [
        order(c1.id, 10, "TEA-01", "tea", 5_000),
        order(c2.id, 200, "COF-01", "coffee", 100_000),
        order(c2.id, 150, "COF-01", "coffee", 100_000),
        order(c2.id, 120, "COF-02", "coffee", 100_000),
    ] {
        s.create_order(&admin, o).await.unwrap();
    }
    s.refresh_scores(guanxi_store::scores::ScoreSettings::default())
        .await
        .unwrap();

    let one = |field: &str, op: &str, value: &str| json!({"clauses": [{"field": field, "op": op, "value": value}]});
    let month_ago = |days: i64| {
        (Utc::now() - chrono::Duration::days(days))
            .format("%Y-%m")
            .to_string()
    };
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (json!({"clauses": []}), vec!["丙公司", "乙", "甲"]),
        (one("city", "eq", "上海"), vec!["甲"]),
        (one("city", "ne", "上海"), vec!["丙公司", "乙"]),
        (one("city", "in", "上海，北京"), vec!["乙", "甲"]),
        (one("city", "empty", ""), vec!["丙公司"]),
        (one("industry", "contains", "tea 50%_"), vec!["丙公司"]),
        (one("industry", "contains", "tea 50%x"), vec![]),
        (one("kind", "eq", "company"), vec!["丙公司"]),
        (one("owner", "eq", &rep1.id.to_string()), vec!["甲"]),
        (
            one("owner", "ne", &rep1.id.to_string()),
            vec!["丙公司", "乙"],
        ),
        // A new customer is owned by whoever created it, so nobody is unowned here.
        (one("owner", "empty", ""), vec![]),
        (one("owner", "not_empty", ""), vec!["丙公司", "乙", "甲"]),
        (one("owner", "eq", &admin.id.to_string()), vec!["丙公司"]),
        (one("tag", "has", "vip"), vec!["甲"]),
        (one("tag", "not_has", "vip"), vec!["丙公司", "乙"]),
        (one("consent", "granted", "any"), vec!["甲"]),
        (one("consent", "granted", "mobile"), vec![]),
        (one("consent", "not_granted", "email"), vec!["丙公司", "乙"]),
        (
            json!({"clauses": [{"field": "bought_product", "op": "bought", "value": "TEA-01", "days": 90}]}),
            vec!["甲"],
        ),
        (
            json!({"clauses": [{"field": "bought_category", "op": "bought", "value": "coffee", "days": 90}]}),
            vec![],
        ),
        (one("bought_category", "bought", "coffee"), vec!["乙"]),
        (
            one("bought_product", "not_bought", "TEA-01"),
            vec!["丙公司", "乙"],
        ),
        (one("order_count", "gte", "3"), vec!["乙"]),
        (one("order_count", "eq", "0"), vec!["丙公司"]),
        (
            json!({"clauses": [{"field": "order_count", "op": "gte", "value": "1", "days": 130}]}),
            vec!["乙", "甲"],
        ),
        (one("total_spend", "gte", "3000"), vec!["乙"]),
        (one("total_spend", "lte", "50"), vec!["丙公司", "甲"]),
        (one("last_order", "within", "30"), vec!["甲"]),
        (one("last_order", "not_within", "30"), vec!["丙公司", "乙"]),
        (one("birthday", "within", "7"), vec!["甲"]),
        (one("created", "within", "1"), vec!["丙公司", "乙", "甲"]),
        // Calendar months (UTC here): 甲 ordered ten days ago, 乙 150 days ago.
        (one("order_month", "during", &month_ago(10)), vec!["甲"]),
        (
            one("order_month", "not_during", &month_ago(10)),
            vec!["丙公司", "乙"],
        ),
        (one("order_month", "during", &month_ago(150)), vec!["乙"]),
        (
            one("created_month", "eq", &month_ago(0)),
            vec!["丙公司", "乙", "甲"],
        ),
        (one("created_month", "eq", "2001-01"), vec![]),
        (
            one("created_month", "ne", "2001-01"),
            vec!["丙公司", "乙", "甲"],
        ),
        (
            json!({"match": "any", "clauses": [
                {"field": "city", "op": "eq", "value": "上海"},
                {"field": "order_count", "op": "gte", "value": "3"}]}),
            vec!["乙", "甲"],
        ),
        (
            json!({"clauses": [{"field": "group", "op": "not", "rule": {"match": "any", "clauses": [
                {"field": "city", "op": "eq", "value": "上海"},
                {"field": "city", "op": "eq", "value": "北京"}]}}]}),
            vec!["丙公司"],
        ),
    ];
    for (rule, want) in cases {
        assert_eq!(members(s, &admin, rule.clone()).await, want, "{rule}");
    }
    // Lunar birthdays are matched in the lunar calendar: 丁 was born on the lunar month-day of
    // a day in the coming week, 戊 on a lunar month-day that only *as a solar date* is in it.
    let coming = (1..=5)
        .map(|k| Utc::now().date_naive() + chrono::Duration::days(k))
        .find_map(|d| guanxi_domain::lunar::to_lunar(d).filter(|l| !l.leap))
        .unwrap();
    for (name, (month, day)) in [
        ("丁", (coming.month, coming.day)),
        ("戊", (soon.month(), soon.day().min(29))),
    ] {
        s.create_customer(
            &admin,
            mk(json!({"kind": "individual", "name": name,
                "birthday": {"month": month, "day": day, "lunar": true}})),
        )
        .await
        .unwrap();
    }
    let lunar_window = guanxi_domain::segment::lunar_birthday_keys(Utc::now().date_naive(), 7);
    let soon_as_lunar_key = format!("{:02}-{:02}", soon.month(), soon.day().min(29));
    let mut want = vec!["丁", "甲"];
    if lunar_window.contains(&soon_as_lunar_key) {
        want.push("戊");
        want.sort();
    }
    assert_eq!(
        members(s, &admin, one("birthday", "within", "7")).await,
        want
    );
    // Scores: the customers of a segment are exactly those the refresh put there.
    let sc1 = s.customer_score(c1.id).await.unwrap().unwrap();
    let seg_members = members(s, &admin, one("rfm_segment", "eq", &sc1.rfm_segment)).await;
    assert!(seg_members.contains(&"甲".to_string()));
    let counts = s.segment_counts().await.unwrap();
    let n = counts
        .iter()
        .find(|(k, _)| *k == sc1.rfm_segment)
        .map(|x| x.1)
        .unwrap();
    assert_eq!(seg_members.len() as i64, n);
    assert_eq!(
        members(s, &admin, one("tier", "in", "A,B,C")).await,
        ["乙", "甲"],
        "both buyers have a tier, the company without orders none"
    );
    // CLV needs enough buyers to fit the models; whoever has one is ≥ 0, nobody else matches.
    let mut with_clv = 0;
    for c in [&c1, &c2] {
        with_clv += usize::from(
            s.customer_score(c.id)
                .await
                .unwrap()
                .unwrap()
                .clv_minor
                .is_some(),
        );
    }
    assert_eq!(
        members(s, &admin, one("clv", "gte", "0")).await.len(),
        with_clv
    );
    // Record scope: a rep sizes a segment over his own team's customers only.
    let all = json!({"clauses": []});
    assert_eq!(members(s, &rep1, all.clone()).await, ["甲"]);
    assert_eq!(members(s, &rep2, all).await, ["乙"]);
    assert_eq!(
        members(s, &rep1, one("city", "eq", "北京")).await,
        Vec::<String>::new()
    );
}

async fn saved_segments_are_checked_versioned_and_audited(db: &TestDb) {
    use guanxi_domain::segment::SegmentInput;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    person(s, &admin, "上海一", None).await;
    person(s, &admin, "上海二", None).await;
    let input: SegmentInput = serde_json::from_value(json!({
        "name": " 上海客户 ", "description": "city",
        "rule": {"clauses": [{"field": "city", "op": "eq", "value": "上海"}]}}))
    .unwrap();
    let seg = s.create_segment(&admin, &input, as_of()).await.unwrap();
    assert_eq!(seg.name, "上海客户");
    assert_eq!(seg.version, 1);
    assert_eq!(s.list_segments().await.unwrap().len(), 1);
    let dup = s.create_segment(&admin, &input, as_of()).await;
    assert!(
        matches!(dup, Err(StoreError::Duplicate { field: "name" })),
        "{dup:?}"
    );
    let mut bad = input.clone();
    bad.name = "bad".into();
    bad.rule.clauses[0].op = "like".into();
    match s.create_segment(&admin, &bad, as_of()).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "rule.clauses[0].op"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.list_segments().await.unwrap().len(),
        1,
        "nothing half-written"
    );
    let mut renamed = input.clone();
    renamed.name = "沪上客户".into();
    let seg2 = s
        .update_segment(&admin, seg.id, 1, &renamed, as_of())
        .await
        .unwrap();
    assert_eq!((seg2.name.as_str(), seg2.version), ("沪上客户", 2));
    let stale = s.update_segment(&admin, seg.id, 1, &input, as_of()).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { current: 2, .. })),
        "{stale:?}"
    );
    // Export: every member, audited with the row count.
    let f = seg2.rule.resolve(as_of()).unwrap();
    let rows = s
        .export_customers(
            &admin,
            &CustomerFilter {
                segment: Some(f),
                ..Default::default()
            },
            "segment",
            Some(seg.id),
            json!({"format": "csv"}),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let log = s
        .list_audit(&AuditFilter {
            entity: Some("segment".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["export", "update", "create"]);
    assert_eq!(log.items[0].detail["rows"], 2);
    s.delete_segment(&admin, seg.id, 2).await.unwrap();
    assert!(matches!(
        s.get_segment(seg.id).await,
        Err(StoreError::NotFound)
    ));
}
