//! Store tests: the score refresh, the dashboard, also-bought pairs and the lifecycle stage. Every test runs on SQLite and PostgreSQL.

use super::*;

on_both_backends!(
    scores_refresh_writes_what_the_analytics_compute,
    dashboard_counts_within_scope,
    also_bought_comes_from_basket_pairs,
    the_lifecycle_stage_follows_the_purchases_at_each_refresh,
);

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
