//! Key accounts over HTTP on both backends: a rep makes a customer a key account, writes its
//! plan on the page (and meets the conflict box with a stale form), sees it on the dashboard
//! with its figures; a manager sets and applies the rule; a viewer reads but cannot change.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(a_key_account_is_made_planned_and_shown);

async fn a_key_account_is_made_planned_and_shown(app: &TestApp) {
    let rep = app.user("rep", Role::Sales, None).await;
    let boss = app.user("boss", Role::Manager, None).await;
    let viewer = app.user("viewer", Role::Viewer, None).await;
    let (_, c) = rep
        .post("/customers", json!({"kind": "company", "name": "华东重工"}))
        .await;
    let id = c["id"].as_i64().unwrap();
    // Made on the dashboard's form; the page opens.
    let b = Browser::login(app, "rep").await;
    let (s, html) = b.get("/key-accounts").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden(&html, "_csrf");
    let cid = id.to_string();
    let (s, _) = b
        .post(
            "/key-accounts",
            &[
                ("_csrf", csrf.as_str()),
                ("customer_id", cid.as_str()),
                ("cadence_days", "14"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, html) = b.get(&format!("/key-accounts/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"plan-form\"") && html.contains("id=\"ka-revenue-months\""));
    let version = hidden(&html, "version");
    let plan = |v: &str| {
        vec![
            ("_csrf".to_string(), csrf.clone()),
            ("version".to_string(), v.to_string()),
            ("goals".to_string(), "年采购额翻倍".to_string()),
            ("contact_name_0".to_string(), "陈总".to_string()),
            ("contact_role_0".to_string(), "决策人".to_string()),
            ("contact_attitude_0".to_string(), "supporter".to_string()),
            ("action_what_0".to_string(), "季度业务回顾".to_string()),
            ("action_due_0".to_string(), "2027-03-31".to_string()),
        ]
    };
    let first = plan(&version);
    let as_refs: Vec<(&str, &str)> = first
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (s, _) = b.post(&format!("/key-accounts/{id}/plan"), &as_refs).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // The same form again is stale: the conflict box.
    let (s, html) = b.post(&format!("/key-accounts/{id}/plan"), &as_refs).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("id=\"conflict\""));
    let (s, k) = rep.get(&format!("/key-accounts/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!(k["account"]["contacts"][0]["name"], "陈总");
    assert_eq!(k["account"]["cadence_days"], 14);
    assert_eq!(k["revenue_by_month"].as_array().unwrap().len(), 12);
    // On the dashboard, due a visit (never contacted).
    let (_, rows) = rep.get("/key-accounts?mine=true").await;
    assert_eq!(rows[0]["customer_id"], id, "{rows}");
    assert_eq!(rows[0]["overdue"], true);
    // A viewer reads, cannot change; a rep cannot set the rule; a manager can, and apply it.
    let (s, _) = viewer.get(&format!("/key-accounts/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = viewer.delete(&format!("/key-accounts/{id}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, r) = boss.get("/key-account-rule").await;
    let (s, _) = rep
        .put(
            "/key-account-rule",
            json!({"rule": "abc_a", "version": r["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, set) = boss
        .put(
            "/key-account-rule",
            json!({"rule": "abc_a", "version": r["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{set}");
    let (s, report) = boss.post("/key-account-rule/apply", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["added"], 0, "no customer is scored yet");
    let (s, e) = rep
        .put(
            &format!("/key-accounts/{id}"),
            json!({"cadence_days": 3, "version": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}
