//! Points and surveys as pages on both backends: a manager corrects a member's points once per
//! form (a second send of the same form changes nothing), a removal beyond the balance is
//! refused, a rep sees the points but cannot correct them; a survey link answers once and an
//! unknown one is not found.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    points_are_corrected_once_per_form_and_only_by_those_allowed,
    a_survey_page_takes_one_answer,
    surveys_over_the_api,
    a_membership_programme_is_set_up_and_places_members,
    a_coupon_is_offered_issued_and_redeemed_once,
    a_custom_survey_is_set_up_on_the_page,
    a_survey_is_sent_to_a_segment_from_its_page
);

async fn points_are_corrected_once_per_form_and_only_by_those_allowed(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "积分会员"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let page = format!("/customers/{}", c["id"]);
    let boss = Browser::login(app, "boss").await;
    let (_, html) = boss.get(&page).await;
    assert!(html.contains("id=\"points-adjust\""));
    let csrf = hidden(&html, "_csrf");
    let nonce = hidden(&html, "nonce");
    let form = [
        ("_csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("points", "500"),
        ("reason", "开业赠送"),
    ];
    let post = format!("{page}/points");
    for _ in 0..2 {
        let (s, _) = boss.post(&post, &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    }
    let (_, html) = boss.get(&page).await;
    assert!(
        html.contains("id=\"points-balance\">500<"),
        "one correction of 500"
    );
    assert!(html.contains("开业赠送"));
    // Taking away more than there is: refused, the balance unchanged.
    let nonce = hidden(&html, "nonce");
    let (s, _) = boss
        .post(
            &post,
            &[
                ("_csrf", csrf.as_str()),
                ("nonce", nonce.as_str()),
                ("points", "-600"),
                ("reason", "纠错"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = boss.get(&format!("{page}?saved=points_insufficient")).await;
    assert!(html.contains("id=\"points-balance\">500<"));
    assert!(html.contains("id=\"flash\""));
    // The rep sees the points, has no form, and is refused if he posts one.
    let b = Browser::login(app, "rep").await;
    let (_, html) = b.get(&page).await;
    assert!(html.contains("id=\"points-balance\">500<"));
    assert!(!html.contains("id=\"points-adjust\""));
    let csrf = hidden(&html, "_csrf");
    let (s, _) = b
        .post(
            &post,
            &[
                ("_csrf", csrf.as_str()),
                ("nonce", "0123456789abcdef0123"),
                ("points", "5"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The rep may spend points at the till: once per key, never beyond the balance.
    let spend = format!("/customers/{}/points/redeem", c["id"]);
    let body = json!({"points": 120, "idempotency_key": "00112233445566778899aabb"});
    let (s, r) = rep.post(&spend, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["new"].as_bool(), r["balance"].as_i64()),
        (Some(true), Some(380))
    );
    let (_, r) = rep.post(&spend, body).await;
    assert_eq!(
        (r["new"].as_bool(), r["balance"].as_i64()),
        (Some(false), Some(380))
    );
    let (s, e) = rep
        .post(
            &spend,
            json!({"points": 1000, "idempotency_key": "ffeeddccbbaa998877665544"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["code"], "insufficient_points");
    let (_, html) = b.get(&page).await;
    assert!(html.contains("id=\"points-redeem\""));
    assert!(html.contains("id=\"points-balance\">380<"));
}

async fn a_survey_page_takes_one_answer(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let admin = app.user("admin", Role::Admin, None).await;
    let (_, c) = admin
        .post(
            "/customers",
            json!({"kind": "individual", "name": "受访者"}),
        )
        .await;
    let boss = Browser::login(app, "boss").await;
    let (_, html) = boss.get("/surveys").await;
    let csrf = hidden(&html, "_csrf");
    let (s, _) = boss
        .post(
            "/surveys",
            &[
                ("_csrf", csrf.as_str()),
                ("name", "回访"),
                ("kind", "csat"),
                ("expires_days", "7"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = boss.get("/surveys").await;
    let at = html.find("href=\"/surveys/").unwrap() + "href=\"".len();
    let survey = &html[at..at + html[at..].find('"').unwrap()];
    let id = c["id"].to_string();
    let (_, html) = boss
        .post(
            &format!("{survey}/links"),
            &[
                ("_csrf", csrf.as_str()),
                ("customer_id", id.as_str()),
                ("locale", "en"),
            ],
        )
        .await;
    let at = html.find("id=\"survey-link\">").unwrap() + "id=\"survey-link\">".len();
    let link = html[at..at + html[at..].find('<').unwrap()].to_string();
    let visitor = Browser::anonymous(app);
    let (s, page) = visitor.get(&link).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("How satisfied are you"),
        "in the invitation's language"
    );
    // A missing rating is named; then the answer goes in; a second one is refused.
    let (s, page) = visitor.post(&link, &[("a.comment", "ok")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"survey-errors\""));
    let (s, page) = visitor.post(&link, &[("a.csat", "5")]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"survey-thanks\""));
    let (s, page) = visitor.post(&link, &[("a.csat", "1")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("id=\"survey-answered\""));
    let (s, _) = visitor.get("/s/0000000000000000").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The figures count the one answer: 100 % satisfied.
    let (_, html) = boss.get(survey).await;
    assert!(html.contains("id=\"survey-score\">100.0%<"), "{html}");
}

async fn surveys_over_the_api(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (_, c) = admin
        .post(
            "/customers",
            json!({"kind": "individual", "name": "接口受访者"}),
        )
        .await;
    let nps = json!({"name": "NPS", "kind": "nps", "trigger": "manual", "expires_days": 7});
    let (s, _) = rep.post("/surveys", nps.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, sv) = admin.post("/surveys", nps.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{sv}");
    assert_eq!(sv["definition"]["questions"][0]["key"], "nps");
    let (s, e) = admin.post("/surveys", nps).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = admin
        .post(
            "/surveys",
            json!({"name": "x", "kind": "custom", "trigger": "manual", "expires_days": 0}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, link) = admin
        .post(
            &format!("/surveys/{}/links", sv["id"]),
            json!({"customer_id": c["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let token = link["token"].as_str().unwrap().to_string();
    // A second link for the same customer falls inside the fatigue window.
    let (_, again) = admin
        .post(
            &format!("/surveys/{}/links", sv["id"]),
            json!({"customer_id": c["id"]}),
        )
        .await;
    assert_eq!(again["fatigued"], true, "{again}");
    let anonymous = crate::common::Api {
        auth: None,
        ..admin.clone()
    };
    let (s, open) = anonymous.get(&format!("/public/surveys/{token}")).await;
    assert_eq!(s, StatusCode::OK, "{open}");
    assert_eq!(open["state"], "open");
    let (s, e) = anonymous
        .post(
            &format!("/public/surveys/{token}"),
            json!({"answers": {"nps": "11"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, r) = anonymous
        .post(
            &format!("/public/surveys/{token}"),
            json!({"answers": {"nps": "9"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, e) = anonymous
        .post(
            &format!("/public/surveys/{token}"),
            json!({"answers": {"nps": "9"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["code"], "already_answered", "{e}");
    let (s, res) = admin
        .get(&format!("/surveys/{}/results?by=month", sv["id"]))
        .await;
    assert_eq!(s, StatusCode::OK, "{res}");
    assert_eq!(res["nps"]["score"], 100.0, "{res}");
    assert_eq!(res["responded"], 1);
    let (s, _) = admin
        .get(&format!("/surveys/{}/results?by=colour", sv["id"]))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn a_membership_programme_is_set_up_and_places_members(app: &TestApp) {
    let mkt = app.user("mkt", Role::Marketing, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "金卡候选"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let today = chrono::Utc::now().date_naive();
    let (s, o) = rep
        .post(
            "/orders",
            json!({"customer_id": c["id"], "ordered_at": chrono::Utc::now().to_rfc3339(),
                "currency": "CNY", "channel": "store",
                "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 2, "unit_price_minor": 30000}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    // The form: a keeping line above the qualifying line is named, nothing is saved.
    let b = Browser::login(app, "mkt").await;
    let (s, html) = b.get("/loyalty/programs").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"programs-none\""));
    let csrf = hidden(&html, "_csrf");
    let start = today.to_string();
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("name", "会员计划"),
        ("basis", "spend"),
        ("window_days", "365"),
        ("points_per_yuan", "1"),
        ("expiry_months", "12"),
        ("starts_on", start.as_str()),
        ("active", "1"),
        ("tier_code_0", "basic"),
        ("tier_name_0", "普通"),
        ("tier_qualify_0", "0"),
        ("tier_keep_0", "0"),
        ("tier_pct_0", "100"),
        ("tier_code_1", "gold"),
        ("tier_name_1", "金卡"),
        ("tier_qualify_1", "500"),
        ("tier_keep_1", "900"),
        ("tier_pct_1", "150"),
        ("rate_category_0", "tea"),
        ("rate_pct_0", "200"),
    ];
    let (s, html) = b.post("/loyalty/programs", &form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"program-errors\""), "{html}");
    assert!(html.contains("金卡"), "the form keeps what was typed");
    form[16] = ("tier_keep_1", "400");
    let (s, html) = b.post("/loyalty/programs", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    // A rep may not see or change programmes.
    let (s, _) = rep.get("/loyalty/programs").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, list) = mkt.get("/loyalty/programs").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(
        list[0]["program"]["tiers"][1]["qualify"], 50000,
        "yuan → fen"
    );
    assert_eq!(list[0]["program"]["active"], true);
    // The run the save queued earns the order's points (¥600 of tea ×2) and places the
    // member in gold; the rep sees both on the 360 page.
    let page = format!("/customers/{}", c["id"]);
    let rb = Browser::login(app, "rep").await;
    let mut html = String::new();
    for _ in 0..100 {
        html = rb.get(&page).await.1;
        if html.contains("id=\"points-tier\"") && html.contains("金卡") {
            break;
        }
        app.state.jobs.wake();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(html.contains("id=\"points-balance\">1200<"), "{html}");
    assert!(html.contains("金卡"), "tier on the 360 page");
    // The API refuses a programme without tiers, naming the field.
    let mut bad = list[0]["program"].clone();
    bad["name"] = json!("另一个");
    bad["tiers"] = json!([]);
    let (s, e) = mkt.post("/loyalty/programs", bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "tiers");
}

async fn a_coupon_is_offered_issued_and_redeemed_once(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (_, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "持券人"}),
        )
        .await;
    let (s, o) = rep
        .post(
            "/orders",
            json!({"customer_id": c["id"], "ordered_at": chrono::Utc::now().to_rfc3339(),
                "currency": "CNY", "channel": "store",
                "lines": [{"sku": "B", "quantity": 1, "unit_price_minor": 12000}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    // The manager sets up an offer on the page; a bad amount is named.
    let b = Browser::login(app, "boss").await;
    let (s, html) = b.get("/loyalty/coupons").await;
    assert_eq!(s, StatusCode::OK);
    let csrf = hidden(&html, "_csrf");
    let from = hidden_value(&html, "valid_from");
    let to = hidden_value(&html, "valid_to");
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("name", "满百减二十"),
        ("value_kind", "amount"),
        ("amount", "二十"),
        ("min_spend", "100"),
        ("valid_from", from.as_str()),
        ("valid_to", to.as_str()),
        ("per_customer_limit", "1"),
        ("active", "1"),
    ];
    let (s, html) = b.post("/loyalty/coupons", &form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"offer-errors\""));
    form[3] = ("amount", "20");
    let (s, _) = b.post("/loyalty/coupons", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // The rep issues one from the customer's page and sees its code.
    let page = format!("/customers/{}", c["id"]);
    let rb = Browser::login(app, "rep").await;
    let (_, html) = rb.get(&page).await;
    assert!(html.contains("id=\"coupon-issue\""), "the rep may issue");
    let csrf = hidden(&html, "_csrf");
    let offer = {
        let at = html.find("name=\"offer_id\"").unwrap();
        let v = html[at..].find("value=\"").unwrap() + at + 7;
        html[v..v + html[v..].find('"').unwrap()].to_string()
    };
    let (s, _) = rb
        .post(
            &format!("{page}/coupons"),
            &[("_csrf", csrf.as_str()), ("offer_id", offer.as_str())],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, list) = rep.get(&format!("/customers/{}/coupons", c["id"])).await;
    let code = list[0]["code"].as_str().unwrap().to_string();
    assert_eq!(list[0]["status"], "issued");
    // Redeemed once through the API; the second time the code is named as used.
    let (s, r) = rep
        .post(
            &format!("/orders/{}/coupon", o["id"]),
            json!({"code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["discount_minor"], 2000);
    let (s, e) = rep
        .post(
            &format!("/orders/{}/coupon", o["id"]),
            json!({"code": code}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["code"], "order_has_coupon");
    let (_, html) = rb.get(&page).await;
    assert!(
        html.contains("coupon-redeemed"),
        "the 360 page shows it used"
    );
    // Reps may not manage offers.
    let (s, _) = rep.get("/coupon-offers").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// The `value` of the input named `name`.
fn hidden_value(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap();
    let v = html[at..].find("value=\"").unwrap() + at + 7;
    html[v..v + html[v..].find('"').unwrap()].to_string()
}

async fn a_custom_survey_is_set_up_on_the_page(app: &TestApp) {
    app.user("boss", Role::Manager, None).await;
    let b = Browser::login(app, "boss").await;
    let (_, html) = b.get("/surveys").await;
    let csrf = hidden(&html, "_csrf");
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("name", "门店体验"),
        ("kind", "custom"),
        ("expires_days", "7"),
        ("q_zh_0", "店员是否热情？"),
        ("q_en_0", "Were the staff friendly?"),
        ("q_kind_0", "rating"),
        ("q_min_0", "一"),
        ("q_max_0", "5"),
        ("q_required_0", "1"),
        ("q_zh_1", "您从哪里知道我们？"),
        ("q_en_1", "How did you hear of us?"),
        ("q_kind_1", "choice"),
        ("q_options_1", "朋友，广告、路过"),
        ("q_zh_2", "还有什么建议？"),
        ("q_en_2", "Anything else?"),
        ("q_kind_2", "text"),
    ];
    let (s, html) = b.post("/surveys", &form).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"survey-errors\""),
        "a bound that is not a number"
    );
    assert!(html.contains("店员是否热情"), "the rows are kept");
    form[7] = ("q_min_0", "1");
    let (s, _) = b.post("/surveys", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let boss = app.user("boss2", Role::Manager, None).await;
    let (_, list) = boss.get("/surveys").await;
    let q = &list[0]["definition"]["questions"];
    assert_eq!(list[0]["definition"]["kind"], "custom", "{list}");
    assert_eq!(q.as_array().unwrap().len(), 3);
    assert_eq!(q[0]["required"], true);
    assert_eq!(q[1]["kind"]["type"], "choice");
    assert_eq!(q[1]["kind"]["options"], json!(["朋友", "广告", "路过"]));
}

/// A manager sends a survey to a segment from the survey's page (the background job reads the
/// segment); over the API, a segment that does not exist is a 404 and a rep is refused.
async fn a_survey_is_sent_to_a_segment_from_its_page(app: &TestApp) {
    let boss = app.user("boss", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (_, sv) = boss
        .post(
            "/surveys",
            json!({"name": "季度回访", "kind": "csat", "trigger": "manual", "expires_days": 14}),
        )
        .await;
    let (s, seg) = boss
        .post(
            "/segments",
            json!({"name": "苏州客户", "description": "", "rule": {"clauses": [{"field": "city", "op": "eq", "value": "苏州"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{seg}");
    let b = Browser::login(app, "boss").await;
    let page = format!("/surveys/{}", sv["id"]);
    let (_, html) = b.get(&page).await;
    assert!(html.contains("id=\"survey-send-segment\""), "{html}");
    assert!(html.contains("苏州客户"));
    let csrf = hidden(&html, "_csrf");
    let seg_id = seg["id"].to_string();
    let (s, _) = b
        .post(
            &format!("{page}/sends"),
            &[("_csrf", csrf.as_str()), ("segment_id", seg_id.as_str())],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&format!("{page}?sent=1")).await;
    assert!(html.contains("id=\"survey-send-started\""), "{html}");
    let (s, _) = boss
        .post(
            &format!("/surveys/{}/sends", sv["id"]),
            json!({"segment_id": 999_999}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = rep
        .post(
            &format!("/surveys/{}/sends", sv["id"]),
            json!({"segment_id": seg["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, r) = boss
        .post(
            &format!("/surveys/{}/sends", sv["id"]),
            json!({"segment_id": seg["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    assert!(r["send_id"].as_i64().is_some());
    // The segment can still be deleted while a send of it runs (the send then ends).
    let (s, e) = boss
        .delete(&format!(
            "/segments/{}?version={}",
            seg["id"], seg["version"]
        ))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
}
