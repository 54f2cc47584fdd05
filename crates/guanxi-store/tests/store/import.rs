//! The bulk import writer on both backends: an imported customer is stored, indexed and audited
//! exactly as one created through the form, an imported update as an edit, and a failure in
//! the middle of an import leaves nothing behind.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;
use guanxi_domain::customer::{CustomerFields, ValidCustomer};
use guanxi_domain::import::UpdateMode;
use guanxi_domain::role::{Actor, Role};
use guanxi_store::audit::AuditFilter;
use guanxi_store::customers::CustomerFilter;
use guanxi_store::import::{
    ImportCounts, ImportOutcome, ImportWrite, NewImport, Progress, Recording,
};
use guanxi_store::on_both_backends;
use guanxi_store::testing::{user, TestDb};
use guanxi_store::{Store, StoreError};
use serde_json::json;

on_both_backends!(
    an_imported_customer_is_stored_like_a_created_one,
    an_imported_update_is_applied_like_an_edit,
    a_failure_mid_import_writes_nothing,
    a_recorded_import_is_undone_except_what_changed_since,
    an_imports_personal_data_goes_with_erasure_and_age,
    imported_custom_values_are_written_and_undone,
    imported_orders_are_written_with_lines_and_undone,
    imported_interactions_are_found_again_and_undone,
    imported_deals_start_their_history_and_are_undone,
);

async fn admin(s: &Store) -> Actor {
    user(s, "admin", Role::Admin, None).await
}

fn valid(actor: &Actor, v: serde_json::Value) -> ValidCustomer {
    let f: CustomerFields = serde_json::from_value(v).unwrap();
    f.validate(actor.id, Utc::now()).unwrap()
}

fn rich(mobile: &str, email: &str) -> serde_json::Value {
    json!({
        "kind": "individual", "name": "张三丰", "gender": "male", "city": "上海",
        "birthday": {"year": 1985, "month": 8, "day": 8, "lunar": true},
        "id_number": "11010519491231002x", "tags": ["vip", "wholesale"],
        "profile": {"lifestyle": {"drinks": ["tea"]}},
        "contact_points": [
            {"kind": "mobile", "value": mobile, "is_primary": true, "consent_marketing": true},
            {"kind": "email", "value": email, "is_primary": true},
            {"kind": "wechat", "value": "zsf_wx", "is_primary": true}
        ]
    })
}

/// The customers an actor sees, with a tag when given.
async fn listed(s: &Store, a: &Actor, tag: Option<&str>) -> Vec<guanxi_domain::records::Customer> {
    let f = CustomerFilter {
        tag: tag.map(String::from),
        limit: 50,
        ..Default::default()
    };
    s.list_customers(a, &f).await.unwrap().items
}

/// Audit entries written so far (up to 500).
async fn audit_count(s: &Store) -> usize {
    let f = AuditFilter {
        limit: 500,
        ..Default::default()
    };
    s.list_audit(&f).await.unwrap().items.len()
}

/// Counts progress reports and remembers the last.
fn progress() -> (Progress, Arc<AtomicU64>) {
    let last = Arc::new(AtomicU64::new(0));
    let seen = last.clone();
    (Arc::new(move |n| seen.store(n, Ordering::SeqCst)), last)
}

/// A record as JSON without what differs between two equal customers (ids, times).
fn comparable(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m
            .into_iter()
            .filter(|(k, _)| k != "id" && k != "customer_id" && !k.ends_with("_at"))
            .map(|(k, v)| (k, comparable(v)))
            .collect(),
        serde_json::Value::Array(a) => a.into_iter().map(comparable).collect(),
        v => v,
    }
}

async fn audit_of(s: &Store, id: i64, action: &str) -> Vec<serde_json::Value> {
    s.list_audit(&AuditFilter {
        entity: Some("customer".into()),
        entity_id: Some(id),
        action: Some(action.into()),
        limit: 10,
        ..Default::default()
    })
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|e| comparable(e.detail))
    .collect()
}

async fn an_imported_customer_is_stored_like_a_created_one(db: &TestDb) {
    let s = &db.store;
    let a = admin(s).await;
    let created = s
        .create_customer(&a, valid(&a, rich("13800000001", "one@example.com")))
        .await
        .unwrap();
    let (report, last) = progress();
    let counts = s
        .import_customers(
            &a,
            vec![
                ImportWrite::Insert(valid(&a, rich("13800000002", "two@example.com"))),
                ImportWrite::Insert(valid(
                    &a,
                    json!({"kind": "company", "name": "Acme 有限公司", "tags": []}),
                )),
            ],
            report,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 2,
            updated: 0
        }
    );
    assert_eq!(last.load(Ordering::SeqCst), 2);
    let ids = listed(s, &a, None).await;
    assert_eq!(ids.len(), 3);
    let imported = ids
        .iter()
        .find(|c| c.name == "张三丰" && c.id != created.id);
    let imported = s.get_customer(&a, imported.unwrap().id).await.unwrap();
    // Same fields, tags, contact points (kinds, values, flags, provenance), owner and version.
    let (mut x, mut y) = (
        comparable(serde_json::to_value(&created).unwrap()),
        comparable(serde_json::to_value(&imported).unwrap()),
    );
    for v in [&mut x, &mut y] {
        for cp in v["contact_points"].as_array_mut().unwrap() {
            cp["value"] = json!(cp["kind"]);
            cp["value_normalized"] = json!(cp["kind"]);
        }
    }
    assert_eq!(x, y);
    // Found the same ways: pinyin, initials, a name part, the phone and the email.
    for q in [
        "zhangsanfeng",
        "zsf",
        "三丰",
        "13800000002",
        "two@example.com",
    ] {
        let hits = s.identify(&a, q, 10).await.unwrap();
        assert!(
            hits.iter().any(|h| h.customer_id == imported.id),
            "{q}: {hits:?}"
        );
    }
    let hits = s.identify(&a, "zhangsanfeng", 10).await.unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    // Tags are rows too (the tag filter reads them).
    let vip = listed(s, &a, Some("wholesale")).await;
    assert_eq!(vip.len(), 2);
    // Audited alike.
    assert_eq!(
        audit_of(s, created.id, "create").await,
        audit_of(s, imported.id, "create").await
    );
}

async fn an_imported_update_is_applied_like_an_edit(db: &TestDb) {
    let s = &db.store;
    let a = admin(s).await;
    let stored = s
        .create_customer(
            &a,
            valid(
                &a,
                json!({"kind": "individual", "name": "李四", "city": "上海", "tags": ["old"],
                       "contact_points": [{"kind": "mobile", "value": "13900000001", "is_primary": true}]}),
            ),
        )
        .await
        .unwrap();
    let row = valid(
        &a,
        json!({"kind": "individual", "name": "李思", "city": "北京", "tags": ["new"],
               "contact_points": [
                   {"kind": "mobile", "value": "13900000001", "is_primary": true},
                   {"kind": "mobile", "value": "13900000002", "is_primary": true},
                   {"kind": "email", "value": "lisi@example.com", "is_primary": true}]}),
    );
    let (report, _) = progress();
    let counts = s
        .import_customers(
            &a,
            vec![ImportWrite::Update(
                stored.id,
                row,
                UpdateMode::Overwrite.into(),
            )],
            report,
            None,
        )
        .await
        .unwrap();
    assert_eq!(counts.updated, 1);
    let after = s.get_customer(&a, stored.id).await.unwrap();
    assert_eq!(after.name, "李思");
    assert_eq!(after.city.as_deref(), Some("北京"));
    // An import adds tags (it overlays the file on the record, as for fields it names).
    assert_eq!(after.tags, ["old", "new"]);
    assert_eq!(after.meta.version, stored.meta.version + 1);
    let mut contacts: Vec<(String, bool)> = after
        .contact_points
        .iter()
        .map(|c| (c.value.clone(), c.is_primary))
        .collect();
    contacts.sort();
    assert_eq!(
        contacts,
        [
            ("13900000001".to_string(), true),
            ("13900000002".to_string(), false),
            ("lisi@example.com".to_string(), true)
        ]
    );
    // The new name and the added contacts are searchable; the old name is not.
    for q in ["lisi", "13900000002", "lisi@example.com"] {
        let hits = s.identify(&a, q, 10).await.unwrap();
        assert!(hits.iter().any(|h| h.customer_id == stored.id), "{q}");
    }
    assert!(s.identify(&a, "李四", 10).await.unwrap().is_empty());
    for t in ["old", "new"] {
        assert_eq!(listed(s, &a, Some(t)).await.len(), 1, "{t}");
    }
    let audit = audit_of(s, stored.id, "update").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["city"], json!({"before": "上海", "after": "北京"}));
    assert_eq!(audit[0]["contact_points_added"], 2);
}

async fn a_failure_mid_import_writes_nothing(db: &TestDb) {
    let s = &db.store;
    let a = admin(s).await;
    let stored = s
        .create_customer(
            &a,
            valid(
                &a,
                json!({"kind": "individual", "name": "王五", "city": "上海"}),
            ),
        )
        .await
        .unwrap();
    let audit_before = audit_count(s).await;
    // The second update of the same customer finds the version the first one moved on: the
    // import fails after its new customers and first update were written, and takes them back.
    let update = |city: &str| {
        ImportWrite::Update(
            stored.id,
            valid(
                &a,
                json!({"kind": "individual", "name": "王五", "city": city}),
            ),
            UpdateMode::Overwrite.into(),
        )
    };
    let (report, _) = progress();
    let writes = vec![
        ImportWrite::Insert(valid(
            &a,
            json!({"kind": "individual", "name": "赵六",
                   "contact_points": [{"kind": "mobile", "value": "13700000001", "is_primary": true}]}),
        )),
        update("北京"),
        update("广州"),
    ];
    let err = s
        .import_customers(&a, writes, report, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let all = listed(s, &a, None).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].city.as_deref(), Some("上海"));
    assert_eq!(all[0].meta.version, stored.meta.version);
    assert!(s.identify(&a, "13700000001", 10).await.unwrap().is_empty());
    assert!(s.identify(&a, "zhaoliu", 10).await.unwrap().is_empty());
    let audit_after = audit_count(s).await;
    assert_eq!(audit_before, audit_after);
    // An owner that does not exist is refused before anything is written.
    let mut orphan = valid(&a, json!({"kind": "individual", "name": "钱七"}));
    orphan.fields.owner_id = Some(999_999);
    let (report, _) = progress();
    let err = s
        .import_customers(&a, vec![ImportWrite::Insert(orphan)], report, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

/// Issue #18: an import made from the browser records what it wrote, in its own transaction;
/// undoing it deletes the customers it created and gives the ones it updated their fields
/// (and contact points) back, but leaves a customer a colleague edited since as it is.
async fn a_recorded_import_is_undone_except_what_changed_since(db: &TestDb) {
    let s = &db.store;
    let a = admin(s).await;
    let kept = s
        .create_customer(
            &a,
            valid(
                &a,
                json!({"kind": "individual", "name": "王五", "city": "上海", "contact_points": [
                    {"kind": "mobile", "value": "13900000001", "is_primary": true}]}),
            ),
        )
        .await
        .unwrap();
    let other = s
        .create_customer(&a, valid(&a, json!({"kind": "individual", "name": "孙八"})))
        .await
        .unwrap();
    let batch = s
        .create_import(
            &a,
            NewImport {
                entity: "customers",
                file_name: "a.csv",
                data: b"name\n",
                sheet: None,
                settings: "{}",
                total_rows: 4,
            },
        )
        .await
        .unwrap();
    let row = |name: &str, city: &str, mobile: Option<&str>| {
        let mut v = json!({"kind": "individual", "name": name, "city": city, "province": "江苏"});
        if let Some(m) = mobile {
            v["contact_points"] = json!([{"kind": "mobile", "value": m, "is_primary": true}]);
        }
        valid(&a, v)
    };
    assert!(s.move_import(batch.id, "uploaded", "queued").await.unwrap());
    assert!(!s.move_import(batch.id, "uploaded", "queued").await.unwrap());
    let (report, _) = progress();
    let counts = s
        .import_customers(
            &a,
            vec![
                ImportWrite::Insert(row("赵六", "南京", Some("13700000001"))),
                ImportWrite::Insert(row("钱七", "苏州", None)),
                ImportWrite::Update(
                    kept.id,
                    row("王五", "南京", Some("13700000009")),
                    UpdateMode::FillEmpty.into(),
                ),
                ImportWrite::Update(
                    other.id,
                    row("孙八", "无锡", None),
                    UpdateMode::Overwrite.into(),
                ),
            ],
            report,
            Some(Recording {
                import_id: batch.id,
                lines: vec![2, 3, 4, 5],
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 2,
            updated: 2
        }
    );
    assert_eq!(s.import_rows_written(batch.id).await.unwrap(), (2, 2));
    // Fill-empty kept the stored city and filled the province; the new mobile was added.
    let w = s.get_customer(&a, kept.id).await.unwrap();
    assert_eq!(
        (w.city.as_deref(), w.province.as_deref()),
        (Some("上海"), Some("江苏"))
    );
    assert_eq!(
        s.identify(&a, "13700000009", 5).await.unwrap()[0].customer_id,
        kept.id
    );
    s.finish_import(
        &a,
        batch.id,
        &ImportOutcome {
            status: "done",
            inserted: 2,
            updated: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A colleague edits one created customer after the import: it is kept by the undo.
    let zhao = s.identify(&a, "13700000001", 5).await.unwrap()[0].customer_id;
    let z = s.get_customer(&a, zhao).await.unwrap();
    let patch = serde_json::from_value(json!({"version": z.meta.version, "city": "杭州"})).unwrap();
    s.update_customer(&a, zhao, patch).await.unwrap();
    let undone = s.undo_import(&a, batch.id).await.unwrap();
    assert_eq!((undone.removed, undone.restored, undone.kept), (1, 2, 1));
    let names: Vec<String> = listed(s, &a, None)
        .await
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(
        names.contains(&"赵六".to_string()) && !names.contains(&"钱七".to_string()),
        "{names:?}"
    );
    let w = s.get_customer(&a, kept.id).await.unwrap();
    assert_eq!((w.city.as_deref(), w.province), (Some("上海"), None));
    assert!(s.identify(&a, "13700000009", 5).await.unwrap().is_empty());
    assert_eq!(
        s.identify(&a, "13900000001", 5).await.unwrap()[0].customer_id,
        kept.id
    );
    assert_eq!(s.get_customer(&a, other.id).await.unwrap().city, None);
    // Once is all.
    assert!(matches!(
        s.undo_import(&a, batch.id).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.import_batch(batch.id).await.unwrap().status, "undone");
}

/// Privacy: an import's file and what its updates replaced hold people's data. Erasing a
/// customer drops both for the imports that touched them (the undo then keeps that customer as
/// it is); past the undo window the files of finished imports go.
async fn an_imports_personal_data_goes_with_erasure_and_age(db: &TestDb) {
    let s = &db.store;
    let a = admin(s).await;
    let stored = s
        .create_customer(
            &a,
            valid(
                &a,
                json!({"kind": "individual", "name": "钱七", "city": "上海"}),
            ),
        )
        .await
        .unwrap();
    let new = |file: &'static [u8]| NewImport {
        entity: "customers",
        file_name: "a.csv",
        data: file,
        sheet: None,
        settings: "{}",
        total_rows: 1,
    };
    let touched = s
        .create_import(&a, new("name,city\n钱七,北京\n".as_bytes()))
        .await
        .unwrap();
    let other = s.create_import(&a, new(b"name\nSomeone\n")).await.unwrap();
    let (report, _) = progress();
    s.import_customers(
        &a,
        vec![ImportWrite::Update(
            stored.id,
            valid(
                &a,
                json!({"kind": "individual", "name": "钱七", "city": "北京"}),
            ),
            UpdateMode::Overwrite.into(),
        )],
        report,
        Some(Recording {
            import_id: touched.id,
            lines: vec![2],
        }),
    )
    .await
    .unwrap();
    let done = ImportOutcome {
        status: "done",
        updated: 1,
        ..Default::default()
    };
    s.finish_import(&a, touched.id, &done).await.unwrap();
    s.erase_customer(&a, stored.id, "客户要求删除")
        .await
        .unwrap();
    assert!(s.import_file(touched.id).await.unwrap().is_empty());
    assert!(
        !s.import_file(other.id).await.unwrap().is_empty(),
        "only the imports that touched them"
    );
    let undone = s.undo_import(&a, touched.id).await.unwrap();
    assert_eq!(
        (undone.restored, undone.kept),
        (0, 1),
        "what it replaced is gone"
    );
    // Age: finished imports' files go once past the window; one still waiting to run stays.
    s.finish_import(&a, other.id, &done).await.unwrap();
    let waiting = s.create_import(&a, new(b"name\nX\n")).await.unwrap();
    let later = chrono::Utc::now().timestamp_millis() + 1_000;
    assert_eq!(s.purge_import_files(later).await.unwrap(), 1);
    assert!(s.import_file(other.id).await.unwrap().is_empty());
    assert!(!s.import_file(waiting.id).await.unwrap().is_empty());
}

/// Custom-field values travel with an import: written for new customers, laid over stored
/// ones as the mode says (fill-empty leaves a value in place), and put back by the undo.
async fn imported_custom_values_are_written_and_undone(db: &TestDb) {
    use guanxi_domain::custom_field::{CustomValue, FieldEntity, FieldInput, FieldKind};
    let s = &db.store;
    let a = admin(s).await;
    let def = |code: &str, kind: FieldKind| FieldInput {
        entity: FieldEntity::Customer,
        applies_to: guanxi_domain::custom_field::AppliesTo::All,
        code: code.into(),
        kind,
        label_zh: code.into(),
        label_en: code.into(),
        choices: vec![],
        required: false,
        visible_to: vec![],
        sensitive: false,
        position: 0,
    };
    let club = s
        .create_custom_field(&a, &def("club", FieldKind::Text), None)
        .await
        .unwrap();
    let income = s
        .create_custom_field(&a, &def("income", FieldKind::Money), None)
        .await
        .unwrap();
    let cells = |d: &guanxi_domain::custom_field::FieldDefinition, raw: &str| {
        (
            d.id,
            CustomValue::parse_text(d, raw).unwrap().unwrap().cells(),
        )
    };
    let stored = s
        .create_customer(&a, valid(&a, json!({"kind": "individual", "name": "王五"})))
        .await
        .unwrap();
    let other = s
        .create_customer(&a, valid(&a, json!({"kind": "individual", "name": "孙八"})))
        .await
        .unwrap();
    let fields = vec![club.clone(), income.clone()];
    let keep = |id| {
        let f = fields.clone();
        async move {
            s.custom_values(&f, &[id])
                .await
                .unwrap()
                .remove(&id)
                .unwrap_or_default()
        }
    };
    // 王五 has a club already; 孙八 has nothing.
    s.update_customer_with(
        &a,
        stored.id,
        serde_json::from_value(json!({"version": stored.meta.version})).unwrap(),
        &[guanxi_store::custom_field::CustomChange {
            field: club.clone(),
            value: Some(CustomValue::Text("扶轮社".into())),
        }],
    )
    .await
    .unwrap();
    let batch = s
        .create_import(
            &a,
            NewImport {
                entity: "customers",
                file_name: "c.csv",
                data: b"name\n",
                sheet: None,
                settings: "{}",
                total_rows: 3,
            },
        )
        .await
        .unwrap();
    let with = |name: &str, custom: Vec<(i64, Vec<guanxi_domain::custom_field::StoredCell>)>| {
        let mut v = valid(&a, json!({"kind": "individual", "name": name}));
        v.custom = custom;
        v
    };
    let (report, _) = progress();
    s.import_customers(
        &a,
        vec![
            ImportWrite::Insert(with(
                "赵六",
                vec![cells(&club, "狮子会"), cells(&income, "120000")],
            )),
            ImportWrite::Update(
                stored.id,
                with(
                    "王五",
                    vec![cells(&club, "高尔夫协会"), cells(&income, "80000")],
                ),
                UpdateMode::FillEmpty.into(),
            ),
            ImportWrite::Update(
                other.id,
                with("孙八", vec![cells(&club, "读书会")]),
                UpdateMode::Overwrite.into(),
            ),
        ],
        report,
        Some(Recording {
            import_id: batch.id,
            lines: vec![2, 3, 4],
        }),
    )
    .await
    .unwrap();
    let zhao = listed(s, &a, None)
        .await
        .into_iter()
        .find(|c| c.name == "赵六")
        .unwrap()
        .id;
    let z = keep(zhao).await;
    assert_eq!(z[&club.id], CustomValue::Text("狮子会".into()));
    assert_eq!(z[&income.id], CustomValue::Money(12_000_000));
    let w = keep(stored.id).await;
    assert_eq!(
        w[&club.id],
        CustomValue::Text("扶轮社".into()),
        "fill-empty keeps it"
    );
    assert_eq!(
        w[&income.id],
        CustomValue::Money(8_000_000),
        "and fills the empty one"
    );
    assert_eq!(
        keep(other.id).await[&club.id],
        CustomValue::Text("读书会".into())
    );
    s.finish_import(
        &a,
        batch.id,
        &ImportOutcome {
            status: "done",
            inserted: 1,
            updated: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.undo_import(&a, batch.id).await.unwrap();
    let w = keep(stored.id).await;
    assert_eq!(w.get(&club.id), Some(&CustomValue::Text("扶轮社".into())));
    assert!(
        !w.contains_key(&income.id),
        "the filled value goes with the undo"
    );
    assert!(keep(other.id).await.is_empty());
}

/// Orders an import writes are stored like typed ones (lines, products, totals, the buyer's
/// purchase figures), recorded and audited; the undo deletes them except one a ticket has come
/// to refer to since, and puts the figures back.
async fn imported_orders_are_written_with_lines_and_undone(db: &TestDb) {
    use guanxi_domain::order::{NewOrder, NewOrderLine};
    let s = &db.store;
    let a = admin(s).await;
    let c = s
        .create_customer(&a, valid(&a, json!({"kind": "individual", "name": "周杰"})))
        .await
        .unwrap();
    let batch = s
        .create_import(
            &a,
            NewImport {
                entity: "orders",
                file_name: "orders.csv",
                data: b"x\n",
                sheet: None,
                settings: "{}",
                total_rows: 3,
            },
        )
        .await
        .unwrap();
    let order = |r: &str, lines: Vec<(&str, i64, i64)>| NewOrder {
        customer_id: c.id,
        ordered_at: chrono::DateTime::parse_from_rfc3339("2024-03-05T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        currency: "CNY".into(),
        channel: guanxi_domain::vocabulary::OrderChannel::Online,
        store: None,
        external_ref: Some(r.into()),
        lines: lines
            .into_iter()
            .map(|(sku, quantity, unit_price_minor)| NewOrderLine {
                sku: sku.into(),
                product_name: Some(format!("{sku} 名")),
                category: None,
                quantity,
                unit_price_minor,
            })
            .collect(),
    };
    let (report, seen) = progress();
    let counts = s
        .import_orders(
            &a,
            batch.id,
            vec![
                (
                    2,
                    order("IMP-1", vec![("TEA-1", 2, 12_850), ("CUP-1", 1, 3_000)]),
                ),
                (4, order("IMP-2", vec![("TEA-1", 1, 12_850)])),
            ],
            report,
        )
        .await
        .unwrap();
    assert_eq!((counts.orders, counts.lines), (2, 3));
    assert_eq!(seen.load(Ordering::SeqCst), 2, "progress reached the end");
    assert_eq!(s.import_records_written(batch.id).await.unwrap(), 2);
    let refs = s.orders_by_ref(&["IMP-1", "IMP-2", "NOPE"]).await.unwrap();
    assert_eq!(refs.len(), 2);
    let (imp1, _) = refs["IMP-1"];
    let o = s.get_order(&a, imp1).await.unwrap();
    assert_eq!((o.total_minor, o.lines.len()), (28_700, 2));
    let audit = s
        .list_audit(&AuditFilter {
            entity: Some("order".into()),
            entity_id: Some(imp1),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "create");
    // A second write of the same numbers fails whole (numbers are unique): nothing doubles.
    let (report, _) = progress();
    let again = s
        .import_orders(
            &a,
            batch.id,
            vec![
                (2, order("IMP-3", vec![("TEA-1", 1, 100)])),
                (3, order("IMP-1", vec![("TEA-1", 1, 100)])),
            ],
            report,
        )
        .await;
    assert!(again.is_err());
    assert!(s.orders_by_ref(&["IMP-3"]).await.unwrap().is_empty());
    s.finish_import(
        &a,
        batch.id,
        &ImportOutcome {
            status: "done",
            inserted: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A ticket about the second order: the undo keeps that one.
    let (imp2, _) = refs["IMP-2"];
    s.create_ticket(
        &a,
        guanxi_domain::ticket::NewTicket {
            customer_id: Some(c.id),
            contact_name: None,
            contact_address: None,
            kind: guanxi_domain::ticket::TicketKind::Complaint,
            category_id: Some(2),
            priority: None,
            channel: guanxi_domain::vocabulary::InteractionChannel::Phone,
            subject: "茶叶受潮".into(),
            body: None,
            queue_id: None,
            order_id: Some(imp2),
            product_sku: None,
            severe: false,
            custom: Default::default(),
        }
        .validate()
        .unwrap(),
    )
    .await
    .unwrap();
    let counts = s.undo_record_import(&a, batch.id).await.unwrap();
    assert_eq!((counts.removed, counts.kept), (1, 1));
    assert!(matches!(
        s.get_order(&a, imp1).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.get_order(&a, imp2).await.unwrap().lines.len(), 1);
    let left = s
        .list_orders(
            &a,
            &guanxi_store::orders::OrderFilter {
                customer_id: Some(c.id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(left.items.len(), 1);
    assert!(matches!(
        s.undo_record_import(&a, batch.id).await,
        Err(StoreError::Invalid(_))
    ));
    // Erasing the buyer drops the file that named them (the orders stay, as accounts).
    assert!(!s.import_file(batch.id).await.unwrap().is_empty());
    s.erase_customer(&a, c.id, "客户要求删除").await.unwrap();
    assert!(s.import_file(batch.id).await.unwrap().is_empty());
}

/// Imported interactions are on file for the next import's duplicate check, on the timeline,
/// and taken back by the undo, except one that changed since (its customer was erased).
async fn imported_interactions_are_found_again_and_undone(db: &TestDb) {
    use guanxi_domain::interaction::NewInteraction;
    use guanxi_domain::vocabulary::InteractionChannel;
    let s = &db.store;
    let a = admin(s).await;
    let mut ids = Vec::new();
    for name in ["周杰", "李雷"] {
        let c = s
            .create_customer(&a, valid(&a, json!({"kind": "individual", "name": name})))
            .await
            .unwrap();
        ids.push(c.id);
    }
    let batch = s
        .create_import(
            &a,
            NewImport {
                entity: "interactions",
                file_name: "calls.csv",
                data: b"x\n",
                sheet: None,
                settings: "{}",
                total_rows: 2,
            },
        )
        .await
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2024-03-05T01:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let call = |subject: &str| {
        NewInteraction {
            channel: InteractionChannel::Phone,
            direction: None,
            subject: subject.into(),
            body: Some("已安排换货".into()),
            occurred_at: Some(at),
            purpose: None,
        }
        .validate(Utc::now())
        .unwrap()
    };
    let (report, _) = progress();
    let n = s
        .import_interactions(
            &a,
            batch.id,
            vec![(2, ids[0], call("茶叶受潮")), (3, ids[1], call("咨询新品"))],
            report,
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let ms = at.timestamp_millis();
    assert_eq!(
        s.interactions_on_file(&[
            (ids[0], ms, "phone", "茶叶受潮"),
            (ids[0], ms, "phone", "别的事"),
            (ids[1], ms + 1, "phone", "咨询新品"),
        ])
        .await
        .unwrap(),
        vec![true, false, false]
    );
    s.finish_import(
        &a,
        batch.id,
        &ImportOutcome {
            status: "done",
            inserted: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.erase_customer(&a, ids[1], "客户要求删除").await.unwrap();
    let counts = s.undo_record_import(&a, batch.id).await.unwrap();
    assert_eq!((counts.removed, counts.kept), (1, 1));
    assert_eq!(
        s.interactions_on_file(&[(ids[0], ms, "phone", "茶叶受潮")])
            .await
            .unwrap(),
        vec![false]
    );
}

/// Imported deals are created as the pipeline creates one, as of their opening date, found
/// again by customer and name, and undone except one moved since.
async fn imported_deals_start_their_history_and_are_undone(db: &TestDb) {
    use guanxi_domain::pipeline::opportunity::{MoveInput, OpportunityInput};
    let s = &db.store;
    let a = admin(s).await;
    let c = s
        .create_customer(
            &a,
            valid(&a, json!({"kind": "company", "name": "杭州茶业"})),
        )
        .await
        .unwrap();
    let pipeline = s.list_pipelines().await.unwrap().remove(0);
    let batch = s
        .create_import(
            &a,
            NewImport {
                entity: "opportunities",
                file_name: "deals.csv",
                data: b"x\n",
                sheet: None,
                settings: "{}",
                total_rows: 2,
            },
        )
        .await
        .unwrap();
    let deal = |name: &str| OpportunityInput {
        customer_id: c.id,
        name: name.into(),
        pipeline_id: pipeline.id,
        stage_id: None,
        owner_id: None,
        amount_minor: 100_000,
        currency: "CNY".into(),
        probability: None,
        expected_close: None,
        next_step: None,
        competitors: Vec::new(),
        stated_needs: None,
        latent_needs: None,
        source: None,
        campaign_id: None,
        lines: Vec::new(),
        version: None,
        custom: Default::default(),
    };
    let opened = chrono::DateTime::parse_from_rfc3339("2026-10-01T02:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    // A deal's custom value travels with it, and the undo takes it back with the deal.
    let region = s
        .create_custom_field(
            &a,
            &guanxi_domain::custom_field::FieldInput {
                entity: guanxi_domain::custom_field::FieldEntity::Opportunity,
                applies_to: guanxi_domain::custom_field::AppliesTo::All,
                code: "region".into(),
                kind: guanxi_domain::custom_field::FieldKind::Text,
                label_zh: "区域".into(),
                label_en: "Region".into(),
                choices: Vec::new(),
                required: false,
                visible_to: Vec::new(),
                sensitive: false,
                position: 0,
            }
            .validate()
            .unwrap(),
            None,
        )
        .await
        .unwrap();
    let east = guanxi_store::custom_field::CustomChange {
        field: region.clone(),
        value: guanxi_domain::custom_field::CustomValue::parse_text(&region, "华东").unwrap(),
    };
    let (report, _) = progress();
    let n = s
        .import_opportunities(
            &a,
            batch.id,
            vec![
                (2, deal("年度采购"), Some(opened), Vec::new()),
                (3, deal("礼盒"), None, vec![east]),
            ],
            report,
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let gift = s
        .list_opportunities(&a, &Default::default())
        .await
        .unwrap()
        .deals
        .into_iter()
        .find(|d| d.name == "礼盒")
        .unwrap()
        .id;
    let values = |id: i64| {
        let field = region.clone();
        async move { s.record_custom_values(&[field], id).await.unwrap() }
    };
    assert_eq!(values(gift).await.len(), 1);
    assert_eq!(
        s.opportunities_on_file(&[(c.id, "年度采购"), (c.id, "别的")])
            .await
            .unwrap(),
        vec![true, false]
    );
    let all = s
        .list_opportunities(&a, &Default::default())
        .await
        .unwrap()
        .deals;
    let yearly = all.iter().find(|d| d.name == "年度采购").unwrap();
    let full = s.get_opportunity(&a, yearly.id).await.unwrap();
    assert_eq!(
        full.created_at, opened,
        "its history starts on its opening date"
    );
    s.finish_import(
        &a,
        batch.id,
        &ImportOutcome {
            status: "done",
            inserted: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The rep moves one deal on: the undo keeps it.
    let next = pipeline.stages[1].id;
    s.move_opportunity(
        &a,
        yearly.id,
        &MoveInput {
            stage_id: next,
            version: full.version,
            lost_reason_id: None,
            lost_note: None,
        },
    )
    .await
    .unwrap();
    let counts = s.undo_record_import(&a, batch.id).await.unwrap();
    assert_eq!((counts.removed, counts.kept), (1, 1));
    let left = s
        .list_opportunities(&a, &Default::default())
        .await
        .unwrap()
        .deals;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].name, "年度采购");
    assert!(
        values(gift).await.is_empty(),
        "its custom value went with it"
    );
}
