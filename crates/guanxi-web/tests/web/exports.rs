//! Customer-list exports and the guard against mass export over HTTP on both backends (issue
//! #18): within the threshold the file comes at once, with the chosen columns, formula-safe;
//! above it the export becomes a request with a reason, the approvers are told, nobody decides
//! their own, an approval gives one download watermarked with the requester on every row, and
//! the admin is told when it is taken.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(a_mass_export_waits_for_approval_and_is_watermarked);

async fn a_mass_export_waits_for_approval_and_is_watermarked(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let manager = app.user("mgr", Role::Manager, None).await;
    let _mkt = app.user("mkt", Role::Marketing, None).await;
    for (name, city) in [
        ("=HYPERLINK(\"x\")", "上海"),
        ("李雷", "上海"),
        ("韩梅梅", "上海"),
        ("王芳", "北京"),
    ] {
        let (s, c) = manager
            .post(
                "/customers",
                json!({"kind": "individual", "name": name, "city": city}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
    }
    let (_, p) = admin.get("/export-policy").await;
    let (s, p) = admin
        .put(
            "/export-policy",
            json!({"approval_threshold": 2, "version": p["version"]}),
        )
        .await;
    assert_eq!(
        (s, p["approval_threshold"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{p}"
    );
    let (s, _) = manager
        .put(
            "/export-policy",
            json!({"approval_threshold": 100, "version": p["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the admin sets it");
    let b = Browser::login(app, "mkt").await;
    // Within the threshold: the file at once, the chosen columns only, formula-safe.
    let (s, html) = b.get("/customers/export?city=%E5%8C%97%E4%BA%AC").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("id=\"export-needs-approval\""));
    let csrf = hidden(&html, "_csrf");
    let post = |fields: Vec<(&'static str, String)>| {
        let mut fields = fields;
        fields.push(("_csrf", csrf.clone()));
        b.http
            .post(format!("{}/customers/export", b.root))
            .form(&fields)
            .send()
    };
    let r = post(vec![
        ("query", "city=北京".into()),
        ("col", "name".into()),
        ("col", "city".into()),
        ("format", "xlsx".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let book = guanxi_app::import::read_file(&r.bytes().await.unwrap()).unwrap();
    let (_, t) = book.sheet(None).unwrap();
    assert_eq!((t.headers.len(), t.rows.len()), (2, 1));
    assert_eq!(t.rows[0][0], "王芳");
    // Above it (three in 上海): a reason is needed, then it is a request.
    let (_, html) = b.get("/customers/export?city=%E4%B8%8A%E6%B5%B7").await;
    assert!(html.contains("id=\"export-needs-approval\""), "{html}");
    let r = post(vec![
        ("query", "city=上海".into()),
        ("format", "csv".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(vec![
        ("query", "city=上海".into()),
        ("format", "csv".into()),
        ("reason", "上海门店周年庆邀请名单".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = to.rsplit('=').next().unwrap().parse().unwrap();
    let (_, list) = manager.get("/exports").await;
    let req = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(
        (req["status"].as_str(), req["row_count"].as_i64()),
        (Some("pending"), Some(3))
    );
    // The approvers and the admin are told.
    for who in [&manager, &admin] {
        let (_, n) = who.get("/notifications").await;
        assert!(n.to_string().contains("mkt"), "{n}");
    }
    // Nothing to download before approval; the requester cannot decide.
    let r = b
        .http
        .get(format!("{}/exports/{id}/file", b.root))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = manager
        .post(
            &format!("/exports/{id}/decision"),
            json!({"approve": true, "note": "周年庆"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = manager
        .post(
            &format!("/exports/{id}/decision"),
            json!({"approve": false}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "decided once");
    // One download, every row watermarked with the requester; the admin is told.
    let r = b
        .http
        .get(format!("{}/exports/{id}/file", b.root))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(&format!("mkt · #{id}"))),
        "{text}"
    );
    assert!(text.contains("'=HYPERLINK"), "formula-safe: {text}");
    let r = b
        .http
        .get(format!("{}/exports/{id}/file", b.root))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "once");
    let (_, n) = admin.get("/notifications").await;
    assert!(n.to_string().contains(&format!("#{id}")), "{n}");
    // Nobody approves their own request.
    let m = Browser::login(app, "mgr").await;
    let (_, html) = m.get("/customers/export?city=%E4%B8%8A%E6%B5%B7").await;
    let csrf = hidden(&html, "_csrf");
    let r = m
        .http
        .post(format!("{}/customers/export", m.root))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("query", "city=上海"),
            ("reason", "季度对账"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let own: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (s, e) = manager
        .post(
            &format!("/exports/{own}/decision"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = admin
        .post(
            &format!("/exports/{own}/decision"),
            json!({"approve": false, "note": "不需要"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

on_both_backends!(the_list_is_exported_over_the_api_with_the_same_guard);

/// The list's own query exported over the API: the file at once within the threshold (the
/// chosen columns, formula-safe); above it a request with a reason, approved by a manager,
/// downloaded once over the API, watermarked; the page does not download an API request.
async fn the_list_is_exported_over_the_api_with_the_same_guard(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let manager = app.user("mgr", Role::Manager, None).await;
    let mkt = app.user("mkt", Role::Marketing, None).await;
    for (name, city) in [("=1+1", "上海"), ("李雷", "上海"), ("王芳", "北京")] {
        let (s, c) = manager
            .post(
                "/customers",
                json!({"kind": "individual", "name": name, "city": city}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
    }
    let (_, p) = admin.get("/export-policy").await;
    admin
        .put(
            "/export-policy",
            json!({"approval_threshold": 1, "version": p["version"]}),
        )
        .await;
    let export = |query: &str, body: serde_json::Value| {
        mkt.raw(reqwest::Method::POST, &format!("/customers/export?{query}"))
            .json(&body)
    };
    let r = export(
        "city=%E5%8C%97%E4%BA%AC",
        json!({"columns": ["name", "city"]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("王芳") && !csv.contains("李雷"), "{csv}");
    let r = export("city=%E4%B8%8A%E6%B5%B7", json!({"format": "pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown format"
    );
    let r = export("city=%E4%B8%8A%E6%B5%B7", json!({"columns": ["name"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "above it: a reason"
    );
    let r = export(
        "city=%E4%B8%8A%E6%B5%B7",
        json!({"columns": ["name"], "reason": "上海店周年庆短信"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let req: serde_json::Value = r.json().await.unwrap();
    let id = req["id"].as_i64().unwrap();
    assert_eq!(req["row_count"], 2);
    let (s, _, _) = mkt.download(&format!("/exports/{id}/file")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not before approval");
    let (s, _) = manager
        .post(&format!("/exports/{id}/decision"), json!({"approve": true}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let b = Browser::login(app, "mkt").await;
    let r = b
        .http
        .get(format!("{}/exports/{id}/file", b.root))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "made over the API"
    );
    let (s, kind, bytes) = mkt.download(&format!("/exports/{id}/file")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = String::from_utf8(bytes).unwrap();
    assert!(
        csv.contains("李雷") && csv.contains("'=1+1"),
        "formula-safe: {csv}"
    );
    assert!(csv.contains("mkt"), "watermarked with the requester: {csv}");
    let (s, _, _) = mkt.download(&format!("/exports/{id}/file")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "once");
}
