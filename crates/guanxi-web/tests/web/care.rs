//! Customer care over HTTP on both backends: a greeting recorded through the API (and refused
//! with the field named), the care list's query checked, care plans kept to those who may
//! set them up.

use crate::common::TestApp;
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(care_over_the_api_checks_input_and_roles);

async fn care_over_the_api_checks_input_and_roles(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "李白", "birthday": {"month": 8, "day": 15, "lunar": true}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let today = chrono::Utc::now().date_naive();
    let touch = json!({"customer_id": c["id"], "occasion": "birthday",
        "occasion_on": today.to_string(), "kind": "greeting", "channel": "wechat", "note": "祝福"});
    let (s, t) = rep.post("/care/touches", touch.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["kind"], "greeting");
    let (s, list) = rep
        .get(&format!("/customers/{}/care-touches", c["id"]))
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    // An unknown occasion and a day years off are named, in the caller's language.
    let mut bad = touch.clone();
    bad["occasion"] = json!("nameday");
    bad["occasion_on"] = json!("2001-01-01");
    let (s, e) = rep.clone().lang("zh-CN").post("/care/touches", bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["occasion", "occasion_on"], "{e}");
    // Someone else's customer does not exist for this rep.
    let (s, other) = admin
        .post("/customers", json!({"kind": "individual", "name": "杜甫"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    let mut theirs = touch.clone();
    theirs["customer_id"] = other["id"].clone();
    let (s, _) = rep.post("/care/touches", theirs).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The list's window is checked.
    let (s, v) = rep.get("/care?days=61").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = rep.get("/care?days=60&owner_id=0").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!v["festivals"].as_array().unwrap().is_empty(), "{v}");
    // Plans are for managers and marketing: a rep may not read or write them.
    let plan = json!({"name": "生日", "occasion": "birthday", "days_before": 3,
        "task_title": "准备贺卡"});
    let (s, _) = rep.post("/care/plans", plan.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, p) = admin.post("/care/plans", plan.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["active"], true);
    let (s, e) = admin.post("/care/plans", plan.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, n) = admin.post("/care/plans/preview", plan.clone()).await;
    assert_eq!(s, StatusCode::OK, "{n}");
    let mut paused = plan.clone();
    paused["active"] = json!(false);
    let (s, e) = admin
        .put(
            &format!("/care/plans/{}", p["id"]),
            json!({"version": 99, "plan": paused}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, u) = admin
        .put(
            &format!("/care/plans/{}", p["id"]),
            json!({"version": p["version"], "plan": paused}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["active"], false);
    let festival = json!({"name": "中秋", "occasion": "festival.mid_autumn", "days_before": 0,
        "task_title": "问候"});
    let (s, e) = admin.post("/care/plans", festival).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "segment_id", "{e}");
}
