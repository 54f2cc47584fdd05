//! Rules over HTTP on both backends: the page's dry run counts whom a rule would reach and
//! saving it runs it (the owner gets the task, the log shows it); bad input is named field by
//! field; a rep may not see rules; the API's log reads what was done.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(a_rule_is_tried_saved_and_fires_once);

async fn a_rule_is_tried_saved_and_fires_once(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    for (name, yuan) in [("大客户", 2000), ("小客户", 50)] {
        let (s, c) = rep
            .post("/customers", json!({"kind": "individual", "name": name}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let (s, o) = rep
            .post(
                "/orders",
                json!({"customer_id": c["id"], "ordered_at": chrono::Utc::now().to_rfc3339(),
                    "currency": "CNY", "channel": "store",
                    "lines": [{"sku": "A", "quantity": 1, "unit_price_minor": yuan * 100}]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
    }
    let b = Browser::login(app, "boss").await;
    let (s, html) = b.get("/rules").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"rules-none\""));
    let csrf = hidden(&html, "_csrf");
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("name", "千元客户关怀"),
        ("trigger", "spend_reached"),
        ("amount", "1,000"),
        ("action_0", "task"),
        ("action_text_0", "电话致谢"),
        ("action_number_0", "2"),
        ("action_1", "award_points"),
        ("action_number_1", "0"),
        ("active", "1"),
        ("action_2", "notify"),
        ("action_text_2", "千元客户，请跟进"),
    ];
    // Zero points is named; nothing saved.
    let (s, html) = b.post("/rules", &form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"rule-errors\""), "{html}");
    form[8] = ("action_number_1", "200");
    // The dry run: one customer, named.
    let mut dry = form.clone();
    dry.push(("preview", "1"));
    let (s, html) = b.post("/rules", &dry).await;
    assert_eq!(s, StatusCode::OK);
    let at = html.find("id=\"rule-preview\"").expect("a dry run answer");
    let answer = &html[at..at + 400.min(html.len() - at)];
    assert!(
        answer.contains('1') && answer.contains("大客户"),
        "{answer}"
    );
    assert!(!answer.contains("小客户"));
    // Saved: the run it queues fires once; the rule page lists the firing.
    let (s, _) = b.post("/rules", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, list) = app
        .user("mgr", Role::Manager, None)
        .await
        .get("/rules")
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let id = list[0]["id"].as_i64().unwrap();
    let mgr = app.user("mgr2", Role::Manager, None).await;
    let mut log = serde_json::Value::Null;
    for _ in 0..100 {
        app.state.jobs.wake();
        let (_, l) = mgr.get(&format!("/rules/{id}/firings")).await;
        if l.as_array()
            .is_some_and(|a| a.iter().any(|f| f["status"] == "done"))
        {
            log = l;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(log.as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(log[0]["customer_name"], "大客户");
    assert!(log[0]["outcome"].as_str().unwrap().contains("+200 points"));
    let (_, tasks) = rep.get("/tasks").await;
    assert!(
        tasks.to_string().contains("电话致谢"),
        "the owner's task: {tasks}"
    );
    let (_, html) = b.get(&format!("/rules/{id}")).await;
    assert!(html.contains("id=\"rule-log\"") && html.contains("spend:100000"));
    // The owner is notified: the bell counts it, the page lists it, reading clears it.
    let (_, n) = rep.get("/notifications?unread=true").await;
    assert_eq!(n["unread"], 1, "{n}");
    assert_eq!(n["items"][0]["message"], "千元客户，请跟进");
    assert_eq!(n["items"][0]["customer_name"], "大客户");
    let r = Browser::login(app, "rep").await;
    let (_, bell) = r.get("/notifications/badge").await;
    assert!(bell.contains("id=\"bell-count\">1<"), "{bell}");
    let (s, html) = r.get("/notifications").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("千元客户，请跟进") && html.contains("大客户"));
    let csrf = hidden(&html, "_csrf");
    let (s, _) = r
        .post("/notifications/read-all", &[("_csrf", csrf.as_str())])
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, bell) = r.get("/notifications/badge").await;
    assert!(!bell.contains("bell-count"), "{bell}");
    let (s, _) = rep.post("/notifications/999999/read", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = rep.get("/notifications?limit=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // The API names bad input, keeps reps out, and checks the log's limit.
    let (s, e) = mgr
        .post(
            "/rules",
            json!({"name": "坏规则", "trigger": {"kind": "churn_risk", "percent": 150},
                "actions": [], "active": true}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["trigger.percent", "actions"]);
    let (s, _) = rep.get("/rules").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = mgr.get(&format!("/rules/{id}/firings?limit=0")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, p) = mgr
        .post(
            "/rules/preview",
            json!({"name": "x", "trigger": {"kind": "order_placed", "min_amount_minor": 100000},
                "actions": [{"kind": "add_tag", "tag": "大单"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["customers"].as_i64(), p["days"].as_i64()),
        (Some(1), Some(30))
    );
}
