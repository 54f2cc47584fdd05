//! Property test: random JSON thrown at create and update never yields a 5xx, and a refused
//! request writes nothing (customer count, contact-point count and the target record unchanged).

use crate::common::TestApp;
use guanxi_domain::role::Role;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

/// Field names the API knows (so random bodies often get past the unknown-field check and
/// exercise validation), plus some it does not.
const KEYS: &[&str] = &[
    "kind",
    "name",
    "gender",
    "birthday",
    "id_number",
    "province",
    "city",
    "address",
    "employer",
    "job_title",
    "industry",
    "lifecycle_stage",
    "owner_id",
    "tags",
    "source",
    "profile",
    "company",
    "contact_points",
    "version",
    "value",
    "month",
    "day",
    "year",
    "lunar",
    "channel",
    "direct",
    "family",
    "lifestyle",
    "drinks",
    "children",
    "credit_incidents",
    "date",
    "description",
    "bogus",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-5i64..40).prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "individual",
            "company",
            "male",
            "mobile",
            "email",
            "13812345678",
            "a@b.cn",
            "张三",
            "active",
            "manual",
            "2024-01-01",
            "",
            " "
        ])
        .prop_map(|s| Value::String(s.into())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Plausible values per customer field, valid and invalid, so bodies reach domain validation.
fn field_value(key: &'static str) -> BoxedStrategy<Value> {
    let plausible: Vec<Value> = match key {
        "gender" => vec![json!("male"), json!("female"), json!("x"), Value::Null],
        "birthday" => vec![
            json!({"month": 2, "day": 30}),
            json!({"year": 1990, "month": 8, "day": 8, "lunar": true}),
            json!({"year": 2999, "month": 1, "day": 1}),
            json!({"month": 13, "day": 1}),
        ],
        "id_number" => vec![
            json!("11010519491231002X"),
            json!("110105194912310021"),
            json!("E1234567"),
            json!("!!"),
            Value::Null,
        ],
        "tags" => vec![
            json!(["vip"]),
            json!([""]),
            json!(["a", "a"]),
            json!(vec!["t"; 60]),
        ],
        "lifecycle_stage" => vec![json!("active"), json!("lost"), json!("zombie")],
        "owner_id" => vec![json!(1), json!(-1), json!(999_999)],
        "contact_points" => vec![
            json!([{"kind": "mobile", "value": "13812345678"}]),
            json!([{"kind": "email", "value": "nope"}]),
            json!([{"kind": "qq", "value": "0"}]),
            json!([]),
        ],
        "profile" => vec![
            json!({"family": {"children": [{"name": ""}]}}),
            json!({"lifestyle": {"drinks": ["carrot juice"]}}),
            json!({"career": [{"employer": "A", "from_year": 2010, "to_year": 2000}]}),
        ],
        "company" => vec![
            json!({"credit_status": "good"}),
            json!({"payment_terms_days": 999}),
        ],
        "source" => vec![
            json!({"channel": "exhibition"}),
            json!({"channel": "survey", "collected_at": "2999-01-01T00:00:00Z"}),
        ],
        "name" => vec![
            json!("李四"),
            json!(""),
            json!("x".repeat(300)),
            json!("a\u{0}b"),
        ],
        _ => vec![json!("上海"), json!(""), json!("x".repeat(600))],
    };
    prop_oneof![4 => prop::sample::select(plausible), 1 => leaf()].boxed()
}

const CUSTOMER_KEYS: &[&str] = &[
    "name",
    "gender",
    "birthday",
    "id_number",
    "city",
    "address",
    "employer",
    "tags",
    "lifecycle_stage",
    "owner_id",
    "contact_points",
    "profile",
    "company",
    "source",
];

/// A valid customer with a few fields replaced.
fn near_valid() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        prop::sample::select(CUSTOMER_KEYS)
            .prop_flat_map(|k| field_value(k).prop_map(move |v| (k, v))),
        0..4,
    )
    .prop_map(|changes| {
        let mut m = Map::new();
        m.insert("kind".into(), json!("individual"));
        m.insert("name".into(), json!("测试客户"));
        for (k, v) in changes {
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    })
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => near_valid(),
        1 => value(),
        1 => prop::collection::vec((prop::sample::select(KEYS), value()), 0..8)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())),
    ]
}

async fn counts(app: &TestApp) -> (i64, i64) {
    let s = &app.db.store;
    let admin = guanxi_domain::role::Actor::system();
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page = s
            .list_customers(
                &admin,
                &guanxi_store::customers::CustomerFilter {
                    cursor,
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        n += page.items.len() as i64;
        if page.next_cursor.is_none() {
            break;
        }
        cursor = page.next_cursor;
    }
    let cps = s
        .list_contact_points(&admin, 1)
        .await
        .map(|v| v.len() as i64)
        .unwrap_or(0);
    (n, cps)
}

fn run(backend: guanxi_store::Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, api) = rt.block_on(async {
        let app = TestApp::spawn(backend).await;
        let api = app.user("admin", Role::Admin, None).await;
        let (s, _) = api.post("/customers", json!({"kind": "individual", "name": "基准客户", "contact_points": [{"kind": "mobile", "value": "13800000000"}]})).await;
        assert_eq!(s, StatusCode::CREATED);
        (app, api)
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(body(), any::<bool>()), |(body, as_update)| {
            rt.block_on(async {
                let before_counts = counts(&app).await;
                let (_, before_rec) = api.get("/customers/1").await;
                let mut body = body;
                if as_update {
                    // Most patches should carry the right version, or they only ever test the 409.
                    if let (Value::Object(m), Some(v)) = (&mut body, before_rec["version"].as_i64())
                    {
                        m.entry("version").or_insert(json!(v));
                        // Create-only fields would make nearly every patch a 400.
                        for k in ["kind", "contact_points", "source"] {
                            m.remove(k);
                        }
                    }
                }
                let (status, resp) = if as_update {
                    api.patch("/customers/1", body.clone()).await
                } else {
                    api.post("/customers", body.clone()).await
                };
                if std::env::var("GUANXI_TRACE_PROPTEST").is_ok() {
                    eprintln!("{} {status}", if as_update { "PATCH" } else { "POST" });
                }
                prop_assert!(!status.is_server_error(), "5xx for {body}: {status} {resp}");
                let after_counts = counts(&app).await;
                let (_, after_rec) = api.get("/customers/1").await;
                if status.is_success() {
                    if as_update {
                        prop_assert_eq!(after_counts, before_counts);
                    } else {
                        prop_assert_eq!(after_counts.0, before_counts.0 + 1);
                    }
                } else {
                    prop_assert!(
                        resp["error"].is_string() && resp["fields"].is_array(),
                        "error body shape: {resp}"
                    );
                    prop_assert_eq!(
                        after_counts,
                        before_counts,
                        "refused request wrote rows: {}",
                        body
                    );
                    prop_assert_eq!(
                        &after_rec,
                        &before_rec,
                        "refused request changed the record: {}",
                        body
                    );
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn random_json_sqlite() {
    run(guanxi_store::Backend::Sqlite)
}

#[test]
fn random_json_postgres() {
    run(guanxi_store::Backend::Postgres)
}
