//! The sales pipeline over HTTP on both backends: a rep creates a deal from the form and over
//! the API, moves it on the kanban (the card's form, which a drag submits too), meets the
//! conflict box when the deal moved meanwhile, is asked for the reason of a loss; the board,
//! the forecast and the customer's timeline follow; a viewer reads but cannot move.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    a_deal_is_created_moved_and_forecast,
    a_deal_is_edited_on_its_form_and_over_the_api
);

async fn a_deal_is_created_moved_and_forecast(app: &TestApp) {
    let rep = app.user("rep", Role::Sales, None).await;
    let viewer = app.user("viewer", Role::Viewer, None).await;
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "company", "name": "华东贸易有限公司"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let customer = c["id"].as_i64().unwrap();
    // Bad input is named field by field.
    let (s, e) = rep
        .post(
            "/opportunities",
            json!({"customer_id": customer, "name": "", "pipeline_id": 1,
                "lines": [{"sku": "A", "quantity": 0, "unit_price_minor": 100}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "lines[0].quantity"]);
    // The form creates one with products; the amount is their total.
    let b = Browser::login(app, "rep").await;
    let (s, html) = b
        .get(&format!("/opportunities/new?customer_id={customer}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden(&html, "_csrf");
    let cid = customer.to_string();
    let (s, _) = b
        .post(
            "/opportunities",
            &[
                ("_csrf", csrf.as_str()),
                ("customer_id", cid.as_str()),
                ("name", "年度茶礼采购"),
                ("pipeline_id", "1"),
                ("expected_close", "2027-01-20"),
                ("stated_needs", "春节送客户"),
                ("competitors", "甲公司，乙公司"),
                ("sku_0", "TEA-01"),
                ("qty_0", "100"),
                ("price_0", "88"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, board) = rep.get("/pipelines/1/board").await;
    let first = &board["columns"][0];
    assert_eq!(first["count"], 1, "{board}");
    assert_eq!(first["amount_minor"], 880_000);
    let card = &first["cards"][0];
    let id = card["id"].as_i64().unwrap();
    let version = card["version"].as_i64().unwrap().to_string();
    let stage = |i: usize| {
        board["columns"][i]["stage"]["id"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    // The kanban shows the card with its move form; moving it goes back to the board.
    let (s, html) = b.get("/pipeline").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("data-opportunity=\"{id}\"")) && html.contains("年度茶礼采购"));
    let (s, _) = b
        .post(
            &format!("/opportunities/{id}/move"),
            &[
                ("_csrf", csrf.as_str()),
                ("stage_id", stage(2).as_str()),
                ("version", version.as_str()),
                ("next", "/pipeline?pipeline_id=1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // The same move from a stale card: the conflict box, nothing changed.
    let (s, html) = b
        .post(
            &format!("/opportunities/{id}/move"),
            &[
                ("_csrf", csrf.as_str()),
                ("stage_id", stage(4).as_str()),
                ("version", version.as_str()),
                ("next", "/pipeline"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("id=\"conflict\""));
    let (_, o) = rep.get(&format!("/opportunities/{id}")).await;
    assert_eq!(o["stage_id"].as_i64().unwrap().to_string(), stage(2));
    assert_eq!(
        (o["probability"].as_i64(), o["weighted_minor"].as_i64()),
        (Some(40), Some(352_000))
    );
    // Lost needs its reason.
    let v = o["version"].as_i64().unwrap().to_string();
    let (s, html) = b
        .post(
            &format!("/opportunities/{id}/move"),
            &[
                ("_csrf", csrf.as_str()),
                ("stage_id", stage(6).as_str()),
                ("version", v.as_str()),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"move-errors\"") && html.contains("lost_reason_id"));
    // The deal's page shows the history; the forecast counts it, weighted.
    let (_, html) = b.get(&format!("/opportunities/{id}")).await;
    assert!(html.contains("id=\"opportunity-history\"") && html.contains("春节送客户"));
    let (s, f) = rep.get("/forecast?from=2027-01-01&to=2027-02-01").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f[0]["weighted_minor"], 352_000);
    let (s, _) = rep.get("/forecast?from=2027-01-15&to=2027-02-01").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, html) = b.get("/pipeline/forecast?months=24").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"forecast\""));
    assert!(html.contains("id=\"funnel\"") && html.contains("id=\"win-rate\""));
    assert!(html.contains("id=\"forecast-teams\""));
    let (s, html) = b.get("/pipeline/stale").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !html.contains("id=\"stale-deals\""),
        "moved today: not stale"
    );
    let (s, _) = b.get("/pipeline/stale?days=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, fig) = rep.get("/pipelines/1/figures").await;
    assert_eq!(s, StatusCode::OK, "{fig}");
    assert_eq!(fig["deals"], 1);
    assert_eq!(fig["funnel"][2]["reached"], 1, "it reached 识别需求: {fig}");
    assert_eq!(fig["funnel"][3]["reached"], 0);
    let (s, _) = rep
        .get("/pipelines/1/figures?from=2020-01-01&to=2027-01-01")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "more than two years");
    // The move is on the customer's timeline.
    let (_, tl) = rep.get(&format!("/customers/{customer}/timeline")).await;
    assert!(tl.to_string().contains("年度茶礼采购"), "{tl}");
    // A stale move over the API is a 409; a viewer may read but not move.
    let (s, _) = rep
        .post(
            &format!("/opportunities/{id}/move"),
            json!({"stage_id": stage(3).parse::<i64>().unwrap(), "version": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = viewer.get("/pipelines/1/board").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = viewer
        .post(
            &format!("/opportunities/{id}/move"),
            json!({"stage_id": stage(3).parse::<i64>().unwrap(), "version": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Only a won deal makes an order, once, from its products.
    let (s, _) = rep
        .post(&format!("/opportunities/{id}/order"), json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, o) = rep.get(&format!("/opportunities/{id}")).await;
    let (s, w) = rep
        .post(
            &format!("/opportunities/{id}/move"),
            json!({"stage_id": stage(5).parse::<i64>().unwrap(), "version": o["version"]}),
        )
        .await;
    assert_eq!(
        (s, w["status"].as_str()),
        (StatusCode::OK, Some("won")),
        "{w}"
    );
    let (s, first) = rep
        .post(&format!("/opportunities/{id}/order"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let (_, again) = rep
        .post(&format!("/opportunities/{id}/order"), json!({}))
        .await;
    assert_eq!(first["order_id"], again["order_id"]);
    let (_, orders) = rep.get(&format!("/orders?customer_id={customer}")).await;
    assert!(
        orders.to_string().contains("\"total_minor\":880000"),
        "{orders}"
    );
}

async fn a_deal_is_edited_on_its_form_and_over_the_api(app: &TestApp) {
    let rep = app.user("rep", Role::Sales, None).await;
    let (_, c) = rep
        .post("/customers", json!({"kind": "company", "name": "南方物流"}))
        .await;
    let customer = c["id"].as_i64().unwrap();
    let (s, o) = rep
        .post(
            "/opportunities",
            json!({"customer_id": customer, "name": "仓储系统", "pipeline_id": 1,
                "amount_minor": 500_000, "expected_close": "2027-02-10"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let id = o["id"].as_i64().unwrap();
    // The edit form is filled with what is stored and saves at its version.
    let b = Browser::login(app, "rep").await;
    let (s, html) = b.get(&format!("/opportunities/{id}/edit")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("value=\"5000.00\"") && html.contains("仓储系统"),
        "{html}"
    );
    let csrf = hidden(&html, "_csrf");
    let version = hidden(&html, "version");
    let cid = customer.to_string();
    let form = |name: &'static str, amount: &'static str, v: String| {
        vec![
            ("_csrf".to_string(), csrf.clone()),
            ("version".to_string(), v),
            ("customer_id".to_string(), cid.clone()),
            ("pipeline_id".to_string(), "1".to_string()),
            ("name".to_string(), name.to_string()),
            ("amount".to_string(), amount.to_string()),
            ("expected_close".to_string(), "2027-03-05".to_string()),
            ("next_step".to_string(), "周五上门演示".to_string()),
        ]
    };
    let first = form("仓储系统二期", "6200", version.clone());
    let (s, _) = b
        .post(&format!("/opportunities/{id}/edit"), &pairs(&first))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, now) = rep.get(&format!("/opportunities/{id}")).await;
    assert_eq!(
        (now["name"].as_str(), now["amount_minor"].as_i64()),
        (Some("仓储系统二期"), Some(620_000))
    );
    assert_eq!(now["next_step"], "周五上门演示");
    // A second save from the same (now stale) form: the conflict, what was typed kept.
    let stale = form("仓储系统三期", "7000", version);
    let (s, html) = b
        .post(&format!("/opportunities/{id}/edit"), &pairs(&stale))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("仓储系统三期") && html.contains("id=\"form-errors\""));
    // Over the API: a PUT at the current version; the board's sums follow.
    let (s, put) = rep
        .put(
            &format!("/opportunities/{id}"),
            json!({"customer_id": customer, "name": "仓储系统二期", "pipeline_id": 1,
                "amount_minor": 900_000, "probability": 50, "version": now["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{put}");
    assert_eq!(put["weighted_minor"], 450_000);
    let (_, board) = rep.get("/pipelines/1/board").await;
    assert_eq!(board["columns"][0]["weighted_minor"], 450_000, "{board}");
    let (s, e) = rep
        .put(
            &format!("/opportunities/{id}"),
            json!({"customer_id": customer, "name": "x", "pipeline_id": 1,
                "version": now["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = rep
        .put(
            &format!("/opportunities/{id}"),
            json!({"customer_id": customer, "name": "x", "pipeline_id": 1}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "version is required: {e}"
    );
}

/// Owned form fields as the browser helper takes them.
fn pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}
