//! Leads over HTTP on both backends: the public capture form (embeddable, honeypot, rate limit
//! per address), a lead matched against the customer file and converted — stopped with the
//! candidates, then into the match with a deal — the list, the CSV import (refused row by
//! row, then all in), and a viewer who reads but cannot act.

use crate::common::TestApp;
use crate::pages::{hidden, Browser};
use guanxi_domain::role::Role;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(leads_are_captured_matched_converted_and_imported);

async fn leads_are_captured_matched_converted_and_imported(app: &TestApp) {
    let admin = app.user("admin", Role::Admin, None).await;
    let rep = app.user("rep", Role::Sales, None).await;
    let viewer = app.user("viewer", Role::Viewer, None).await;
    let (s, c) = rep
        .post(
            "/customers",
            json!({"kind": "individual", "name": "周杰", "contact_points": [
                {"kind": "mobile", "value": "13711112222"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let known = c["id"].as_i64().unwrap();
    // A capture form whose leads go to the rep.
    let (s, form) = admin
        .post(
            "/lead-forms",
            json!({"name": "官网咨询", "source": "官网", "owner_id": rep.user_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{form}");
    let key = form["public_key"].as_str().unwrap().to_string();
    // The public page: no sign-in, framable, no CSRF token.
    let http = crate::common::client(false);
    let root = app.base.trim_end_matches("/api/v1").to_string();
    let r = http.get(format!("{root}/f/{key}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("x-frame-options").is_none());
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors *"));
    assert!(r.text().await.unwrap().contains("官网咨询"));
    let r = http.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(
        r.headers()["x-frame-options"],
        "DENY",
        "other pages stay unframable"
    );
    let submit = |fields: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let url = format!("{root}/f/{key}?lang=en");
        async move { http.post(url).form(&fields).send().await.unwrap() }
    };
    // Missing contact: named on the form; a filled honeypot: thanked and dropped.
    let r = submit(vec![("name", "周杰")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("mobile"));
    let r = submit(vec![
        ("name", "Bot"),
        ("mobile", "13700000000"),
        ("website", "http://spam"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = submit(vec![
        ("name", "周杰"),
        ("mobile", "137 1111 2222"),
        ("message", "Bulk tea for our office"),
        ("consent_marketing", "1"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("id=\"lead-thanks\""));
    // The address has used its burst (5): the next one waits, told when.
    let mut last = StatusCode::OK;
    let mut retry = None;
    for _ in 0..3 {
        let r = submit(vec![("name", "X"), ("mobile", "13700000001")]).await;
        last = r.status();
        retry = r.headers().get("retry-after").cloned();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());
    // The rep sees the captured leads (the honeypot's is not among them).
    let (s, page) = rep.get("/leads").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let leads = page["leads"].as_array().unwrap();
    assert!(leads.iter().all(|l| l["name"] != "Bot"), "{page}");
    let lead = leads.iter().find(|l| l["name"] == "周杰").unwrap();
    let id = lead["id"].as_i64().unwrap();
    assert_eq!(
        (
            lead["origin"].as_str(),
            lead["source"].as_str(),
            lead["owner_id"].as_i64()
        ),
        (Some("form"), Some("官网"), Some(rep.user_id))
    );
    // It matches the customer with that mobile.
    let (_, m) = rep.get(&format!("/leads/{id}/matches")).await;
    assert_eq!(m["customers"][0]["customer_id"], known, "{m}");
    // Converting into a new customer is stopped with the candidate (409) …
    let (s, e) = rep
        .post(
            &format!("/leads/{id}/convert"),
            json!({"version": lead["version"], "opportunity": {"pipeline_id": 1}}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e.to_string().contains(&known.to_string()), "{e}");
    // … and nothing was written: the lead is still open at its version.
    let (_, still) = rep.get(&format!("/leads/{id}")).await;
    assert_eq!(
        (still["status"].as_str(), &still["version"]),
        (Some("new"), &lead["version"])
    );
    // A viewer may read leads but not convert them.
    let (s, _) = viewer.get(&format!("/leads/{id}")).await;
    assert_eq!(s, StatusCode::OK, "a viewer reads every lead");
    let (s, _) = viewer
        .post(&format!("/leads/{id}/qualify"), json!({"version": 1}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // On the lead's page the rep converts it into the match, with a deal.
    let b = Browser::login(app, "rep").await;
    let (s, html) = b.get(&format!("/leads/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"lead-matches\"") && html.contains("周杰"));
    let csrf = hidden(&html, "_csrf");
    let version = hidden(&html, "version");
    let known_s = known.to_string();
    let (s, _) = b
        .post(
            &format!("/leads/{id}/convert"),
            &[
                ("_csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("customer_id", known_s.as_str()),
                ("deal", "1"),
                ("deal_name", "办公室茶叶团购"),
                ("pipeline_id", "1"),
                ("amount", "12000"),
                ("expected_close", "2027-03-01"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, done) = rep.get(&format!("/leads/{id}")).await;
    assert_eq!(done["status"], "converted", "{done}");
    assert_eq!(done["customer_id"], known);
    let deal = done["opportunity_id"].as_i64().unwrap();
    let (_, o) = rep.get(&format!("/opportunities/{deal}")).await;
    assert_eq!(
        (
            o["customer_id"].as_i64(),
            o["amount_minor"].as_i64(),
            o["source"].as_str()
        ),
        (Some(known), Some(1_200_000), Some("官网"))
    );
    assert_eq!(o["stated_needs"], "Bulk tea for our office");
    // Disqualify needs a reason ("other" a note), and is shown.
    let (_, l2) = rep
        .post("/leads", json!({"company": "无名公司", "email": "x@y.cn"}))
        .await;
    let id2 = l2["id"].as_i64().unwrap();
    let (s, e) = rep
        .post(
            &format!("/leads/{id2}/disqualify"),
            json!({"reason": "other", "version": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, d) = rep
        .post(
            &format!("/leads/{id2}/disqualify"),
            json!({"reason": "spam", "version": 1}),
        )
        .await;
    assert_eq!(
        (s, d["status"].as_str()),
        (StatusCode::OK, Some("disqualified"))
    );
    let (s, html) = b.get("/leads?status=disqualified").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("无名公司"));
    let (s, _) = b.get("/leads?status=nope").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // The CSV import: a bad row refuses the file, naming the row; fixed, all come in.
    let (_, html) = b.get("/leads/import").await;
    let csrf = hidden(&html, "_csrf");
    let upload = |csv: &'static str| {
        Form::new().text("_csrf", csrf.clone()).part(
            "file",
            Part::bytes(csv.as_bytes().to_vec())
                .file_name("leads.csv")
                .mime_str("text/csv")
                .unwrap(),
        )
    };
    let bad = "\u{feff}姓名,公司,手机\n李雷,华南商贸,13800138000\n韩梅梅,,12\n";
    let r = b
        .http
        .post(format!("{}/leads/import", b.root))
        .multipart(upload(bad))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("rows[2].mobile"));
    let (_, before) = rep.get("/leads").await;
    let good = "\u{feff}姓名,公司,手机\n李雷,华南商贸,13800138000\n韩梅梅,,13900139000\n";
    let r = b
        .http
        .post(format!("{}/leads/import", b.root))
        .multipart(upload(good))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, after) = rep.get("/leads").await;
    assert_eq!(
        after["leads"].as_array().unwrap().len(),
        before["leads"].as_array().unwrap().len() + 2
    );
    // An unknown caller's number offers a new lead.
    let (s, html) = b.get("/search/go?q=13655556666").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("/leads/new?origin=call&#38;mobile=13655556666"),
        "{html}"
    );
}
